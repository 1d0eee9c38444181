// INFO: Redis 7.0's sections and field names. The engine fills what it knows;
// the hosting server adds its own fields (clients, network) through
// `engine.stats.addInfo(section, provider)`, overriding defaults by name.
import { randomBytes } from "node:crypto";
import { arch, release, totalmem, type as osType } from "node:os";
import { verbatim, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import type { Engine } from "../engine";
import type { InfoField } from "../stats";

export const REDIS_VERSION = "7.0.15";

/** Sections INFO gives without arguments (and for "default"). */
const DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "module_list", "errorstats", "cluster", "keyspace"];
/** Every section, in Redis's output order; "all" and "everything" give these. */
const ALL_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"];
const TITLES: Record<string, string> = {
  server: "Server",
  clients: "Clients",
  memory: "Memory",
  persistence: "Persistence",
  stats: "Stats",
  replication: "Replication",
  cpu: "CPU",
  modules: "Modules",
  commandstats: "Commandstats",
  errorstats: "Errorstats",
  latencystats: "Latencystats",
  cluster: "Cluster",
  keyspace: "Keyspace",
};
/** Keys sampled to estimate avg_ttl (Redis estimates it too). */
const AVG_TTL_SAMPLE_MAX = 1000;

/** Identity that lives as long as the process: INFO run_id and master_replid. */
const RUN_ID = randomBytes(20).toString("hex");
const REPL_ID = randomBytes(20).toString("hex");
let memoryPeakBytes = 0;

/** The engine's role; while clients are paused it runs as a replica for expiry only. */
export function roleOf(engine: Engine): "primary" | "replica" {
  return engine.stats.pausedRole ?? engine.role;
}

/** Redis's bytesToHuman: 1.04M, 512B ... */
export function bytesToHuman(n: number): string {
  const units = ["K", "M", "G", "T", "P"];
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  for (const u of units) {
    if (v < 1024 || u === "P") return `${v.toFixed(2)}${u}`;
    v /= 1024;
  }
  return `${n}B`;
}

/** The memory INFO reports as used: the JS heap plus memory held outside it (Buffers). */
export function usedMemoryBytes(): number {
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external;
  if (used > memoryPeakBytes) memoryPeakBytes = used;
  return used;
}

/** Which sections a request selects, per Redis 7.0's rules (case-insensitive). */
export function selectSections(args: readonly string[]): Set<string> {
  if (args.length === 0) return new Set(DEFAULT_SECTIONS.map(canonicalSection));
  const out = new Set<string>();
  for (const raw of args) {
    const a = raw.toLowerCase();
    if (a === "default") for (const s of DEFAULT_SECTIONS) out.add(canonicalSection(s));
    else if (a === "all" || a === "everything") for (const s of ALL_SECTIONS) out.add(s);
    else out.add(canonicalSection(a));
  }
  return out;
}

function canonicalSection(s: string): string {
  return s === "module_list" ? "modules" : s;
}

function cpuTime(us: number): string {
  const sec = Math.floor(us / 1e6);
  return `${sec}.${String(Math.floor(us % 1e6)).padStart(6, "0")}`;
}

function serverSection(engine: Engine): InfoField[] {
  const nowMs = engine.clock();
  const uptime = Math.floor((nowMs - engine.stats.startedAtMs) / 1000);
  const hz = engine.config.getInt("hz");
  return [
    ["redis_version", REDIS_VERSION],
    ["redis_git_sha1", "00000000"],
    ["redis_git_dirty", 0],
    ["redis_build_id", "6d6e656d6f000000"],
    ["redis_mode", "standalone"],
    ["os", `${osType()} ${release()} ${arch()}`],
    ["arch_bits", 64],
    ["monotonic_clock", "POSIX clock_gettime"],
    ["multiplexing_api", "epoll"],
    ["atomicvar_api", "c11-builtin"],
    ["gcc_version", "0.0.0"],
    ["process_id", process.pid],
    ["process_supervised", "no"],
    ["run_id", RUN_ID],
    ["tcp_port", engine.config.getInt("port")],
    ["server_time_usec", nowMs * 1000],
    ["uptime_in_seconds", uptime],
    ["uptime_in_days", Math.floor(uptime / 86400)],
    ["hz", hz],
    ["configured_hz", hz],
    ["lru_clock", Math.floor(nowMs / 1000) % (1 << 24)],
    ["executable", process.argv[1] ?? process.execPath],
    ["config_file", ""],
    ["io_threads_active", 0],
    ["mnemo_node_version", process.version],
  ];
}

