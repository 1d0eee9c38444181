// The log service's API as a sequential model, for one shard (histories are
// partitioned by shard). Sequence numbers, conflicts, fencing and epochs are
// exact; lease *timing* is abstracted away: a lease may expire at any moment,
// but once any operation has seen it expired it stays expired (the state
// machine drops a lease that an entry of its own term saw expired, and only
// ever extends live ones), and an operation that sees it live (an accepted
// append, a renewal, a "lease-live" conflict naming it) pins it as live then.
//
// A lease id is the Raft index of its grant: unique, increasing with each
// grant. A grant whose reply was lost leaves a lease whose id is not known yet
// (only that it is larger than every id before it); the first operation that
// names the live lease binds it.
//
// Reads: the log serves them from whichever node is asked, from its applied
// state, so a read may be stale. With `staleReads` the model accepts any
// committed prefix (a tip at most the current one, records exactly those at
// their seqs, never a record that is not there); without it a read must see
// the current tip (linearizable reads).
import type { AppendResult, LeaseView, RenewResult, TakeLeaseResult, TrimResult } from "../log/state/types";
import { assertNever } from "./assert";
import { ILLEGAL, type Model } from "./wgl";

export type LogInput =
  | { readonly op: "append"; readonly records: readonly string[]; readonly expectedSeq: number; readonly leaseId: number }
  | { readonly op: "tryTakeLease"; readonly nodeId: string; readonly expectedSeq: number }
  | { readonly op: "renewLease"; readonly leaseId: number }
  | { readonly op: "trim"; readonly uptoSeq: number }
  | { readonly op: "read"; readonly fromSeq: number; readonly countMax: number };

export type LogReadOutput =
  | { readonly kind: "records"; readonly firstSeq: number; readonly records: readonly string[]; readonly tip: number }
  | { readonly kind: "trimmed"; readonly trimPoint: number; readonly tip: number };

export type LogOutput =
  | { readonly op: "append"; readonly result: AppendResult }
  | { readonly op: "tryTakeLease"; readonly result: TakeLeaseResult }
  | { readonly op: "renewLease"; readonly result: RenewResult }
  | { readonly op: "trim"; readonly result: TrimResult }
  | { readonly op: "read"; readonly result: LogReadOutput };

export interface LogModelOptions {
  /** Accept reads of a stale (but committed) prefix (default true: that is what the log promises). */
  readonly staleReads?: boolean;
}

/** The shard's records as a chain of appends, interned: equal logs are the same node. */
interface Chain {
  readonly id: number;
  readonly seq: number;
  readonly value: string;
  readonly prev: Chain | null;
}

interface LeaseState {
  readonly holder: string;
  /** null: granted to an operation whose reply was lost; the id is then above `idAbove`. */
  readonly id: number | null;
  readonly idAbove: number;
  readonly epoch: number;
  readonly expired: boolean;
}

export interface LogState {
  readonly tip: number;
  readonly trimPoint: number;
  readonly records: Chain | null;
  readonly epoch: number;
  /** Every later grant has a larger id. */
  readonly leaseIdFloor: number;
  readonly lease: LeaseState | null;
}

const EMPTY: LogState = { tip: 0, trimPoint: 1, records: null, epoch: 0, leaseIdFloor: 0, lease: null };

/** The lease `lease` may be the live lease with id `id`: then it is, with the id bound. */
function liveAs(lease: LeaseState | null, id: number): LeaseState | null {
  if (lease === null || lease.expired) return null;
  if (lease.id === id) return lease;
  return lease.id === null && id > lease.idAbove ? { ...lease, id } : null;
}

function expire(s: LogState): LogState {
  return s.lease === null || s.lease.expired ? s : { ...s, lease: { ...s.lease, expired: true } };
}

/** The live lease is `view`, which is not `askedId`. */
function liveIs(s: LogState, view: LeaseView, askedId: number | null): LogState | null {
  const l = liveAs(s.lease, view.leaseId);
  if (l === null || l.holder !== view.holder || l.epoch !== view.epoch || view.leaseId === askedId) return null;
  return l === s.lease ? s : { ...s, lease: l };
}

function mismatch(s: LogState, askedId: number, current: LeaseView | null): LogState | null {
  return current === null ? expire(s) : liveIs(s, current, askedId);
}

