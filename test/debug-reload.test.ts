// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE] against the real standalone server
// (port 26120): the dataset goes through the snapshot format and back, and
// must come out the same (digest, every type, TTLs as absolute times, every db).
// The last test runs it on a durable primary and replica (`mnemo up`, 27xxx ports).
import t from "tap";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Redis from "ioredis";
import { startServer, type ServerProcess } from "./support/server";
import { startUp, stopUp } from "./support/cluster";

const PORT = 26120;
let server: ServerProcess;
let r: Redis;

t.before(async () => {
  server = await startServer(["--port", String(PORT)]);
  r = new Redis(server.port, "127.0.0.1", { lazyConnect: false, maxRetriesPerRequest: 1 });
});

t.teardown(async () => {
  r.disconnect();
  await server.stop();
});

async function fill(): Promise<void> {
  await r.flushall();
  await r.set("str", "hello");
  await r.set("int", "12345");
  await r.set("bin", Buffer.from([0, 255, 13, 10, 128]));
  await r.set("ttl-str", "v", "PX", 500_000);
  await r.rpush("list", "a", "b", "c", "d");
  await r.sadd("intset", "3", "1", "2");
  await r.sadd("hashset", "x", "y", "z");
  await r.hset("hash", "f1", "v1", "f2", "v2");
  await r.zadd("zset", "1.5", "a", "-2", "b", "inf", "c");
  await r.xadd("stream", "1-1", "f", "v");
  await r.xadd("stream", "2-1", "g", "w");
  await r.xgroup("CREATE", "stream", "grp", "0");
  await r.xreadgroup("GROUP", "grp", "alice", "COUNT", "1", "STREAMS", "stream", ">");
  await r.pexpire("hash", 900_000);
  await r.pexpire("zset", 800_000);
  await r.select(5);
  await r.set("in-db-5", "five");
  await r.pexpire("in-db-5", 700_000);
  await r.select(0);
}

async function snapshotOf(): Promise<Record<string, unknown>> {
  return {
    digest: await r.debug("DIGEST"),
    dbsize: await r.dbsize(),
    str: await r.get("str"),
    bin: (await r.getBuffer("bin"))?.toString("hex"),
    list: await r.lrange("list", 0, -1),
    intset: await r.smembers("intset"),
    hashset: (await r.smembers("hashset")).sort(),
    hash: await r.hgetall("hash"),
    zset: await r.call("ZRANGE", "zset", "0", "-1", "WITHSCORES"),
    stream: await r.xrange("stream", "-", "+"),
    pending: await r.call("XPENDING", "stream", "grp"),
    expiretimes: await Promise.all(["str", "ttl-str", "hash", "zset"].map((k) => r.pexpiretime(k))),
    encodings: await Promise.all(["int", "list", "intset", "hashset", "hash", "zset", "stream"].map((k) => r.object("ENCODING", k))),
  };
}

t.test("every type, TTL and db survives DEBUG RELOAD with the same digest", async (t) => {
  await fill();
  const before = await snapshotOf();
  t.not(before.digest, "0".repeat(40));
  t.equal(await r.debug("RELOAD"), "OK");
  const after = await snapshotOf();
  t.same(after, before);
  await r.select(5);
  t.equal(await r.get("in-db-5"), "five");
  t.ok((await r.pttl("in-db-5")) > 690_000);
  await r.select(0);
});

t.test("a key with a TTL keeps its absolute expire time, not its remaining TTL", async (t) => {
  await r.flushall();
  await r.set("k", "v", "PX", 60_000);
  const at = await r.pexpiretime("k");
  // Time passes between the save and the load (and before it): the deadline must not move.
  await new Promise((res) => setTimeout(res, 300));
  t.equal(await r.debug("RELOAD"), "OK");
  t.equal(await r.pexpiretime("k"), at);
  const ttl = await r.pttl("k");
  t.ok(ttl <= 60_000 - 300 && ttl > 50_000, `pttl ${ttl}`);
});

t.test("an expired key that was not yet deleted does not come back alive", async (t) => {
  await r.flushall();
  await r.debug("SET-ACTIVE-EXPIRE", "0");
  await r.set("gone", "v", "PX", 20);
  await new Promise((res) => setTimeout(res, 60));
  t.equal(await r.debug("RELOAD"), "OK");
  t.equal(await r.get("gone"), null);
  await r.debug("SET-ACTIVE-EXPIRE", "1");
});

t.test("NOSAVE loads the dump of the previous reload; NOFLUSH and MERGE; bad options", async (t) => {
  await r.flushall();
  await r.set("a", "1");
  t.equal(await r.debug("RELOAD"), "OK");
  await r.set("a", "2");
  await r.set("b", "new");
  // NOSAVE: back to the dump, as Redis loads its existing dump.rdb.
  t.equal(await r.debug("RELOAD", "NOSAVE"), "OK");
  t.equal(await r.get("a"), "1");
  t.equal(await r.get("b"), null);

  await r.set("a", "3");
  await r.set("c", "kept");
  // NOFLUSH without MERGE: "a" is in both; Redis would abort; Mnemo fails and changes nothing.
  await t.rejects(r.debug("RELOAD", "NOSAVE", "NOFLUSH"), /Error trying to load the RDB dump/);
  t.equal(await r.get("a"), "3");
  t.equal(await r.get("c"), "kept");
  // MERGE: the dump's value wins, other keys stay.
  t.equal(await r.debug("RELOAD", "nosave", "noflush", "merge"), "OK");
  t.equal(await r.get("a"), "1");
  t.equal(await r.get("c"), "kept");

  await t.rejects(r.debug("RELOAD", "FAST"), /DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options/);
});

