// A deliberately naive model of Redis 7.0's keyspace: per db a Map of key ->
// { value, expireAtMs }, expired keys dropped before every command, each
// command written straight from Redis's documented behaviour (t_string.c,
// expire.c, db.c, t_list.c, t_hash.c, t_set.c). It shares no code with the
// engine; replies are built with the protocol-neutral Reply constructors so
// both can be compared byte for byte after encoding.
import {
  array,
  bulk,
  bulks,
  double,
  EMPTY_ARRAY,
  err,
  int,
  map,
  NULL,
  NULL_ARRAY,
  OK,
  QUEUED,
  simple,
  type Reply,
} from "../../resp/reply";

export type MValue =
  | { t: "string"; s: string }
  | { t: "list"; items: string[] }
  | { t: "hash"; m: Map<string, string> }
  | { t: "set"; m: Set<string> }
  | { t: "zset"; m: Map<string, number> };

export interface MEntry {
  v: MValue;
  /** Absolute expire time in unix ms, or null for none. */
  at: bigint | null;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");
const NOT_INT = err("ERR value is not an integer or out of range");
const SYNTAX = err("ERR syntax error");
const OVERFLOW = err("ERR increment or decrement would overflow");
const NO_KEY = err("ERR no such key");
const MUST_BE_POSITIVE = err("ERR value is out of range, must be positive");
const invalidExpire = (cmd: string): Reply => err(`ERR invalid expire time in '${cmd}' command`);
const arity = (cmd: string): Reply => err(`ERR wrong number of arguments for '${cmd}' command`);

/** Redis's string2ll: canonical decimal only ("0", no "+", no "-0", no spaces). */
export function parseI64(s: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(s)) return null;
  const n = BigInt(s);
  return n < I64_MIN || n > I64_MAX ? null : n;
}

function intReply(n: bigint | number): Reply {
  const b = BigInt(n);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? int(Number(b)) : int(b);
}

const byBytes = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Names of replies whose element order Redis leaves unspecified; compared sorted. */
export const UNORDERED = new Set(["hgetall", "smembers", "hkeys", "hvals", "keys"]);

type Handler = (m: Model, argv: string[]) => Reply;

export class Model {
  readonly dbs: Map<string, MEntry>[] = [];
  db = 0;
  now = 0n;
  private queued: string[][] | null = null;

  constructor(databases = 16) {
    for (let i = 0; i < databases; i++) this.dbs.push(new Map());
  }

  get data(): Map<string, MEntry> {
    const d = this.dbs[this.db];
    if (d === undefined) throw new Error(`no db ${this.db}`);
    return d;
  }

  /** The commands this model implements (lower case). */
  static commands(): string[] {
    return [...HANDLERS.keys()];
  }

  /** Runs one command at time `nowMs` (MULTI/EXEC queueing included). */
  exec(argv: readonly string[], nowMs: number): Reply {
    this.now = BigInt(nowMs);
    const name = (argv[0] ?? "").toLowerCase();
    if (this.queued !== null && name !== "exec" && name !== "discard" && name !== "multi") {
      this.queued.push([...argv]);
      return QUEUED;
    }
    switch (name) {
      case "multi":
        if (this.queued !== null) return err("ERR MULTI calls can not be nested");
        this.queued = [];
        return OK;
      case "exec": {
        const q = this.queued;
        if (q === null) return err("ERR EXEC without MULTI");
        this.queued = null;
        return array(q.map((a) => this.run(a)));
      }
      case "discard":
        if (this.queued === null) return err("ERR DISCARD without MULTI");
        this.queued = null;
        return OK;
      default:
        return this.run([...argv]);
    }
  }

  private run(argv: string[]): Reply {
    this.purge();
    const h = HANDLERS.get((argv[0] ?? "").toLowerCase());
    if (h === undefined) throw new Error(`model has no ${argv[0]}`);
    return h(this, argv);
  }

  /** Drops every logically expired key (the model has no lazy/active distinction). */
  purge(): void {
    for (const d of this.dbs) {
      for (const [k, e] of d) if (e.at !== null && e.at <= this.now) d.delete(k);
    }
  }

  get(key: string): MEntry | undefined {
    return this.data.get(key);
  }

  /** Replaces the value; the TTL is dropped unless keepTtl. */
  put(key: string, v: MValue, keepTtl = false): void {
    const old = this.data.get(key);
    this.data.set(key, { v, at: keepTtl && old !== undefined ? old.at : null });
  }
}

// ---------------------------------------------------------------------------
// Strings

function getString(m: Model, key: string): string | null | Reply {
  const e = m.get(key);
  if (e === undefined) return null;
  if (e.v.t !== "string") return WRONGTYPE;
  return e.v.s;
}

function get(m: Model, argv: string[]): Reply {
  const v = getString(m, argv[1] ?? "");
  return v === null ? NULL : typeof v === "string" ? bulk(v) : v;
}

type Unit = "" | "ex" | "px" | "exat" | "pxat";

/** Redis's getExpireMillisecondsOrReply: absolute ms, or an error reply. */
function expireMs(m: Model, unit: Unit, arg: string, cmd: string): bigint | Reply {
  let ms = parseI64(arg);
  if (ms === null) return NOT_INT;
  const seconds = unit === "ex" || unit === "exat";
  if (ms <= 0n || (seconds && ms > I64_MAX / 1000n)) return invalidExpire(cmd);
  if (seconds) ms *= 1000n;
  if (unit === "ex" || unit === "px") ms += m.now;
  // In C the addition wraps to a negative number, which Redis rejects.
  if (ms > I64_MAX) return invalidExpire(cmd);
  return ms;
}