/** The records at seqs from..from+n-1, newest last, or null if the log does not reach. */
function recordsAt(s: LogState, from: number, n: number): string[] | null {
  const last = from + n - 1;
  if (from < 1 || last > s.tip) return null;
  const out: string[] = new Array<string>(n);
  for (let c = s.records; c !== null && c.seq >= from; c = c.prev) if (c.seq <= last) out[c.seq - from] = c.value;
  return out;
}

/** Interns record chains, so that equal logs are one node and a state's key can name it by id. */
class Chains {
  private readonly interned = new Map<string, Chain>();

  append(s: LogState, records: readonly string[], lease: LeaseState): LogState {
    let c = s.records;
    for (const v of records) {
      const k = `${c?.id ?? 0}:${v}`;
      let n = this.interned.get(k);
      if (n === undefined) this.interned.set(k, (n = { id: this.interned.size + 1, seq: (c?.seq ?? 0) + 1, value: v, prev: c }));
      c = n;
    }
    return { ...s, tip: s.tip + records.length, records: c, lease };
  }
}

type Input<K extends LogInput["op"]> = Extract<LogInput, { op: K }>;

// In the step functions null means illegal: a LogState is never null.

function stepAppend(chains: Chains, s: LogState, i: Input<"append">, r: AppendResult): LogState | null {
  switch (r.kind) {
    case "ok": {
      const l = liveAs(s.lease, i.leaseId);
      return l !== null && i.expectedSeq === s.tip && r.lastSeq === s.tip + i.records.length ? chains.append(s, i.records, l) : null;
    }
    case "conflict": {
      const l = liveAs(s.lease, i.leaseId);
      return l !== null && i.expectedSeq !== s.tip && r.tip === s.tip ? { ...s, lease: l } : null;
    }
    case "leaseMismatch":
      return mismatch(s, i.leaseId, r.current);
    default:
      return assertNever(r, "append result");
  }
}

function stepTake(s: LogState, i: Input<"tryTakeLease">, r: TakeLeaseResult): LogState | null {
  if (r.kind === "granted") {
    const idOk = r.leaseId > s.leaseIdFloor && (s.lease?.id !== null || r.leaseId > (s.lease?.idAbove ?? 0));
    if (!idOk || i.expectedSeq !== s.tip || r.epoch !== s.epoch + 1) return null;
    const lease: LeaseState = { holder: i.nodeId, id: r.leaseId, idAbove: r.leaseId - 1, epoch: r.epoch, expired: false };
    return { ...s, epoch: r.epoch, leaseIdFloor: r.leaseId, lease };
  }
  switch (r.reason) {
    case "lease-live":
      return liveIs(s, r.holder, null);
    case "behind":
      return i.expectedSeq !== s.tip && r.tip === s.tip ? expire(s) : null;
    case "shard-limit":
      // Only a shard that does not exist yet can be refused for the limit.
      return s.tip === 0 && s.epoch === 0 ? s : null;
    default:
      return assertNever(r, "conflict reason");
  }
}

function stepRenew(s: LogState, i: Input<"renewLease">, r: RenewResult): LogState | null {
  if (r.kind === "leaseMismatch") return mismatch(s, i.leaseId, r.current);
  const l = liveAs(s.lease, i.leaseId);
  return l === null ? null : { ...s, lease: l };
}

function trimPointAfter(s: LogState, uptoSeq: number): number {
  return Math.max(s.trimPoint, Math.min(uptoSeq, s.tip) + 1);
}

function stepRead(stale: boolean, s: LogState, i: Input<"read">, r: LogReadOutput): LogState | null {
  const tipOk = stale ? r.tip <= s.tip : r.tip === s.tip;
  if (!tipOk) return null;
  if (r.kind === "trimmed") {
    const pointOk = stale ? r.trimPoint <= s.trimPoint : r.trimPoint === s.trimPoint;
    return pointOk && i.fromSeq < r.trimPoint && r.trimPoint <= r.tip + 1 ? s : null;
  }
  if (r.firstSeq !== i.fromSeq || r.records.length > i.countMax) return null;
  if (!stale && i.fromSeq < s.trimPoint) return null;
  if (i.fromSeq > r.tip) return r.records.length === 0 ? s : null;
  if (r.records.length === 0 || i.fromSeq + r.records.length - 1 > r.tip) return null;
  const held = recordsAt(s, i.fromSeq, r.records.length);
  return held !== null && held.every((v, k) => v === r.records[k]) ? s : null;
}

