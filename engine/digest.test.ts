import fc from "fast-check";
import t from "tap";
import { datasetDigest, digestValue, formatG17 } from "./digest";
import { Engine } from "./engine";
import { HashObject } from "./types/hash";
import { ListObject } from "./types/list";
import { SetObject } from "./types/set";
import { ZSetObject } from "./types/zset";

t.test("an empty dataset digests to zeros, like DEBUG DIGEST", async (t) => {
  const e = new Engine();
  t.equal(e.digest(), "0".repeat(40));
  e.execute(["SET", "k", "v"]);
  t.not(e.digest(), "0".repeat(40));
  e.execute(["DEL", "k"]);
  t.equal(e.digest(), "0".repeat(40));
});

t.test("DEBUG DIGEST-VALUE values captured from redis-server 7.0.15", async (t) => {
  t.equal(digestValue("123"), "89f7f51b707418f666d5b45e053bd5bbbf82ac2b");
  t.equal(digestValue("hello"), "36b23a1456b2dce2c3ed252c456761301dba8060");
});

t.test("DEBUG DIGEST-VALUE and DEBUG DIGEST of every type match redis-server 7.0.15", async (t) => {
  // A 200-byte value with high bytes spans several SHA-1 blocks and turns the zset into a skiplist.
  const big = Array.from({ length: 200 }, (_, i) => String.fromCharCode((i * 37) & 255)).join("");
  const e = new Engine();
  const setup = [
    ["SET", "str", "hello"],
    ["SET", "bin", big],
    ["SET", "ttl", "v", "EX", "1000"],
    ["RPUSH", "list", "a", "b", big, "c"],
    ["SADD", "set", "x", "y", big, "12345"],
    ["ZADD", "zset", "1.5", "m1", "-3", "m2", "0.1", big],
    ["HSET", "hash", "f1", "v1", "f2", big, big, "x"],
    ["XADD", "stream", "1-1", "f", "v", "g", big],
    ["XADD", "stream", "5-0", "a", "b"],
    ["SELECT", "3"],
    ["SET", "k3", "v3"],
    ["SELECT", "0"],
  ];
  for (const argv of setup) e.execute(argv);
  const fromRedis: [string, string][] = [
    ["str", "36b23a1456b2dce2c3ed252c456761301dba8060"],
    ["bin", "71f1cff6f83dccc6c140067ccfa89d30fcf41b19"],
    ["ttl", "311b17018163335616e089f6b951c82c477335ac"],
    ["list", "9d4c2e9a04a5eaff85ca4b6af974d8d1acc3d79f"],
    ["set", "6591f18a73c32b8194d80b1b63f855d2dc586f17"],
    ["zset", "9e1e574d199adc3489953398885e2a21c6b77326"],
    ["hash", "d25120a3aedf9cbb82efcf2f3332e35a665b375a"],
    ["stream", "6336d15ed400d8c71685c2522c65174b0752831f"],
  ];
  const db0 = e.db(0);
  for (const [key, hex] of fromRedis) {
    const v = db0.data.get(key);
    t.ok(v !== undefined, key);
    if (v !== undefined) t.equal(digestValue(v, db0.expires.get(key)), hex, key);
  }
  // Without TTLs and streams (which Mnemo's dataset digest extends), DEBUG DIGEST is Redis's.
  e.execute(["DEL", "ttl", "stream"]);
  t.equal(e.digest(), "94356b275d95e0eeecf3a78a49d7628df46c6ac8");
});

t.test("key order, set order and hash order do not matter; list order does", async (t) => {
  const keysArb = fc
    .uniqueArray(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 20 })
    .chain((ks) => fc.tuple(fc.constant(ks), fc.shuffledSubarray(ks, { minLength: ks.length, maxLength: ks.length })));
  fc.assert(
    fc.property(keysArb, fc.nat(), ([ks, shuffled], seed) => {
      const a = new Engine();
      const b = new Engine();
      ks.forEach((k) => a.db(0).data.set(k, `v:${k}`));
      shuffled.forEach((k) => b.db(0).data.set(k, `v:${k}`));
      const sa = SetObject.fromMembers(ks);
      const sb = SetObject.fromMembers(shuffled);
      const ha = HashObject.fromEntries(ks.map((k) => [k, String(seed)]));
      const hb = HashObject.fromEntries(shuffled.map((k) => [k, String(seed)]));
      return a.digest() === b.digest() && digestValue(sa) === digestValue(sb) && digestValue(ha) === digestValue(hb);
    }),
  );
  t.not(digestValue(ListObject.fromArray(["a", "b"])), digestValue(ListObject.fromArray(["b", "a"])));
  t.not(digestValue(ListObject.fromArray(["ab", "c"])), digestValue(ListObject.fromArray(["a", "bc"])), "element boundaries count");
  t.not(digestValue(SetObject.fromMembers(["a"])), digestValue(ListObject.fromArray(["a"])), "the type counts");
  t.not(digestValue(ZSetObject.fromEntries([["m", 1]])), digestValue(ZSetObject.fromEntries([["m", 1.5]])), "scores count");
  t.not(digestValue(HashObject.fromEntries([["f", "v"]])), digestValue(HashObject.fromEntries([["v", "f"]])), "fields and values are paired");
});