function clientsSection(engine: Engine): InfoField[] {
  return [
    ["connected_clients", 0],
    ["cluster_connections", 0],
    ["maxclients", engine.config.getInt("maxclients")],
    ["client_recent_max_input_buffer", 0],
    ["client_recent_max_output_buffer", 0],
    ["blocked_clients", 0],
    ["tracking_clients", 0],
    ["clients_in_timeout_table", 0],
  ];
}

function memorySection(engine: Engine): InfoField[] {
  const used = usedMemoryBytes();
  const rss = process.memoryUsage.rss();
  const m = process.memoryUsage();
  const startup = 0;
  const overhead = m.external;
  const dataset = Math.max(0, used - overhead);
  const total = totalmem();
  const maxmemory = engine.config.getInt("maxmemory");
  return [
    ["used_memory", used],
    ["used_memory_human", bytesToHuman(used)],
    ["used_memory_rss", rss],
    ["used_memory_rss_human", bytesToHuman(rss)],
    ["used_memory_peak", memoryPeakBytes],
    ["used_memory_peak_human", bytesToHuman(memoryPeakBytes)],
    ["used_memory_peak_perc", `${((used * 100) / Math.max(1, memoryPeakBytes)).toFixed(2)}%`],
    ["used_memory_overhead", overhead],
    ["used_memory_startup", startup],
    ["used_memory_dataset", dataset],
    ["used_memory_dataset_perc", `${((dataset * 100) / Math.max(1, used - startup)).toFixed(2)}%`],
    ["allocator_allocated", used],
    ["allocator_active", m.heapTotal + m.external],
    ["allocator_resident", rss],
    ["total_system_memory", total],
    ["total_system_memory_human", bytesToHuman(total)],
    ["used_memory_lua", 0],
    ["used_memory_vm_eval", 0],
    ["used_memory_lua_human", "0B"],
    ["used_memory_scripts_eval", 0],
    ["number_of_cached_scripts", 0],
    ["number_of_functions", 0],
    ["number_of_libraries", 0],
    ["used_memory_vm_functions", 0],
    ["used_memory_vm_total", 0],
    ["used_memory_vm_total_human", "0B"],
    ["used_memory_functions", 0],
    ["used_memory_scripts", 0],
    ["used_memory_scripts_human", "0B"],
    ["maxmemory", maxmemory],
    ["maxmemory_human", bytesToHuman(maxmemory)],
    ["maxmemory_policy", engine.config.get("maxmemory-policy")],
    ["allocator_frag_ratio", "1.00"],
    ["allocator_frag_bytes", 0],
    ["allocator_rss_ratio", (rss / Math.max(1, used)).toFixed(2)],
    ["allocator_rss_bytes", rss - used],
    ["rss_overhead_ratio", "1.00"],
    ["rss_overhead_bytes", 0],
    ["mem_fragmentation_ratio", (rss / Math.max(1, used)).toFixed(2)],
    ["mem_fragmentation_bytes", rss - used],
    ["mem_not_counted_for_evict", 0],
    ["mem_replication_backlog", 0],
    ["mem_total_replication_buffers", 0],
    ["mem_clients_slaves", 0],
    ["mem_clients_normal", 0],
    ["mem_cluster_links", 0],
    ["mem_aof_buffer", 0],
    ["mem_allocator", "libc"],
    ["active_defrag_running", 0],
    ["lazyfree_pending_objects", 0],
    ["lazyfreed_objects", 0],
  ];
}

