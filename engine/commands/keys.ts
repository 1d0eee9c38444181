// Generic keyspace commands (Redis's db.c and object.c): DEL UNLINK EXISTS
// TYPE KEYS SCAN RANDOMKEY RENAME RENAMENX MOVE COPY TOUCH DBSIZE FLUSHDB
// FLUSHALL SWAPDB OBJECT.
import { array, bulk, bulks, err, int, NULL, OK, ONE, simple, ZERO, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { Db } from "../db";
import { compactLimits, encodingOf, freqOf, idleMs, isLfuPolicy, moveMeta, noteAccess, refcountOf, resetMeta } from "../encoding";
import type { Engine } from "../engine";
import { E } from "../errors";
import { KeyMap } from "../keymap";
import { globMatch } from "../glob";
import { parseInt64 } from "../num";
import { typeOf, type Value } from "../value";

/**
 * Lookup for commands Redis runs with LOOKUP_NOTOUCH (EXISTS, TYPE, TTL,
 * OBJECT): lazy expiry and hit/miss counting, but the access time is left alone.
 */
export function peekKey(ctx: Ctx, key: string): Value | undefined {
  const db = ctx.db;
  let v = db.data.get(key);
  if (v !== undefined && db.expires.size !== 0 && ctx.expireIfNeeded(db, key)) v = undefined;
  if (v === undefined) ctx.engine.stats.keyspaceMisses++;
  else ctx.engine.stats.keyspaceHits++;
  return v;
}

/** Redis's getIntFromObjectOrReply: an int64 text within C int range. */
function parseInt32(s: string): number | null {
  const n = parseInt64(s);
  return typeof n === "number" && n >= -2147483648 && n <= 2147483647 ? n : null;
}

function dbAt(ctx: Ctx, index: number): Db | undefined {
  return index >= 0 ? ctx.engine.dbs[index] : undefined;
}

/** A db index argument: not an integer, out of range, or the db. */
function parseDb(ctx: Ctx, s: string): Db | Reply {
  const n = parseInt32(s);
  if (n === null) return E.notInteger;
  return dbAt(ctx, n) ?? E.dbIndexOutOfRange;
}

function cloneValue(v: Value): Value {
  return typeof v === "string" ? v : v.clone();
}

// ---------------------------------------------------------------------------
// DEL UNLINK EXISTS TYPE KEYS DBSIZE TOUCH

function del(ctx: Ctx, argv: string[]): Reply {
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i] ?? "";
    // An expired key is removed (and its DEL emitted) first, so it does not count.
    if (ctx.db.expires.size !== 0) ctx.expireIfNeeded(ctx.db, key);
    if (ctx.deleteKey(key)) {
      n++;
      ctx.dirty++;
    }
  }
  return int(n);
}

function exists(ctx: Ctx, argv: string[]): Reply {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (peekKey(ctx, argv[i] ?? "") !== undefined) n++;
  return int(n);
}

function type(ctx: Ctx, argv: string[]): Reply {
  const v = peekKey(ctx, argv[1] ?? "");
  return simple(v === undefined ? "none" : typeOf(v));
}

function keys(ctx: Ctx, argv: string[]): Reply {
  const pattern = argv[1] ?? "";
  const all = pattern === "*";
  const db = ctx.db;
  const checkTtl = ctx.mode !== "apply" && db.expires.size !== 0;
  const out: string[] = [];
  for (const key of db.data.keys()) {
    if (!all && !globMatch(pattern, key)) continue;
    // KEYS hides expired keys without deleting them (Redis's keyIsExpired).
    if (checkTtl && db.isExpired(key, ctx.now)) continue;
    out.push(key);
  }
  return bulks(out);
}

function dbsize(ctx: Ctx): Reply {
  return int(ctx.db.data.size);
}

function touch(ctx: Ctx, argv: string[]): Reply {
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i] ?? "";
    if (ctx.lookupRead(key) === undefined) continue;
    noteAccess(ctx.db, key, ctx.now);
    n++;
  }
  return int(n);
}

