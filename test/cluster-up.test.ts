// The durable cluster as users run it: `mnemo up` with three log nodes, a
// primary and a replica as real processes. Acknowledged writes survive kill -9
// of the primary (the replica takes over through the log), kill -9 of the log
// leader, and a restart of the whole cluster from its data dir.
import t from "tap";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MNEMO_JS, ROOT } from "./support/server";
import { startUp as startCluster, stopUp } from "./support/cluster";
import * as net from "node:net";
import { encodeRequest, parseReply, respCall, RespError, type RespValue } from "../resp/call";

const PORT = 21379;
const LOG_PORT = 21001;
const LEASE_MS = 2000;
const FAILOVER_BOUND_MS = 20_000;

t.setTimeout(300_000);

const startUp = (dataDir: string): ReturnType<typeof startCluster> => startCluster({ dataDir, port: PORT, logPort: LOG_PORT, leaseMs: LEASE_MS });

interface StatusProcess {
  name: string;
  kind: string;
  role: string;
  pid: number | null;
  port: number;
  shard: number | null;
}

function status(dataDir: string): { processes: StatusProcess[] } {
  const r = spawnSync(process.execPath, [MNEMO_JS, "status", "--data-dir", dataDir, "--json"], { cwd: ROOT, encoding: "utf8", timeout: 10_000 });
  return JSON.parse(r.stdout) as { processes: StatusProcess[] };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A connection opened now and used later (a client of a primary that gets paused). */
function openConn(port: number): Promise<{ send(argv: string[]): Promise<RespValue | "closed">; close(): void }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    let buf = Buffer.alloc(0);
    let waiting: ((v: RespValue | "closed") => void) | null = null;
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parseReply(buf);
      if (r !== null && waiting !== null) {
        buf = buf.subarray(r.end);
        const w = waiting;
        waiting = null;
        w(r.value);
      }
    });
    const closed = (): void => {
      const w = waiting;
      waiting = null;
      w?.("closed");
    };
    sock.on("close", closed);
    sock.on("error", closed);
    sock.on("connect", () =>
      resolve({
        send: (argv) =>
          new Promise((res) => {
            waiting = res;
            if (sock.destroyed) return closed();
            sock.write(encodeRequest(argv));
            setTimeout(() => {
              if (waiting === res) closed();
            }, 10_000);
          }),
        close: () => sock.destroy(),
      }),
    );
    sock.on("error", reject);
  });
}

async function call(port: number, argv: string[], timeoutMs = 3000): Promise<RespValue> {
  return respCall("127.0.0.1", port, argv, timeoutMs);
}

