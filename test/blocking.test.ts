// Blocking list commands: fairness, timeouts, wake-up by other commands and
// by EXEC, effects of a served client; in the engine and over real sockets.
import t from "tap";
import Redis from "ioredis";
import { Engine } from "../engine/engine";
import type { Reply } from "../resp/reply";
import type { Session } from "../engine/session";
import { startServer } from "./support/server";

function engineWithInbox(): { e: Engine; inbox: [Session, Reply][]; now: { ms: number } } {
  const now = { ms: 1_000_000 };
  const e = new Engine({ clock: () => now.ms });
  const inbox: [Session, Reply][] = [];
  e.blocking.onUnblock = (s, r) => inbox.push([s, r]);
  return { e, inbox, now };
}

t.test("first blocked, first served; the served pop is an LPOP effect", async (t) => {
  const { e, inbox } = engineWithInbox();
  const a = e.newSession();
  const b = e.newSession();
  t.same(e.execute(["BLPOP", "q", "0"], a).reply, { kind: "none" });
  t.same(e.execute(["BLPOP", "q", "0"], b).reply, { kind: "none" });
  t.equal(e.blocking.size, 2);
  const pushed = e.execute(["RPUSH", "q", "x"]);
  t.same(pushed.reply, { kind: "int", value: 1 });
  t.equal(inbox.length, 1);
  t.equal(inbox[0]?.[0], a, "the first client to block is served first");
  t.same(inbox[0]?.[1], { kind: "array", items: [{ kind: "bulk", value: "q" }, { kind: "bulk", value: "x" }] });
  t.same(
    pushed.effects.map((f) => f.argv),
    [
      ["RPUSH", "q", "x"],
      ["LPOP", "q"],
    ],
    "the push, then the served client's pop, in one unit",
  );
  t.ok(e.blocking.isBlocked(b), "the second client keeps waiting");
  e.execute(["RPUSH", "q", "y"]);
  t.equal(inbox[1]?.[0], b);
  t.equal(e.blocking.size, 0);
});

t.test("a key of another type does not wake the client; EXEC wakes after the whole transaction", async (t) => {
  const { e, inbox } = engineWithInbox();
  const a = e.newSession();
  e.execute(["BLPOP", "k", "0"], a);
  e.execute(["SET", "k", "str"]);
  t.equal(inbox.length, 0, "a string at the key does not serve BLPOP");
  e.execute(["DEL", "k"]);
  const tx = e.newSession();
  e.execute(["MULTI"], tx);
  e.execute(["RPUSH", "k", "1", "2"], tx);
  e.execute(["LPOP", "k"], tx);
  const r = e.execute(["EXEC"], tx);
  t.equal(r.reply.kind, "array");
  t.same(inbox[0]?.[1], { kind: "array", items: [{ kind: "bulk", value: "k" }, { kind: "bulk", value: "2" }] }, "served with what EXEC left");
});

t.test("inside MULTI a blocking command answers its timeout reply at once", async (t) => {
  const { e } = engineWithInbox();
  const s = e.newSession();
  e.execute(["MULTI"], s);
  e.execute(["BLPOP", "none", "0"], s);
  e.execute(["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0"], s);
  t.same(e.execute(["EXEC"], s).reply, { kind: "array", items: [{ kind: "nullArray" }, { kind: "null" }] });
  t.equal(e.blocking.size, 0);
});

t.test("timeout arguments are checked like Redis", async (t) => {
  const { e } = engineWithInbox();
  t.same(e.execute(["BLPOP", "q", "abc"]).reply, { kind: "error", message: "ERR timeout is not a float or out of range" });
  t.same(e.execute(["BLPOP", "q", "-1"]).reply, { kind: "error", message: "ERR timeout is negative" });
  e.execute(["SET", "s", "v"]);
  t.same(e.execute(["BLPOP", "s", "0"]).reply, { kind: "error", message: "WRONGTYPE Operation against a key holding the wrong kind of value" });
});

t.test("over TCP: BLPOP timeout, FIFO wake-up, BLMOVE, disconnect while blocked", async (t) => {
  const srv = await startServer();
  t.teardown(() => srv.stop());
  const mk = (): Redis => new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: false, maxRetriesPerRequest: 1 });
  const [c1, c2, c3] = [mk(), mk(), mk()];
  t.teardown(() => {
    c1.disconnect();
    c2.disconnect();
    c3.disconnect();
  });
  const started = Date.now();
  t.equal(await c1.blpop("nothing", 0.2), null, "times out with a null reply");
  t.ok(Date.now() - started >= 150, "and not before its timeout");

  const first = c1.blpop("jobs", 5);
  await new Promise((r) => setTimeout(r, 50));
  const second = c2.blpop("jobs", 5);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(await c3.rpush("jobs", "a", "b"), 2);
  t.same(await first, ["jobs", "a"]);
  t.same(await second, ["jobs", "b"]);

  const moved = c1.blmove("src", "dst", "LEFT", "RIGHT", 5);
  await new Promise((r) => setTimeout(r, 50));
  await c3.lpush("src", "m");
  t.equal(await moved, "m");
  t.same(await c3.lrange("dst", 0, -1), ["m"]);

  const quitter = mk();
  void quitter.blpop("gone", 0).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 50));
  quitter.disconnect();
  await new Promise((r) => setTimeout(r, 50));
  await c3.rpush("gone", "kept");
  t.same(await c3.lrange("gone", 0, -1), ["kept"], "a disconnected client is not served");
  t.equal(await c3.ping(), "PONG");
});
