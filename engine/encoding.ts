// Object introspection: the encoding name Redis 7.0 would report for a value
// (OBJECT ENCODING; DUMP uses the same choice of compact formats), and the
// per-key access metadata behind OBJECT IDLETIME / OBJECT FREQ and RESTORE's
// IDLETIME / FREQ options.
//
// Encodings are computed from the value's current contents and the config
// thresholds. Redis never converts a hash, set or sorted set back to its
// compact encoding when it shrinks; Mnemo keeps no such history, so a value
// that grew past a threshold and shrank again reports the compact name.
// Strings report int/embstr/raw by content and length only (Redis reports
// "raw" for short strings built by APPEND or SETRANGE).
import { assertNever } from "./assert";
import type { Config } from "./config";
import type { Db } from "./db";
import { parseInt64 } from "./num";
import type { Value } from "./value";
import type { KeyMap } from "./keymap";

export type EncodingName = "int" | "embstr" | "raw" | "quicklist" | "listpack" | "intset" | "hashtable" | "skiplist" | "stream";

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_SIZE_LIMIT = 44;
/** Redis caps intsets at 2^30 entries whatever set-max-intset-entries says. */
const INTSET_ENTRIES_CAP = 1 << 30;

/** The compact-encoding thresholds, read from the config once per use. */
export interface CompactLimits {
  readonly hashEntries: number;
  readonly hashValue: number;
  readonly setIntsetEntries: number;
  readonly zsetEntries: number;
  readonly zsetValue: number;
  readonly listFill: number;
}

export function compactLimits(config: Config): CompactLimits {
  return {
    hashEntries: config.getInt("hash-max-listpack-entries"),
    hashValue: config.getInt("hash-max-listpack-value"),
    setIntsetEntries: Math.min(config.getInt("set-max-intset-entries"), INTSET_ENTRIES_CAP),
    zsetEntries: config.getInt("zset-max-listpack-entries"),
    zsetValue: config.getInt("zset-max-listpack-value"),
    listFill: config.getInt("list-max-listpack-size"),
  };
}

/** True when Redis would keep this string as an integer (string2l, at most 20 chars). */
export function isIntEncodable(s: string): boolean {
  return s.length <= 20 && parseInt64(s) !== null;
}

export function stringEncoding(s: string): "int" | "embstr" | "raw" {
  if (isIntEncodable(s)) return "int";
  return s.length <= EMBSTR_SIZE_LIMIT ? "embstr" : "raw";
}

export function setIsIntset(members: readonly string[], limits: CompactLimits): boolean {
  if (members.length > limits.setIntsetEntries) return false;
  for (const m of members) if (!isIntEncodable(m)) return false;
  return true;
}

export function hashIsListpack(entries: readonly (readonly [string, string])[], limits: CompactLimits): boolean {
  if (entries.length > limits.hashEntries) return false;
  for (const [f, v] of entries) if (f.length > limits.hashValue || v.length > limits.hashValue) return false;
  return true;
}

export function zsetIsListpack(entries: readonly (readonly [string, number])[], limits: CompactLimits): boolean {
  if (entries.length > limits.zsetEntries) return false;
  for (const [m] of entries) if (m.length > limits.zsetValue) return false;
  return true;
}

/** OBJECT ENCODING's answer for `v` (Redis 7.0 names: lists are always quicklists). */
export function encodingOf(v: Value, limits: CompactLimits): EncodingName {
  if (typeof v === "string") return stringEncoding(v);
  switch (v.kind) {
    case "list":
      return "quicklist";
    case "set":
      return setIsIntset(v.toArray(), limits) ? "intset" : "hashtable";
    case "hash":
      return hashIsListpack(v.entries(), limits) ? "listpack" : "hashtable";
    case "zset":
      return zsetIsListpack(v.entries(), limits) ? "listpack" : "skiplist";
    case "stream":
      return "stream";
    default:
      return assertNever(v, "value kind");
  }
}

/** Redis shares the integers 0..9999 (OBJECT REFCOUNT answers INT_MAX) unless an LRU/LFU policy needs per-key metadata. */
const SHARED_INTEGERS = 10000;
export const SHARED_REFCOUNT = 2147483647;

export function refcountOf(v: Value, config: Config): number {
  if (typeof v !== "string" || !isIntEncodable(v)) return 1;
  const n = parseInt64(v);
  if (typeof n !== "number" || n < 0 || n >= SHARED_INTEGERS) return 1;
  const policy = config.get("maxmemory-policy");
  const perKeyMeta = policy.includes("lru") || policy.includes("lfu");
  return config.getInt("maxmemory") !== 0 && perKeyMeta ? 1 : SHARED_REFCOUNT;
}

