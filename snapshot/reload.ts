// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: Redis saves the RDB file, empties
// the dataset and loads the file back, which proves the dataset survives a
// save and a restart. Mnemo has no RDB file; its image of the dataset is a
// snapshot (snapshot/format.ts) held in memory by the process:
//
//   (save)  serialize every db with snapshotChunks and keep the chunks as the
//           process's "dump" (NOSAVE skips this and reuses the last one);
//   load    parse the dump with the snapshot reader (every check, and the
//           loaded dataset's checksum must equal the one recorded when it was
//           written) into fresh databases;
//   (flush) drop the current contents (NOFLUSH keeps them: then a key present
//           in both is an error unless MERGE, which lets the dump's win);
//   swap    install the loaded keys, values and absolute expire times in the
//           same dbs, with encodings recomputed from the configuration as
//           Redis's RDB loader does, and fresh access metadata (idle 0).
//
// Everything that can fail (no dump for NOSAVE, a corrupt dump, a duplicate
// key without MERGE, a durable server whose dataset would change) fails
// before the dataset is touched, so an error leaves it as it was. Nothing is
// emitted: a durable server only reloads when the result is the same dataset
// (same checksum), so its log and replicas stay valid.
import { assertNever } from "../engine/assert";
import type { Db } from "../engine/db";
import type { Engine } from "../engine/engine";
import { KeyMap } from "../engine/keymap";
import { compactLimits, hashIsListpack, setIsIntset, zsetIsListpack, type CompactLimits } from "../engine/encoding";
import { ZSetObject } from "../engine/types/zset";
import type { Value } from "../engine/value";
import { datasetDigestOf, loadSnapshotSync, snapshotChunks, SnapshotError } from "./format";

export interface ReloadOptions {
  /** MERGE: a key in both the dataset and the dump takes the dump's value. */
  readonly merge: boolean;
  /** Not NOFLUSH: empty the dataset before loading. */
  readonly flush: boolean;
  /** Not NOSAVE: write a new dump of the current dataset first. */
  readonly save: boolean;
}

export type ReloadResult = { readonly ok: true; readonly keys: number; readonly bytes: number } | { readonly ok: false; readonly error: string };

/** Redis's words for a bad option and for a failed load. */
export const RELOAD_BAD_OPTION = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
export const RELOAD_LOAD_FAILED = "ERR Error trying to load the RDB dump";

/** Parses the options after RELOAD (in every order, case-insensitive, repeats allowed); null on an unknown one. */
export function parseReloadOptions(args: readonly string[]): ReloadOptions | null {
  let merge = false;
  let flush = true;
  let save = true;
  for (const a of args) {
    switch (a.toLowerCase()) {
      case "merge":
        merge = true;
        break;
      case "noflush":
        flush = false;
        break;
      case "nosave":
        save = false;
        break;
      default:
        return null;
    }
  }
  return { merge, flush, save };
}

/** The process's dump per engine: what NOSAVE loads (Redis's dump.rdb). */
const dumps = new WeakMap<Engine, readonly Buffer[]>();

const ZERO_CHECKSUM = new Uint8Array(8);

export interface ReloadContext {
  /** A durable server: the reload must leave the dataset logically unchanged. */
  readonly durable: boolean;
  /** The command's frozen time (watchers of keys that expire meanwhile). */
  readonly nowMs: number;
  readonly log?: (line: string) => void;
}

