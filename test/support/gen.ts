// Random command programs over a few keys (so types collide), with clock
// advances so TTLs come and go. Shared by the model and replica tests. A
// generated program only uses commands the engine under test has registered.
import fc from "fast-check";

/** An argument, or an absolute time `relMs` from the moment the command runs. */
export type Arg = string | { readonly relMs: number; readonly unit: "s" | "ms" };

export type Step =
  | { readonly kind: "cmd"; readonly argv: readonly Arg[] }
  | { readonly kind: "advance"; readonly ms: number }
  | { readonly kind: "tx"; readonly cmds: readonly (readonly Arg[])[]; readonly discard: boolean };

export function resolveArgs(argv: readonly Arg[], nowMs: number): string[] {
  return argv.map((a) => (typeof a === "string" ? a : String(a.unit === "ms" ? nowMs + a.relMs : Math.floor((nowMs + a.relMs) / 1000))));
}

export function showStep(s: Step): string {
  const show = (argv: readonly Arg[]): string => argv.map((a) => (typeof a === "string" ? JSON.stringify(a) : `<now${a.relMs >= 0 ? "+" : ""}${a.relMs}${a.unit}>`)).join(" ");
  switch (s.kind) {
    case "cmd":
      return show(s.argv);
    case "advance":
      return `(clock +${s.ms} ms)`;
    case "tx":
      return `MULTI; ${s.cmds.map(show).join("; ")}; ${s.discard ? "DISCARD" : "EXEC"}`;
    default: {
      const never: never = s;
      throw new Error(`unexpected ${JSON.stringify(never)}`);
    }
  }
}

const key = fc.oneof({ weight: 12, arbitrary: fc.constantFrom("a", "b", "c") }, { weight: 1, arbitrary: fc.constant("\x00\xff k") });
const keys = fc.array(key, { minLength: 1, maxLength: 3 });
const member = fc.constantFrom("x", "y", "z", "1", "", "\xff\r\n");
const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("0", "1", "-1", "10", "abc", "", "007", " 1", "1.5", "x\r\ny", "\x00\xff") },
  { weight: 2, arbitrary: fc.integer({ min: -20, max: 20 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom("9223372036854775807", "-9223372036854775808", "9223372036854775806") },
);
const intArg = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 10 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom("abc", "", "1.5", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "+1", "-0") },
);
const seconds = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom("0", "-1", "abc", "9223372036854775807") });
const millis = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 6000 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom("0", "-5", "x") });
const atSeconds: fc.Arbitrary<Arg> = fc.integer({ min: -3000, max: 6000 }).map((relMs) => ({ relMs, unit: "s" }));
const atMillis: fc.Arbitrary<Arg> = fc.integer({ min: -3000, max: 6000 }).map((relMs) => ({ relMs, unit: "ms" }));
const expireRelative = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: -2, max: 6 }).map(String) }, { weight: 1, arbitrary: fc.constantFrom("abc", "9223372036854775807") });

const score = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("1", "2", "-1", "0.5", "1e1") },
  { weight: 2, arbitrary: fc.constantFrom("inf", "+inf", "-inf", "0x10", "Infinity") },
  { weight: 1, arbitrary: fc.constantFrom("nan", "abc", "", " 1", "1 ") },
);
const zbound = fc.oneof(score, score.map((s) => `(${s}`));
const setOption: fc.Arbitrary<Arg[]> = fc.oneof(
  fc.constantFrom("NX", "XX", "GET", "KEEPTTL", "get", "nx").map((o): Arg[] => [o]),
  seconds.map((s): Arg[] => ["EX", s]),
  millis.map((s): Arg[] => ["PX", s]),
  atSeconds.map((a): Arg[] => ["EXAT", a]),
  atMillis.map((a): Arg[] => ["PXAT", a]),
);
const getexOption: fc.Arbitrary<Arg[]> = fc.oneof(
  fc.constantFrom("PERSIST", "NX").map((o): Arg[] => [o]),
  seconds.map((s): Arg[] => ["EX", s]),
  millis.map((s): Arg[] => ["PX", s]),
  atSeconds.map((a): Arg[] => ["EXAT", a]),
  atMillis.map((a): Arg[] => ["PXAT", a]),
);
const expireFlag = fc.array(fc.constantFrom("NX", "XX", "GT", "LT"), { maxLength: 2 });

