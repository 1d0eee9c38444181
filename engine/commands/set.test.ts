import fc from "fast-check";
import t from "tap";
import { encodeReply } from "../../resp/encoder";
import { array, bulk, bulks, EMPTY_ARRAY, err, int, NULL, OK, type Reply } from "../../resp/reply";
import type { Effect } from "../context";
import { Engine } from "../engine";
import { compareIntStrings } from "../types/set";

const WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value");

function wire(r: Reply, proto: 2 | 3): string {
  return encodeReply(r, proto).toString("latin1");
}

function setOf(members: readonly string[]): Reply {
  return { kind: "set", items: members.map(bulk) };
}

/** Key -> members (a set) or a string value: a deliberately naive model. */
type Model = Map<string, Set<string> | string>;

const KEYS = ["s1", "s2", "s3", "str"];
const key = fc.constantFrom(...KEYS);
const member = fc.oneof(fc.constantFrom("a", "b", "c", "d"), fc.integer({ min: -3, max: 12 }).map(String));
const members = fc.array(member, { minLength: 1, maxLength: 4 });

const command: fc.Arbitrary<string[]> = fc.oneof(
  members.chain((ms) => key.map((k) => ["SADD", k, ...ms])),
  members.chain((ms) => key.map((k) => ["SREM", k, ...ms])),
  fc.tuple(key, member).map(([k, m]) => ["SISMEMBER", k, m]),
  members.chain((ms) => key.map((k) => ["SMISMEMBER", k, ...ms])),
  key.map((k) => ["SCARD", k]),
  key.map((k) => ["SMEMBERS", k]),
  fc.tuple(key, key, member).map(([a, b, m]) => ["SMOVE", a, b, m]),
  fc.tuple(fc.constantFrom("SINTER", "SUNION", "SDIFF"), fc.array(key, { minLength: 1, maxLength: 3 })).map(([c, ks]) => [c, ...ks]),
  fc.tuple(fc.constantFrom("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), key, fc.array(key, { minLength: 1, maxLength: 3 })).map(([c, d, ks]) => [c, d, ...ks]),
  fc.tuple(fc.array(key, { minLength: 1, maxLength: 3 }), fc.nat(3)).map(([ks, l]) => ["SINTERCARD", String(ks.length), ...ks, "LIMIT", String(l)]),
  fc.tuple(key, fc.integer({ min: 0, max: 6 })).map(([k, n]) => ["SPOP", k, String(n)]),
  key.map((k) => ["SPOP", k]),
  fc.tuple(key, fc.integer({ min: -6, max: 6 })).map(([k, n]) => ["SRANDMEMBER", k, String(n)]),
  key.map((k) => ["SET", k, "v"]),
  key.map((k) => ["DEL", k]),
);

function setAt(m: Model, k: string): Set<string> | null | Reply {
  const v = m.get(k);
  if (v === undefined) return null;
  return typeof v === "string" ? WRONGTYPE : v;
}

/** Replies in Redis's order: ascending numbers for an all-integer small set. */
function replyOrder(s: Iterable<string>): string[] {
  const xs = [...s];
  return xs.every((x) => /^(0|-?[1-9]\d*)$/.test(x)) ? xs.sort(compareIntStrings) : xs.sort();
}

function setsAt(m: Model, ks: readonly string[]): (Set<string> | null)[] | Reply {
  const out: (Set<string> | null)[] = [];
  for (const k of ks) {
    const s = setAt(m, k);
    if (s !== null && !(s instanceof Set)) return s;
    out.push(s);
  }
  return out;
}

function combine(op: string, sets: (Set<string> | null)[]): Set<string> {
  const [first, ...rest] = sets;
  if (op === "SUNION") return new Set(sets.flatMap((s) => [...(s ?? [])]));
  if (op === "SINTER") return new Set([...(first ?? [])].filter((x) => sets.every((s) => s?.has(x) === true)));
  return new Set([...(first ?? [])].filter((x) => !rest.some((s) => s?.has(x) === true)));
}

/** The model's reply for deterministic commands (set-order replies sorted for comparison). */
function modelRun(m: Model, a: string[]): Reply {
  const [cmd = "", k = ""] = a;
  const args = a.slice(2);
  switch (cmd) {
    case "SET":
      m.set(k, a[2] ?? "");
      return OK;
    case "DEL":
      return int(m.delete(k) ? 1 : 0);
    case "SMOVE": {
      const src = setAt(m, k);
      const dst = setAt(m, a[2] ?? "");
      const x = a[3] ?? "";
      if (src === null) return int(0);
      if (!(src instanceof Set)) return src;
      if (dst !== null && !(dst instanceof Set)) return dst;
      if (!src.has(x)) return int(0);
      src.delete(x);
      if (src.size === 0) m.delete(k);
      const target = dst ?? new Set<string>();
      target.add(x);
      m.set(a[2] ?? "", target);
      return int(1);
    }
    case "SINTER":
    case "SUNION":
    case "SDIFF": {
      const sets = setsAt(m, a.slice(1));
      if (!Array.isArray(sets)) return sets;
      return setOf(replyOrder(combine(cmd, sets)));
    }
    case "SINTERSTORE":
    case "SUNIONSTORE":
    case "SDIFFSTORE": {
      const sets = setsAt(m, args);
      if (!Array.isArray(sets)) return sets;
      const r = combine(cmd.replace("STORE", ""), sets);
      if (r.size === 0) m.delete(k);
      else m.set(k, r);
      return int(r.size);
    }
    case "SINTERCARD": {
      const n = Number(k);
      const sets = setsAt(m, a.slice(2, 2 + n));
      if (!Array.isArray(sets)) return sets;
      const limit = Number(a[a.length - 1]);
      const size = combine("SINTER", sets).size;
      return int(limit > 0 ? Math.min(limit, size) : size);
    }
    default:
      return modelKeyCommand(m, cmd, k, args);
  }
}

function modelKeyCommand(m: Model, cmd: string, k: string, args: string[]): Reply {
  const s = setAt(m, k);
  if (s !== null && !(s instanceof Set)) return s;
  switch (cmd) {
    case "SADD": {
      const target = s ?? new Set<string>();
      let n = 0;
      for (const x of args) if (!target.has(x)) target.add(x), n++;
      m.set(k, target);
      return int(n);
    }
    case "SREM": {
      let n = 0;
      for (const x of args) if (s?.delete(x) === true) n++;
      if (s?.size === 0) m.delete(k);
      return int(n);
    }
    case "SISMEMBER":
      return int(s?.has(args[0] ?? "") === true ? 1 : 0);
    case "SMISMEMBER":
      return array(args.map((x) => int(s?.has(x) === true ? 1 : 0)));
    case "SCARD":
      return int(s?.size ?? 0);
    case "SMEMBERS":
      return setOf(replyOrder(s ?? []));
    default:
      throw new Error(`model has no ${cmd}`);
  }
}

/** Random commands: check the reply against the model's members, then update the model. */
function checkRandom(m: Model, a: string[], r: Reply): string | null {
  const [cmd = "", k = "", countArg] = a;
  const s = setAt(m, k);
  if (s !== null && !(s instanceof Set)) return wire(r, 2) === wire(s, 2) ? null : "expected WRONGTYPE";
  const picked = r.kind === "bulk" ? [r.value] : r.kind === "set" ? r.items.map((i) => (i.kind === "bulk" ? i.value : "?")) : r.kind === "bulks" ? r.values.map((v) => v ?? "?") : [];
  const size = s?.size ?? 0;
  if (picked.some((x) => s?.has(x) !== true)) return `picked a non-member: ${JSON.stringify(picked)}`;
  const distinct = new Set(picked).size === picked.length;
  if (countArg === undefined) {
    if (size === 0) return r.kind === "null" ? null : "expected nil";
    if (picked.length !== 1) return "expected one member";
  } else {
    const n = Number(countArg);
    const want = cmd === "SRANDMEMBER" && n < 0 ? (size === 0 ? 0 : -n) : Math.min(n, size);
    if (picked.length !== want) return `expected ${want} members, got ${picked.length}`;
    if (!(cmd === "SRANDMEMBER" && n < 0) && !distinct) return "members repeat";
  }
  if (cmd === "SPOP" && s !== null) {
    for (const x of picked) s.delete(x);
    if (s.size === 0) m.delete(k);
  }
  return null;
}

function snapshot(e: Engine): string {
  const out: string[] = [];
  for (const [k, v] of [...e.db(0).data].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    out.push(`${k}=${typeof v === "string" ? v : v.kind === "set" ? replyOrder(v.toArray()).join(",") : v.kind}`);
  }
  return out.join(" ");
}

function modelSnapshot(m: Model): string {
  return [...m]
    .sort((x, y) => (x[0] < y[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : replyOrder(v).join(",")}`)
    .join(" ");
}

t.test("set commands match a naive model, and their effects rebuild the same data", async () => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 60, size: "max" }), fc.constantFrom(2 as const, 3 as const), fc.integer(), (cmds, proto, seed) => {
      let state = seed | 1;
      const random = (): number => {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        return (state >>> 0) / 4294967296;
      };
      const e = new Engine({ random });
      const session = e.newSession();
      session.resp = proto;
      const replica = new Engine({});
      const m: Model = new Map();
      for (const a of cmds) {
        const { reply, effects } = e.execute(a, session);
        replica.apply(effects as Effect[]);
        if (a[0] === "SPOP" || a[0] === "SRANDMEMBER") {
          const problem = checkRandom(m, a, reply);
          if (problem !== null) throw new Error(`${a.join(" ")}: ${problem}`);
        } else {
          const want = modelRun(m, a);
          const got = a[0] === "SMEMBERS" || a[0] === "SINTER" || a[0] === "SUNION" || a[0] === "SDIFF" ? sortSetReply(reply) : reply;
          if (wire(got, proto) !== wire(want, proto)) throw new Error(`${a.join(" ")}: got ${wire(got, proto)} want ${wire(want, proto)}`);
        }
        if (snapshot(e) !== modelSnapshot(m)) throw new Error(`after ${a.join(" ")}: ${snapshot(e)} vs model ${modelSnapshot(m)}`);
        if (snapshot(replica) !== snapshot(e)) throw new Error(`replica diverged after ${a.join(" ")}`);
      }
    }),
    { numRuns: 1000 },
  );
});

/** Hashtable sets reply in slot order; compare them as sorted (intsets already are). */
function sortSetReply(r: Reply): Reply {
  if (r.kind !== "set") return r;
  return setOf(replyOrder(r.items.map((i) => (i.kind === "bulk" ? i.value : ""))));
}

t.test("SPOP and SRANDMEMBER replies and effects", async (t) => {
  const e = new Engine({ random: () => 0.5 });
  e.execute(["SADD", "s", "a", "b", "c", "d"]);
  const pop = e.execute(["SPOP", "s", "2"]);
  t.equal(pop.effects.length, 1);
  t.equal(pop.effects[0]?.argv[0], "SREM");
  t.equal(pop.effects[0]?.argv.length, 4, "one SREM naming both members");
  const all = e.execute(["SPOP", "s", "5"]);
  t.same(
    all.effects.map((x) => x.argv),
    [["DEL", "s"]],
    "taking the whole set is a DEL",
  );
  t.same(e.execute(["EXISTS", "s"]).reply, int(0));
  e.execute(["SADD", "s", "x"]);
  t.same(e.execute(["SRANDMEMBER", "s", "-3"]).reply, bulks(["x", "x", "x"]));
  t.same(e.execute(["SRANDMEMBER", "s", "-3"]).effects, [], "SRANDMEMBER is a read");
  t.same(e.execute(["SRANDMEMBER", "nokey", "3"]).reply, EMPTY_ARRAY);
  t.same(e.execute(["SPOP", "nokey"]).reply, NULL);
  t.same(e.execute(["SRANDMEMBER", "s", "-9223372036854775808"]).reply, err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
  t.same(e.execute(["SPOP", "s", "-1"]).reply, err("ERR value is out of range, must be positive"));
});

t.test("SSCAN walks a large set completely and honours MATCH", async (t) => {
  const e = new Engine({});
  const members: string[] = [];
  for (let i = 0; i < 500; i++) members.push(`m:${i}`);
  e.execute(["SADD", "big", ...members]);
  const seen = new Set<string>();
  let cursor = "0";
  let calls = 0;
  do {
    const r = e.execute(["SSCAN", "big", cursor, "COUNT", "37"]).reply;
    if (r.kind !== "array") throw new Error("bad reply");
    const [c, list] = r.items;
    cursor = c?.kind === "bulk" ? c.value : "0";
    if (list?.kind === "bulks") for (const v of list.values) seen.add(v ?? "");
    calls++;
  } while (cursor !== "0" && calls < 100);
  t.equal(seen.size, 500);
  const matched = e.execute(["SSCAN", "big", "0", "COUNT", "1000", "MATCH", "m:1?"]).reply;
  t.same(matched, array([bulk("0"), bulks(members.filter((m) => /^m:1\d$/.test(m)).reverse())]));
  t.same(e.execute(["SSCAN", "big", "x"]).reply, err("ERR invalid cursor"));
});
