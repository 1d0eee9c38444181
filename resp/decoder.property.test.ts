// Properties of the request decoder: a stream decodes the same however it is
// split across reads; malformed frames and random bytes end in a protocol error
// or a wait for more bytes, never an exception; inline requests split the way
// Redis's sdssplitargs does. Last, over TCP: a real server keeps serving other
// clients after one of them sends garbage. (Only node builtins and resp/ are
// imported here: resp/ depends on nothing else of ours, tests included.)
import t from "tap";
import fc from "fast-check";
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { INLINE_BYTES_MAX, RespDecoder } from "./decoder";

interface Decoded {
  requests: string[][];
  error: string | null;
}

/** Feeds the chunks one by one, draining complete requests after each. */
function decodeChunks(chunks: readonly Buffer[]): Decoded {
  const d = new RespDecoder({ bulkBytesMax: 512 * 1024 * 1024 });
  const requests: string[][] = [];
  for (const c of chunks) {
    d.feed(c);
    for (let i = 0; i < 100_000; i++) {
      const r = d.next();
      if (r === null) break;
      requests.push(r);
    }
  }
  return { requests, error: d.error };
}

function splitAt(wire: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(wire.subarray(prev, p));
    prev = p;
  }
  out.push(wire.subarray(prev));
  return out;
}

const byteChar = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const binaryArg = fc.oneof(
  { weight: 20, arbitrary: fc.string({ unit: byteChar, maxLength: 24 }) },
  // Long enough to take the decoder's separate big-argument path.
  { weight: 1, arbitrary: fc.integer({ min: 32 * 1024, max: 40 * 1024 }).map((n) => "\r\n$*".repeat(n / 4)) },
);

function multibulk(argv: readonly string[]): string {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

/** One piece of a valid stream and the requests it must decode to. */
interface Piece {
  wire: string;
  requests: string[][];
}

const multibulkPiece: fc.Arbitrary<Piece> = fc
  .array(binaryArg, { minLength: 1, maxLength: 5 })
  .map((argv) => ({ wire: multibulk(argv), requests: [argv] }));
const inlinePiece: fc.Arbitrary<Piece> = fc
  .tuple(fc.array(fc.stringMatching(/^[a-zA-Z0-9_:.-]{1,12}$/), { minLength: 1, maxLength: 4 }), fc.constantFrom("\r\n", "\n"))
  .map(([argv, eol]) => ({ wire: argv.join(" ") + eol, requests: [argv] }));
// Things a client may send that run nothing: empty and negative multibulks, blank lines.
const noopPiece: fc.Arbitrary<Piece> = fc.constantFrom("*0\r\n", "*-1\r\n", "\r\n", "\n", "   \r\n").map((wire) => ({ wire, requests: [] }));

const validStream = fc.array(fc.oneof({ weight: 6, arbitrary: multibulkPiece }, { weight: 2, arbitrary: inlinePiece }, { weight: 1, arbitrary: noopPiece }), {
  minLength: 1,
  maxLength: 12,
});
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

t.test("any split of a valid request stream decodes identically", async (t) => {
  fc.assert(
    fc.property(validStream, cutsArb, (pieces, cuts) => {
      const wire = Buffer.from(pieces.map((p) => p.wire).join(""), "latin1");
      const want: Decoded = { requests: pieces.flatMap((p) => p.requests), error: null };
      return isDeepStrictEqual(decodeChunks([wire]), want) && isDeepStrictEqual(decodeChunks(splitAt(wire, cuts)), want);
    }),
    { numRuns: 400 },
  );
  t.pass("400 streams");
});

t.test("byte-at-a-time feeding of a stream with every argument byte", async (t) => {
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
  const argv = ["SET", all, all.split("").reverse().join("")];
  const wire = Buffer.from(multibulk(argv) + "PING\r\n" + multibulk(["GET", all]), "latin1");
  const chunks: Buffer[] = [];
  for (let i = 0; i < wire.length; i++) chunks.push(wire.subarray(i, i + 1));
  t.same(decodeChunks(chunks), { requests: [argv, ["PING"], ["GET", all]], error: null });
});

/** A malformed frame and the exact error Redis 7.0 gives for it. */
const malformed: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.constant<[string, string]>(["*abc\r\n", "invalid multibulk length"]),
  fc.constant<[string, string]>(["*3000000000\r\n", "invalid multibulk length"]),
  fc.constant<[string, string]>(["*1\r\n$-5\r\n", "invalid bulk length"]),
  fc.constant<[string, string]>(["*1\r\n$abc\r\n", "invalid bulk length"]),
  fc.constant<[string, string]>(["*2\r\n$3\r\nGET\r\n$2000000000\r\n", "invalid bulk length"]),
  fc
    .integer({ min: 0, max: 255 })
    .filter((b) => b !== 0x24 && b !== 0x0d)
    .map((b): [string, string] => [`*2\r\n$3\r\nGET\r\n${String.fromCharCode(b)}3\r\nfoo\r\n`, `expected '$', got '${String.fromCharCode(b)}'`]),
  fc.constant<[string, string]>(['SET "unterminated\r\n', "unbalanced quotes in request"]),
  fc.constant<[string, string]>(["SET 'a'b\r\n", "unbalanced quotes in request"]),
  fc.constant<[string, string]>(["x".repeat(INLINE_BYTES_MAX + 10), "too big inline request"]),
  fc.constant<[string, string]>(["*" + "1".repeat(INLINE_BYTES_MAX + 10), "too big mbulk count string"]),
  fc.constant<[string, string]>(["*1\r\n$" + "1".repeat(INLINE_BYTES_MAX + 10), "too big bulk count string"]),
);

