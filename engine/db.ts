// One of the numbered databases: keys -> values, keys -> absolute expire time (ms).
import type { Session, WatchedKey } from "./session";
import type { Value } from "./value";
import { KeyMap } from "./keymap";

export class Db {
  data = new KeyMap<Value>();
  expires = new KeyMap<number>();
  /** Sessions watching each key (WATCH). */
  watchers = new Map<string, Set<Session>>();

  constructor(readonly id: number) {}

  get size(): number {
    return this.data.size;
  }

  /** True when the key is present but its TTL has passed (not yet deleted). */
  isExpired(key: string, nowMs: number): boolean {
    const at = this.expires.get(key);
    return at !== undefined && at <= nowMs && this.data.has(key);
  }

  /** Marks every session watching `key` as dirty (Redis's touchWatchedKey). */
  touchWatched(key: string): void {
    if (this.watchers.size === 0) return;
    const set = this.watchers.get(key);
    if (set === undefined) return;
    for (const s of set) {
      const wk = findWatched(s, this.id, key);
      if (wk !== undefined && wk.expired) {
        // A key that was already expired at WATCH time and is now gone: no logical change.
        if (!this.data.has(key)) {
          wk.expired = false;
          continue;
        }
      }
      s.watchDirty = true;
    }
  }

  /**
   * This db is emptied (FLUSHDB/FLUSHALL) or swapped with `replacedWith` (SWAPDB):
   * flag watchers of keys whose logical existence changes.
   */
  touchWatchedOnReplace(replacedWith: Db | null, nowMs: number): void {
    for (const [key, sessions] of this.watchers) {
      const existsHere = this.data.has(key);
      const existsThere = replacedWith !== null && replacedWith.data.has(key);
      if (!existsHere && !existsThere) continue;
      for (const s of sessions) {
        const wk = findWatched(s, this.id, key);
        if (wk === undefined) continue;
        if (wk.expired) {
          if (!existsThere) {
            wk.expired = false;
            continue;
          }
          if (replacedWith !== null && replacedWith.isExpired(key, nowMs)) continue;
        } else if (!existsHere && replacedWith !== null && replacedWith.isExpired(key, nowMs)) {
          wk.expired = true;
          continue;
        }
        s.watchDirty = true;
      }
    }
  }
}

function findWatched(s: Session, db: number, key: string): WatchedKey | undefined {
  for (const wk of s.watched) if (wk.db === db && wk.key === key) return wk;
  return undefined;
}