function persistenceSection(engine: Engine): InfoField[] {
  const s = engine.stats;
  const fields: InfoField[] = [
    ["loading", 0],
    ["async_loading", 0],
    ["current_cow_peak", 0],
    ["current_cow_size", 0],
    ["current_cow_size_age", 0],
    ["current_fork_perc", "0.00"],
    ["current_save_keys_processed", 0],
    ["current_save_keys_total", 0],
    ["rdb_changes_since_last_save", s.dirty - s.dirtyAtLastSave],
    ["rdb_bgsave_in_progress", 0],
    ["rdb_last_save_time", Math.floor(s.lastSaveMs / 1000)],
    ["rdb_last_bgsave_status", "ok"],
    ["rdb_last_bgsave_time_sec", -1],
    ["rdb_current_bgsave_time_sec", -1],
    ["rdb_saves", s.saves],
    ["rdb_last_cow_size", 0],
    ["rdb_last_load_keys_expired", 0],
    ["rdb_last_load_keys_loaded", 0],
    ["aof_enabled", 0],
    ["aof_rewrite_in_progress", 0],
    ["aof_rewrite_scheduled", 0],
    ["aof_last_rewrite_time_sec", -1],
    ["aof_current_rewrite_time_sec", -1],
    ["aof_last_bgrewrite_status", "ok"],
    ["aof_rewrites", 0],
    ["aof_rewrites_consecutive_failures", 0],
    ["aof_last_write_status", "ok"],
    ["aof_last_cow_size", 0],
    ["module_fork_in_progress", 0],
    ["module_fork_last_cow_size", 0],
  ];
  return fields;
}