// Junk after the bad frame has no CR or LF: a line end 64 KB away makes even
// Redis's error depend on how the bytes arrived.
const junkNoEol = byteChar.filter((c) => c !== "\r" && c !== "\n");

t.test("a malformed frame after valid requests: same requests, then the same protocol error, for any split", async (t) => {
  fc.assert(
    fc.property(fc.array(multibulkPiece, { maxLength: 4 }), malformed, fc.string({ unit: junkNoEol, maxLength: 30 }), cutsArb, (prefix, [bad, msg], junk, cuts) => {
      const wire = Buffer.from(prefix.map((p) => p.wire).join("") + bad + junk, "latin1");
      const want: Decoded = { requests: prefix.flatMap((p) => p.requests), error: `Protocol error: ${msg}` };
      return isDeepStrictEqual(decodeChunks([wire]), want) && isDeepStrictEqual(decodeChunks(splitAt(wire, cuts)), want);
    }),
    { numRuns: 300 },
  );
  t.pass("300 malformed streams");
});

const KNOWN_ERRORS = new Set(
  [
    "invalid multibulk length",
    "invalid bulk length",
    "unbalanced quotes in request",
    "too big inline request",
    "too big mbulk count string",
    "too big bulk count string",
  ].map((m) => `Protocol error: ${m}`),
);

// Random bytes from an alphabet rich in RESP's own syntax, so that headers, lengths
// and quotes occur often.
const junkByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("*", "$", "\r", "\n", "-", "1", "2", "0", "9", '"', "'", "\\", " ") },
  { weight: 1, arbitrary: byteChar },
);

t.test("random bytes: a protocol error or a wait for more, never an exception, independent of the split", async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: junkByte, maxLength: 400 }), cutsArb, (junk, cuts) => {
      const wire = Buffer.from(junk, "latin1");
      const whole = decodeChunks([wire]);
      if (whole.error !== null && !KNOWN_ERRORS.has(whole.error) && !whole.error.startsWith("Protocol error: expected '$', got '")) {
        return false;
      }
      return isDeepStrictEqual(decodeChunks(splitAt(wire, cuts)), whole);
    }),
    { numRuns: 2000 },
  );
  t.pass("2000 random streams");
});

t.test("after a protocol error the decoder stays failed and yields nothing more", async (t) => {
  const d = new RespDecoder();
  d.feed(Buffer.from("*1\r\n$abc\r\n"));
  t.equal(d.next(), null);
  t.equal(d.error, "Protocol error: invalid bulk length");
  d.feed(Buffer.from("*1\r\n$4\r\nPING\r\n"));
  t.equal(d.next(), null, "no request is decoded after the error");
  t.equal(d.error, "Protocol error: invalid bulk length");
});

/**
 * A transcription of Redis's sdssplitargs as the inline parser applies it: blanks
 * between arguments are
 * isspace() in the C locale, an unquoted argument ends only at space, \n, \r or
 * \t, and a closing quote must be followed by a blank or the end.
 */
