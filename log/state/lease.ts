// Lease timing: when a shard's lease is live, decided without reading a clock.
//
// The state machine must decide alike on every replica, so it never reads a
// clock. Instead the log leader stamps every entry it proposes with its term
// and its *monotonic* clock (`proposedAtMs`, whole ms) at the moment of
// proposing, and the stamp travels inside the entry. Rules:
//
//   1. A grant or renewal at entry g sets lease.grantedAtMs = g.proposedAtMs and
//      lease.term = g.term.
//   2. The lease is live at entry e iff e.term == lease.term and
//      e.proposedAtMs < lease.grantedAtMs + lease.durationMs. Stamps are only
//      ever compared within one term, i.e. within one leader's clock.
//   3. At the first stamped entry f of a new term, every lease is carried over:
//      grantedAtMs = f.proposedAtMs, term = f.term ("a new log leader assumes
//      every lease was just renewed"). This can only extend a lease. The one
//      exception: a lease that an entry of its own term already saw expired
//      (the old term's last stamp >= grantedAtMs + durationMs) is dropped, as
//      it could never have become live again in that term either.
//
// Why two holders never both believe they hold the lease. Assume every clock
// is monotonic with a rate within [1-r, 1+r] of real time (offsets between
// clocks are arbitrary; they are never compared). Holder H sends its
// tryTakeLease or renewLease at real time S (its clock: s) and, once told
// "granted"/"ok", serves until its clock reads s + d - m (d = durationMs, m the
// drift margin), i.e. until real time at most S + (d - m)/(1-r). A copy of the
// request is stamped only after it was sent, so the stamp's real time G >= S;
// a retransmission must keep the *first* send time for this to hold.
// Another holder H' is granted only at an entry e where H's lease is not live:
//   - same term: e.proposedAtMs >= grantedAtMs + d on one leader's clock, so at
//     least d/(1+r) of real time passed between G and e's proposal;
//   - later term: rule 3 re-stamped the lease at f, and f was proposed after
//     the new leader won its election, while every older-term entry before f
//     in the committed log was already in that leader's log when it won (leader
//     completeness), hence proposed earlier: G <= F, and the same-term case
//     applies from F. A dropped lease was seen expired by an entry of its own
//     term, which is the same-term case again.
// H' starts serving only after e commits, so after real time S + d/(1+r),
// while H stopped by S + (d - m)/(1-r). These never overlap when
// m >= 2rd/(1+r); whole-ms stamps cost at most 1 ms more, so m = 2rd + 1 ms
// suffices (d = 2000 ms, r = 1e-3: m = 5 ms). Renewals only move grantedAtMs
// forward, and each new window of H starts from its own send time, so the
// argument holds for every renewal too. Writes need no clock at all: an
// append must name the live lease's id, so once H' is granted every later
// append of H fails (fencing), and H's reads end with its window.
import { assert, AssertionError } from "./assert";
import type { LeaseView, Stamp } from "./types";

export interface Lease {
  readonly holder: string;
  /** The Raft index of the grant entry: unique within the log group. */
  readonly leaseId: number;
  /** 1 for a shard's first grant, +1 for each later grant. */
  readonly epoch: number;
  readonly durationMs: number;
  /** Stamp of the grant or last renewal (or carry-over), on the clock of `term`'s leader. */
  readonly grantedAtMs: number;
  readonly term: number;
}

export function leaseLive(lease: Lease, at: Stamp): boolean {
  if (!(at.term >= lease.term)) throw new AssertionError(`entry of term ${at.term} after a lease stamped in term ${lease.term}`);
  return at.term === lease.term && at.proposedAtMs < lease.grantedAtMs + lease.durationMs;
}

/** Time left on a live lease at `at`, on the current leader's clock (at most its duration). */
export function leaseRemainingMs(lease: Lease, at: Stamp): number {
  assert(leaseLive(lease, at), "remaining time of a lease that is not live");
  return Math.min(lease.durationMs, lease.grantedAtMs + lease.durationMs - at.proposedAtMs);
}

export function leaseView(lease: Lease): LeaseView {
  return { holder: lease.holder, leaseId: lease.leaseId, epoch: lease.epoch };
}

/** Rule 1, for a renewal: the stamp only ever moves forward. */
export function renewed(lease: Lease, at: Stamp): Lease {
  assert(leaseLive(lease, at), "renewing a lease that is not live");
  return { ...lease, grantedAtMs: Math.max(lease.grantedAtMs, at.proposedAtMs) };
}

/**
 * Rule 3: the lease as the first stamped entry `first` of a new term sees it.
 * `oldTermLastMs` is the stamp of the last stamped entry of the lease's term.
 */
export function carriedOver(lease: Lease, oldTermLastMs: number, first: Stamp): Lease | null {
  if (!(first.term > lease.term)) throw new AssertionError(`carry-over from term ${lease.term} into term ${first.term}`);
  if (oldTermLastMs >= lease.grantedAtMs + lease.durationMs) return null;
  return { ...lease, grantedAtMs: first.proposedAtMs, term: first.term };
}
