// What a simulated node writes to its disk: one frame per Ready (hard state,
// snapshot, entries, all-or-nothing thanks to the frame checksum) and, after a
// compaction, a checkpoint frame that starts a fresh file. Replaying the
// frames in order rebuilds the MemoryStorage the node had.
import { assert, AssertionError, assertNever } from "../raft/assert";
import { decodeWith, Writer, type Reader } from "../raft/codec";
import { MemoryStorage } from "../raft/storage";
import type { Entry, HardState, Snapshot } from "../raft/types";

export type DiskRecord =
  | { readonly kind: "ready"; readonly hardState: HardState | null; readonly snapshot: Snapshot | null; readonly entries: readonly Entry[] }
  | { readonly kind: "checkpoint"; readonly hardState: HardState; readonly snapshot: Snapshot; readonly entries: readonly Entry[] };

export function encodeRecord(r: DiskRecord): Buffer {
  const w = new Writer(256);
  w.u8(r.kind === "ready" ? 1 : 2);
  w.bool(r.hardState !== null);
  if (r.hardState !== null) w.hardState(r.hardState);
  w.bool(r.snapshot !== null);
  if (r.snapshot !== null) w.snapshot(r.snapshot);
  w.entries(r.entries);
  return w.finish();
}

function readRecord(rd: Reader): DiskRecord {
  const tag = rd.u8();
  const hardState = rd.bool() ? rd.hardState() : null;
  const snapshot = rd.bool() ? rd.snapshot() : null;
  const entries = rd.entries();
  if (tag === 1) return { kind: "ready", hardState, snapshot, entries };
  assert(tag === 2 && hardState !== null && snapshot !== null, "malformed checkpoint record");
  return { kind: "checkpoint", hardState, snapshot, entries };
}

export function decodeRecord(buf: Uint8Array): DiskRecord {
  const d = decodeWith(buf, readRecord);
  // The frame checksum already passed: a record that does not parse is our bug, not the disk's.
  if (!(d.ok)) throw new AssertionError(`record passed its checksum but does not parse: ${d.ok ? "" : d.error}`);
  return d.value;
}

/** Applies one record to storage, exactly as the node did when it wrote it. */
export function applyRecord(s: MemoryStorage, r: DiskRecord): void {
  switch (r.kind) {
    case "ready":
      if (r.snapshot !== null) s.applySnapshot(r.snapshot);
      s.append(r.entries);
      if (r.hardState !== null) s.setHardState(r.hardState);
      return;
    case "checkpoint":
      s.applySnapshot(r.snapshot);
      s.append(r.entries);
      s.setHardState(r.hardState);
      return;
    default:
      assertNever(r, "record");
  }
}

export function recoverStorage(payloads: readonly Uint8Array[]): MemoryStorage {
  const s = new MemoryStorage();
  for (const p of payloads) applyRecord(s, decodeRecord(p));
  return s;
}

/** The record that replaces a whole file after compaction: everything storage holds now. */
export function checkpointOf(s: MemoryStorage): DiskRecord {
  const snap = s.snapshot();
  const entries = s.lastIndex() > snap.index ? s.entries(snap.index + 1, s.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
  return { kind: "checkpoint", hardState: s.hardState(), snapshot: snap, entries };
}
