// The log's Raft group under deterministic simulation (log/sim): a list of
// regression seeds, then fresh seeds. Every run has faults drawn from its
// seed, checkers on every step, and a liveness phase after healing. A failure
// prints the command that replays it; add the seed to REGRESSION_SEEDS once
// fixed. MNEMO_SIM_SEEDS sets the number of fresh seeds, MNEMO_SIM_SEED_BASE
// the first one (random by default, printed either way).
import t from "tap";
import { randomInt } from "node:crypto";
import { formatSimResult, runSim, type SimResult } from "../bin/sim";

/** Seeds that once failed, or that cover a rare path; each must keep passing. */
const REGRESSION_SEEDS: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42, 1337,
  // A long run of Readys without a write overflowed the stack of the simulated shell.
  5029, 5444,
  // A candidate with a stale log and a fast clock held off every election (timer reset on a higher term).
  388327489418,
];
/** About 60 s on the 2-core reference machine (measured 26 seeds/s on one core). */
const FRESH_DEFAULT = 1500;
const FRESH = Number(process.env.MNEMO_SIM_SEEDS ?? FRESH_DEFAULT);
const BASE = process.env.MNEMO_SIM_SEED_BASE !== undefined ? Number(process.env.MNEMO_SIM_SEED_BASE) : randomInt(1, 2 ** 40);

/** The report of a failed run, naming the command that replays it. */
function failure(r: SimResult): string | null {
  return r.ok ? null : `seed ${r.seed} failed; replay with: ${r.replay}\n${formatSimResult(r)}`;
}

t.test("regression seeds", async (t) => {
  for (const seed of REGRESSION_SEEDS) {
    const f = failure(runSim(seed));
    if (f !== null) t.fail(f);
  }
  t.pass(`${REGRESSION_SEEDS.length} regression seeds ran`);
});

t.test("same seed, same run, byte for byte", async (t) => {
  for (const seed of [7, 99]) {
    const lines: string[][] = [[], []];
    const a = runSim(seed, { trace: (l) => lines[0]?.push(l) });
    const b = runSim(seed, { trace: (l) => lines[1]?.push(l) });
    t.equal(a.digest, b.digest, `seed ${seed}: same digest`);
    t.same(a.stats, b.stats, `seed ${seed}: same statistics`);
    t.same(lines[0], lines[1], `seed ${seed}: same trace`);
    t.not(runSim(seed + 1).digest, a.digest, "another seed, another run");
  }
});

t.test(`${FRESH} fresh seeds from ${BASE}`, async (t) => {
  const started = process.hrtime.bigint();
  let failed = 0;
  const totals = { crashes: 0, buggified: 0, tornWrites: 0, partitions: 0, snapshotsInstalled: 0, leadersElected: 0, acked: 0 };
  for (let i = 0; i < FRESH; i++) {
    const r = runSim(BASE + i);
    const f = failure(r);
    if (f !== null) {
      failed++;
      t.fail(f);
    }
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.comment(`${FRESH} seeds in ${seconds.toFixed(1)} s: ${(FRESH / seconds).toFixed(1)} seeds/s; ${JSON.stringify(totals)}`);
  t.equal(failed, 0, `all ${FRESH} fresh seeds held (base ${BASE})`);
});