interface StringOpts {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepttl: boolean;
  persist: boolean;
  unit: Unit;
  expireArg: string;
}

/** Redis's parseExtendedStringArgumentsOrReply, for SET (isSet) or GETEX. */
function parseStringOpts(argv: string[], from: number, isSet: boolean): StringOpts | Reply {
  const o: StringOpts = { nx: false, xx: false, get: false, keepttl: false, persist: false, unit: "", expireArg: "" };
  for (let j = from; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    const next = j === argv.length - 1 ? undefined : argv[j + 1];
    const noOtherUnit = (u: Unit): boolean => !o.keepttl && !o.persist && (o.unit === "" || o.unit === u) && next !== undefined;
    if (opt === "nx" && !o.xx && isSet) o.nx = true;
    else if (opt === "xx" && !o.nx && isSet) o.xx = true;
    else if (opt === "get" && isSet) o.get = true;
    else if (opt === "keepttl" && !o.persist && o.unit === "" && isSet) o.keepttl = true;
    else if (opt === "persist" && !isSet && o.unit === "" && !o.keepttl) o.persist = true;
    else if ((opt === "ex" || opt === "px" || opt === "exat" || opt === "pxat") && noOtherUnit(opt)) {
      o.unit = opt;
      o.expireArg = next ?? "";
      j++;
    } else return SYNTAX;
  }
  return o;
}

function setGeneric(m: Model, key: string, value: string, o: StringOpts, cmd: string, okReply: Reply, abortReply: Reply): Reply {
  let at: bigint | null = null;
  if (o.unit !== "") {
    const ms = expireMs(m, o.unit, o.expireArg, cmd);
    if (typeof ms !== "bigint") return ms;
    at = ms;
  }
  let old: Reply = NULL;
  if (o.get) {
    const v = getString(m, key);
    if (v !== null && typeof v !== "string") return v;
    if (v !== null) old = bulk(v);
  }
  const found = m.get(key) !== undefined;
  if ((o.nx && found) || (o.xx && !found)) return o.get ? old : abortReply;
  m.put(key, { t: "string", s: value }, o.keepttl);
  if (at !== null) {
    const e = m.get(key);
    if (e !== undefined) e.at = at;
  }
  return o.get ? old : okReply;
}

function set(m: Model, argv: string[]): Reply {
  const o = parseStringOpts(argv, 3, true);
  if ("kind" in o) return o;
  return setGeneric(m, argv[1] ?? "", argv[2] ?? "", o, "set", OK, NULL);
}

const PLAIN: StringOpts = { nx: false, xx: false, get: false, keepttl: false, persist: false, unit: "", expireArg: "" };

function setnx(m: Model, argv: string[]): Reply {
  return setGeneric(m, argv[1] ?? "", argv[2] ?? "", { ...PLAIN, nx: true }, "setnx", int(1), int(0));
}

function setex(unit: "ex" | "px", cmd: string): Handler {
  return (m, argv) => setGeneric(m, argv[1] ?? "", argv[3] ?? "", { ...PLAIN, unit, expireArg: argv[2] ?? "" }, cmd, OK, NULL);
}

function getset(m: Model, argv: string[]): Reply {
  return setGeneric(m, argv[1] ?? "", argv[2] ?? "", { ...PLAIN, get: true }, "getset", OK, NULL);
}

function getdel(m: Model, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const v = getString(m, key);
  if (v === null) return NULL;
  if (typeof v !== "string") return v;
  m.data.delete(key);
  return bulk(v);
}

function getex(m: Model, argv: string[]): Reply {
  const o = parseStringOpts(argv, 2, false);
  if ("kind" in o) return o;
  const key = argv[1] ?? "";
  const e = m.get(key);
  if (e === undefined) return NULL;
  if (e.v.t !== "string") return WRONGTYPE;
  let at: bigint | null = null;
  if (o.unit !== "") {
    const ms = expireMs(m, o.unit, o.expireArg, "getex");
    if (typeof ms !== "bigint") return ms;
    at = ms;
  }
  const reply = bulk(e.v.s);
  if (at !== null) e.at = at;
  else if (o.persist) e.at = null;
  return reply;
}

function mset(nx: boolean): Handler {
  return (m, argv) => {
    if (argv.length % 2 === 0) return arity(nx ? "msetnx" : "mset");
    if (nx) {
      for (let j = 1; j < argv.length; j += 2) if (m.get(argv[j] ?? "") !== undefined) return int(0);
    }
    for (let j = 1; j < argv.length; j += 2) m.put(argv[j] ?? "", { t: "string", s: argv[j + 1] ?? "" });
    return nx ? int(1) : OK;
  };
}

function mget(m: Model, argv: string[]): Reply {
  return bulks(
    argv.slice(1).map((k) => {
      const e = m.get(k);
      return e !== undefined && e.v.t === "string" ? e.v.s : null;
    }),
  );
}

function incrBy(m: Model, key: string, incr: bigint): Reply {
  const v = getString(m, key);
  if (v !== null && typeof v !== "string") return v;
  const old = v === null ? 0n : parseI64(v);
  if (old === null) return NOT_INT;
  const next = old + incr;
  if (next > I64_MAX || next < I64_MIN) return OVERFLOW;
  m.put(key, { t: "string", s: next.toString() }, true);
  return intReply(next);
}

function incrByArg(sign: 1n | -1n): Handler {
  return (m, argv) => {
    const n = parseI64(argv[2] ?? "");
    if (n === null) return NOT_INT;
    if (sign === -1n && n === I64_MIN) return err("ERR decrement would overflow");
    return incrBy(m, argv[1] ?? "", sign * n);
  };
}

