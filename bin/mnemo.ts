#!/usr/bin/env node
// The mnemo command line: `mnemo up`, `mnemo server --standalone`, ...
// Each subcommand loads its modules when it runs (a log node never loads the
// engine, a server never loads the simulator): process start is what a
// restarted node pays before it serves.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { intOption, parseOptions } from "./layout";
import type { SnapshotProgress } from "../snapshot/snapshotter";
import { progressReporter, type ProgressOptions, type ProgressReporter } from "../snapshot/progress";

const USAGE = `usage:
  mnemo log --id az-a --port 7001 --peers az-b=127.0.0.1:7002,az-c=127.0.0.1:7003 --data-dir D --secret-file F
        [--client-port P] [--tick-ms 10] [--az-delay-ms N]
                                             one log-service node (Raft + WAL); serves until SIGTERM
  mnemo sim --seed N [--verbose]             one deterministic simulation of the log's Raft group;
                                             exit 0 iff every checker held
  mnemo sim --shard --seed N [--verbose]     one deterministic simulation of a durable shard (servers,
                                             snapshotter, log) with faults; exit 0 iff every checker held
  mnemo up [--data-dir ./data] [--port 6379] [--replicas 1] [--log-port 7001] [--az-delay-ms 0]
        [--lease-ms 2000] [--snapshot-every-records 100000] [--snapshot-trim-margin 1000]
                                             run a local cluster: three log nodes, a primary and
                                             its replicas, a snapshotter; restarts what dies;
                                             Ctrl-C stops all
  mnemo status [--data-dir ./data] [--json]  every process of that cluster, asked live
  mnemo server --standalone [--port 6379] [--bind 127.0.0.1] [--<config-parameter> VALUE ...]
                                             engine only, in memory, no log; any CONFIG
                                             parameter can be given, e.g. --requirepass PW
  mnemo server --shard 0 --port P --servers h:p,... --log az-a=h:p,... --secret-file F
        [--lease-ms 2000] [--bind 127.0.0.1] [--snapshot-dir D]
                                             one durable server; the log decides primary/replica;
                                             restores from the newest snapshot in D at start
  mnemo snapshotter --shard 0 --log az-a=h:p,... --secret-file F --snapshot-dir D [--nice 19]
        [--every-records 100000] [--every-bytes 268435456] [--keep 3] [--trim-margin 1000] [--port P]
                                             writes, verifies and publishes snapshots; trims the log
  mnemo snapshot now [--data-dir ./data] [--timeout-ms 120000]
                                             ask the snapshotter for a snapshot; exit 0 once published
`;

/** CLI options of `mnemo server` that are not configuration parameters. */
const SERVER_FLAGS = new Set(["standalone"]);
const SERVER_OPTIONS = new Set(["port", "bind", "data-dir", "replicas", "shards", "log-port", "az-delay-ms", "lease-ms"]);

interface StandaloneArgs {
  port: number;
  bind: string;
  /** Any other `--name value`: a configuration parameter (e.g. --requirepass, --maxclients). */
  config: [string, string][];
}