const c = (name: string, ...rest: fc.Arbitrary<Arg | Arg[]>[]): fc.Arbitrary<Arg[]> =>
  fc.tuple(...rest).map((parts) => [name, ...parts.flat()]);

/** Every command the generator knows, with its argument generator and weight. */
export const COMMANDS: Record<string, { weight: number; arb: fc.Arbitrary<Arg[]> }> = {
  get: { weight: 6, arb: c("GET", key) },
  set: { weight: 8, arb: c("SET", key, value, fc.array(setOption, { maxLength: 3 }).map((o) => o.flat())) },
  setnx: { weight: 1, arb: c("SETNX", key, value) },
  setex: { weight: 1, arb: c("SETEX", key, seconds, value) },
  psetex: { weight: 1, arb: c("PSETEX", key, millis, value) },
  getset: { weight: 1, arb: c("GETSET", key, value) },
  getdel: { weight: 1, arb: c("GETDEL", key) },
  getex: { weight: 2, arb: c("GETEX", key, fc.array(getexOption, { maxLength: 2 }).map((o) => o.flat())) },
  mset: { weight: 1, arb: fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((p): Arg[] => ["MSET", ...p.flat()]) },
  msetnx: { weight: 1, arb: fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 3 }).map((p): Arg[] => ["MSETNX", ...p.flat()]) },
  mget: { weight: 1, arb: keys.map((k): Arg[] => ["MGET", ...k]) },
  incr: { weight: 3, arb: c("INCR", key) },
  decr: { weight: 1, arb: c("DECR", key) },
  incrby: { weight: 2, arb: c("INCRBY", key, intArg) },
  decrby: { weight: 1, arb: c("DECRBY", key, intArg) },
  incrbyfloat: { weight: 1, arb: c("INCRBYFLOAT", key, fc.constantFrom("1.5", "-0.25", "3", "abc", "1e3")) },
  append: { weight: 2, arb: c("APPEND", key, value) },
  getrange: { weight: 1, arb: c("GETRANGE", key, intArg, intArg) },
  setrange: { weight: 1, arb: c("SETRANGE", key, fc.oneof(fc.integer({ min: -1, max: 12 }).map(String), fc.constantFrom("536870912", "x")), value) },
  strlen: { weight: 1, arb: c("STRLEN", key) },
  del: { weight: 2, arb: keys.map((k): Arg[] => ["DEL", ...k]) },
  unlink: { weight: 1, arb: keys.map((k): Arg[] => ["UNLINK", ...k]) },
  exists: { weight: 2, arb: keys.map((k): Arg[] => ["EXISTS", ...k]) },
  type: { weight: 1, arb: c("TYPE", key) },
  expire: { weight: 3, arb: c("EXPIRE", key, expireRelative, expireFlag) },
  pexpire: { weight: 2, arb: c("PEXPIRE", key, fc.integer({ min: -500, max: 6000 }).map(String), expireFlag) },
  expireat: { weight: 1, arb: c("EXPIREAT", key, atSeconds, expireFlag) },
  pexpireat: { weight: 1, arb: c("PEXPIREAT", key, atMillis, expireFlag) },
  ttl: { weight: 3, arb: c("TTL", key) },
  pttl: { weight: 3, arb: c("PTTL", key) },
  expiretime: { weight: 1, arb: c("EXPIRETIME", key) },
  pexpiretime: { weight: 1, arb: c("PEXPIRETIME", key) },
  persist: { weight: 2, arb: c("PERSIST", key) },
  rename: { weight: 2, arb: c("RENAME", key, key) },
  renamenx: { weight: 1, arb: c("RENAMENX", key, key) },
  lpush: { weight: 2, arb: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]): Arg[] => ["LPUSH", k, ...m]) },
  rpush: { weight: 2, arb: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]): Arg[] => ["RPUSH", k, ...m]) },
  lpushx: { weight: 1, arb: c("LPUSHX", key, member) },
  rpushx: { weight: 1, arb: c("RPUSHX", key, member) },
  lpop: { weight: 2, arb: fc.tuple(key, fc.option(intArg, { nil: undefined })).map(([k, n]): Arg[] => (n === undefined ? ["LPOP", k] : ["LPOP", k, n])) },
  rpop: { weight: 2, arb: fc.tuple(key, fc.option(intArg, { nil: undefined })).map(([k, n]): Arg[] => (n === undefined ? ["RPOP", k] : ["RPOP", k, n])) },
  llen: { weight: 1, arb: c("LLEN", key) },
  lrange: { weight: 2, arb: c("LRANGE", key, intArg, intArg) },
  lindex: { weight: 1, arb: c("LINDEX", key, intArg) },
  lset: { weight: 1, arb: c("LSET", key, intArg, member) },
  lrem: { weight: 1, arb: c("LREM", key, fc.constantFrom("0", "1", "-1", "2", "-2", "x"), member) },
  ltrim: { weight: 1, arb: c("LTRIM", key, intArg, intArg) },
  linsert: { weight: 1, arb: c("LINSERT", key, fc.constantFrom("BEFORE", "after", "middle"), member, member) },
  lmove: { weight: 1, arb: c("LMOVE", key, key, fc.constantFrom("LEFT", "right", "up"), fc.constantFrom("left", "RIGHT")) },
  rpoplpush: { weight: 1, arb: c("RPOPLPUSH", key, key) },
  hset: { weight: 3, arb: fc.tuple(key, fc.array(fc.tuple(member, value), { minLength: 1, maxLength: 3 })).map(([k, p]): Arg[] => ["HSET", k, ...p.flat()]) },
  hget: { weight: 2, arb: c("HGET", key, member) },
  hdel: { weight: 1, arb: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]): Arg[] => ["HDEL", k, ...m]) },
  hlen: { weight: 1, arb: c("HLEN", key) },
  hexists: { weight: 1, arb: c("HEXISTS", key, member) },
  hincrby: { weight: 2, arb: c("HINCRBY", key, member, intArg) },
  hincrbyfloat: { weight: 1, arb: c("HINCRBYFLOAT", key, member, fc.constantFrom("1.5", "-2", "abc")) },
  hsetnx: { weight: 1, arb: c("HSETNX", key, member, value) },
  hmget: { weight: 1, arb: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]): Arg[] => ["HMGET", k, ...m]) },
  hstrlen: { weight: 1, arb: c("HSTRLEN", key, member) },
  hgetall: { weight: 1, arb: c("HGETALL", key) },
  sadd: { weight: 3, arb: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]): Arg[] => ["SADD", k, ...m]) },
  srem: { weight: 1, arb: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]): Arg[] => ["SREM", k, ...m]) },
  sismember: { weight: 1, arb: c("SISMEMBER", key, member) },
  scard: { weight: 1, arb: c("SCARD", key) },
  smembers: { weight: 1, arb: c("SMEMBERS", key) },
  zadd: {
    weight: 3,
    arb: fc
      .tuple(key, fc.array(fc.constantFrom("NX", "XX", "CH", "INCR", "GT", "LT"), { maxLength: 2 }), fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 3 }))
      .map(([k, o, p]): Arg[] => ["ZADD", k, ...o, ...p.flat()]),
  },
  zincrby: { weight: 2, arb: c("ZINCRBY", key, score, member) },
  zrem: { weight: 1, arb: fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]): Arg[] => ["ZREM", k, ...m]) },
  zcard: { weight: 1, arb: c("ZCARD", key) },
  zscore: { weight: 2, arb: c("ZSCORE", key, member) },
  zrank: { weight: 1, arb: c("ZRANK", key, member) },
  zrevrank: { weight: 1, arb: c("ZREVRANK", key, member) },
  zcount: { weight: 2, arb: c("ZCOUNT", key, zbound, zbound) },
  zrange: { weight: 2, arb: c("ZRANGE", key, intArg, intArg, fc.constantFrom<Arg[]>([], [], ["REV"], ["rev"], ["WITH"]).map((o) => [...o])) },
  spop: { weight: 1, arb: fc.tuple(key, fc.option(fc.constantFrom("1", "2", "5"), { nil: undefined })).map(([k, n]): Arg[] => (n === undefined ? ["SPOP", k] : ["SPOP", k, n])) },
  srandmember: { weight: 1, arb: c("SRANDMEMBER", key, fc.constantFrom("1", "-2", "3")) },
  move: { weight: 1, arb: c("MOVE", key, fc.constantFrom("0", "1", "2", "16", "x")) },
  copy: { weight: 1, arb: c("COPY", key, key, fc.constantFrom<Arg[]>([], ["REPLACE"], ["DB", "1"], ["DB", "0", "REPLACE"], ["DB", "99"], ["BOGUS"]).map((o) => [...o])) },
  swapdb: { weight: 1, arb: c("SWAPDB", fc.constantFrom("0", "1", "2", "x"), fc.constantFrom("0", "1", "99")) },
  touch: { weight: 1, arb: keys.map((k): Arg[] => ["TOUCH", ...k]) },
  keys: { weight: 1, arb: c("KEYS", fc.constantFrom("*", "[ab]", "?", "*k", "a")) },
  // Writes only the replica test drives (the model does not implement them).
  setbit: { weight: 1, arb: c("SETBIT", key, fc.integer({ min: 0, max: 20 }).map(String), fc.constantFrom("0", "1", "2")) },
  bitop: { weight: 1, arb: fc.tuple(fc.constantFrom("AND", "OR", "XOR", "NOT"), key, keys).map(([op, d, src]): Arg[] => ["BITOP", op, d, ...(op === "NOT" ? src.slice(0, 1) : src)]) },
  bitfield: {
    weight: 1,
    arb: c("BITFIELD", key, fc.constantFrom<Arg[]>(["SET", "u8", "0", "200"], ["INCRBY", "i5", "3", "17"], ["OVERFLOW", "SAT", "INCRBY", "u4", "0", "9"], ["GET", "u8", "0"]).map((o) => [...o])),
  },
  hmset: { weight: 1, arb: c("HMSET", key, member, value) },
  lmpop: { weight: 1, arb: fc.tuple(keys, fc.constantFrom("LEFT", "RIGHT"), fc.constantFrom<Arg[]>([], ["COUNT", "2"])).map(([k, d, o]): Arg[] => ["LMPOP", String(k.length), ...k, d, ...o]) },
  smove: { weight: 1, arb: c("SMOVE", key, key, member) },
  sinterstore: { weight: 1, arb: fc.tuple(key, keys).map(([d, k]): Arg[] => ["SINTERSTORE", d, ...k]) },
  sunionstore: { weight: 1, arb: fc.tuple(key, keys).map(([d, k]): Arg[] => ["SUNIONSTORE", d, ...k]) },
  sdiffstore: { weight: 1, arb: fc.tuple(key, keys).map(([d, k]): Arg[] => ["SDIFFSTORE", d, ...k]) },
  zpopmin: { weight: 1, arb: fc.tuple(key, fc.constantFrom<Arg[]>([], ["2"])).map(([k, o]): Arg[] => ["ZPOPMIN", k, ...o]) },
  zpopmax: { weight: 1, arb: fc.tuple(key, fc.constantFrom<Arg[]>([], ["2"])).map(([k, o]): Arg[] => ["ZPOPMAX", k, ...o]) },
  zmpop: { weight: 1, arb: fc.tuple(keys, fc.constantFrom("MIN", "MAX")).map(([k, d]): Arg[] => ["ZMPOP", String(k.length), ...k, d]) },
  zunionstore: {
    weight: 1,
    arb: fc
      .tuple(key, keys, fc.constantFrom<Arg[]>([], ["AGGREGATE", "MAX"], ["AGGREGATE", "SUM"]))
      .map(([d, k, o]): Arg[] => ["ZUNIONSTORE", d, String(k.length), ...k, "WEIGHTS", ...k.map((_, i) => (i === 0 ? "0.1" : "3")), ...o]),
  },
  zinterstore: { weight: 1, arb: fc.tuple(key, keys).map(([d, k]): Arg[] => ["ZINTERSTORE", d, String(k.length), ...k]) },
  zdiffstore: { weight: 1, arb: fc.tuple(key, keys).map(([d, k]): Arg[] => ["ZDIFFSTORE", d, String(k.length), ...k]) },
  zrangestore: { weight: 1, arb: c("ZRANGESTORE", key, key, intArg, intArg) },
  zremrangebyrank: { weight: 1, arb: c("ZREMRANGEBYRANK", key, intArg, intArg) },
  zremrangebyscore: { weight: 1, arb: c("ZREMRANGEBYSCORE", key, zbound, zbound) },
  zremrangebylex: { weight: 1, arb: c("ZREMRANGEBYLEX", key, fc.constantFrom("-", "[x", "(y"), fc.constantFrom("+", "[z", "(y")) },
  flushall: { weight: 1, arb: fc.constant(["FLUSHALL"]) },
  select: { weight: 1, arb: c("SELECT", fc.constantFrom("0", "0", "0", "1", "1", "abc", "16")) },
  flushdb: { weight: 1, arb: fc.constant(["FLUSHDB"]) },
  // Streams: IDs from the clock (`*`), explicit IDs, trimming, consumer groups.
  xadd: {
    weight: 3,
    arb: fc
      .tuple(key, fc.constantFrom<Arg[]>([], ["NOMKSTREAM"], ["MAXLEN", "~", "2"], ["MAXLEN", "3"], ["MINID", "0-2"]), fc.constantFrom("*", "*", "5-*", "1-1", "9-9"), member)
      .map(([k, o, id, v]): Arg[] => ["XADD", k, ...o, id, "f", v]),
  },
  xdel: { weight: 1, arb: c("XDEL", key, fc.constantFrom("1-1", "5-0", "9-9")) },
  xtrim: { weight: 1, arb: c("XTRIM", key, fc.constantFrom<Arg[]>(["MAXLEN", "1"], ["MAXLEN", "~", "1"], ["MINID", "5-0"]).map((o) => [...o])) },
  xgroup: {
    weight: 2,
    arb: c(
      "XGROUP",
      fc.constantFrom<Arg[]>(["CREATE"], ["SETID"], ["DESTROY"], ["CREATECONSUMER"], ["DELCONSUMER"]).map((o) => [...o]),
      key,
      fc.constantFrom("g1", "g2"),
    ).map((argv): Arg[] => {
      const sub = String(argv[1]);
      if (sub === "CREATE") return [...argv, "$", "MKSTREAM"];
      if (sub === "SETID") return [...argv, "0"];
      if (sub === "CREATECONSUMER" || sub === "DELCONSUMER") return [...argv, "c1"];
      return argv;
    }),
  },
  xreadgroup: {
    weight: 2,
    arb: fc
      .tuple(fc.constantFrom("g1", "g2"), fc.constantFrom("c1", "c2"), fc.constantFrom<Arg[]>([], ["NOACK"], ["COUNT", "1"]), key, fc.constantFrom(">", ">", "0"))
      .map(([g, cn, o, k, id]): Arg[] => ["XREADGROUP", "GROUP", g, cn, ...o, "STREAMS", k, id]),
  },
  xack: { weight: 1, arb: c("XACK", key, fc.constantFrom("g1", "g2"), fc.constantFrom("1-1", "5-0", "9-9")) },
  xclaim: { weight: 1, arb: c("XCLAIM", key, fc.constantFrom("g1", "g2"), fc.constantFrom("c1", "c2"), fc.constantFrom("0", "10"), fc.constantFrom("1-1", "9-9")) },
  xautoclaim: { weight: 1, arb: c("XAUTOCLAIM", key, fc.constantFrom("g1", "g2"), fc.constantFrom("c1", "c2"), fc.constantFrom("0", "100"), fc.constantFrom("0-0", "5-0")) },
  // HyperLogLog, geo, SORT ... STORE.
  pfadd: { weight: 2, arb: fc.tuple(key, fc.array(member, { maxLength: 3 })).map(([k, m]): Arg[] => ["PFADD", k, ...m]) },
  pfcount: { weight: 1, arb: c("PFCOUNT", key) },
  pfmerge: { weight: 1, arb: fc.tuple(key, keys).map(([d, k]): Arg[] => ["PFMERGE", d, ...k]) },
  geoadd: { weight: 2, arb: c("GEOADD", key, fc.constantFrom("13.361389", "-122.27652", "0"), fc.constantFrom("38.115556", "37.805186", "85"), member) },
  geosearchstore: {
    weight: 1,
    arb: c("GEOSEARCHSTORE", key, key, fc.constantFrom<Arg[]>(["FROMLONLAT", "13", "38"], ["FROMMEMBER", "x"]).map((o) => [...o]), fc.constantFrom<Arg[]>(["BYRADIUS", "500", "km"], ["BYBOX", "400", "400", "km"]).map((o) => [...o])),
  },
  sort: {
    weight: 1,
    arb: c("SORT", key, fc.constantFrom<Arg[]>(["ALPHA"], [], ["BY", "nosort"], ["DESC", "ALPHA", "LIMIT", "0", "2"]).map((o) => [...o]), fc.constantFrom<Arg[]>(["STORE", "a"], ["STORE", "b"]).map((o) => [...o])),
  },
};

