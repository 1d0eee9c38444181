// What a durable server adds to the command table and to INFO: ROLE, and the
// replication and cluster facts as Redis names them (plus mnemo_* fields for
// `mnemo status`).
import type { CommandSpec } from "../engine/command";
import type { Ctx } from "../engine/context";
import { parseInt64 } from "../engine/num";
import type { Connection } from "./connection";
import * as fs from "node:fs";
import * as path from "node:path";
import { requestSnapshot } from "../snapshot/snapshotter";
import { seqOfName } from "../snapshot/store";
import type { InfoField } from "../engine/stats";
import { array, bulk, bulks, err, int, NONE, simple, type Reply } from "../resp/reply";
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
    {
      name: "wait",
      arity: 3,
      flags: ["noscript"],
      keys: [0, 0, 0],
      effects: "none",
      group: "generic",
      run: (ctx, argv) => waitCommand(node, ctx, argv),
    },
    {
      name: "bgsave",
      arity: -1,
      flags: ["admin", "noscript"],
      keys: [0, 0, 0],
      effects: "none",
      group: "server",
      run: (_ctx, argv) => bgsave(node, argv),
    },
    {
      name: "save",
      arity: 1,
      flags: ["admin", "noscript", "no_multi"],
      keys: [0, 0, 0],
      effects: "none",
      group: "server",
      run: (ctx) => save(node, ctx),
    },
    {
      name: "lastsave",
      arity: 1,
      flags: ["fast", "loading", "stale"],
      keys: [0, 0, 0],
      effects: "none",
      group: "server",
      run: () => int(lastSaveSeconds(node)),
    },
    {
      name: "replconf",
      arity: -1,
      flags: ["admin", "noscript", "loading", "stale", "allow_busy"],
      keys: [0, 0, 0],
      effects: "none",
      group: "server",
      run: (_ctx, argv) => replconf(node, argv),
    },
  ];
}

/** How long SAVE / BGSAVE wait for the snapshotter to publish. */
const SNAPSHOT_WAIT_MS = 10 * 60 * 1000;

/**
 * Snapshots are the snapshotter's job (nothing forks here): BGSAVE asks it for
 * one and returns at once; SAVE waits until it is published.
 */
function askSnapshotter(node: ShardNode, done: (err: Error | null) => void): Reply | null {
  const dir = node.o.snapshotDir;
  if (dir === undefined) return err("ERR no snapshotter is configured for this server (--snapshot-dir)");
  node.snapshotRequested = true;
  requestSnapshot(dir, SNAPSHOT_WAIT_MS).then(
    () => {
      node.snapshotRequested = false;
      done(null);
    },
    (e: unknown) => {
      node.snapshotRequested = false;
      done(e instanceof Error ? e : new Error(String(e)));
    },
  );
  return null;
}

function bgsave(node: ShardNode, argv: readonly string[]): Reply {
  const schedule = argv.length === 2 && (argv[1] ?? "").toLowerCase() === "schedule";
  if (argv.length > 2 || (argv.length === 2 && !schedule)) return err("ERR syntax error");
  if (node.snapshotRequested) return schedule ? simple("Background saving scheduled") : err("ERR Background save already in progress");
  return askSnapshotter(node, (e) => {
    if (e !== null) node.o.log(`BGSAVE: ${e.message}`);
  }) ?? simple("Background saving started");
}

function save(node: ShardNode, ctx: Ctx): Reply {
  const conn = ctx.session.conn as Connection | null;
  if (node.snapshotRequested) return err("ERR Background save already in progress");
  if (conn === null) return err("ERR SAVE needs a client connection");
  const refused = askSnapshotter(node, (e) => conn.unblock(e === null ? simple("OK") : err(`ERR ${e.message}`)));
  if (refused !== null) return refused;
  conn.block({ kind: "command", cancel: () => null });
  return NONE;
}

/** Unix seconds of the newest published snapshot (0 when there is none). */
function lastSaveSeconds(node: ShardNode): number {
  const dir = node.o.snapshotDir;
  if (dir === undefined) return 0;
  let newest = 0;
  try {
    for (const name of fs.readdirSync(dir)) {
      if (seqOfName(name) === null) continue;
      newest = Math.max(newest, fs.statSync(path.join(dir, name)).mtimeMs);
    }
  } catch {
    return 0;
  }
  return Math.floor(newest / 1000);
}

/** REPLCONF ACK <seq> <nodeId>: a replica reports what it has applied (no reply, as in Redis). */
function replconf(node: ShardNode, argv: readonly string[]): Reply {
  if ((argv[1] ?? "").toLowerCase() !== "ack" || argv.length !== 4) return err("ERR Unrecognized REPLCONF option");
  const seq = Number(argv[2]);
  if (!Number.isSafeInteger(seq) || seq < 0) return err("ERR value is not an integer or out of range");
  node.acks.ack(argv[3] as string, seq);
  return NONE;
}

/**
 * WAIT numreplicas timeout: blocks until that many replicas have applied
 * everything this primary had written when WAIT ran, or the timeout (ms, 0 =
 * forever) passes; replies with how many have. Never needed for durability.
 */
function waitCommand(node: ShardNode, ctx: Ctx, argv: readonly string[]): Reply {
  if (node.role !== "primary") {
    return err(
      "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
    );
  }
  const want = parseInt64(argv[1] ?? "");
  if (want === null) return err("ERR value is not an integer or out of range");
  const timeout = parseInt64(argv[2] ?? "");
  if (timeout === null) return err("ERR timeout is not an integer or out of range");
  if (timeout < 0) return err("ERR timeout is negative");
  const target = node.writeOffset();
  const have = node.acks.countAt(target);
  const conn = ctx.session.conn as Connection | null;
  if (have >= want || ctx.session.multi !== null || ctx.engine.nested || conn === null) return int(have);
  const deadlineMs = timeout === 0 || timeout === 0n ? 0 : Date.now() + Number(timeout);
  const cancelWait = node.acks.wait(target, Number(want), (n) => conn.unblock(int(n)));
  conn.block({
    kind: "command",
    deadlineMs,
    cancel: (reason) => {
      cancelWait();
      return reason === "disconnect" ? null : int(node.acks.countAt(target));
    },
  });
  if (deadlineMs > 0) setTimeout(() => node.server.expireBlockedNow(), Number(timeout) + 1).unref();
  return NONE;
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
    ["persistence", () => [["loading", node.loading() ? 1 : 0]]],
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
    ["mnemo_checksums_verified", node.reader.checksumsVerified],
  ];
  if (node.role === "primary") {
    const replicas = node.nodes().filter((n) => n.id !== node.nodeId);
    const out: InfoField[] = [["role", "master"], ["connected_slaves", replicas.length]];
    replicas.forEach((r, i) => {
      const ack = node.acks.acks.get(r.id);
      const lagS = ack === undefined ? -1 : Math.floor((Date.now() - ack.atMs) / 1000);
      out.push([`slave${i}`, `ip=${r.host},port=${r.port},state=${r.linkUp ? "online" : "wait_bgsave"},offset=${ack?.seq ?? 0},lag=${lagS}`]);
    });
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
