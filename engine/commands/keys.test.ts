import fc from "fast-check";
import t from "tap";
import { bulk, bulks, err, int, NULL, NULL_ARRAY, OK, simple, type Reply } from "../../resp/reply";
import { digestValue } from "../digest";
import { Engine } from "../engine";
import { HashObject } from "../types/hash";
import { ListObject } from "../types/list";
import { SetObject } from "../types/set";
import { StreamObject } from "../types/stream";
import { ZSetObject } from "../types/zset";

function engineAt(start = 1_700_000_000_000): { e: Engine; x: (...argv: string[]) => Reply; clock: { now: number } } {
  const clock = { now: start };
  const e = new Engine({ clock: () => clock.now });
  return { e, x: (...argv) => e.execute(argv).reply, clock };
}

function scanReply(r: Reply): [string, string[]] {
  if (r.kind !== "array") throw new Error(`SCAN replied ${JSON.stringify(r)}`);
  const [c, ks] = r.items;
  if (c?.kind !== "bulk" || ks?.kind !== "bulks") throw new Error("bad SCAN reply shape");
  return [c.value, ks.values.map((k) => k ?? "")];
}

/** Runs a whole SCAN, calling `between` after every call; returns every key seen and the call count. */
function fullScan(x: (...argv: string[]) => Reply, args: string[], between: (call: number) => void, callsMax = 100_000): [Set<string>, number] {
  const seen = new Set<string>();
  let cursor = "0";
  for (let call = 1; call <= callsMax; call++) {
    const [next, keys] = scanReply(x("SCAN", cursor, ...args));
    for (const k of keys) seen.add(k);
    if (next === "0") return [seen, call];
    cursor = next;
    between(call);
  }
  throw new Error("SCAN did not finish");
}

// --- SCAN guarantees --------------------------------------------------------------------------

type Op = { kind: "add" } | { kind: "del"; i: number } | { kind: "readd"; i: number } | { kind: "overwrite"; i: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: "add" as const }),
  fc.nat().map((i) => ({ kind: "del" as const, i })),
  fc.nat().map((i) => ({ kind: "readd" as const, i })),
  fc.nat().map((i) => ({ kind: "overwrite" as const, i })),
);

t.test("SCAN returns every key present for the whole scan, whatever is added or deleted between calls", async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: 1, max: 25 }),
      fc.array(fc.array(opArb, { maxLength: 12 }), { maxLength: 120 }),
      (n, count, schedule) => {
        const { x } = engineAt();
        const initial: string[] = [];
        for (let i = 0; i < n; i++) {
          initial.push(`key:${i}`);
          x("SET", `key:${i}`, "v");
        }
        const interrupted = new Set<string>();
        const ever = new Set(initial);
        let added = 0;
        const [seen] = fullScan(x, ["COUNT", String(count)], (call) => {
          for (const op of schedule[call - 1] ?? []) {
            if (op.kind === "add") {
              const k = `new:${added++}`;
              ever.add(k);
              x("SET", k, "v");
              continue;
            }
            const k = initial[op.i % Math.max(1, n)];
            if (k === undefined) continue;
            if (op.kind === "del") {
              interrupted.add(k);
              x("DEL", k);
            } else if (op.kind === "readd") {
              x("SET", k, "again");
            } else {
              x("SET", k, "overwritten", "XX");
            }
          }
        });
        for (const k of initial) if (!interrupted.has(k) && !seen.has(k)) return false;
        for (const k of seen) if (!ever.has(k)) return false;
        return true;
      },
    ),
    { numRuns: 150 },
  );
});

t.test("SCAN visits about COUNT keys per call and terminates", async (t) => {
  const { x } = engineAt();
  for (let i = 0; i < 1000; i++) x("SET", `key:${i}`, "v");
  const [seen, calls] = fullScan(x, ["COUNT", "5"], () => {});
  t.equal(seen.size, 1000);
  t.ok(calls >= 200 && calls <= 201, `calls ${calls}`);
  const [all, one] = fullScan(x, ["COUNT", "5000"], () => {});
  t.equal(all.size, 1000);
  t.equal(one, 1);
});

