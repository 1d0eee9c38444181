// The encoder's exact bytes for every Reply kind in RESP2 and RESP3, and a
// property: every reply tree, encoded, parses back (by an independent parser
// written here) to the same tree, with binary strings intact.
import t from "tap";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { encodeReply, RespWriter, type Protocol } from "./encoder";
import {
  array,
  bool,
  bulk,
  bulks,
  double,
  EMPTY_ARRAY,
  err,
  int,
  map,
  NONE,
  NULL,
  NULL_ARRAY,
  OK,
  simple,
  verbatim,
  type Reply,
} from "./reply";

const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");

interface Case {
  name: string;
  reply: Reply;
  resp2: string;
  resp3: string;
}

const CASES: Case[] = [
  { name: "simple", reply: OK, resp2: "+OK\r\n", resp3: "+OK\r\n" },
  { name: "error", reply: err("ERR syntax error"), resp2: "-ERR syntax error\r\n", resp3: "-ERR syntax error\r\n" },
  { name: "error with newlines", reply: err("ERR a\r\nb\nc"), resp2: "-ERR a  b c\r\n", resp3: "-ERR a  b c\r\n" },
  { name: "int 0", reply: int(0), resp2: ":0\r\n", resp3: ":0\r\n" },
  { name: "int -1", reply: int(-1), resp2: ":-1\r\n", resp3: ":-1\r\n" },
  { name: "int large", reply: int(1234567890123), resp2: ":1234567890123\r\n", resp3: ":1234567890123\r\n" },
  { name: "int min safe", reply: int(-9007199254740991), resp2: ":-9007199254740991\r\n", resp3: ":-9007199254740991\r\n" },
  {
    name: "int64 max as bigint",
    reply: int(9223372036854775807n),
    resp2: ":9223372036854775807\r\n",
    resp3: ":9223372036854775807\r\n",
  },
  {
    name: "int64 min as bigint",
    reply: int(-9223372036854775808n),
    resp2: ":-9223372036854775808\r\n",
    resp3: ":-9223372036854775808\r\n",
  },
  { name: "bulk", reply: bulk("foo"), resp2: "$3\r\nfoo\r\n", resp3: "$3\r\nfoo\r\n" },
  { name: "empty bulk", reply: bulk(""), resp2: "$0\r\n\r\n", resp3: "$0\r\n\r\n" },
  { name: "bulk with CRLF inside", reply: bulk("a\r\nb"), resp2: "$4\r\na\r\nb\r\n", resp3: "$4\r\na\r\nb\r\n" },
  { name: "bulk of all 256 bytes", reply: bulk(ALL_BYTES), resp2: `$256\r\n${ALL_BYTES}\r\n`, resp3: `$256\r\n${ALL_BYTES}\r\n` },
  { name: "null bulk", reply: NULL, resp2: "$-1\r\n", resp3: "_\r\n" },
  { name: "null array", reply: NULL_ARRAY, resp2: "*-1\r\n", resp3: "_\r\n" },
  { name: "empty array", reply: EMPTY_ARRAY, resp2: "*0\r\n", resp3: "*0\r\n" },
  {
    name: "nested array",
    reply: array([int(1), array([bulk("a"), NULL]), simple("x")]),
    resp2: "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n",
    resp3: "*3\r\n:1\r\n*2\r\n$1\r\na\r\n_\r\n+x\r\n",
  },
  {
    name: "bulks with a null",
    reply: bulks(["a", null, ""]),
    resp2: "*3\r\n$1\r\na\r\n$-1\r\n$0\r\n\r\n",
    resp3: "*3\r\n$1\r\na\r\n_\r\n$0\r\n\r\n",
  },
  {
    name: "map",
    reply: map([bulk("f1"), bulk("v1"), bulk("f2"), int(2)]),
    resp2: "*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n:2\r\n",
    resp3: "%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n:2\r\n",
  },
  { name: "empty map", reply: map([]), resp2: "*0\r\n", resp3: "%0\r\n" },
  {
    name: "set",
    reply: { kind: "set", items: [bulk("a"), bulk("b")] },
    resp2: "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    resp3: "~2\r\n$1\r\na\r\n$1\r\nb\r\n",
  },
  {
    name: "push",
    reply: { kind: "push", items: [bulk("message"), bulk("ch"), bulk("hi")] },
    resp2: "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    resp3: ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
  },
  { name: "double 1.5", reply: double(1.5), resp2: "$3\r\n1.5\r\n", resp3: ",1.5\r\n" },
  { name: "double integral", reply: double(3), resp2: "$1\r\n3\r\n", resp3: ",3\r\n" },
  // Redis 7.0 formats doubles with %.17g.
  { name: "double 0.1", reply: double(0.1), resp2: "$19\r\n0.10000000000000001\r\n", resp3: ",0.10000000000000001\r\n" },
  { name: "double 1e300", reply: double(1e300), resp2: "$23\r\n1.0000000000000001e+300\r\n", resp3: ",1.0000000000000001e+300\r\n" },
  { name: "double 2^-20", reply: double(2 ** -20), resp2: "$19\r\n9.5367431640625e-07\r\n", resp3: ",9.5367431640625e-07\r\n" },
  { name: "double inf", reply: double(Infinity), resp2: "$3\r\ninf\r\n", resp3: ",inf\r\n" },
  { name: "double -inf", reply: double(-Infinity), resp2: "$4\r\n-inf\r\n", resp3: ",-inf\r\n" },
  { name: "bool true", reply: bool(true), resp2: ":1\r\n", resp3: "#t\r\n" },
  { name: "bool false", reply: bool(false), resp2: ":0\r\n", resp3: "#f\r\n" },
  {
    name: "verbatim",
    reply: verbatim("Some string"),
    resp2: "$11\r\nSome string\r\n",
    resp3: "=15\r\ntxt:Some string\r\n",
  },
  {
    name: "verbatim markdown, multi-line",
    reply: verbatim("# a\r\nb", "mkd"),
    resp2: "$6\r\n# a\r\nb\r\n",
    resp3: "=10\r\nmkd:# a\r\nb\r\n",
  },
  {
    name: "bignum",
    reply: { kind: "bignum", value: "3492890328409238509324850943850943825024385" },
    resp2: "$43\r\n3492890328409238509324850943850943825024385\r\n",
    resp3: "(3492890328409238509324850943850943825024385\r\n",
  },
  { name: "none writes nothing", reply: NONE, resp2: "", resp3: "" },
];

