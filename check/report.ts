// What `mnemo check` found: linearizability per key, acknowledged writes lost
// or applied twice (from the final reads of every list and counter), the
// longest stretch without an acknowledged write, and per primary fault the
// time from the fault to the first write acknowledged after it.
import type { FaultEvent } from "./faults";
import { counterModel, listModel, registerModel } from "./models";
import { reduceList, reduceRegister } from "./reduce";
import { FINAL_CLIENT, type History, type WriteAttempt } from "./workload";
import { type CheckOptions as WglOptions, checkHistory, type CheckResult } from "./wgl";

export interface Window {
  readonly ms: number;
  /** Offsets from the start of the workload. */
  readonly fromMs: number;
  readonly toMs: number;
}

export interface Failover {
  readonly fault: string;
  readonly atMs: number;
  /** Fault to the first acknowledged write sent after it; null if none came. */
  readonly recoveryMs: number | null;
  /** The server that acknowledged it. */
  readonly by: string | null;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly seed: number;
  readonly durationMs: number;
  readonly ops: { readonly total: number; readonly acknowledged: number; readonly unknown: number; readonly droppedReads: number; readonly refused: number };
  readonly writes: { readonly attempted: number; readonly acknowledged: number };
  readonly lostWrites: number;
  readonly duplicatedWrites: number;
  readonly nonLinearizableKeys: readonly string[];
  /** Keys whose check ran out of budget: a failure too. */
  readonly uncheckedKeys: readonly string[];
  readonly unreadKeys: readonly string[];
  readonly longestWriteUnavailability: Window | null;
  readonly failovers: readonly Failover[];
  readonly faults: readonly FaultEvent[];
  readonly problems: readonly string[];
  readonly details: readonly string[];
  /** Where the recorded history was saved, if it was. */
  readonly historyFile: string | null;
}

export interface ReportInput {
  readonly seed: number;
  readonly history: History;
  readonly faults: readonly FaultEvent[];
  readonly unreadKeys: readonly string[];
  readonly startedAt: number;
  readonly endedAt: number;
  /** Problems found outside the history (the cluster would not start, ...). */
  readonly problems: readonly string[];
  readonly wgl?: WglOptions;
}

interface Losses {
  lost: number;
  duplicated: number;
  details: string[];
}

/** Acknowledged appends missing from (or twice in) the final list; counters below the acknowledged count or above every attempt. */
export function losses(h: History): Losses {
  const out: Losses = { lost: 0, duplicated: 0, details: [] };
  const finalList = new Map<string, readonly string[]>();
  for (const op of h.list) if (op.client === FINAL_CLIENT && op.outcome.known && typeof op.outcome.output !== "number") finalList.set(op.key, op.outcome.output);
  for (const [key, items] of finalList) {
    const seen = new Map<string, number>();
    for (const v of items) seen.set(v, (seen.get(v) ?? 0) + 1);
    for (const [v, n] of seen) if (n > 1) (out.duplicated += n - 1), out.details.push(`${key}: ${JSON.stringify(v)} appears ${n} times`);
    for (const op of h.list) {
      if (op.key !== key || op.input.op !== "rpush" || !op.outcome.known || seen.has(op.input.value)) continue;
      out.lost++;
      out.details.push(`${key}: acknowledged RPUSH ${JSON.stringify(op.input.value)} is missing`);
    }
  }
  const finalCounter = new Map<string, number>();
  for (const op of h.counter) if (op.client === FINAL_CLIENT && op.outcome.known) finalCounter.set(op.key, op.outcome.output ?? 0);
  for (const [key, value] of finalCounter) {
    const incrs = h.counter.filter((o) => o.key === key && o.input.op === "incr");
    const acked = incrs.filter((o) => o.outcome.known).length;
    if (value < acked) (out.lost += acked - value), out.details.push(`${key}: ${acked} acknowledged INCRs, final value ${value}`);
    if (value > incrs.length) (out.duplicated += value - incrs.length), out.details.push(`${key}: final value ${value} > ${incrs.length} INCRs that may have executed`);
  }
  return out;
}

export function longestUnavailability(h: History, startedAt: number, endedAt: number): Window | null {
  const acks = h.writes.filter((w) => w.acked).map((w) => w.returnAt).sort((a, b) => a - b);
  let best: Window | null = null;
  let prev = startedAt;
  for (const t of [...acks, endedAt]) {
    const ms = t - prev;
    if (best === null || ms > best.ms) best = { ms: Math.round(ms), fromMs: Math.round(prev - startedAt), toMs: Math.round(t - startedAt) };
    prev = Math.max(prev, t);
  }
  return best;
}

export function failovers(h: History, faults: readonly FaultEvent[]): Failover[] {
  return faults
    .filter((f) => f.skipped === null && (f.kind === "kill-primary" || f.kind === "stop-primary"))
    .map((f) => {
      const after = h.writes.filter((w) => w.acked && w.callAt >= f.atMs);
      const first = after.reduce<WriteAttempt | null>((m, w) => (m === null || w.returnAt < m.returnAt ? w : m), null);
      return { fault: `${f.kind} ${f.target ?? ""}`.trim(), atMs: f.atMs, recoveryMs: first === null ? null : Math.round(first.returnAt - f.atMs), by: first?.endpoint ?? null };
    });
}

