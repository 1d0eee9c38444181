// The wall clock in milliseconds for the hot path. Date.now() is a native call
// (about as dear as the rest of a GET's bookkeeping on this VM), and every
// command already reads the monotonic clock to time itself, so the wall time
// is derived from that reading plus an offset re-synced with Date.now() every
// RESYNC_MS. Between re-syncs the value cannot run backwards; a re-sync may
// move it by the wall clock's own adjustment, as Date.now() would.
import { performance } from "node:perf_hooks";

const RESYNC_MS = 100;
/** A re-sync that would move time back by less than this keeps the last value instead. */
const JITTER_MS = 1000;

let offsetMs = Date.now() - performance.now();
let syncedAtMono = performance.now();
let lastMs = 0;

/** Unix ms at the monotonic instant `mono` (a performance.now() reading taken just now). */
export function wallMsAt(mono: number): number {
  if (mono - syncedAtMono >= RESYNC_MS || mono < syncedAtMono) {
    offsetMs = Date.now() - mono;
    syncedAtMono = mono;
  }
  const ms = Math.floor(mono + offsetMs);
  if (ms < lastMs && lastMs - ms < JITTER_MS) return lastMs;
  lastMs = ms;
  return ms;
}

/** Unix ms now: Date.now() at the cost of one monotonic read. */
export function wallNowMs(): number {
  return wallMsAt(performance.now());
}
