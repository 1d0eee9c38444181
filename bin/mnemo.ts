#!/usr/bin/env node
// The mnemo command line: `mnemo up`, `mnemo server --standalone`, ...
import { runLogNode } from "../log/io/node-main";
import { simMain } from "./sim";
import { Server } from "../cluster/server";
import { Engine } from "../engine/engine";
import { runDurableServer } from "./server-durable";
import { runUp } from "./up";
import { runStatus } from "./status";
import { CHECK_USAGE, checkMain } from "./check";

const USAGE = `usage:
  mnemo log --id az-a --port 7001 --peers az-b=127.0.0.1:7002,az-c=127.0.0.1:7003 --data-dir D --secret-file F
        [--client-port P] [--tick-ms 10] [--az-delay-ms N]
                                             one log-service node (Raft + WAL); serves until SIGTERM
  mnemo sim --seed N [--verbose]             one deterministic simulation of the log's Raft group;
                                             exit 0 iff every checker held
  mnemo up [--data-dir ./data] [--port 6379] [--replicas 1] [--log-port 7001] [--az-delay-ms 0]
        [--lease-ms 2000]                    run a local cluster: three log nodes, a primary and
                                             its replicas; restarts what dies; Ctrl-C stops all
  mnemo status [--data-dir ./data] [--json]  every process of that cluster, asked live
  mnemo server --standalone [--port 6379] [--bind 127.0.0.1] [--<config-parameter> VALUE ...]
                                             engine only, in memory, no log; any CONFIG
                                             parameter can be given, e.g. --requirepass PW
  mnemo server --shard 0 --port P --servers h:p,... --log az-a=h:p,... --secret-file F
        [--lease-ms 2000] [--bind 127.0.0.1] one durable server; the log decides primary/replica
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

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== "up") watchSupervisor();
  switch (cmd) {
    case "server":
      if (rest.includes("--standalone")) await runStandalone(rest);
      else await runDurableServer(rest);
      return -1;
    case "sim":
      return simMain(rest);
    case "log":
      return runLogNode(rest);
    case "up":
      return runUp(rest);
    case "status":
      return runStatus(rest);
    case "check":
      return checkMain(rest);
    case "help":
    case "--help":
    case "-h":
    case undefined:
      process.stdout.write(`${USAGE}${CHECK_USAGE.replace(/^usage:\n/, "")}`);
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