export interface ProgramOptions {
  /** Commands that may appear (lower case); others are left out. */
  readonly commands: ReadonlySet<string>;
  readonly maxSteps: number;
  /** Relative weight of MULTI/EXEC blocks (0 for none). */
  readonly txWeight: number;
}

export function commandArb(names: ReadonlySet<string>, weightOf: (name: string, weight: number) => number = (_, w) => w): fc.Arbitrary<Arg[]> {
  const arbs = Object.entries(COMMANDS)
    .filter(([name]) => names.has(name))
    .map(([name, g]) => ({ weight: weightOf(name, g.weight), arbitrary: g.arb }));
  if (arbs.length === 0) throw new Error("no command to generate");
  return fc.oneof(...arbs);
}

const LIST_COMMANDS = new Set(["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex", "lset", "lrem", "ltrim", "linsert", "lmove", "rpoplpush", "lmpop"]);
const SET_COMMANDS = new Set(["sadd", "srem", "sismember", "scard", "smembers", "spop", "srandmember", "smove", "sinterstore", "sunionstore", "sdiffstore"]);
const KEYSPACE_COMMANDS = new Set([
  "del", "unlink", "exists", "type", "expire", "pexpire", "expireat", "pexpireat", "ttl", "pttl", "expiretime", "pexpiretime",
  "persist", "rename", "renamenx", "move", "copy", "swapdb", "touch", "keys", "select", "flushdb", "flushall",
]);

