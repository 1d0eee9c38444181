// End to end: two in-process servers forming one shard (a primary and a
// replica that redirects through the server's gate), driven by the cluster
// clients people use: `redis-cli -c` and ioredis's Cluster.
import t from "tap";
import { execFile } from "node:child_process";
import { Cluster } from "ioredis";
import { Engine } from "../engine/engine";
import { clusterCommands, clusterRedirect } from "./cluster-commands";
import { keyHashSlot } from "./slots";
import { Server, type DurableGate } from "./server";
import { nodeIdFor, StaticTopology, type ClusterNode } from "./topology";

/** This suite's port range (19000-19999 is ours); a taken port moves on to the next. */
const PORT_FIRST = 19420;
const PORT_LAST = 19499;

const P_ID = nodeIdFor("e2e/primary");
const R_ID = nodeIdFor("e2e/replica");

async function listenInRange(server: Server, from: number): Promise<void> {
  for (let port = from; port <= PORT_LAST; port++) {
    server.port = port;
    try {
      await server.listen();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    }
  }
  throw new Error(`no free port in ${from}-${PORT_LAST}`);
}

/** The gate a replica installs: redirect what it may not serve, hold nothing (no log here). */
function replicaGate(topology: StaticTopology, engine: Engine): DurableGate {
  return {
    admit: (conn, argv) => clusterRedirect(topology, engine, conn.session, argv),
    waitSeq: () => 0,
    holding: () => undefined,
  };
}

const quiet = (): void => undefined;
const primary = new Server({ port: 0, log: quiet });
const replica = new Server({ port: 0, log: quiet });

function nodes(): ClusterNode[] {
  return [
    { id: P_ID, host: "127.0.0.1", port: primary.port, role: "primary", primaryId: null, linkUp: true, replOffset: 10 },
    { id: R_ID, host: "127.0.0.1", port: replica.port, role: "replica", primaryId: P_ID, linkUp: true, replOffset: 10 },
  ];
}
const primaryTopo = new StaticTopology(P_ID, [], 1);
const replicaTopo = new StaticTopology(R_ID, [], 1);

t.before(async () => {
  primary.engine.register(clusterCommands(primaryTopo));
  replica.engine.register(clusterCommands(replicaTopo));
  replica.gate = replicaGate(replicaTopo, replica.engine);
  // What a server with a topology reports (redis-cli --cluster checks it).
  for (const s of [primary, replica]) s.engine.stats.addInfo("cluster", () => [["cluster_enabled", 1]]);
  await listenInRange(primary, PORT_FIRST);
  await listenInRange(replica, primary.port + 1);
  primaryTopo.update(nodes(), 1);
  replicaTopo.update(nodes(), 1);
});
t.teardown(async () => {
  await Promise.all([primary.close(), replica.close()]);
});

function cli(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 }, (e, stdout) => (e !== null ? reject(e) : resolve(stdout)));
  });
}

t.test("redis-cli -c follows the replica's MOVED to the primary", async (t) => {
  t.equal(await cli(replica.port, ["SET", "cli:k", "v1"]), `MOVED ${keyHashSlot("cli:k")} 127.0.0.1:${primary.port}\n\n`, "without -c the redirection is shown");
  t.equal(await cli(replica.port, ["-c", "SET", "cli:k", "v2"]), "OK\n");
  t.equal(await cli(primary.port, ["GET", "cli:k"]), "v2\n", "the write landed on the primary");
  t.equal(await cli(replica.port, ["-c", "GET", "cli:k"]), "v2\n", "a read is redirected too (no READONLY)");
  const slots = await cli(replica.port, ["CLUSTER", "SLOTS"]);
  t.equal(slots, `0\n16383\n127.0.0.1\n${primary.port}\n${P_ID}\n\n127.0.0.1\n${replica.port}\n${R_ID}\n\n`);
  t.match(await cli(replica.port, ["CLUSTER", "NODES"]), new RegExp(`^${P_ID} 127\\.0\\.0\\.1:${primary.port}@0 master - 0 \\d+ 1 connected 0-16383\\n${R_ID} 127\\.0\\.0\\.1:${replica.port}@0 myself,slave ${P_ID} 0 0 1 connected\\n`));
});

t.test("redis-cli --cluster check accepts the shard", async (t) => {
  const out = await cli(primary.port, ["--cluster", "check", `127.0.0.1:${primary.port}`]);
  t.match(out, /\[OK\] All 16384 slots covered\./);
  t.match(out, /1 slaves/);
});

t.test("ioredis Cluster discovers the primary from the replica and reads and writes", async (t) => {
  const cluster = new Cluster([{ host: "127.0.0.1", port: replica.port }], { enableOfflineQueue: true, clusterRetryStrategy: () => null, redisOptions: { maxRetriesPerRequest: 1 } });
  t.teardown(() => cluster.disconnect());
  t.equal(await cluster.set("io:a", "1"), "OK");
  t.equal(await cluster.set("io:{b}", "2"), "OK");
  t.equal(await cluster.get("io:a"), "1");
  t.equal(await cluster.incr("io:{b}"), 3);
  t.same(await cluster.mget("io:a", "io:{b}"), ["1", "3"], "keys in two slots: one shard owns both");
  t.equal(primary.engine.db(0).data.get("io:a"), "1", "stored on the primary");
  t.equal(replica.engine.db(0).data.has("io:a"), false, "nothing written on the replica");
  const slots = cluster.slots[0] ?? [];
  t.same(slots, [`127.0.0.1:${primary.port}`, `127.0.0.1:${replica.port}`], "slot 0: the primary, then the replica");
});

t.test("ioredis Cluster with scaleReads 'slave' reads from the replica after READONLY", async (t) => {
  primary.engine.db(0).data.set("io:where", "primary");
  replica.engine.db(0).data.set("io:where", "replica");
  const cluster = new Cluster([{ host: "127.0.0.1", port: primary.port }], { scaleReads: "slave", clusterRetryStrategy: () => null, redisOptions: { maxRetriesPerRequest: 1 } });
  t.teardown(() => cluster.disconnect());
  t.equal(await cluster.get("io:where"), "replica", "the read was served by the replica");
  t.equal(await cluster.set("io:where", "new"), "OK", "the write went to the primary");
  t.equal(primary.engine.db(0).data.get("io:where"), "new");
});

t.test("after a failover ioredis follows MOVED to the new primary", async (t) => {
  const cluster = new Cluster([{ host: "127.0.0.1", port: primary.port }], { clusterRetryStrategy: () => null, redisOptions: { maxRetriesPerRequest: 1 } });
  t.teardown(() => cluster.disconnect());
  t.equal(await cluster.set("fo:k", "before"), "OK");
  // The replica takes over; the old primary becomes its replica and redirects.
  const swapped = nodes().map((n): ClusterNode => (n.id === P_ID ? { ...n, role: "replica", primaryId: R_ID } : { ...n, role: "primary", primaryId: null }));
  const after = [swapped[1], swapped[0]].filter((n): n is ClusterNode => n !== undefined);
  primaryTopo.update(after, 2);
  replicaTopo.update(after, 2);
  primary.gate = replicaGate(primaryTopo, primary.engine);
  replica.gate = null;
  t.equal(await cluster.set("fo:k", "after"), "OK");
  t.equal(replica.engine.db(0).data.get("fo:k"), "after", "written on the new primary");
  t.equal(await cli(primary.port, ["CLUSTER", "INFO"]).then((s) => /cluster_current_epoch:2/.test(s)), true);
});
