import fc from "fast-check";
import t from "tap";
import { bulk, err, int, NULL, OK, type Reply } from "../../resp/reply";
import { Engine } from "../engine";
import { formatMs } from "./expire";

// --- a deliberately naive model: key -> value and absolute expire time, with its own clock ----

interface Entry {
  value: string;
  at?: number;
}

interface Model {
  now: number;
  keys: Map<string, Entry>;
}

interface Real {
  clock: { now: number };
  primary: Engine;
  replica: Engine;
}

/** The live entry of `k`, dropping it once its time has come. */
function live(m: Model, k: string): Entry | undefined {
  const e = m.keys.get(k);
  if (e === undefined) return undefined;
  if (e.at !== undefined && e.at <= m.now) {
    m.keys.delete(k);
    return undefined;
  }
  return e;
}

/** Runs argv on the primary, feeds its effects to the replica, and checks that both datasets agree. */
function exec(r: Real, argv: string[]): Reply {
  const res = r.primary.execute(argv);
  r.replica.apply(res.effects);
  const a = r.primary.digest();
  const b = r.replica.digest();
  if (a !== b) throw new Error(`replica diverged after ${argv.join(" ")}: ${a} != ${b}`);
  return res.reply;
}

function expect(actual: Reply, expected: Reply, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

type Cmd = fc.Command<Model, Real>;

class SetCmd implements Cmd {
  constructor(
    readonly k: string,
    readonly v: string,
    readonly exSec: number | null,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const argv = this.exSec === null ? ["SET", this.k, this.v] : ["SET", this.k, this.v, "EX", String(this.exSec)];
    expect(exec(r, argv), OK, this.toString());
    m.keys.set(this.k, this.exSec === null ? { value: this.v } : { value: this.v, at: m.now + this.exSec * 1000 });
  }
  toString(): string {
    return `SET ${this.k} ${this.v}${this.exSec === null ? "" : ` EX ${this.exSec}`}`;
  }
}

class GetCmd implements Cmd {
  constructor(readonly k: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const e = live(m, this.k);
    expect(exec(r, ["GET", this.k]), e === undefined ? NULL : bulk(e.value), this.toString());
  }
  toString(): string {
    return `GET ${this.k}`;
  }
}

class DelCmd implements Cmd {
  constructor(readonly ks: string[]) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    let n = 0;
    for (const k of this.ks) if (live(m, k) !== undefined && m.keys.delete(k)) n++;
    expect(exec(r, ["DEL", ...this.ks]), int(n), this.toString());
  }
  toString(): string {
    return `DEL ${this.ks.join(" ")}`;
  }
}

class ExistsCmd implements Cmd {
  constructor(readonly ks: string[]) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const n = this.ks.filter((k) => live(m, k) !== undefined).length;
    expect(exec(r, ["EXISTS", ...this.ks]), int(n), this.toString());
  }
  toString(): string {
    return `EXISTS ${this.ks.join(" ")}`;
  }
}

class RenameCmd implements Cmd {
  constructor(
    readonly src: string,
    readonly dst: string,
    readonly nx: boolean,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const e = live(m, this.src);
    let want: Reply;
    if (e === undefined) want = err("ERR no such key");
    else if (this.src === this.dst) want = this.nx ? int(0) : OK;
    else if (this.nx && live(m, this.dst) !== undefined) want = int(0);
    else {
      m.keys.delete(this.src);
      m.keys.set(this.dst, e);
      want = this.nx ? int(1) : OK;
    }
    expect(exec(r, [this.nx ? "RENAMENX" : "RENAME", this.src, this.dst]), want, this.toString());
  }
  toString(): string {
    return `${this.nx ? "RENAMENX" : "RENAME"} ${this.src} ${this.dst}`;
  }
}

type ExpireKind = "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT";

