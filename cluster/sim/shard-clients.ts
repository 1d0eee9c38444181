// The shard simulation's clients: each sends one command at a time to the
// server it believes is the primary (following -MOVED, trying another server
// after a refusal, a lost connection or a timeout) and records what it saw.
// Every RPUSH carries a value no other command ever writes, so the checkers
// can tell each write apart:
//   - a write refused (-MOVED, -CLUSTERDOWN, -LOADING, -TRYAGAIN ...) must
//     never be in the log;
//   - a read (LRANGE, GET of a counter) must see every write acknowledged
//     before it was sent, and no refused one;
//   - at the end, every acknowledged value is in the committed log exactly
//     once and in the final list; counters are between the acknowledged and
//     the attempted INCRs.
import { assert, AssertionError } from "../../log/raft/assert";
import type { Engine } from "../../engine/engine";
import type { Session } from "../../engine/session";
import type { Reply } from "../../resp/reply";
import { SafetyViolation } from "../../log/sim/checker";
import type { LogApp } from "../../log/sim/log-app";
import type { Prng } from "../../log/sim/prng";
import type { SimServer } from "./shard-server";
import type { WorkloadHost } from "../../log/sim/workload";

export interface ClientSettings {
  readonly clients: number;
  readonly opsPerClient: number;
  readonly thinkMsMax: number;
  readonly timeoutMs: number;
}

type OpKind = "push" | "lrange" | "incr" | "getc" | "set" | "getr";

interface Op {
  readonly kind: OpKind;
  readonly argv: readonly string[];
  readonly key: string;
  readonly value: string | null;
  readonly sentUs: number;
  readonly server: number;
}

interface Client {
  readonly id: number;
  readonly probe: boolean;
  target: number | null;
  opsLeft: number;
  seq: number;
  inflight: Op | null;
  readonly sessions: WeakMap<Engine, Session>;
}

export interface ClientStats {
  sent: number;
  acked: number;
  refused: number;
  unknown: number;
  reads: number;
}

const LISTS = ["l0", "l1", "l2"];
const COUNTERS = ["c0", "c1"];
const REGISTERS = ["r0", "r1"];
export const PROBE_LIST = "probe";

export class ShardClients {
  private readonly clients: Client[] = [];
  /** value -> [list, time acknowledged] */
  readonly pushAcked = new Map<string, { key: string; atUs: number }>();
  readonly pushRefused = new Set<string>();
  readonly pushAttempted = new Map<string, string>();
  private readonly incrAckTimes = new Map<string, number[]>();
  readonly incrMaybe = new Map<string, number>();
  readonly stats: ClientStats = { sent: 0, acked: 0, refused: 0, unknown: 0, reads: 0 };
  stopped = false;
  probeAckedAtUs: number | null = null;

  constructor(
    private readonly host: WorkloadHost<LogApp>,
    private readonly servers: readonly SimServer[],
    private readonly rng: Prng,
    private readonly s: ClientSettings,
  ) {}

  start(startRng: Prng): void {
    for (let i = 0; i < this.s.clients; i++) {
      const c = this.newClient(false, this.s.opsPerClient);
      this.host.at(startRng.int(1000) * 1000, () => this.tick(c));
    }
  }

  /** The liveness probe: one client that pushes until a write is acknowledged. */
  startProbe(): void {
    const c = this.newClient(true, Number.MAX_SAFE_INTEGER);
    this.tick(c);
  }

  get inflight(): number {
    return this.clients.reduce((n, c) => n + (c.inflight === null ? 0 : 1), 0);
  }

  incrAcked(key: string): number {
    return this.incrAckTimes.get(key)?.length ?? 0;
  }

  counters(): readonly string[] {
    return COUNTERS;
  }

  private newClient(probe: boolean, ops: number): Client {
    const c: Client = { id: this.clients.length, probe, target: null, opsLeft: ops, seq: 0, inflight: null, sessions: new WeakMap() };
    this.clients.push(c);
    return c;
  }

  private tick(c: Client): void {
    if (c.inflight !== null || c.opsLeft <= 0) return;
    if (this.stopped && !c.probe) return;
    if (c.probe && this.probeAckedAtUs !== null) return;
    c.opsLeft--;
    const server = c.target ?? this.rng.int(this.servers.length);
    const op = this.chooseOp(c, server);
    c.inflight = op;
    this.stats.sent++;
    if (op.kind === "push" && op.value !== null) this.pushAttempted.set(op.value, op.key);
    this.host.at(this.host.nowUs() + this.delayUs(), () => this.arrive(c, op));
    this.host.at(op.sentUs + this.s.timeoutMs * 1000, () => {
      if (c.inflight === op) this.outcome(c, op, "unknown");
    });
  }

