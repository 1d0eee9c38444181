// `mnemo status [--data-dir D] [--json]`: every process of the local cluster
// that `mnemo up` runs from D, asked live: its kind, role, pid, ports,
// applied/committed seq, lease holder and health. Exit 0 when the supervisor
// runs, 1 otherwise.
import * as fs from "node:fs";
import * as path from "node:path";
import { LogClient } from "../log/client";
import { parseOptions, pidAlive, readState, secretPath, snapshotDir, type ProcessState } from "./layout";
import { seqOfName } from "../snapshot/store";
import { parseInfo, respCall } from "../resp/call";

const ASK_TIMEOUT_MS = 1000;

export interface ProcessReport {
  name: string;
  kind: ProcessState["kind"];
  role: string;
  pid: number | null;
  port: number;
  shard: number | null;
  health: "ok" | "down" | "halted";
  restarts: number;
  [detail: string]: unknown;
}

async function askLogNode(p: ProcessState, host: string, secret: string): Promise<Partial<ProcessReport>> {
  const client = new LogClient([{ id: p.name, host, port: p.port }], secret, { requestTimeoutMs: ASK_TIMEOUT_MS, connectTimeoutMs: ASK_TIMEOUT_MS });
  try {
    const s = await client.status();
    const halted = typeof s.halted === "string" && s.halted !== "";
    return {
      role: String(s.role),
      health: halted ? "halted" : "ok",
      term: s.term,
      commit: s.commit,
      applied: s.applied,
      leader: s.leader,
      raftPort: p.peerPort,
      ...(s.shards !== undefined ? { shards: s.shards } : {}),
      ...(halted ? { halted: s.halted } : {}),
    };
  } finally {
    await client.close();
  }
}

/** A snapshotter answers nothing: alive (pidAlive) is its health; the store shows its progress. */
function snapshotterReport(dataDir: string): Partial<ProcessReport> {
  let newest: number | null = null;
  try {
    for (const n of fs.readdirSync(snapshotDir(dataDir))) {
      const seq = seqOfName(n);
      if (seq !== null && (newest === null || seq > newest)) newest = seq;
    }
  } catch {
    // no snapshot directory yet
  }
  return { role: "snapshotter", health: "ok", newestSnapshotSeq: newest };
}

async function askServer(p: ProcessState, host: string): Promise<Partial<ProcessReport>> {
  const r = await respCall(host, p.port, ["INFO", "replication"], ASK_TIMEOUT_MS);
  if (typeof r !== "string") throw new Error("INFO did not answer with text");
  const f = parseInfo(r);
  const halted = f.get("mnemo_halted") ?? "";
  const num = (k: string): number => Number(f.get(k) ?? "0");
  return {
    role: f.get("mnemo_role") ?? (f.get("role") === "master" ? "primary" : "replica"),
    health: halted !== "" ? "halted" : "ok",
    nodeId: f.get("mnemo_node_id") ?? "",
    applied: num("mnemo_applied_seq"),
    logTip: num("mnemo_log_tip"),
    leaseEpoch: num("mnemo_lease_epoch"),
    primary: f.get("role") === "master" ? `${host}:${p.port}` : `${f.get("master_host") ?? ""}:${f.get("master_port") ?? ""}`,
    ...(halted !== "" ? { halted } : {}),
  };
}

export async function collectStatus(dataDir: string): Promise<{ running: boolean; supervisorPid: number | null; processes: ProcessReport[] }> {
  const st = readState(dataDir);
  if (st === null) return { running: false, supervisorPid: null, processes: [] };
  const secret = fs.readFileSync(secretPath(dataDir), "utf8").trim();
  const processes = await Promise.all(
    st.processes.map(async (p): Promise<ProcessReport> => {
      const base: ProcessReport = { name: p.name, kind: p.kind, role: "down", pid: p.pid, port: p.port, shard: p.shard, health: "down", restarts: p.restarts };
      if (!pidAlive(p.pid)) return { ...base, pid: null };
      try {
        const extra = p.kind === "log" ? await askLogNode(p, st.host, secret) : p.kind === "snapshotter" ? snapshotterReport(dataDir) : await askServer(p, st.host);
        return { ...base, ...extra };
      } catch (e) {
        return { ...base, role: "unreachable", error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  return { running: pidAlive(st.supervisorPid), supervisorPid: st.supervisorPid, processes };
}

/** "; shard 0 tip 12 lease shard0-6379 (epoch 2)" for each shard a log node reports. */
function shardSummary(shards: unknown, nameOfNode: ReadonlyMap<string, string>): string {
  if (!Array.isArray(shards)) return "";
  let out = "";
  for (const x of shards as { shard?: unknown; tip?: unknown; leaseHolder?: unknown; epoch?: unknown }[]) {
    const holder = typeof x.leaseHolder === "string" ? (nameOfNode.get(x.leaseHolder) ?? x.leaseHolder.slice(0, 8)) : "none";
    out += `; shard ${String(x.shard)} tip ${String(x.tip)} lease ${holder} (epoch ${String(x.epoch)})`;
  }
  return out;
}

export async function runStatus(args: readonly string[]): Promise<number> {
  const m = parseOptions(args, ["data-dir"], ["json"]);
  const dataDir = path.resolve(m.get("data-dir") ?? "./data");
  const s = await collectStatus(dataDir);
  if (m.has("json")) {
    process.stdout.write(`${JSON.stringify({ dataDir, ...s })}\n`);
    return s.running ? 0 : 1;
  }
  if (!s.running) {
    process.stdout.write(`no cluster is running from ${dataDir} (start one with: mnemo up --data-dir ${dataDir})\n`);
    return 1;
  }
  const nameOfNode = new Map<string, string>();
  for (const p of s.processes) if (typeof p.nodeId === "string" && p.nodeId !== "") nameOfNode.set(p.nodeId, p.name);
  const rows = s.processes.map((p) => {
    const seq = p.kind === "log" ? `commit ${String(p.commit ?? "-")}` : p.kind === "snapshotter" ? `snapshot ${String(p.newestSnapshotSeq ?? "-")}` : `applied ${String(p.applied ?? "-")}`;
    const extra = p.kind === "snapshotter" ? "" : p.kind === "log" ? `term ${String(p.term ?? "-")}${shardSummary(p.shards, nameOfNode)}` : p.role === "replica" ? `primary ${String(p.primary ?? "-")}` : `epoch ${String(p.leaseEpoch ?? "-")}`;
    return [p.name, p.kind, p.role, String(p.pid ?? "-"), String(p.port), seq, extra, p.health];
  });
  const head = ["name", "kind", "role", "pid", "port", "seq", "", "health"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]): string => r.map((x, i) => x.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  process.stdout.write(`${[line(head), ...rows.map(line)].join("\n")}\n`);
  return 0;
}
