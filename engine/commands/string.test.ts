// String commands: golden replies and effects for every rewrite, Redis's edge
// cases, INCRBYFLOAT's long double arithmetic, and properties against models.
import fc from "fast-check";
import t from "tap";
import { array, bulk, bulks, err, int, map, NULL, OK, type Reply } from "../../resp/reply";
import { encodeReply } from "../../resp/encoder";
import { Engine } from "../engine";
import { HashObject } from "../types/hash";
import { addLongDouble, formatLongDouble, parseLongDouble } from "./string";

const NOW_MS = 1_700_000_000_000;
const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");
const NOT_INT = err("ERR value is not an integer or out of range");

function engineAt(nowMs = NOW_MS): Engine {
  return new Engine({ clock: () => nowMs });
}

/** A reply as RESP2 bytes, so int(5) and int(5n) compare equal. */
function wire(r: Reply): string {
  return encodeReply(r, 2).toString("latin1");
}

function run(e: Engine, ...argv: string[]): Reply {
  return e.execute(argv).reply;
}

/** Runs `argv` and returns its reply and its effects' argvs. */
function exec(e: Engine, ...argv: string[]): { reply: Reply; effects: string[][] } {
  const r = e.execute(argv);
  return { reply: r.reply, effects: r.effects.map((x) => [...x.argv]) };
}

interface Golden {
  readonly name: string;
  readonly setup: readonly string[][];
  readonly cmd: readonly string[];
  readonly reply: Reply;
  readonly effects: readonly string[][];
}

const IN_10S = String(NOW_MS + 10_000);
const GOLDEN: readonly Golden[] = [
  { name: "SET EX -> SET PXAT", setup: [], cmd: ["SET", "k", "v", "EX", "10"], reply: OK, effects: [["SET", "k", "v", "PXAT", IN_10S]] },
  { name: "SET PX -> SET PXAT", setup: [], cmd: ["set", "k", "v", "px", "10000"], reply: OK, effects: [["SET", "k", "v", "PXAT", IN_10S]] },
  { name: "SET EXAT -> SET PXAT", setup: [], cmd: ["SET", "k", "v", "EXAT", String(NOW_MS / 1000 + 10)], reply: OK, effects: [["SET", "k", "v", "PXAT", IN_10S]] },
  { name: "SET past PXAT -> DEL", setup: [["SET", "k", "old"]], cmd: ["SET", "k", "v", "PXAT", String(NOW_MS - 1)], reply: OK, effects: [["DEL", "k"]] },
  { name: "SET past PXAT on a missing key: nothing", setup: [], cmd: ["SET", "k", "v", "PXAT", "1"], reply: OK, effects: [] },
  { name: "SET GET drops GET", setup: [["SET", "k", "a"]], cmd: ["SET", "k", "b", "GET"], reply: bulk("a"), effects: [["SET", "k", "b"]] },
  { name: "SET KEEPTTL", setup: [["SET", "k", "a"]], cmd: ["SET", "k", "b", "KEEPTTL"], reply: OK, effects: [["SET", "k", "b", "KEEPTTL"]] },
  { name: "SET NX refused: no effect", setup: [["SET", "k", "a"]], cmd: ["SET", "k", "b", "NX"], reply: NULL, effects: [] },
  { name: "SET XX GET on a missing key", setup: [], cmd: ["SET", "k", "b", "XX", "GET"], reply: NULL, effects: [] },
  { name: "SETNX -> SET", setup: [], cmd: ["SETNX", "k", "v"], reply: int(1), effects: [["SET", "k", "v"]] },
  { name: "SETNX refused", setup: [["SET", "k", "a"]], cmd: ["SETNX", "k", "v"], reply: int(0), effects: [] },
  { name: "SETEX -> SET PXAT", setup: [], cmd: ["SETEX", "k", "10", "v"], reply: OK, effects: [["SET", "k", "v", "PXAT", IN_10S]] },
  { name: "PSETEX -> SET PXAT", setup: [], cmd: ["PSETEX", "k", "10000", "v"], reply: OK, effects: [["SET", "k", "v", "PXAT", IN_10S]] },
  { name: "GETSET -> SET", setup: [["SET", "k", "a"]], cmd: ["GETSET", "k", "b"], reply: bulk("a"), effects: [["SET", "k", "b"]] },
  { name: "GETDEL -> DEL", setup: [["SET", "k", "a"]], cmd: ["GETDEL", "k"], reply: bulk("a"), effects: [["DEL", "k"]] },
  { name: "GETDEL missing", setup: [], cmd: ["GETDEL", "k"], reply: NULL, effects: [] },
  { name: "GETEX EX -> PEXPIREAT", setup: [["SET", "k", "a"]], cmd: ["GETEX", "k", "EX", "10"], reply: bulk("a"), effects: [["PEXPIREAT", "k", IN_10S]] },
  { name: "GETEX PXAT past -> DEL", setup: [["SET", "k", "a"]], cmd: ["GETEX", "k", "PXAT", "1"], reply: bulk("a"), effects: [["DEL", "k"]] },
  { name: "GETEX PERSIST -> PERSIST", setup: [["SET", "k", "a", "EX", "5"]], cmd: ["GETEX", "k", "PERSIST"], reply: bulk("a"), effects: [["PERSIST", "k"]] },
  { name: "GETEX PERSIST without TTL: nothing", setup: [["SET", "k", "a"]], cmd: ["GETEX", "k", "PERSIST"], reply: bulk("a"), effects: [] },
  { name: "GETEX alone: nothing", setup: [["SET", "k", "a"]], cmd: ["GETEX", "k"], reply: bulk("a"), effects: [] },
  { name: "INCRBYFLOAT -> SET KEEPTTL", setup: [["SET", "k", "10.5"]], cmd: ["INCRBYFLOAT", "k", "0.1"], reply: bulk("10.6"), effects: [["SET", "k", "10.6", "KEEPTTL"]] },
  { name: "INCR verbatim", setup: [], cmd: ["INCR", "n"], reply: int(1), effects: [["INCR", "n"]] },
  { name: "DECRBY verbatim", setup: [["SET", "n", "5"]], cmd: ["DECRBY", "n", "7"], reply: int(-2), effects: [["DECRBY", "n", "7"]] },
  { name: "APPEND verbatim", setup: [["SET", "k", "ab"]], cmd: ["APPEND", "k", "cd"], reply: int(4), effects: [["APPEND", "k", "cd"]] },
  { name: "SETRANGE verbatim", setup: [], cmd: ["SETRANGE", "k", "2", "x"], reply: int(3), effects: [["SETRANGE", "k", "2", "x"]] },
  { name: "SETRANGE empty: no effect", setup: [["SET", "k", "abc"]], cmd: ["SETRANGE", "k", "9", ""], reply: int(3), effects: [] },
  { name: "MSET verbatim", setup: [], cmd: ["MSET", "a", "1", "b", "2"], reply: OK, effects: [["MSET", "a", "1", "b", "2"]] },
  { name: "MSETNX refused", setup: [["SET", "b", "x"]], cmd: ["MSETNX", "a", "1", "b", "2"], reply: int(0), effects: [] },
  { name: "INCR error: no effect", setup: [["SET", "n", "x"]], cmd: ["INCR", "n"], reply: NOT_INT, effects: [] },
];