/** Sends argv to each server port until one acknowledges it; returns the reply and the port. */
async function untilAccepted(argv: string[], boundMs: number): Promise<{ reply: RespValue; port: number; tookMs: number }> {
  const start = Date.now();
  let last = "";
  while (Date.now() - start < boundMs) {
    for (const port of [PORT, PORT + 1]) {
      try {
        const reply = await call(port, argv);
        if (!(reply instanceof RespError)) return { reply, port, tookMs: Date.now() - start };
        last = reply.message;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    await sleep(20);
  }
  throw new Error(`${argv.join(" ")} not accepted within ${boundMs} ms (last: ${last})`);
}

async function primaryPort(): Promise<number> {
  return (await untilAccepted(["SET", "probe", "1"], FAILOVER_BOUND_MS)).port;
}

t.test("mnemo up: failover and restarts lose no acknowledged write", { timeout: 300_000 }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "mnemo-up-"));
  let up = await startUp(dataDir);
  t.teardown(async () => {
    await stopUp(up);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const s = status(dataDir);
  t.equal(s.processes.filter((p) => p.kind === "log").length, 3, "three log nodes");
  t.equal(s.processes.filter((p) => p.kind === "log" && p.role === "leader").length, 1, "one log leader");
  const servers = s.processes.filter((p) => p.kind === "server");
  t.same(servers.map((p) => p.role).sort(), ["primary", "replica"], "one primary, one replica");
  for (const p of s.processes) t.ok(typeof p.pid === "number" && p.pid > 0 && p.port > 0, `${p.name} has a pid and a port`);

  const acked = new Map<string, string>();
  const write = async (n: number, tag: string): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const k = `${tag}:${i}`;
      const r = await untilAccepted(["SET", k, `v-${k}`], FAILOVER_BOUND_MS);
      t.equal(r.reply, "OK");
      acked.set(k, `v-${k}`);
    }
  };
  // Reads go to whichever server is primary now (a loaded machine may fail over mid-test).
  const read = async (argv: string[], timeoutMs = 3000): Promise<RespValue> => {
    const start = Date.now();
    for (;;) {
      const port = await primaryPort();
      try {
        const r = await call(port, argv, timeoutMs);
        if (!(r instanceof RespError)) return r;
        if (Date.now() - start > FAILOVER_BOUND_MS) return r;
      } catch (e) {
        if (Date.now() - start > FAILOVER_BOUND_MS) throw e;
      }
    }
  };
  const verify = async (what: string): Promise<void> => {
    let missing = 0;
    for (const [k, v] of acked) if ((await read(["GET", k])) !== v) missing++;
    t.equal(missing, 0, `${what}: every one of ${acked.size} acknowledged writes is there`);
  };

  await write(50, "a");
  const primary = servers.find((p) => p.role === "primary") as StatusProcess;
  const replica = servers.find((p) => p.role === "replica") as StatusProcess;
  const moved = await call(replica.port, ["SET", "x", "1"]);
  t.match(moved instanceof RespError ? moved.message : "", /^MOVED \d+ 127\.0\.0\.1:\d+$/, "a replica redirects writes");

  process.kill(primary.pid as number, "SIGKILL");
  const after = await untilAccepted(["SET", "after-kill", "1"], FAILOVER_BOUND_MS);
  t.comment(`failover after kill -9 of the primary: ${after.tookMs} ms`);
  acked.set("after-kill", "1");
  await verify("after kill -9 of the primary");

  // WAIT: the replica acknowledges what it applied; READONLY reads on it see the write.
  t.equal((await untilAccepted(["SET", "waited", "yes"], FAILOVER_BOUND_MS)).reply, "OK");
  acked.set("waited", "yes");
  t.equal(await read(["WAIT", "1", "5000"], 10_000), 1, "WAIT 1 counts the replica once it applied the write");

  // SIGSTOP the primary past its lease: a replica takes over, and the paused
  // primary, once resumed, serves not one read or write to a client it had.
  const paused = status(dataDir).processes.find((p) => p.kind === "server" && p.role === "primary") as StatusProcess;
  const oldClient = await openConn(paused.port);
  t.equal(await oldClient.send(["GET", "waited"]), "yes");
  process.kill(paused.pid as number, "SIGSTOP");
  let resumed = false;
  const resume = (): void => {
    if (!resumed) process.kill(paused.pid as number, "SIGCONT");
    resumed = true;
  };
  t.teardown(resume);
  const start = Date.now();
  let newPort = 0;
  while (Date.now() - start < FAILOVER_BOUND_MS && newPort === 0) {
    for (const port of [PORT, PORT + 1]) {
      if (port === paused.port) continue;
      const r = await call(port, ["SET", "waited", "changed"]).catch(() => null);
      if (r === "OK") newPort = port;
    }
    await sleep(20);
  }
  t.ok(newPort !== 0, "a replica took over while the primary was paused");
  acked.set("waited", "changed");
  resume();
  const staleRead = await oldClient.send(["GET", "waited"]);
  t.not(staleRead, "yes", "the resumed old primary does not serve its stale value");
  t.ok(staleRead === "closed" || staleRead instanceof RespError || staleRead === "changed", `the resumed old primary refuses or redirects (${String(staleRead instanceof RespError ? staleRead.message : staleRead)})`);
  const lateWrite = await oldClient.send(["SET", "late", "1"]);
  t.ok(lateWrite !== "OK", "the resumed old primary acknowledges no write");
  oldClient.close();

  const leader = status(dataDir).processes.find((p) => p.kind === "log" && p.role === "leader");
  t.ok(leader !== undefined, "a log leader");
  process.kill(leader?.pid as number, "SIGKILL");
  await write(30, "b");
  await verify("after kill -9 of the log leader");

  // 100k keys through the durable path, then the replica's and the restarted
  // cluster's datasets must be digest-identical to the primary's.
  const bulkPort = await primaryPort();
  const bench = spawnSync("redis-benchmark", ["-p", String(bulkPort), "-t", "set", "-n", "100000", "-c", "20", "-P", "16", "-r", "1000000000", "-q"], { encoding: "utf8", timeout: 120_000 });
  t.equal(bench.status, 0, `redis-benchmark loaded 100k SETs (${bench.stdout.trim().slice(-120)})`);
  t.equal(await read(["GET", "probe"]), "1");
  const keys = Number(await read(["DBSIZE"], 60_000));
  t.ok(keys > 90_000, `${keys} keys`);
  const digest = await read(["DEBUG", "DIGEST"], 60_000);
  t.match(String(digest), /^[0-9a-f]{40}$/);
  let replicaDigest: RespValue = null;
  for (let i = 0; i < 200 && replicaDigest !== digest; i++) {
    const replicaPort = (await primaryPort()) === PORT ? PORT + 1 : PORT;
    replicaDigest = await call(replicaPort, ["DEBUG", "DIGEST"], 60_000).catch(() => null);
    if (replicaDigest !== digest) await sleep(100);
  }
  t.equal(replicaDigest, digest, "the replica's dataset is digest-identical to the primary's");
  const replicaInfo = await call((await primaryPort()) === PORT ? PORT + 1 : PORT, ["INFO", "replication"]);
  const verified = Number(/mnemo_checksums_verified:(\d+)/.exec(String(replicaInfo))?.[1] ?? "0");
  t.ok(verified > 0, `the replica checked ${verified} of the primary's running-checksum records`);

  await stopUp(up);
  up = await startUp(dataDir);
  await verify("after restarting the whole cluster");
  t.equal(await read(["DEBUG", "DIGEST"], 60_000), digest, "the restarted cluster's dataset is digest-identical (probe key rewritten with its same value)");
});
