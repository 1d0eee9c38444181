// What a durable server adds to the command table and to INFO: ROLE, and the
// replication and cluster facts as Redis names them (plus mnemo_* fields for
// `mnemo status`).
import type { CommandSpec } from "../engine/command";
import type { InfoField } from "../engine/stats";
import { array, bulk, bulks, int, type Reply } from "../resp/reply";
import type { ShardNode } from "./shard-node";

export function shardCommands(node: ShardNode): CommandSpec[] {
  return [
    {
      name: "role",
      arity: 1,
      flags: ["noscript", "loading", "stale", "fast"],
      keys: [0, 0, 0],
      effects: "none",
      group: "server",
      run: () => roleReply(node),
    },
  ];
}

function roleReply(node: ShardNode): Reply {
  if (node.role === "primary") {
    const replicas = node.nodes().filter((n) => n.id !== node.nodeId);
    return array([bulk("master"), int(node.appliedSeq), array(replicas.map((r) => bulks([r.host, String(r.port), "0"])))]);
  }
  const p = node.primary;
  return array([
    bulk("slave"),
    bulk(p?.host ?? "?"),
    int(p?.port ?? -1),
    bulk(p === null ? "connect" : node.caughtUp ? "connected" : "sync"),
    int(node.appliedSeq),
  ]);
}

export function shardInfoFields(node: ShardNode): [string, () => InfoField[]][] {
  return [
    ["replication", () => replicationFields(node)],
    ["cluster", () => [["cluster_enabled", 1]]],
  ];
}

function replicationFields(node: ShardNode): InfoField[] {
  const common: InfoField[] = [
    ["master_repl_offset", node.appliedSeq],
    ["mnemo_role", node.role],
    ["mnemo_node_id", node.nodeId],
    ["mnemo_applied_seq", node.appliedSeq],
    ["mnemo_log_tip", Math.max(node.tipSeen, node.appliedSeq)],
    ["mnemo_lease_epoch", node.currentEpoch()],
    ["mnemo_lease_remaining_ms", node.leaseRemainingMs],
    ["mnemo_held_replies", node.pendingReplies],
    ["mnemo_halted", node.halted ?? ""],
  ];
  if (node.role === "primary") {
    const replicas = node.nodes().filter((n) => n.id !== node.nodeId);
    const out: InfoField[] = [["role", "master"], ["connected_slaves", replicas.length]];
    replicas.forEach((r, i) => out.push([`slave${i}`, `ip=${r.host},port=${r.port},state=online,offset=${r.replOffset},lag=0`]));
    return [...out, ...common];
  }
  const p = node.primary;
  const sinceContactS = node.lastLogContactMs === 0 ? -1 : Math.floor((performance.now() - node.lastLogContactMs) / 1000);
  return [
    ["role", "slave"],
    ["master_host", p?.host ?? ""],
    ["master_port", p?.port ?? 0],
    ["master_link_status", p !== null && node.halted === null ? "up" : "down"],
    ["master_last_io_seconds_ago", sinceContactS],
    ["master_sync_in_progress", node.caughtUp ? 0 : 1],
    ["slave_read_repl_offset", node.appliedSeq],
    ["slave_repl_offset", node.appliedSeq],
    ["slave_priority", 100],
    ["slave_read_only", 1],
    ["replica_announced", 1],
    ["connected_slaves", 0],
    ...common,
  ];
}
