import fc from "fast-check";
import t from "tap";
import { encodeReply } from "../../resp/encoder";
import { bulk, bulks, err, int, map, NULL, OK, type Reply } from "../../resp/reply";
import { Engine } from "../engine";
import { HashObject } from "../types/hash";
import { formatLongDouble, parseLongDouble } from "./hash";

const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");

function wire(r: Reply): string {
  return encodeReply(r, 2).toString("latin1") + " | " + encodeReply(r, 3).toString("latin1");
}

/** Key -> field map (hash) or string: a naive model on JS Maps. */
type Model = Map<string, Map<string, string> | string>;

/** Values the model can do float math on: integers or at most two decimals, in hundredths. */
function hundredths(s: string): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2] ?? "0") * 100n + BigInt((m[3] ?? "").padEnd(2, "0"));
  return m[1] === "-" ? -v : v;
}

function fromHundredths(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const frac = (a % 100n).toString().padStart(2, "0").replace(/0+$/, "");
  const s = (a / 100n).toString() + (frac === "" ? "" : `.${frac}`);
  return neg && s !== "0" ? `-${s}` : s;
}

function modelHash(m: Model, key: string): Map<string, string> | undefined | Reply {
  const v = m.get(key);
  if (typeof v === "string") return WRONGTYPE;
  return v;
}

function isHash(x: Map<string, string> | undefined | Reply): x is Map<string, string> {
  return x instanceof Map;
}

function modelRead(h: Map<string, string> | undefined, a: string[]): Reply {
  const f = a[2] ?? "";
  switch (a[0]) {
    case "HGET":
      return h?.has(f) === true ? bulk(h.get(f) ?? "") : NULL;
    case "HMGET":
      return bulks(a.slice(2).map((x) => h?.get(x) ?? null));
    case "HLEN":
      return int(h?.size ?? 0);
    case "HSTRLEN":
      return int(h?.get(f)?.length ?? 0);
    case "HEXISTS":
      return int(h?.has(f) === true ? 1 : 0);
    case "HKEYS":
      return bulks([...(h?.keys() ?? [])]);
    case "HVALS":
      return bulks([...(h?.values() ?? [])]);
    default:
      return map([...(h ?? new Map<string, string>())].flat().map(bulk));
  }
}

function modelIncr(m: Model, h: Map<string, string> | undefined, a: string[]): Reply {
  const [cmd, key = "", f = "", by = ""] = a;
  const old = h?.get(f) ?? "0";
  let next: string;
  if (cmd === "HINCRBY") {
    if (!/^(0|-?[1-9]\d*)$/.test(old)) return err("ERR hash value is not an integer");
    next = (BigInt(old) + BigInt(by)).toString();
  } else {
    const o = hundredths(old);
    if (o === null) return err("ERR hash value is not a float");
    next = fromHundredths(o + (hundredths(by) ?? 0n));
  }
  const target = h ?? new Map<string, string>();
  target.set(f, next);
  m.set(key, target);
  return cmd === "HINCRBY" ? int(Number(next)) : bulk(next);
}

function modelWrite(m: Model, h: Map<string, string> | undefined, a: string[]): Reply {
  const key = a[1] ?? "";
  const target = h ?? new Map<string, string>();
  switch (a[0]) {
    case "HSET":
    case "HMSET": {
      let created = 0;
      for (let i = 2; i + 1 < a.length; i += 2) {
        if (!target.has(a[i] ?? "")) created++;
        target.set(a[i] ?? "", a[i + 1] ?? "");
      }
      m.set(key, target);
      return a[0] === "HSET" ? int(created) : OK;
    }
    case "HSETNX":
      if (target.has(a[2] ?? "")) return int(0);
      target.set(a[2] ?? "", a[3] ?? "");
      m.set(key, target);
      return int(1);
    default: {
      let n = 0;
      for (const f of a.slice(2)) if (target.delete(f)) n++;
      if (target.size === 0) m.delete(key);
      return int(n);
    }
  }
}