function parseStandaloneArgs(args: readonly string[]): StandaloneArgs {
  const out: StandaloneArgs = { port: 6379, bind: "127.0.0.1", config: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (!a.startsWith("--")) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (SERVER_FLAGS.has(name)) continue;
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw new Error(`option --${name} needs a value`);
    if (name === "port") {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${value}`);
      out.port = port;
    } else if (name === "bind") {
      out.bind = value;
    } else if (!SERVER_OPTIONS.has(name)) {
      out.config.push([name, value]);
    }
  }
  return out;
}

async function runStandalone(args: string[]): Promise<void> {
  const opts = parseStandaloneArgs(args);
  const { Engine } = await import("../engine/engine");
  const { Server } = await import("../cluster/server");
  const engine = new Engine({ recordEffects: false });
  for (const [name, value] of opts.config) {
    const r = engine.config.check(name, value);
    if (!r.ok) throw new Error(r.error === "unknown" ? `unknown option --${name}` : `--${name} ${value}: ${r.error}`);
    engine.config.set(name, r.value);
  }
  const server = new Server({ port: opts.port, host: opts.bind, engine, onShutdown: () => process.exit(0) });
  await server.listen();
  process.stdout.write(`mnemo standalone server listening on ${opts.bind}:${server.port} (pid ${process.pid})\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    server.logLine("#", `Received ${signal} scheduling shutdown...`);
    // Stop accepting, let clients take the replies already produced, then exit.
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/**
 * A child of `mnemo up` exits when its supervisor is gone (even by SIGKILL),
 * so no orphaned log node or server keeps its port and data dir.
 */
function watchSupervisor(): void {
  const pid = Number(process.env.MNEMO_SUPERVISOR_PID ?? "0");
  if (!Number.isInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      process.stderr.write(`mnemo: supervisor ${pid} is gone; exiting\n`);
      process.exit(1);
    }
  }, SUPERVISOR_CHECK_MS);
  timer.unref();
}

const SUPERVISOR_CHECK_MS = 1000;

async function runSnapshotter(args: readonly string[]): Promise<number> {
  const { listenStatus, Snapshotter } = await import("../snapshot/snapshotter");
  const m = parseOptions(args, ["shard", "log", "secret-file", "snapshot-dir", "every-records", "every-bytes", "keep", "trim-margin", "port", "bind", "nice"]);
  // Snapshots are background work: on a shared machine the serving processes
  // (and the log nodes on their commit path) get the CPU first.
  const nice = intOption(m, "nice", 19, 0, 19);
  if (nice > 0) {
    try {
      os.setPriority(Math.max(os.getPriority(), nice));
    } catch {
      // Not permitted here: run at normal priority.
    }
  }
  const need = (k: string): string => {
    const v = m.get(k);
    if (v === undefined || v === "") throw new Error(`--${k} is required`);
    return v;
  };
  const logNodes = need("log")
    .split(",")
    .map((part) => {
      const hp = /^([^=]+)=(.+):(\d+)$/.exec(part);
      if (hp === null) throw new Error(`--log: bad entry '${part}' (want id=host:port)`);
      return { id: hp[1] as string, host: hp[2] as string, port: Number(hp[3]) };
    });
  const secret = fs.readFileSync(need("secret-file"), "utf8").trim();
  if (secret === "") throw new Error("the secret file is empty");
  const s = new Snapshotter({
    shard: intOption(m, "shard", 0, 0, 1023),
    logNodes,
    secret,
    dir: path.resolve(need("snapshot-dir")),
    everyRecords: intOption(m, "every-records", 100_000, 1, Number.MAX_SAFE_INTEGER),
    everyBytes: intOption(m, "every-bytes", 256 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    keep: intOption(m, "keep", 3, 1, 1000),
    trimMargin: intOption(m, "trim-margin", 1000, 0, Number.MAX_SAFE_INTEGER),
    log: (line) => process.stdout.write(`${new Date().toISOString()} snapshotter: ${line}\n`),
  });
  await s.init();
  const statusPort = intOption(m, "port", 0, 0, 65535);
  if (statusPort > 0) {
    // Health only: a port still held by a previous incarnation must not stop snapshots.
    await listenStatus(s, m.get("bind") ?? "127.0.0.1", statusPort).catch((e: unknown) => {
      process.stdout.write(`snapshotter: status port ${statusPort} unavailable (${e instanceof Error ? e.message : String(e)})\n`);
    });
  }
  const stop = (): void => {
    s.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdout.write(`mnemo snapshotter (shard ${intOption(m, "shard", 0, 0, 1023)}) on ${s.o.dir} (pid ${process.pid})\n`);
  await s.run();
  return 0;
}

async function runSnapshotNow(args: readonly string[]): Promise<number> {
  if (args[0] !== "now") throw new Error("usage: mnemo snapshot now [--data-dir D] [--timeout-ms N]");
  const m = parseOptions(args.slice(1), ["data-dir", "timeout-ms"]);
  const dir = path.join(path.resolve(m.get("data-dir") ?? "./data"), "snapshots");
  const { requestSnapshot } = await import("../snapshot/snapshotter");
  const bars = new SnapshotBars();
  try {
    const seq = await requestSnapshot(dir, intOption(m, "timeout-ms", 120_000, 1, 3_600_000), (p) => bars.show(p));
    bars.end(true);
    process.stdout.write(`snapshot published at seq ${seq}\n`);
  } finally {
    bars.end();
  }
  return 0;
}

const PHASE_UNIT: Readonly<Record<SnapshotProgress["phase"], ProgressOptions["unit"]>> = { "catch-up": "records", write: "keys", verify: "bytes" };

/** One bar (or plain lines when stdout is not a terminal) per phase of the snapshotter's round. */
class SnapshotBars {
  private current: { phase: string; seq: number; total: number; bar: ProgressReporter } | null = null;

  show(p: SnapshotProgress): void {
    const c = this.current;
    if (c === null || c.phase !== p.phase || c.seq !== p.seq) {
      // The snapshotter moved on: the previous phase finished (polling may have missed its last update).
      this.end(true);
      const label = p.phase === "catch-up" ? "catching up with the log" : p.phase === "write" ? `writing snapshot at seq ${p.seq}` : `verifying snapshot at seq ${p.seq}`;
      this.current = { phase: p.phase, seq: p.seq, total: p.total, bar: progressReporter({ label, total: p.total, unit: PHASE_UNIT[p.phase] }) };
    }
    if (this.current !== null) this.current.total = p.total;
    this.current?.bar.update(p.done, p.total);
  }

  /** `finished`: the phase completed, so its bar ends full. */
  end(finished = false): void {
    const c = this.current;
    if (c === null) return;
    if (finished) c.bar.update(c.total);
    c.bar.stop();
    this.current = null;
  }
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== "up") watchSupervisor();
  switch (cmd) {
    case "server":
      if (rest.includes("--standalone")) await runStandalone(rest);
      else await (await import("./server-durable")).runDurableServer(rest);
      return -1;
    case "sim":
      return (await import("./sim")).simMain(rest);
    case "log":
      return (await import("../log/io/node-main")).runLogNode(rest);
    case "up":
      return (await import("./up")).runUp(rest);
    case "status":
      return (await import("./status")).runStatus(rest);
    case "check":
      return (await import("./check")).checkMain(rest);
    case "snapshotter":
      return runSnapshotter(rest);
    case "snapshot":
      return runSnapshotNow(rest);
    case "help":
    case "--help":
    case "-h":
    case undefined:
      process.stdout.write(`${USAGE}${(await import("./check")).CHECK_USAGE.replace(/^usage:\n/, "")}`);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`mnemo: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`mnemo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
