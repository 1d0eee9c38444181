// Datasets for the snapshot tests and benchmark, built through real commands
// so values carry the states commands leave (sticky encodings, stream PELs,
// deleted stream entries, TTLs already past but not yet expired).
import type { Reply } from "../resp/reply";
import { Engine } from "../engine/engine";

export type KeyType = "string" | "list" | "hash" | "set" | "intset" | "zset" | "stream";

export interface KeySpec {
  readonly db: number;
  readonly key: string;
  readonly type: KeyType;
  readonly size: number;
  /** Bytes, latin1: arbitrary binary. */
  readonly blob: string;
  /** Expire relative to the build time (may end up in the past once the clock moves); null = none. */
  readonly ttlMs: number | null;
  /** Grow past the compact limits and shrink back (sticky encodings). */
  readonly shrink: boolean;
}

/** A mutable clock shared by the engines of one test, so reads happen at the same instant. */
export class TestClock {
  constructor(public nowMs = 1_700_000_000_000) {}
  readonly fn = (): number => this.nowMs;
}

export function newEngine(clock: TestClock): Engine {
  return new Engine({ clock: clock.fn, random: seeded(7), recordEffects: false });
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function run(e: Engine, db: number, argv: string[]): Reply {
  const session = e.newSession();
  session.db = db;
  const r = e.execute(argv, session).reply;
  if (r.kind === "error") throw new Error(`${argv.slice(0, 3).join(" ")}: ${r.message}`);
  return r;
}

function el(spec: KeySpec, i: number): string {
  return `${spec.blob.slice(0, (i * 7) % (spec.blob.length + 1))}${i}`;
}

function buildCollection(e: Engine, s: KeySpec): void {
  const n = s.size;
  const k = s.key;
  const argv = (head: string[], each: (i: number) => string[]): string[] => {
    const a = head.slice();
    for (let i = 0; i < n; i++) a.push(...each(i));
    return a;
  };
  switch (s.type) {
    case "list":
      run(e, s.db, argv(["RPUSH", k], (i) => [el(s, i)]));
      return;
    case "hash":
      run(e, s.db, argv(["HSET", k], (i) => [el(s, i), s.blob + String(i)]));
      if (s.shrink) shrink(e, s, "HSET", "HDEL", (i) => [`big${i}`, "v"]);
      return;
    case "set":
      run(e, s.db, argv(["SADD", k], (i) => [el(s, i)]));
      return;
    case "intset":
      run(e, s.db, argv(["SADD", k], (i) => [String(i * 1000003 - 5000)]));
      if (s.shrink) shrink(e, s, "SADD", "SREM", () => ["not-an-int"]);
      return;
    case "zset":
      run(e, s.db, argv(["ZADD", k], (i) => [String((i % 13) - 6 + i / 7), el(s, i)]));
      if (s.shrink) {
        shrink(e, s, "ZADD", "ZREM", (i) => ["1", `big${i}`]);
        run(e, s.db, ["ZADD", k, "-0", "negative-zero"]);
      }
      return;
    case "string":
    case "stream":
      throw new Error(`${s.type} is not a plain collection`);
    default: {
      const never: never = s.type;
      throw new Error(`unexpected ${String(never)}`);
    }
  }
}

/** Adds 200 elements (past every compact limit) then removes them again. */
function shrink(e: Engine, s: KeySpec, add: string, remove: string, item: (i: number) => string[]): void {
  const extra: string[][] = [];
  for (let i = 0; i < 200; i++) extra.push(item(i));
  run(e, s.db, [add, s.key, ...extra.flat()]);
  const names = add === "ZADD" || add === "HSET" ? extra.map((x) => x[x.length - 2] ?? "") : extra.map((x) => x[0] ?? "");
  run(e, s.db, [remove, s.key, ...new Set(add === "ZADD" ? extra.map((x) => x[1] ?? "") : names)]);
}

/** A stream with deletions, two groups, pending entries over three consumers, acks and claims. */
function buildStream(e: Engine, clock: TestClock, s: KeySpec): void {
  const k = s.key;
  for (let i = 0; i < s.size; i++) run(e, s.db, ["XADD", k, "*", "f", el(s, i), "g", String(i)]);
  if (s.size > 2) run(e, s.db, ["XDEL", k, idOf(run(e, s.db, ["XRANGE", k, "-", "+", "COUNT", "2"]), 1)]);
  run(e, s.db, ["XGROUP", "CREATE", k, "g1", "0"]);
  run(e, s.db, ["XGROUP", "CREATE", k, s.blob.slice(0, 5) + "g2", "$"]);
  run(e, s.db, ["XGROUP", "CREATECONSUMER", k, "g1", "idle"]);
  const per = Math.max(1, Math.floor(s.size / 3));
  for (const c of ["alice", "bob\x00\xff"]) {
    clock.nowMs += 3;
    run(e, s.db, ["XREADGROUP", "GROUP", "g1", c, "COUNT", String(per), "STREAMS", k, ">"]);
  }
  const pending = run(e, s.db, ["XPENDING", k, "g1", "-", "+", "10"]);
  const first = idOf(pending, 0);
  if (first !== "") {
    run(e, s.db, ["XACK", k, "g1", first]);
    const second = idOf(pending, 1);
    if (second !== "") run(e, s.db, ["XCLAIM", k, "g1", "carol", "0", second]);
  }
}

/** The ID in the i-th element of an XRANGE / XPENDING reply, or "". */
function idOf(r: Reply, i: number): string {
  if (r.kind !== "array") return "";
  const item = r.items[i];
  if (item === undefined || item.kind !== "array") return "";
  const id = item.items[0];
  return id !== undefined && id.kind === "bulk" ? id.value : "";
}

/** Builds the dataset; afterwards the clock moves on so some TTLs are past (the keys stay until touched). */
export function buildDataset(e: Engine, clock: TestClock, specs: readonly KeySpec[]): void {
  for (const s of specs) {
    if (s.type === "string") run(e, s.db, ["SET", s.key, s.blob.repeat(Math.max(1, s.size))]);
    else if (s.type === "stream") buildStream(e, clock, s);
    else buildCollection(e, s);
    if (s.ttlMs !== null) run(e, s.db, ["PEXPIREAT", s.key, String(clock.nowMs + s.ttlMs)]);
  }
  clock.nowMs += 5_000;
}

export function keysOf(e: Engine): { db: number; key: string }[] {
  const out: { db: number; key: string }[] = [];
  for (const db of e.dbs) for (const key of db.data.keys()) out.push({ db: db.id, key });
  return out;
}

/** What a client can observe of one key: type, encoding, TTL and its whole value in reply order. */
export function observe(e: Engine, db: number, key: string): Reply[] {
  const type = run(e, db, ["TYPE", key]);
  const name = type.kind === "simple" ? type.value : "";
  const read: Record<string, string[]> = {
    string: ["GET", key],
    list: ["LRANGE", key, "0", "-1"],
    hash: ["HGETALL", key],
    set: ["SMEMBERS", key],
    zset: ["ZRANGE", key, "0", "-1", "WITHSCORES"],
    stream: ["XINFO", "STREAM", key, "FULL"],
  };
  return [type, run(e, db, ["OBJECT", "ENCODING", key]), run(e, db, ["PEXPIRETIME", key]), run(e, db, read[name] ?? ["EXISTS", key])];
}