function append(m: Model, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const v = getString(m, key);
  if (v !== null && typeof v !== "string") return v;
  const s = (v ?? "") + (argv[2] ?? "");
  m.put(key, { t: "string", s }, true);
  return int(s.length);
}

function strlen(m: Model, argv: string[]): Reply {
  const v = getString(m, argv[1] ?? "");
  if (v !== null && typeof v !== "string") return v;
  return int(v === null ? 0 : v.length);
}

function getrange(m: Model, argv: string[]): Reply {
  const s0 = parseI64(argv[2] ?? "");
  if (s0 === null) return NOT_INT;
  const e0 = parseI64(argv[3] ?? "");
  if (e0 === null) return NOT_INT;
  const v = getString(m, argv[1] ?? "");
  if (v === null) return bulk("");
  if (typeof v !== "string") return v;
  const len = BigInt(v.length);
  if (s0 < 0n && e0 < 0n && s0 > e0) return bulk("");
  let start = s0 < 0n ? len + s0 : s0;
  let end = e0 < 0n ? len + e0 : e0;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  if (start > end || len === 0n) return bulk("");
  return bulk(v.slice(Number(start), Number(end) + 1));
}

const STRING_BYTES_MAX = 512n * 1024n * 1024n;

function setrange(m: Model, argv: string[]): Reply {
  const off = parseI64(argv[2] ?? "");
  if (off === null) return NOT_INT;
  if (off < 0n) return err("ERR offset is out of range");
  const key = argv[1] ?? "";
  const value = argv[3] ?? "";
  const v = getString(m, key);
  if (v !== null && typeof v !== "string") return v;
  if (value.length === 0) return int(v === null ? 0 : v.length);
  if (off + BigInt(value.length) > STRING_BYTES_MAX) return err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  const base = (v ?? "").padEnd(Number(off), "\x00");
  const s = base.slice(0, Number(off)) + value + base.slice(Number(off) + value.length);
  m.put(key, { t: "string", s }, true);
  return int(s.length);
}

// ---------------------------------------------------------------------------
// Keyspace and expiry

function del(m: Model, argv: string[]): Reply {
  let n = 0;
  for (const k of argv.slice(1)) if (m.data.delete(k)) n++;
  return int(n);
}

function exists(m: Model, argv: string[]): Reply {
  return int(argv.slice(1).filter((k) => m.get(k) !== undefined).length);
}

function type(m: Model, argv: string[]): Reply {
  const e = m.get(argv[1] ?? "");
  return simple(e === undefined ? "none" : e.v.t);
}

