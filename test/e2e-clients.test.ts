// End to end: the real `mnemo server --standalone` process, driven by the
// clients people use: redis-cli (spawned), ioredis and node-redis over TCP.
import t from "tap";
import { execFile, spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { createClient, RESP_TYPES } from "redis";
import { RawClient, request } from "./support/raw";
import { startServer, type ServerProcess } from "./support/server";

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let server: ServerProcess;

t.before(async () => {
  server = await startServer();
  t.teardown(() => server.stop());
});

/** Runs redis-cli against the server; stdout as bytes. */
function cli(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(server.port), ...args], { encoding: "buffer", timeout: 10_000 }, (e, stdout) => {
      if (e !== null) reject(e);
      else resolve(stdout);
    });
    child.stdin?.end(input ?? Buffer.alloc(0));
  });
}

const text = async (args: string[], input?: Buffer): Promise<string> => (await cli(args, input)).toString("latin1");

function ioredis(): Redis {
  return new Redis({ port: server.port, host: "127.0.0.1", maxRetriesPerRequest: 1, retryStrategy: () => null });
}

t.test("redis-cli is installed", async (t) => {
  t.equal(spawnSync("redis-cli", ["--version"]).status, 0);
});

t.test("redis-cli: strings, counters, expiry", async (t) => {
  t.equal(await text(["SET", "cli:greeting", "hello world"]), "OK\n");
  t.equal(await text(["GET", "cli:greeting"]), "hello world\n");
  t.equal(await text(["GET", "cli:missing"]), "\n", "a missing key prints an empty line");
  for (let i = 1; i <= 3; i++) t.equal(await text(["INCR", "cli:counter"]), `${i}\n`);
  t.equal(await text(["APPEND", "cli:greeting", "!"]), "12\n");
  t.equal(await text(["SET", "cli:temp", "v", "PX", "5000"]), "OK\n");
  const pttl = Number(await text(["PTTL", "cli:temp"]));
  t.ok(pttl > 0 && pttl <= 5000, `PTTL ${pttl} is within (0, 5000]`);
  t.equal(await text(["PEXPIRE", "cli:temp", "200"]), "1\n");
  await sleep(450);
  t.equal(await text(["GET", "cli:temp"]), "\n", "the key is gone after its TTL");
  t.equal(await text(["EXISTS", "cli:temp"]), "0\n");
  t.match(await text(["NOSUCHCOMMAND", "x"]), /^ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x'/);
});

t.test("redis-cli: binary-safe values through -x and quoted binary keys", async (t) => {
  t.equal(await text(["-x", "SET", "cli:bin"], ALL_BYTES), "OK\n");
  t.equal(await text(["STRLEN", "cli:bin"]), "256\n");
  const raw = await cli(["--raw", "GET", "cli:bin"]);
  t.ok(raw.equals(Buffer.concat([ALL_BYTES, Buffer.from("\n")])), "all 256 byte values come back unchanged");
  // redis-cli reads commands from stdin with C-style escapes in quotes.
  const out = await cli([], Buffer.from('SET "\\x00\\xff\\r\\nk" "\\x00\\x01"\nGET "\\x00\\xff\\r\\nk"\nSTRLEN "\\x00\\xff\\r\\nk"\n'));
  t.ok(out.equals(Buffer.from("OK\n\x00\x01\n2\n", "latin1")), JSON.stringify(out.toString("latin1")));
});

t.test("ioredis: strings, counters, expiry", async (t) => {
  const r = ioredis();
  t.teardown(() => r.disconnect());
  t.equal(await r.set("io:k", "v1"), "OK");
  t.equal(await r.get("io:k"), "v1");
  t.equal(await r.set("io:k", "v2", "GET"), "v1");
  t.equal(await r.set("io:k", "v3", "NX"), null);
  t.equal(await r.incrby("io:n", 41), 41);
  t.equal(await r.incr("io:n"), 42);
  await t.rejects(r.incr("io:k"), /ERR value is not an integer or out of range/);
  t.same(await r.mget("io:k", "io:nothing", "io:n"), ["v2", null, "42"]);
  t.equal(await r.set("io:t", "v", "EX", 100), "OK");
  t.equal(await r.ttl("io:t"), 100);
  t.equal(await r.pexpire("io:t", 150), 1);
  await sleep(300);
  t.equal(await r.get("io:t"), null, "expired");
  t.equal(await r.del("io:k", "io:n", "io:nothing"), 2);
});

t.test("active expiry removes keys nobody reads", async (t) => {
  const r = new Redis({ port: server.port, host: "127.0.0.1", db: 9, retryStrategy: () => null });
  t.teardown(() => r.disconnect());
  const p = r.pipeline();
  for (let i = 0; i < 300; i++) p.set(`ax:${i}`, "v", "PX", 50 + (i % 100));
  p.set("ax:keep", "v");
  await p.exec();
  t.equal(await r.dbsize(), 301);
  let size = 301;
  for (let i = 0; i < 30 && size > 1; i++) {
    await sleep(100);
    size = await r.dbsize();
  }
  t.equal(size, 1, "only the key without a TTL is left, without anyone reading the others");
});

t.test("ioredis: pipelining 10k commands, replies in order", async (t) => {
  const r = ioredis();
  t.teardown(() => r.disconnect());
  const p = r.pipeline();
  const n = 5000;
  for (let i = 0; i < n; i++) p.set(`pipe:${i}`, `value-${i}`);
  for (let i = 0; i < n; i++) p.get(`pipe:${i}`);
  const results = (await p.exec()) ?? [];
  t.equal(results.length, 2 * n);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const set = results[i];
    const get = results[n + i];
    if (set?.[0] !== null || set[1] !== "OK" || get?.[0] !== null || get[1] !== `value-${i}`) bad++;
  }
  t.equal(bad, 0, "every SET said OK and every GET saw its value, in order");
});

