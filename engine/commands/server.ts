// Server commands the engine answers alone: AUTH HELLO TIME CONFIG COMMAND
// SLOWLOG MEMORY SAVE BGSAVE LASTSAVE. Commands that need the TCP server
// (CLIENT, QUIT, DEBUG, SHUTDOWN ...) live in cluster/commands.ts.
import {
  array,
  bulk,
  bulks,
  EMPTY_ARRAY,
  err,
  int,
  map,
  NULL,
  OK,
  simple,
  verbatim,
  type Reply,
} from "../../resp/reply";
import type { Command, CommandSpec, CommandTable } from "../command";
import type { Ctx } from "../context";
import type { Engine } from "../engine";
import { compactLimits, encodingOf, isIntEncodable } from "../encoding";
import { E } from "../errors";
import { globMatch } from "../glob";
import { parseInt64, parseSafeInt } from "../num";
import type { Value } from "../value";
import { REDIS_VERSION, bytesToHuman, roleOf, usedMemoryBytes } from "./info";

// ---------------------------------------------------------------------------
// Shared helpers (also used by cluster/commands.ts)

/** Redis's addReplyHelp: a title line, the given lines, then HELP. */
export function helpReply(command: string, lines: readonly string[]): Reply {
  const head = `${command.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`;
  return array([head, ...lines, "HELP", "    Prints this help."].map(simple));
}

/** The command (or subcommand) a request names, without arity checks. */
export function resolveCommand(table: CommandTable, argv: readonly string[]): Command | undefined {
  const name = argv[0];
  if (name === undefined) return undefined;
  const c = table.lookup(name);
  if (c === undefined || c.subs === null) return c;
  const sub = argv[1];
  return sub === undefined ? c : c.subs.get(sub.toLowerCase());
}

/** Looks up "get" or "config|get" (COMMAND INFO / DOCS naming). */
export function commandByFullName(table: CommandTable, fullName: string): Command | undefined {
  const bar = fullName.indexOf("|");
  if (bar < 0) return table.lookup(fullName);
  const parent = table.lookup(fullName.slice(0, bar));
  return parent?.subs?.get(fullName.slice(bar + 1).toLowerCase());
}

export function arityOk(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}

/** Client names may hold only printable ASCII without spaces (Redis's rule). */
export function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

export const BAD_CLIENT_NAME = err("ERR Client names cannot contain spaces, newlines or special characters.");

// ---------------------------------------------------------------------------
// AUTH, HELLO

const WRONGPASS = err("WRONGPASS invalid username-password pair or user is disabled.");

/** Checks a user/password pair against the default user (requirepass). */
function passwordMatches(engine: Engine, user: string, pass: string): boolean {
  if (user !== "default") return false;
  const required = engine.config.get("requirepass");
  return required === "" || required === pass;
}