t.test("SCAN survives FLUSHDB and SWAPDB (an old cursor starts over, never errors)", async (t) => {
  const { x } = engineAt();
  for (let i = 0; i < 50; i++) x("SET", `a:${i}`, "v");
  const [cursor] = scanReply(x("SCAN", "0", "COUNT", "10"));
  x("FLUSHDB");
  for (let i = 0; i < 20; i++) x("SET", `b:${i}`, "v");
  const seen = new Set<string>();
  let c = cursor;
  for (let call = 0; call < 100; call++) {
    const [next, keys] = scanReply(x("SCAN", c));
    keys.forEach((k) => seen.add(k));
    if (next === "0") break;
    c = next;
  }
  t.equal(seen.size, 20, "every key of the new dataset was returned");
});

t.test("SCAN options and errors", async (t) => {
  const { e, x, clock } = engineAt();
  for (let i = 0; i < 30; i++) x("SET", `key:${i}`, "v");
  x("RPUSH", "list", "a");
  x("HSET", "hash", "f", "v");
  t.same(x("SCAN", "abc"), err("ERR invalid cursor"));
  t.same(x("SCAN", " 1"), err("ERR invalid cursor"));
  t.same(x("SCAN", "18446744073709551616"), err("ERR invalid cursor"));
  t.same(scanReply(x("SCAN", "18446744073709551615")), ["0", []], "a cursor past the end ends the scan");
  t.same(x("SCAN", "0", "COUNT", "0"), err("ERR syntax error"));
  t.same(x("SCAN", "0", "COUNT", "x"), err("ERR value is not an integer or out of range"));
  t.same(x("SCAN", "0", "COUNT"), err("ERR syntax error"));
  t.same(x("SCAN", "0", "FOO", "bar"), err("ERR syntax error"));
  t.same(fullScan(x, ["MATCH", "key:1*", "COUNT", "7"], () => {})[0], new Set(["key:1", ...Array.from({ length: 10 }, (_, i) => `key:1${i}`)]));
  t.same(fullScan(x, ["TYPE", "LIST"], () => {})[0], new Set(["list"]));
  t.same(fullScan(x, ["TYPE", "hash", "MATCH", "h*"], () => {})[0], new Set(["hash"]));
  t.same(fullScan(x, ["TYPE", "nosuchtype"], () => {})[0], new Set());
  // Expired keys are skipped and deleted, each leaving a DEL.
  x("SET", "gone", "v", "PX", "1");
  clock.now += 10;
  const r = e.execute(["SCAN", "0", "COUNT", "1000"]);
  t.notOk(scanReply(r.reply)[1].includes("gone"));
  t.same(r.effects.map((f) => f.argv), [["DEL", "gone"]]);
});

// --- KEYS DBSIZE EXISTS TYPE DEL TOUCH --------------------------------------------------------

t.test("KEYS, DBSIZE, EXISTS, TYPE and DEL", async (t) => {
  const { e, x, clock } = engineAt();
  for (const k of ["key_x", "key_y", "foo_a", "foo_b"]) x("SET", k, "hello");
  t.same(x("KEYS", "foo*"), bulks(["foo_a", "foo_b"]));
  t.same(x("DBSIZE"), int(4));
  t.same(x("EXISTS", "key_x", "key_x", "nope"), int(2), "a key named twice counts twice");
  t.same(x("TYPE", "key_x"), simple("string"));
  t.same(x("TYPE", "nope"), simple("none"));
  x("RPUSH", "l", "a");
  t.same(x("TYPE", "l"), simple("list"));
  let r = e.execute(["DEL", "key_x", "key_y", "nope"]);
  t.same(r.reply, int(2));
  t.same(r.effects.map((f) => f.argv), [["DEL", "key_x", "key_y", "nope"]]);
  r = e.execute(["UNLINK", "nope"]);
  t.same(r.reply, int(0));
  t.same(r.effects, [], "nothing deleted, nothing emitted");
  // An expired key: KEYS hides it without deleting it, DEL counts it as absent.
  x("SET", "v", "1", "PX", "5");
  clock.now += 10;
  t.same(x("KEYS", "v"), bulks([]));
  t.same(x("DBSIZE"), int(4), "still stored until touched");
  r = e.execute(["DEL", "v"]);
  t.same(r.reply, int(0));
  t.same(r.effects.map((f) => f.argv), [["DEL", "v"]], "the lazy expiry's DEL only");
  t.same(x("TOUCH", "foo_a", "foo_b", "nope"), int(2));
});