function referenceSplit(line: string): string[] | null {
  const s = line;
  const isspace = (c: string | undefined): boolean => c !== undefined && " \t\n\v\f\r".includes(c);
  const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
  const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" };
  const out: string[] = [];
  let p = 0;
  for (;;) {
    while (isspace(s[p])) p++;
    if (p >= s.length) return out;
    let cur = "";
    let inq = false;
    let insq = false;
    for (let done = false; !done; ) {
      const c = s[p];
      if (inq) {
        if (c === "\\" && s[p + 1] === "x" && isHex(s[p + 2]) && isHex(s[p + 3])) {
          cur += String.fromCharCode(parseInt(s.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === "\\" && s[p + 1] !== undefined) {
          p++;
          const e = s[p] ?? "";
          cur += escapes[e] ?? e;
        } else if (c === '"') {
          if (s[p + 1] !== undefined && !isspace(s[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (c === "\\" && s[p + 1] === "'") {
          p++;
          cur += "'";
        } else if (c === "'") {
          if (s[p + 1] !== undefined && !isspace(s[p + 1])) return null;
          done = true;
        } else if (c === undefined) {
          return null;
        } else {
          cur += c;
        }
      } else if (c === undefined || c === " " || c === "\n" || c === "\r" || c === "\t") {
        done = true;
      } else if (c === '"') {
        inq = true;
      } else if (c === "'") {
        insq = true;
      } else {
        cur += c;
      }
      if (c !== undefined) p++;
    }
    out.push(cur);
  }
}

t.test("inline requests split exactly as Redis's sdssplitargs", async (t) => {
  const inlineByte = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("a", "b", "x", "4", "F", " ", '"', "'", "\\", "\t") },
    // No NUL: Redis looks for the line end with strchr, so a NUL makes it wait forever.
    { weight: 1, arbitrary: fc.constantFrom("\r", "\v", "\f", "\xa0", "\x85", "\xff", "n") },
  );
  fc.assert(
    fc.property(fc.string({ unit: inlineByte, minLength: 1, maxLength: 30 }), (body) => {
      // The request must not start like a multibulk, and its line ends at the first \n.
      const line = "X" + body;
      const want = referenceSplit(line);
      const got = decodeChunks([Buffer.from(line + "\r\n", "latin1")]);
      const expected: Decoded =
        want === null ? { requests: [], error: "Protocol error: unbalanced quotes in request" } : { requests: want.length > 0 ? [want] : [], error: null };
      return isDeepStrictEqual(got, expected);
    }),
    { numRuns: 3000 },
  );
  t.pass("3000 inline lines");
});

// ---------------------------------------------------------------------------
// Over TCP against the real server.

const MNEMO_JS = path.resolve(__dirname, "../bin/mnemo.js");

function readUntil(sock: Socket, want: (s: string) => boolean, timeoutMs: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let data = "";
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out; got ${JSON.stringify(data.slice(0, 200))}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      data += d.toString("latin1");
      if (want(data)) finish(false);
    };
    const onClose = (): void => finish(true);
    const finish = (closed: boolean): void => {
      cleanup();
      resolve({ data, closed });
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      sock.off("data", onData);
      sock.off("close", onClose);
    };
    sock.on("data", onData);
    sock.on("close", onClose);
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

t.test("a real server keeps serving other clients after one sends garbage", async (t) => {
  const child = spawn(process.execPath, [MNEMO_JS, "server", "--standalone", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  t.teardown(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 10_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });

  const bystander = await open(port);
  bystander.write("*1\r\n$4\r\nPING\r\n");
  t.equal((await readUntil(bystander, (s) => s.endsWith("\r\n"), 5000)).data, "+PONG\r\n");

  const garbage: [string, string][] = [
    ["*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"],
    ["*1\r\n$4\r\nPING\r\n*1\r\nX\r\n", "+PONG\r\n-ERR Protocol error: expected '$', got 'X'\r\n"],
    ['GET "a\r\n', "-ERR Protocol error: unbalanced quotes in request\r\n"],
    ["*1\r\n$-7\r\n", "-ERR Protocol error: invalid bulk length\r\n"],
  ];
  for (const [bytes, reply] of garbage) {
    const bad = await open(port);
    bad.write(bytes);
    const r = await readUntil(bad, () => false, 5000);
    t.equal(r.data, reply, `reply to ${JSON.stringify(bytes)}`);
    t.ok(r.closed, "the server closes the offending connection");
    bad.destroy();
  }

  // Endless junk without a newline: refused at the inline limit, not buffered forever.
  const flood = await open(port);
  flood.on("error", () => undefined);
  const junk = Buffer.alloc(256 * 1024, "j");
  flood.write(junk);
  const r = await readUntil(flood, () => false, 5000);
  t.equal(r.data, "-ERR Protocol error: too big inline request\r\n");
  t.ok(r.closed);
  flood.destroy();

  // Random bytes from many clients at once; the bystander must still be served.
  const rng = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { numRuns: 20, seed: 42 });
  await Promise.all(
    rng.map(async (bytes) => {
      const s = await open(port);
      s.on("error", () => undefined);
      s.write(Buffer.from(bytes));
      s.end();
      await readUntil(s, () => false, 5000);
      s.destroy();
    }),
  );
  bystander.write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  t.equal((await readUntil(bystander, (s) => s === "+OK\r\n$1\r\nv\r\n", 5000)).data, "+OK\r\n$1\r\nv\r\n", "the bystander is still served");
  const fresh = await open(port);
  fresh.write("PING\r\n");
  t.equal((await readUntil(fresh, (s) => s.endsWith("\r\n"), 5000)).data, "+PONG\r\n", "new clients are served");
  fresh.destroy();
  bystander.destroy();
});
