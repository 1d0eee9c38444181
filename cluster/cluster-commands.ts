// The Redis Cluster protocol for a single shard: CLUSTER (SLOTS SHARDS NODES
// MYID INFO KEYSLOT COUNTKEYSINSLOT GETKEYSINSLOT ...), READONLY, READWRITE,
// ASKING, and the -MOVED redirection a replica answers. One shard owns every
// slot, so there is never a CROSSSLOT error, an ASK or a TRYAGAIN. Without a
// topology (the standalone server) every one of these answers as a Redis
// started without cluster-enabled does.
import { array, bulk, bulks, EMPTY_ARRAY, err, int, map, OK, verbatim, type Reply } from "../resp/reply";
import { F_NO_AUTH, F_NO_MULTI, F_WRITE, type Command, type CommandFlag, type CommandSpec, type CommandTable } from "../engine/command";
import type { Ctx } from "../engine/context";
import type { Engine } from "../engine/engine";
import { E } from "../engine/errors";
import { parseInt64 } from "../engine/num";
import type { Session } from "../engine/session";
import { arityOk, helpReply, resolveCommand } from "../engine/commands/server";
import { keyHashSlot, SLOT_MAX, SLOTS_COUNT } from "./slots";
import { myselfOf, primaryOf, type ClusterNode, type ClusterTopology } from "./topology";

const DISABLED = err("ERR This instance has cluster support disabled");
const NOT_SERVED = err("CLUSTERDOWN Hash slot not served");

/** Mnemo has no cluster bus: the bus port CLUSTER NODES prints (`ip:port@cport`). */
const BUS_PORT = 0;

type Run = (t: ClusterTopology, ctx: Ctx, argv: string[]) => Reply;

const STALE: readonly CommandFlag[] = ["stale"];
const ADMIN: readonly CommandFlag[] = ["admin", "stale"];

// ---------------------------------------------------------------------------
// Node descriptions

function isMe(t: ClusterTopology, n: ClusterNode): boolean {
  return n.id === t.myId();
}

/** Replicas following `primary`, in topology order. */
function replicasOf(t: ClusterTopology, primary: ClusterNode): ClusterNode[] {
  return t.nodes().filter((n) => n.role === "replica" && n.primaryId === primary.id);
}

/**
 * Redis lists in CLUSTER SLOTS only replicas that have synced (offset > 0) and
 * have not failed; a replica this node cannot hear from counts as failed here.
 */
function replicaAvailable(t: ClusterTopology, n: ClusterNode): boolean {
  return n.replOffset !== 0 && (n.linkUp || isMe(t, n));
}

/** One CLUSTER NODES line (without the newline), as clusterGenNodeDescription formats it. */
function nodeLine(t: ClusterTopology, n: ClusterNode, primaryId: string | null, nowMs: number): string {
  const me = isMe(t, n);
  const flags = `${me ? "myself," : ""}${n.role === "primary" ? "master" : "slave"}`;
  const pongMs = me ? 0 : (n.lastPongMs ?? (n.linkUp ? nowMs : 0));
  const link = me || n.linkUp ? "connected" : "disconnected";
  const slots = n.id === primaryId ? ` 0-${SLOT_MAX}` : "";
  return `${n.id} ${n.host}:${n.port}@${BUS_PORT} ${flags} ${n.primaryId ?? "-"} 0 ${pongMs} ${t.currentEpoch()} ${link}${slots}`;
}

/** CLUSTER SLOTS's node entry: ip, port, id, and a map of extra endpoints (none). */
function slotsNode(n: ClusterNode): Reply {
  return array([bulk(n.host), int(n.port), bulk(n.id), map([])]);
}

function clusterSlots(t: ClusterTopology): Reply {
  const primary = primaryOf(t);
  if (primary === null) return EMPTY_ARRAY;
  const replicas = replicasOf(t, primary).filter((n) => replicaAvailable(t, n));
  return array([array([int(0), int(SLOT_MAX), slotsNode(primary), ...replicas.map(slotsNode)])]);
}

