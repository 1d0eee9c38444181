// HyperLogLog: bytes identical to real Redis 7.0.15 (captured from
// redis-server for fixed inputs), the hash against a BigInt model, sparse and
// dense agreeing register for register, estimator error bounds, corruption
// detection, and effects that rebuild identical bytes on a replica.
import { createHash } from "node:crypto";
import fc from "fast-check";
import t from "tap";
import { err, int, OK, type Reply } from "../../resp/reply";
import type { Effect } from "../context";
import { Engine } from "../engine";
import { denseRegisterOf, HLL_DENSE_SIZE, HLL_REGISTERS, hllPatLen, murmurHash64A, withDenseRegister } from "../hll";

const NOT_HLL = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
const INVALID = err("INVALIDOBJ Corrupted HLL object detected");
const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");

function engine(opts: { role?: "primary" | "replica" } = {}): Engine {
  return new Engine({ clock: () => 1_700_000_000_000, random: seeded(7), ...opts });
}

/** A small deterministic PRNG, so PFSELFTEST runs are reproducible. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function run(e: Engine, ...argv: string[]): Reply {
  return e.execute(argv).reply;
}

function bytesOf(e: Engine, key: string): string {
  const r = run(e, "GET", key);
  if (r.kind !== "bulk") throw new Error(`GET ${key}: ${JSON.stringify(r)}`);
  return r.value;
}

function hex(s: string): string {
  return Buffer.from(s, "latin1").toString("hex");
}

function sha256(s: string): string {
  return createHash("sha256").update(Buffer.from(s, "latin1")).digest("hex");
}

function els(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

function pfadd(e: Engine, key: string, elements: readonly string[]): void {
  for (let i = 0; i < elements.length; i += 500) run(e, "PFADD", key, ...elements.slice(i, i + 500));
}

function registers(e: Engine, key: string): number[] {
  const r = run(e, "PFDEBUG", "GETREG", key);
  if (r.kind !== "array") throw new Error(`GETREG: ${JSON.stringify(r)}`);
  return r.items.map((x) => (x.kind === "int" ? Number(x.value) : -1));
}

t.test("bytes equal real Redis 7.0.15 for fixed inputs", async (t) => {
  const e = engine();
  run(e, "PFADD", "e");
  t.equal(hex(bytesOf(e, "e")), "48594c4c0100000000000000000000807fff", "empty HLL: XZERO:16384, cache invalid");
  t.same(run(e, "PFADD", "s", "a", "b", "c"), int(1));
  t.equal(hex(bytesOf(e, "s")), "48594c4c01000000000000000000008060f38050b1844bfb80425a");
  t.same(run(e, "PFCOUNT", "s"), int(3));
  t.equal(hex(bytesOf(e, "s")), "48594c4c01000000030000000000000060f38050b1844bfb80425a", "cardinality cached");

  pfadd(e, "s2", els("x", 200));
  const s2 = bytesOf(e, "s2");
  t.equal(s2.length, 498);
  t.equal(sha256(s2), "dba02339dc021bc825d765ba854bf08f8ac7462c1911e95f4db01f881354ebd6");
  t.same(run(e, "PFCOUNT", "s2"), int(198));
  const decoded = run(e, "PFDEBUG", "DECODE", "s2");
  t.ok(decoded.kind === "bulk" && decoded.value.startsWith("z:57 v:1,1 z:2 v:1,1 Z:98 v:1,1 z:40 v:2,1 Z:78 v:1,1 Z:262 v:4,1"));

  for (let i = 0; i < 10000; i += 500) run(e, "PFADD", "d", ...els(`e${i}-`, 500));
  t.equal(sha256(bytesOf(e, "d")), "92bc00fd4cad0645a7cefc2cd3ed656175b9f9ec40457e66c05b7b4f1b1c912a", "dense after promotion");
  t.same(run(e, "PFCOUNT", "d"), int(10006));
  t.equal(sha256(bytesOf(e, "d")), "24ed1eb862f9b1112a0189317915e30a0834683d192c35c8029425edec44cdf7");

  t.same(run(e, "PFMERGE", "m1", "s", "s2"), OK);
  t.equal(bytesOf(e, "m1").length, 504, "all-sparse merge stays sparse");
  t.equal(sha256(bytesOf(e, "m1")), "b877155ca1a9328823d0afb8abd4e14c836a5608f583dd1a8bf1eafe3ed8da0c");
  t.same(run(e, "PFCOUNT", "m1"), int(201));
  t.same(run(e, "PFMERGE", "m2", "s2", "d"), OK);
  t.equal(sha256(bytesOf(e, "m2")), "6f643fb3206069aa547a75f0b31b614104b3927311a40399ccb2c43a5a29104e", "a dense input makes it dense");
  t.same(run(e, "PFCOUNT", "m2"), int(10222));
  t.same(run(e, "PFCOUNT", "s", "s2", "d"), int(10222));

  run(e, "CONFIG", "SET", "hll-sparse-max-bytes", "100");
  pfadd(e, "p", els("y", 40));
  t.equal(sha256(bytesOf(e, "p")), "f7b1001801b70eb9833aceb2c4e9eb32e79f0bd9dcca542a8a9d7206174854f0", "promoted at hll-sparse-max-bytes");
});

/** MurmurHash64A written the obvious way with BigInt: the model for the 32-bit-halves version. */
function murmurModel(s: string, seed: bigint): bigint {
  const M = 0xc6a4a7935bd1e995n;
  const mask = (1n << 64n) - 1n;
  const len = BigInt(s.length);
  let h = (seed ^ (len * M)) & mask;
  const blocks = s.length - (s.length & 7);
  for (let i = 0; i < blocks; i += 8) {
    let k = 0n;
    for (let b = 7; b >= 0; b--) k = (k << 8n) | BigInt(s.charCodeAt(i + b));
    k = (k * M) & mask;
    k ^= k >> 47n;
    k = (k * M) & mask;
    h ^= k;
    h = (h * M) & mask;
  }
  const rest = s.length & 7;
  if (rest > 0) {
    for (let b = rest - 1; b >= 0; b--) h ^= BigInt(s.charCodeAt(blocks + b)) << BigInt(8 * b);
    h = (h * M) & mask;
  }
  h ^= h >> 47n;
  h = (h * M) & mask;
  h ^= h >> 47n;
  return h;
}

