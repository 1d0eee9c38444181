// CLUSTER, READONLY, READWRITE, ASKING and -MOVED routing, checked against
// bytes a real Redis 7.0.15 sent: a cluster of one primary (127.0.0.1:19302)
// and its replica (:19303) owning all 16384 slots, and a redis-server started
// without cluster-enabled.
import t from "tap";
import { encodeReply } from "../resp/encoder";
import type { Reply } from "../resp/reply";
import { Engine } from "../engine/engine";
import type { Session } from "../engine/session";
import { clusterCommands, clusterRedirect, routeCheck } from "./cluster-commands";
import { keyHashSlot } from "./slots";
import { nodeIdFor, StaticTopology, type ClusterNode, type ClusterTopology } from "./topology";

const P_ID = "8064fff55c96649d37f421dec40fa16c8ad49baa";
const R_ID = "64f6ebd75df340dfb85aeca3186dc5f4fb35abba";

function redisLikeNodes(primaryOffset: number, replicaOffset: number): ClusterNode[] {
  return [
    { id: P_ID, host: "127.0.0.1", port: 19302, role: "primary", primaryId: null, linkUp: true, replOffset: primaryOffset, lastPongMs: 1795793250646 },
    { id: R_ID, host: "127.0.0.1", port: 19303, role: "replica", primaryId: P_ID, linkUp: true, replOffset: replicaOffset, lastPongMs: 1795793250646 },
  ];
}

function setup(topology: ClusterTopology | null): { engine: Engine; session: Session; run: (...argv: string[]) => Reply; wire: (...argv: string[]) => string } {
  const engine = new Engine({ recordEffects: false });
  engine.register(clusterCommands(topology));
  const session = engine.newSession();
  // What a server does per request: route first, then dispatch.
  const run = (...argv: string[]): Reply => (topology === null ? null : clusterRedirect(topology, engine, session, argv)) ?? engine.call(session, argv);
  const wire = (...argv: string[]): string => encodeReply(run(...argv), session.resp).toString("latin1");
  return { engine, session, run, wire };
}

const DISABLED = "-ERR This instance has cluster support disabled\r\n";

t.test("without a topology everything answers as redis-server without cluster-enabled", async (t) => {
  const { wire } = setup(null);
  for (const argv of [["cluster", "slots"], ["cluster", "help"], ["CLUSTER", "KEYSLOT", "a"], ["cluster", "nodes"], ["cluster", "meet", "h", "1"], ["readonly"], ["readwrite"], ["asking"]]) {
    t.equal(wire(...argv), DISABLED, argv.join(" "));
  }
  t.equal(wire("cluster", "foo"), "-ERR unknown subcommand 'foo'. Try CLUSTER HELP.\r\n");
  t.equal(wire("cluster"), "-ERR wrong number of arguments for 'cluster' command\r\n");
  t.equal(wire("cluster", "keyslot"), "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n");
  t.equal(wire("cluster", "info", "x"), "-ERR wrong number of arguments for 'cluster|info' command\r\n");
  t.equal(wire("readonly", "x"), "-ERR wrong number of arguments for 'readonly' command\r\n");
  t.equal(wire("multi"), "+OK\r\n");
  t.equal(wire("readonly"), "+QUEUED\r\n");
  t.equal(wire("exec"), `*1\r\n${DISABLED}`, "queued, then the error inside EXEC's reply");
});

const SLOTS_RESP2 =
  "*1\r\n*4\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:19302\r\n$40\r\n8064fff55c96649d37f421dec40fa16c8ad49baa\r\n*0\r\n" +
  "*4\r\n$9\r\n127.0.0.1\r\n:19303\r\n$40\r\n64f6ebd75df340dfb85aeca3186dc5f4fb35abba\r\n*0\r\n";

const shardNodeBytes = (head: string, id: string, port: number, role: string, offset: number): string =>
  `${head}$2\r\nid\r\n$40\r\n${id}\r\n$4\r\nport\r\n:${port}\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n` +
  `$4\r\nrole\r\n$${role.length}\r\n${role}\r\n$18\r\nreplication-offset\r\n:${offset}\r\n$6\r\nhealth\r\n$6\r\nonline\r\n`;