function health(t: ClusterTopology, n: ClusterNode): string {
  if (!n.linkUp && !isMe(t, n)) return "fail";
  return n.role === "replica" && n.replOffset === 0 ? "loading" : "online";
}

function shardNode(t: ClusterTopology, n: ClusterNode): Reply {
  return map([
    bulk("id"),
    bulk(n.id),
    bulk("port"),
    int(n.port),
    bulk("ip"),
    bulk(n.host),
    bulk("endpoint"),
    bulk(n.host),
    bulk("role"),
    bulk(n.role === "primary" ? "master" : "replica"),
    bulk("replication-offset"),
    int(n.replOffset),
    bulk("health"),
    bulk(health(t, n)),
  ]);
}

function clusterShards(t: ClusterTopology): Reply {
  const primary = primaryOf(t);
  if (primary === null) return EMPTY_ARRAY;
  const members = [primary, ...replicasOf(t, primary)];
  const shard = map([bulk("slots"), array([int(0), int(SLOT_MAX)]), bulk("nodes"), array(members.map((n) => shardNode(t, n)))]);
  return array([shard]);
}

function clusterNodes(t: ClusterTopology, nowMs: number): Reply {
  const primaryId = primaryOf(t)?.id ?? null;
  let out = "";
  for (const n of t.nodes()) out += `${nodeLine(t, n, primaryId, nowMs)}\n`;
  return verbatim(out);
}

function clusterInfo(t: ClusterTopology): Reply {
  const primary = primaryOf(t);
  const assigned = primary === null ? 0 : SLOTS_COUNT;
  // A primary this node cannot hear from is "possibly failing" (Redis's PFAIL): the state stays ok.
  const pfail = primary !== null && !primary.linkUp && !isMe(t, primary) ? SLOTS_COUNT : 0;
  const epoch = t.currentEpoch();
  const fields: [string, string | number][] = [
    ["cluster_state", primary === null ? "fail" : "ok"],
    ["cluster_slots_assigned", assigned],
    ["cluster_slots_ok", assigned - pfail],
    ["cluster_slots_pfail", pfail],
    ["cluster_slots_fail", 0],
    ["cluster_known_nodes", t.nodes().length],
    ["cluster_size", primary === null ? 0 : 1],
    ["cluster_current_epoch", epoch],
    ["cluster_my_epoch", primary === null ? 0 : epoch],
    ["cluster_stats_messages_sent", 0],
    ["cluster_stats_messages_received", 0],
    ["total_cluster_links_buffer_limit_exceeded", 0],
  ];
  let out = "";
  for (const [k, v] of fields) out += `${k}:${v}\r\n`;
  return verbatim(out);
}

// ---------------------------------------------------------------------------
// Keys in a slot: an O(keys in db 0) scan (see docs/commands.md). Like Redis,
// logically expired keys not yet deleted still count.

function countKeysInSlot(ctx: Ctx, argv: string[]): Reply {
  const slot = parseInt64(argv[2] ?? "");
  if (slot === null) return E.notInteger;
  if (typeof slot === "bigint" || slot < 0 || slot > SLOT_MAX) return err("ERR Invalid slot");
  let n = 0;
  for (const key of ctx.engine.db(0).data.keys()) if (keyHashSlot(key) === slot) n++;
  return int(n);
}

function getKeysInSlot(ctx: Ctx, argv: string[]): Reply {
  const slot = parseInt64(argv[2] ?? "");
  if (slot === null) return E.notInteger;
  const count = parseInt64(argv[3] ?? "");
  if (count === null) return E.notInteger;
  if (typeof slot === "bigint" || slot < 0 || slot > SLOT_MAX || count < 0) return err("ERR Invalid slot or number of keys");
  const keys: string[] = [];
  for (const key of ctx.engine.db(0).data.keys()) if (keyHashSlot(key) === slot) keys.push(key);
  // Redis links a slot's keys newest first; a Map iterates oldest first.
  const max = typeof count === "bigint" ? keys.length : Math.min(count, keys.length);
  const out: string[] = [];
  for (let i = keys.length - 1; out.length < max; i--) out.push(keys[i] ?? "");
  return bulks(out);
}

