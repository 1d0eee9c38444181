// CLIENT PAUSE really pauses: held clients execute nothing (ALL) or no writes
// (WRITE) until UNPAUSE or the timeout, then resume in order; expiry waits too.
import t from "tap";
import Redis from "ioredis";
import { startServer, type ServerProcess } from "./support/server";

let server: ServerProcess;

t.before(async () => {
  server = await startServer();
});

t.teardown(async () => {
  await server.stop();
});

function infoField(info: string, name: string): number {
  const m = new RegExp(`^${name}:(\\d+)`, "m").exec(info);
  return m === null ? NaN : Number(m[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test("PAUSE WRITE holds writes but serves reads; UNPAUSE resumes in order", async (t) => {
  const admin = new Redis(server.port);
  const writer = new Redis(server.port);
  await admin.set("k", "before");
  t.equal(await admin.client("PAUSE", 10000, "WRITE"), "OK");
  const events: string[] = [];
  const set = writer.set("k", "after").then((r) => events.push(`set:${r}`));
  const get = writer.get("k").then((r) => events.push(`get:${r}`));
  t.equal(await admin.get("k"), "before", "reads from other clients are served");
  await sleep(100);
  t.same(events, [], "the writer's SET and the GET behind it wait");
  t.equal(infoField(await admin.info("clients"), "blocked_clients"), 1, "the held client counts as blocked");
  t.match(String(await admin.client("LIST")), /flags=b /);
  const third = new Redis(server.port);
  await t.rejects(third.call("SET", "k"), /^ERR wrong number of arguments for 'set' command$/, "a write that fails before running is answered at once");
  third.disconnect();
  t.equal(await admin.client("UNPAUSE"), "OK");
  await Promise.all([set, get]);
  t.same(events.slice(0, 2), ["set:OK", "get:after"], "held requests run in their original order");
  admin.disconnect();
  writer.disconnect();
});

t.test("PAUSE ALL holds every command until the timeout", async (t) => {
  const admin = new Redis(server.port);
  const other = new Redis(server.port);
  await other.ping();
  const started = Date.now();
  t.equal(await admin.client("PAUSE", 300, "ALL"), "OK");
  t.equal(await other.ping(), "PONG");
  const waited = Date.now() - started;
  t.ok(waited >= 250, `PING waited for the pause to end (${waited} ms)`);
  admin.disconnect();
  other.disconnect();
});

t.test("a transaction with writes waits; read-only transactions do not", async (t) => {
  const admin = new Redis(server.port);
  const c = new Redis(server.port);
  await admin.set("tx", "1");
  await admin.client("PAUSE", 10000, "WRITE");
  const ro = await c.multi().get("tx").ping().exec();
  t.same(ro, [
    [null, "1"],
    [null, "PONG"],
  ]);
  await admin.client("UNPAUSE");
  const c2 = new Redis(server.port);
  await c2.call("MULTI");
  await c2.call("INCR", "tx");
  await admin.client("PAUSE", 10000, "WRITE");
  let done = false;
  const exec = c2.call("EXEC").then((r) => {
    done = true;
    return r;
  });
  await sleep(100);
  t.notOk(done, "EXEC with a queued write is held");
  await admin.client("UNPAUSE");
  t.same(await exec, [2]);
  admin.disconnect();
  c.disconnect();
  c2.disconnect();
});

t.test("keys do not expire while paused, and do after", async (t) => {
  const admin = new Redis(server.port);
  await admin.call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
  const before = infoField(await admin.info("stats"), "expired_keys");
  await admin.select(5);
  await admin.set("ttl1", "v", "PX", 20);
  await admin.client("PAUSE", 10000, "WRITE");
  await sleep(150);
  t.equal(await admin.get("ttl1"), null, "the key reads as expired");
  t.equal(infoField(await admin.info("stats"), "expired_keys"), before, "but nothing was deleted");
  t.match(await admin.info("keyspace"), /db5:keys=1,/, "the key is still stored");
  await admin.client("UNPAUSE");
  t.equal(await admin.get("ttl1"), null);
  t.equal(infoField(await admin.info("stats"), "expired_keys"), before + 1, "expired once clients resume");
  t.match(await admin.info("replication"), /role:master/);
  admin.disconnect();
});

t.test("CLIENT PAUSE argument errors", async (t) => {
  const r = new Redis(server.port);
  await t.rejects(r.call("CLIENT", "PAUSE", "abc"), /^ERR timeout is not an integer or out of range$/);
  await t.rejects(r.call("CLIENT", "PAUSE", "-1"), /^ERR timeout is negative$/);
  await t.rejects(r.call("CLIENT", "PAUSE", "10", "READ"), /^ERR CLIENT PAUSE mode must be WRITE or ALL$/);
  t.equal(await r.call("CLIENT", "PAUSE", "0"), "OK", "a zero timeout ends at once");
  t.equal(await r.ping(), "PONG");
  r.disconnect();
});
