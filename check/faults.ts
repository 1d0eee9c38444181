// The faults `mnemo check` injects into its own cluster, on a schedule spread
// over the run: kill -9 of the primary; SIGSTOP of the primary for longer than
// its lease, then SIGCONT (it must come back as a deposed primary, not a
// second one); kill -9 of the log leader, of a log follower, of a replica.
// The supervisor (`mnemo up`) restarts what dies. Before each fault the
// checker waits (bounded) for the cluster to be whole again, so each fault
// hits a healthy cluster and each failover is measured on its own.
import { Prng } from "../log/sim/prng";
import { assertNever } from "./assert";
import { type ClusterStatus, logNodesOf, type ManagedCluster, type ProcessInfo, serversOf } from "./cluster";
import { now } from "./workload";

export type FaultKind = "kill-primary" | "stop-primary" | "kill-log-leader" | "kill-log-follower" | "kill-replica";
export const FAULT_KINDS: readonly FaultKind[] = ["kill-primary", "stop-primary", "kill-log-leader", "kill-log-follower", "kill-replica"];

export interface FaultEvent {
  readonly kind: FaultKind;
  /** On the workload's clock (ms). */
  readonly atMs: number;
  readonly target: string | null;
  /** Why the fault could not be injected, if it was not. */
  readonly skipped: string | null;
  /** SIGCONT time of a stop. */
  resumedAtMs: number | null;
}

/** N faults: the first a primary kill, then every kind in turn, in an order drawn from the seed. */
export function faultPlan(n: number, seed: number): FaultKind[] {
  const rng = new Prng(seed);
  const out: FaultKind[] = [];
  while (out.length < n) {
    const cycle = [...FAULT_KINDS];
    for (let i = cycle.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [cycle[i], cycle[j]] = [cycle[j] as FaultKind, cycle[i] as FaultKind];
    }
    if (out.length === 0) cycle.sort((a, b) => Number(b === "kill-primary") - Number(a === "kill-primary"));
    out.push(...cycle);
  }
  return out.slice(0, n);
}

function targetOf(kind: FaultKind, s: ClusterStatus): ProcessInfo | undefined {
  switch (kind) {
    case "kill-primary":
    case "stop-primary":
      return serversOf(s, "primary")[0];
    case "kill-replica":
      return serversOf(s, "replica")[0];
    case "kill-log-leader":
      return logNodesOf(s, "leader")[0];
    case "kill-log-follower":
      return logNodesOf(s, "follower")[0];
    default:
      return assertNever(kind, "fault");
  }
}

export function describeProcess(p: ProcessInfo): string {
  return `${p.name || p.kind} (${p.role}, pid ${p.pid ?? "?"}${p.port === null ? "" : `, port ${p.port}`})`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TARGET_ATTEMPTS = 10;

/** The process a fault hits, from a fresh status; the role may be vacant for a moment (a failover), so it asks a few times. */
async function findTarget(cluster: ManagedCluster, kind: FaultKind): Promise<ProcessInfo | string> {
  let why = "";
  for (let attempt = 0; attempt < TARGET_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(500);
    try {
      const p = targetOf(kind, await cluster.status());
      if (p !== undefined && p.pid !== null) return p;
      why = "no such process in the status";
    } catch (e) {
      why = `no status: ${e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e)}`;
    }
  }
  return why;
}

/** Injects one fault; a stop lasts `stopMs`, then the process is continued. */
export async function inject(cluster: ManagedCluster, kind: FaultKind, stopMs: number): Promise<FaultEvent> {
  const found = await findTarget(cluster, kind);
  if (typeof found === "string") return { kind, atMs: now(), target: null, skipped: found, resumedAtMs: null };
  const p = found;
  const pid = found.pid as number;
  const ev: FaultEvent = { kind, atMs: now(), target: describeProcess(p), skipped: null, resumedAtMs: null };
  if (kind !== "stop-primary") {
    cluster.signal(pid, "SIGKILL");
    return ev;
  }
  cluster.signal(pid, "SIGSTOP");
  await sleep(stopMs);
  cluster.signal(pid, "SIGCONT");
  ev.resumedAtMs = now();
  return ev;
}

/** The cluster is whole: a primary, the replicas and three log nodes with a leader, all with pids. */
export function whole(s: ClusterStatus, replicas: number): boolean {
  const up = (p: ProcessInfo): boolean => p.pid !== null;
  return (
    serversOf(s, "primary").filter(up).length === 1 &&
    serversOf(s, "replica").filter(up).length >= replicas &&
    logNodesOf(s, "leader").filter(up).length === 1 &&
    logNodesOf(s).filter(up).length >= 3
  );
}

/** Waits until the cluster is whole, or the deadline; true if it became whole. */
export async function waitWhole(cluster: ManagedCluster, replicas: number, deadline: number, pollMs = 250): Promise<boolean> {
  while (now() < deadline) {
    try {
      if (whole(await cluster.status(), replicas)) return true;
    } catch {
      // Status may fail while processes restart.
    }
    await sleep(pollMs);
  }
  return false;
}