function expireFlags(argv: string[]): { nx: boolean; xx: boolean; gt: boolean; lt: boolean } | Reply {
  const f = { nx: false, xx: false, gt: false, lt: false };
  for (let j = 3; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    if (opt === "nx" || opt === "xx" || opt === "gt" || opt === "lt") f[opt] = true;
    else return err(`ERR Unsupported option ${argv[j] ?? ""}`);
  }
  if (f.nx && (f.xx || f.gt || f.lt)) return err("ERR NX and XX, GT or LT options at the same time are not compatible");
  if (f.gt && f.lt) return err("ERR GT and LT options at the same time are not compatible");
  return f;
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (Redis's expireGenericCommand). */
function expire(relative: boolean, seconds: boolean, cmd: string): Handler {
  return (m, argv) => {
    const f = expireFlags(argv);
    if ("kind" in f) return f;
    let when = parseI64(argv[2] ?? "");
    if (when === null) return NOT_INT;
    if (seconds) {
      if (when > I64_MAX / 1000n || when < I64_MIN / 1000n) return invalidExpire(cmd);
      when *= 1000n;
    }
    const base = relative ? m.now : 0n;
    if (when > I64_MAX - base) return invalidExpire(cmd);
    when += base;
    const key = argv[1] ?? "";
    const e = m.get(key);
    if (e === undefined) return int(0);
    const cur = e.at ?? -1n;
    if (f.nx && e.at !== null) return int(0);
    if (f.xx && e.at === null) return int(0);
    if (f.gt && (when <= cur || e.at === null)) return int(0);
    if (f.lt && e.at !== null && when >= cur) return int(0);
    if (when <= m.now) m.data.delete(key);
    else e.at = when;
    return int(1);
  };
}

function ttl(ms: boolean, abs: boolean): Handler {
  return (m, argv) => {
    const e = m.get(argv[1] ?? "");
    if (e === undefined) return int(-2);
    if (e.at === null) return int(-1);
    let t = abs ? e.at : e.at - m.now;
    if (t < 0n) t = 0n;
    return intReply(ms ? t : (t + 500n) / 1000n);
  };
}

function persist(m: Model, argv: string[]): Reply {
  const e = m.get(argv[1] ?? "");
  if (e === undefined || e.at === null) return int(0);
  e.at = null;
  return int(1);
}

function rename(nx: boolean): Handler {
  return (m, argv) => {
    const src = argv[1] ?? "";
    const dst = argv[2] ?? "";
    const e = m.get(src);
    if (e === undefined) return NO_KEY;
    if (src === dst) return nx ? int(0) : OK;
    if (m.get(dst) !== undefined && nx) return int(0);
    m.data.delete(dst);
    m.data.set(dst, e);
    m.data.delete(src);
    return nx ? int(1) : OK;
  };
}

function cloneValue(v: MValue): MValue {
  switch (v.t) {
    case "string":
      return { t: "string", s: v.s };
    case "list":
      return { t: "list", items: [...v.items] };
    case "hash":
      return { t: "hash", m: new Map(v.m) };
    case "set":
      return { t: "set", m: new Set(v.m) };
    case "zset":
      return { t: "zset", m: new Map(v.m) };
    default: {
      const never: never = v;
      throw new Error(`unexpected ${JSON.stringify(never)}`);
    }
  }
}

/** getIntFromObjectOrReply followed by selectDb's range check. */
function dbIndex(m: Model, arg: string): number | Reply {
  const n = parseI64(arg);
  if (n === null) return NOT_INT;
  if (n < -(2n ** 31n) || n >= 2n ** 31n) return err("ERR value is out of range, value must between -2147483648 and 2147483647");
  if (n < 0n || n >= BigInt(m.dbs.length)) return err("ERR DB index is out of range");
  return Number(n);
}

function move(m: Model, argv: string[]): Reply {
  const id = dbIndex(m, argv[2] ?? "");
  if (typeof id !== "number") return id;
  if (id === m.db) return err("ERR source and destination objects are the same");
  const key = argv[1] ?? "";
  const e = m.get(key);
  if (e === undefined) return int(0);
  const dst = m.dbs[id];
  if (dst === undefined || dst.has(key)) return int(0);
  dst.set(key, e);
  m.data.delete(key);
  return int(1);
}

function copy(m: Model, argv: string[]): Reply {
  let dbid = m.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    if (opt === "replace") replace = true;
    else if (opt === "db" && j + 1 < argv.length) {
      const id = dbIndex(m, argv[j + 1] ?? "");
      if (typeof id !== "number") return id;
      dbid = id;
      j++;
    } else return SYNTAX;
  }
  const key = argv[1] ?? "";
  const newkey = argv[2] ?? "";
  if (dbid === m.db && key === newkey) return err("ERR source and destination objects are the same");
  const e = m.get(key);
  if (e === undefined) return int(0);
  const dst = m.dbs[dbid];
  if (dst === undefined) return int(0);
  if (dst.has(newkey) && !replace) return int(0);
  dst.set(newkey, { v: cloneValue(e.v), at: e.at });
  return int(1);
}

function swapdb(m: Model, argv: string[]): Reply {
  const parse = (a: string, msg: string): number | Reply => {
    const n = parseI64(a);
    if (n === null || n < -(2n ** 31n) || n >= 2n ** 31n) return err(`ERR ${msg}`);
    return Number(n);
  };
  const a = parse(argv[1] ?? "", "invalid first DB index");
  if (typeof a !== "number") return a;
  const b = parse(argv[2] ?? "", "invalid second DB index");
  if (typeof b !== "number") return b;
  const da = m.dbs[a];
  const db = m.dbs[b];
  if (a < 0 || b < 0 || da === undefined || db === undefined) return err("ERR DB index is out of range");
  m.dbs[a] = db;
  m.dbs[b] = da;
  return OK;
}

function touch(m: Model, argv: string[]): Reply {
  return int(argv.slice(1).filter((k) => m.get(k) !== undefined).length);
}

/** KEYS for the simple patterns the generator uses: *, ?, [..] and literals. */
function keys(m: Model, argv: string[]): Reply {
  const pattern = argv[1] ?? "";
  const re = new RegExp(
    "^" +
      pattern.replace(/[.+^${}()|\\]|\*|\?|\[[^\]]*\]/g, (x) => (x === "*" ? "[\\s\\S]*" : x === "?" ? "[\\s\\S]" : x.startsWith("[") ? x : `\\${x}`)) +
      "$",
  );
  return bulks([...m.data.keys()].filter((k) => re.test(k)).sort(byBytes));
}

function select(m: Model, argv: string[]): Reply {
  const n = parseI64(argv[1] ?? "");
  if (n === null) return NOT_INT;
  if (n < -(2n ** 31n) || n >= 2n ** 31n) return err("ERR value is out of range, value must between -2147483648 and 2147483647");
  if (n < 0n || n >= BigInt(m.dbs.length)) return err("ERR DB index is out of range");
  m.db = Number(n);
  return OK;
}

function flushdb(m: Model): Reply {
  m.data.clear();
  return OK;
}

function flushall(m: Model): Reply {
  for (const d of m.dbs) d.clear();
  return OK;
}

// ---------------------------------------------------------------------------
// Lists

function getList(m: Model, key: string): string[] | null | Reply {
  const e = m.get(key);
  if (e === undefined) return null;
  if (e.v.t !== "list") return WRONGTYPE;
  return e.v.items;
}

function push(head: boolean, onlyIfExists: boolean): Handler {
  return (m, argv) => {
    const key = argv[1] ?? "";
    let items = getList(m, key);
    if (items !== null && !Array.isArray(items)) return items;
    if (items === null) {
      if (onlyIfExists) return int(0);
      items = [];
      m.data.set(key, { v: { t: "list", items }, at: null });
    }
    for (const x of argv.slice(2)) {
      if (head) items.unshift(x);
      else items.push(x);
    }
    return int(items.length);
  };
}

/** Redis's getPositiveLongFromObjectOrReply with its default message. */
function positiveLong(s: string): bigint | null {
  const n = parseI64(s);
  return n === null || n < 0n ? null : n;
}

function pop(head: boolean): Handler {
  return (m, argv) => {
    if (argv.length > 3) return arity(head ? "lpop" : "rpop");
    const hasCount = argv.length === 3;
    const count = hasCount ? positiveLong(argv[2] ?? "") : 0n;
    if (count === null) return MUST_BE_POSITIVE;
    const key = argv[1] ?? "";
    const items = getList(m, key);
    if (items === null) return hasCount ? NULL_ARRAY : NULL;
    if (!Array.isArray(items)) return items;
    if (hasCount && count === 0n) return EMPTY_ARRAY;
    const n = hasCount ? Math.min(Number(count), items.length) : 1;
    const out = head ? items.splice(0, n) : items.splice(items.length - n, n).reverse();
    if (items.length === 0) m.data.delete(key);
    return hasCount ? bulks(out) : bulk(out[0] ?? "");
  };
}