export function isLfuPolicy(config: Config): boolean {
  return config.get("maxmemory-policy").includes("lfu");
}

// ---------------------------------------------------------------------------
// Access metadata. Kept beside each db's data Map (keyed by the Map object),
// so SWAPDB carries it with the data and FLUSHDB drops it with the data.
// Entries of deleted keys are pruned once they outnumber the live keys.

type DataMap = KeyMap<Value>;

/** Last access time in unix ms, per key. */
const accessByData = new WeakMap<DataMap, Map<string, number>>();
/** LFU state per key: the logarithmic counter and when it was last decremented. */
const lfuByData = new WeakMap<DataMap, Map<string, LfuState>>();

interface LfuState {
  counter: number;
  atMs: number;
}

/** Redis's LFU_INIT_VAL: a new key's counter. */
const LFU_INIT_VAL = 5;
const PRUNE_SLACK = 1024;
const MINUTE_MS = 60_000;

let cachedData: DataMap | null = null;
let cachedAccess: Map<string, number> | null = null;

function accessMap(data: DataMap): Map<string, number> {
  if (data === cachedData && cachedAccess !== null) return cachedAccess;
  let m = accessByData.get(data);
  if (m === undefined) {
    m = new Map();
    accessByData.set(data, m);
  }
  cachedData = data;
  cachedAccess = m;
  return m;
}

function lfuMap(data: DataMap): Map<string, LfuState> {
  let m = lfuByData.get(data);
  if (m === undefined) {
    m = new Map();
    lfuByData.set(data, m);
  }
  return m;
}

function pruneIfLarge<T>(meta: Map<string, T>, data: DataMap): void {
  if (meta.size <= 2 * data.size + PRUNE_SLACK) return;
  for (const k of meta.keys()) if (!data.has(k)) meta.delete(k);
}

/**
 * Records an access to `key` (Redis updates the LRU clock on every lookup
 * that is not NOTOUCH). Cheap: one Map.set on a cached per-db map.
 */
export function noteAccess(db: Db, key: string, nowMs: number): void {
  const m = accessMap(db.data);
  m.set(key, nowMs);
  if (m.size > 2 * db.data.size + PRUNE_SLACK) pruneIfLarge(m, db.data);
}

/** Milliseconds since the last recorded access; a key never seen starts its clock now. */
export function idleMs(db: Db, key: string, nowMs: number): number {
  const m = accessMap(db.data);
  const at = m.get(key);
  if (at === undefined) {
    m.set(key, nowMs);
    return 0;
  }
  return Math.max(0, nowMs - at);
}

/** RESTORE ... IDLETIME seconds. */
export function setIdle(db: Db, key: string, idleSeconds: number, nowMs: number): void {
  accessMap(db.data).set(key, nowMs - idleSeconds * 1000);
}

/** RESTORE ... FREQ n. */
export function setFreq(db: Db, key: string, counter: number, nowMs: number): void {
  const m = lfuMap(db.data);
  m.set(key, { counter, atMs: nowMs });
  pruneIfLarge(m, db.data);
}

/** OBJECT FREQ: the counter decayed by one per lfu-decay-time minutes idle (Redis's LFUDecrAndReturn). */
export function freqOf(db: Db, key: string, nowMs: number, decayMinutes: number): number {
  const st = lfuMap(db.data).get(key) ?? { counter: LFU_INIT_VAL, atMs: nowMs - idleMs(db, key, nowMs) };
  const elapsedMin = Math.floor((nowMs - st.atMs) / MINUTE_MS);
  const periods = decayMinutes > 0 ? Math.floor(elapsedMin / decayMinutes) : 0;
  return Math.max(0, st.counter - periods);
}

/** A value moved to another name or db (RENAME, MOVE) keeps its access metadata. */
export function moveMeta(from: Db, fromKey: string, to: Db, toKey: string, nowMs: number): void {
  const fromAccess = accessMap(from.data);
  const at = fromAccess.get(fromKey);
  fromAccess.delete(fromKey);
  accessMap(to.data).set(toKey, at ?? nowMs);
  const fromLfu = lfuMap(from.data);
  const lfu = fromLfu.get(fromKey);
  fromLfu.delete(fromKey);
  if (lfu !== undefined) lfuMap(to.data).set(toKey, lfu);
  else lfuMap(to.data).delete(toKey);
}

/** A new value (COPY, RESTORE) starts with fresh access metadata. */
export function resetMeta(db: Db, key: string, nowMs: number): void {
  accessMap(db.data).set(key, nowMs);
  lfuMap(db.data).delete(key);
}