t.test("exact bytes for every reply kind", async (t) => {
  for (const c of CASES) {
    t.equal(encodeReply(c.reply, 2).toString("latin1"), c.resp2, `${c.name} (RESP2)`);
    t.equal(encodeReply(c.reply, 3).toString("latin1"), c.resp3, `${c.name} (RESP3)`);
  }
});

t.test("one writer: many replies appended equal their concatenation, across growth", async (t) => {
  const w = new RespWriter();
  const big = "x".repeat(40_000); // larger than the writer's initial buffer
  const replies: Reply[] = [bulk("a"), bulk(big), int(7), array([bulk(big), NULL]), double(2.5)];
  for (const proto of [2, 3] as Protocol[]) {
    for (const r of replies) w.reply(r, proto);
    const want = Buffer.concat(replies.map((r) => encodeReply(r, proto)));
    t.equal(w.length, want.length, `length RESP${proto}`);
    t.ok(w.take().equals(want), `bytes RESP${proto}`);
    t.equal(w.length, 0, "take() empties the writer");
  }
  // After a take of more than 1 MB the writer shrinks; it must still encode correctly.
  const huge = "y".repeat(1_500_000);
  w.reply(bulk(huge), 2);
  t.equal(w.take().length, huge.length + 12);
  w.reply(bulk("after"), 2);
  t.equal(w.take().toString("latin1"), "$5\r\nafter\r\n");
});

// ---------------------------------------------------------------------------
// An independent RESP2/RESP3 reply parser, used only to check the encoder.

type Parsed =
  | { t: "simple" | "error" | "bulk" | "double" | "bignum" | "int"; v: string }
  | { t: "null" | "nullArray" }
  | { t: "bool"; v: boolean }
  | { t: "verbatim"; format: string; v: string }
  | { t: "array" | "map" | "set" | "push"; items: Parsed[] };

function parseOne(s: string, pos: number): [Parsed, number] {
  const eol = s.indexOf("\r\n", pos);
  if (eol < 0) throw new Error(`no CRLF at ${pos}`);
  const type = s[pos];
  const line = s.slice(pos + 1, eol);
  const next = eol + 2;
  const aggregate = (tag: "array" | "map" | "set" | "push", n: number): [Parsed, number] => {
    const items: Parsed[] = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const [item, after] = parseOne(s, p);
      items.push(item);
      p = after;
    }
    return [{ t: tag, items }, p];
  };
  const blob = (): [string, number] => {
    const n = Number(line);
    if (s.slice(next + n, next + n + 2) !== "\r\n") throw new Error(`bad blob terminator at ${next + n}`);
    return [s.slice(next, next + n), next + n + 2];
  };
  switch (type) {
    case "+":
      return [{ t: "simple", v: line }, next];
    case "-":
      return [{ t: "error", v: line }, next];
    case ":":
      return [{ t: "int", v: line }, next];
    case ",":
      return [{ t: "double", v: line }, next];
    case "(":
      return [{ t: "bignum", v: line }, next];
    case "#":
      return [{ t: "bool", v: line === "t" }, next];
    case "_":
      return [{ t: "null" }, next];
    case "$": {
      if (line === "-1") return [{ t: "null" }, next];
      const [v, after] = blob();
      return [{ t: "bulk", v }, after];
    }
    case "=": {
      const [v, after] = blob();
      return [{ t: "verbatim", format: v.slice(0, 3), v: v.slice(4) }, after];
    }
    case "*":
      if (line === "-1") return [{ t: "nullArray" }, next];
      return aggregate("array", Number(line));
    case "%": {
      const [m, after] = aggregate("map", Number(line) * 2);
      return [m, after];
    }
    case "~":
      return aggregate("set", Number(line));
    case ">":
      return aggregate("push", Number(line));
    default:
      throw new Error(`unknown type byte ${JSON.stringify(type)} at ${pos}`);
  }
}