function llen(m: Model, argv: string[]): Reply {
  const items = getList(m, argv[1] ?? "");
  if (items !== null && !Array.isArray(items)) return items;
  return int(items === null ? 0 : items.length);
}

function lrange(m: Model, argv: string[]): Reply {
  const s = parseI64(argv[2] ?? "");
  const e = parseI64(argv[3] ?? "");
  if (s === null || e === null) return NOT_INT;
  const items = getList(m, argv[1] ?? "");
  if (items === null) return EMPTY_ARRAY;
  if (!Array.isArray(items)) return items;
  const len = BigInt(items.length);
  let start = s < 0n ? len + s : s;
  let end = e < 0n ? len + e : e;
  if (start < 0n) start = 0n;
  if (start > end || start >= len) return EMPTY_ARRAY;
  if (end >= len) end = len - 1n;
  return bulks(items.slice(Number(start), Number(end) + 1));
}

function lindex(m: Model, argv: string[]): Reply {
  const items = getList(m, argv[1] ?? "");
  if (items === null) return NULL;
  if (!Array.isArray(items)) return items;
  const i = parseI64(argv[2] ?? "");
  if (i === null) return NOT_INT;
  const idx = i < 0n ? BigInt(items.length) + i : i;
  const v = idx >= 0n && idx < BigInt(items.length) ? items[Number(idx)] : undefined;
  return v === undefined ? NULL : bulk(v);
}

function lset(m: Model, argv: string[]): Reply {
  const items = getList(m, argv[1] ?? "");
  if (items === null) return NO_KEY;
  if (!Array.isArray(items)) return items;
  const i = parseI64(argv[2] ?? "");
  if (i === null) return NOT_INT;
  const idx = i < 0n ? BigInt(items.length) + i : i;
  if (idx < 0n || idx >= BigInt(items.length)) return err("ERR index out of range");
  items[Number(idx)] = argv[3] ?? "";
  return OK;
}

function lrem(m: Model, argv: string[]): Reply {
  const n = parseI64(argv[2] ?? "");
  if (n === null) return NOT_INT;
  const key = argv[1] ?? "";
  const items = getList(m, key);
  if (items === null) return int(0);
  if (!Array.isArray(items)) return items;
  const x = argv[3] ?? "";
  const limit = n < 0n ? -n : n;
  const more = (): boolean => limit === 0n || removed < limit;
  let removed = 0n;
  if (n >= 0n) {
    for (let i = 0; i < items.length && more(); ) {
      if (items[i] === x) {
        items.splice(i, 1);
        removed++;
      } else i++;
    }
  } else {
    for (let i = items.length - 1; i >= 0 && more(); i--) {
      if (items[i] === x) {
        items.splice(i, 1);
        removed++;
      }
    }
  }
  if (items.length === 0) m.data.delete(key);
  return intReply(removed);
}

function ltrim(m: Model, argv: string[]): Reply {
  const s = parseI64(argv[2] ?? "");
  const e = parseI64(argv[3] ?? "");
  if (s === null || e === null) return NOT_INT;
  const key = argv[1] ?? "";
  const items = getList(m, key);
  if (items === null) return OK;
  if (!Array.isArray(items)) return items;
  const len = BigInt(items.length);
  let start = s < 0n ? len + s : s;
  let end = e < 0n ? len + e : e;
  if (start < 0n) start = 0n;
  const kept = start > end || start >= len ? [] : items.slice(Number(start), Number(end >= len ? len - 1n : end) + 1);
  items.splice(0, items.length, ...kept);
  if (items.length === 0) m.data.delete(key);
  return OK;
}

function linsert(m: Model, argv: string[]): Reply {
  const where = (argv[2] ?? "").toLowerCase();
  if (where !== "before" && where !== "after") return SYNTAX;
  const items = getList(m, argv[1] ?? "");
  if (items === null) return int(0);
  if (!Array.isArray(items)) return items;
  const i = items.indexOf(argv[3] ?? "");
  if (i < 0) return int(-1);
  items.splice(where === "before" ? i : i + 1, 0, argv[4] ?? "");
  return int(items.length);
}

/** LMOVE and RPOPLPUSH (Redis's lmoveGenericCommand). */
function lmoveGeneric(m: Model, src: string, dst: string, fromHead: boolean, toHead: boolean): Reply {
  const items = getList(m, src);
  if (items === null) return NULL;
  if (!Array.isArray(items)) return items;
  let target = getList(m, dst);
  if (target !== null && !Array.isArray(target)) return target;
  const v = (fromHead ? items.shift() : items.pop()) ?? "";
  if (target === null) {
    target = [];
    m.data.set(dst, { v: { t: "list", items: target }, at: null });
  }
  if (toHead) target.unshift(v);
  else target.push(v);
  if (items.length === 0) m.data.delete(src);
  return bulk(v);
}

function lmove(m: Model, argv: string[]): Reply {
  const side = (a: string | undefined): boolean | null => {
    const x = (a ?? "").toLowerCase();
    return x === "left" ? true : x === "right" ? false : null;
  };
  const from = side(argv[3]);
  const to = side(argv[4]);
  if (from === null || to === null) return SYNTAX;
  return lmoveGeneric(m, argv[1] ?? "", argv[2] ?? "", from, to);
}

// ---------------------------------------------------------------------------
// Hashes

