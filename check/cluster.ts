// The cluster under test: `mnemo up` started as a child process (its own
// children are the log nodes, servers and snapshotter), discovered with
// `mnemo status --json`, stopped by pid. Nothing here touches a process the
// checker did not start: every pid comes from the status of our own `up`.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { assert } from "./assert";

export interface ProcessInfo {
  readonly name: string;
  /** "log" | "server" | "snapshotter" (kept open: a newer status may add kinds). */
  readonly kind: string;
  /** "leader" | "follower" | "primary" | "replica" | ... */
  readonly role: string;
  readonly pid: number | null;
  readonly port: number | null;
  readonly shard: number | null;
}

export interface ClusterStatus {
  readonly processes: readonly ProcessInfo[];
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : typeof x === "string" && /^\d+$/.test(x) ? Number(x) : null);
const str = (x: unknown): string => (typeof x === "string" ? x : x === undefined || x === null ? "" : String(x));

/** Parses `mnemo status --json` (the contract: one object with a `processes` array); throws on anything else. */
export function parseStatus(text: string): ClusterStatus {
  const start = text.indexOf("{");
  if (start < 0) throw new Error(`status printed no JSON object: ${text.slice(0, 200)}`);
  const parsed: unknown = JSON.parse(text.slice(start));
  if (typeof parsed !== "object" || parsed === null || !("processes" in parsed) || !Array.isArray(parsed.processes)) {
    throw new Error("status JSON has no processes array");
  }
  const processes = (parsed.processes as unknown[]).map((p): ProcessInfo => {
    const o = typeof p === "object" && p !== null ? (p as Record<string, unknown>) : {};
    return { name: str(o.name), kind: str(o.kind), role: str(o.role), pid: num(o.pid), port: num(o.port), shard: num(o.shard) };
  });
  return { processes };
}

export function serversOf(s: ClusterStatus, role?: string): ProcessInfo[] {
  return s.processes.filter((p) => p.kind === "server" && (role === undefined || p.role === role));
}

export function logNodesOf(s: ClusterStatus, role?: string): ProcessInfo[] {
  return s.processes.filter((p) => p.kind === "log" && (role === undefined || p.role === role));
}

/** Runs `node mnemo.js args...` to completion; resolves with its exit code and output. */
export function runMnemo(mnemoJs: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mnemoJs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, out: out + e.message });
    });
  });
}

export async function readStatus(mnemoJs: string, dataDir: string, timeoutMs = 10_000): Promise<ClusterStatus> {
  const r = await runMnemo(mnemoJs, ["status", "--data-dir", dataDir, "--json"], timeoutMs);
  if (r.code !== 0) throw new Error(`mnemo status exited with ${r.code}: ${r.out.slice(0, 500)}`);
  return parseStatus(r.out);
}

/** True when this build has `mnemo up` and `mnemo status` (the supervisor exists). */
export async function supervisorAvailable(mnemoJs: string): Promise<boolean> {
  // Builds without it answer "unknown command 'status'"; with it, --help is a usage or an option error.
  const r = await runMnemo(mnemoJs, ["status", "--help"], 10_000);
  return r.code !== null && !/unknown command/i.test(r.out);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours; for our children that cannot happen.
    return e instanceof Error && "code" in e && e.code === "EPERM";
  }
}

function isMnemo(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("mnemo");
  } catch {
    return false;
  }
}

export interface ClusterOptions {
  readonly mnemoJs: string;
  readonly dataDir: string;
  readonly port: number;
  readonly logPort: number;
  readonly replicas: number;
  readonly leaseMs: number;
}

const STOP_TIMEOUT_MS = 10_000;

/** `mnemo up` in the foreground, as our child. */
export class ManagedCluster {
  private out = "";
  private exitedWith: string | null = null;
  /** Every pid the status ever showed (faults may only signal these). */
  private readonly seenPids = new Set<number>();
  /** The pids of the latest status: stop() makes sure none of them survives. */
  private lastPids: number[] = [];
  private readonly stopped = new Set<number>();

  /** If the checker exits or is told to stop before stop() ran, `mnemo up` must not outlive it. */
  private readonly onExit = (): void => this.abandon();
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.abandon();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };

  private constructor(
    readonly opts: ClusterOptions,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on("data", (d: Buffer) => this.capture(d));
    child.stderr?.on("data", (d: Buffer) => this.capture(d));
    child.on("exit", (code, signal) => (this.exitedWith = `exited with ${code ?? signal ?? "?"}`));
    process.once("exit", this.onExit);
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
  }

  /** Synchronous last resort: continue what we stopped, ask `mnemo up` to stop everything. */
  private abandon(): void {
    for (const pid of this.stopped) if (alive(pid)) process.kill(pid, "SIGCONT");
    if (this.exitedWith === null && this.child.pid !== undefined) process.kill(this.child.pid, "SIGTERM");
  }

  static start(opts: ClusterOptions): ManagedCluster {
    const args = ["up", "--data-dir", opts.dataDir, "--port", String(opts.port), "--log-port", String(opts.logPort), "--replicas", String(opts.replicas), "--lease-ms", String(opts.leaseMs)];
    const child = spawn(process.execPath, [opts.mnemoJs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    return new ManagedCluster(opts, child);
  }

  get exited(): string | null {
    return this.exitedWith;
  }

  /** The last lines `mnemo up` printed, for failure reports. */
  output(lines = 40): string {
    return this.out.split("\n").slice(-lines).join("\n");
  }

  async status(): Promise<ClusterStatus> {
    const s = await readStatus(this.opts.mnemoJs, this.opts.dataDir);
    this.lastPids = [];
    for (const p of s.processes) {
      if (p.pid === null) continue;
      this.seenPids.add(p.pid);
      this.lastPids.push(p.pid);
    }
    return s;
  }

  /** Sends a signal to a process of this cluster (a pid its status listed). */
  signal(pid: number, sig: NodeJS.Signals): void {
    assert(this.seenPids.has(pid), `pid ${pid} is not a process of this cluster`);
    process.kill(pid, sig);
    if (sig === "SIGSTOP") this.stopped.add(pid);
    if (sig === "SIGCONT" || sig === "SIGKILL") this.stopped.delete(pid);
  }

  /** SIGTERM to `mnemo up` (it stops its children), then SIGKILL to whatever is left. */
  async stop(): Promise<void> {
    process.off("exit", this.onExit);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
    for (const pid of this.stopped) if (alive(pid)) process.kill(pid, "SIGCONT");
    this.stopped.clear();
    const pid = this.child.pid;
    if (this.exitedWith === null && pid !== undefined) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      process.kill(pid, "SIGTERM");
      const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), STOP_TIMEOUT_MS).unref());
      if ((await Promise.race([exited, timer])) === "timeout" && this.exitedWith === null) {
        process.kill(pid, "SIGKILL");
        await exited;
      }
    }
    // Children orphaned by a dead supervisor; the command line guards against a reused pid.
    for (const p of this.lastPids) if (alive(p) && isMnemo(p)) process.kill(p, "SIGKILL");
  }

  private capture(d: Buffer): void {
    this.out += d.toString("utf8");
    if (this.out.length > 200_000) this.out = this.out.slice(-100_000);
  }
}