function auth(ctx: Ctx, argv: string[]): Reply {
  if (argv.length > 3) return E.syntax;
  let user = "default";
  let pass = argv[1] ?? "";
  if (argv.length === 2) {
    if (ctx.engine.config.get("requirepass") === "") {
      return err(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
    }
  } else {
    user = argv[1] ?? "";
    pass = argv[2] ?? "";
  }
  if (!passwordMatches(ctx.engine, user, pass)) return WRONGPASS;
  ctx.session.authenticated = true;
  ctx.session.user = user;
  return OK;
}

function helloOptions(ctx: Ctx, argv: string[]): Reply | null {
  const s = ctx.session;
  for (let j = 2; j < argv.length; j++) {
    const opt = argv[j] ?? "";
    const more = argv.length - 1 - j;
    const lower = opt.toLowerCase();
    if (lower === "auth" && more >= 2) {
      const user = argv[j + 1] ?? "";
      if (!passwordMatches(ctx.engine, user, argv[j + 2] ?? "")) return WRONGPASS;
      s.authenticated = true;
      s.user = user;
      j += 2;
    } else if (lower === "setname" && more >= 1) {
      const name = argv[j + 1] ?? "";
      if (!validClientName(name)) return BAD_CLIENT_NAME;
      s.name = name;
      j++;
    } else {
      return err(`ERR Syntax error in HELLO option '${opt}'`);
    }
  }
  return null;
}

function hello(ctx: Ctx, argv: string[]): Reply {
  let ver = 0;
  const raw = argv[1];
  if (raw !== undefined) {
    const v = parseInt64(raw);
    if (v === null) return err("ERR Protocol version is not an integer or out of range");
    if (v !== 2 && v !== 3) return err("NOPROTO unsupported protocol version");
    ver = v;
  }
  const bad = helloOptions(ctx, argv);
  if (bad !== null) return bad;
  const s = ctx.session;
  if (!s.authenticated) {
    return err(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (ver !== 0) s.resp = ver === 3 ? 3 : 2;
  return map([
    bulk("server"),
    bulk("redis"),
    bulk("version"),
    bulk(REDIS_VERSION),
    bulk("proto"),
    int(s.resp),
    bulk("id"),
    int(s.id),
    bulk("mode"),
    bulk("standalone"),
    bulk("role"),
    bulk(roleOf(ctx.engine) === "replica" ? "replica" : "master"),
    bulk("modules"),
    EMPTY_ARRAY,
  ]);
}

// ---------------------------------------------------------------------------
// TIME, SAVE, BGSAVE, LASTSAVE

function time(ctx: Ctx): Reply {
  // The frozen command time (injected clock): whole ms, so microseconds end in 000.
  const ms = ctx.now;
  return bulks([String(Math.floor(ms / 1000)), String((ms % 1000) * 1000)]);
}

/** Snapshots are built off-box from the log; a SAVE marks the dataset as saved. */
function markSaved(ctx: Ctx): void {
  const s = ctx.engine.stats;
  s.dirtyAtLastSave = s.dirty;
  s.lastSaveMs = ctx.now;
  s.saves++;
}

function save(ctx: Ctx): Reply {
  markSaved(ctx);
  return OK;
}

function bgsave(ctx: Ctx, argv: string[]): Reply {
  if (argv.length > 2 || (argv.length === 2 && (argv[1] ?? "").toLowerCase() !== "schedule")) return E.syntax;
  markSaved(ctx);
  return simple("Background saving started");
}

function lastsave(ctx: Ctx): Reply {
  return int(Math.floor(ctx.engine.stats.lastSaveMs / 1000));
}

// ---------------------------------------------------------------------------
// CONFIG

function configGet(ctx: Ctx, argv: string[]): Reply {
  const out: Reply[] = [];
  for (const [k, v] of ctx.engine.config.lookup(argv.slice(2))) out.push(bulk(k), bulk(v));
  return map(out);
}

function configSet(ctx: Ctx, argv: string[]): Reply {
  if (argv.length % 2 !== 0) return E.syntax;
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i] ?? "", argv[i + 1] ?? ""]);
  const e = ctx.engine.config.setMany(pairs);
  return e === null ? OK : err(e);
}

/** CONFIG RESETSTAT: every counter INFO reports, the command and error stats. */
export function resetStats(engine: Engine): void {
  engine.stats.reset();
  const visit = (c: Command): void => {
    c.calls = 0;
    c.usec = 0;
    c.rejectedCalls = 0;
    c.failedCalls = 0;
    if (c.subs !== null) for (const s of c.subs.values()) visit(s);
  };
  for (const c of engine.table.all()) visit(c);
}

const CONFIG_HELP = [
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
];

const ADMIN: CommandSpec["flags"] = ["admin", "noscript", "loading", "stale"];

const CONFIG: CommandSpec = {
  name: "config",
  arity: -2,
  flags: [],
  group: "server",
  since: "2.0.0",
  summary: "A container for server configuration commands",
  subcommands: [
    { name: "get", arity: -3, flags: ADMIN, group: "server", since: "2.0.0", summary: "Get the values of configuration parameters", run: configGet },
    { name: "set", arity: -4, flags: ADMIN, group: "server", since: "2.0.0", summary: "Set configuration parameters to the given values", run: configSet },
    {
      name: "resetstat",
      arity: 2,
      flags: ADMIN,
      group: "server",
      since: "2.0.0",
      summary: "Reset the stats returned by INFO",
      run: (ctx) => {
        resetStats(ctx.engine);
        return OK;
      },
    },
    {
      name: "rewrite",
      arity: 2,
      flags: ADMIN,
      group: "server",
      since: "2.8.0",
      summary: "Rewrite the configuration file with the in memory configuration",
      run: () => err("ERR The server is running without a config file"),
    },
    { name: "help", arity: 2, flags: ["loading", "stale"], group: "server", since: "5.0.0", summary: "Show helpful text about the different subcommands", run: () => helpReply("config", CONFIG_HELP) },
  ],
};