t.test("golden replies and effects", async (t) => {
  for (const g of GOLDEN) {
    const e = engineAt();
    for (const s of g.setup) e.execute(s);
    const r = exec(e, ...g.cmd);
    t.same(r.reply, g.reply, `${g.name}: reply`);
    t.same(r.effects, g.effects, `${g.name}: effects`);
  }
});

t.test("a key read after its TTL is deleted with a DEL effect before the write", async (t) => {
  let now = NOW_MS;
  const e = new Engine({ clock: () => now });
  e.execute(["SET", "n", "5", "PX", "100"]);
  now += 200;
  t.same(exec(e, "INCR", "n"), { reply: int(1), effects: [["DEL", "n"], ["INCR", "n"]] });
});

t.test("SET option syntax and expire errors, in Redis's order", async (t) => {
  const e = engineAt();
  const syntax = err("ERR syntax error");
  t.same(run(e, "SET", "k", "v", "NX", "XX"), syntax);
  t.same(run(e, "SET", "k", "v", "EX", "10", "PX", "10"), syntax);
  t.same(run(e, "SET", "k", "v", "KEEPTTL", "EX", "10"), syntax);
  t.same(run(e, "SET", "k", "v", "EX"), syntax);
  t.same(run(e, "SET", "k", "v", "PERSIST"), syntax);
  t.same(run(e, "SET", "k", "v", "constructor", "1"), syntax);
  t.same(run(e, "GETEX", "k", "__proto__", "1"), syntax);
  // The syntax is checked before the expire value.
  t.same(run(e, "SET", "k", "v", "EX", "abc", "bogus"), syntax);
  t.same(run(e, "SET", "k", "v", "EX", "abc"), NOT_INT);
  t.same(run(e, "SET", "k", "v", "EX", "0"), err("ERR invalid expire time in 'set' command"));
  t.same(run(e, "SET", "k", "v", "EX", "10000000000000000"), err("ERR invalid expire time in 'set' command"));
  t.same(run(e, "SET", "k", "v", "PX", "9223372036854770000"), err("ERR invalid expire time in 'set' command"));
  t.same(run(e, "SETEX", "k", "-10", "v"), err("ERR invalid expire time in 'setex' command"));
  t.same(run(e, "PSETEX", "k", "0", "v"), err("ERR invalid expire time in 'psetex' command"));
  t.same(run(e, "GETEX", "k", "PERSIST", "EX", "1"), syntax);
  // GETEX on a missing key answers nil before validating the expire.
  t.same(run(e, "GETEX", "nokey", "EX", "-1"), NULL);
  run(e, "SET", "k", "v");
  t.same(run(e, "GETEX", "k", "EX", "-1"), err("ERR invalid expire time in 'getex' command"));
  t.same(run(e, "MSET", "a", "1", "b"), err("ERR wrong number of arguments for 'mset' command"));
});