// --- RENAME MOVE COPY -------------------------------------------------------------------------

t.test("RENAME and RENAMENX", async (t) => {
  const { x } = engineAt();
  t.same(x("RENAME", "nokey", "x"), err("ERR no such key"));
  t.same(x("RENAME", "nokey", "nokey"), err("ERR no such key"));
  x("SET", "a", "1");
  t.same(x("RENAME", "a", "a"), OK);
  t.same(x("RENAMENX", "a", "a"), int(0));
  x("EXPIRE", "a", "100");
  x("SET", "b", "2");
  t.same(x("RENAME", "a", "b"), OK);
  t.same(x("GET", "b"), bulk("1"));
  t.same(x("TTL", "b"), int(100), "the TTL moves with the value");
  t.same(x("EXISTS", "a"), int(0));
  x("SET", "c", "3");
  x("EXPIRE", "b", "50");
  t.same(x("RENAME", "c", "b"), OK);
  t.same(x("TTL", "b"), int(-1), "the target's TTL is not inherited");
  x("SET", "d", "4");
  t.same(x("RENAMENX", "d", "b"), int(0));
  t.same(x("RENAMENX", "d", "e"), int(1));
  t.same(x("GET", "e"), bulk("4"));
});

t.test("MOVE", async (t) => {
  const { x } = engineAt();
  x("SET", "k", "v", "EX", "100");
  t.same(x("MOVE", "k", "notanumber"), err("ERR value is not an integer or out of range"));
  t.same(x("MOVE", "k", "16"), err("ERR DB index is out of range"));
  t.same(x("MOVE", "k", "0"), err("ERR source and destination objects are the same"));
  t.same(x("MOVE", "nokey", "1"), int(0));
  t.same(x("MOVE", "k", "1"), int(1));
  t.same(x("EXISTS", "k"), int(0));
  x("SELECT", "1");
  t.same(x("TTL", "k"), int(100));
  t.same(x("GET", "k"), bulk("v"));
  x("SELECT", "0");
  x("SET", "k", "other");
  t.same(x("MOVE", "k", "1"), int(0), "the key exists in the target db");
});

t.test("COPY copies every type deeply, with its TTL", async (t) => {
  const { e, x } = engineAt();
  const values = {
    s: "text",
    l: ListObject.fromArray(["a", "b", "1"]),
    set: SetObject.fromMembers(["1", "2", "x"]),
    h: HashObject.fromEntries([["f", "v"]]),
    z: ZSetObject.fromEntries([
      ["m", 1.5],
      ["n", -2],
    ]),
    st: new StreamObject(),
  };
  for (const [k, v] of Object.entries(values)) e.db(0).data.set(k, v);
  x("EXPIRE", "h", "100");
  for (const [k, v] of Object.entries(values)) {
    t.same(x("COPY", k, `${k}-copy`), int(1), k);
    const copy = e.db(0).data.get(`${k}-copy`);
    if (typeof v !== "string") t.not(copy, v, `${k}: a new object`);
    if (copy !== undefined) t.equal(digestValue(copy), digestValue(v), `${k}: same contents`);
  }
  t.same(x("TTL", "h-copy"), int(100));
  t.same(x("TTL", "l-copy"), int(-1));
  x("RPUSH", "l-copy", "more");
  t.same(x("LLEN", "l"), int(3), "the original list is independent of its copy");
  t.same(x("COPY", "s", "s-copy"), int(0), "no REPLACE");
  x("SET", "s", "new");
  t.same(x("COPY", "s", "s-copy", "REPLACE"), int(1));
  t.same(x("GET", "s-copy"), bulk("new"));
  t.same(x("COPY", "s", "s", "DB", "0"), err("ERR source and destination objects are the same"));
  t.same(x("COPY", "s", "s", "DB", "1"), int(1));
  t.same(x("COPY", "s", "x", "DB", "notanumber"), err("ERR value is not an integer or out of range"));
  t.same(x("COPY", "s", "x", "DB", "99"), err("ERR DB index is out of range"));
  t.same(x("COPY", "s", "x", "DB"), err("ERR syntax error"));
  t.same(x("COPY", "s", "x", "REPLACE", "bogus"), err("ERR syntax error"));
  t.same(x("COPY", "nokey", "x"), int(0));
});