// ---------------------------------------------------------------------------
// SCAN and RANDOMKEY over a per-db key index.
//
// A cursor must survive inserts and deletes between calls: every key present
// for the whole scan is returned at least once. A JS Map has no positional
// access, so each db's data Map gets a side index once SCAN or RANDOMKEY is
// first used on it: every key gets a sequence number when it enters the index,
// and the index keeps keys in sequence order (parallel arrays, appended to).
// A key keeps its number for as long as it stays in the db, so "continue at
// the first key whose number is >= cursor" misses none of them; deleted keys
// leave dead slots (skipped, compacted when they outnumber the live ones), and
// keys added later are appended (returned if the scan has not ended).
// The index learns of inserts and deletes through the engine's key-change
// listener (a change that leaves the db's size alone, an overwrite, costs one
// comparison); if it ever disagrees with the db in size it reconciles in O(N)
// without renumbering surviving keys. Sequence numbers come from one counter,
// so a rebuilt index (FLUSHDB, SWAPDB give the db a new Map) only makes an
// old cursor start over: duplicates, never misses.

let nextSeq = 1;
/** Dead slots tolerated before compaction, beyond the number of live keys. */
const COMPACT_SLACK = 64;
const RANDOM_PROBES_MAX = 32;

class KeyIndex {
  keys: string[] = [];
  seqs: number[] = [];
  readonly seqOf = new Map<string, number>();
  /** The db's size when the index last caught up: a change that keeps the size (an overwrite) needs no work. */
  knownSize = 0;

  constructor(private readonly data: KeyMap<Value>) {
    for (const k of data.keys()) this.add(k);
    this.knownSize = data.size;
  }

  private add(key: string): void {
    const seq = nextSeq++;
    this.keys.push(key);
    this.seqs.push(seq);
    this.seqOf.set(key, seq);
  }

  /** Called for every changed key of this db. */
  note(key: string): void {
    const present = this.data.has(key);
    if (!this.seqOf.has(key)) {
      if (present) this.add(key);
    } else if (!present) {
      this.seqOf.delete(key);
    }
    this.knownSize = this.data.size;
  }

  isLive(i: number): boolean {
    const k = this.keys[i];
    return k !== undefined && this.seqOf.get(k) === this.seqs[i];
  }

  /** Brings the index in line with the db when they disagree, and drops dead slots when they dominate. */
  refresh(): void {
    if (this.seqOf.size !== this.data.size) {
      for (const k of this.seqOf.keys()) if (!this.data.has(k)) this.seqOf.delete(k);
      for (const k of this.data.keys()) if (!this.seqOf.has(k)) this.add(k);
    }
    this.knownSize = this.data.size;
    if (this.keys.length - this.seqOf.size > this.seqOf.size + COMPACT_SLACK) this.compact();
  }

  compact(): void {
    const keys: string[] = [];
    const seqs: number[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (!this.isLive(i)) continue;
      keys.push(this.keys[i] ?? "");
      seqs.push(this.seqs[i] ?? 0);
    }
    this.keys = keys;
    this.seqs = seqs;
  }

  /** First slot whose sequence number is >= cursor. */
  lowerBound(cursor: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.seqs[mid] ?? 0) < cursor) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A uniformly chosen live key, or undefined when the db is empty. */
  randomLive(random: () => number): string | undefined {
    if (this.seqOf.size === 0) return undefined;
    for (let t = 0; t < RANDOM_PROBES_MAX; t++) {
      const i = Math.floor(random() * this.keys.length);
      if (this.isLive(i)) return this.keys[i];
    }
    this.compact();
    return this.keys[Math.floor(random() * this.keys.length)];
  }
}

const indexByData = new WeakMap<KeyMap<Value>, KeyIndex>();
const listening = new WeakSet<Engine>();
/** The listener's last map -> index lookup (writes come in runs on one db). */
let noteCacheData: KeyMap<Value> | null = null;
let noteCacheIndex: KeyIndex | undefined;