t.test("raw socket: 10k pipelined requests in one write", async (t) => {
  const c = await RawClient.connect(server.port);
  t.teardown(() => c.destroy());
  const n = 10_000;
  const one = request(["INCR", "raw:counter"]);
  c.write(Buffer.concat(Array.from({ length: n }, () => one)));
  const want = Array.from({ length: n }, (_, i) => `:${i + 1}\r\n`).join("");
  const got = await c.readBytes(Buffer.byteLength(want), 20_000);
  t.equal(got.toString("latin1"), want);
  c.write("PING\r\nPING\r\n");
  t.equal((await c.readBytes(14)).toString(), "+PONG\r\n+PONG\r\n", "inline requests after the burst");
});

t.test("ioredis: MULTI/EXEC and WATCH", async (t) => {
  const a = ioredis();
  const b = ioredis();
  t.teardown(() => {
    a.disconnect();
    b.disconnect();
  });
  const res = await a.multi().set("tx:a", "1").incr("tx:a").get("tx:a").exec();
  t.same(res, [
    [null, "OK"],
    [null, 2],
    [null, "2"],
  ]);
  await a.watch("tx:a");
  t.equal(await b.set("tx:a", "changed"), "OK");
  t.equal(await a.multi().set("tx:a", "mine").exec(), null, "a watched key changed: EXEC aborts");
  t.equal(await a.get("tx:a"), "changed");
  await t.rejects(a.multi().set("tx:b", "1").call("GET").exec(), /EXECABORT/);
  t.equal(await a.exists("tx:b"), 0, "nothing of an aborted transaction ran");
});

t.test("ioredis: binary keys and values with all 256 byte values", async (t) => {
  const r = ioredis();
  t.teardown(() => r.disconnect());
  const reversed = Buffer.from(ALL_BYTES).reverse();
  t.equal(await r.set(ALL_BYTES, reversed), "OK");
  const back = await r.getBuffer(ALL_BYTES);
  t.ok(back?.equals(reversed), "value of a 256-byte binary key");
  const p = r.pipeline();
  for (let i = 0; i < 256; i++) p.set(Buffer.from([i]), Buffer.from([i, 255 - i]));
  await p.exec();
  const keys = Array.from({ length: 256 }, (_, i) => Buffer.from([i]));
  const values = await r.mgetBuffer(...keys);
  const wrong = values.filter((v, i) => v === null || !v.equals(Buffer.from([i, 255 - i]))).length;
  t.equal(wrong, 0, "each single-byte key holds its two bytes");
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  t.equal(await r.set("bin:big", big), "OK");
  t.ok((await r.getBuffer("bin:big"))?.equals(big), "a 3 MB binary value round-trips");
  t.equal(await r.strlen("bin:big"), big.length);
});

