// The configuration parameters the engine and server honour, with Redis 7.0's
// names and defaults. Parameters accepted only for compatibility say so.
import type { ParamDef } from "./config";

const INT_MAX = 2147483647;

export const PARAMS: readonly ParamDef[] = [
  { name: "databases", type: "int", defaultValue: "16", min: 1, max: INT_MAX, immutable: true },
  { name: "requirepass", type: "string", defaultValue: "" },
  { name: "maxclients", type: "int", defaultValue: "10000", min: 1, max: INT_MAX },
  { name: "timeout", type: "int", defaultValue: "0", min: 0, max: INT_MAX },
  { name: "port", type: "int", defaultValue: "6379", min: 0, max: 65535, immutable: true },
  { name: "bind", type: "string", defaultValue: "127.0.0.1", immutable: true },
  { name: "hz", type: "int", defaultValue: "10", min: 1, max: 500 },
  { name: "proto-max-bulk-len", type: "memory", defaultValue: String(512 * 1024 * 1024), min: 1024 * 1024, max: 512 * 1024 * 1024 },
  { name: "client-query-buffer-limit", type: "memory", defaultValue: String(1024 * 1024 * 1024), min: 1024 * 1024, max: Number.MAX_SAFE_INTEGER },
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
];