// ---------------------------------------------------------------------------
// Subcommands that name a node

function nodeById(t: ClusterTopology, id: string): ClusterNode | undefined {
  return t.nodes().find((n) => n.id === id);
}

function clusterReplicas(t: ClusterTopology, ctx: Ctx, argv: string[]): Reply {
  const id = argv[2] ?? "";
  const n = nodeById(t, id);
  if (n === undefined) return err(`ERR Unknown node ${id}`);
  if (n.role !== "primary") return err("ERR The specified node is not a master");
  const primaryId = primaryOf(t)?.id ?? null;
  return bulks(replicasOf(t, n).map((r) => nodeLine(t, r, primaryId, ctx.now)));
}

function countFailureReports(t: ClusterTopology, _ctx: Ctx, argv: string[]): Reply {
  const id = argv[2] ?? "";
  // No gossip, so no failure reports: the lease decides who is primary.
  return nodeById(t, id) === undefined ? err(`ERR Unknown node ${id}`) : int(0);
}

/** Subcommands that change slots, membership or roles: Mnemo decides those itself. */
function unsupported(name: string): Run {
  const reply = err(`ERR CLUSTER ${name.toUpperCase()} is not supported: Mnemo assigns slots, replicas and failover itself`);
  return () => reply;
}

const CLUSTER_HELP = [
  "COUNTKEYSINSLOT <slot>",
  "    Return the number of keys in <slot>.",
  "COUNT-FAILURE-REPORTS <node-id>",
  "    Return number of failure reports for <node-id> (always 0: no gossip).",
  "GETKEYSINSLOT <slot> <count>",
  "    Return key names stored by current node in a slot.",
  "INFO",
  "    Return information about the cluster.",
  "KEYSLOT <key>",
  "    Return the hash slot for <key>.",
  "LINKS",
  "    Return information about all network links between this node and its peers (none: no cluster bus).",
  "MYID",
  "    Return the node id.",
  "NODES",
  "    Return cluster configuration seen by node. Output format:",
  "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
  "REPLICAS <node-id>",
  "    Return <node-id> replicas.",
  "SHARDS",
  "    Return information about slot range mappings and the nodes associated with them.",
  "SLOTS",
  "    Return information about slots range mappings. Each range is made of:",
  "    start, end, master and replicas IP addresses, ports and ids",
];

// ---------------------------------------------------------------------------
// Registration

interface SubDef {
  readonly name: string;
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  readonly since: string;
  readonly summary: string;
  readonly run: Run;
}