// --- FLUSHDB FLUSHALL SWAPDB and WATCH ---------------------------------------------------------

t.test("FLUSHDB, FLUSHALL and SWAPDB: replies, effects and WATCH", async (t) => {
  const { e, x } = engineAt();
  const watcher = e.newSession();
  const w = (...argv: string[]) => e.execute(argv, watcher).reply;
  t.same(x("FLUSHDB", "bogus"), err("ERR syntax error"));
  t.same(x("FLUSHALL", "ASYNC", "x"), err("ERR syntax error"));
  t.same(e.execute(["FLUSHDB"]).effects, [], "flushing an empty db writes nothing");
  x("SET", "k", "v");
  w("WATCH", "k");
  let r = e.execute(["FLUSHDB", "ASYNC"]);
  t.same(r.reply, OK);
  t.same(r.effects.map((f) => f.argv), [["FLUSHDB", "ASYNC"]]);
  w("MULTI");
  w("PING");
  t.same(w("EXEC"), NULL_ARRAY, "FLUSHDB touched the watched key");
  x("SET", "k", "v");
  x("SELECT", "3");
  x("SET", "other", "v");
  x("SELECT", "0");
  t.same(x("FLUSHALL", "sync"), OK);
  t.same(x("DBSIZE"), int(0));
  x("SELECT", "3");
  t.same(x("DBSIZE"), int(0));
  x("SELECT", "0");
  // SWAPDB
  t.same(x("SWAPDB", "x", "1"), err("ERR invalid first DB index"));
  t.same(x("SWAPDB", "0", "y"), err("ERR invalid second DB index"));
  t.same(x("SWAPDB", "0", "16"), err("ERR DB index is out of range"));
  x("SET", "a", "in-0", "EX", "100");
  w("WATCH", "a");
  r = e.execute(["SWAPDB", "0", "1"]);
  t.same(r.effects.map((f) => f.argv), [["SWAPDB", "0", "1"]]);
  t.same(x("EXISTS", "a"), int(0));
  x("SELECT", "1");
  t.same(x("GET", "a"), bulk("in-0"));
  t.same(x("TTL", "a"), int(100), "expires travel with their db");
  w("MULTI");
  t.same(w("EXEC"), NULL_ARRAY, "SWAPDB touched the watched key");
});

t.test("RANDOMKEY", async (t) => {
  const { x, clock } = engineAt();
  t.same(x("RANDOMKEY"), NULL);
  x("SET", "foo", "x");
  x("SET", "bar", "y");
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const r = x("RANDOMKEY");
    if (r.kind === "bulk") seen.add(r.value);
  }
  t.same(seen, new Set(["foo", "bar"]));
  x("DEL", "foo", "bar");
  t.same(x("RANDOMKEY"), NULL);
  x("SET", "v1", "x", "PX", "1");
  x("SET", "v2", "x", "PX", "1");
  clock.now += 5;
  t.same(x("RANDOMKEY"), NULL, "expired keys are deleted, not returned");
  t.same(x("DBSIZE"), int(0));
});

// --- OBJECT -------------------------------------------------------------------------------------

