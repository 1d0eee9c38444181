// Pure pieces behind the server commands: CONFIG SET atomicity, CONFIG GET
// patterns, the slow log's trimming, INFO section selection, MONITOR quoting.
import t from "tap";
import fc from "fast-check";
import { Config } from "../engine/config";
import { PARAMS } from "../engine/params";
import { Slowlog } from "../engine/stats";
import { selectSections } from "../engine/commands/info";
import { allocSize } from "../engine/commands/server";
import { quoteRepr } from "../cluster/server";

t.test("CONFIG SET of several pairs changes all of them or none", async (t) => {
  const names = ["hz", "maxmemory", "timeout", "appendonly", "nosuch", "databases", "maxmemory-policy"];
  const values = ["1", "10", "abc", "yes", "no", "1mb", "-5", "allkeys-lru", ""];
  const pair = fc.tuple(fc.constantFrom(...names), fc.constantFrom(...values));
  fc.assert(
    fc.property(fc.array(pair, { minLength: 1, maxLength: 5 }), (pairs) => {
      const c = new Config(PARAMS);
      const before = c.lookup(["*"]);
      const e = c.setMany(pairs);
      if (e !== null) {
        t.same(c.lookup(["*"]), before, `nothing changed after: ${e}`);
        t.match(e, /^ERR (Unknown option|CONFIG SET failed)/);
      } else {
        for (const [n, v] of pairs) {
          const r = new Config(PARAMS).check(n, v);
          if (r.ok) t.equal(c.get(n), r.value);
        }
      }
    }),
    { numRuns: 200 },
  );
});

t.test("CONFIG error texts", async (t) => {
  const c = new Config(PARAMS);
  t.equal(c.setMany([["maxmemory", "bla"]]), "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
  t.equal(c.setMany([["hz", "x"]]), "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer");
  t.equal(c.setMany([["xxx", "1"]]), "ERR Unknown option or number of arguments for CONFIG SET - 'xxx'");
  t.equal(c.setMany([["maxclients", "0"]]), "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive");
  t.equal(c.setMany([["maxmemory-clients", "200%"]]), "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100");
  t.equal(c.setMany([["hz", "1000"]]), null);
  t.equal(c.get("hz"), "500", "hz is clamped like Redis");
  t.equal(c.setMany([["port", c.get("port")]]), null, "setting port to its current value is a no-op");
  t.match(c.setMany([["port", "1"]]) ?? "", /cannot change this parameter at run time/);
});

t.test("CONFIG GET: exact names answer under the given name, patterns match names and aliases once", async (t) => {
  const c = new Config(PARAMS);
  t.same(c.lookup(["hash-max-ziplist-entries"]), [["hash-max-ziplist-entries", "128"]]);
  const got = c.lookup(["*of", "replicaof", "maxmemory", "maxmemory*"]).map(([k]) => k);
  t.ok(got.includes("replicaof") && got.includes("slaveof"));
  t.equal(new Set(got).size, got.length, "no duplicates");
  t.same(c.lookup(["nosuch"]), []);
});

t.test("slowlog trims arguments like Redis and keeps the newest entries", async (t) => {
  const s = new Slowlog();
  const argv = ["sadd", "set", ...Array.from({ length: 31 }, (_, i) => String(i + 3))];
  s.add(argv, 10, 0, "a:1", "", 3);
  t.same(s.entries[0]?.argv.slice(-2), ["31", "... (2 more arguments)"]);
  t.equal(s.entries[0]?.argv.length, 32);
  s.add(["set", "k", "A".repeat(129)], 10, 0, "a:1", "", 3);
  t.equal(s.entries[0]?.argv[2], `${"A".repeat(128)}... (1 more bytes)`);
  s.add(["a"], 1, 0, "", "", 3);
  s.add(["b"], 1, 0, "", "", 3);
  t.equal(s.entries.length, 3);
  t.same(s.entries.map((e) => e.argv[0]), ["b", "a", "set"]);
  t.same(s.entries.map((e) => e.id), [3, 2, 1], "ids keep counting");
});

t.test("INFO section selection", async (t) => {
  t.notOk(selectSections([]).has("commandstats"));
  t.ok(selectSections(["all"]).has("commandstats"));
  t.ok(selectSections(["EVERYTHING"]).has("latencystats"));
  t.same([...selectSections(["CPU", "cpu"])], ["cpu"]);
  t.ok(selectSections(["default", "commandstats"]).has("keyspace"));
});

t.test("MONITOR quoting and allocation sizes", async (t) => {
  t.equal(quoteRepr('a"b\\c\n\x00\xff'), '"a\\"b\\\\c\\n\\x00\\xff"');
  t.same([1, 8, 9, 17, 129, 161, 200].map(allocSize), [8, 8, 16, 32, 160, 192, 224]);
});