const SUBCOMMANDS: readonly SubDef[] = [
  { name: "slots", arity: 2, flags: STALE, since: "3.0.0", summary: "Get array of Cluster slot to node mappings", run: clusterSlots },
  { name: "shards", arity: 2, flags: STALE, since: "7.0.0", summary: "Get array of cluster slots to node mappings", run: clusterShards },
  { name: "nodes", arity: 2, flags: STALE, since: "3.0.0", summary: "Get Cluster config for the node", run: (t, ctx) => clusterNodes(t, ctx.now) },
  { name: "myid", arity: 2, flags: STALE, since: "3.0.0", summary: "Return the node id", run: (t) => bulk(t.myId()) },
  { name: "info", arity: 2, flags: STALE, since: "3.0.0", summary: "Provides info about Redis Cluster node state", run: clusterInfo },
  { name: "keyslot", arity: 3, flags: STALE, since: "3.0.0", summary: "Returns the hash slot of the specified key", run: (_t, _ctx, argv) => int(keyHashSlot(argv[2] ?? "")) },
  { name: "countkeysinslot", arity: 3, flags: STALE, since: "3.0.0", summary: "Return the number of local keys in the specified hash slot", run: (_t, ctx, argv) => countKeysInSlot(ctx, argv) },
  { name: "getkeysinslot", arity: 4, flags: STALE, since: "3.0.0", summary: "Return local key names in the specified hash slot", run: (_t, ctx, argv) => getKeysInSlot(ctx, argv) },
  { name: "replicas", arity: 3, flags: ADMIN, since: "5.0.0", summary: "List replica nodes of the specified master node", run: clusterReplicas },
  { name: "slaves", arity: 3, flags: ADMIN, since: "3.0.0", summary: "List replica nodes of the specified master node", run: clusterReplicas },
  { name: "count-failure-reports", arity: 3, flags: ADMIN, since: "3.0.0", summary: "Return the number of failure reports active for a given node", run: countFailureReports },
  { name: "links", arity: 2, flags: STALE, since: "7.0.0", summary: "Returns a list of all TCP links to and from peer nodes in cluster", run: () => EMPTY_ARRAY },
  { name: "saveconfig", arity: 2, flags: ADMIN, since: "3.0.0", summary: "Forces the node to save cluster state on disk", run: () => OK },
  { name: "help", arity: 2, flags: ["loading", "stale"], since: "5.0.0", summary: "Show helpful text about the different subcommands", run: () => helpReply("cluster", CLUSTER_HELP) },
  ...(
    [
      ["addslots", -3, "3.0.0"],
      ["addslotsrange", -4, "7.0.0"],
      ["bumpepoch", 2, "3.0.0"],
      ["delslots", -3, "3.0.0"],
      ["delslotsrange", -4, "7.0.0"],
      ["failover", -2, "3.0.0"],
      ["flushslots", 2, "3.0.0"],
      ["forget", 3, "3.0.0"],
      ["meet", -4, "3.0.0"],
      ["replicate", 3, "3.0.0"],
      ["reset", -2, "3.0.0"],
      ["set-config-epoch", 3, "3.0.0"],
      ["setslot", -4, "3.0.0"],
    ] as const
  ).map(([name, arity, since]): SubDef => ({ name, arity, flags: ADMIN, since, summary: `CLUSTER ${name.toUpperCase()} (not supported)`, run: unsupported(name) })),
];

/** READONLY / READWRITE / ASKING: connection state for cluster clients. */
function connectionCommand(topology: ClusterTopology | null, name: string, flags: readonly CommandFlag[], summary: string, apply: (s: Session) => void): CommandSpec {
  return {
    name,
    arity: 1,
    flags,
    group: "cluster",
    since: "3.0.0",
    summary,
    run: (ctx) => {
      if (topology === null) return DISABLED;
      apply(ctx.session);
      return OK;
    },
  };
}

/**
 * CLUSTER and its subcommands, READONLY, READWRITE and ASKING. With a null
 * topology every one of them answers "cluster support disabled", as Redis does
 * without cluster-enabled (arity and unknown subcommands are still checked first).
 */
export function clusterCommands(topology: ClusterTopology | null): CommandSpec[] {
  const subcommands = SUBCOMMANDS.map(
    (d): CommandSpec => ({
      name: d.name,
      arity: d.arity,
      flags: d.flags,
      group: "cluster",
      since: d.since,
      summary: d.summary,
      run: (ctx, argv) => (topology === null ? DISABLED : d.run(topology, ctx, argv)),
    }),
  );
  return [
    { name: "cluster", arity: -2, flags: [], group: "cluster", since: "3.0.0", summary: "A container for cluster commands", subcommands },
    connectionCommand(topology, "readonly", ["fast", "loading", "stale"], "Enables read queries for a connection to a cluster replica node", (s) => {
      s.readonlyMode = true;
    }),
    connectionCommand(topology, "readwrite", ["fast", "loading", "stale"], "Disables read queries for a connection to a cluster replica node", (s) => {
      s.readonlyMode = false;
    }),
    // No slot is ever migrating or importing in a single shard: ASKING changes nothing.
    connectionCommand(topology, "asking", ["fast"], "Sent by cluster clients after an -ASK redirect", () => undefined),
  ];
}

// ---------------------------------------------------------------------------
// Redirection (Redis's getNodeByQuery for one shard)

/** Sharded pub/sub may be served by a replica even without READONLY, as in Redis. */
const SHARD_PUBSUB = new Set(["ssubscribe", "sunsubscribe", "spublish"]);

interface Route {
  readonly cmd: Command;
  readonly reply: Reply;
}

