// Counters reported by INFO (stats, keyspace, errorstats).
export class Stats {
  expiredKeys = 0;
  evictedKeys = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  totalCommands = 0;
  totalErrorReplies = 0;
  /** Dataset changes since start (INFO persistence rdb_changes_since_last_save). */
  dirty = 0;
  /** Error replies by their first word (INFO errorstats). */
  readonly errors = new Map<string, number>();

  countError(message: string): void {
    this.totalErrorReplies++;
    const sp = message.indexOf(" ");
    const code = sp < 0 ? message : message.slice(0, sp);
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  reset(): void {
    this.expiredKeys = 0;
    this.evictedKeys = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.totalCommands = 0;
    this.totalErrorReplies = 0;
    this.errors.clear();
  }
}