/** Runs DEBUG RELOAD on `engine`; on failure nothing has changed. */
export function debugReload(engine: Engine, o: ReloadOptions, rc: ReloadContext): ReloadResult {
  if (o.save) dumps.set(engine, [...snapshotChunks(engine, { seq: 0, logChecksum: ZERO_CHECKSUM })]);
  const dump = dumps.get(engine);
  if (dump === undefined) return fail(rc, "NOSAVE: no dump was saved by this process yet (DEBUG RELOAD without NOSAVE saves one)");
  let loaded;
  try {
    loaded = loadSnapshotSync(dump, { databases: engine.dbs.length });
  } catch (e) {
    return fail(rc, e instanceof SnapshotError ? e.message : String(e));
  }
  // A dump just written from this dataset matches it by construction (its checksum is the header's).
  if (rc.durable && !o.save && loaded.header.digest !== datasetDigestOf(loaded.header, engine.dbs)) {
    return fail(rc, "on a durable server a reload may not change the dataset (the dump differs from it; every change must go through the log)");
  }
  if (!o.flush && !o.merge) {
    const dup = firstDuplicate(engine.dbs, loaded.dbs);
    if (dup !== null) return fail(rc, `duplicate key ${JSON.stringify(dup.key.slice(0, 64))} in db ${dup.db} (NOFLUSH without MERGE)`);
  }
  const limits = compactLimits(engine.config);
  for (const db of loaded.dbs) reencode(db, limits);
  for (const db of engine.dbs) {
    const from = loaded.dbs[db.id];
    if (o.flush) flushForReload(engine, db, rc.nowMs);
    if (from !== undefined && from.data.size > 0) install(db, from);
  }
  rc.log?.("DB reloaded by DEBUG RELOAD");
  return { ok: true, keys: loaded.keys, bytes: loaded.bytes };
}

function fail(rc: ReloadContext, why: string): ReloadResult {
  rc.log?.(`DEBUG RELOAD failed: ${why}`);
  return { ok: false, error: RELOAD_LOAD_FAILED };
}

function firstDuplicate(current: readonly Db[], loaded: readonly Db[]): { db: number; key: string } | null {
  for (const from of loaded) {
    const into = current[from.id];
    if (into === undefined || into.data.size === 0) continue;
    for (const key of from.data.keys()) if (into.data.has(key)) return { db: from.id, key };
  }
  return null;
}

/** Like Redis's emptyData before the load: watchers of existing keys are flagged, then fresh Maps. */
function flushForReload(engine: Engine, db: Db, nowMs: number): void {
  if (db.data.size === 0) return;
  db.touchWatchedOnReplace(null, nowMs);
  db.data = new KeyMap();
  db.expires = new KeyMap();
  engine.blocking.signalDb(db.id);
}

/**
 * Moves the loaded keys into `db`. Into an empty db the loaded Maps are taken
 * as they are (fresh Maps: access metadata keyed by the old ones is dropped,
 * as after a restart); otherwise (NOFLUSH) key by key, a loaded key replacing
 * a present one with its expire time (MERGE).
 */
function install(db: Db, from: Db): void {
  if (db.data.size === 0) {
    db.data = from.data;
    db.expires = from.expires;
    return;
  }
  for (const [key, v] of from.data) {
    db.data.set(key, v);
    const at = from.expires.get(key);
    if (at === undefined) db.expires.delete(key);
    else db.expires.set(key, at);
    db.touchWatched(key);
  }
}

/** Redis's RDB loader picks each value's encoding from the configured limits, whatever it was when saved. */
function reencode(db: Db, limits: CompactLimits): void {
  for (const [key, v] of db.data) {
    const next = reencodeValue(v, limits);
    if (next !== v) db.data.set(key, next);
  }
}

function reencodeValue(v: Value, limits: CompactLimits): Value {
  if (typeof v === "string") return v;
  switch (v.kind) {
    case "set":
      v.intset = setIsIntset(v.toArray(), limits);
      return v;
    case "hash":
      v.encoding = hashIsListpack(v.entries(), limits) ? "listpack" : "hashtable";
      return v;
    case "zset": {
      const entries = v.entries();
      if (zsetIsListpack(entries, limits) === v.listpack) return v;
      return ZSetObject.fromEntries(entries, limits.zsetEntries, limits.zsetValue);
    }
    case "list":
    case "stream":
      return v;
    default:
      return assertNever(v, "value kind");
  }
}