function modelExec(m: Model, a: string[]): Reply {
  if (a[0] === "SET") {
    m.set(a[1] ?? "", a[2] ?? "");
    return OK;
  }
  const h = modelHash(m, a[1] ?? "");
  if (h !== undefined && !isHash(h)) return h;
  switch (a[0]) {
    case "HSET":
    case "HMSET":
    case "HSETNX":
    case "HDEL":
      return modelWrite(m, h, a);
    case "HINCRBY":
    case "HINCRBYFLOAT":
      return modelIncr(m, h, a);
    default:
      return modelRead(h, a);
  }
}

const key = fc.constantFrom("h1", "h2", "h3");
const field = fc.constantFrom("f", "g", "n", "", "\xff\x00");
const value = fc.constantFrom("1", "-3", "2.5", "x", "", "10.75");
const pairs = fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 3 }).map((ps) => ps.flat());

const commandArb: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom("HSET", "HMSET"), key, pairs).map(([c, k, p]) => [c, k, ...p]),
  fc.tuple(key, field, value).map(([k, f, v]) => ["HSETNX", k, f, v]),
  fc.tuple(fc.constantFrom("HGET", "HSTRLEN", "HEXISTS"), key, field).map(([c, k, f]) => [c, k, f]),
  fc.tuple(key, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, fs]) => ["HMGET", k, ...fs]),
  fc.tuple(key, fc.array(field, { minLength: 1, maxLength: 3 })).map(([k, fs]) => ["HDEL", k, ...fs]),
  fc.tuple(fc.constantFrom("HLEN", "HKEYS", "HVALS", "HGETALL"), key).map(([c, k]) => [c, k]),
  fc.tuple(key, field, fc.integer({ min: -5, max: 5 })).map(([k, f, n]) => ["HINCRBY", k, f, String(n)]),
  fc.tuple(key, field, fc.constantFrom("1.25", "-0.5", "3", "0.05", "-2.75")).map(([k, f, n]) => ["HINCRBYFLOAT", k, f, n]),
  fc.tuple(key, value).map(([k, v]) => ["SET", k, v]),
);