t.test("CLUSTER SLOTS and SHARDS: Redis's bytes in RESP2 and RESP3", async (t) => {
  const { session, wire } = setup(new StaticTopology(P_ID, redisLikeNodes(250, 250), 1));
  t.equal(wire("cluster", "slots"), SLOTS_RESP2);
  t.equal(
    wire("cluster", "shards"),
    `*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n${shardNodeBytes("*14\r\n", P_ID, 19302, "master", 250)}${shardNodeBytes("*14\r\n", R_ID, 19303, "replica", 250)}`,
  );
  session.resp = 3;
  t.equal(wire("cluster", "slots"), SLOTS_RESP2.replace(/\*0\r\n/g, "%0\r\n"), "the extra-endpoints map is a map in RESP3");
  t.equal(
    wire("cluster", "shards"),
    `*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n${shardNodeBytes("%7\r\n", P_ID, 19302, "master", 250)}${shardNodeBytes("%7\r\n", R_ID, 19303, "replica", 250)}`,
  );
});

t.test("replicas not synced yet or unreachable: left out of SLOTS, flagged in SHARDS", async (t) => {
  const nodes = redisLikeNodes(250, 0);
  const topo = new StaticTopology(P_ID, nodes, 1);
  const { run } = setup(topo);
  const slots = run("cluster", "slots");
  t.ok(slots.kind === "array" && slots.items[0]?.kind === "array" && slots.items[0].items.length === 3, "only the primary serves 0-16383");
  const health = (): string => encodeReply(run("cluster", "shards"), 2).toString("latin1");
  t.match(health(), /replica\r\n\$18\r\nreplication-offset\r\n:0\r\n\$6\r\nhealth\r\n\$7\r\nloading/);
  const r = nodes[1];
  if (r === undefined) throw new Error("fixture");
  topo.update([nodes[0] as ClusterNode, { ...r, replOffset: 9, linkUp: false }], 1);
  t.match(health(), /health\r\n\$4\r\nfail\r\n$/);
  t.ok(run("cluster", "slots").kind === "array", "still one range");
  t.match(encodeReply(run("cluster", "nodes"), 2).toString("latin1"), new RegExp(`${R_ID} \\S+ slave ${P_ID} 0 1795793250646 1 disconnected\\n`));
});

t.test("CLUSTER NODES, MYID, INFO as Redis prints them (seen from the replica)", async (t) => {
  const { run, wire } = setup(new StaticTopology(R_ID, redisLikeNodes(250, 250), 0));
  // Redis's reply, but for the bus port (Mnemo has no cluster bus: @0); Redis lists nodes in hash order.
  const redis = [
    `${R_ID} 127.0.0.1:19303@29303 myself,slave ${P_ID} 0 0 0 connected`,
    `${P_ID} 127.0.0.1:19302@29302 master - 0 1795793250646 0 connected 0-16383`,
  ].map((l) => l.replace(/@\d+/, "@0"));
  const nodes = run("cluster", "nodes");
  t.equal(nodes.kind, "verbatim");
  const text = nodes.kind === "verbatim" ? nodes.value : "";
  t.ok(text.endsWith("\n"));
  t.same(text.trimEnd().split("\n").sort(), [...redis].sort());
  t.equal(text.split("\n")[0], redis[1], "the primary first");
  t.equal(wire("cluster", "myid"), `$40\r\n${R_ID}\r\n`);
  const info = run("cluster", "info");
  const infoText = info.kind === "verbatim" ? info.value : "";
  t.match(
    infoText,
    /^cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:2\r\ncluster_size:1\r\ncluster_current_epoch:0\r\ncluster_my_epoch:0\r\n/,
  );
  t.match(infoText, /cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n$/);
  const replicaLine = `${R_ID} 127.0.0.1:19303@0 myself,slave ${P_ID} 0 0 0 connected`;
  t.equal(wire("cluster", "replicas", P_ID), `*1\r\n$${replicaLine.length}\r\n${replicaLine}\r\n`, "bulk lines without newline");
  t.equal(wire("cluster", "replicas", R_ID), "-ERR The specified node is not a master\r\n");
  t.equal(wire("cluster", "slaves", "abc"), "-ERR Unknown node abc\r\n");
  t.equal(wire("cluster", "count-failure-reports", P_ID), ":0\r\n");
});

t.test("no primary known: the cluster is down and nothing is assigned", async (t) => {
  const replicaOnly: ClusterNode = { id: R_ID, host: "127.0.0.1", port: 19303, role: "replica", primaryId: null, linkUp: true, replOffset: 5 };
  const { run, wire } = setup(new StaticTopology(R_ID, [replicaOnly], 3));
  t.equal(wire("cluster", "slots"), "*0\r\n");
  t.equal(wire("cluster", "shards"), "*0\r\n");
  const info = run("cluster", "info");
  t.match(info.kind === "verbatim" ? info.value : "", /^cluster_state:fail\r\ncluster_slots_assigned:0\r\n/);
  t.equal(wire("get", "k"), "-CLUSTERDOWN Hash slot not served\r\n");
  t.equal(wire("ping"), "+PONG\r\n");
});

