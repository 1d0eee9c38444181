// The configuration parameters the engine and server honour, with Redis 7.0's
// names and defaults. Parameters accepted only for compatibility say so.
import type { ParamDef } from "./config";

const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const PARAMS: readonly ParamDef[] = [
  { name: "databases", type: "int", defaultValue: "16", min: 1, max: INT_MAX, immutable: true },
  { name: "requirepass", type: "string", defaultValue: "" },
  { name: "maxclients", type: "int", defaultValue: "10000", min: 1, max: UINT_MAX },
  { name: "timeout", type: "int", defaultValue: "0", min: 0, max: INT_MAX },
  { name: "port", type: "int", defaultValue: "6379", min: 0, max: 65535, fixedAtRuntime: true },
  { name: "bind", type: "string", defaultValue: "127.0.0.1", fixedAtRuntime: true },
  // Redis accepts any non-negative hz and clamps it to 1..500.
  { name: "hz", type: "int", defaultValue: "10", min: 0, max: INT_MAX, normalize: (v) => String(Math.min(500, Math.max(1, Number(v)))) },
  { name: "proto-max-bulk-len", type: "memory", defaultValue: String(512 * 1024 * 1024), min: 1024 * 1024, max: LONG_MAX },
  { name: "client-query-buffer-limit", type: "memory", defaultValue: String(1024 * 1024 * 1024), min: 1024 * 1024, max: LONG_MAX },
  { name: "maxmemory", type: "memory", defaultValue: "0", min: 0, max: Number.MAX_SAFE_INTEGER },
  {
    name: "maxmemory-policy",
    type: "enum",
    defaultValue: "noeviction",
    enumValues: ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"],
  },
  { name: "lfu-log-factor", type: "int", defaultValue: "10", min: 0, max: INT_MAX },
  { name: "lfu-decay-time", type: "int", defaultValue: "1", min: 0, max: INT_MAX },
  { name: "active-expire-effort", type: "int", defaultValue: "1", min: 1, max: 10 },
  // Snapshots are built off-box (see docs): `save` and `appendonly` are accepted and remembered.
  { name: "save", type: "string", defaultValue: "" },
  { name: "appendonly", type: "bool", defaultValue: "no" },
  { name: "appendfsync", type: "enum", defaultValue: "everysec", enumValues: ["always", "everysec", "no"] },
  { name: "slowlog-log-slower-than", type: "int", defaultValue: "10000", min: -1, max: Number.MAX_SAFE_INTEGER },
  { name: "slowlog-max-len", type: "int", defaultValue: "128", min: 0, max: INT_MAX },
  { name: "latency-tracking", type: "bool", defaultValue: "yes" },
  { name: "lazyfree-lazy-eviction", type: "bool", defaultValue: "no" },
  { name: "lazyfree-lazy-expire", type: "bool", defaultValue: "no" },
  { name: "lazyfree-lazy-server-del", type: "bool", defaultValue: "no" },
  { name: "lazyfree-lazy-user-del", type: "bool", defaultValue: "no" },
  { name: "lazyfree-lazy-user-flush", type: "bool", defaultValue: "no" },
  { name: "list-max-listpack-size", aliases: ["list-max-ziplist-size"], type: "int", defaultValue: "-2", min: -5, max: INT_MAX },
  { name: "list-compress-depth", type: "int", defaultValue: "0", min: 0, max: INT_MAX },
  { name: "hash-max-listpack-entries", aliases: ["hash-max-ziplist-entries"], type: "int", defaultValue: "128", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "hash-max-listpack-value", aliases: ["hash-max-ziplist-value"], type: "int", defaultValue: "64", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "set-max-intset-entries", type: "int", defaultValue: "512", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "zset-max-listpack-entries", aliases: ["zset-max-ziplist-entries"], type: "int", defaultValue: "128", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "zset-max-listpack-value", aliases: ["zset-max-ziplist-value"], type: "int", defaultValue: "64", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "stream-node-max-bytes", type: "memory", defaultValue: "4096", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "stream-node-max-entries", type: "int", defaultValue: "100", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "hll-sparse-max-bytes", type: "memory", defaultValue: "3000", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "notify-keyspace-events", type: "string", defaultValue: "" },
  { name: "busy-reply-threshold", aliases: ["lua-time-limit"], type: "int", defaultValue: "5000", min: 0, max: Number.MAX_SAFE_INTEGER },
  { name: "close-on-replica-write", type: "bool", defaultValue: "yes" },
  { name: "loglevel", type: "enum", defaultValue: "notice", enumValues: ["debug", "verbose", "notice", "warning", "nothing"] },
  { name: "tcp-keepalive", type: "int", defaultValue: "300", min: 0, max: INT_MAX },
  { name: "maxmemory-samples", type: "int", defaultValue: "5", min: 1, max: 64 },
  { name: "maxmemory-eviction-tenacity", type: "int", defaultValue: "10", min: 0, max: 100 },
  { name: "maxmemory-clients", type: "memory", defaultValue: "0", min: 0, max: LONG_MAX, percentOk: true },
  { name: "repl-backlog-size", type: "memory", defaultValue: "1048576", min: 1, max: LONG_MAX },
  { name: "replicaof", aliases: ["slaveof"], type: "string", defaultValue: "", immutable: true },
  { name: "latency-monitor-threshold", type: "int", defaultValue: "0", min: 0, max: LONG_MAX },
  { name: "protected-mode", type: "bool", defaultValue: "yes" },
  { name: "daemonize", type: "bool", defaultValue: "no", immutable: true },
  { name: "dir", type: "string", defaultValue: "." },
  { name: "dbfilename", type: "string", defaultValue: "dump.rdb" },
  { name: "appendfilename", type: "string", defaultValue: "appendonly.aof", immutable: true },
  { name: "logfile", type: "string", defaultValue: "", immutable: true },
  { name: "enable-debug-command", type: "enum", defaultValue: "yes", enumValues: ["yes", "no", "local"], immutable: true },
  // Replication is Mnemo's own (effects through the log); these are accepted so
  // Redis tooling that sets them keeps working.
  { name: "replica-serve-stale-data", aliases: ["slave-serve-stale-data"], type: "bool", defaultValue: "yes" },
  { name: "replica-read-only", aliases: ["slave-read-only"], type: "bool", defaultValue: "yes" },
  { name: "min-replicas-to-write", aliases: ["min-slaves-to-write"], type: "int", defaultValue: "0", min: 0, max: INT_MAX },
  { name: "min-replicas-max-lag", aliases: ["min-slaves-max-lag"], type: "int", defaultValue: "10", min: 0, max: INT_MAX },
  { name: "masterauth", type: "string", defaultValue: "" },
  { name: "masteruser", type: "string", defaultValue: "" },
];
