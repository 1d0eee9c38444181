// Connection commands against the real `mnemo server --standalone`: HELLO
// (RESP3 on the wire), AUTH, CLIENT ID/SETNAME/LIST/KILL/REPLY, RESET, QUIT.
import t from "tap";
import { connect, type Socket } from "node:net";
import Redis from "ioredis";
import { startServer, type ServerProcess } from "./support/server";

/** A raw TCP client that sends RESP commands and collects the bytes it gets back. */
class RawClient {
  private buf = "";
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  send(...argv: string[]): void {
    let out = `*${argv.length}\r\n`;
    for (const a of argv) out += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
    this.socket.write(Buffer.from(out, "latin1"));
  }

  /** Waits until the received bytes contain `text` (or the socket closes, or 3 s pass); returns and clears them. */
  async until(text: string, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.buf.includes(text) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    const out = this.buf;
    this.buf = "";
    return out;
  }

  /** Everything received within `ms`. */
  async collect(ms: number): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.buf;
    this.buf = "";
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

let server: ServerProcess;

t.before(async () => {
  server = await startServer();
});

t.teardown(async () => {
  await server.stop();
});

t.test("HELLO 3 switches the connection to RESP3: a map, then RESP3 nulls", async (t) => {
  const c = await RawClient.open(server.port);
  c.send("HELLO", "3");
  const hello = await c.until("modules");
  const r = await c.until("*0\r\n");
  const all = hello + r;
  t.ok(all.startsWith("%7\r\n"), `a RESP3 map of 7 entries: ${JSON.stringify(all.slice(0, 20))}`);
  t.match(all, "$6\r\nserver\r\n$5\r\nredis\r\n");
  t.match(all, "$7\r\nversion\r\n$6\r\n7.0.15\r\n");
  t.match(all, "$5\r\nproto\r\n:3\r\n");
  t.match(all, "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n");
  c.send("GET", "no-such-key");
  t.equal(await c.until("\r\n"), "_\r\n", "a missing key is the RESP3 null");
  c.send("HELLO", "2");
  t.ok((await c.until("*0\r\n")).startsWith("*14\r\n"), "back to RESP2: the map is a flat array");
  c.send("GET", "no-such-key");
  t.equal(await c.until("\r\n"), "$-1\r\n");
  c.close();
});

t.test("HELLO and AUTH errors use Redis's texts", async (t) => {
  const r = new Redis(server.port, { lazyConnect: true });
  await r.connect();
  await t.rejects(r.call("HELLO", "4"), /^NOPROTO unsupported protocol version$/);
  await t.rejects(r.call("HELLO", "x"), /^ERR Protocol version is not an integer or out of range$/);
  await t.rejects(r.call("HELLO", "3", "FOO"), /^ERR Syntax error in HELLO option 'FOO'$/);
  await t.rejects(
    r.call("AUTH", "pw"),
    /^ERR AUTH <password> called without any password configured for the default user\. Are you sure your configuration is correct\?$/,
  );
  t.equal(await r.call("AUTH", "default", "anything"), "OK", "the default user has no password");
  await t.rejects(r.call("AUTH", "bob", "pw"), /^WRONGPASS invalid username-password pair or user is disabled\.$/);
  r.disconnect();
});

t.test("CLIENT ID, SETNAME, GETNAME, INFO and LIST describe the connections", async (t) => {
  const a = new Redis(server.port);
  const b = new Redis(server.port);
  const idA = Number(await a.client("ID"));
  const idB = Number(await b.client("ID"));
  t.not(idA, idB);
  t.equal(await a.client("GETNAME"), null);
  t.equal(await a.client("SETNAME", "alpha"), "OK");
  t.equal(await a.client("GETNAME"), "alpha");
  await t.rejects(a.client("SETNAME", "has space"), /^ERR Client names cannot contain spaces, newlines or special characters\.$/);
  const info = String(await a.client("INFO"));
  t.match(info, new RegExp(`^id=${idA} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${server.port} fd=\\d+ name=alpha age=\\d+ idle=\\d+ flags=N db=0 `));
  t.match(info, / cmd=client\|info user=default redir=-1 resp=[23]\n$/);
  const list = String(await b.client("LIST"));
  t.match(list, new RegExp(`id=${idA} .* name=alpha `));
  t.match(list, new RegExp(`id=${idB} .* cmd=client\\|list `));
  const one = String(await b.call("CLIENT", "LIST", "ID", String(idA)));
  t.equal(one.trim().split("\n").length, 1);
  t.match(one, `id=${idA} `);
  t.equal(String(await b.call("CLIENT", "LIST", "TYPE", "pubsub")), "");
  await t.rejects(b.call("CLIENT", "LIST", "TYPE", "bogus"), /^ERR Unknown client type 'bogus'$/);
  await t.rejects(b.call("CLIENT", "LIST", "ID", "x"), /^ERR Invalid client ID$/);
  await a.multi().ping().exec();
  a.disconnect();
  b.disconnect();
});

t.test("CLIENT KILL closes only the chosen connection", async (t) => {
  const victim = await RawClient.open(server.port);
  const killer = new Redis(server.port);
  victim.send("CLIENT", "ID");
  const id = /:(\d+)/.exec(await victim.until("\r\n"))?.[1] ?? "";
  t.equal(await killer.call("CLIENT", "KILL", "ID", id), 1);
  await victim.until("never", 1000);
  t.ok(victim.closed, "the killed connection is closed");
  t.equal(await killer.ping(), "PONG", "the killer is unaffected");
  await t.rejects(killer.call("CLIENT", "KILL", "1.2.3.4:5"), /^ERR No such client$/);
  await t.rejects(killer.call("CLIENT", "KILL", "ID", "0"), /^ERR client-id should be greater than 0$/);
  await t.rejects(killer.call("CLIENT", "KILL", "USER", "nobody"), /^ERR No such user 'nobody'$/);
  t.equal(await killer.call("CLIENT", "KILL", "SKIPME", "yes", "ID", "999999"), 0);
  // The old form by address may kill the caller itself: it gets OK, then the connection closes.
  const self = await RawClient.open(server.port);
  self.send("CLIENT", "INFO");
  const addr = /addr=(\S+)/.exec(await self.until("\n"))?.[1] ?? "";
  self.send("CLIENT", "KILL", addr);
  t.equal(await self.until("+OK\r\n"), "+OK\r\n");
  await self.until("never", 1000);
  t.ok(self.closed);
  killer.disconnect();
});

t.test("CLIENT REPLY OFF and SKIP silence replies; ON brings them back", async (t) => {
  const c = await RawClient.open(server.port);
  c.send("CLIENT", "REPLY", "SKIP");
  c.send("SET", "skipped", "1");
  c.send("PING");
  t.equal(await c.until("+PONG\r\n"), "+PONG\r\n", "only the reply after the skipped one arrives");
  c.send("CLIENT", "REPLY", "OFF");
  c.send("PING");
  c.send("PING");
  t.equal(await c.collect(200), "");
  c.send("CLIENT", "REPLY", "ON");
  t.equal(await c.until("+OK\r\n"), "+OK\r\n");
  c.close();
});

t.test("RESET restores a fresh connection state", async (t) => {
  const r = new Redis(server.port);
  await r.select(3);
  await r.client("SETNAME", "before");
  await r.call("HELLO", "3");
  t.equal(await r.call("RESET"), "RESET");
  t.equal(await r.client("GETNAME"), null);
  t.match(String(await r.client("INFO")), / db=0 .* resp=2\n$/);
  r.disconnect();
});

t.test("QUIT answers OK and pipelined commands after it never run", async (t) => {
  const c = await RawClient.open(server.port);
  c.socket.write("*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$9\r\nafterquit\r\n$1\r\n1\r\n");
  t.equal(await c.until("+OK\r\n"), "+OK\r\n");
  await c.until("never", 1000);
  t.ok(c.closed);
  const r = new Redis(server.port);
  t.equal(await r.get("afterquit"), null);
  r.disconnect();
});

t.test("TIME, ECHO, SELECT and wrong arity", async (t) => {
  const r = new Redis(server.port);
  const [sec, usec] = (await r.call("TIME")) as [string, string];
  t.ok(Math.abs(Number(sec) - Date.now() / 1000) < 5);
  t.ok(Number(usec) >= 0 && Number(usec) < 1_000_000);
  t.equal(await r.echo("hi"), "hi");
  await t.rejects(r.call("PING", "a", "b"), /^ERR wrong number of arguments for 'ping' command$/);
  await t.rejects(r.call("CLIENT", "NOSUCH"), /^ERR unknown subcommand 'NOSUCH'\. Try CLIENT HELP\.$/);
  await t.rejects(r.call("CLIENT", "KILL"), /^ERR wrong number of arguments for 'client\|kill' command$/);
  r.disconnect();
});

t.test("requests cut at every byte and interleaved with another client's reads arrive intact", async (t) => {
  // Every client reads into one shared buffer: a request left unfinished by one
  // read must survive the other client's reads into that buffer in between.
  const a = await RawClient.open(server.port);
  const b = await RawClient.open(server.port);
  const bigBytes = Buffer.alloc(40_000);
  for (let i = 0; i < bigBytes.length; i++) bigBytes[i] = (i * 7) & 0xff;
  const big = bigBytes.toString("latin1");
  const values = ["x", "\u0000\r\n\u00ff", "0123456", big, "", "tail"];
  const encode = (argv: string[]): string => {
    let out = `*${argv.length}\r\n`;
    for (const s of argv) out += `$${Buffer.byteLength(s, "latin1")}\r\n${s}\r\n`;
    return out;
  };
  const streams = [a, b].map((_, c) => values.map((v, i) => encode(["SET", `cut:${c}:${i}`, v]) + encode(["GET", `cut:${c}:${i}`])).join(""));
  const bytes = streams.map((s) => Buffer.from(s, "latin1"));
  const pos = [0, 0];
  let step = 0;
  // Alternate small pieces of both streams, 1 to 13 bytes at a time, bounded by the streams' length.
  while ((pos[0] ?? 0) < (bytes[0]?.length ?? 0) || (pos[1] ?? 0) < (bytes[1]?.length ?? 0)) {
    for (const c of [0, 1]) {
      const src = bytes[c] as Buffer;
      const p = pos[c] as number;
      if (p >= src.length) continue;
      const n = src.length - p > 2000 ? 1 + (step % 13) + (step % 5 === 0 ? 1500 : 0) : 1 + (step % 13);
      [a, b][c]?.socket.write(src.subarray(p, Math.min(src.length, p + n)));
      pos[c] = p + n;
      step++;
    }
    await new Promise((r) => setImmediate(r));
  }
  const expected = values.map((v) => `+OK\r\n$${Buffer.byteLength(v, "latin1")}\r\n${v}\r\n`).join("");
  t.equal(await a.until(expected.slice(-20)), expected, "client A's replies, byte for byte");
  t.equal(await b.until(expected.slice(-20)), expected, "client B's replies, byte for byte");
  a.close();
  b.close();
});

t.test("replies larger than the socket's buffers reach a slow reader whole and in order", async (t) => {
  // Most writes are taken by the kernel at once; these cannot be, so they stay
  // queued in libuv while further replies (and a QUIT) come behind them.
  const setup = new Redis(server.port);
  const value = Buffer.alloc(1 << 20);
  for (let i = 0; i < value.length; i++) value[i] = (i * 31 + (i >> 11)) & 0xff;
  await setup.set("slowread:big", value);
  const c = await RawClient.open(server.port);
  c.socket.pause();
  const encode = (argv: string[]): string => {
    let out = `*${argv.length}\r\n`;
    for (const s of argv) out += `$${Buffer.byteLength(s, "latin1")}\r\n${s}\r\n`;
    return out;
  };
  // Three sends, apart in time: each is its own pass with its own write, made
  // while the earlier ones are still queued.
  const sends = [encode(["CLIENT", "SETNAME", "slowreader"])];
  let expected = "+OK\r\n";
  const big = value.toString("latin1");
  for (let part = 0; part < 3; part++) {
    let req = part === 0 ? encode(["CLIENT", "SETNAME", "slowreader"]) : "";
    for (let i = 0; i < 4; i++) {
      const tag = `after-${part}-${i}`;
      req += encode(["GET", "slowread:big"]) + encode(["ECHO", tag]);
      expected += `$${value.length}\r\n${big}\r\n$${tag.length}\r\n${tag}\r\n`;
    }
    if (part === 2) req += encode(["QUIT"]);
    sends[part] = req;
  }
  expected += "+OK\r\n";
  for (const req of sends) {
    c.socket.write(Buffer.from(req, "latin1"));
    await new Promise((r) => setTimeout(r, 150));
  }
  // While the client reads nothing, the server reports the queued bytes as its output memory.
  let omem = 0;
  for (let i = 0; i < 40 && omem === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const list = String(await setup.client("LIST"));
    const line = list.split("\n").find((l) => l.includes("name=slowreader")) ?? "";
    omem = Number(/ omem=(\d+)/.exec(line)?.[1] ?? "0");
  }
  t.ok(omem > 0, `the unread replies show in CLIENT LIST omem (${omem})`);
  c.socket.resume();
  const got = await c.until("+OK\r\nnever", 10_000);
  t.equal(got.length, expected.length, "every byte arrives");
  t.ok(got === expected, "byte for byte, in order");
  t.ok(c.closed, "QUIT closed the connection once its replies were out");
  t.equal(await setup.echo("still serving"), "still serving");
  setup.disconnect();
});

t.test("a reader that goes away while its replies are still queued is dropped cleanly", async (t) => {
  const setup = new Redis(server.port);
  await setup.set("gone:big", Buffer.alloc(1 << 20, 0x61));
  const c = await RawClient.open(server.port);
  c.socket.pause();
  let req = "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$10\r\ngonereader\r\n";
  for (let i = 0; i < 8; i++) req += "*2\r\n$3\r\nGET\r\n$8\r\ngone:big\r\n";
  c.socket.write(Buffer.from(req, "latin1"));
  let listed = false;
  for (let i = 0; i < 40 && !listed; i++) {
    await new Promise((r) => setTimeout(r, 50));
    listed = / omem=[1-9]\d*/.test(String(await setup.client("LIST")).split("\n").find((l) => l.includes("name=gonereader")) ?? "");
  }
  t.ok(listed, "8 MB of replies wait in the server for the paused reader");
  c.socket.destroy();
  let gone = false;
  for (let i = 0; i < 40 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 50));
    gone = !String(await setup.client("LIST")).includes("name=gonereader");
  }
  t.ok(gone, "the connection is closed and forgotten");
  t.equal(await setup.get("gone:big").then((v) => v?.length), 1 << 20, "the server still serves");
  setup.disconnect();
});
