// `mnemo server --shard 0 --port P --servers h:p,... --log az-a=h:p,... --secret-file F`:
// one durable server (primary or replica, as the log decides).
import * as fs from "node:fs";
import { Engine } from "../engine/engine";
import { ShardNode, type ServerAddress } from "../cluster/shard-node";
import type { LogNodeClientAddress } from "../log/client";
import { progressReporter, type ProgressReporter } from "../snapshot/progress";
import { setStoreReadListener } from "../snapshot/store";

const OWN = new Set(["shard", "port", "bind", "servers", "log", "secret-file", "lease-ms", "data-dir", "snapshot-dir"]);

interface DurableArgs {
  shard: number;
  port: number;
  bind: string;
  servers: ServerAddress[];
  log: LogNodeClientAddress[];
  secretFile: string;
  leaseMs: number;
  snapshotDir: string | null;
  config: [string, string][];
}

function hostPort(s: string, what: string): ServerAddress {
  const m = /^(.+):(\d+)$/.exec(s);
  const port = m === null ? -1 : Number(m[2]);
  if (m === null || port < 1 || port > 65535) throw new Error(`${what}: bad address '${s}' (want host:port)`);
  return { host: m[1] as string, port };
}

export function parseDurableArgs(args: readonly string[]): DurableArgs {
  const v = new Map<string, string>();
  const config: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (!a.startsWith("--")) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw new Error(`option --${name} needs a value`);
    if (OWN.has(name)) v.set(name, value);
    else config.push([name, value]);
  }
  const need = (k: string): string => {
    const x = v.get(k);
    if (x === undefined || x === "") throw new Error(`--${k} is required`);
    return x;
  };
  const port = hostPort(`h:${need("port")}`, "--port").port;
  const bind = v.get("bind") ?? "127.0.0.1";
  const servers = (v.get("servers") ?? `${bind}:${port}`).split(",").map((s) => hostPort(s, "--servers"));
  const log = need("log")
    .split(",")
    .map((part) => {
      const eq = part.indexOf("=");
      if (eq <= 0) throw new Error(`--log: bad entry '${part}' (want id=host:port)`);
      return { id: part.slice(0, eq), ...hostPort(part.slice(eq + 1), "--log") };
    });
  const leaseMs = Number(v.get("lease-ms") ?? "2000");
  if (!Number.isInteger(leaseMs) || leaseMs < 100 || leaseMs > 3_600_000) throw new Error("--lease-ms must be an integer in 100..3600000");
  const shard = Number(v.get("shard") ?? "0");
  if (!Number.isInteger(shard) || shard < 0) throw new Error("--shard must be a non-negative integer");
  return { shard, port, bind, servers, log, secretFile: need("secret-file"), leaseMs, snapshotDir: v.get("snapshot-dir") ?? null, config };
}

export async function runDurableServer(args: readonly string[]): Promise<void> {
  const a = parseDurableArgs(args);
  const secret = fs.readFileSync(a.secretFile, "utf8").trim();
  if (secret === "") throw new Error(`secret file ${a.secretFile} is empty`);
  // Check the configuration parameters before anything listens.
  const probe = new Engine({ recordEffects: false });
  const config: [string, string][] = [];
  for (const [name, value] of a.config) {
    const r = probe.config.check(name, value);
    if (!r.ok) throw new Error(r.error === "unknown" ? `unknown option --${name}` : `--${name} ${value}: ${r.error}`);
    config.push([name, r.value]);
  }
  if (a.snapshotDir !== null) showRestoreProgress();
  const node = new ShardNode({
    shard: a.shard,
    host: a.bind,
    port: a.port,
    servers: a.servers,
    logNodes: a.log,
    secret,
    leaseMs: a.leaseMs,
    config,
    log: (line) => process.stdout.write(`${line}\n`),
    onShutdown: () => process.exit(0),
    ...(a.snapshotDir !== null ? { snapshotDir: a.snapshotDir } : {}),
  });
  await node.start();
  process.stdout.write(`mnemo server (shard ${a.shard}) listening on ${a.bind}:${a.port} (pid ${process.pid}) as a replica until the log grants it the lease\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/**
 * Restoring a large snapshot (at start, or a replica restarting after a trim)
 * shows a bar on a terminal, a plain line per 10% in a log file. The store
 * reports its reads; a server reads snapshots only to restore them.
 */
function showRestoreProgress(): void {
  let current: { name: string; read: number; bar: ProgressReporter } | null = null;
  setStoreReadListener((name, read, total) => {
    // Another object, or the same one read again from its start (an abandoned read before).
    if (current === null || current.name !== name || read <= current.read) {
      current?.bar.stop();
      current = { name, read, bar: progressReporter({ label: `restoring ${name}`, total, unit: "bytes" }) };
    }
    current.read = read;
    current.bar.update(read);
    if (read >= total) {
      current.bar.stop();
      current = null;
    }
  });
}