t.test("a PXAT beyond 2^53 is kept and replicates as a valid int64", async (t) => {
  const e = engineAt();
  const r = exec(e, "SET", "k", "v", "PXAT", "9223372036854770000");
  t.same(r.reply, OK);
  const pxat = r.effects[0]?.[4] ?? "";
  t.ok(BigInt(pxat) <= 9223372036854775807n && BigInt(pxat) > 9223372036854000000n, pxat);
  const replica = new Engine({ role: "replica", clock: () => NOW_MS });
  replica.apply(e.execute(["SET", "j", "v", "PXAT", pxat]).effects);
  t.same(run(replica, "GET", "j"), bulk("v"));
});

t.test("WRONGTYPE and type rules", async (t) => {
  const e = engineAt();
  const db = e.db(0);
  db.data.set("h", HashObject.fromEntries([["f", "v"]]));
  for (const cmd of [["GET", "h"], ["INCR", "h"], ["APPEND", "h", "x"], ["SETRANGE", "h", "0", "x"], ["GETRANGE", "h", "0", "1"], ["STRLEN", "h"], ["GETDEL", "h"], ["GETEX", "h"], ["GETSET", "h", "x"], ["INCRBYFLOAT", "h", "1"], ["SET", "h", "x", "GET"]]) {
    t.same(run(e, ...cmd), WRONGTYPE, cmd.join(" "));
  }
  t.same(run(e, "MGET", "h", "nokey"), bulks([null, null]));
  t.same(run(e, "SET", "h", "x"), OK, "plain SET overwrites any type");
  // INCRBY parses its increment before looking at the key.
  db.data.set("h", HashObject.fromEntries([["f", "v"]]));
  t.same(run(e, "INCRBY", "h", "x"), NOT_INT);
});

t.test("counters follow int64 exactly", async (t) => {
  const e = engineAt();
  run(e, "SET", "n", "9223372036854775806");
  t.same(run(e, "INCR", "n"), int(9223372036854775807n));
  t.same(run(e, "INCR", "n"), err("ERR increment or decrement would overflow"));
  t.same(run(e, "GET", "n"), bulk("9223372036854775807"));
  run(e, "SET", "n", "0");
  t.same(run(e, "DECRBY", "n", "-9223372036854775808"), err("ERR decrement would overflow"));
  t.same(run(e, "INCRBY", "n", "-9223372036854775808"), int(-9223372036854775808n));
  t.same(run(e, "DECR", "n"), err("ERR increment or decrement would overflow"));
  for (const bad of [" 1", "1 ", "01", "+1", "-0", "1.0", "", "99999999999999999999"]) {
    run(e, "SET", "n", bad);
    t.same(run(e, "INCR", "n"), NOT_INT, JSON.stringify(bad));
  }
  run(e, "SET", "n", "9007199254740991");
  t.same(run(e, "INCR", "n"), int(9007199254740992n));
  t.same(run(e, "GET", "n"), bulk("9007199254740992"));
});

t.test("counters keep the key's TTL", async (t) => {
  const e = engineAt();
  run(e, "SET", "n", "1", "EX", "100");
  run(e, "INCR", "n");
  run(e, "INCRBYFLOAT", "n", "1.5");
  run(e, "APPEND", "n", "0");
  run(e, "SETRANGE", "n", "0", "4");
  t.equal(e.db(0).expires.get("n"), NOW_MS + 100_000);
  run(e, "GETSET", "n", "x");
  t.equal(e.db(0).expires.get("n"), undefined, "GETSET drops it");
});

