// The timing rules of a server's lease, as pure functions of times and
// durations (no clock, no I/O), so the real server (cluster/shard-node.ts)
// and the shard simulation (log/sim/shard-server.ts) obey the same rules.
//
// Why these rules are safe is argued in log/state/lease.ts: a holder counts
// its lease from when it *sent* the request, minus a drift margin m; two
// holders never overlap when m >= 2rd/(1+r) + 1 ms (d: lease duration, r:
// clock rate error). maxDriftRate gives the largest r a margin allows.

/** The drift margin a holder subtracts from its lease: lease/10, at least 50 ms. */
export function driftMarginMs(leaseMs: number): number {
  return Math.max(50, Math.ceil(leaseMs / 10));
}

/** The local deadline of a lease granted or renewed by a request sent at `sentAtMs` (holder's clock). */
export function leaseDeadlineMs(sentAtMs: number, leaseMs: number, marginMs: number): number {
  return sentAtMs + leaseMs - marginMs;
}

/** After a successful renewal: a deadline only ever moves forward. */
export function renewedDeadlineMs(currentMs: number, sentAtMs: number, leaseMs: number, marginMs: number): number {
  return Math.max(currentMs, leaseDeadlineMs(sentAtMs, leaseMs, marginMs));
}

/** How often the primary renews: four times per lease. */
export function renewPeriodMs(leaseMs: number): number {
  return Math.max(10, Math.floor(leaseMs / 4));
}

/** Renewals out at once at most (one stuck on a dead log node must not starve the others). */
export const RENEWS_IN_FLIGHT_MAX = 3;

/** The largest clock rate error (fraction) under which `marginMs` keeps two holders apart. */
export function maxDriftRate(leaseMs: number, marginMs: number): number {
  return Math.max(0, (marginMs - 1) / (2 * leaseMs));
}

/** A replica that has not applied the whole log looks again this soon. */
export const CAMPAIGN_NOT_CAUGHT_UP_MS = 20;
/** The log said the candidate is behind its tip: catch up and ask again. */
export const CAMPAIGN_BEHIND_RETRY_MS = 10;
/** The log did not answer a tryTakeLease. */
export const CAMPAIGN_NO_ANSWER_RETRY_MS = 200;
/** Campaign retries are spread by up to this much, so replicas do not ask in lockstep. */
export const CAMPAIGN_JITTER_MS = 40;

/**
 * When to ask again after "lease live, remainingMs left" (remaining is on the
 * log leader's clock; `jitterMs` in [0, CAMPAIGN_JITTER_MS)). A node that just
 * (re)started lets the replicas that were already running take over first.
 */
export function campaignRetryMs(remainingMs: number, leaseMs: number, restarted: boolean, jitterMs: number): number {
  const backoffMs = restarted ? restartHoldBackMs(leaseMs) : 0;
  return Math.min(remainingMs, leaseMs) + backoffMs + 10 + jitterMs;
}

/** A restarted node waits this long once before its first campaign. */
export function restartHoldBackMs(leaseMs: number): number {
  return Math.floor(leaseMs / 2);
}

/** This node joined a shard that already has history, moments ago. */
export function isRestarted(appliedSeq: number, sinceStartMs: number, leaseMs: number): boolean {
  return appliedSeq > 0 && sinceStartMs < 3 * leaseMs;
}

/**
 * On a fresh shard (tip 0) the server ranked `rank` in the configuration waits
 * this much longer before its first campaign, so the first listed one wins.
 */
export function firstLeaseHeadStartMs(tipSeq: number, rank: number, leaseMs: number, sinceCaughtUpMs: number): number {
  return tipSeq === 0 ? rank * 3 * leaseMs - sinceCaughtUpMs : 0;
}