// ---------------------------------------------------------------------------
// COMMAND

const GROUP_CATEGORY: Record<string, string> = {
  string: "@string",
  list: "@list",
  set: "@set",
  sorted_set: "@sortedset",
  hash: "@hash",
  stream: "@stream",
  hyperloglog: "@hyperloglog",
  geo: "@geo",
  bitmap: "@bitmap",
  generic: "@keyspace",
  connection: "@connection",
  transactions: "@transaction",
  scripting: "@scripting",
  pubsub: "@pubsub",
};

/** Redis lists a command's categories in the order of its category bits. */
const ACL_ORDER = ["@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string", "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow", "@blocking", "@dangerous", "@connection", "@transaction", "@scripting"];

/** ACL categories implied by flags and group, as Redis's setImplicitACLCategories. */
export function aclCategories(c: Command): string[] {
  const f = c.spec.flags;
  const out: string[] = [];
  if (f.includes("write")) out.push("@write");
  if (f.includes("readonly") && c.spec.group !== "scripting") out.push("@read");
  if (f.includes("admin")) out.push("@admin", "@dangerous");
  if (f.includes("pubsub")) out.push("@pubsub");
  if (f.includes("fast")) out.push("@fast");
  if (f.includes("blocking")) out.push("@blocking");
  if (!f.includes("fast")) out.push("@slow");
  const g = GROUP_CATEGORY[c.spec.group];
  if (g !== undefined && !out.includes(g)) out.push(g);
  return out.sort((a, b) => ACL_ORDER.indexOf(a) - ACL_ORDER.indexOf(b));
}

function keySpecs(c: Command): Reply {
  if (c.firstKey === 0) return EMPTY_ARRAY;
  const f = c.spec.flags;
  const flags = f.includes("write") ? ["RW", "access", "update"] : f.includes("readonly") ? ["RO", "access"] : ["RW"];
  const lastkey = c.lastKey < 0 ? c.lastKey : c.lastKey - c.firstKey;
  return array([
    map([
      bulk("flags"),
      { kind: "set", items: flags.map(simple) },
      bulk("begin_search"),
      map([bulk("type"), bulk("index"), bulk("spec"), map([bulk("index"), int(c.firstKey)])]),
      bulk("find_keys"),
      map([bulk("type"), bulk("range"), bulk("spec"), map([bulk("lastkey"), int(lastkey), bulk("keystep"), int(c.keyStep), bulk("limit"), int(0)])]),
    ]),
  ]);
}

/** One COMMAND / COMMAND INFO entry in Redis 7.0's ten-field shape. */
export function commandInfo(c: Command): Reply {
  const subs = c.subs === null ? [] : [...c.subs.values()].map(commandInfo);
  return array([
    bulk(c.fullName),
    int(c.spec.arity),
    { kind: "set", items: c.spec.flags.map(simple) },
    int(c.firstKey),
    int(c.lastKey),
    int(c.keyStep),
    { kind: "set", items: aclCategories(c).map(simple) },
    { kind: "set", items: [] },
    keySpecs(c),
    array(subs),
  ]);
}

function commandDocs(c: Command): Reply {
  const fields: Reply[] = [];
  if (c.spec.summary !== undefined) fields.push(bulk("summary"), bulk(c.spec.summary));
  if (c.spec.since !== undefined) fields.push(bulk("since"), bulk(c.spec.since));
  fields.push(bulk("group"), bulk(c.spec.group));
  if (c.subs !== null) {
    const subs: Reply[] = [];
    for (const s of c.subs.values()) subs.push(bulk(s.fullName), commandDocs(s));
    fields.push(bulk("subcommands"), map(subs));
  }
  return map(fields);
}