t.test("node-redis over RESP2 and RESP3", async (t) => {
  for (const RESP of [2, 3] as const) {
    const c = createClient({ socket: { port: server.port, host: "127.0.0.1", reconnectStrategy: false }, RESP });
    c.on("error", () => undefined);
    await c.connect();
    const p = `nr${RESP}:`;
    t.equal(await c.set(`${p}k`, "v"), "OK", `RESP${RESP} SET`);
    t.equal(await c.get(`${p}k`), "v");
    t.equal(await c.get(`${p}missing`), null);
    t.equal(await c.hSet(`${p}h`, { f1: "a", f2: "b" }), 2);
    t.same(await c.hGetAll(`${p}h`), { f1: "a", f2: "b" }, `RESP${RESP} HGETALL`);
    t.equal(await c.rPush(`${p}l`, ["x", "y", "z"]), 3);
    t.same(await c.lRange(`${p}l`, 0, -1), ["x", "y", "z"]);
    t.equal(await c.expire(`${p}k`, 100), 1);
    t.equal(await c.ttl(`${p}k`), 100);
    const res = await c.multi().incr(`${p}n`).incr(`${p}n`).get(`${p}n`).exec();
    t.same(res, [1, 2, "2"], `RESP${RESP} MULTI/EXEC`);
    const binary = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    await c.set(Buffer.from(ALL_BYTES), Buffer.from(ALL_BYTES));
    const back = await binary.get(Buffer.from(ALL_BYTES));
    t.ok(Buffer.isBuffer(back) && back.equals(ALL_BYTES), `RESP${RESP} binary value`);
    c.destroy();
  }
});

t.test("clients disconnecting mid-command leave no trace; the server keeps serving", async (t) => {
  // Cut inside a header, inside a small argument, and inside a large one.
  const cuts = [
    Buffer.from("*3\r\n$3\r\nSET\r\n$8\r\ncut:head\r\n$1"),
    Buffer.from("*3\r\n$3\r\nSET\r\n$9\r\ncut:small\r\n$10\r\nabc"),
    Buffer.concat([Buffer.from("*3\r\n$3\r\nSET\r\n$7\r\ncut:big\r\n$1000000\r\n"), Buffer.alloc(300_000, "x")]),
  ];
  for (const bytes of cuts) {
    const c = await RawClient.connect(server.port);
    c.write(bytes);
    await sleep(50);
    c.destroy();
  }
  // A client that asks for a large reply and leaves before reading it.
  const r = ioredis();
  t.teardown(() => r.disconnect());
  await r.set("cut:large", Buffer.alloc(8 * 1024 * 1024, "L"));
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.connect(server.port);
    c.write(request(["GET", "cut:large"]));
    c.destroy();
  }
  await sleep(200);
  t.same(await r.mget("cut:head", "cut:small", "cut:big"), [null, null, null], "no half-received command ran");
  t.equal(await r.strlen("cut:large"), 8 * 1024 * 1024);
  t.equal(await r.ping(), "PONG", "the server is still serving");
  t.equal(server.child.exitCode, null, "the server process is alive");
});

t.test("SIGTERM shuts the server down gracefully", async (t) => {
  const s = await startServer();
  const r = new Redis({ port: s.port, host: "127.0.0.1", retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on("error", () => undefined);
  t.teardown(async () => {
    r.disconnect();
    await s.stop();
  });
  t.equal(await r.set("k", "v"), "OK");
  const ended = new Promise<void>((resolve) => r.once("end", () => resolve()));
  const started = Date.now();
  process.kill(s.pid, "SIGTERM");
  const exit = await Promise.race([s.exited, sleep(5000).then(() => null)]);
  t.not(exit, null, "the process exits within 5 s");
  t.same(exit, { code: 0, signal: null }, "with status 0");
  t.ok(Date.now() - started < 5000);
  await Promise.race([ended, sleep(3000)]);
  t.equal(r.status, "end", "the connected client sees the connection close");
  await t.rejects(RawClient.connect(s.port, 2000), /ECONNREFUSED/, "the port no longer accepts connections");
});