const latin1 = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("latin1"));

t.test("MurmurHash64A agrees with a BigInt model", async (t) => {
  fc.assert(
    fc.property(latin1, fc.integer({ min: 0, max: 0xffffffff }), (s, seed) => murmurHash64A(s, seed) === murmurModel(s, BigInt(seed))),
    { numRuns: 2000 },
  );
  t.pass("2000 random strings and seeds");
});

t.test("sparse and dense hold the same registers as a naive model", async (t) => {
  fc.assert(
    fc.property(fc.array(latin1, { maxLength: 120 }), (elements) => {
      const e = engine();
      const model = new Array<number>(HLL_REGISTERS).fill(0);
      for (const x of elements) {
        const pl = hllPatLen(x);
        const i = pl & (HLL_REGISTERS - 1);
        model[i] = Math.max(model[i] ?? 0, pl >>> 14);
      }
      run(e, "PFADD", "dense");
      run(e, "PFDEBUG", "TODENSE", "dense");
      if (elements.length > 0) {
        run(e, "PFADD", "sparse", ...elements);
        run(e, "PFADD", "dense", ...elements);
      } else run(e, "PFADD", "sparse");
      const enc = run(e, "PFDEBUG", "ENCODING", "sparse");
      if (enc.kind !== "simple" || enc.value !== "sparse") return false;
      const same = JSON.stringify(run(e, "PFCOUNT", "sparse")) === JSON.stringify(run(e, "PFCOUNT", "dense"));
      return same && registers(e, "sparse").join() === model.join() && registers(e, "dense").join() === model.join();
    }),
    { numRuns: 150 },
  );
  t.pass("150 random element sets");
});