function commandGetKeys(engine: Engine, argv: string[], withFlags: boolean): Reply {
  const target = argv.slice(2);
  const c = resolveCommand(engine.table, target);
  if (c === undefined || (c.subs !== null && c.spec.run === undefined)) return err("ERR Invalid command specified");
  if (c.firstKey === 0 && c.spec.getKeys === undefined) return err("ERR The command has no key arguments");
  if (!arityOk(c.spec.arity, target.length)) return err("ERR Invalid number of arguments specified for command");
  const idx = c.keyIndexes(target);
  if (idx.length === 0 && c.spec.getKeys !== undefined) return err("ERR Invalid arguments specified for command");
  if (withFlags) {
    const flags = c.spec.flags.includes("write") ? ["RW", "access", "update"] : ["RO", "access"];
    return array(idx.map((i) => array([bulk(target[i] ?? ""), { kind: "set", items: flags.map(simple) }])));
  }
  return bulks(idx.map((i) => target[i] ?? ""));
}

function commandList(engine: Engine, argv: string[]): Reply {
  let filter: ((c: Command) => boolean) | null = null;
  if (argv.length > 2) {
    if (argv.length !== 5 || (argv[2] ?? "").toLowerCase() !== "filterby") return E.syntax;
    const arg = argv[4] ?? "";
    switch ((argv[3] ?? "").toLowerCase()) {
      case "module":
        filter = () => false;
        break;
      case "aclcat":
        filter = (c) => aclCategories(c).includes(`@${arg.toLowerCase()}`);
        break;
      case "pattern":
        filter = (c) => globMatch(arg, c.fullName, true);
        break;
      default:
        return E.syntax;
    }
  }
  const names: string[] = [];
  const visit = (c: Command): void => {
    if (filter === null || filter(c)) names.push(c.fullName);
    if (c.subs !== null) for (const s of c.subs.values()) visit(s);
  };
  for (const c of engine.table.all()) visit(c);
  return bulks(names);
}

const COMMAND_HELP = [
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
];

const COMMAND_SUB_ARITY: Record<string, number> = { count: 2, docs: -2, getkeys: -3, getkeysandflags: -3, help: 2, info: -2, list: -2 };

function command(ctx: Ctx, argv: string[]): Reply {
  const engine = ctx.engine;
  if (argv.length === 1) return array(engine.table.all().map(commandInfo));
  const sub = (argv[1] ?? "").toLowerCase();
  const arity = COMMAND_SUB_ARITY[sub];
  if (arity === undefined) return E.unknownSubcommand(argv[1] ?? "", "command");
  if (!arityOk(arity, argv.length)) return E.wrongArity(`command|${sub}`);
  switch (sub) {
    case "count":
      return int(engine.table.all().length);
    case "info": {
      if (argv.length === 2) return array(engine.table.all().map(commandInfo));
      return array(argv.slice(2).map((n) => {
        const c = commandByFullName(engine.table, n);
        return c === undefined ? NULL : commandInfo(c);
      }));
    }
    case "docs": {
      const list = argv.length === 2 ? engine.table.all() : argv.slice(2).map((n) => commandByFullName(engine.table, n));
      const out: Reply[] = [];
      for (const c of list) if (c !== undefined) out.push(bulk(c.fullName), commandDocs(c));
      return map(out);
    }
    case "getkeys":
      return commandGetKeys(engine, argv, false);
    case "getkeysandflags":
      return commandGetKeys(engine, argv, true);
    case "list":
      return commandList(engine, argv);
    case "help":
      return helpReply("command", COMMAND_HELP);
    default:
      return E.unknownSubcommand(argv[1] ?? "", "command");
  }
}

// ---------------------------------------------------------------------------
// SLOWLOG

function slowlogGet(ctx: Ctx, argv: string[]): Reply {
  let count = 10;
  if (argv.length === 3) {
    const n = parseSafeInt(argv[2] ?? "");
    if (n === null) return E.notInteger;
    if (n < -1) return err("ERR count should be greater than or equal to -1");
    count = n === -1 ? Number.MAX_SAFE_INTEGER : n;
  } else if (argv.length > 3) {
    return E.wrongArity("slowlog|get");
  }
  const entries = ctx.engine.stats.slowlog.entries.slice(0, count);
  return array(
    entries.map((e) => array([int(e.id), int(e.timeSec), int(e.durationUs), bulks(e.argv), bulk(e.addr), bulk(e.name)])),
  );
}

const SLOWLOG_HELP = [
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
];