function getHash(m: Model, key: string): Map<string, string> | null | Reply {
  const e = m.get(key);
  if (e === undefined) return null;
  if (e.v.t !== "hash") return WRONGTYPE;
  return e.v.m;
}

function hashForWrite(m: Model, key: string): Map<string, string> | Reply {
  const h = getHash(m, key);
  if (h instanceof Map) return h;
  if (h !== null) return h;
  const fresh = new Map<string, string>();
  m.data.set(key, { v: { t: "hash", m: fresh }, at: null });
  return fresh;
}

function hset(m: Model, argv: string[]): Reply {
  if (argv.length % 2 === 1) return arity("hset");
  const h = hashForWrite(m, argv[1] ?? "");
  if (!(h instanceof Map)) return h;
  let created = 0;
  for (let j = 2; j < argv.length; j += 2) {
    const f = argv[j] ?? "";
    if (!h.has(f)) created++;
    h.set(f, argv[j + 1] ?? "");
  }
  return int(created);
}

function hget(m: Model, argv: string[]): Reply {
  const h = getHash(m, argv[1] ?? "");
  if (h === null) return NULL;
  if (!(h instanceof Map)) return h;
  const v = h.get(argv[2] ?? "");
  return v === undefined ? NULL : bulk(v);
}

function hdel(m: Model, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const h = getHash(m, key);
  if (h === null) return int(0);
  if (!(h instanceof Map)) return h;
  let n = 0;
  for (const f of argv.slice(2)) if (h.delete(f)) n++;
  if (h.size === 0) m.data.delete(key);
  return int(n);
}

function hlen(m: Model, argv: string[]): Reply {
  const h = getHash(m, argv[1] ?? "");
  if (h !== null && !(h instanceof Map)) return h;
  return int(h === null ? 0 : h.size);
}

function hexists(m: Model, argv: string[]): Reply {
  const h = getHash(m, argv[1] ?? "");
  if (h !== null && !(h instanceof Map)) return h;
  return int(h !== null && h.has(argv[2] ?? "") ? 1 : 0);
}

function hincrby(m: Model, argv: string[]): Reply {
  const incr = parseI64(argv[3] ?? "");
  if (incr === null) return NOT_INT;
  const h = hashForWrite(m, argv[1] ?? "");
  if (!(h instanceof Map)) return h;
  const f = argv[2] ?? "";
  const cur = h.get(f);
  const old = cur === undefined ? 0n : parseI64(cur);
  if (old === null) return err("ERR hash value is not an integer");
  const next = old + incr;
  if (next > I64_MAX || next < I64_MIN) return OVERFLOW;
  h.set(f, next.toString());
  return intReply(next);
}

function hgetall(m: Model, argv: string[]): Reply {
  const h = getHash(m, argv[1] ?? "");
  if (h !== null && !(h instanceof Map)) return h;
  const entries = h === null ? [] : [...h].sort((a, b) => byBytes(a[0], b[0]));
  return map(entries.flatMap(([f, v]) => [bulk(f), bulk(v)]));
}

function hsetnx(m: Model, argv: string[]): Reply {
  const h = hashForWrite(m, argv[1] ?? "");
  if (!(h instanceof Map)) return h;
  const f = argv[2] ?? "";
  if (h.has(f)) return int(0);
  h.set(f, argv[3] ?? "");
  return int(1);
}

function hmget(m: Model, argv: string[]): Reply {
  const h = getHash(m, argv[1] ?? "");
  if (h !== null && !(h instanceof Map)) return h;
  return bulks(argv.slice(2).map((f) => h?.get(f) ?? null));
}

function hstrlen(m: Model, argv: string[]): Reply {
  const h = getHash(m, argv[1] ?? "");
  if (h !== null && !(h instanceof Map)) return h;
  return int(h?.get(argv[2] ?? "")?.length ?? 0);
}

// ---------------------------------------------------------------------------
// Sets

function getSet(m: Model, key: string): Set<string> | null | Reply {
  const e = m.get(key);
  if (e === undefined) return null;
  if (e.v.t !== "set") return WRONGTYPE;
  return e.v.m;
}

function sadd(m: Model, argv: string[]): Reply {
  const key = argv[1] ?? "";
  let s = getSet(m, key);
  if (s !== null && !(s instanceof Set)) return s;
  if (s === null) {
    s = new Set();
    m.data.set(key, { v: { t: "set", m: s }, at: null });
  }
  let n = 0;
  for (const x of argv.slice(2)) {
    if (!s.has(x)) n++;
    s.add(x);
  }
  return int(n);
}

function srem(m: Model, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const s = getSet(m, key);
  if (s === null) return int(0);
  if (!(s instanceof Set)) return s;
  let n = 0;
  for (const x of argv.slice(2)) if (s.delete(x)) n++;
  if (s.size === 0) m.data.delete(key);
  return int(n);
}

function sismember(m: Model, argv: string[]): Reply {
  const s = getSet(m, argv[1] ?? "");
  if (s !== null && !(s instanceof Set)) return s;
  return int(s !== null && s.has(argv[2] ?? "") ? 1 : 0);
}

function scard(m: Model, argv: string[]): Reply {
  const s = getSet(m, argv[1] ?? "");
  if (s !== null && !(s instanceof Set)) return s;
  return int(s === null ? 0 : s.size);
}

function smembers(m: Model, argv: string[]): Reply {
  const s = getSet(m, argv[1] ?? "");
  if (s !== null && !(s instanceof Set)) return s;
  const items = s === null ? [] : [...s].sort(byBytes);
  return { kind: "set", items: items.map(bulk) };
}

// ---------------------------------------------------------------------------
// Sorted sets (the reply shapes that do not depend on the protocol)

