// `mnemo check` end to end: start a cluster of our own (`mnemo up` in a fresh
// data directory), wait until it serves, run the clients while faults are
// injected on a schedule, let the cluster heal, read every key back, stop the
// cluster, and check what the clients saw. With `target` it runs the clients
// only (no faults) against a server someone else started.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ClusterRouter } from "./router";
import { type Endpoint, ManagedCluster, supervisorAvailable } from "./cluster";
import { type FaultEvent, faultPlan, inject, waitWhole } from "./faults";
import { buildReport, type CheckReport } from "./report";
import { RespClient } from "./resp";
import { finalReads, History, now, runWorkload, type WorkloadOptions } from "./workload";

export interface RunOptions {
  readonly mnemoJs: string;
  readonly faults: number;
  readonly durationMs: number;
  readonly seed: number;
  readonly clients: number;
  readonly keys: number;
  /** null: a fresh temporary directory, removed afterwards. */
  readonly dataDir: string | null;
  readonly port: number;
  readonly logPort: number;
  readonly replicas: number;
  readonly leaseMs: number;
  /** Run the clients against this server instead of a cluster of our own (no faults). */
  readonly target: Endpoint | null;
  readonly opTimeoutMs: number;
  readonly thinkMsMax: number;
  readonly rotateMs: number;
  /** Write the history here (JSON); on a violation it is written to a temporary file anyway. */
  readonly historyFile: string | null;
  /** Progress lines (stderr by default). */
  readonly log: (line: string) => void;
}

const START_TIMEOUT_MS = 60_000;
const HEAL_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function workloadOptions(o: RunOptions): WorkloadOptions {
  const prefix = `mnemo-check:${o.seed}-${Date.now().toString(36)}`;
  return { clients: o.clients, keys: o.keys, seed: o.seed, durationMs: o.durationMs, opTimeoutMs: o.opTimeoutMs, thinkMsMax: o.thinkMsMax, rotateMs: o.rotateMs, prefix };
}

/** Waits until `ep` acknowledges a write. */
async function waitWritable(router: ClusterRouter, deadline: number): Promise<boolean> {
  while (now() < deadline) {
    await router.rediscover();
    const ep = router.current();
    if (ep !== null) {
      try {
        const c = await RespClient.connect(ep.host, ep.port, 2000);
        const r = await c.call(["SET", "mnemo-check:ready", String(Date.now())], 5000);
        c.close();
        if (r.kind === "simple") return true;
      } catch {
        // not yet
      }
    }
    await sleep(250);
  }
  return false;
}

/** Injects the planned faults at evenly spaced times, each once the cluster is whole again. */
async function faultLoop(o: RunOptions, cluster: ManagedCluster, startedAt: number, events: FaultEvent[]): Promise<void> {
  const kinds = faultPlan(o.faults, o.seed);
  const spacingMs = o.durationMs / (kinds.length + 1);
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i];
    if (kind === undefined) break;
    const at = startedAt + spacingMs * (i + 1);
    if (at > now()) await sleep(at - now());
    const whole = await waitWhole(cluster, o.replicas, Math.min(startedAt + o.durationMs, now() + spacingMs));
    if (!whole) o.log(`check: the cluster was not whole before fault ${i + 1} (${kind}); injecting anyway`);
    const ev = await inject(cluster, kind, o.leaseMs + 1000);
    o.log(`check: ${Math.round(ev.atMs - startedAt)} ms ${kind} ${ev.skipped === null ? (ev.target ?? "") : `skipped (${ev.skipped})`}`);
    events.push(ev);
  }
}

/** Keeps the history for a person to look at: always when asked, and whenever something was found. */
function saveHistory(o: RunOptions, report: CheckReport, history: History): CheckReport {
  if (report.ok && o.historyFile === null) return report;
  const file = o.historyFile ?? path.join(os.tmpdir(), `mnemo-check-${o.seed}-${Date.now().toString(36)}.json`);
  const { register, list, counter, writes, droppedReads, refused } = history;
  fs.writeFileSync(file, JSON.stringify({ seed: o.seed, register, list, counter, writes, droppedReads, refused, report }, null, 1));
  return { ...report, historyFile: file };
}

export async function runCheck(o: RunOptions): Promise<CheckReport> {
  if (o.target !== null) return runAgainstTarget(o, o.target);
  const problems: string[] = [];
  if (!(await supervisorAvailable(o.mnemoJs))) {
    problems.push("this build has no `mnemo up`/`mnemo status`: nothing to check against");
    return buildReport({ seed: o.seed, history: new History(), faults: [], unreadKeys: [], startedAt: now(), endedAt: now(), problems });
  }
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-check-"));
  const cluster = ManagedCluster.start({ mnemoJs: o.mnemoJs, dataDir, port: o.port, logPort: o.logPort, replicas: o.replicas, leaseMs: o.leaseMs });
  try {
    return await runManaged(o, cluster, problems);
  } finally {
    await cluster.stop();
    if (o.dataDir === null) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function runManaged(o: RunOptions, cluster: ManagedCluster, problems: string[]): Promise<CheckReport> {
  const seeds = Array.from({ length: o.replicas + 1 }, (_, i) => ({ host: "127.0.0.1", port: o.port + i }));
  const router = new ClusterRouter(seeds, () => cluster.status());
  const history = new History();
  o.log(`check: starting mnemo up (port ${o.port}, log port ${o.logPort}, ${o.replicas} replicas, lease ${o.leaseMs} ms)`);
  const ready = (await waitWhole(cluster, o.replicas, now() + START_TIMEOUT_MS)) && (await waitWritable(router, now() + START_TIMEOUT_MS));
  if (!ready) {
    problems.push(`the cluster did not start within ${START_TIMEOUT_MS / 1000} s${cluster.exited === null ? "" : ` (mnemo up ${cluster.exited})`}:\n${cluster.output()}`);
    return buildReport({ seed: o.seed, history, faults: [], unreadKeys: [], startedAt: now(), endedAt: now(), problems });
  }
  const wo = workloadOptions(o);
  const startedAt = now();
  const events: FaultEvent[] = [];
  o.log(`check: ${o.clients} clients for ${o.durationMs / 1000} s, ${o.faults} faults`);
  await Promise.all([runWorkload(wo, router, history), faultLoop(o, cluster, startedAt, events)]);
  const endedAt = now();
  if (!(await waitWhole(cluster, o.replicas, now() + HEAL_TIMEOUT_MS))) problems.push(`the cluster was not whole ${HEAL_TIMEOUT_MS / 1000} s after the last fault`);
  const unread = await finalReads(wo, router, history, now() + HEAL_TIMEOUT_MS);
  if (cluster.exited !== null) problems.push(`mnemo up ${cluster.exited} during the check:\n${cluster.output()}`);
  o.log(`check: checking ${history.register.length + history.list.length + history.counter.length} operations`);
  return saveHistory(o, buildReport({ seed: o.seed, history, faults: events, unreadKeys: unread, startedAt, endedAt, problems }), history);
}

async function runAgainstTarget(o: RunOptions, target: Endpoint): Promise<CheckReport> {
  const router = new ClusterRouter([target], null, target);
  const history = new History();
  const wo = workloadOptions(o);
  const startedAt = now();
  o.log(`check: ${o.clients} clients for ${o.durationMs / 1000} s against ${target.host}:${target.port} (no faults)`);
  await runWorkload(wo, router, history);
  const endedAt = now();
  const unread = await finalReads(wo, router, history, now() + 10_000);
  return saveHistory(o, buildReport({ seed: o.seed, history, faults: [], unreadKeys: unread, startedAt, endedAt, problems: [] }), history);
}