const SLOWLOG: CommandSpec = {
  name: "slowlog",
  arity: -2,
  flags: [],
  group: "server",
  since: "2.2.12",
  summary: "A container for slow log commands",
  subcommands: [
    { name: "get", arity: -2, flags: ["admin", "loading", "stale"], group: "server", since: "2.2.12", summary: "Get the slow log's entries", run: slowlogGet },
    { name: "len", arity: 2, flags: ["admin", "loading", "stale"], group: "server", since: "2.2.12", summary: "Get the slow log's length", run: (ctx) => int(ctx.engine.stats.slowlog.entries.length) },
    {
      name: "reset",
      arity: 2,
      flags: ["admin", "loading", "stale"],
      group: "server",
      since: "2.2.12",
      summary: "Clear all entries from the slow log",
      run: (ctx) => {
        ctx.engine.stats.slowlog.reset();
        return OK;
      },
    },
    { name: "help", arity: 2, flags: ["loading", "stale"], group: "server", since: "6.2.0", summary: "Show helpful text about the different subcommands", run: () => helpReply("slowlog", SLOWLOG_HELP) },
  ],
};

// ---------------------------------------------------------------------------
// MEMORY

/** jemalloc's size classes: what an allocation of `n` bytes really takes. */
export function allocSize(n: number): number {
  if (n <= 8) return 8;
  if (n <= 128) return Math.ceil(n / 16) * 16;
  const spacing = 2 ** (Math.floor(Math.log2(n - 1)) - 2);
  return Math.ceil(n / spacing) * spacing;
}

/** Bytes of an sds string of `len` bytes (header by size class, terminator). */
function sdsBytes(len: number): number {
  const hdr = len < 256 ? 3 : len < 65536 ? 5 : 9;
  return allocSize(hdr + len + 1);
}

const ROBJ_BYTES = 16;
const DICT_ENTRY_BYTES = 24;

function stringValueBytes(s: string): number {
  if (isIntEncodable(s)) return ROBJ_BYTES;
  if (s.length <= 44) return allocSize(ROBJ_BYTES + 3 + s.length + 1);
  return ROBJ_BYTES + sdsBytes(s.length);
}

/** Average cost of the first `samples` items, scaled to `total` items (Redis samples too). */
function sampled(items: readonly string[], total: number, perItem: (s: string) => number, samples: number): number {
  const n = Math.min(items.length, samples);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += perItem(items[i] ?? "");
  return Math.round((sum / n) * total);
}

/** Bytes one element takes inside a listpack: encoding, data, back-length. */
function listpackEntryBytes(s: string): number {
  let body: number;
  const n = isIntEncodable(s) ? Number(s) : NaN;
  if (!Number.isNaN(n)) {
    const a = Math.abs(n);
    body = a < 64 ? 1 : a < 4096 ? 2 : a < 32768 ? 3 : a < 2 ** 23 ? 4 : a < 2 ** 31 ? 5 : 9;
  } else {
    body = s.length + (s.length < 64 ? 1 : s.length < 4096 ? 2 : 5);
  }
  return body + (body < 128 ? 1 : body < 16384 ? 2 : 3);
}

function listpackBytes(items: readonly string[], total: number, samples: number): number {
  return allocSize(7 + sampled(items, total, listpackEntryBytes, samples));
}

/** A dict: its struct, its bucket array, one entry per element. */
function dictBytes(n: number): number {
  let buckets = 4;
  while (buckets < n) buckets *= 2;
  return 56 + buckets * 8 + n * DICT_ENTRY_BYTES;
}

function intsetBytes(items: readonly string[]): number {
  let width = 2;
  for (const m of items) {
    const a = Math.abs(Number(m));
    if (a >= 2 ** 31) width = 8;
    else if (a >= 2 ** 15 && width < 4) width = 4;
  }
  return allocSize(8 + items.length * width);
}