class ExpireCmd implements Cmd {
  constructor(
    readonly kind: ExpireKind,
    readonly k: string,
    readonly amount: number,
    readonly flags: string[],
  ) {}
  check(): boolean {
    return true;
  }
  /** The absolute ms the command asks for; the *AT forms take `amount` relative to the model's now. */
  private when(now: number): [string, number] {
    switch (this.kind) {
      case "EXPIRE":
        return [String(this.amount), now + this.amount * 1000];
      case "PEXPIRE":
        return [String(this.amount), now + this.amount];
      case "EXPIREAT": {
        const sec = Math.floor(now / 1000) + this.amount;
        return [String(sec), sec * 1000];
      }
      case "PEXPIREAT":
        return [String(now + this.amount), now + this.amount];
    }
  }
  private modelReply(m: Model, when: number): Reply {
    const f = new Set(this.flags);
    if (f.has("NX") && (f.has("XX") || f.has("GT") || f.has("LT"))) return err("ERR NX and XX, GT or LT options at the same time are not compatible");
    if (f.has("GT") && f.has("LT")) return err("ERR GT and LT options at the same time are not compatible");
    const e = live(m, this.k);
    if (e === undefined) return int(0);
    if (f.has("NX") && e.at !== undefined) return int(0);
    if (f.has("XX") && e.at === undefined) return int(0);
    if (f.has("GT") && (e.at === undefined || when <= e.at)) return int(0);
    if (f.has("LT") && e.at !== undefined && when >= e.at) return int(0);
    if (when <= m.now) m.keys.delete(this.k);
    else e.at = when;
    return int(1);
  }
  run(m: Model, r: Real): void {
    const [arg, when] = this.when(m.now);
    const want = this.modelReply(m, when);
    expect(exec(r, [this.kind, this.k, arg, ...this.flags]), want, this.toString());
  }
  toString(): string {
    return `${this.kind} ${this.k} ${this.amount}${this.kind.endsWith("AT") ? " (from now)" : ""} ${this.flags.join(" ")}`;
  }
}

class PersistCmd implements Cmd {
  constructor(readonly k: string) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const e = live(m, this.k);
    const had = e?.at !== undefined;
    if (e !== undefined) delete e.at;
    expect(exec(r, ["PERSIST", this.k]), int(had ? 1 : 0), this.toString());
  }
  toString(): string {
    return `PERSIST ${this.k}`;
  }
}

type TtlKind = "TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME";

class TtlCmd implements Cmd {
  constructor(
    readonly kind: TtlKind,
    readonly k: string,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const e = live(m, this.k);
    let want: number;
    if (e === undefined) want = -2;
    else if (e.at === undefined) want = -1;
    else {
      const abs = this.kind === "EXPIRETIME" || this.kind === "PEXPIRETIME";
      const ms = this.kind === "PTTL" || this.kind === "PEXPIRETIME";
      const v = abs ? e.at : e.at - m.now;
      want = ms ? v : Math.floor((v + 500) / 1000);
    }
    expect(exec(r, [this.kind, this.k]), int(want), this.toString());
  }
  toString(): string {
    return `${this.kind} ${this.k}`;
  }
}

class AdvanceCmd implements Cmd {
  constructor(readonly ms: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    m.now += this.ms;
    r.clock.now += this.ms;
  }
  toString(): string {
    return `advance ${this.ms}ms`;
  }
}

const key = fc.constantFrom("a", "b", "c");
const keys = fc.array(key, { minLength: 1, maxLength: 3 });
const value = fc.constantFrom("x", "y", "1");
const flags = fc.subarray(["NX", "XX", "GT", "LT"]).chain((f) => fc.shuffledSubarray(f, { minLength: f.length, maxLength: f.length }));

const commands = [
  fc.tuple(key, value, fc.option(fc.integer({ min: 1, max: 10 }))).map(([k, v, ex]) => new SetCmd(k, v, ex)),
  key.map((k) => new GetCmd(k)),
  keys.map((ks) => new DelCmd(ks)),
  keys.map((ks) => new ExistsCmd(ks)),
  fc.tuple(key, key, fc.boolean()).map(([a, b, nx]) => new RenameCmd(a, b, nx)),
  fc.tuple(fc.constantFrom<ExpireKind>("EXPIRE", "EXPIREAT"), key, fc.integer({ min: -3, max: 12 }), flags).map(([kind, k, n, f]) => new ExpireCmd(kind, k, n, f)),
  fc.tuple(fc.constantFrom<ExpireKind>("PEXPIRE", "PEXPIREAT"), key, fc.integer({ min: -800, max: 12_000 }), flags).map(([kind, k, n, f]) => new ExpireCmd(kind, k, n, f)),
  key.map((k) => new PersistCmd(k)),
  fc.tuple(fc.constantFrom<TtlKind>("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"), key).map(([kind, k]) => new TtlCmd(kind, k)),
  fc.integer({ min: 0, max: 4000 }).map((ms) => new AdvanceCmd(ms)),
];

t.test("DEL/EXISTS/RENAME/EXPIRE/TTL/PERSIST agree with a naive model, and replicas stay identical", async (t) => {
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 80 }), fc.integer({ min: 0, max: 999 }), (cmds, startMs) => {
      const start = 1_700_000_000_000 + startMs;
      const setup = (): { model: Model; real: Real } => {
        const clock = { now: start };
        return {
          model: { now: start, keys: new Map() },
          real: {
            clock,
            primary: new Engine({ clock: () => clock.now }),
            replica: new Engine({ clock: () => clock.now, role: "replica" }),
          },
        };
      };
      fc.modelRun(setup, cmds);
    }),
    { numRuns: 300 },
  );
  t.pass("model agreed");
});

