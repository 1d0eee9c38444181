// `mnemo sim --seed N`: one deterministic simulation run of the log's Raft
// group (log/sim). `mnemo sim --shard --seed N`: one run of a whole durable
// shard (servers, snapshotter, clients) on that group (log/sim/shard-sim.ts).
// The CLI exits 0 iff every checker held.
import { runSim as runSimulation, type SimOptions, type SimResult } from "../log/sim/sim";
import { runShardSim, type ShardSimOptions, type ShardSimResult } from "../cluster/sim/shard-sim";

export type { SimOptions, SimResult, SimStats } from "../log/sim/sim";

export function runSim(seed: number, opts: SimOptions = {}): SimResult {
  return runSimulation(seed, opts);
}

/** A human-readable report of one run; the replay command comes first on a failure. */
export function formatSimResult(r: SimResult): string {
  const s = r.stats;
  const lines = [
    `seed ${r.seed}: ${r.ok ? "ok" : "FAILED"}  digest ${r.digest}`,
    `  plan: ${r.plan}`,
    `  ${s.virtualMs} virtual ms, ${s.events} events, ${s.checks} checks; max term ${s.maxTerm}, ${s.leadersElected} leaderships`,
    `  proposals ${s.proposals}: ${s.acked} acknowledged, ${s.failedProposals} failed, ${s.unknownOutcomes} unknown; committed ${s.committed}`,
    `  faults: ${s.crashes} crashes (${s.buggified} at fault points, ${s.lostFrames} unsynced frames lost, ${s.tornWrites} torn), ${s.partitions} partitions, ${s.pauses} pauses`,
    `  messages: ${s.messagesSent} sent, ${s.messagesDropped} dropped, ${s.messagesCut} cut, ${s.messagesDuplicated} duplicated; ` +
      `snapshots ${s.snapshotsSent} sent, ${s.snapshotsInstalled} installed; ${s.compactions} compactions`,
  ];
  if (!r.ok) lines.unshift(`FAILED: ${r.failure ?? ""}`, `replay: ${r.replay}`);
  return lines.join("\n");
}

export function shardSim(seed: number, opts: ShardSimOptions = {}): ShardSimResult {
  return runShardSim(seed, opts);
}

/** The report of one shard run: the log's report, the shard's settings and counts. */
export function formatShardSimResult(r: ShardSimResult): string {
  const s = r.shard;
  return [
    formatSimResult(r.sim),
    `  shard: ${r.settings}`,
    `  servers: ${s.leases} leases taken, ${s.stepDowns} step-downs, ${s.restores} restores from a snapshot (${s.resyncs} after a trim); ` +
      `${s.kills} kills, ${s.pauses} pauses, ${s.partitions} server/log partitions`,
    `  log: tip ${s.tip}, trimmed to ${s.trimPoint} (${s.trims} trims); ${s.snapshots} snapshots published`,
    `  clients: ${s.opsSent} commands sent, ${s.opsAcked} answered, ${s.opsRefused} refused, ${s.opsUnknown} without an answer; ` +
      `${s.readsChecked} reads checked, ${s.servedReads} reads served by a primary; ${s.stepChecks} one-primary checks`,
  ].join("\n");
}

/** `mnemo sim [--shard] --seed N [--verbose]`: prints the report, returns the exit status. */
export function simMain(args: readonly string[], write: (s: string) => void = (s) => process.stdout.write(s)): number {
  let seed: number | null = null;
  let verbose = false;
  let shard = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--seed") seed = Number(args[++i]);
    else if (a?.startsWith("--seed=")) seed = Number(a.slice(7));
    else if (a === "--verbose") verbose = true;
    else if (a === "--shard") shard = true;
    else throw new Error(`unexpected argument '${a ?? ""}'`);
  }
  if (seed === null || !Number.isSafeInteger(seed) || seed < 0) throw new Error("usage: mnemo sim [--shard] --seed N [--verbose]");
  const opts = verbose ? { trace: (line: string) => write(`  ${line}\n`) } : {};
  if (shard) {
    const r = shardSim(seed, opts);
    write(formatShardSimResult(r) + "\n");
    return r.sim.ok ? 0 : 1;
  }
  const r = runSim(seed, opts);
  write(formatSimResult(r) + "\n");
  return r.ok ? 0 : 1;
}
