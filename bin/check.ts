#!/usr/bin/env node
// `mnemo check`: linearizability and lost-write check of a Mnemo cluster
// under faults (check/run.ts), and `mnemo check --log-sim --seed N`, one seed
// of the log-API simulation, checked (the replay command its test prints).
// checkMain returns the exit status: 0 iff no violation was found.
import * as path from "node:path";
import { randomInt } from "node:crypto";
import { formatLogSimCheck, runLogSimCheck } from "../check/log-sim-check";
import { formatReport } from "../check/report";
import { runCheck, type RunOptions } from "../check/run";

export const CHECK_USAGE = `usage:
  mnemo check [--faults 20] [--duration SECONDS] [--seed N] [--clients 5] [--keys 3]
              [--data-dir D] [--port 16379] [--log-port 17001] [--replicas 1] [--lease-ms 2000] [--json]
              [--history FILE]
        starts its own cluster (mnemo up), runs concurrent clients (SET/GET, RPUSH/LRANGE,
        INCR/GET) while killing and pausing the primary, the log leader, a log follower and a
        replica; reports lost or duplicated acknowledged writes, non-linearizable keys, the
        longest write unavailability and each failover time. Exit 0 iff no violation.
        The history is saved (--history, or a temporary file on a violation) for a person to read.
  mnemo check --target HOST:PORT [--duration S] [--clients N] [--keys N] [--json]
        the clients only, against a server started elsewhere (no faults)
  mnemo check --log-sim --seed N [--verbose]
        one seed of the simulated log-API linearizability test
`;

/** dist/bin/check.js -> dist/bin/mnemo.js */
const MNEMO_JS = path.join(__dirname, "mnemo.js");

class UsageError extends Error {}

interface Parsed {
  readonly run: RunOptions;
  readonly json: boolean;
  readonly logSim: boolean;
  readonly verbose: boolean;
  readonly seedGiven: boolean;
}

function intOption(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} needs an integer in ${min}..${max}, got ${v ?? "nothing"}`);
  return n;
}

function endpoint(v: string | undefined): { host: string; port: number } {
  const m = /^([^:]+):(\d+)$/.exec(v ?? "");
  if (m === null) throw new UsageError(`--target needs HOST:PORT, got ${v ?? "nothing"}`);
  return { host: m[1] as string, port: intOption("target port", m[2], 1, 65535) };
}

export function parseCheckArgs(args: readonly string[], log: (line: string) => void): Parsed {
  const o: { -readonly [K in keyof RunOptions]: RunOptions[K] } = {
    mnemoJs: MNEMO_JS, faults: 20, durationMs: 0, seed: randomInt(1, 2 ** 31), clients: 5, keys: 3, dataDir: null,
    port: 16379, logPort: 17001, replicas: 1, leaseMs: 2000, target: null, opTimeoutMs: 2500, thinkMsMax: 5, rotateMs: 10_000, historyFile: null, log,
  };
  let json = false;
  let logSim = false;
  let verbose = false;
  let seedGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    const eq = a.indexOf("=");
    const name = a.startsWith("--") ? a.slice(2, eq < 0 ? undefined : eq) : "";
    const value = (): string | undefined => (eq >= 0 ? a.slice(eq + 1) : args[++i]);
    switch (name) {
      case "json": json = true; break;
      case "log-sim": logSim = true; break;
      case "verbose": verbose = true; break;
      case "faults": o.faults = intOption(name, value(), 0, 10_000); break;
      case "duration": o.durationMs = 1000 * intOption(name, value(), 1, 86_400); break;
      case "seed": (o.seed = intOption(name, value(), 0, Number.MAX_SAFE_INTEGER)), (seedGiven = true); break;
      case "clients": o.clients = intOption(name, value(), 1, 1000); break;
      case "keys": o.keys = intOption(name, value(), 1, 10_000); break;
      case "data-dir": o.dataDir = value() ?? null; break;
      case "port": o.port = intOption(name, value(), 1, 65535); break;
      case "log-port": o.logPort = intOption(name, value(), 1, 65535); break;
      case "replicas": o.replicas = intOption(name, value(), 1, 16); break;
      case "lease-ms": o.leaseMs = intOption(name, value(), 100, 3_600_000); break;
      case "op-timeout-ms": o.opTimeoutMs = intOption(name, value(), 10, 600_000); break;
      case "target": o.target = endpoint(value()); break;
      case "history": o.historyFile = value() ?? null; break;
      default:
        throw new UsageError(`unexpected argument '${a}'`);
    }
  }
  if (o.target !== null) o.faults = 0;
  // Room for every fault, its failover and a stretch of calm after it.
  if (o.durationMs === 0) o.durationMs = 1000 * Math.max(o.target === null ? 30 : 10, o.faults * 6);
  return { run: o, json, logSim, verbose, seedGiven };
}

export async function checkMain(args: readonly string[], write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let p: Parsed;
  try {
    p = parseCheckArgs(args, (line) => process.stderr.write(`${line}\n`));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`mnemo check: ${e.message}\n${CHECK_USAGE}`);
    return 2;
  }
  if (p.logSim) {
    if (!p.seedGiven) {
      process.stderr.write(`mnemo check --log-sim needs --seed N\n${CHECK_USAGE}`);
      return 2;
    }
    const r = runLogSimCheck(p.run.seed, p.verbose ? { trace: (line) => write(`  ${line}\n`) } : {});
    write(`${formatLogSimCheck(r)}\n`);
    return r.ok ? 0 : 1;
  }
  const report = await runCheck(p.run);
  write(p.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  checkMain(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`mnemo check: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
