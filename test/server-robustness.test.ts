// The server survives bad clients: protocol errors, oversized requests,
// disconnects mid-command, too many clients, idle clients, a throwing handler,
// and it stops gracefully on SIGTERM and SHUTDOWN.
import t from "tap";
import { connect, type Socket } from "node:net";
import Redis from "ioredis";
import { err } from "../resp/reply";
import { Server } from "../cluster/server";
import { startServer, type ServerProcess } from "./support/server";

/** Sends raw bytes; resolves with what came back before the server closed (or `waitMs` passed). */
function exchange(port: number, payload: string | Buffer, waitMs = 2000): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    let reply = "";
    let settled = false;
    const done = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      s.destroy();
      resolve({ reply, closed });
    };
    s.on("data", (d: Buffer) => (reply += d.toString("latin1")));
    s.on("close", () => done(true));
    s.on("error", () => done(true));
    s.write(payload);
    setTimeout(() => done(false), waitMs);
  });
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test("protocol errors close only the offending connection", async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop().then(() => undefined));
  const bystander = new Redis(server.port);
  await bystander.set("alive", "yes");
  const cases: [string, string | Buffer, RegExp][] = [
    ["bad multibulk length", "*3000000000\r\n", /^-ERR Protocol error: invalid multibulk length\r\n$/],
    ["bad bulk header", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", /^-ERR Protocol error: expected '\$', got 'f'\r\n$/],
    ["bulk over proto-max-bulk-len", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n", /^-ERR Protocol error: invalid bulk length\r\n$/],
    ["unbalanced quotes", 'set """test-key""" test-value\r\nping\r\n', /^-ERR Protocol error: unbalanced quotes in request\r\n$/],
    ["inline request over 64 KB", Buffer.alloc(70_000, 0x61), /^-ERR Protocol error: too big inline request\r\n$/],
    ["good request then garbage", "PING\r\n*1\r\nfoo\r\n", /^\+PONG\r\n-ERR Protocol error: expected '\$', got 'f'\r\n$/],
  ];
  for (const [name, payload, expected] of cases) {
    const r = await exchange(server.port, payload);
    t.match(r.reply, expected, name);
    t.ok(r.closed, `${name}: the connection is closed`);
  }
  t.equal(await bystander.get("alive"), "yes", "other clients are unaffected");
  t.equal((await exchange(server.port, "\r\n*-10\r\nPING\r\n", 300)).reply, "+PONG\r\n", "empty and negative multibulks are ignored");
  bystander.disconnect();
});

t.test("client-query-buffer-limit closes a client that sends too much; disconnects mid-command are harmless", async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop().then(() => undefined));
  const admin = new Redis(server.port);
  await admin.config("SET", "client-query-buffer-limit", "1mb");
  const big = Buffer.concat([Buffer.from("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n"), Buffer.alloc(2_000_000, 0x78)]);
  const r = await exchange(server.port, big);
  t.ok(r.closed, "closed");
  t.equal(r.reply, "", "without a reply, as Redis does");
  t.match(server.output(), /max query buffer length/, "and logged");
  // Half a request, then gone.
  const s = await openSocket(server.port);
  s.write("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100\r\nabc");
  s.destroy();
  // A large reply to a client that leaves before reading it.
  await admin.config("SET", "client-query-buffer-limit", "1gb");
  await admin.set("huge", "y".repeat(8 * 1024 * 1024));
  const s2 = await openSocket(server.port);
  s2.write("*2\r\n$3\r\nGET\r\n$4\r\nhuge\r\n*2\r\n$3\r\nGET\r\n$4\r\nhuge\r\n");
  await sleep(20);
  s2.destroy();
  await sleep(100);
  t.equal(await admin.get("half"), null);
  t.equal(await admin.ping(), "PONG", "the server is fine");
  admin.disconnect();
});

t.test("maxclients refuses the extra client with Redis's error", async (t) => {
  const server = await startServer(["--maxclients", "2"]);
  t.teardown(() => server.stop().then(() => undefined));
  const a = await openSocket(server.port);
  const b = await openSocket(server.port);
  await sleep(50);
  const r = await exchange(server.port, "PING\r\n");
  t.equal(r.reply, "-ERR max number of clients reached\r\n");
  t.ok(r.closed);
  a.destroy();
  await sleep(100);
  t.equal((await exchange(server.port, "PING\r\n", 300)).reply, "+PONG\r\n", "a slot freed up");
  b.destroy();
  const admin = new Redis(server.port);
  t.match(await admin.info("stats"), /rejected_connections:1/);
  admin.disconnect();
});

t.test("idle clients are closed after `timeout` seconds", async (t) => {
  const server = await startServer(["--timeout", "1"]);
  t.teardown(() => server.stop().then(() => undefined));
  const idle = await openSocket(server.port);
  let closedAt = 0;
  const started = Date.now();
  idle.on("close", () => (closedAt = Date.now()));
  for (let i = 0; i < 40 && closedAt === 0; i++) await sleep(100);
  t.ok(closedAt > 0, "closed");
  t.ok(closedAt - started >= 1000, `not before the timeout (${closedAt - started} ms)`);
});

t.test("SIGTERM flushes the replies already produced, then exits 0", async (t) => {
  const server = await startServer();
  const s = await openSocket(server.port);
  let got = "";
  s.on("data", (d: Buffer) => (got += d.toString("latin1")));
  const closed = new Promise<void>((resolve) => s.on("close", () => resolve()));
  s.write("*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n0.3\r\n*1\r\n$4\r\nPING\r\n");
  await sleep(50);
  process.kill(server.pid, "SIGTERM");
  await closed;
  t.equal(got, "+OK\r\n+PONG\r\n");
  const exit = await server.exited;
  t.equal(exit.code, 0);
});

t.test("SHUTDOWN closes the server and exits the process", async (t) => {
  const server = await startServer();
  const r = new Redis(server.port, { retryStrategy: () => null, maxRetriesPerRequest: 0 });
  await t.rejects(r.call("SHUTDOWN", "BOGUS"), /^ERR syntax error$/);
  await t.rejects(r.call("SHUTDOWN", "ABORT"), /^ERR No shutdown in progress\.$/);
  await r.call("SHUTDOWN", "NOSAVE").catch(() => undefined);
  const exit = await server.exited;
  t.equal(exit.code, 0);
  r.disconnect();
});

t.test("a handler that throws answers ERR internal error and the server keeps serving", async (t) => {
  const lines: string[] = [];
  const server = new Server({ port: 0, log: (l) => lines.push(l) });
  server.engine.register([
    {
      name: "boom",
      arity: 1,
      flags: [],
      group: "server",
      run: () => {
        throw new Error("kaboom");
      },
    },
    { name: "fine", arity: 1, flags: [], group: "server", run: () => err("ERR fine") },
  ]);
  await server.listen();
  t.teardown(() => server.close());
  const r = new Redis(server.port);
  await t.rejects(r.call("BOOM"), /^ERR internal error: kaboom$/);
  t.equal(await r.ping(), "PONG");
  t.ok(lines.some((l) => l.includes("kaboom")), "the exception is logged");
  r.disconnect();
});
