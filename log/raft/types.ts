// The vocabulary of the Raft core: entries, hard state, snapshots, messages.
// Everything here is plain data; nothing in log/raft mutates a value of these
// types after it has been created, so the same object may be held by the log,
// a Ready and an outgoing message at once.

/** A member of the group, e.g. "az-a". */
export type NodeId = string;

/**
 * "noop" is the empty entry a new leader appends at the start of its term (the
 * application skips it); "normal" carries the application's opaque bytes.
 */
export type EntryKind = "normal" | "noop";

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** What must be on stable storage before the node says anything to anybody. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** The application's state up to and including `index` (whose term is `term`). */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export const EMPTY_SNAPSHOT: Snapshot = { index: 0, term: 0, data: new Uint8Array(0) };

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term; for a pre-vote request, the term it would campaign in. */
  readonly term: number;
}

export type Message =
  | (Envelope & { readonly kind: "prevote"; readonly lastIndex: number; readonly lastTerm: number })
  | (Envelope & { readonly kind: "prevote-resp"; readonly reject: boolean })
  | (Envelope & { readonly kind: "vote"; readonly lastIndex: number; readonly lastTerm: number })
  | (Envelope & { readonly kind: "vote-resp"; readonly reject: boolean })
  | (Envelope & {
      readonly kind: "app";
      readonly prevIndex: number;
      readonly prevTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
    })
  | (Envelope & {
      readonly kind: "app-resp";
      /** Accepted: the follower's log matches the leader's up to here. Rejected: the prevIndex refused. */
      readonly index: number;
      readonly reject: boolean;
      /** On a rejection: the follower's guess of the last (index, term) where the logs may agree. */
      readonly hintIndex: number;
      readonly hintTerm: number;
    })
  | (Envelope & { readonly kind: "heartbeat"; readonly commit: number })
  | (Envelope & { readonly kind: "heartbeat-resp" })
  | (Envelope & { readonly kind: "snap"; readonly snapshot: Snapshot });

export type MessageKind = Message["kind"];

/** Bytes an entry costs for flow control: its payload plus a fixed overhead, so no-ops count too. */
export const ENTRY_OVERHEAD_BYTES = 24;

export function entryBytes(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD_BYTES;
}

export function entriesBytes(es: readonly Entry[]): number {
  let n = 0;
  for (const e of es) n += entryBytes(e);
  return n;
}

export function isSafeIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
