// The checker's clients: N concurrent RESP clients doing register (SET/GET of
// unique values), list-append (RPUSH/LRANGE) and counter (INCR/GET)
// operations on a few keys of each kind, recording every call and what came
// back. A write that got no reply, or an error reply other than a refusal,
// "may have happened"; a read that got none tells nothing and is left out.
// Refusals (-MOVED, -ASK, -READONLY, -TRYAGAIN, -CLUSTERDOWN, -LOADING) say
// the command was not executed (docs/consistency.md), and the checker holds
// the server to it: a refused write is left out of the history, so if it took
// effect after all, a read will not linearize. After a refusal or a lost
// connection a client asks the router for the primary again. Keys are rotated every `rotateMs` so that each key's
// history stays small enough to check quickly.
import { performance } from "node:perf_hooks";
import { Prng } from "../log/sim/prng";
import { assertNever } from "./assert";
import type { Endpoint } from "./cluster";
import type { CounterInput, CounterOutput, ListInput, ListOutput, RegisterInput, RegisterOutput } from "./models";
import { RespClient, RespConnectionError, type RespValue } from "./resp";
import type { Operation, Outcome } from "./wgl";

export type KeyKind = "register" | "list" | "counter";
export const KEY_KINDS: readonly KeyKind[] = ["register", "list", "counter"];

/** One write attempt, for the availability and failover measures. */
export interface WriteAttempt {
  readonly callAt: number;
  readonly returnAt: number;
  readonly acked: boolean;
  readonly endpoint: string;
}

export class History {
  readonly register: Operation<RegisterInput, RegisterOutput>[] = [];
  readonly list: Operation<ListInput, ListOutput>[] = [];
  readonly counter: Operation<CounterInput, CounterOutput>[] = [];
  readonly writes: WriteAttempt[] = [];
  /** Every key used, by kind (the final reads visit them all). */
  readonly keys = new Map<string, KeyKind>();
  /** Reads that got an error reply or no reply (left out of the history). */
  droppedReads = 0;
  /** Commands refused as not executed (left out of the history). */
  refused = 0;
}

/** Where the primary is; shared by all clients. */
export interface Router {
  current(): Endpoint | null;
  /** Finds the primary again (single-flight; cheap when called by many clients at once). */
  rediscover(hint?: Endpoint): Promise<void>;
}

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly opTimeoutMs: number;
  readonly thinkMsMax: number;
  readonly rotateMs: number;
  readonly prefix: string;
}

/** The client id of the final reads. */
export const FINAL_CLIENT = -1;

/** Milliseconds on one monotonic clock for every client. */
export const now = (): number => performance.now();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Errors that say the command was not executed; the client then looks for the primary again. */
const REFUSED = /^(MOVED|ASK|READONLY|TRYAGAIN|CLUSTERDOWN|LOADING)\b/;

type Planned =
  | { readonly kind: "register"; readonly key: string; readonly input: RegisterInput }
  | { readonly kind: "list"; readonly key: string; readonly input: ListInput }
  | { readonly kind: "counter"; readonly key: string; readonly input: CounterInput };

export function keyName(prefix: string, kind: KeyKind, slot: number, generation: number): string {
  return `${prefix}:${kind}:${slot}:${generation}`;
}

function argvOf(p: Planned): string[] {
  switch (p.kind) {
    case "register":
      return p.input.op === "set" ? ["SET", p.key, p.input.value] : ["GET", p.key];
    case "list":
      return p.input.op === "rpush" ? ["RPUSH", p.key, p.input.value] : ["LRANGE", p.key, "0", "-1"];
    case "counter":
      return p.input.op === "incr" ? ["INCR", p.key] : ["GET", p.key];
    default:
      return assertNever(p, "operation");
  }
}

function isWrite(p: Planned): boolean {
  return p.input.op === "set" || p.input.op === "rpush" || p.input.op === "incr";
}

/** The model's output for a reply, or null when the reply is not what the command can answer. */
function outputOf(p: Planned, v: RespValue): RegisterOutput | ListOutput | CounterOutput | undefined {
  if (p.kind === "register") {
    if (p.input.op === "set") return v.kind === "simple" && v.value === "OK" ? "OK" : undefined;
    return v.kind === "bulk" ? v.value : undefined;
  }
  if (p.kind === "list") {
    if (p.input.op === "rpush") return v.kind === "int" ? v.value : undefined;
    if (v.kind !== "array" || v.items === null) return undefined;
    const items: string[] = [];
    for (const it of v.items) if (it.kind === "bulk" && it.value !== null) items.push(it.value);
    return items.length === v.items.length ? items : undefined;
  }
  if (p.input.op === "incr") return v.kind === "int" ? v.value : undefined;
  if (v.kind !== "bulk") return undefined;
  return v.value === null ? null : /^-?\d+$/.test(v.value) ? Number(v.value) : undefined;
}

/** Appends one operation to the history of its kind. */
function record(h: History, client: number, p: Planned, outcome: Outcome<RegisterOutput | ListOutput | CounterOutput>, callAt: number, returnAt: number): void {
  const base = { client, key: p.key, callAt, returnAt: outcome.known ? returnAt : Infinity };
  // The casts narrow an outcome checked against this very command by outputOf.
  switch (p.kind) {
    case "register":
      h.register.push({ ...base, input: p.input, outcome: outcome as Outcome<RegisterOutput> });
      return;
    case "list":
      h.list.push({ ...base, input: p.input, outcome: outcome as Outcome<ListOutput> });
      return;
    case "counter":
      h.counter.push({ ...base, input: p.input, outcome: outcome as Outcome<CounterOutput> });
      return;
    default:
      assertNever(p, "operation");
  }
}