/** The engine's key-change listener: keeps the changed db's index, if it has one, in step. */
function noteKeyChange(engine: Engine, dbId: number, key: string): void {
  const data = engine.dbs[dbId]?.data;
  if (data === undefined) return;
  if (data !== noteCacheData) {
    noteCacheData = data;
    noteCacheIndex = indexByData.get(data);
  }
  if (noteCacheIndex !== undefined && noteCacheIndex.knownSize !== data.size) noteCacheIndex.note(key);
}

function keyIndex(engine: Engine, db: Db): KeyIndex {
  if (!listening.has(engine)) {
    listening.add(engine);
    engine.keyListeners.push((dbId, key) => noteKeyChange(engine, dbId, key));
  }
  let idx = indexByData.get(db.data);
  if (idx === undefined) {
    idx = new KeyIndex(db.data);
    indexByData.set(db.data, idx);
    noteCacheData = null;
  } else {
    idx.refresh();
  }
  return idx;
}

const ULONG_MAX = (1n << 64n) - 1n;

/** Redis's strtoul-based cursor parsing ("" is 0, "-1" wraps); null for "invalid cursor". */
function parseCursor(s: string): number | null {
  if (s === "") return 0;
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2] ?? "0");
  if (v > ULONG_MAX) return null;
  return Number(m[1] === "-" && v !== 0n ? (1n << 64n) - v : v);
}

interface ScanOptions {
  count: number;
  pattern: string | null;
  typeName: string | null;
}

function parseScanOptions(argv: string[]): ScanOptions | Reply {
  const o: ScanOptions = { count: 10, pattern: null, typeName: null };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = (argv[i] ?? "").toLowerCase();
    const arg = argv[i + 1];
    if (arg === undefined) return E.syntax;
    if (opt === "count") {
      const n = parseInt64(arg);
      if (n === null) return E.notInteger;
      if (n < 1) return E.syntax;
      o.count = typeof n === "bigint" ? Number.MAX_SAFE_INTEGER : n;
    } else if (opt === "match") {
      o.pattern = arg === "*" ? null : arg;
    } else if (opt === "type") {
      o.typeName = arg.toLowerCase();
    } else {
      return E.syntax;
    }
  }
  return o;
}

function scan(ctx: Ctx, argv: string[]): Reply {
  const cursor = parseCursor(argv[1] ?? "");
  if (cursor === null) return err("ERR invalid cursor");
  const o = parseScanOptions(argv);
  if ("kind" in o) return o;
  const db = ctx.db;
  const idx = keyIndex(ctx.engine, db);
  // Like Redis's dictScan loop: visit about COUNT keys, and bound the work spent on dead slots.
  const maxVisits = Math.min(o.count, Number.MAX_SAFE_INTEGER / 16) * 10;
  const picked: string[] = [];
  let i = idx.lowerBound(cursor);
  for (let visits = 0; i < idx.keys.length && picked.length < o.count && visits < maxVisits; i++, visits++) {
    if (idx.isLive(i)) picked.push(idx.keys[i] ?? "");
  }
  const next = i < idx.seqs.length ? (idx.seqs[i] ?? 0) : 0;
  const out: string[] = [];
  for (const key of picked) {
    if (o.pattern !== null && !globMatch(o.pattern, key)) continue;
    if (db.expires.size !== 0 && ctx.expireIfNeeded(db, key)) continue;
    const v = db.data.get(key);
    if (v === undefined) continue;
    if (o.typeName !== null && typeOf(v) !== o.typeName) continue;
    out.push(key);
  }
  return array([bulk(String(next)), bulks(out)]);
}

/** Bounds RANDOMKEY's retries when it keeps drawing expired keys. */
const RANDOMKEY_TRIES_MAX = 100_000;
/** Redis's limit for a replica whose keys are all volatile (it cannot delete them). */
const RANDOMKEY_VOLATILE_TRIES = 100;