function collectionBytes(engine: Engine, v: Exclude<Value, string>, samples: number): number {
  const enc = encodingOf(v, compactLimits(engine.config));
  switch (v.kind) {
    case "list": {
      const items = v.range(0, Math.min(v.length, samples));
      const nodes = Math.max(1, Math.ceil(v.length / 128));
      return ROBJ_BYTES + 40 + nodes * 32 + allocSize(7 * nodes + sampled(items, v.length, listpackEntryBytes, samples));
    }
    case "hash": {
      const flat = v.flat();
      if (enc === "listpack") return ROBJ_BYTES + listpackBytes(flat, flat.length, samples * 2);
      return ROBJ_BYTES + dictBytes(v.length) + sampled(flat, flat.length, (x) => sdsBytes(x.length), samples * 2);
    }
    case "set": {
      const items = v.toArray();
      if (enc === "intset") return ROBJ_BYTES + intsetBytes(items);
      return ROBJ_BYTES + dictBytes(items.length) + sampled(items, items.length, (x) => sdsBytes(x.length), samples);
    }
    case "zset": {
      const entries = v.entries();
      if (enc === "listpack") {
        const flat = entries.flatMap(([m, sc]) => [m, String(sc)]);
        return ROBJ_BYTES + listpackBytes(flat, flat.length, samples * 2);
      }
      const members = entries.map(([m]) => m);
      return ROBJ_BYTES + 32 + dictBytes(members.length) + sampled(members, members.length, (x) => sdsBytes(x.length) + 48, samples);
    }
    case "stream":
      return ROBJ_BYTES + 128 + v.length * 64;
    default: {
      const never: never = v;
      throw new Error(`unknown value ${String(never)}`);
    }
  }
}

/** MEMORY USAGE: an estimate of the bytes `key` and its value take, in Redis's terms. */
export function memoryUsage(engine: Engine, key: string, v: Value, samples: number): number {
  const valueBytes = typeof v === "string" ? stringValueBytes(v) : collectionBytes(engine, v, samples);
  return valueBytes + sdsBytes(key.length) + DICT_ENTRY_BYTES;
}

function memoryUsageCmd(ctx: Ctx, argv: string[]): Reply {
  let samples = 5;
  for (let j = 3; j < argv.length; j++) {
    if ((argv[j] ?? "").toLowerCase() === "samples" && j + 1 < argv.length) {
      const n = parseInt64(argv[j + 1] ?? "");
      if (n === null) return E.notInteger;
      if (n < 0) return E.syntax;
      samples = n === 0 || typeof n === "bigint" ? Number.MAX_SAFE_INTEGER : n;
      j++;
    } else {
      return E.syntax;
    }
  }
  const key = argv[2] ?? "";
  const v = ctx.db.data.get(key);
  if (v === undefined) return NULL;
  return int(memoryUsage(ctx.engine, key, v, samples));
}

function memoryStats(ctx: Ctx): Reply {
  const engine = ctx.engine;
  const used = usedMemoryBytes();
  const m = process.memoryUsage();
  let keys = 0;
  const dbs: Reply[] = [];
  for (const db of engine.dbs) {
    keys += db.size;
    if (db.size === 0 && db.expires.size === 0) continue;
    dbs.push(bulk(`db.${db.id}`), map([bulk("overhead.hashtable.main"), int(db.size * DICT_ENTRY_BYTES), bulk("overhead.hashtable.expires"), int(db.expires.size * DICT_ENTRY_BYTES), bulk("overhead.hashtable.slot-to-keys"), int(0)]));
  }
  const overhead = m.external;
  const dataset = Math.max(0, used - overhead);
  return map([
    bulk("peak.allocated"), int(used),
    bulk("total.allocated"), int(used),
    bulk("startup.allocated"), int(0),
    bulk("replication.backlog"), int(0),
    bulk("clients.slaves"), int(0),
    bulk("clients.normal"), int(0),
    bulk("cluster.links"), int(0),
    bulk("aof.buffer"), int(0),
    bulk("lua.caches"), int(0),
    bulk("functions.caches"), int(0),
    ...dbs,
    bulk("overhead.total"), int(overhead),
    bulk("keys.count"), int(keys),
    bulk("keys.bytes-per-key"), int(keys === 0 ? 0 : Math.floor(dataset / keys)),
    bulk("dataset.bytes"), int(dataset),
    bulk("dataset.percentage"), { kind: "double", value: used === 0 ? 0 : (dataset * 100) / used },
    bulk("peak.percentage"), { kind: "double", value: 100 },
    bulk("allocator.allocated"), int(used),
    bulk("allocator.active"), int(m.heapTotal + m.external),
    bulk("allocator.resident"), int(m.rss),
    bulk("allocator-fragmentation.ratio"), { kind: "double", value: 1 },
    bulk("allocator-fragmentation.bytes"), int(0),
    bulk("allocator-rss.ratio"), { kind: "double", value: m.rss / Math.max(1, used) },
    bulk("allocator-rss.bytes"), int(m.rss - used),
    bulk("rss-overhead.ratio"), { kind: "double", value: 1 },
    bulk("rss-overhead.bytes"), int(0),
    bulk("fragmentation"), { kind: "double", value: m.rss / Math.max(1, used) },
    bulk("fragmentation.bytes"), int(m.rss - used),
  ]);
}