t.test("a dense register write touches only that register and the cache bit", async (t) => {
  const denseHll = fc
    .uint8Array({ minLength: HLL_DENSE_SIZE - 16, maxLength: HLL_DENSE_SIZE - 16 })
    .map((regs) => "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + Buffer.from(regs).toString("latin1"));
  const reg = fc.oneof(fc.constantFrom(0, 1, 2, 3, HLL_REGISTERS - 1), fc.integer({ min: 0, max: HLL_REGISTERS - 1 }));
  fc.assert(
    fc.property(denseHll, reg, fc.integer({ min: 0, max: 63 }), (s, r, v) => {
      const out = withDenseRegister(s, r, v);
      if (out.length !== s.length || out.charCodeAt(15) !== 0x80 || out.slice(0, 15) !== s.slice(0, 15)) return false;
      for (let i = 0; i < HLL_REGISTERS; i++) {
        if (denseRegisterOf(out, i) !== (i === r ? v : denseRegisterOf(s, i))) return false;
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass("200 random dense HLLs");
});

t.test("PFCOUNT stays within 2% up to 100k elements, single key and union", async (t) => {
  const e = engine();
  const checkpoints = new Set([1000, 5000, 20000, 50000, 100000]);
  for (let n = 1000; n <= 100000; n += 1000) {
    const batch = els(`k${n}:`, 1000);
    run(e, "PFADD", "a", ...batch.slice(0, 500));
    run(e, "PFADD", "b", ...batch.slice(500));
    if (!checkpoints.has(n)) continue;
    const single = run(e, "PFCOUNT", "a");
    const union = run(e, "PFCOUNT", "a", "b");
    t.ok(single.kind === "int" && Math.abs(Number(single.value) - n / 2) / (n / 2) < 0.02, `a at ${n / 2}: ${JSON.stringify(single)}`);
    t.ok(union.kind === "int" && Math.abs(Number(union.value) - n) / n < 0.02, `union at ${n}: ${JSON.stringify(union)}`);
  }
  t.same(run(e, "PFDEBUG", "ENCODING", "a"), { kind: "simple", value: "dense" });
});

t.test("corruption and type errors as Redis reports them", async (t) => {
  const e = engine();
  run(e, "PFADD", "h", "a", "b", "c");
  run(e, "APPEND", "h", "hello");
  t.same(run(e, "PFCOUNT", "h"), INVALID, "extra bytes at the tail");
  run(e, "DEL", "h");
  run(e, "PFADD", "h", "a", "b", "c");
  run(e, "SETRANGE", "h", "0", "0123");
  t.same(run(e, "PFCOUNT", "h"), NOT_HLL, "broken magic");
  run(e, "DEL", "h");
  run(e, "PFADD", "h", "a", "b", "c");
  run(e, "SETRANGE", "h", "4", "x");
  t.same(run(e, "PFCOUNT", "h"), NOT_HLL, "unknown encoding");
  run(e, "SETRANGE", "h", "4", "\x00");
  t.same(run(e, "PFCOUNT", "h"), NOT_HLL, "dense of the wrong length");
  t.same(run(e, "PFADD", "h", "x"), NOT_HLL);
  t.same(run(e, "PFMERGE", "h2", "h"), NOT_HLL);
  run(e, "SET", "short", "HYLL");
  t.same(run(e, "PFCOUNT", "short"), NOT_HLL, "shorter than the header");
  run(e, "LPUSH", "list", "x");
  t.same(run(e, "PFADD", "list", "x"), WRONGTYPE);
  t.same(run(e, "PFCOUNT", "list", "h"), WRONGTYPE);
  t.same(run(e, "PFMERGE", "list"), WRONGTYPE);
  t.same(run(e, "PFDEBUG", "ENCODING", "nokey"), err("ERR The specified key does not exist"));
  run(e, "PFADD", "ok", "a");
  t.same(run(e, "PFDEBUG", "NOPE", "ok"), err("ERR Unknown PFDEBUG subcommand 'NOPE'"));
  run(e, "PFDEBUG", "TODENSE", "ok");
  t.same(run(e, "PFDEBUG", "DECODE", "ok"), err("ERR HLL encoding is not sparse"));
});

/** A sparse HLL whose opcodes cover only registers 0..8191 (XZERO:8192). */
const HALF_SPARSE = "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x5f\xff";

function elementIn(lowHalf: boolean): string {
  for (let i = 0; i < 1000; i++) {
    const x = `e${i}`;
    if ((hllPatLen(x) & (HLL_REGISTERS - 1)) < 8192 === lowHalf) return x;
  }
  throw new Error("no element found");
}

t.test("corrupt sparse opcodes: errors, partial PFADD replicated as bytes", async (t) => {
  const e = engine();
  run(e, "SET", "h", HALF_SPARSE);
  t.same(run(e, "PFCOUNT", "h"), INVALID);
  t.same(run(e, "PFCOUNT", "h", "other"), INVALID);
  t.same(run(e, "PFMERGE", "dst", "h"), INVALID);
  t.same(run(e, "PFDEBUG", "TODENSE", "h"), INVALID);
  const r = e.execute(["PFADD", "h", elementIn(true), elementIn(false)]);
  t.same(r.reply, INVALID);
  // Redis keeps the register set before it met the corruption (bytes from redis-server).
  t.equal(hex(bytesOf(e, "h")), "48594c4c0100000000000000000000804525805ad8");
  t.same(
    r.effects.map((x) => x.argv[0]),
    ["SET"],
    "replicated as the resulting bytes: replaying PFADD would fail",
  );
  const replica = engine();
  replica.execute(["SET", "h", HALF_SPARSE]);
  replica.apply(r.effects);
  t.equal(bytesOf(replica, "h"), bytesOf(e, "h"));
});

/** Runs commands on a primary, applies each one's effects to a replica, and returns both. */
function replicate(cmds: readonly string[][]): { primary: Engine; replica: Engine; effects: (readonly Effect[])[] } {
  const primary = engine();
  const replica = engine();
  const effects: (readonly Effect[])[] = [];
  for (const c of cmds) {
    const r = primary.execute(c);
    effects.push(r.effects);
    replica.apply(r.effects);
  }
  return { primary, replica, effects };
}

t.test("effects: verbatim when something changed, nothing otherwise", async (t) => {
  const { primary, replica, effects } = replicate([
    ["PFADD", "h", "a", "b"],
    ["PFADD", "h", "a"],
    ["PFCOUNT", "h"],
    ["PFCOUNT", "h"],
    ["PFCOUNT", "h", "nokey"],
    ["PFMERGE", "m", "h"],
    ["PFDEBUG", "TODENSE", "m"],
    ["PFDEBUG", "TODENSE", "m"],
    ["PFDEBUG", "GETREG", "h"],
    ["PFADD", "m", ...els("z", 50)],
    ["PFCOUNT", "m"],
  ]);
  const argvs = effects.map((list) => list.map((x) => x.argv.join(" ")));
  t.same(argvs, [
    ["PFADD h a b"],
    [],
    ["PFCOUNT h"],
    [],
    [],
    ["PFMERGE m h"],
    ["PFDEBUG TODENSE m"],
    [],
    ["PFDEBUG GETREG h"],
    [`PFADD m ${els("z", 50).join(" ")}`],
    ["PFCOUNT m"],
  ]);
  t.equal(primary.digest(), replica.digest());
  for (const k of ["h", "m"]) t.equal(bytesOf(replica, k), bytesOf(primary, k), `${k} identical on the replica`);
});

t.test("replica serving reads does not rewrite the cached cardinality", async (t) => {
  const e = engine({ role: "replica" });
  e.apply([{ db: 0, argv: ["PFADD", "h", "a", "b", "c"] }]);
  const before = bytesOf(e, "h");
  t.same(run(e, "PFCOUNT", "h"), int(3));
  t.equal(bytesOf(e, "h"), before);
});

t.test("PFADD keeps the TTL; a new key counts as a change", async (t) => {
  const e = engine();
  t.same(run(e, "PFADD", "h"), int(1));
  t.same(run(e, "PFADD", "h"), int(0));
  run(e, "PEXPIRE", "h", "100000");
  run(e, "PFADD", "h", "x");
  t.same(run(e, "PTTL", "h"), int(100000));
  run(e, "PFDEBUG", "TODENSE", "h");
  run(e, "PFADD", "h", ...els("w", 100));
  t.same(run(e, "PTTL", "h"), int(100000));
});

t.test("dense cache bit: set by a change, kept by a no-op PFADD", async (t) => {
  const e = engine();
  pfadd(e, "h", els("v", 5000));
  t.same(run(e, "PFDEBUG", "ENCODING", "h"), { kind: "simple", value: "dense" });
  run(e, "PFCOUNT", "h");
  t.equal(bytesOf(e, "h").charCodeAt(15), 0);
  run(e, "PFADD", "h", "v1", "v2");
  t.equal(bytesOf(e, "h").charCodeAt(15), 0);
  let changed = false;
  for (let i = 0; i < 1000 && !changed; i++) changed = JSON.stringify(run(e, "PFADD", "h", `new${i}`)) === JSON.stringify(int(1));
  t.ok(changed);
  t.equal(bytesOf(e, "h").charCodeAt(15), 0x80);
});

t.test("PFSELFTEST passes", async (t) => {
  t.same(run(engine(), "PFSELFTEST"), OK);
});