t.test("KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT: values and errors as Redis", async (t) => {
  const { wire } = setup(new StaticTopology(P_ID, redisLikeNodes(1, 1)));
  t.equal(wire("cluster", "keyslot", "foo"), ":12182\r\n");
  t.equal(wire("mset", "{t}a", "1", "{t}b", "2", "{t}c", "3", "other", "4"), "+OK\r\n");
  t.equal(wire("set", "{t}a", "5"), "+OK\r\n", "overwriting keeps the key's place");
  const slot = String(keyHashSlot("t"));
  t.equal(wire("cluster", "countkeysinslot", slot), ":3\r\n");
  t.equal(wire("cluster", "getkeysinslot", slot, "10"), "*3\r\n$4\r\n{t}c\r\n$4\r\n{t}b\r\n$4\r\n{t}a\r\n", "newest first, as Redis links them");
  t.equal(wire("cluster", "getkeysinslot", slot, "2"), "*2\r\n$4\r\n{t}c\r\n$4\r\n{t}b\r\n");
  t.equal(wire("cluster", "getkeysinslot", slot, "0"), "*0\r\n");
  t.equal(wire("cluster", "countkeysinslot", "16384"), "-ERR Invalid slot\r\n");
  t.equal(wire("cluster", "countkeysinslot", "-1"), "-ERR Invalid slot\r\n");
  t.equal(wire("cluster", "countkeysinslot", "x"), "-ERR value is not an integer or out of range\r\n");
  t.equal(wire("cluster", "getkeysinslot", "0", "-1"), "-ERR Invalid slot or number of keys\r\n");
  t.equal(wire("cluster", "getkeysinslot", "-1", "1"), "-ERR Invalid slot or number of keys\r\n");
  t.equal(wire("cluster", "getkeysinslot", "16384", "x"), "-ERR value is not an integer or out of range\r\n");
  t.equal(wire("cluster", "getkeysinslot", "0", "99999999999999999999"), "-ERR value is not an integer or out of range\r\n");
  t.equal(wire("cluster", "getkeysinslot", slot, "9223372036854775807"), "*3\r\n$4\r\n{t}c\r\n$4\r\n{t}b\r\n$4\r\n{t}a\r\n");
  t.equal(wire("select", "1"), "+OK\r\n");
  t.equal(wire("set", "{t}d", "x"), "+OK\r\n");
  t.equal(wire("cluster", "countkeysinslot", slot), ":3\r\n", "only db 0 counts, as in a Redis cluster");
});

t.test("READONLY/READWRITE/ASKING answer OK; admin subcommands are refused", async (t) => {
  const { session, wire } = setup(new StaticTopology(P_ID, redisLikeNodes(1, 1)));
  t.equal(wire("readonly"), "+OK\r\n");
  t.equal(session.readonlyMode, true);
  t.equal(wire("readwrite"), "+OK\r\n");
  t.equal(session.readonlyMode, false);
  t.equal(wire("asking"), "+OK\r\n");
  t.match(wire("cluster", "addslots", "1"), /^-ERR CLUSTER ADDSLOTS is not supported/);
  t.match(wire("cluster", "failover"), /^-ERR CLUSTER FAILOVER is not supported/);
  t.equal(wire("cluster", "meet", "x"), "-ERR wrong number of arguments for 'cluster|meet' command\r\n");
  t.equal(wire("cluster", "links"), "*0\r\n");
  t.equal(wire("cluster", "saveconfig"), "+OK\r\n");
  t.match(wire("cluster", "help"), /^\*\d+\r\n\+CLUSTER <subcommand> \[<arg> \[value\] \[opt\] \.\.\.\]\. Subcommands are:\r\n/);
});