/** A short, real report: what the process holds and what to look at. */
function memoryDoctor(ctx: Ctx): Reply {
  const used = usedMemoryBytes();
  const rss = process.memoryUsage.rss();
  const maxmemory = ctx.engine.config.getInt("maxmemory");
  const lines: string[] = [];
  if (used < 5 * 1024 * 1024) {
    lines.push("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.");
  } else {
    lines.push(`Sam, I have looked at this instance: it uses ${bytesToHuman(used)} of data and ${bytesToHuman(rss)} of RSS.`);
    if (rss > used * 1.5) lines.push(" * High RSS overhead: the JavaScript heap holds free space it has not returned to the system yet.");
    if (maxmemory > 0 && used > maxmemory * 0.9) lines.push(" * Used memory is above 90% of maxmemory.");
    if (lines.length === 1) lines.push("I can't find any memory issue in your instance. I can only account for what occurs on this base.");
  }
  return verbatim(`${lines.join("\n")}\n`);
}

const MEMORY_HELP = [
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
];

const MEMORY: CommandSpec = {
  name: "memory",
  arity: -2,
  flags: [],
  group: "server",
  since: "4.0.0",
  summary: "A container for memory diagnostics commands",
  subcommands: [
    { name: "usage", arity: -3, flags: ["readonly"], keys: [2, 2, 1], group: "server", since: "4.0.0", summary: "Estimate the memory usage of a key", run: memoryUsageCmd },
    { name: "stats", arity: 2, flags: [], group: "server", since: "4.0.0", summary: "Show memory usage details", run: memoryStats },
    { name: "doctor", arity: 2, flags: [], group: "server", since: "4.0.0", summary: "Outputs memory problems report", run: memoryDoctor },
    {
      name: "malloc-stats",
      arity: 2,
      flags: [],
      group: "server",
      since: "4.0.0",
      summary: "Show allocator internal stats",
      run: () => verbatim(`${JSON.stringify(process.memoryUsage())}\n`),
    },
    { name: "purge", arity: 2, flags: [], group: "server", since: "4.0.0", summary: "Ask the allocator to release memory", run: () => OK },
    { name: "help", arity: 2, flags: ["loading", "stale"], group: "server", since: "4.0.0", summary: "Show helpful text about the different subcommands", run: () => helpReply("memory", MEMORY_HELP) },
  ],
};

export const SERVER_COMMANDS: readonly CommandSpec[] = [
  { name: "auth", arity: -2, flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"], group: "connection", since: "1.0.0", summary: "Authenticate to the server", run: auth },
  { name: "hello", arity: -1, flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"], group: "connection", since: "6.0.0", summary: "Handshake with Redis", run: hello },
  { name: "time", arity: 1, flags: ["loading", "stale", "fast"], group: "server", since: "2.6.0", summary: "Return the current server time", run: time },
  { name: "save", arity: 1, flags: ["admin", "noscript", "no_multi"], group: "server", since: "1.0.0", summary: "Synchronously save the dataset to disk", run: save },
  { name: "bgsave", arity: -1, flags: ["admin", "noscript"], group: "server", since: "1.0.0", summary: "Asynchronously save the dataset to disk", run: bgsave },
  { name: "lastsave", arity: 1, flags: ["loading", "stale", "fast"], group: "server", since: "1.0.0", summary: "Get the UNIX time stamp of the last successful save to disk", run: lastsave },
  CONFIG,
  { name: "command", arity: -1, flags: ["loading", "stale"], group: "server", since: "2.8.13", summary: "Get array of Redis command details", run: command },
  SLOWLOG,
  MEMORY,
];