function randomkey(ctx: Ctx): Reply {
  const db = ctx.db;
  if (db.data.size === 0) return NULL;
  const idx = keyIndex(ctx.engine, db);
  const allVolatile = db.expires.size === db.data.size;
  const random = (): number => ctx.random();
  for (let tries = 1; tries <= RANDOMKEY_TRIES_MAX; tries++) {
    const key = idx.randomLive(random);
    if (key === undefined) return NULL;
    if (ctx.mode === "apply" || !db.expires.has(key)) return bulk(key);
    if (allVolatile && ctx.mode === "replica" && tries >= RANDOMKEY_VOLATILE_TRIES) return bulk(key);
    if (!ctx.expireIfNeeded(db, key)) return bulk(key);
  }
  return NULL;
}

// ---------------------------------------------------------------------------
// RENAME RENAMENX MOVE COPY

function renameGeneric(ctx: Ctx, argv: string[], nx: boolean): Reply {
  const src = argv[1] ?? "";
  const dst = argv[2] ?? "";
  const v = ctx.lookupWrite(src);
  if (v === undefined) return E.noSuchKey;
  if (src === dst) return nx ? ZERO : OK;
  const expireAt = ctx.getExpire(src);
  if (ctx.lookupWrite(dst) !== undefined) {
    if (nx) return ZERO;
    ctx.deleteKey(dst);
  }
  ctx.setKey(dst, v);
  if (expireAt !== undefined) ctx.setExpire(dst, expireAt);
  moveMeta(ctx.db, src, ctx.db, dst, ctx.now);
  ctx.deleteKey(src);
  ctx.dirty++;
  return nx ? ONE : OK;
}

function rename(ctx: Ctx, argv: string[]): Reply {
  return renameGeneric(ctx, argv, false);
}

function renamenx(ctx: Ctx, argv: string[]): Reply {
  return renameGeneric(ctx, argv, true);
}

function move(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const dst = parseDb(ctx, argv[2] ?? "");
  if (!(dst instanceof Db)) return dst;
  const src = ctx.db;
  if (src === dst) return E.sameObject;
  const v = ctx.lookupWrite(key);
  if (v === undefined) return ZERO;
  const expireAt = ctx.getExpire(key);
  if (ctx.lookupIn(dst, key) !== undefined) return ZERO;
  ctx.setKeyIn(dst, key, v);
  if (expireAt !== undefined) dst.expires.set(key, expireAt);
  moveMeta(src, key, dst, key, ctx.now);
  ctx.deleteKey(key);
  ctx.dirty++;
  return ONE;
}

function parseCopyOptions(ctx: Ctx, argv: string[]): { dst: Db; replace: boolean } | Reply {
  let dst = ctx.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    if (opt === "replace") {
      replace = true;
    } else if (opt === "db" && j + 1 < argv.length) {
      const d = parseDb(ctx, argv[++j] ?? "");
      if (!(d instanceof Db)) return d;
      dst = d;
    } else {
      return E.syntax;
    }
  }
  return { dst, replace };
}

function copy(ctx: Ctx, argv: string[]): Reply {
  const o = parseCopyOptions(ctx, argv);
  if ("kind" in o) return o;
  const src = argv[1] ?? "";
  const dstKey = argv[2] ?? "";
  if (o.dst === ctx.db && src === dstKey) return E.sameObject;
  const v = ctx.lookupRead(src);
  if (v === undefined) return ZERO;
  const expireAt = ctx.getExpire(src);
  if (ctx.lookupIn(o.dst, dstKey) !== undefined) {
    if (!o.replace) return ZERO;
    ctx.deleteKeyIn(o.dst, dstKey);
  }
  ctx.setKeyIn(o.dst, dstKey, cloneValue(v));
  if (expireAt !== undefined) o.dst.expires.set(dstKey, expireAt);
  resetMeta(o.dst, dstKey, ctx.now);
  ctx.dirty++;
  return ONE;
}

