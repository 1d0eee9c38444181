// `mnemo up`: the local cluster's supervisor. It starts the three log nodes
// and the shard's servers as its direct children, waits until a primary
// serves, prints where everything runs, restarts a child that dies (as a
// managed service replaces a failed node: a restarted server comes back as a
// replica and catches up from the log), and stops them all on SIGINT/SIGTERM.
// Each child's output goes to <data-dir>/logs/<name>.log.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureSecret, intOption, layout, parseOptions, pidAlive, readState, writeState, type ClusterState, type ProcessSpec, type ProcessState, type UpOptions } from "./layout";
import { respCall, RespError } from "../resp/call";

const UP_OPTIONS = ["data-dir", "port", "replicas", "shards", "log-port", "az-delay-ms", "lease-ms", "bind", "snapshot-every-records", "snapshot-trim-margin"];
const PRIMARY_WAIT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const RESTART_DELAY_MS = 500;
const RESTART_DELAY_MAX_MS = 10_000;
/** A child that lived this long before dying restarts after the base delay again. */
const STABLE_AFTER_MS = 10_000;

export function parseUpOptions(args: readonly string[]): UpOptions {
  const m = parseOptions(args, UP_OPTIONS);
  const shards = intOption(m, "shards", 1, 1, 1024);
  if (shards !== 1) throw new Error("--shards: only one shard is supported so far");
  return {
    dataDir: path.resolve(m.get("data-dir") ?? "./data"),
    host: m.get("bind") ?? "127.0.0.1",
    port: intOption(m, "port", 6379, 1, 65535),
    replicas: intOption(m, "replicas", 1, 0, 64),
    shards,
    logPort: intOption(m, "log-port", 7001, 1, 65535 - 200),
    azDelayMs: intOption(m, "az-delay-ms", 0, 0, 10_000),
    leaseMs: intOption(m, "lease-ms", 2000, 100, 3_600_000),
    ...(m.has("snapshot-trim-margin") ? { snapshotTrimMargin: intOption(m, "snapshot-trim-margin", 1000, 0, Number.MAX_SAFE_INTEGER) } : {}),
    ...(m.has("snapshot-every-records") ? { snapshotEveryRecords: intOption(m, "snapshot-every-records", 100_000, 1, Number.MAX_SAFE_INTEGER) } : {}),
  };
}

interface Child {
  readonly spec: ProcessSpec;
  readonly state: ProcessState;
  proc: ChildProcess | null;
  restartDelayMs: number;
  timer: NodeJS.Timeout | null;
}

export async function runUp(args: readonly string[]): Promise<number> {
  const o = parseUpOptions(args);
  fs.mkdirSync(path.join(o.dataDir, "logs"), { recursive: true });
  const prev = readState(o.dataDir);
  if (prev !== null && prev.supervisorPid !== process.pid && pidAlive(prev.supervisorPid)) {
    process.stderr.write(`mnemo up: a cluster is already running from ${o.dataDir} (supervisor pid ${prev.supervisorPid})\n`);
    return 1;
  }
  ensureSecret(o.dataDir);
  const mnemoJs = path.join(__dirname, "mnemo.js");
  const state: ClusterState = { supervisorPid: process.pid, dataDir: o.dataDir, host: o.host, startedAtMs: Date.now(), leaseMs: o.leaseMs, processes: [] };
  const children: Child[] = layout(o).map((spec) => {
    const st: ProcessState = { name: spec.name, kind: spec.kind, shard: spec.shard, port: spec.port, peerPort: spec.peerPort, pid: null, restarts: 0, startedAtMs: 0 };
    state.processes.push(st);
    return { spec, state: st, proc: null, restartDelayMs: RESTART_DELAY_MS, timer: null };
  });
  let stopping = false;
  const say = (line: string): void => void process.stdout.write(`mnemo up: ${line}\n`);

  const launch = (c: Child): void => {
    const out = fs.openSync(path.join(o.dataDir, "logs", `${c.spec.name}.log`), "a");
    const proc = spawn(process.execPath, [mnemoJs, ...c.spec.args], { stdio: ["ignore", out, out], env: { ...process.env, MNEMO_SUPERVISOR_PID: String(process.pid) } });
    fs.closeSync(out);
    c.proc = proc;
    c.state.pid = proc.pid ?? null;
    c.state.startedAtMs = Date.now();
    writeState(state);
    proc.on("exit", (code, signal) => {
      c.proc = null;
      c.state.pid = null;
      if (stopping) return;
      const lived = Date.now() - c.state.startedAtMs;
      c.restartDelayMs = lived >= STABLE_AFTER_MS ? RESTART_DELAY_MS : Math.min(RESTART_DELAY_MAX_MS, c.restartDelayMs * 2);
      say(`${c.spec.name} exited (${signal ?? `code ${String(code)}`}); restarting in ${c.restartDelayMs} ms`);
      writeState(state);
      c.timer = setTimeout(() => {
        c.timer = null;
        if (stopping) return;
        c.state.restarts++;
        launch(c);
      }, c.restartDelayMs);
    });
  };

  for (const c of children) launch(c);
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      say(`${signal}: stopping every process`);
      for (const c of children) {
        if (c.timer !== null) clearTimeout(c.timer);
        c.proc?.kill("SIGTERM");
      }
      const deadline = setTimeout(() => {
        for (const c of children) c.proc?.kill("SIGKILL");
      }, STOP_GRACE_MS);
      const check = setInterval(() => {
        if (children.every((c) => c.proc === null)) {
          clearInterval(check);
          clearTimeout(deadline);
          resolve();
        }
      }, 50);
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
  });

  const primary = await waitForPrimary(children, () => stopping);
  if (primary !== null) printTable(o, children, primary);
  else if (!stopping) say(`no primary after ${PRIMARY_WAIT_MS / 1000} s; see ${path.join(o.dataDir, "logs")}`);
  await stopped;
  try {
    fs.unlinkSync(path.join(o.dataDir, "cluster.json"));
  } catch {
    // already gone
  }
  say("stopped");
  return 0;
}

async function waitForPrimary(children: readonly Child[], stopping: () => boolean): Promise<Child | null> {
  const until = Date.now() + PRIMARY_WAIT_MS;
  while (Date.now() < until && !stopping()) {
    for (const c of children) {
      if (c.spec.kind !== "server") continue;
      try {
        const r = await respCall("127.0.0.1", c.spec.port, ["ROLE"], 500);
        if (Array.isArray(r) && r[0] === "master" && !(r instanceof RespError)) return c;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

function printTable(o: UpOptions, children: readonly Child[], primary: Child): void {
  const rows = children.map((c) => {
    const role = c.spec.kind === "server" ? (c === primary ? "primary" : "replica") : c.spec.kind === "log" ? "log node" : "snapshotter";
    const ports = c.spec.peerPort === null ? `${c.spec.port}` : `${c.spec.port} (raft ${c.spec.peerPort})`;
    return [c.spec.name, role, ports, String(c.state.pid ?? "-")];
  });
  const head = ["process", "role", "port", "pid"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]): string => r.map((x, i) => x.padEnd(widths[i] ?? 0)).join("  ");
  const out = [
    `Mnemo is up: connect with  redis-cli -c -p ${primary.spec.port}`,
    line(head),
    ...rows.map(line),
    `data dir ${o.dataDir} (logs in ${path.join(o.dataDir, "logs")}); lease ${o.leaseMs} ms; Ctrl-C stops everything`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}