function step(chains: Chains, stale: boolean, s: LogState, i: LogInput, o: LogOutput): LogState | null {
  switch (i.op) {
    case "append":
      return o.op === "append" ? stepAppend(chains, s, i, o.result) : null;
    case "tryTakeLease":
      return o.op === "tryTakeLease" ? stepTake(s, i, o.result) : null;
    case "renewLease":
      return o.op === "renewLease" ? stepRenew(s, i, o.result) : null;
    case "trim":
      return o.op === "trim" && o.result.trimPoint === trimPointAfter(s, i.uptoSeq) ? { ...s, trimPoint: o.result.trimPoint } : null;
    case "read":
      return o.op === "read" ? stepRead(stale, s, i, o.result) : null;
    default:
      return assertNever(i, "log input");
  }
}

/**
 * An unanswered operation that did happen may have had any outcome; the
 * unchanged state covers every outcome that only confirms or expires the
 * lease (that state allows everything they allow).
 */
function stepUnknown(chains: Chains, s: LogState, i: LogInput): LogState[] {
  switch (i.op) {
    case "append": {
      const l = liveAs(s.lease, i.leaseId);
      return l !== null && i.expectedSeq === s.tip ? [s, chains.append(s, i.records, l)] : [s];
    }
    case "tryTakeLease": {
      if (i.expectedSeq !== s.tip) return [s];
      const idAbove = Math.max(s.leaseIdFloor, s.lease?.idAbove ?? 0);
      const lease: LeaseState = { holder: i.nodeId, id: null, idAbove, epoch: s.epoch + 1, expired: false };
      return [s, { ...s, epoch: s.epoch + 1, lease }];
    }
    case "trim":
      return [{ ...s, trimPoint: trimPointAfter(s, i.uptoSeq) }];
    case "renewLease":
    case "read":
      return [s];
    default:
      return assertNever(i, "log input");
  }
}

function stateKey(s: LogState): string {
  const l = s.lease;
  const lease = l === null ? "-" : `${JSON.stringify(l.holder)},${l.id ?? `>${l.idAbove}`},${l.epoch},${l.expired ? "x" : "?"}`;
  return `${s.tip}/${s.trimPoint}/${s.records?.id ?? 0}/${s.epoch}/${s.leaseIdFloor}/${lease}`;
}

export function logModel(opts: LogModelOptions = {}): Model<LogState, LogInput, LogOutput> {
  const stale = opts.staleReads ?? true;
  const chains = new Chains();
  return {
    name: stale ? "log (stale reads allowed)" : "log (linearizable reads)",
    init: () => EMPTY,
    step: (s, i, o) => step(chains, stale, s, i, o) ?? ILLEGAL,
    stepUnknown: (s, i) => stepUnknown(chains, s, i),
    key: stateKey,
    describeOp,
    describeState,
  };
}

function describeOp(i: LogInput, o: LogOutput | null): string {
  const out = o === null ? "?" : JSON.stringify(o.result);
  switch (i.op) {
    case "append":
      return `append ${JSON.stringify(i.records)} expectedSeq=${i.expectedSeq} leaseId=${i.leaseId} -> ${out}`;
    case "tryTakeLease":
      return `tryTakeLease ${i.nodeId} expectedSeq=${i.expectedSeq} -> ${out}`;
    case "renewLease":
      return `renewLease ${i.leaseId} -> ${out}`;
    case "trim":
      return `trim ${i.uptoSeq} -> ${out}`;
    case "read":
      return `read from ${i.fromSeq} (max ${i.countMax}) -> ${out}`;
    default:
      return assertNever(i, "log input");
  }
}

function describeState(s: LogState): string {
  const tail: string[] = [];
  for (let c = s.records; c !== null && tail.length < 4; c = c.prev) tail.unshift(`${c.seq}:${c.value}`);
  const l = s.lease;
  const lease = l === null ? "none" : `${l.holder} id ${l.id ?? `>${l.idAbove}`} epoch ${l.epoch}${l.expired ? " (expired)" : ""}`;
  return `tip ${s.tip} trim ${s.trimPoint} [...${tail.join(" ")}] lease ${lease}`;
}