class CheckClient {
  private conn: RespClient | null = null;
  private readonly rng: Prng;
  private n = 0;

  constructor(
    private readonly id: number,
    private readonly opts: WorkloadOptions,
    private readonly router: Router,
    private readonly history: History,
    private readonly startedAt: number,
  ) {
    this.rng = new Prng(opts.seed * 1000 + id);
  }

  async run(deadline: number): Promise<void> {
    while (now() < deadline) {
      await this.step(this.plan());
      if (this.opts.thinkMsMax > 0) await sleep(this.rng.int(this.opts.thinkMsMax + 1));
    }
    this.close();
  }

  close(): void {
    this.conn?.close();
    this.conn = null;
  }

  private plan(): Planned {
    const kind = this.rng.pick(KEY_KINDS);
    const generation = Math.floor((now() - this.startedAt) / this.opts.rotateMs);
    const key = keyName(this.opts.prefix, kind, this.rng.int(this.opts.keys), generation);
    this.history.keys.set(key, kind);
    const write = this.rng.chance(0.5);
    const value = `${this.id}.${++this.n}`;
    if (kind === "register") return { kind, key, input: write ? { op: "set", value } : { op: "get" } };
    if (kind === "list") return { kind, key, input: write ? { op: "rpush", value } : { op: "lrange" } };
    return { kind, key, input: write ? { op: "incr" } : { op: "get" } };
  }

  /** One operation: connect if needed, call, record. A request never sent is not recorded. */
  async step(p: Planned): Promise<void> {
    const conn = await this.connection();
    if (conn === null) return;
    const write = isWrite(p);
    const callAt = now();
    let reply: RespValue;
    try {
      reply = await conn.call(argvOf(p), this.opts.opTimeoutMs);
    } catch (e) {
      this.conn = null;
      const sent = !(e instanceof RespConnectionError) || e.maybeSent;
      if (sent) this.settle(p, null, callAt, conn);
      void this.router.rediscover();
      return;
    }
    if (reply.kind === "error") {
      const refused = REFUSED.exec(reply.message);
      if (refused === null) return this.settle(p, null, callAt, conn);
      this.conn?.close();
      this.conn = null;
      void this.router.rediscover(refused[1] === "MOVED" ? movedTo(reply.message) : undefined);
      return this.refused(p, callAt, conn);
    }
    const out = outputOf(p, reply);
    this.settle(p, out === undefined ? null : { value: out }, callAt, conn);
    if (out === undefined && write) void this.router.rediscover();
  }

  private settle(p: Planned, out: { value: RegisterOutput | ListOutput | CounterOutput } | null, callAt: number, conn: RespClient): void {
    const returnAt = now();
    if (isWrite(p)) this.history.writes.push({ callAt, returnAt, acked: out !== null, endpoint: `${conn.host}:${conn.port}` });
    if (out === null && !isWrite(p)) {
      this.history.droppedReads++;
      return;
    }
    record(this.history, this.id, p, out === null ? { known: false } : { known: true, output: out.value }, callAt, returnAt);
  }

  /** Not executed: counted as an unacknowledged attempt, left out of the history. */
  private refused(p: Planned, callAt: number, conn: RespClient): void {
    this.history.refused++;
    if (isWrite(p)) this.history.writes.push({ callAt, returnAt: now(), acked: false, endpoint: `${conn.host}:${conn.port}` });
  }

  private async connection(): Promise<RespClient | null> {
    const target = this.router.current();
    if (target === null) {
      await this.router.rediscover();
      await sleep(50);
      return null;
    }
    if (this.conn !== null && !this.conn.closed && this.conn.host === target.host && this.conn.port === target.port) return this.conn;
    this.conn?.close();
    this.conn = null;
    try {
      this.conn = await RespClient.connect(target.host, target.port, this.opts.opTimeoutMs);
      return this.conn;
    } catch {
      await this.router.rediscover();
      await sleep(50);
      return null;
    }
  }
}

function movedTo(message: string): Endpoint | undefined {
  const m = /^MOVED \d+ ([^:\s]+):(\d+)/.exec(message);
  return m === null ? undefined : { host: m[1] as string, port: Number(m[2]) };
}

/** Runs the clients until the duration is over; the history fills as they go. */
export async function runWorkload(opts: WorkloadOptions, router: Router, history: History): Promise<void> {
  const startedAt = now();
  const deadline = startedAt + opts.durationMs;
  const clients = Array.from({ length: opts.clients }, (_, i) => new CheckClient(i, opts, router, history, startedAt));
  await Promise.all(clients.map((c) => c.run(deadline)));
}

/**
 * Reads every key once more after the faults, retrying each read until it is
 * answered or `deadline`; the reads join the history (FINAL_CLIENT). Returns the
 * keys it could not read.
 */
export async function finalReads(opts: WorkloadOptions, router: Router, history: History, deadline: number): Promise<string[]> {
  const failed: string[] = [];
  const client = new CheckClient(FINAL_CLIENT, opts, router, history, now());
  for (const [key, kind] of [...history.keys].sort()) {
    const before = history[kind].length;
    const p: Planned =
      kind === "register" ? { kind, key, input: { op: "get" } } : kind === "list" ? { kind, key, input: { op: "lrange" } } : { kind, key, input: { op: "get" } };
    while (history[kind].length === before && now() < deadline) {
      await client.step(p);
      if (history[kind].length === before) await sleep(100);
    }
    if (history[kind].length === before) failed.push(key);
  }
  client.close();
  return failed;
}