t.test("OBJECT ENCODING follows Redis 7.0's names and thresholds", async (t) => {
  const { e, x } = engineAt();
  const enc = (k: string): Reply => x("OBJECT", "ENCODING", k);
  x("SET", "i", "12345");
  x("SET", "e", "x".repeat(44));
  x("SET", "r", "x".repeat(45));
  x("SET", "n", "012");
  t.same([enc("i"), enc("e"), enc("r"), enc("n")], [bulk("int"), bulk("embstr"), bulk("raw"), bulk("embstr")]);
  t.same(enc("nokey"), NULL);
  x("RPUSH", "l", "a");
  t.same(enc("l"), bulk("quicklist"));
  e.db(0).data.set("s1", SetObject.fromMembers(["1", "2", "3"]));
  e.db(0).data.set("s2", SetObject.fromMembers(["1", "a"]));
  t.same([enc("s1"), enc("s2")], [bulk("intset"), bulk("hashtable")]);
  e.config.set("set-max-intset-entries", "2");
  t.same(enc("s1"), bulk("hashtable"));
  x("HSET", "h", "f", "v");
  t.same(enc("h"), bulk("listpack"));
  x("HSET", "h", "long", "v".repeat(65));
  t.same(enc("h"), bulk("hashtable"));
  e.db(0).data.set("z", ZSetObject.fromEntries([["m", 1]]));
  t.same(enc("z"), bulk("listpack"));
  e.config.set("zset-max-listpack-entries", "0");
  t.same(enc("z"), bulk("skiplist"));
  e.db(0).data.set("st", new StreamObject());
  t.same(enc("st"), bulk("stream"));
  t.same(x("OBJECT", "ENCODING"), err("ERR wrong number of arguments for 'object|encoding' command"));
  t.same(x("OBJECT", "NOPE", "k"), err("ERR unknown subcommand 'NOPE'. Try OBJECT HELP."));
  const help = x("OBJECT", "HELP");
  t.same(help.kind === "array" ? help.items[0] : null, simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
  t.same(help.kind === "array" ? help.items.length : 0, 15);
});

t.test("OBJECT IDLETIME, FREQ and REFCOUNT", async (t) => {
  const { e, x, clock } = engineAt();
  x("SET", "k", "v");
  x("OBJECT", "IDLETIME", "k");
  clock.now += 3500;
  t.same(x("TTL", "k"), int(-1));
  t.same(x("TYPE", "k"), simple("string"));
  t.same(x("EXISTS", "k"), int(1));
  t.same(x("OBJECT", "IDLETIME", "k"), int(3), "TTL, TYPE and EXISTS do not count as accesses");
  t.same(x("TOUCH", "k"), int(1));
  t.same(x("OBJECT", "IDLETIME", "k"), int(0));
  clock.now += 2000;
  x("RENAME", "k", "k2");
  t.same(x("OBJECT", "IDLETIME", "k2"), int(2), "RENAME keeps the value's access time");
  t.same(x("OBJECT", "IDLETIME", "nokey"), NULL);
  t.same(
    x("OBJECT", "FREQ", "k2"),
    err(
      "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
    ),
  );
  e.config.set("maxmemory-policy", "volatile-lfu");
  t.same(x("OBJECT", "FREQ", "k2"), int(5), "a fresh key starts at LFU_INIT_VAL");
  x("SET", "n", "100");
  x("SET", "big", "100000");
  t.same(x("OBJECT", "REFCOUNT", "n"), int(2147483647), "shared integer");
  t.same(x("OBJECT", "REFCOUNT", "big"), int(1));
  t.same(x("OBJECT", "REFCOUNT", "nokey"), NULL);
  t.same(x("OBJECT", "HELP", "extra"), err("ERR wrong number of arguments for 'object|help' command"));
});

t.test("keyspace effects replay to an identical dataset", async (t) => {
  const { e, x } = engineAt();
  const replica = new Engine({ role: "replica" });
  const run = (...argv: string[]): Reply => {
    const r = e.execute(argv);
    replica.apply(r.effects);
    return r.reply;
  };
  run("SET", "a", "1");
  run("RPUSH", "l", "x", "y");
  run("HSET", "h", "f", "v");
  run("EXPIRE", "h", "100");
  run("COPY", "h", "h2", "DB", "2");
  run("RENAME", "a", "b");
  run("MOVE", "b", "3");
  run("SWAPDB", "0", "2");
  run("COPY", "h2", "h3");
  run("DEL", "h2");
  t.equal(replica.digest(), e.digest());
  run("FLUSHALL");
  t.equal(replica.digest(), e.digest());
  t.equal(e.digest(), "0".repeat(40));
  t.same(x("DBSIZE"), int(0));
});

t.test("SWAPDB serves a client blocked on a key that the swap brings in", async (t) => {
  const e = new Engine();
  const waiter = e.newSession();
  const other = e.newSession();
  const served: Reply[] = [];
  e.blocking.onUnblock = (s, r) => {
    if (s === waiter) served.push(r);
  };
  e.execute(["BLPOP", "q", "0"], waiter);
  e.execute(["SELECT", "1"], other);
  e.execute(["RPUSH", "q", "x"], other);
  t.same(served, [], "still blocked: the list is in db 1");
  t.same(e.execute(["SWAPDB", "0", "1"], other).reply, OK);
  t.same(served, [{ kind: "array", items: [bulk("q"), bulk("x")] }]);
});