/** What C's strtod makes of the score strings the generator uses (null: not a float). */
const SCORE_TEXT: Record<string, number | null> = {
  "1": 1,
  "2": 2,
  "-1": -1,
  "0.5": 0.5,
  "1e1": 10,
  "-0": -0,
  "0x10": 16,
  inf: Infinity,
  "+inf": Infinity,
  "-inf": -Infinity,
  Infinity: Infinity,
  nan: null,
  abc: null,
  "": null,
  " 1": null,
  "1 ": null,
};

function parseScore(s: string): number | null {
  if (!(s in SCORE_TEXT)) throw new Error(`the model does not know the float ${JSON.stringify(s)}`);
  return SCORE_TEXT[s] ?? null;
}

/** Members in rank order: score, then member bytes. */
export function zsetSorted(z: Map<string, number>): [string, number][] {
  return [...z].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : byBytes(a[0], b[0])));
}

export function scoreText(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

function getZset(m: Model, key: string): Map<string, number> | null | Reply {
  const e = m.get(key);
  if (e === undefined) return null;
  if (e.v.t !== "zset") return WRONGTYPE;
  return e.v.m;
}

interface ZaddFlags {
  nx: boolean;
  xx: boolean;
  ch: boolean;
  incr: boolean;
  gt: boolean;
  lt: boolean;
}

function zaddFlags(argv: string[], f: ZaddFlags): number {
  let i = 2;
  for (; i < argv.length; i++) {
    const o = (argv[i] ?? "").toLowerCase();
    if (o === "nx" || o === "xx" || o === "ch" || o === "incr" || o === "gt" || o === "lt") f[o] = true;
    else break;
  }
  return i;
}

/** ZADD and ZINCRBY (Redis's zaddGenericCommand and zsetAdd). */
function zadd(incrby: boolean): Handler {
  return (m, argv) => {
    const f: ZaddFlags = { nx: false, xx: false, ch: false, incr: incrby, gt: false, lt: false };
    const at = incrby ? 2 : zaddFlags(argv, f);
    const rest = argv.slice(at);
    if (rest.length % 2 !== 0 || rest.length === 0) return SYNTAX;
    if (f.nx && f.xx) return err("ERR XX and NX options at the same time are not compatible");
    if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) return err("ERR GT, LT, and/or NX options at the same time are not compatible");
    if (f.incr && rest.length > 2) return err("ERR INCR option supports a single increment-element pair");
    const scores: number[] = [];
    for (let j = 0; j < rest.length; j += 2) {
      const sc = parseScore(rest[j] ?? "");
      if (sc === null) return err("ERR value is not a valid float");
      scores.push(sc);
    }
    const key = argv[1] ?? "";
    let z = getZset(m, key);
    if (z !== null && !(z instanceof Map)) return z;
    let added = 0;
    let updated = 0;
    let processed = 0;
    let last = 0;
    if (z === null) {
      if (f.xx) return f.incr ? NULL : int(0);
      z = new Map();
      m.data.set(key, { v: { t: "zset", m: z }, at: null });
    }
    for (let j = 0; j < scores.length; j++) {
      const ele = rest[j * 2 + 1] ?? "";
      const cur = z.get(ele);
      let sc = scores[j] ?? 0;
      if (cur !== undefined) {
        if (f.nx) continue;
        if (f.incr) sc += cur;
        if (Number.isNaN(sc)) return err("ERR resulting score is not a number (NaN)");
        if ((f.lt && sc >= cur) || (f.gt && sc <= cur)) continue;
        last = sc;
        if (sc !== cur) {
          z.set(ele, sc + 0);
          updated++;
        }
        processed++;
      } else if (!f.xx) {
        // Redis hands -0 back as 0 once stored; the reply shows the computed value.
        z.set(ele, sc + 0);
        last = sc;
        added++;
        processed++;
      }
    }
    if (f.incr) return processed > 0 ? double(last) : NULL;
    return int(f.ch ? added + updated : added);
  };
}

function zrem(m: Model, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const z = getZset(m, key);
  if (z === null) return int(0);
  if (!(z instanceof Map)) return z;
  let n = 0;
  for (const x of argv.slice(2)) if (z.delete(x)) n++;
  if (z.size === 0) m.data.delete(key);
  return int(n);
}

function zcard(m: Model, argv: string[]): Reply {
  const z = getZset(m, argv[1] ?? "");
  if (z !== null && !(z instanceof Map)) return z;
  return int(z === null ? 0 : z.size);
}

function zscore(m: Model, argv: string[]): Reply {
  const z = getZset(m, argv[1] ?? "");
  if (z === null) return NULL;
  if (!(z instanceof Map)) return z;
  const sc = z.get(argv[2] ?? "");
  return sc === undefined ? NULL : double(sc);
}

function zrank(reverse: boolean): Handler {
  return (m, argv) => {
    const z = getZset(m, argv[1] ?? "");
    if (z === null) return NULL;
    if (!(z instanceof Map)) return z;
    const order = zsetSorted(z).map(([x]) => x);
    if (reverse) order.reverse();
    const i = order.indexOf(argv[2] ?? "");
    return i < 0 ? NULL : int(i);
  };
}

/** A ZCOUNT bound: "(" makes it exclusive; read with a bare strtod (leading blanks, "" is 0). */
function zbound(s: string): { v: number; ex: boolean } | null {
  const ex = s.startsWith("(");
  const text = (ex ? s.slice(1) : s).replace(/^[ \t\n\v\f\r]+/, "");
  const v = text === "" ? 0 : parseScore(text);
  return v === null ? null : { v, ex };
}