t.test("INCRBYFLOAT matches Redis's long double replies", async (t) => {
  // Each row: stored value, increment, reply of real Redis 7.0 on x86-64.
  const cases: [string | null, string, string][] = [
    [null, "1", "1"],
    ["1", "-1.1", "-0.1"],
    ["10.5", "0.1", "10.6"],
    ["5.0e3", "2.0e2", "5200"],
    ["17179869184", "1.5", "17179869185.5"],
    ["10000000000", "0.1", "10000000000.09999999962747097"],
    ["1", "1e20", "100000000000000000000"],
    ["123456789012345678901234567890", "1", "123456789012345678899921813504"],
    ["0x10", "0x1p-3", "16.125"],
    ["0.000003814697265625", "0", "0.00000381469726562"],
    ["0.000011444091796875", "0", "0.00001144409179688"],
    ["1e-4940", "0", "0"],
    ["+1.5", "+.5", "2"],
    ["2", "1.", "3"],
    ["1.3", "1e17", "100000000000000001.296875"],
    ["-0", "-0", "0"],
  ];
  for (const [stored, by, want] of cases) {
    const e = engineAt();
    if (stored !== null) run(e, "SET", "f", stored);
    t.same(run(e, "INCRBYFLOAT", "f", by), bulk(want), `${stored} + ${by}`);
  }
  const e = engineAt();
  const notFloat = err("ERR value is not a valid float");
  for (const bad of ["", " 1", "1 ", ".", "1e", "0x", "0x1p", "nan", "-nan", "1e5000", "1e-4952", "abc", "1\u00002"]) {
    run(e, "SET", "f", bad);
    t.same(run(e, "INCRBYFLOAT", "f", "1"), notFloat, `stored ${JSON.stringify(bad)}`);
  }
  run(e, "SET", "f", "0");
  t.same(run(e, "INCRBYFLOAT", "f", "+inf"), err("ERR increment would produce NaN or Infinity"));
  run(e, "SET", "f", "1.18973149535723176502e+4932");
  t.same(run(e, "INCRBYFLOAT", "f", "1e4932"), err("ERR increment would produce NaN or Infinity"));
  t.same(run(e, "GET", "f"), bulk("1.18973149535723176502e+4932"), "unchanged after an error");
});

t.test("INCRBYFLOAT of 1/41 then -1/41 gives 0 (no negative zero)", async (t) => {
  const e = engineAt();
  run(e, "INCRBYFLOAT", "f", String(1 / 41));
  run(e, "INCRBYFLOAT", "f", String(-1 / 41));
  t.same(run(e, "GET", "f"), bulk("0"));
});

t.test("long double addition: property checks", async (t) => {
  // Adding zero is exact, and x + (-x) is zero, for any valid decimal.
  const decimal = fc
    .tuple(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: -30, max: 30 }))
    .map(([i, f, x]) => `${i}.${f}e${x}`);
  fc.assert(
    fc.property(decimal, (s) => {
      const v = parseLongDouble(s);
      const zero = parseLongDouble("0");
      const neg = parseLongDouble(s.startsWith("-") ? s.slice(1) : "-" + s);
      if (v === null || zero === null || neg === null) return false;
      const same = addLongDouble(v, zero);
      const cancel = addLongDouble(v, neg);
      return same !== null && formatLongDouble(same) === formatLongDouble(v) && cancel !== null && formatLongDouble(cancel) === "0";
    }),
    { numRuns: 300 },
  );
  // Integers below 2^64 are exact, so long double sums of them are exact.
  fc.assert(
    fc.property(fc.bigInt({ min: -(1n << 62n), max: 1n << 62n }), fc.bigInt({ min: -(1n << 62n), max: 1n << 62n }), (a, b) => {
      const x = parseLongDouble(a.toString());
      const y = parseLongDouble(b.toString());
      const s = x !== null && y !== null ? addLongDouble(x, y) : null;
      return s !== null && formatLongDouble(s) === (a + b).toString();
    }),
    { numRuns: 300 },
  );
});

t.test("GETRANGE / SUBSTR ranges", async (t) => {
  const e = engineAt();
  run(e, "SET", "k", "Hello World");
  const cases: [string, string, string][] = [
    ["0", "3", "Hell"],
    ["0", "-1", "Hello World"],
    ["-4", "-1", "orld"],
    ["5", "3", ""],
    ["5", "5000", " World"],
    ["-5000", "10000", "Hello World"],
    ["0", "4294967297", "Hello World"],
    ["-1", "-5", ""],
    ["-9223372036854775807", "-9223372036854775808", ""],
  ];
  for (const [s, en, want] of cases) t.same(run(e, "GETRANGE", "k", s, en), bulk(want), `${s}..${en}`);
  t.same(run(e, "SUBSTR", "k", "0", "1"), bulk("He"));
  t.same(run(e, "GETRANGE", "nokey", "0", "-1"), bulk(""));
  t.same(run(e, "GETRANGE", "k", "a", "1"), NOT_INT);
});