/** What a reply should parse back to in the given protocol. */
function expected(r: Reply, proto: Protocol): Parsed {
  const agg = (tag: "map" | "set" | "push", items: readonly Reply[]): Parsed => ({
    t: proto === 3 ? tag : "array",
    items: items.map((i) => expected(i, proto)),
  });
  switch (r.kind) {
    case "simple":
      return { t: "simple", v: r.value };
    case "error":
      return { t: "error", v: r.message.replace(/[\r\n]/g, " ") };
    case "int":
      return { t: "int", v: String(r.value) };
    case "bulk":
      return { t: "bulk", v: r.value };
    case "null":
      return { t: "null" };
    case "nullArray":
      return proto === 3 ? { t: "null" } : { t: "nullArray" };
    case "array":
      return { t: "array", items: r.items.map((i) => expected(i, proto)) };
    case "bulks":
      return { t: "array", items: r.values.map((v): Parsed => (v === null ? { t: "null" } : { t: "bulk", v })) };
    case "map":
      return agg("map", r.entries);
    case "set":
      return agg("set", r.items);
    case "push":
      return agg("push", r.items);
    case "double":
      return proto === 3 ? { t: "double", v: String(r.value) } : { t: "bulk", v: String(r.value) };
    case "bool":
      return proto === 3 ? { t: "bool", v: r.value } : { t: "int", v: r.value ? "1" : "0" };
    case "verbatim":
      return proto === 3 ? { t: "verbatim", format: r.format, v: r.value } : { t: "bulk", v: r.value };
    case "bignum":
      return proto === 3 ? { t: "bignum", v: r.value } : { t: "bulk", v: r.value };
    case "none":
      throw new Error("none has no encoding");
    default: {
      const never: never = r;
      throw new Error(`unexpected ${JSON.stringify(never)}`);
    }
  }
}

const binary = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });
// Doubles whose %.17g text equals JavaScript's String(): integers and short fractions.
const plainDouble = fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 4);
const line = fc.string({ unit: fc.constantFrom("a", "b", "Z", "0", " ", ":", "-"), maxLength: 20 });

const replyArb: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    line.map(simple),
    fc.string({ unit: fc.constantFrom("E", "R", " ", "x", "\r", "\n"), maxLength: 20 }).map((m) => err(`ERR ${m}`)),
    fc.integer().map(int),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
    binary.map(bulk),
    fc.constant(NULL),
    fc.constant(NULL_ARRAY),
    fc.array(fc.option(binary, { nil: null }), { maxLength: 5 }).map(bulks),
    plainDouble.map(double),
    fc.boolean().map(bool),
    binary.map((v) => verbatim(v)),
    fc.bigInt({ min: 0n, max: 10n ** 40n }).map((b): Reply => ({ kind: "bignum", value: b.toString() })),
    fc.array(tie("reply"), { maxLength: 4 }).map(array),
    fc.array(fc.tuple(binary.map(bulk), tie("reply")), { maxLength: 3 }).map((pairs) => map(pairs.flat())),
    fc.array(tie("reply"), { maxLength: 4 }).map((items): Reply => ({ kind: "set", items })),
    fc.array(tie("reply"), { maxLength: 4 }).map((items): Reply => ({ kind: "push", items })),
  ),
})).reply;

t.test("any reply tree encodes to bytes that parse back to it (RESP2 and RESP3)", async (t) => {
  fc.assert(
    fc.property(replyArb, fc.constantFrom<Protocol>(2, 3), (r, proto) => {
      const wire = encodeReply(r, proto).toString("latin1");
      const [parsed, end] = parseOne(wire, 0);
      // Exactly one reply, nothing trailing, and the same tree.
      return end === wire.length && isDeepStrictEqual(parsed, expected(r, proto));
    }),
    { numRuns: 1000 },
  );
  t.pass("1000 random reply trees round-trip");
});

t.test("integers and lengths are written digit for digit as String() would", async (t) => {
  // Small integers are written in place, others through String(): both sides of each cut.
  const edges = [0, 9, 10, 99, 100, -1, -9, -10, 2147483647, -2147483647, 2147483648, -2147483648, 2 ** 53 - 1, -(2 ** 53 - 1)];
  for (const n of edges) t.equal(encodeReply(int(n), 2).toString("latin1"), `:${String(n)}\r\n`, `:${n}`);
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (n) => encodeReply(int(n), 2).toString("latin1") === `:${String(n)}\r\n`),
    { numRuns: 2000 },
  );
  for (const len of [0, 9, 10, 99, 100, 65536]) {
    const s = "x".repeat(len);
    t.equal(encodeReply(bulk(s), 2).toString("latin1"), `$${len}\r\n${s}\r\n`, `bulk of ${len}`);
  }
});
