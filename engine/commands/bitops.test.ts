// Bitmap commands: golden replies and effects, Redis's dirty accounting, and
// a property run against a naive Buffer model (one bit at a time).
import fc from "fast-check";
import t from "tap";
import { encodeReply } from "../../resp/encoder";
import { array, bulk, err, int, NULL, type Reply } from "../../resp/reply";
import { Engine } from "../engine";

const NOW_MS = 1_700_000_000_000;

function engine(): Engine {
  return new Engine({ clock: () => NOW_MS });
}

function run(e: Engine, ...argv: string[]): Reply {
  return e.execute(argv).reply;
}

function exec(e: Engine, ...argv: string[]): { reply: Reply; effects: string[][] } {
  const r = e.execute(argv);
  return { reply: r.reply, effects: r.effects.map((x) => [...x.argv]) };
}

function wire(r: Reply): string {
  return encodeReply(r, 2).toString("latin1");
}

const bin = (bits: string): string => String.fromCharCode(parseInt(bits, 2));

t.test("SETBIT/GETBIT basics and errors", async (t) => {
  const e = engine();
  t.same(run(e, "SETBIT", "k", "1", "1"), int(0));
  t.same(run(e, "GET", "k"), bulk(bin("01000000")));
  run(e, "SET", "k", "1"); // 0x31 = 00110001
  t.same(run(e, "SETBIT", "k", "6", "1"), int(0));
  t.same(run(e, "SETBIT", "k", "2", "0"), int(1));
  t.same(run(e, "GET", "k"), bulk(bin("00010011")));
  t.same(run(e, "GETBIT", "k", "3"), int(1));
  t.same(run(e, "GETBIT", "k", "10000"), int(0));
  t.same(run(e, "GETBIT", "nokey", "0"), int(0));
  const offErr = err("ERR bit offset is not an integer or out of range");
  const bitErr = err("ERR bit is not an integer or out of range");
  t.same(run(e, "SETBIT", "k", String(4 * 1024 * 1024 * 1024), "1"), offErr);
  t.same(run(e, "SETBIT", "k", "-1", "1"), offErr);
  t.same(run(e, "GETBIT", "k", "x"), offErr);
  for (const v of ["-1", "2", "10", "01", "x"]) t.same(run(e, "SETBIT", "k", "0", v), bitErr, v);
});