function statsSection(engine: Engine): InfoField[] {
  const s = engine.stats;
  const zero = (names: string[]): InfoField[] => names.map((n) => [n, 0]);
  return [
    ["total_connections_received", s.totalConnections],
    ["total_commands_processed", s.totalCommands],
    ["instantaneous_ops_per_sec", s.opsPerSec],
    ["total_net_input_bytes", s.netInputBytes],
    ["total_net_output_bytes", s.netOutputBytes],
    ...zero(["total_net_repl_input_bytes", "total_net_repl_output_bytes"]),
    ["instantaneous_input_kbps", "0.00"],
    ["instantaneous_output_kbps", "0.00"],
    ["instantaneous_input_repl_kbps", "0.00"],
    ["instantaneous_output_repl_kbps", "0.00"],
    ["rejected_connections", s.rejectedConnections],
    ...zero(["sync_full", "sync_partial_ok", "sync_partial_err"]),
    ["expired_keys", s.expiredKeys],
    ["expired_stale_perc", "0.00"],
    ...zero(["expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds"]),
    ["evicted_keys", s.evictedKeys],
    ...zero(["evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time"]),
    ["keyspace_hits", s.keyspaceHits],
    ["keyspace_misses", s.keyspaceMisses],
    ...zero(["pubsub_channels", "pubsub_patterns", "pubsubshard_channels", "latest_fork_usec", "total_forks", "migrate_cached_sockets"]),
    ...zero(["slave_expires_tracked_keys", "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses"]),
    ...zero(["total_active_defrag_time", "current_active_defrag_time", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"]),
    ["unexpected_error_replies", 0],
    ["total_error_replies", s.totalErrorReplies],
    ...zero(["dump_payload_sanitizations", "total_reads_processed", "total_writes_processed"]),
    ...zero(["io_threaded_reads_processed", "io_threaded_writes_processed", "reply_buffer_shrinks", "reply_buffer_expands"]),
  ];
}

function replicationSection(engine: Engine): InfoField[] {
  return [
    ["role", roleOf(engine) === "replica" ? "slave" : "master"],
    ["connected_slaves", 0],
    ["master_failover_state", "no-failover"],
    ["master_replid", REPL_ID],
    ["master_replid2", "0".repeat(40)],
    ["master_repl_offset", 0],
    ["second_repl_offset", -1],
    ["repl_backlog_active", 0],
    ["repl_backlog_size", 1048576],
    ["repl_backlog_first_byte_offset", 0],
    ["repl_backlog_histlen", 0],
  ];
}

function cpuSection(): InfoField[] {
  const u = process.cpuUsage();
  return [
    ["used_cpu_sys", cpuTime(u.system)],
    ["used_cpu_user", cpuTime(u.user)],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
    ["used_cpu_sys_main_thread", cpuTime(u.system)],
    ["used_cpu_user_main_thread", cpuTime(u.user)],
  ];
}

function commandstatsSection(engine: Engine): InfoField[] {
  const out: InfoField[] = [];
  const visit = (c: import("../command").Command): void => {
    if (c.subs !== null) {
      for (const sub of c.subs.values()) visit(sub);
      return;
    }
    if (c.calls === 0 && c.failedCalls === 0 && c.rejectedCalls === 0) return;
    const perCall = c.calls === 0 ? 0 : c.usec / c.calls;
    out.push([
      `cmdstat_${c.fullName}`,
      `calls=${c.calls},usec=${Math.round(c.usec)},usec_per_call=${perCall.toFixed(2)},rejected_calls=${c.rejectedCalls},failed_calls=${c.failedCalls}`,
    ]);
  };
  for (const c of engine.table.all()) visit(c);
  return out;
}

function errorstatsSection(engine: Engine): InfoField[] {
  const out: InfoField[] = [];
  for (const [code, n] of engine.stats.errors) out.push([`errorstat_${code}`, `count=${n}`]);
  return out;
}

function keyspaceSection(engine: Engine): InfoField[] {
  const out: InfoField[] = [];
  const now = engine.clock();
  for (const db of engine.dbs) {
    if (db.size === 0) continue;
    let sum = 0;
    let n = 0;
    for (const at of db.expires.values()) {
      if (n >= AVG_TTL_SAMPLE_MAX) break;
      if (at > now) {
        sum += at - now;
        n++;
      }
    }
    const avg = n === 0 ? 0 : Math.round(sum / n);
    out.push([`db${db.id}`, `keys=${db.size},expires=${db.expires.size},avg_ttl=${avg}`]);
  }
  return out;
}

function sectionFields(engine: Engine, name: string): InfoField[] {
  switch (name) {
    case "server":
      return serverSection(engine);
    case "clients":
      return clientsSection(engine);
    case "memory":
      return memorySection(engine);
    case "persistence":
      return persistenceSection(engine);
    case "stats":
      return statsSection(engine);
    case "replication":
      return replicationSection(engine);
    case "cpu":
      return cpuSection();
    case "commandstats":
      return commandstatsSection(engine);
    case "errorstats":
      return errorstatsSection(engine);
    case "cluster":
      return [["cluster_enabled", 0]];
    case "keyspace":
      return keyspaceSection(engine);
    default:
      return [];
  }
}

/** Base fields, then the host's fields: a known name is replaced in place, a new one appended. */
function withProviders(engine: Engine, name: string, base: InfoField[]): Map<string, string | number> {
  const fields = new Map<string, string | number>(base);
  for (const p of engine.stats.infoProviders.get(name) ?? []) {
    for (const [k, v] of p()) fields.set(k, v);
  }
  return fields;
}

/** The INFO text for the selected sections. */
export function infoText(engine: Engine, sections: Set<string>): string {
  let out = "";
  let first = true;
  for (const name of ALL_SECTIONS) {
    if (!sections.has(name)) continue;
    if (!first) out += "\r\n";
    first = false;
    out += `# ${TITLES[name] ?? name}\r\n`;
    for (const [k, v] of withProviders(engine, name, sectionFields(engine, name))) out += `${k}:${v}\r\n`;
  }
  return out;
}

function info(ctx: Ctx, argv: string[]): Reply {
  return verbatim(infoText(ctx.engine, selectSections(argv.slice(1))));
}

export const INFO_COMMANDS: readonly CommandSpec[] = [
  { name: "info", arity: -1, flags: ["loading", "stale", "sentinel"], group: "server", since: "1.0.0", summary: "Get information and statistics about the server", run: info },
];