t.test("a replica redirects as a Redis cluster replica does (transcript from Redis 7.0.15)", async (t) => {
  const { engine, session, wire } = setup(new StaticTopology(R_ID, redisLikeNodes(9, 9)));
  engine.db(0).data.set("foo", "bar"); // replicated earlier
  const moved = "-MOVED 12182 127.0.0.1:19302\r\n";
  t.equal(wire("set", "foo", "1"), moved, "a write");
  t.equal(wire("get", "foo"), moved, "a read before READONLY");
  t.equal(wire("ping"), "+PONG\r\n", "keyless: served");
  t.equal(wire("readonly"), "+OK\r\n");
  t.equal(wire("get", "foo"), "$3\r\nbar\r\n", "a read after READONLY");
  t.equal(wire("set", "foo", "2"), moved, "writes still go to the primary");
  t.equal(wire("multi"), "+OK\r\n");
  t.equal(wire("get", "foo"), "+QUEUED\r\n");
  t.equal(wire("exec"), "*1\r\n$3\r\nbar\r\n", "a read-only transaction runs on the replica");
  t.equal(wire("multi"), "+OK\r\n");
  t.equal(wire("get", "foo"), "+QUEUED\r\n");
  t.equal(wire("set", "foo", "1"), moved, "redirected while queueing");
  t.equal(wire("exec"), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  t.equal(wire("readwrite"), "+OK\r\n");
  t.equal(wire("multi"), "+OK\r\n");
  t.equal(wire("exec"), "*0\r\n", "an empty transaction has no key");
  t.equal(wire("multi"), "+OK\r\n");
  t.equal(wire("get", "foo"), moved);
  t.equal(wire("exec"), "-EXECABORT Transaction discarded because of previous errors.\r\n");
  t.equal(wire("get", "{foo}x"), moved, "the hash tag decides the slot");
  t.equal(wire("mget", "foo", "a", "b"), moved, "no CROSSSLOT: the first key's slot (Redis: -CROSSSLOT)");
  t.equal(wire("nosuch", "foo"), "-ERR unknown command 'nosuch', with args beginning with: 'foo' \r\n", "errors that come first still come first");
  t.equal(wire("get"), "-ERR wrong number of arguments for 'get' command\r\n");
  t.equal(routeCheck(new StaticTopology(R_ID, redisLikeNodes(9, 9)), engine.table, session, ["flushall"]), null, "keyless writes are the engine's business (-READONLY)");
  t.ok((engine.stats.errors.get("MOVED") ?? 0) >= 7, "MOVED counts in errorstats");
});

t.test("EXEC after this node became a replica: MOVED, and the transaction is discarded", async (t) => {
  const topo = new StaticTopology(P_ID, redisLikeNodes(9, 9), 1);
  const { session, wire } = setup(topo);
  t.equal(wire("watch", "foo"), "+OK\r\n");
  t.equal(wire("multi"), "+OK\r\n");
  t.equal(wire("incr", "foo"), "+QUEUED\r\n", "queued on the primary");
  // A failover: the old replica now holds the lease.
  topo.update(
    redisLikeNodes(9, 9).map((n) => (n.id === P_ID ? { ...n, role: "replica", primaryId: R_ID } : { ...n, role: "primary", primaryId: null })),
    2,
  );
  t.equal(wire("exec"), "-MOVED 12182 127.0.0.1:19303\r\n");
  t.equal(session.multi, null);
  t.same(session.watched, [], "WATCHes dropped with the transaction");
  t.equal(wire("exec"), "-ERR EXEC without MULTI\r\n");
});

t.test("a primary never redirects, READONLY or not", async (t) => {
  const { wire } = setup(new StaticTopology(P_ID, redisLikeNodes(9, 9)));
  t.equal(wire("set", "foo", "1"), "+OK\r\n");
  t.equal(wire("get", "foo"), "$1\r\n1\r\n");
  t.equal(wire("mset", "a", "1", "b", "2"), "+OK\r\n", "keys in different slots are fine: one shard owns them all");
});

t.test("a replica of another primary (stale view) redirects even READONLY reads", async (t) => {
  const other = nodeIdFor("some/other");
  const nodes = redisLikeNodes(9, 9).map((n) => (n.id === R_ID ? { ...n, primaryId: other } : n));
  const { wire } = setup(new StaticTopology(R_ID, nodes));
  t.equal(wire("readonly"), "+OK\r\n");
  t.equal(wire("get", "foo"), "-MOVED 12182 127.0.0.1:19302\r\n");
});

t.test("nodeIdFor: 40 hex, deterministic, distinct per seed", async (t) => {
  t.match(nodeIdFor("shard-0/127.0.0.1:7000"), /^[0-9a-f]{40}$/);
  t.equal(nodeIdFor("a"), nodeIdFor("a"));
  t.not(nodeIdFor("a"), nodeIdFor("b"));
});