t.test("golden effects: verbatim only when the dataset changed", async (t) => {
  const e = engine();
  t.same(exec(e, "SETBIT", "k", "7", "1"), { reply: int(0), effects: [["SETBIT", "k", "7", "1"]] });
  t.same(exec(e, "SETBIT", "k", "7", "1"), { reply: int(1), effects: [] }, "same bit: no effect");
  t.same(exec(e, "SETBIT", "k", "15", "0"), { reply: int(0), effects: [["SETBIT", "k", "15", "0"]] }, "growth counts");
  t.same(exec(e, "BITOP", "NOT", "d", "k"), { reply: int(2), effects: [["BITOP", "NOT", "d", "k"]] });
  t.same(exec(e, "BITOP", "AND", "d", "none1", "none2"), { reply: int(0), effects: [["BITOP", "AND", "d", "none1", "none2"]] }, "deletes d");
  t.same(exec(e, "BITOP", "AND", "d", "none1"), { reply: int(0), effects: [] }, "nothing to delete");
  t.same(exec(e, "BITFIELD", "f", "SET", "u8", "0", "255"), { reply: array([int(0)]), effects: [["BITFIELD", "f", "SET", "u8", "0", "255"]] });
  t.same(exec(e, "BITFIELD", "f", "SET", "u8", "0", "255"), { reply: array([int(255)]), effects: [] });
  t.same(exec(e, "BITFIELD", "f", "GET", "u8", "0"), { reply: array([int(255)]), effects: [] });
  const failGrow = exec(e, "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "16", "300");
  t.same(failGrow.reply, array([NULL]));
  t.same(failGrow.effects.length, 1, "a growth with a failed write still replicates");
  t.same(run(e, "STRLEN", "f"), int(3));
});

t.test("dirty grows only when the value changed (Redis's rdb_changes_since_last_save)", async (t) => {
  const e = engine();
  const dirty = (): number => e.stats.dirty;
  const d0 = dirty();
  run(e, "SETBIT", "a", "0", "0");
  run(e, "BITFIELD", "b", "SET", "i5", "0", "0");
  t.equal(dirty(), d0 + 2, "new keys count");
  run(e, "SETBIT", "a", "0", "0");
  run(e, "BITFIELD", "b", "SET", "i5", "0", "0");
  t.equal(dirty(), d0 + 2, "no change");
  for (const v of ["1", "1", "0", "0"]) {
    run(e, "SETBIT", "a", "0", v);
    run(e, "BITFIELD", "b", "SET", "i5", "0", v);
  }
  t.equal(dirty(), d0 + 6);
  run(e, "BITFIELD", "c", "INCRBY", "i5", "0", "1");
  run(e, "BITFIELD", "c", "INCRBY", "i5", "0", "1");
  t.equal(dirty(), d0 + 8);
  run(e, "SETBIT", "a", "90", "0");
  run(e, "BITFIELD", "b", "SET", "i5", "90", "0");
  t.equal(dirty(), d0 + 10, "growth only");
});

t.test("BITFIELD semantics", async (t) => {
  const e = engine();
  t.same(run(e, "BITFIELD", "k", "SET", "i8", "0", "255", "SET", "i8", "0", "100", "GET", "i8", "0"), array([int(0), int(-1), int(100)]));
  t.same(run(e, "BITFIELD", "k", "SET", "u8", "#1", "66", "GET", "u16", "0"), array([int(0), int(100 * 256 + 66)]));
  t.same(run(e, "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "257", "INCRBY", "i8", "8", "-300"), array([int(255), int(-128)]));
  t.same(run(e, "BITFIELD", "k", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "2"), array([int(1)]));
  // SET of a negative value into an unsigned field is taken as a huge uint64.
  t.same(run(e, "BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"), array([int(1), int(255)]));
  t.same(run(e, "BITFIELD", "k", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0"), array([int(-36028797018963968), int(-9223372036854775808n)]));
  t.same(run(e, "BITFIELD", "k", "GET", "u63", "0"), array([int(4611686018427387904n)]));
  t.same(run(e, "BITFIELD", "k"), array([]));
  t.same(run(e, "BITFIELD", "k", "GET", "u64", "0"), err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."));
  t.same(run(e, "BITFIELD", "k", "GET", "I8", "0"), err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."));
  t.same(run(e, "BITFIELD", "k", "OVERFLOW", "X"), err("ERR Invalid OVERFLOW type specified"));
  t.same(run(e, "BITFIELD", "k", "GET", "u8"), err("ERR syntax error"));
  t.same(run(e, "BITFIELD", "k", "SET", "u8", "0", "x"), err("ERR value is not an integer or out of range"));
  t.same(run(e, "BITFIELD", "k", "GET", "u8", "-1"), err("ERR bit offset is not an integer or out of range"));
  t.same(run(e, "BITFIELD_RO", "k", "GET", "u8", "0"), array([int(128)]));
  t.same(run(e, "BITFIELD_RO", "k", "SET", "u8", "0", "1"), err("ERR BITFIELD_RO only supports the GET subcommand"));
  t.same(run(e, "BITFIELD", "nokey", "GET", "i8", "100"), array([int(0)]));
  // Regression for Redis issue #3564: a write far from the start.
  t.same(run(e, "BITFIELD", "s2", "SET", "i8", "0", "10", "SET", "i8", "64", "10", "INCRBY", "i8", "10", "99900"), array([int(0), int(0), int(60)]));
});

t.test("BITOP", async (t) => {
  const e = engine();
  run(e, "MSET", "a", "\x01\x02\xff\xff", "b", "\x01\x02\xff");
  t.same(run(e, "BITOP", "AND", "r", "a", "b"), int(4));
  t.same(run(e, "GET", "r"), bulk("\x01\x02\xff\x00"));
  run(e, "BITOP", "OR", "r", "a", "b");
  t.same(run(e, "GET", "r"), bulk("\x01\x02\xff\xff"));
  run(e, "BITOP", "XOR", "r", "a", "b", "nokey");
  t.same(run(e, "GET", "r"), bulk("\x00\x00\x00\xff"));
  run(e, "BITOP", "NOT", "a", "a");
  t.same(run(e, "GET", "a"), bulk("\xfe\xfd\x00\x00"));
  t.same(run(e, "BITOP", "NOT", "r", "a", "b"), err("ERR BITOP NOT must be called with a single source key."));
  t.same(run(e, "BITOP", "NAND", "r", "a"), err("ERR syntax error"));
});

t.test("BITPOS and BITCOUNT edge cases from Redis's suite", async (t) => {
  const e = engine();
  t.same(run(e, "BITPOS", "nokey", "0"), int(0));
  t.same(run(e, "BITPOS", "nokey", "1"), int(-1));
  t.same(run(e, "BITPOS", "nokey", "2"), err("ERR The bit argument must be 1 or 0."));
  run(e, "SET", "s", "\xff\xff\xff");
  t.same(run(e, "BITPOS", "s", "0"), int(24));
  t.same(run(e, "BITPOS", "s", "0", "0"), int(24));
  t.same(run(e, "BITPOS", "s", "0", "0", "-1"), int(-1));
  t.same(run(e, "BITPOS", "s", "0", "0", "-1", "BIT"), int(-1));
  run(e, "SET", "s", "\x00\xff\x00");
  t.same(run(e, "BITPOS", "s", "1", "8", "8", "BIT"), int(8));
  t.same(run(e, "BITPOS", "s", "0", "8", "-1", "bit"), int(16));
  t.same(run(e, "BITPOS", "s", "0", "1", "1"), int(-1));
  t.same(run(e, "BITPOS", "s", "1", "0", "-1", "bogus"), err("ERR syntax error"));
  run(e, "SET", "s", "foobar");
  t.same(run(e, "BITCOUNT", "s"), int(26));
  t.same(run(e, "BITCOUNT", "s", "1", "-2"), int(18));
  t.same(run(e, "BITCOUNT", "s", "-2", "1"), int(0));
  t.same(run(e, "BITCOUNT", "s", "5", "30", "BIT"), int(17));
  t.same(run(e, "BITCOUNT", "s", "0"), err("ERR syntax error"));
  t.same(run(e, "BITCOUNT", "s", "0", "1", "hello"), err("ERR syntax error"));
  t.same(run(e, "BITCOUNT", "s", "-1", "-2", "hello"), int(0), "the range shortcut comes before the unit");
  t.same(run(e, "BITCOUNT", "nokey", "x", "y"), int(0), "a missing key answers before parsing");
  run(e, "SET", "s", "__PPxxxxxxxxxxxxxxxxRR__");
  t.same(run(e, "BITCOUNT", "s", "2", "-3"), int(74));
});

// ---------------------------------------------------------------------------
// Property: a random program of bit and range commands against a naive model
// that stores a Buffer and works one bit at a time.

type Model = Map<string, Buffer>;

function modelGrow(m: Model, key: string, bytes: number): Buffer {
  const old = m.get(key) ?? Buffer.alloc(0);
  const b = old.length >= bytes ? old : Buffer.concat([old, Buffer.alloc(bytes - old.length)]);
  m.set(key, b);
  return b;
}

function bitAt(b: Buffer, i: number): number {
  const byte = b[Math.floor(i / 8)];
  return byte === undefined ? 0 : (byte >> (7 - (i % 8))) & 1;
}

/** Redis's range normalisation, written out again for the model. */
function modelRange(start: number, end: number, len: number, shortcut: boolean): [number, number] | null {
  if (shortcut && start < 0 && end < 0 && start > end) return null;
  const s = Math.max(0, start < 0 ? start + len : start);
  const e = Math.min(len - 1, Math.max(0, end < 0 ? end + len : end));
  return s > e ? null : [s, e];
}

type Cmd =
  | { op: "setbit"; off: number; bit: 0 | 1 }
  | { op: "getbit"; off: number }
  | { op: "setrange"; off: number; val: string }
  | { op: "getrange"; start: number; end: number }
  | { op: "bitcount"; range: [number, number, boolean] | null }
  | { op: "bitpos"; bit: 0 | 1; start: number | null; end: number | null; isBit: boolean };

function modelBitpos(b: Buffer, c: Extract<Cmd, { op: "bitpos" }>): number {
  if (c.start === null) {
    for (let i = 0; i < b.length * 8; i++) if (bitAt(b, i) === c.bit) return i;
    return c.bit === 1 || b.length === 0 ? -1 : b.length * 8;
  }
  // The unit is only given together with an end.
  const isBit = c.end !== null && c.isBit;
  const len = isBit ? b.length * 8 : b.length;
  const r = modelRange(c.start, c.end ?? len - 1, len, false);
  if (r === null) return -1;
  const lo = isBit ? r[0] : r[0] * 8;
  const hi = isBit ? r[1] : r[1] * 8 + 7;
  for (let i = lo; i <= hi; i++) if (bitAt(b, i) === c.bit) return i;
  return c.bit === 1 || c.end !== null ? -1 : hi + 1;
}

function modelRun(m: Model, c: Cmd): Reply {
  const b = m.get("k") ?? Buffer.alloc(0);
  switch (c.op) {
    case "setbit": {
      const g = modelGrow(m, "k", Math.floor(c.off / 8) + 1);
      const old = bitAt(g, c.off);
      const i = Math.floor(c.off / 8);
      const mask = 1 << (7 - (c.off % 8));
      g[i] = c.bit ? (g[i] ?? 0) | mask : (g[i] ?? 0) & ~mask;
      return int(old);
    }
    case "getbit":
      return int(bitAt(b, c.off));
    case "setrange": {
      if (c.val.length === 0) return int(m.has("k") ? b.length : 0);
      const g = modelGrow(m, "k", c.off + c.val.length);
      g.write(c.val, c.off, "latin1");
      return int(g.length);
    }
    case "getrange": {
      const r = modelRange(c.start, c.end, b.length, true);
      return bulk(r === null ? "" : b.subarray(r[0], r[1] + 1).toString("latin1"));
    }
    case "bitcount": {
      const [s, e, isBit] = c.range ?? [0, -1, false];
      const r = modelRange(s, e, isBit ? b.length * 8 : b.length, true);
      if (r === null) return int(0);
      let n = 0;
      const lo = isBit ? r[0] : r[0] * 8;
      const hi = isBit ? r[1] : r[1] * 8 + 7;
      for (let i = lo; i <= hi; i++) n += bitAt(b, i);
      return int(n);
    }
    case "bitpos":
      if (!m.has("k")) return int(c.bit === 1 ? -1 : 0);
      return int(modelBitpos(b, c));
    default: {
      const never: never = c;
      return never;
    }
  }
}

function argvOf(c: Cmd): string[] {
  switch (c.op) {
    case "setbit":
      return ["SETBIT", "k", String(c.off), String(c.bit)];
    case "getbit":
      return ["GETBIT", "k", String(c.off)];
    case "setrange":
      return ["SETRANGE", "k", String(c.off), c.val];
    case "getrange":
      return ["GETRANGE", "k", String(c.start), String(c.end)];
    case "bitcount":
      return c.range === null ? ["BITCOUNT", "k"] : ["BITCOUNT", "k", String(c.range[0]), String(c.range[1]), c.range[2] ? "BIT" : "BYTE"];
    case "bitpos": {
      const a = ["BITPOS", "k", String(c.bit)];
      if (c.start === null) return a;
      a.push(String(c.start));
      if (c.end === null) return a;
      return [...a, String(c.end), c.isBit ? "BIT" : "BYTE"];
    }
    default: {
      const never: never = c;
      return never;
    }
  }
}

const idx = fc.integer({ min: -80, max: 80 });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ op: fc.constant("setbit" as const), off: fc.integer({ min: 0, max: 200 }), bit: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ op: fc.constant("getbit" as const), off: fc.integer({ min: 0, max: 220 }) }),
  fc.record({ op: fc.constant("setrange" as const), off: fc.integer({ min: 0, max: 30 }), val: fc.string({ maxLength: 6 }).map((s) => Buffer.from(s, "utf8").toString("latin1")) }),
  fc.record({ op: fc.constant("getrange" as const), start: idx, end: idx }),
  fc.record({ op: fc.constant("bitcount" as const), range: fc.option(fc.tuple(idx, idx, fc.boolean()), { nil: null }) }),
  fc
    .record({ op: fc.constant("bitpos" as const), bit: fc.constantFrom(0 as const, 1 as const), start: fc.option(idx, { nil: null }), end: fc.option(idx, { nil: null }), isBit: fc.boolean() })
    .map((c) => (c.start === null ? { ...c, end: null } : c)),
);

t.test("property: bit and range commands match a naive Buffer model", async (t) => {
  fc.assert(
    fc.property(fc.array(cmdArb, { maxLength: 40 }), (cmds) => {
      const e = engine();
      const m: Model = new Map();
      for (const c of cmds) {
        const got = wire(run(e, ...argvOf(c)));
        const want = wire(modelRun(m, c));
        if (got !== want) throw new Error(`${argvOf(c).join(" ")}: got ${got} want ${want}`);
      }
      const final = m.get("k");
      return wire(run(e, "GET", "k")) === wire(final === undefined ? NULL : bulk(final.toString("latin1")));
    }),
    { numRuns: 400 },
  );
  t.pass("model agrees");
});

t.test("property: effects rebuild the same bitmap on a replica", async (t) => {
  fc.assert(
    fc.property(fc.array(cmdArb, { maxLength: 30 }), (cmds) => {
      const a = engine();
      const b = new Engine({ role: "replica", clock: () => NOW_MS * 2 });
      for (const c of cmds) b.apply(a.execute(argvOf(c)).effects);
      return wire(run(a, "GET", "k")) === wire(run(b, "GET", "k"));
    }),
    { numRuns: 200 },
  );
  t.pass("replica agrees");
});

t.test("property: BITCOUNT of long strings (word-at-a-time path) counts every bit", async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(), fc.nat(), (bytes, x, y) => {
      const e = engine();
      const b = Buffer.from(bytes);
      run(e, "SET", "k", b.toString("latin1"));
      const bits = b.length * 8;
      const lo = bits === 0 ? 0 : x % bits;
      const hi = bits === 0 ? 0 : lo + (y % (bits - lo));
      let all = 0;
      let inRange = 0;
      for (let i = 0; i < bits; i++) {
        all += bitAt(b, i);
        if (i >= lo && i <= hi) inRange += bitAt(b, i);
      }
      const byteLo = Math.floor(lo / 8);
      const byteHi = Math.floor(hi / 8);
      let inBytes = 0;
      for (let i = byteLo * 8; i < (byteHi + 1) * 8 && i < bits; i++) inBytes += bitAt(b, i);
      return (
        wire(run(e, "BITCOUNT", "k")) === wire(int(all)) &&
        (bits === 0 ||
          (wire(run(e, "BITCOUNT", "k", String(lo), String(hi), "BIT")) === wire(int(inRange)) &&
            wire(run(e, "BITCOUNT", "k", String(byteLo), String(byteHi))) === wire(int(inBytes))))
      );
    }),
    { numRuns: 200 },
  );
  t.pass("counts agree");
});