/** The command would fail before redirection in Redis (unknown, arity, auth, no_multi): let the engine answer. */
function failsEarly(cmd: Command, session: Session, argc: number): boolean {
  if (!arityOk(cmd.spec.arity, argc) || (cmd.parent !== null && !arityOk(cmd.parent.spec.arity, argc))) return true;
  if (!session.authenticated && !cmd.has(F_NO_AUTH)) return true;
  return session.multi !== null && cmd.has(F_NO_MULTI);
}

/** The first key `argv` names, or null for a keyless command. */
function firstKey(cmd: Command, argv: readonly string[]): string | null {
  const idx = cmd.keyIndexes(argv);
  return idx.length === 0 ? null : (argv[idx[0] ?? 0] ?? null);
}

/** EXEC is judged by its queued commands: the first key of any, and whether any writes. */
function execKeyAndWrite(table: CommandTable, queued: readonly string[][]): { key: string | null; write: boolean } {
  let key: string | null = null;
  let write = false;
  for (const q of queued) {
    const c = resolveCommand(table, q);
    if (c === undefined) continue;
    if (c.has(F_WRITE)) write = true;
    if (key === null) key = firstKey(c, q);
  }
  return { key, write };
}

function route(topology: ClusterTopology, table: CommandTable, session: Session, argv: readonly string[]): Route | null {
  const primary = primaryOf(topology);
  const myId = topology.myId();
  if (primary !== null && primary.id === myId) return null;
  const cmd = resolveCommand(table, argv);
  if (cmd === undefined || failsEarly(cmd, session, argv.length)) return null;
  const isExec = cmd.parent === null && cmd.spec.name === "exec";
  if (isExec && session.multi === null) return null;
  const { key, write } = isExec ? execKeyAndWrite(table, session.multi ?? []) : { key: firstKey(cmd, argv), write: cmd.has(F_WRITE) };
  if (key === null) return null;
  if (primary === null) return { cmd, reply: NOT_SERVED };
  const me = myselfOf(topology);
  const mayRead = session.readonlyMode || SHARD_PUBSUB.has(cmd.fullName);
  if (mayRead && !write && me !== null && me.role === "replica" && me.primaryId === primary.id) return null;
  return { cmd, reply: err(`MOVED ${keyHashSlot(key)} ${primary.host}:${primary.port}`) };
}

/**
 * Where a request must go, decided before it runs (and before MULTI queues
 * it): null when this node serves it, else the redirection to send:
 * `-MOVED <slot of the first key> <primary host>:<port>` for a write, or for a
 * read from a connection that has not sent READONLY; `-CLUSTERDOWN Hash slot
 * not served` while no primary is known. A primary never redirects. Keyless
 * commands (PING, FLUSHALL, MULTI, ...) are never redirected: Redis runs them
 * locally, so a replica answers a keyless write with its usual -READONLY
 * error. EXEC is judged by its queued commands. Requests that fail earlier
 * (unknown command, arity, NOAUTH) get null so the engine reports that.
 * Pure: see clusterRedirect for the transaction bookkeeping.
 */
export function routeCheck(topology: ClusterTopology, table: CommandTable, session: Session, argv: readonly string[]): Reply | null {
  return route(topology, table, session, argv)?.reply ?? null;
}

/**
 * routeCheck plus what Redis does when it redirects: a redirected EXEC
 * discards the transaction (and its WATCHes); a redirected command inside
 * MULTI makes the later EXEC fail with EXECABORT; the command counts a
 * rejected call and the error counts in INFO errorstats.
 */
export function clusterRedirect(topology: ClusterTopology, engine: Engine, session: Session, argv: readonly string[]): Reply | null {
  const r = route(topology, engine.table, session, argv);
  if (r === null) return null;
  const { cmd, reply } = r;
  session.lastCommand = cmd.fullName;
  if (session.multi !== null) {
    if (cmd.parent === null && cmd.spec.name === "exec") {
      engine.forgetSession(session);
      session.multiError = false;
    } else {
      session.multiError = true;
    }
  }
  cmd.rejectedCalls++;
  if (reply.kind === "error") engine.stats.countError(reply.message);
  return reply;
}