// ---------------------------------------------------------------------------
// FLUSHDB FLUSHALL SWAPDB

/** FLUSHDB / FLUSHALL take nothing, SYNC or ASYNC (the same thing here: the old Map is left to the GC). */
function flushArgsOk(argv: string[]): boolean {
  if (argv.length === 1) return true;
  const mode = (argv[1] ?? "").toLowerCase();
  return argv.length === 2 && (mode === "sync" || mode === "async");
}

/** Empties `db`, flagging watchers first; returns the number of keys removed. */
function emptyDb(ctx: Ctx, db: Db): number {
  const n = db.data.size;
  if (n === 0) return 0;
  db.touchWatchedOnReplace(null, ctx.now);
  // Fresh Maps: O(1) now, and every side index keyed by the old Map goes with it.
  db.data = new KeyMap();
  db.expires = new KeyMap();
  ctx.engine.blocking.signalDb(db.id);
  return n;
}

function flushdb(ctx: Ctx, argv: string[]): Reply {
  if (!flushArgsOk(argv)) return E.syntax;
  ctx.dirty += emptyDb(ctx, ctx.db);
  return OK;
}

function flushall(ctx: Ctx, argv: string[]): Reply {
  if (!flushArgsOk(argv)) return E.syntax;
  for (const db of ctx.engine.dbs) ctx.dirty += emptyDb(ctx, db);
  return OK;
}

function swapdb(ctx: Ctx, argv: string[]): Reply {
  const id1 = parseInt32(argv[1] ?? "");
  if (id1 === null) return err("ERR invalid first DB index");
  const id2 = parseInt32(argv[2] ?? "");
  if (id2 === null) return err("ERR invalid second DB index");
  const a = dbAt(ctx, id1);
  const b = dbAt(ctx, id2);
  if (a === undefined || b === undefined) return E.dbIndexOutOfRange;
  if (a === b) return OK;
  a.touchWatchedOnReplace(b, ctx.now);
  b.touchWatchedOnReplace(a, ctx.now);
  const data = a.data;
  const expires = a.expires;
  a.data = b.data;
  a.expires = b.expires;
  b.data = data;
  b.expires = expires;
  // Clients blocked on a key that exists only in the swapped-in data may now be served.
  ctx.engine.blocking.signalDb(a.id);
  ctx.engine.blocking.signalDb(b.id);
  ctx.dirty++;
  return OK;
}

// ---------------------------------------------------------------------------
// OBJECT

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

const LFU_SELECTED = err(
  "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
);
const LFU_NOT_SELECTED = err(
  "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
);

function objectEncoding(ctx: Ctx, argv: string[]): Reply {
  const v = peekKey(ctx, argv[2] ?? "");
  return v === undefined ? NULL : bulk(encodingOf(v, compactLimits(ctx.engine.config)));
}

function objectRefcount(ctx: Ctx, argv: string[]): Reply {
  const v = peekKey(ctx, argv[2] ?? "");
  return v === undefined ? NULL : int(refcountOf(v, ctx.engine.config));
}

function objectIdletime(ctx: Ctx, argv: string[]): Reply {
  const key = argv[2] ?? "";
  if (peekKey(ctx, key) === undefined) return NULL;
  if (isLfuPolicy(ctx.engine.config)) return LFU_SELECTED;
  return int(Math.floor(idleMs(ctx.db, key, ctx.now) / 1000));
}

function objectFreq(ctx: Ctx, argv: string[]): Reply {
  const key = argv[2] ?? "";
  if (peekKey(ctx, key) === undefined) return NULL;
  const config = ctx.engine.config;
  if (!isLfuPolicy(config)) return LFU_NOT_SELECTED;
  return int(freqOf(ctx.db, key, ctx.now, config.getInt("lfu-decay-time")));
}

function objectHelp(): Reply {
  return array(OBJECT_HELP.map(simple));
}