t.test("WATCH sees a reload as a flush of the watched key", async (t) => {
  await r.flushall();
  await r.set("w", "1");
  const other = new Redis(server.port, "127.0.0.1");
  try {
    await other.watch("w");
    await r.debug("RELOAD");
    const res = await other.multi().set("w", "2").exec();
    t.equal(res, null, "the transaction is aborted");
  } finally {
    other.disconnect();
  }
});

t.test("encodings are recomputed from the configuration, as a load does", async (t) => {
  await r.flushall();
  // A set that left the intset encoding (a non-integer member, since removed): Redis's
  // loader makes it an intset again, and SMEMBERS then answers in integer order.
  await r.sadd("s", "3", "1", "2", "x");
  await r.srem("s", "x");
  t.same(await r.smembers("s"), ["3", "1", "2"], "hashtable order before the reload");
  t.equal(await r.debug("RELOAD"), "OK");
  t.same(await r.smembers("s"), ["1", "2", "3"], "intset order after it");
  // The configured limit decides: with set-max-intset-entries 2 it loads as a hashtable.
  await r.config("SET", "set-max-intset-entries", "2");
  t.equal(await r.debug("RELOAD"), "OK");
  t.equal(await r.object("ENCODING", "s"), "hashtable");
  t.same((await r.smembers("s")).sort(), ["1", "2", "3"]);
  await r.config("SET", "set-max-intset-entries", "512");
});

t.test("a larger dataset reloads with the same digest", async (t) => {
  await r.flushall();
  const p = r.pipeline();
  for (let i = 0; i < 2000; i++) {
    p.set(`s:${i}`, `v${i}`);
    if (i % 10 === 0) p.hset(`h:${i % 50}`, `f${i}`, "x".repeat(i % 100));
    if (i % 7 === 0) p.zadd(`z:${i % 20}`, String(i / 3), `m${i}`);
    if (i % 3 === 0) p.pexpire(`s:${i}`, 1_000_000 + i);
  }
  await p.exec();
  const digest = await r.debug("DIGEST");
  const size = await r.dbsize();
  t.equal(await r.debug("RELOAD"), "OK");
  t.equal(await r.debug("DIGEST"), digest);
  t.equal(await r.dbsize(), size);
});

/** A field of INFO's text. */
function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

async function until<T>(what: string, f: () => Promise<T | null>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

t.test("on a durable primary and replica: same dataset, nothing logged, a changing NOSAVE refused", async (t) => {
  // mnemo up on this test's own ports: servers 27479-27480, log 27501-27503 (raft +100, snapshotter +200).
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-debug-reload-"));
  const up = await startUp({ dataDir, port: 27479, logPort: 27501, leaseMs: 2000 });
  const clients: Redis[] = [];
  const connect = (port: number): Redis => {
    const c = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  try {
    const a = connect(27479);
    const b = connect(27480);
    const [p, q] = await until("a primary", async () => {
      const roleA = ((await a.call("ROLE")) as unknown[])[0];
      const roleB = ((await b.call("ROLE")) as unknown[])[0];
      if (roleA === "master") return [a, b] as const;
      return roleB === "master" ? ([b, a] as const) : null;
    });
    await p.set("s", "v");
    await p.set("t", "v", "PX", 600_000);
    await p.hset("h", "f", "v");
    await p.zadd("z", "1", "m");
    await p.sadd("set", "1", "2");
    await p.rpush("l", "x", "y");
    const digest = await p.debug("DIGEST");
    await until("the replica to catch up", async () => ((await q.debug("DIGEST")) === digest ? true : null));
    const seq = infoField(await p.info("replication"), "mnemo_applied_seq");
    const at = await p.pexpiretime("t");

    t.equal(await p.debug("RELOAD"), "OK", "the primary reloads");
    t.equal(await q.debug("RELOAD"), "OK", "the replica reloads");
    t.equal(await p.debug("DIGEST"), digest, "the primary's dataset is unchanged");
    t.equal(await q.debug("DIGEST"), digest, "the replica's too");
    t.equal(await p.pexpiretime("t"), at, "the absolute expire time is kept");
    t.equal(infoField(await p.info("replication"), "mnemo_applied_seq"), seq, "no record was written to the log");
    t.equal(await p.debug("RELOAD", "NOSAVE", "NOFLUSH", "MERGE"), "OK", "a dump equal to the dataset may be reloaded");

    // The dump is now older than the dataset: loading it would change data outside the log.
    await p.set("s", "changed");
    await t.rejects(p.debug("RELOAD", "NOSAVE"), /Error trying to load the RDB dump/);
    t.equal(await p.get("s"), "changed");
    const after = await p.debug("DIGEST");
    await until("the replica to apply the write", async () => ((await q.debug("DIGEST")) === after ? true : null));
    t.pass("the replica follows the log after the reloads");
  } finally {
    for (const c of clients) c.disconnect();
    await stopUp(up);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