function verdicts<I, O>(r: CheckResult<I, O>, bad: string[], unchecked: string[], details: string[]): void {
  for (const p of r.partitions) {
    if (p.kind === "illegal") (bad.push(p.key), details.push(p.explanation.text));
    if (p.kind === "unknown") (unchecked.push(p.key), details.push(`key ${p.key}: ${p.reason}`));
  }
}

export function buildReport(input: ReportInput): CheckReport {
  const h = input.history;
  const wgl = input.wgl ?? { stepsMax: 5_000_000, timeMsMax: 60_000 };
  const bad: string[] = [];
  const unchecked: string[] = [];
  const details: string[] = [];
  verdicts(checkHistory(registerModel, reduceRegister(h.register), wgl), bad, unchecked, details);
  verdicts(checkHistory(listModel(), reduceList(h.list, FINAL_CLIENT), wgl), bad, unchecked, details);
  verdicts(checkHistory(counterModel, h.counter, wgl), bad, unchecked, details);
  const l = losses(h);
  details.push(...l.details);
  const all = [...h.register, ...h.list, ...h.counter];
  const acknowledged = all.filter((o) => o.outcome.known).length;
  const ackedWrites = h.writes.filter((w) => w.acked).length;
  const problems = [...input.problems];
  if (input.unreadKeys.length > 0) problems.push(`${input.unreadKeys.length} keys could not be read back after the faults`);
  const ok = problems.length === 0 && bad.length === 0 && unchecked.length === 0 && l.lost === 0 && l.duplicated === 0;
  return {
    ok,
    seed: input.seed,
    durationMs: Math.round(input.endedAt - input.startedAt),
    ops: { total: all.length, acknowledged, unknown: all.length - acknowledged, droppedReads: h.droppedReads, refused: h.refused },
    writes: { attempted: h.writes.length, acknowledged: ackedWrites },
    lostWrites: l.lost,
    duplicatedWrites: l.duplicated,
    nonLinearizableKeys: bad,
    uncheckedKeys: unchecked,
    unreadKeys: input.unreadKeys,
    longestWriteUnavailability: longestUnavailability(h, input.startedAt, input.endedAt),
    failovers: failovers(h, input.faults).map((f) => ({ ...f, atMs: Math.round(f.atMs - input.startedAt) })),
    faults: input.faults.map((f) => ({ ...f, atMs: Math.round(f.atMs - input.startedAt), resumedAtMs: f.resumedAtMs === null ? null : Math.round(f.resumedAtMs - input.startedAt) })),
    problems,
    details,
    historyFile: null,
  };
}

export function formatReport(r: CheckReport): string {
  const w = r.longestWriteUnavailability;
  const lines = [
    `mnemo check: ${r.ok ? "OK" : "VIOLATIONS FOUND"} (seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s)`,
    `  operations: ${r.ops.total} recorded, ${r.ops.acknowledged} acknowledged, ${r.ops.unknown} with unknown outcome; left out: ${r.ops.refused} refused (not executed), ${r.ops.droppedReads} unanswered reads`,
    `  writes: ${r.writes.acknowledged} of ${r.writes.attempted} acknowledged`,
    `  lost acknowledged writes: ${r.lostWrites}`,
    `  duplicated writes: ${r.duplicatedWrites}`,
    `  non-linearizable keys: ${r.nonLinearizableKeys.length}${r.nonLinearizableKeys.length > 0 ? ` (${r.nonLinearizableKeys.join(", ")})` : ""}`,
  ];
  if (r.uncheckedKeys.length > 0) lines.push(`  keys the checker gave up on (counted as failures): ${r.uncheckedKeys.join(", ")}`);
  lines.push(`  longest write unavailability: ${w === null ? "-" : `${w.ms} ms (from ${w.fromMs} ms to ${w.toMs} ms)`}`);
  lines.push(`  faults: ${r.faults.length}${r.faults.length > 0 ? "" : " (none injected)"}`);
  for (const f of r.faults) lines.push(`    ${f.atMs} ms ${f.kind} ${f.skipped === null ? (f.target ?? "") : `skipped: ${f.skipped}`}${f.resumedAtMs === null ? "" : `, continued at ${f.resumedAtMs} ms`}`);
  for (const f of r.failovers) lines.push(`  failover after ${f.fault}: ${f.recoveryMs === null ? "no write acknowledged afterwards" : `${f.recoveryMs} ms to the first acknowledged write (by ${f.by ?? "?"})`}`);
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  if (r.historyFile !== null) lines.push(`  history saved to ${r.historyFile}`);
  if (r.details.length > 0) lines.push("  details:", ...r.details.slice(0, 20).map((d) => d.split("\n").map((l) => `    ${l}`).join("\n")));
  return lines.join("\n");
}
