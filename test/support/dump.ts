// Canonical text of an engine's datasets, for comparing two engines (replica
// equivalence) or an engine with the model. Written against the value types'
// documented contract (toArray / entries), not their representation.
import type { Engine } from "../../engine/engine";
import type { Value } from "../../engine/value";

const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function plainValue(v: Value): unknown {
  if (typeof v === "string") return ["string", v];
  switch (v.kind) {
    case "list":
      return ["list", v.toArray()];
    case "hash":
      return ["hash", v.entries().sort((a, b) => byBytes(a[0], b[0]))];
    case "set":
      return ["set", v.toArray().sort(byBytes)];
    case "zset":
      return ["zset", v.entries().map(([m, sc]) => [m, Object.is(sc, -0) ? "-0" : String(sc)])];
    case "stream":
      return ["stream", v.length];
    default: {
      const never: never = v;
      throw new Error(`unexpected value ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Every db's keys, values and expire times. With `nowMs`, only the keys that
 * are logically alive at that time (what a client can observe); without it,
 * everything stored (what a replica must hold identically).
 */
export function dumpEngine(e: Engine, nowMs?: number): string {
  const out: unknown[] = [];
  for (const db of e.dbs) {
    const keys = [...db.data.keys()].sort(byBytes);
    const rows: unknown[] = [];
    for (const k of keys) {
      const at = db.expires.get(k);
      if (nowMs !== undefined && at !== undefined && at <= nowMs) continue;
      const v = db.data.get(k);
      if (v !== undefined) rows.push([k, plainValue(v), at ?? null]);
    }
    // An expire entry without a key is a leak a replica could diverge on.
    for (const k of db.expires.keys()) if (!db.data.has(k)) rows.push([k, "expire without key"]);
    if (rows.length > 0) out.push([db.id, rows]);
  }
  return JSON.stringify(out);
}

/** The engine's dataset digest (DEBUG DIGEST). */
export function engineDigest(e: Engine): string {
  return e.digest();
}