t.test("the dataset digest covers the db, the TTL presence and the TTL itself", async (t) => {
  const mk = (db: number, at?: number): string => {
    const e = new Engine();
    e.db(db).data.set("k", "v");
    if (at !== undefined) e.db(db).expires.set("k", at);
    return datasetDigest(e.dbs);
  };
  t.not(mk(0), mk(1));
  t.not(mk(0), mk(0, 1000));
  t.not(mk(0, 1000), mk(0, 2000));
  t.equal(mk(0, 1000), mk(0, 1000));
  t.equal(digestValue("v", 1000), digestValue("v", 2000), "DIGEST-VALUE, like Redis, marks only that a TTL exists");
  t.not(digestValue("v", 1000), digestValue("v"));
});

t.test("formatG17 prints like C's printf(\"%.17g\")", async (t) => {
  const cases: [number, string][] = [
    [0.1, "0.10000000000000001"],
    [1 / 3, "0.33333333333333331"],
    [1e-5, "1.0000000000000001e-05"],
    [0.0001, "0.0001"],
    [0.00012345, "0.00012344999999999999"],
    [1e16, "10000000000000000"],
    [1e17, "1e+17"],
    [154320986265432.125, "154320986265432.12"],
    [5e-324, "4.9406564584124654e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [2 ** 60, "1.152921504606847e+18"],
    [-2.5, "-2.5"],
    [123456789.125, "123456789.125"],
    [1e21, "1e+21"],
    [100, "100"],
    [0, "0"],
    [-0, "-0"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ];
  for (const [x, s] of cases) t.equal(formatG17(x), s, String(x));
  fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => Object.is(Number(formatG17(x)), x)), { numRuns: 2000 });
});

t.test("the dataset checksum tells two datasets apart exactly when DEBUG DIGEST does", async (t) => {
  const key = fc.constantFrom("a", "b");
  const val = fc.constantFrom("x", "y", "1", "2.5", "");
  const cmd = fc.oneof(
    fc.tuple(key, val).map(([k, v]) => ["SET", k, v]),
    fc.tuple(key, val).map(([k, v]) => ["RPUSH", k, v]),
    fc.tuple(key, val).map(([k, v]) => ["SADD", k, v]),
    fc.tuple(key, val, val).map(([k, f, v]) => ["HSET", k, f, v]),
    fc.tuple(key, fc.constantFrom("1", "-0", "0", "2.5"), val).map(([k, s, m]) => ["ZADD", k, s, m]),
    fc.tuple(key, fc.constantFrom("1-1", "2-0", "3-5"), val).map(([k, id, v]) => ["XADD", k, id, "f", v]),
    fc.tuple(key, fc.constantFrom("4000000000000", "4000000000001")).map(([k, at]) => ["PEXPIREAT", k, at]),
    key.map((k) => ["DEL", k]),
    fc.constantFrom("0", "1").map((db) => ["SELECT", db]),
  );
  const build = (cmds: string[][]): Engine => {
    const e = new Engine({ clock: () => 1_700_000_000_000 });
    const s = e.newSession();
    for (const c of cmds) e.execute(c, s);
    return e;
  };
  // The second history is the first with one command replaced: datasets that differ in one detail.
  const pair = fc
    .tuple(fc.array(cmd, { minLength: 1, maxLength: 6 }), fc.nat(), cmd)
    .map(([x, i, c]) => [x, x.map((v, j) => (j === i % x.length ? c : v))] as const);
  let same = 0;
  fc.assert(
    fc.property(pair, ([x, y]) => {
      const [a, b] = [build(x), build(y)];
      const equalDigests = a.digest() === b.digest();
      if (equalDigests) same++;
      return equalDigests === (a.checksum() === b.checksum());
    }),
    { numRuns: 3000 },
  );
  t.ok(same > 20, `${same} of the pairs were equal datasets, so both directions were tested`);
  t.equal(new Engine().checksum(), "0".repeat(40), "an empty dataset checksums to zeros");
});
