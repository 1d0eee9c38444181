import t from "tap";
import { RespDecoder, splitInline } from "./decoder";

t.test("multibulk split at every byte decodes the same", async (t) => {
  const wire = Buffer.from("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n$4\r\nPING\r\n");
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new RespDecoder();
    const out: string[][] = [];
    d.feed(wire.subarray(0, cut));
    for (let a = d.next(); a !== null; a = d.next()) out.push(a);
    d.feed(wire.subarray(cut));
    for (let a = d.next(); a !== null; a = d.next()) out.push(a);
    t.same(out, [["GET", "foo"], ["PING"]], `cut at ${cut}`);
  }
});

t.test("inline requests with quotes", async (t) => {
  t.same(splitInline(`set "a b" 'c\\'d' "\\x41\\n"`), ["set", "a b", "c'd", "A\n"]);
  t.equal(splitInline(`set """test-key""" test-value`), null);
});

t.test("protocol errors", async (t) => {
  const cases: [string, string][] = [
    ["*3000000000\r\n", "Protocol error: invalid multibulk length"],
    ["*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "Protocol error: expected '$', got 'f'"],
    ["*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n", "Protocol error: invalid bulk length"],
    ["*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n", "Protocol error: invalid bulk length"],
    ["*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n", "Protocol error: invalid bulk length"],
  ];
  for (const [wire, msg] of cases) {
    const d = new RespDecoder();
    d.feed(Buffer.from(wire));
    while (d.next() !== null);
    t.equal(d.error, msg, JSON.stringify(wire));
  }
});

t.test("a big argument arriving in small pieces decodes whole", async (t) => {
  const value = Buffer.alloc(300 * 1024);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7) & 0xff;
  const wire = Buffer.concat([Buffer.from(`*2\r\n$3\r\nSET\r\n$${value.length}\r\n`), value, Buffer.from("\r\n*1\r\n$4\r\nPING\r\n")]);
  for (const piece of [1000, 4096, 65536, 100000]) {
    const d = new RespDecoder();
    const out: string[][] = [];
    for (let i = 0; i < wire.length; i += piece) {
      d.feed(wire.subarray(i, i + piece));
      for (let a = d.next(); a !== null; a = d.next()) out.push(a);
    }
    t.equal(out.length, 2, `pieces of ${piece}`);
    t.equal(out[0]?.[1], value.toString("latin1"));
    t.same(out[1], ["PING"]);
  }
});

t.test("an announced huge bulk is not allocated before its bytes arrive", async (t) => {
  const d = new RespDecoder();
  const before = process.memoryUsage().arrayBuffers;
  d.feed(Buffer.from("*2\r\n$3\r\nSET\r\n$536870000\r\nabc"));
  t.equal(d.next(), null);
  t.equal(d.error, null);
  t.ok(process.memoryUsage().arrayBuffers - before < 16 * 1024 * 1024, "well under the announced 512 MB");
  t.equal(d.buffered, 3);
});

t.test("binary arguments of every length around the short-argument cut decode byte for byte", async (t) => {
  // Arguments up to SHORT_ARG_BYTES are built in JS, longer ones natively: both must give the same bytes.
  const bytes = Buffer.alloc(40);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 97 + 13) & 0xff;
  bytes[3] = 0x00;
  bytes[5] = 0xff;
  bytes[7] = 0x0d;
  bytes[8] = 0x0a;
  for (let n = 0; n <= 32; n++) {
    const arg = bytes.subarray(0, n);
    const wire = Buffer.concat([Buffer.from(`*2\r\n$3\r\nSET\r\n$${n}\r\n`), arg, Buffer.from("\r\n")]);
    const d = new RespDecoder();
    d.feed(wire);
    const got = d.next();
    t.same(got === null ? null : Buffer.from(got[1] ?? "", "latin1"), arg, `length ${n}`);
  }
});
