// The vocabulary of the log service's replicated state machine: shard ids,
// commands, their replies, and the limits every value is held to. Commands and
// replies are plain immutable data; log/codec.ts turns them into bytes.

/** A shard: a small integer (0 .. 2^32-1) or a short name (1 .. 255 UTF-8 bytes). */
export type ShardId = number | string;

/** The log leader's term and monotonic clock reading when it proposed an entry. */
export interface Stamp {
  readonly term: number;
  readonly proposedAtMs: number;
}

export type Command =
  | {
      readonly kind: "append";
      readonly shard: ShardId;
      readonly records: readonly Buffer[];
      /** The tip the appender believes the shard has; the records get seq expectedSeq+1 ... */
      readonly expectedSeq: number;
      readonly leaseId: number;
    }
  | {
      readonly kind: "tryTakeLease";
      readonly shard: ShardId;
      readonly nodeId: string;
      /** The tip the candidate has applied; the grant needs it to be the shard's tip. */
      readonly expectedSeq: number;
      readonly durationMs: number;
    }
  | { readonly kind: "renewLease"; readonly shard: ShardId; readonly leaseId: number }
  /** Forget the records with seq <= uptoSeq (clamped to the tip). */
  | { readonly kind: "trim"; readonly shard: ShardId; readonly uptoSeq: number };

export type CommandKind = Command["kind"];

/** A command as it sits in a Raft entry: stamped by the leader that proposed it. */
export interface EntryPayload {
  readonly proposedAtMs: number;
  readonly command: Command;
}

/** What others may learn about a lease. */
export interface LeaseView {
  readonly holder: string;
  readonly leaseId: number;
  readonly epoch: number;
}

export type AppendResult =
  | { readonly kind: "ok"; readonly lastSeq: number }
  /** expectedSeq was not the tip: a retry of an append that already landed sees this, with the tip. */
  | { readonly kind: "conflict"; readonly tip: number }
  /** leaseId is not the live lease; `current` is the live lease, or null when none is live. */
  | { readonly kind: "leaseMismatch"; readonly current: LeaseView | null };

export type TakeLeaseResult =
  | { readonly kind: "granted"; readonly leaseId: number; readonly epoch: number }
  /** remainingMs: how long the lease has left at this entry, in the log leader's clock (a backoff hint). */
  | { readonly kind: "conflict"; readonly reason: "lease-live"; readonly holder: LeaseView; readonly remainingMs: number }
  | { readonly kind: "conflict"; readonly reason: "behind"; readonly tip: number }
  /** The group already holds SHARDS_MAX shards and this one is new. */
  | { readonly kind: "conflict"; readonly reason: "shard-limit" };

export type RenewResult = { readonly kind: "ok" } | { readonly kind: "leaseMismatch"; readonly current: LeaseView | null };

export type TrimResult = { readonly kind: "ok"; readonly trimPoint: number };

export type Reply =
  | { readonly op: "append"; readonly result: AppendResult }
  | { readonly op: "tryTakeLease"; readonly result: TakeLeaseResult }
  | { readonly op: "renewLease"; readonly result: RenewResult }
  | { readonly op: "trim"; readonly result: TrimResult };

/** The reply type of one command kind. */
export type ReplyFor<K extends CommandKind> = Extract<Reply, { op: K }>;

// Limits. These shape decisions every replica must take alike (a command over
// a limit never reaches the log), so they are constants, not configuration.
export const SHARD_NUMBER_MAX = 0xffffffff;
export const SHARD_NAME_BYTES_MAX = 255;
export const NODE_ID_BYTES_MAX = 255;
export const RECORDS_PER_APPEND_MAX = 65_536;
export const RECORD_BYTES_MAX = 16 * 1024 * 1024;
/** An encoded command or entry, records included. */
export const COMMAND_BYTES_MAX = 64 * 1024 * 1024;
export const LEASE_DURATION_MS_MAX = 3_600_000;
/** Shards one log group holds; only tryTakeLease creates a shard. */
export const SHARDS_MAX = 65_536;

export function isShardId(x: unknown): x is ShardId {
  if (typeof x === "number") return Number.isInteger(x) && x >= 0 && x <= SHARD_NUMBER_MAX;
  if (typeof x !== "string") return false;
  const n = Buffer.byteLength(x, "utf8");
  return n >= 1 && n <= SHARD_NAME_BYTES_MAX && Buffer.from(x, "utf8").toString("utf8") === x;
}

/** Total order on shard ids (numbers first, then names by UTF-8 bytes), for deterministic output. */
export function compareShardIds(a: ShardId, b: ShardId): number {
  if (typeof a === "number") return typeof b === "number" ? a - b : -1;
  if (typeof b === "number") return 1;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function isSeq(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}
