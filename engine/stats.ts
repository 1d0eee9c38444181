// Counters reported by INFO (stats, persistence, keyspace, errorstats,
// commandstats), the slow log, and the hook through which the hosting server
// adds its own INFO fields (clients, network, ...).
import type { Command } from "./command";

/** One INFO line: name and value. */
export type InfoField = readonly [string, string | number];
/** Adds or overrides fields of one INFO section when INFO runs. */
export type InfoProvider = () => readonly InfoField[];

/** Distinct error codes tracked in errorstats at most (Redis's ERROR_STATS_NUMBER). */
const ERROR_CODES_MAX = 128;
/** Samples kept for instantaneous_ops_per_sec (Redis's STATS_METRIC_SAMPLES). */
const OPS_SAMPLES = 16;

export interface SlowlogEntry {
  readonly id: number;
  readonly timeSec: number;
  readonly durationUs: number;
  readonly argv: readonly string[];
  readonly addr: string;
  readonly name: string;
}

/** Redis's slowlog: the newest entries first, bounded by slowlog-max-len. */
export class Slowlog {
  entries: SlowlogEntry[] = [];
  private nextId = 0;

  /** Slowlog keeps at most 32 arguments, each at most 128 bytes (Redis's limits). */
  add(argv: readonly string[], durationUs: number, nowMs: number, addr: string, name: string, lenMax: number): void {
    if (lenMax <= 0) return;
    const kept: string[] = [];
    const n = Math.min(argv.length, 32);
    for (let i = 0; i < n; i++) {
      if (n < argv.length && i === n - 1) {
        kept.push(`... (${argv.length - n + 1} more arguments)`);
        break;
      }
      const a = argv[i] ?? "";
      kept.push(a.length > 128 ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)` : a);
    }
    const entry = { id: this.nextId++, timeSec: Math.floor(nowMs / 1000), durationUs, argv: kept, addr, name };
    this.entries.unshift(entry);
    this.trim(lenMax);
  }

  trim(lenMax: number): void {
    if (this.entries.length > lenMax) this.entries.length = Math.max(0, lenMax);
  }

  reset(): void {
    this.entries = [];
  }
}

export class Stats {
  expiredKeys = 0;
  evictedKeys = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  totalCommands = 0;
  totalErrorReplies = 0;
  /** Dataset changes since start (INFO persistence rdb_changes_since_last_save). */
  dirty = 0;
  /** `dirty` at the last SAVE. */
  dirtyAtLastSave = 0;
  /** Unix ms of the last SAVE (or of the start). */
  lastSaveMs = Date.now();
  saves = 0;
  readonly startedAtMs = Date.now();
  /** Error replies by their first word (INFO errorstats). */
  readonly errors = new Map<string, number>();
  readonly slowlog = new Slowlog();
  /** slowlog-log-slower-than and slowlog-max-len, kept here so the hot path reads no config. */
  slowerThanUs = 10_000;
  slowlogLenMax = 128;
  /** Connections accepted and refused (maxclients), bytes in and out: kept by the server. */
  totalConnections = 0;
  rejectedConnections = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  /** While clients are paused the engine runs as a replica for expiry; this is the real role. */
  pausedRole: "primary" | "replica" | null = null;
  /** Fields the hosting server adds to INFO sections, by lower-case section name. */
  readonly infoProviders = new Map<string, InfoProvider[]>();
  private readonly opsSamples: number[] = [];
  private opsLastCommands = 0;
  private opsLastMs = 0;

  countError(message: string): void {
    this.totalErrorReplies++;
    const sp = message.indexOf(" ");
    const code = sp < 0 ? message : message.slice(0, sp);
    const n = this.errors.get(code);
    if (n !== undefined) this.errors.set(code, n + 1);
    else if (this.errors.size < ERROR_CODES_MAX) this.errors.set(code, 1);
  }

  /** Registers fields for INFO `section` (e.g. the server's connected_clients). */
  addInfo(section: string, provider: InfoProvider): void {
    const key = section.toLowerCase();
    const list = this.infoProviders.get(key) ?? [];
    list.push(provider);
    this.infoProviders.set(key, list);
  }

  /** True when a command that took `durationUs` belongs in the slow log. */
  isSlow(durationUs: number): boolean {
    const limit = this.slowerThanUs;
    return limit >= 0 && durationUs >= limit;
  }

  /** Adds a slow command to the slow log (EXEC and other skip_slowlog commands are left out). */
  logSlow(cmd: Command, argv: readonly string[], durationUs: number, addr: string, name: string): void {
    if (cmd.spec.flags.includes("skip_slowlog") || (cmd.parent?.spec.flags.includes("skip_slowlog") ?? false)) return;
    this.slowlog.add(redactForLogs(cmd, argv), durationUs, Date.now(), addr, name, this.slowlogLenMax);
  }

  /** Called about every 100 ms: one sample of the command rate. */
  sampleOps(nowMs: number): void {
    if (this.opsLastMs !== 0 && nowMs > this.opsLastMs) {
      const rate = ((this.totalCommands - this.opsLastCommands) * 1000) / (nowMs - this.opsLastMs);
      this.opsSamples.push(rate);
      if (this.opsSamples.length > OPS_SAMPLES) this.opsSamples.shift();
    }
    this.opsLastMs = nowMs;
    this.opsLastCommands = this.totalCommands;
  }

  /** INFO instantaneous_ops_per_sec: the mean of the recent samples. */
  get opsPerSec(): number {
    if (this.opsSamples.length === 0) return 0;
    let sum = 0;
    for (const s of this.opsSamples) sum += s;
    return Math.round(sum / this.opsSamples.length);
  }

  reset(): void {
    this.expiredKeys = 0;
    this.evictedKeys = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.totalCommands = 0;
    this.totalErrorReplies = 0;
    this.errors.clear();
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.opsSamples.length = 0;
    this.opsLastMs = 0;
  }
}

/** Parameters whose values never reach logs (Redis's SENSITIVE_CONFIG). */
const SENSITIVE_PARAMS = new Set(["requirepass", "masterauth", "masteruser"]);

/** Replaces passwords with "(redacted)" as Redis does in SLOWLOG and MONITOR. */
export function redactForLogs(cmd: Command, argv: readonly string[]): readonly string[] {
  const name = cmd.fullName;
  if (name === "auth") return argv.map((a, i) => (i === 0 ? a : "(redacted)"));
  if (name === "config|set") {
    return argv.map((a, i) => (i >= 3 && i % 2 === 1 && SENSITIVE_PARAMS.has((argv[i - 1] ?? "").toLowerCase()) ? "(redacted)" : a));
  }
  if (name === "hello" || name === "migrate") {
    const out = argv.slice();
    for (let i = 1; i < out.length; i++) {
      const opt = (out[i] ?? "").toLowerCase();
      if (opt === "auth") {
        const n = name === "hello" ? 2 : 1;
        for (let j = 1; j <= n && i + j < out.length; j++) out[i + j] = "(redacted)";
      } else if (opt === "auth2") {
        for (let j = 1; j <= 2 && i + j < out.length; j++) out[i + j] = "(redacted)";
      }
    }
    return out;
  }
  if (name.startsWith("acl|setuser")) return argv.map((a, i) => (i < 2 ? a : "(redacted)"));
  return argv;
}