t.test("SETRANGE and APPEND limits", async (t) => {
  const e = engineAt();
  const tooBig = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  t.same(run(e, "SETRANGE", "k", String(512 * 1024 * 1024 - 4), "world"), tooBig);
  t.same(run(e, "SETRANGE", "k", "9223372036854775807", "A"), tooBig);
  t.same(run(e, "SETRANGE", "k", "-1", "A"), err("ERR offset is out of range"));
  t.same(run(e, "SETRANGE", "k", "0", ""), int(0));
  t.same(run(e, "GET", "k"), NULL);
  t.same(run(e, "SETRANGE", "k", "1", "foo"), int(4));
  t.same(run(e, "GET", "k"), bulk("\0foo"));
  t.same(run(e, "SETRANGE", "k", "6", "bar"), int(9));
  t.same(run(e, "GET", "k"), bulk("\0foo\0\0bar"));
  t.same(run(e, "SETRANGE", "k", "9223372036854775807", ""), int(9), "empty value: length, no error");
  t.same(run(e, "APPEND", "k", "!"), int(10));
});

t.test("MGET, MSET, MSETNX", async (t) => {
  const e = engineAt();
  t.same(run(e, "MSET", "a", "1", "b", "2", "a", "3"), OK);
  t.same(run(e, "MGET", "a", "b", "c"), bulks(["3", "2", null]));
  t.same(run(e, "MSETNX", "c", "x", "c", "y"), int(1));
  t.same(run(e, "GET", "c"), bulk("y"));
  t.same(run(e, "MSETNX", "d", "x", "a", "y"), int(0));
  t.same(run(e, "MGET", "d", "a"), bulks([null, "3"]));
});

t.test("LCS", async (t) => {
  const e = engineAt();
  run(e, "MSET", "a", "ohmytext", "b", "mynewtext");
  t.same(run(e, "LCS", "a", "b"), bulk("mytext"));
  t.same(run(e, "LCS", "a", "b", "LEN"), int(6));
  const idx = (a: number, b: number, c: number, d: number, len?: number): Reply =>
    array([array([int(a), int(b)]), array([int(c), int(d)]), ...(len === undefined ? [] : [int(len)])]);
  t.same(run(e, "LCS", "a", "b", "IDX"), map([bulk("matches"), array([idx(4, 7, 5, 8), idx(2, 3, 0, 1)]), bulk("len"), int(6)]));
  t.same(run(e, "LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"), map([bulk("matches"), array([idx(4, 7, 5, 8, 4)]), bulk("len"), int(6)]));
  t.same(run(e, "LCS", "a", "b", "LEN", "IDX"), err("ERR If you want both the length and indexes, please just use IDX."));
  t.same(run(e, "LCS", "a", "nokey"), bulk(""));
  e.db(0).data.set("l", HashObject.fromEntries([["f", "v"]]));
  t.same(run(e, "LCS", "a", "l"), err("ERR The specified keys must contain string values"));
});

/** INCRBY/DECRBY against a BigInt model with int64 overflow. */
t.test("property: INCRBY/DECRBY match a BigInt model", async (t) => {
  const INT64_MAX = (1n << 63n) - 1n;
  const INT64_MIN = -(1n << 63n);
  const amount = fc.oneof(
    fc.bigInt({ min: -1000n, max: 1000n }),
    fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
    fc.constantFrom(INT64_MAX, INT64_MIN, 1n << 53n, -(1n << 53n), (1n << 53n) + 1n),
  );
  const step = fc.tuple(fc.constantFrom("INCRBY", "DECRBY", "SET"), amount);
  fc.assert(
    fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
      const e = engineAt();
      let model: bigint | null = null;
      for (const [cmd, n] of steps) {
        const got = run(e, cmd, "n", n.toString());
        let want: Reply;
        if (cmd === "SET") {
          model = n;
          want = OK;
        } else if (cmd === "DECRBY" && n === INT64_MIN) {
          want = err("ERR decrement would overflow");
        } else {
          const next: bigint = (model ?? 0n) + (cmd === "INCRBY" ? n : -n);
          if (next > INT64_MAX || next < INT64_MIN) want = err("ERR increment or decrement would overflow");
          else {
            model = next;
            want = int(next);
          }
        }
        if (wire(got) !== wire(want)) return false;
        if (wire(run(e, "GET", "n")) !== wire(model === null ? NULL : bulk(model.toString()))) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
});
