// The local cluster's layout: which processes `mnemo up` runs, on which
// ports, with which arguments; and the state file it keeps in the data dir
// (cluster.json) so `mnemo status` and other tools can find them.
//
// Ports (defaults): shard 0's servers on --port, --port+1, ... (the first one
// normally becomes the primary); log nodes az-a/az-b/az-c serve log clients on
// --log-port, +1, +2 and talk Raft among themselves on --log-port+100, +101, +102;
// the snapshotter answers PING/INFO on --log-port+200.
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

export const LOG_NODE_IDS = ["az-a", "az-b", "az-c"] as const;
export const RAFT_PORT_OFFSET = 100;
export const LOG_TICK_MS = 30;
/** The snapshotter's status port (PING / INFO) is --log-port + this. */
export const SNAPSHOTTER_PORT_OFFSET = 200;

export interface UpOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly replicas: number;
  readonly shards: number;
  readonly logPort: number;
  readonly azDelayMs: number;
  readonly leaseMs: number;
  /** The snapshotter takes a snapshot once the log is this many records past the newest one. */
  readonly snapshotEveryRecords?: number;
  /** The snapshotter trims the log this many records below a new snapshot. */
  readonly snapshotTrimMargin?: number;
}

export interface ProcessSpec {
  readonly name: string;
  readonly kind: "log" | "server" | "snapshotter";
  readonly shard: number | null;
  readonly port: number;
  /** Raft port of a log node. */
  readonly peerPort: number | null;
  readonly args: readonly string[];
}

export interface ProcessState {
  readonly name: string;
  readonly kind: ProcessSpec["kind"];
  readonly shard: number | null;
  readonly port: number;
  readonly peerPort: number | null;
  pid: number | null;
  restarts: number;
  startedAtMs: number;
}

export interface ClusterState {
  readonly supervisorPid: number;
  readonly dataDir: string;
  readonly host: string;
  readonly startedAtMs: number;
  readonly leaseMs: number;
  readonly processes: ProcessState[];
}

export function secretPath(dataDir: string): string {
  return path.join(dataDir, "secret");
}

export function snapshotDir(dataDir: string): string {
  return path.join(dataDir, "snapshots");
}

export function statePath(dataDir: string): string {
  return path.join(dataDir, "cluster.json");
}

/** The cluster's shared secret: created (0600) on first use, then kept. */
export function ensureSecret(dataDir: string): string {
  const p = secretPath(dataDir);
  if (!fs.existsSync(p)) {
    fs.writeFileSync(p, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  }
  return p;
}

export function logClientList(o: Pick<UpOptions, "host" | "logPort">): string {
  return LOG_NODE_IDS.map((id, i) => `${id}=${o.host}:${o.logPort + i}`).join(",");
}

export function layout(o: UpOptions): ProcessSpec[] {
  const secret = secretPath(o.dataDir);
  const out: ProcessSpec[] = [];
  LOG_NODE_IDS.forEach((id, i) => {
    const peerPort = o.logPort + RAFT_PORT_OFFSET + i;
    const peers = LOG_NODE_IDS.map((p, j) => [p, j] as const)
      .filter(([p]) => p !== id)
      .map(([p, j]) => `${p}=${o.host}:${o.logPort + RAFT_PORT_OFFSET + j}`)
      .join(",");
    const args = ["log", "--id", id, "--host", o.host, "--port", String(peerPort), "--client-port", String(o.logPort + i), "--peers", peers];
    // 30 ms ticks: heartbeats every 30 ms, elections after 300-600 ms of silence,
    // so a loaded machine does not churn log leaders while a dead one is replaced fast.
    args.push("--data-dir", path.join(o.dataDir, "log", id), "--secret-file", secret, "--tick-ms", String(LOG_TICK_MS));
    if (o.azDelayMs > 0) args.push("--az-delay-ms", String(o.azDelayMs));
    out.push({ name: id, kind: "log", shard: null, port: o.logPort + i, peerPort, args });
  });
  const servers: string[] = [];
  for (let i = 0; i <= o.replicas; i++) servers.push(`${o.host}:${o.port + i}`);
  for (let i = 0; i <= o.replicas; i++) {
    const port = o.port + i;
    const args = ["server", "--shard", "0", "--bind", o.host, "--port", String(port), "--servers", servers.join(","), "--log", logClientList(o)];
    args.push("--secret-file", secret, "--lease-ms", String(o.leaseMs), "--data-dir", path.join(o.dataDir, `server-${port}`));
    args.push("--snapshot-dir", snapshotDir(o.dataDir));
    out.push({ name: `shard0-${port}`, kind: "server", shard: 0, port, peerPort: null, args });
  }
  const snapPort = o.logPort + SNAPSHOTTER_PORT_OFFSET;
  const snapArgs = ["snapshotter", "--shard", "0", "--log", logClientList(o), "--secret-file", secret, "--snapshot-dir", snapshotDir(o.dataDir), "--bind", o.host, "--port", String(snapPort)];
  if (o.snapshotEveryRecords !== undefined) snapArgs.push("--every-records", String(o.snapshotEveryRecords));
  if (o.snapshotTrimMargin !== undefined) snapArgs.push("--trim-margin", String(o.snapshotTrimMargin));
  out.push({ name: "snapshotter-0", kind: "snapshotter", shard: 0, port: snapPort, peerPort: null, args: snapArgs });
  return out;
}

export function readState(dataDir: string): ClusterState | null {
  try {
    return JSON.parse(fs.readFileSync(statePath(dataDir), "utf8")) as ClusterState;
  } catch {
    return null;
  }
}

/** Written to a temporary name and renamed, so a reader never sees half a file. */
export function writeState(s: ClusterState): void {
  const p = statePath(s.dataDir);
  const tmp = `${p}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  fs.renameSync(tmp, p);
}

export function pidAlive(pid: number | null): boolean {
  if (pid === null || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `--name value` / `--name=value` options; flags listed in `flags` take no value. */
export function parseOptions(args: readonly string[], known: readonly string[], flags: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (!a.startsWith("--")) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (flags.includes(name)) {
      out.set(name, "true");
      continue;
    }
    if (!known.includes(name)) throw new Error(`unknown option --${name}`);
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw new Error(`option --${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

export function intOption(m: Map<string, string>, name: string, dflt: number, min: number, max: number): number {
  const v = m.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max} (got '${v}')`);
  return n;
}