const OBJECT_SUBCOMMANDS: readonly CommandSpec[] = [
  { name: "encoding", arity: 3, flags: ["readonly"], keys: [2, 2, 1], group: "generic", since: "2.2.3", summary: "Inspect the internal encoding of a Redis object", run: objectEncoding },
  { name: "freq", arity: 3, flags: ["readonly"], keys: [2, 2, 1], group: "generic", since: "4.0.0", summary: "Get the logarithmic access frequency counter of a Redis object", run: objectFreq },
  { name: "idletime", arity: 3, flags: ["readonly"], keys: [2, 2, 1], group: "generic", since: "2.2.3", summary: "Get the time since a Redis object was last accessed", run: objectIdletime },
  { name: "refcount", arity: 3, flags: ["readonly"], keys: [2, 2, 1], group: "generic", since: "2.2.3", summary: "Get the number of references to the value of the key", run: objectRefcount },
  { name: "help", arity: 2, flags: ["loading", "stale"], group: "generic", since: "6.2.0", summary: "Show helpful text about the different subcommands", run: objectHelp },
];

export const KEYS_COMMANDS: readonly CommandSpec[] = [
  { name: "del", arity: -2, flags: ["write"], keys: [1, -1, 1], group: "generic", since: "1.0.0", summary: "Delete a key", run: del },
  { name: "unlink", arity: -2, flags: ["write", "fast"], keys: [1, -1, 1], group: "generic", since: "4.0.0", summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", run: del },
  { name: "exists", arity: -2, flags: ["readonly", "fast"], keys: [1, -1, 1], group: "generic", since: "1.0.0", summary: "Determine if a key exists", run: exists },
  { name: "type", arity: 2, flags: ["readonly", "fast"], keys: [1, 1, 1], group: "generic", since: "1.0.0", summary: "Determine the type stored at key", run: type },
  { name: "keys", arity: 2, flags: ["readonly"], group: "generic", since: "1.0.0", summary: "Find all keys matching the given pattern", run: keys },
  { name: "scan", arity: -2, flags: ["readonly"], group: "generic", since: "2.8.0", summary: "Incrementally iterate the keys space", run: scan },
  { name: "randomkey", arity: 1, flags: ["readonly"], group: "generic", since: "1.0.0", summary: "Return a random key from the keyspace", run: randomkey },
  { name: "rename", arity: 3, flags: ["write"], keys: [1, 2, 1], group: "generic", since: "1.0.0", summary: "Rename a key", run: rename },
  { name: "renamenx", arity: 3, flags: ["write", "fast"], keys: [1, 2, 1], group: "generic", since: "1.0.0", summary: "Rename a key, only if the new key does not exist", run: renamenx },
  { name: "move", arity: 3, flags: ["write", "fast"], keys: [1, 1, 1], group: "generic", since: "1.0.0", summary: "Move a key to another database", run: move },
  { name: "copy", arity: -3, flags: ["write", "denyoom"], keys: [1, 2, 1], group: "generic", since: "6.2.0", summary: "Copy a key", run: copy },
  { name: "touch", arity: -2, flags: ["readonly", "fast"], keys: [1, -1, 1], group: "generic", since: "3.2.1", summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", run: touch },
  { name: "dbsize", arity: 1, flags: ["readonly", "fast"], group: "server", since: "1.0.0", summary: "Return the number of keys in the selected database", run: dbsize },
  { name: "flushdb", arity: -1, flags: ["write"], group: "server", since: "1.0.0", summary: "Remove all keys from the current database", run: flushdb },
  { name: "flushall", arity: -1, flags: ["write"], group: "server", since: "1.0.0", summary: "Remove all keys from all databases", run: flushall },
  { name: "swapdb", arity: 3, flags: ["write", "fast"], group: "server", since: "4.0.0", summary: "Swaps two Redis databases", run: swapdb },
  { name: "object", arity: -2, flags: [], group: "generic", since: "2.2.3", summary: "A container for object introspection commands", subcommands: OBJECT_SUBCOMMANDS },
];