function dump(e: Engine): [string, [string, string][] | string][] {
  const out: [string, [string, string][] | string][] = [];
  for (const [k, v] of e.db(0).data) out.push([k, typeof v === "string" ? v : v.kind === "hash" ? v.entries() : `<${v.kind}>`]);
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

function dumpModel(m: Model): [string, [string, string][] | string][] {
  const out: [string, [string, string][] | string][] = [];
  for (const [k, v] of m) out.push([k, typeof v === "string" ? v : [...v]]);
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

t.test("hash commands match a naive Map model, and effects rebuild the same data", async (t) => {
  fc.assert(
    fc.property(fc.array(commandArb, { maxLength: 80, size: "max" }), (cmds) => {
      const primary = new Engine({ clock: () => 1_000_000 });
      const replica = new Engine({ clock: () => 1_000_000 });
      const model: Model = new Map();
      for (const argv of cmds) {
        const { reply, effects } = primary.execute(argv);
        const expected = modelExec(model, argv);
        if (wire(reply) !== wire(expected)) throw new Error(`${argv.join(" ")}: got ${wire(reply)} want ${wire(expected)}`);
        replica.apply(effects);
      }
      t.same(dump(primary), dumpModel(model));
      t.same(dump(replica), dumpModel(model));
    }),
    { numRuns: 300 },
  );
});

t.test("HSCAN returns every field present for the whole scan, whatever changes in between", async (t) => {
  const change = fc.oneof(
    fc.record({ add: fc.integer({ min: 0, max: 399 }) }),
    fc.record({ del: fc.integer({ min: 0, max: 399 }) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 20 }), fc.array(fc.array(change, { maxLength: 30 }), { maxLength: 200, size: "max" }), (initial, count, rounds) => {
      const e = new Engine();
      e.config.set("hash-max-listpack-entries", "0");
      for (let i = 0; i < initial; i++) e.execute(["HSET", "h", `f${i}`, "v"]);
      const alwaysThere = new Set<string>();
      for (let i = 0; i < initial; i++) alwaysThere.add(`f${i}`);
      const seen = new Set<string>();
      let cursor = "0";
      for (let call = 0; call < 1000; call++) {
        const r = e.execute(["HSCAN", "h", cursor, "COUNT", String(count)]).reply;
        if (r.kind !== "array") return; // the hash was deleted: nothing left to check
        const [c, items] = r.items;
        cursor = c?.kind === "bulk" ? c.value : "0";
        if (items?.kind === "bulks") for (let i = 0; i < items.values.length; i += 2) seen.add(items.values[i] ?? "");
        if (cursor === "0") break;
        for (const ch of rounds[call] ?? []) {
          if ("add" in ch) e.execute(["HSET", "h", `f${ch.add}`, "w"]);
          else {
            e.execute(["HDEL", "h", `f${ch.del}`]);
            alwaysThere.delete(`f${ch.del}`);
          }
        }
      }
      t.equal(cursor, "0", "the scan ends");
      for (const f of alwaysThere) if (!seen.has(f)) throw new Error(`HSCAN missed ${f}`);
    }),
    { numRuns: 100 },
  );
});

function run(e: Engine, ...argv: string[]): Reply {
  return e.execute(argv).reply;
}

t.test("HINCRBYFLOAT: exact decimal results, Redis's errors, replicated as HSET", async (t) => {
  const e = new Engine();
  t.same(run(e, "HINCRBYFLOAT", "h", "f", "1.23"), bulk("1.23"));
  t.same(run(e, "HINCRBYFLOAT", "h", "f", "0.77"), bulk("2"));
  t.same(run(e, "HINCRBYFLOAT", "h", "f", "-0.1"), bulk("1.9"));
  t.same(e.execute(["HINCRBYFLOAT", "h", "f", "1e2"]).effects, [{ db: 0, argv: ["HSET", "h", "f", "101.9"] }]);
  t.same(run(e, "HINCRBYFLOAT", "h", "g", "0.1234567890123456789"), bulk("0.12345678901234568"));
  t.same(run(e, "HINCRBYFLOAT", "h", "f", "+inf"), err("ERR value is NaN or Infinity"));
  t.same(run(e, "HINCRBYFLOAT", "h", "f", "nan"), err("ERR value is not a valid float"));
  t.same(run(e, "HINCRBYFLOAT", "h", "f", " 1"), err("ERR value is not a valid float"));
  run(e, "HSET", "h", "s", " 11", "z", "1\x002");
  t.same(run(e, "HINCRBYFLOAT", "h", "s", "1"), err("ERR hash value is not a float"));
  t.same(run(e, "HINCRBYFLOAT", "h", "z", "1"), err("ERR hash value is not a float"));
  t.same(run(e, "HINCRBYFLOAT", "h", "f", "1e4933"), err("ERR value is not a valid float"));
  t.same(run(e, "HINCRBYFLOAT", "h", "f", "-101.9"), bulk("0"));
  t.same(run(e, "HINCRBYFLOAT", "nokey", "f", "inf"), err("ERR value is NaN or Infinity"));
  t.equal(e.db(0).data.has("nokey"), false);
});

t.test("decimal helpers round to 17 places and strip zeros", async (t) => {
  const fmt = (s: string): string => {
    const d = parseLongDouble(s);
    return d === null ? "null" : formatLongDouble(d);
  };
  t.equal(fmt("1.50000"), "1.5");
  t.equal(fmt("-0.000"), "0");
  t.equal(fmt("1e-18"), "0");
  t.equal(fmt("-1e-18"), "0");
  t.equal(fmt("5e-18"), "0", "half to even");
  t.equal(fmt("1.5e-17"), "0.00000000000000002");
  t.equal(fmt("12e3"), "12000");
  t.equal(fmt(".5"), "0.5");
  t.equal(fmt("5."), "5");
  t.equal(fmt("."), "null");
  t.equal(fmt("0x10"), "16");
});

t.test("HINCRBY: overflow and non-integers", async (t) => {
  const e = new Engine();
  run(e, "HSET", "h", "big", "9223372036854775806", "s", " 1");
  t.same(run(e, "HINCRBY", "h", "big", "1"), int(9223372036854775807n));
  t.same(run(e, "HINCRBY", "h", "big", "1"), err("ERR increment or decrement would overflow"));
  t.same(run(e, "HINCRBY", "h", "s", "1"), err("ERR hash value is not an integer"));
  t.same(run(e, "HINCRBY", "h", "s", "x"), err("ERR value is not an integer or out of range"));
  t.same(run(e, "HINCRBY", "h", "new", "-9223372036854775808"), int(-9223372036854775808n));
});

t.test("argument errors and wrong types", async (t) => {
  const e = new Engine();
  t.same(run(e, "HSET", "h", "a", "1", "b"), err("ERR wrong number of arguments for 'hset' command"));
  t.same(run(e, "HMSET", "h", "a", "1", "b"), err("ERR wrong number of arguments for 'hmset' command"));
  run(e, "SET", "s", "x");
  for (const c of [["HGET", "s", "f"], ["HMGET", "s", "f"], ["HSET", "s", "f", "v"], ["HGETALL", "s"], ["HRANDFIELD", "s"], ["HSCAN", "s", "0"]]) {
    t.same(run(e, ...c), WRONGTYPE, c[0] ?? "");
  }
  t.same(run(e, "HSCAN", "h", "x"), err("ERR invalid cursor"));
  run(e, "HSET", "h", "a", "1");
  t.same(run(e, "HSCAN", "h", "0", "COUNT", "0"), err("ERR syntax error"));
  t.same(run(e, "HSCAN", "h", "0", "COUNT"), err("ERR syntax error"));
  t.same(run(e, "HSCAN", "h", "0", "TYPE", "string"), err("ERR syntax error"));
  t.same(run(e, "HRANDFIELD", "h", "1", "WITHSCORES"), err("ERR syntax error"));
  t.same(run(e, "HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES"), err("ERR value is out of range"));
  t.match(run(e, "HRANDFIELD", "h", "-9223372036854775808"), { kind: "error", message: /value is out of range/ });
});

t.test("HRANDFIELD: distinct fields for positive counts, repeats for negative, RESP3 pairs", async (t) => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const e = new Engine({ random });
  const fields: string[] = [];
  for (let i = 0; i < 10; i++) fields.push(`f${i}`, `v${i}`);
  run(e, "HSET", "h", ...fields);
  for (const n of [2, 8, 10, 20]) {
    const r = run(e, "HRANDFIELD", "h", String(n));
    const got = r.kind === "bulks" ? r.values : [];
    t.equal(got.length, Math.min(n, 10), `count ${n}`);
    t.equal(new Set(got).size, got.length, `count ${n} gives distinct fields`);
  }
  const neg = run(e, "HRANDFIELD", "h", "-50", "WITHVALUES");
  const flat = neg.kind === "bulks" ? neg.values : [];
  t.equal(flat.length, 100);
  for (let i = 0; i < flat.length; i += 2) t.equal(`v${(flat[i] ?? "").slice(1)}`, flat[i + 1]);
  const s3 = e.newSession();
  s3.resp = 3;
  const r3 = e.execute(["HRANDFIELD", "h", "3", "WITHVALUES"], s3).reply;
  t.equal(r3.kind === "array" ? r3.items.length : -1, 3);
  t.same(run(e, "HRANDFIELD", "h", "0"), bulks([]));
  t.same(run(e, "HRANDFIELD", "nokey", "5"), bulks([]));
  t.same(run(e, "HRANDFIELD", "nokey"), NULL);
  const one = run(e, "HRANDFIELD", "h");
  t.ok(one.kind === "bulk" && fields.includes(one.value), "no count: one field");
  t.same(e.execute(["HRANDFIELD", "h", "-5"]).effects, [], "a read: no effects");
});

t.test("HGETALL is a map: RESP3 %, RESP2 flat array", async (t) => {
  const e = new Engine();
  run(e, "HSET", "h", "a", "1");
  const r = run(e, "HGETALL", "h");
  t.equal(encodeReply(r, 3).toString(), "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
  t.equal(encodeReply(r, 2).toString(), "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
  t.equal(encodeReply(run(e, "HGETALL", "none"), 3).toString(), "%0\r\n");
});

t.test("HashObject keeps order through deletes and compaction", async (t) => {
  const h = new HashObject();
  for (let i = 0; i < 100; i++) h.set(`f${i}`, String(i));
  for (let i = 0; i < 90; i++) h.delete(`f${i}`);
  h.set("f5", "again");
  t.same(h.keys(), ["f90", "f91", "f92", "f93", "f94", "f95", "f96", "f97", "f98", "f99", "f5"]);
  t.same(HashObject.fromEntries(h.entries()).entries(), h.entries());
  t.equal(h.clone().length, 11);
});