// --- exact replies, errors and effects ---------------------------------------------------------

function engineAt(now: number): { e: Engine; x: (...argv: string[]) => Reply } {
  const e = new Engine({ clock: () => now });
  return { e, x: (...argv) => e.execute(argv).reply };
}

t.test("EXPIRE-family effects are PEXPIREAT with absolute ms, or DEL", async (t) => {
  const now = 1_700_000_000_123;
  const { e } = engineAt(now);
  e.execute(["SET", "k", "v"]);
  const effects = (...argv: string[]): string[][] => e.execute(argv).effects.map((f) => [...f.argv]);
  t.same(effects("EXPIRE", "k", "100"), [["PEXPIREAT", "k", String(now + 100_000)]]);
  t.same(effects("PEXPIRE", "k", "100"), [["PEXPIREAT", "k", String(now + 100)]]);
  t.same(effects("EXPIREAT", "k", "1800000000"), [["PEXPIREAT", "k", "1800000000000"]]);
  t.same(effects("PEXPIREAT", "k", "1800000000001"), [["PEXPIREAT", "k", "1800000000001"]]);
  t.same(effects("EXPIRE", "k", "10", "NX"), [], "a refused update writes nothing");
  t.same(effects("PERSIST", "k"), [["PERSIST", "k"]]);
  t.same(effects("PERSIST", "k"), []);
  t.same(effects("EXPIREAT", "k", String(Math.floor(now / 1000) - 100)), [["DEL", "k"]]);
  t.same(effects("EXPIRE", "missing", "10"), []);
});

t.test("an applied PEXPIREAT in the past sets the time instead of deleting", async (t) => {
  const replica = new Engine({ clock: () => 2_000_000_000_000, role: "replica" });
  replica.apply([{ db: 0, argv: ["SET", "k", "v"] }]);
  replica.apply([{ db: 0, argv: ["PEXPIREAT", "k", "1000"] }]);
  t.equal(replica.db(0).expires.get("k"), 1000, "the key waits for the primary's DEL");
  t.ok(replica.db(0).data.has("k"));
  t.same(replica.execute(["GET", "k"]).reply, NULL, "but reads as expired on the replica");
});

t.test("error texts and overflow checks, as Redis 7.0", async (t) => {
  const { x } = engineAt(1_700_000_000_000);
  x("SET", "foo", "bar");
  t.same(x("EXPIRE", "foo", ""), err("ERR value is not an integer or out of range"));
  t.same(x("EXPIRE", "foo", "200", "AB"), err("ERR Unsupported option AB"));
  t.same(x("EXPIRE", "foo", "200", "XX", "ab"), err("ERR Unsupported option ab"));
  t.same(x("EXPIRE", "foo", "200", "LT", "GT"), err("ERR GT and LT options at the same time are not compatible"));
  t.same(x("EXPIRE", "foo", "200", "NX", "XX"), err("ERR NX and XX, GT or LT options at the same time are not compatible"));
  for (const n of ["9223370399119966", "9223372036854776", "10000000000000000", "18446744073709561", "-9223372036854776", "-9999999999999999"]) {
    t.same(x("EXPIRE", "foo", n), err("ERR invalid expire time in 'expire' command"), `EXPIRE ${n}`);
  }
  t.same(x("PEXPIRE", "foo", "9223372036854770000"), err("ERR invalid expire time in 'pexpire' command"));
  t.same(x("TTL", "foo"), int(-1));
  t.same(x("PEXPIREAT", "foo", "9223372036854770000"), int(1));
  t.same(x("PEXPIREAT", "foo", "-9223372036854770000"), int(1));
  t.same(x("TTL", "foo"), int(-2));
  t.same(x("TTL", "nokey"), int(-2));
  t.same(x("PERSIST", "nokey"), int(0));
});

t.test("TTL rounds to the nearest second, EXPIRETIME too", async (t) => {
  const { x } = engineAt(1_000_000);
  x("SET", "k", "v", "PX", "1499");
  t.same(x("TTL", "k"), int(1));
  x("SET", "k", "v", "PX", "1500");
  t.same(x("TTL", "k"), int(2));
  t.same(x("PTTL", "k"), int(1500));
  t.same(x("EXPIRETIME", "k"), int(1002));
  t.same(x("PEXPIRETIME", "k"), int(1_001_500));
});

t.test("formatMs keeps far-future times parseable as int64", async (t) => {
  t.equal(formatMs(1234), "1234");
  t.equal(formatMs(9223372036854775807), "9223372036854775807");
  t.equal(formatMs(-9223372036854775808), "-9223372036854775808");
  t.equal(BigInt(formatMs(2 ** 60)), 2n ** 60n);
});