/** The family a command belongs to; a program concentrates on a few families. */
export function familyOf(name: string): string {
  if (LIST_COMMANDS.has(name)) return "list";
  if (SET_COMMANDS.has(name)) return "set";
  if (KEYSPACE_COMMANDS.has(name)) return "keyspace";
  if (name.startsWith("x")) return "stream";
  if (name.startsWith("pf")) return "hll";
  if (name.startsWith("geo")) return "geo";
  if (name === "sort") return "list";
  if (name.startsWith("h")) return "hash";
  if (name.startsWith("z")) return "zset";
  return "string";
}

function stepArb(names: ReadonlySet<string>, txWeight: number, focused: boolean): fc.Arbitrary<Step> {
  // In a focused program the keyspace commands are the seasoning, not the dish.
  const cmd = commandArb(names, (name, w) => (focused && familyOf(name) === "keyspace" ? Math.max(1, Math.floor(w / 2)) : w));
  const advance = fc.oneof(fc.constantFrom(0, 1, 999, 1000, 1001, 2000), fc.integer({ min: 0, max: 6000 }));
  const arbs: fc.WeightedArbitrary<Step>[] = [
    { weight: 10, arbitrary: cmd.map((argv): Step => ({ kind: "cmd", argv })) },
    { weight: 3, arbitrary: advance.map((ms): Step => ({ kind: "advance", ms })) },
  ];
  if (txWeight > 0) {
    arbs.push({
      weight: txWeight,
      arbitrary: fc
        .tuple(fc.array(cmd, { minLength: 1, maxLength: 4 }), fc.boolean())
        .map(([cmds, d]): Step => ({ kind: "tx", cmds, discard: d && cmds.length === 1 })),
    });
  }
  return fc.oneof(...arbs);
}

/**
 * Random programs. Each concentrates on one or two command families (plus the
 * keyspace and expiry commands), so that a family's commands meet each other
 * often; one program in five mixes every family.
 */
export function programArb(opts: ProgramOptions): fc.Arbitrary<Step[]> {
  const families = [...new Set([...opts.commands].map(familyOf))].filter((f) => f !== "keyspace").sort();
  const chosen = fc.oneof(
    { weight: 4, arbitrary: fc.subarray(families, { minLength: 1, maxLength: 2 }) },
    { weight: 1, arbitrary: fc.constant(families) },
  );
  return chosen.chain((fams) => {
    const names = new Set([...opts.commands].filter((n) => familyOf(n) === "keyspace" || fams.includes(familyOf(n))));
    return fc.array(stepArb(names, opts.txWeight, fams.length < families.length), { minLength: 1, maxLength: opts.maxSteps, size: "max" });
  });
}

/** A small deterministic PRNG (mulberry32) for engines that need `random`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