  private chooseOp(c: Client, server: number): Op {
    const now = this.host.nowUs();
    const value = `v${c.id}.${++c.seq}`;
    if (c.probe) return { kind: "push", argv: ["RPUSH", PROBE_LIST, value], key: PROBE_LIST, value, sentUs: now, server };
    const x = this.rng.float();
    const list = this.rng.pick(LISTS);
    const counter = this.rng.pick(COUNTERS);
    const reg = this.rng.pick(REGISTERS);
    if (x < 0.4) return { kind: "push", argv: ["RPUSH", list, value], key: list, value, sentUs: now, server };
    if (x < 0.6) return { kind: "lrange", argv: ["LRANGE", list, "0", "-1"], key: list, value: null, sentUs: now, server };
    if (x < 0.75) return { kind: "incr", argv: ["INCR", counter], key: counter, value: null, sentUs: now, server };
    if (x < 0.85) return { kind: "getc", argv: ["GET", counter], key: counter, value: null, sentUs: now, server };
    if (x < 0.95) {
      const argv = this.rng.chance(0.5) ? ["SET", reg, value, "PX", String(1 + this.rng.int(400))] : ["SET", reg, value];
      return { kind: "set", argv, key: reg, value, sentUs: now, server };
    }
    return { kind: "getr", argv: ["GET", reg], key: reg, value: null, sentUs: now, server };
  }

  private arrive(c: Client, op: Op): void {
    const s = this.servers[op.server] as SimServer;
    // Connection refused: the command never ran.
    if (!s.alive) return this.back(c, op, { kind: "error", message: "CONNREFUSED" });
    s.deliver(() => {
      let session = c.sessions.get(s.engine);
      if (session === undefined) c.sessions.set(s.engine, (session = s.engine.newSession()));
      s.handle(op.argv, session, (r) => this.back(c, op, r));
    });
  }

  private back(c: Client, op: Op, r: Reply): void {
    this.host.at(this.host.nowUs() + this.delayUs(), () => {
      if (c.inflight === op) this.hear(c, op, r);
    });
  }

  private hear(c: Client, op: Op, r: Reply): void {
    if (r.kind !== "error") {
      this.check(op, r);
      return this.outcome(c, op, "acked");
    }
    const m = r.message;
    if (m.startsWith("MOVED ")) {
      const name = (m.split(" ")[2] ?? "").split(":")[0] ?? "";
      c.target = this.servers.findIndex((x) => x.name === name);
      if (c.target < 0) c.target = null;
      return this.outcome(c, op, "refused");
    }
    if (/^(CONNREFUSED|CLUSTERDOWN|LOADING|READONLY|TRYAGAIN)/.test(m)) return this.outcome(c, op, "refused");
    if (m.startsWith("ERR this node lost the primary lease")) return this.outcome(c, op, "unknown");
    throw new SafetyViolation(`client ${c.id}: unexpected error to ${op.argv.join(" ")}: ${m}`);
  }

  private outcome(c: Client, op: Op, how: "acked" | "refused" | "unknown"): void {
    c.inflight = null;
    const now = this.host.nowUs();
    this.stats[how]++;
    if (how !== "acked") c.target = how === "refused" && c.target !== op.server ? c.target : null;
    if (op.kind === "push" && op.value !== null) {
      if (how === "acked") this.pushAcked.set(op.value, { key: op.key, atUs: now });
      if (how === "refused") this.pushRefused.add(op.value);
      if (how === "acked" && c.probe) this.probeAckedAtUs = now;
    }
    if (op.kind === "incr" && how !== "refused") this.incrMaybe.set(op.key, (this.incrMaybe.get(op.key) ?? 0) + 1);
    if (op.kind === "incr" && how === "acked") {
      const times = this.incrAckTimes.get(op.key) ?? [];
      times.push(now);
      this.incrAckTimes.set(op.key, times);
    }
    if (how === "refused") c.opsLeft++;
    const thinkMs = how === "acked" ? 1 + this.rng.int(this.s.thinkMsMax) : 5 + this.rng.int(20);
    this.host.at(now + thinkMs * 1000, () => this.tick(c));
  }

  /** A read must show every write acknowledged before it was sent, and nothing refused. */
  private check(op: Op, r: Reply): void {
    if (op.kind === "lrange") {
      this.stats.reads++;
      if (!(r.kind === "bulks" || r.kind === "array")) throw new AssertionError(`LRANGE answered ${r.kind}`);
      const seen = new Set(r.kind === "bulks" ? r.values : []);
      for (const v of seen) {
        if (v !== null && this.pushRefused.has(v)) throw new SafetyViolation(`LRANGE ${op.key} shows ${v}, whose RPUSH was refused`);
      }
      for (const [v, a] of this.pushAcked) {
        if (a.key === op.key && a.atUs < op.sentUs && !seen.has(v)) {
          throw new SafetyViolation(`stale read: LRANGE ${op.key} sent at ${op.sentUs}us by way of server ${op.server} misses ${v}, acknowledged at ${a.atUs}us`);
        }
      }
    }
    if (op.kind === "getc") {
      this.stats.reads++;
      const n = r.kind === "bulk" ? Number(r.value) : 0;
      const before = (this.incrAckTimes.get(op.key) ?? []).filter((t) => t < op.sentUs).length;
      if (n < before) throw new SafetyViolation(`stale read: GET ${op.key} = ${n} sent at ${op.sentUs}us, but ${before} INCRs were acknowledged before`);
    }
  }

  private delayUs(): number {
    return 50 + this.rng.int(1000);
  }
}