function zcount(m: Model, argv: string[]): Reply {
  const min = zbound(argv[2] ?? "");
  const max = zbound(argv[3] ?? "");
  if (min === null || max === null) return err("ERR min or max is not a float");
  const z = getZset(m, argv[1] ?? "");
  if (z === null) return int(0);
  if (!(z instanceof Map)) return z;
  let n = 0;
  for (const sc of z.values()) {
    const aboveMin = min.ex ? sc > min.v : sc >= min.v;
    const belowMax = max.ex ? sc < max.v : sc <= max.v;
    if (aboveMin && belowMax) n++;
  }
  return int(n);
}

/** ZRANGE key start stop [REV] (by rank only). */
function zrange(m: Model, argv: string[]): Reply {
  let rev = false;
  for (const opt of argv.slice(4)) {
    if (opt.toLowerCase() === "rev" && !rev) rev = true;
    else return SYNTAX;
  }
  const s = parseI64(argv[2] ?? "");
  const e = parseI64(argv[3] ?? "");
  if (s === null || e === null) return NOT_INT;
  const z = getZset(m, argv[1] ?? "");
  if (z === null) return EMPTY_ARRAY;
  if (!(z instanceof Map)) return z;
  const order = zsetSorted(z).map(([x]) => x);
  if (rev) order.reverse();
  const len = BigInt(order.length);
  let start = s < 0n ? len + s : s;
  let end = e < 0n ? len + e : e;
  if (start < 0n) start = 0n;
  if (start > end || start >= len) return EMPTY_ARRAY;
  if (end >= len) end = len - 1n;
  return bulks(order.slice(Number(start), Number(end) + 1));
}

const HANDLERS = new Map<string, Handler>([
  ["get", get],
  ["set", set],
  ["setnx", setnx],
  ["setex", setex("ex", "setex")],
  ["psetex", setex("px", "psetex")],
  ["getset", getset],
  ["getdel", getdel],
  ["getex", getex],
  ["mset", mset(false)],
  ["msetnx", mset(true)],
  ["mget", mget],
  ["incr", (m, a) => incrBy(m, a[1] ?? "", 1n)],
  ["decr", (m, a) => incrBy(m, a[1] ?? "", -1n)],
  ["incrby", incrByArg(1n)],
  ["decrby", incrByArg(-1n)],
  ["append", append],
  ["strlen", strlen],
  ["del", del],
  ["unlink", del],
  ["exists", exists],
  ["type", type],
  ["expire", expire(true, true, "expire")],
  ["pexpire", expire(true, false, "pexpire")],
  ["expireat", expire(false, true, "expireat")],
  ["pexpireat", expire(false, false, "pexpireat")],
  ["ttl", ttl(false, false)],
  ["pttl", ttl(true, false)],
  ["expiretime", ttl(false, true)],
  ["pexpiretime", ttl(true, true)],
  ["persist", persist],
  ["rename", rename(false)],
  ["renamenx", rename(true)],
  ["select", select],
  ["flushdb", flushdb],
  ["flushall", flushall],
  ["lpush", push(true, false)],
  ["rpush", push(false, false)],
  ["lpushx", push(true, true)],
  ["rpushx", push(false, true)],
  ["lpop", pop(true)],
  ["rpop", pop(false)],
  ["llen", llen],
  ["lrange", lrange],
  ["lindex", lindex],
  ["lset", lset],
  ["lrem", lrem],
  ["ltrim", ltrim],
  ["linsert", linsert],
  ["lmove", lmove],
  ["rpoplpush", (m, a) => lmoveGeneric(m, a[1] ?? "", a[2] ?? "", false, true)],
  ["hsetnx", hsetnx],
  ["hmget", hmget],
  ["hstrlen", hstrlen],
  ["getrange", getrange],
  ["substr", getrange],
  ["setrange", setrange],
  ["move", move],
  ["copy", copy],
  ["swapdb", swapdb],
  ["touch", touch],
  ["keys", keys],
  ["hset", hset],
  ["hget", hget],
  ["hdel", hdel],
  ["hlen", hlen],
  ["hexists", hexists],
  ["hincrby", hincrby],
  ["hgetall", hgetall],
  ["sadd", sadd],
  ["srem", srem],
  ["sismember", sismember],
  ["scard", scard],
  ["smembers", smembers],
  ["zadd", zadd(false)],
  ["zincrby", zadd(true)],
  ["zrem", zrem],
  ["zcard", zcard],
  ["zscore", zscore],
  ["zrank", zrank(false)],
  ["zrevrank", zrank(true)],
  ["zcount", zcount],
  ["zrange", zrange],
]);

/** The model's logical state of every db, in a canonical form for comparison. */
export function modelState(m: Model): string {
  const out: unknown[] = [];
  m.purge();
  m.dbs.forEach((d, i) => {
    if (d.size === 0) return;
    const keys = [...d.keys()].sort(byBytes);
    out.push([
      i,
      keys.map((k) => {
        const e = d.get(k);
        if (e === undefined) return null;
        return [k, plainOf(e.v), e.at === null ? null : Number(e.at)];
      }),
    ]);
  });
  return JSON.stringify(out);
}

function plainOf(v: MValue): unknown {
  switch (v.t) {
    case "string":
      return ["string", v.s];
    case "list":
      return ["list", v.items];
    case "hash":
      return ["hash", [...v.m].sort((a, b) => byBytes(a[0], b[0]))];
    case "set":
      return ["set", [...v.m].sort(byBytes)];
    case "zset":
      return ["zset", zsetSorted(v.m).map(([m, sc]) => [m, scoreText(sc)])];
    default: {
      const never: never = v;
      throw new Error(`unexpected ${JSON.stringify(never)}`);
    }
  }
}
