// Commands that need the server, not just the engine: QUIT RESET CLIENT
// SHUTDOWN DEBUG (and a FUNCTION FLUSH placeholder until functions land).
import {
  array,
  bulk,
  double,
  err,
  int,
  map,
  NONE,
  NULL,
  NULL_ARRAY,
  OK,
  simple,
  verbatim,
  type Reply,
} from "../resp/reply";
import type { CommandSpec } from "../engine/command";
import type { Ctx } from "../engine/context";
import { encodingOf, compactLimits, idleMs } from "../engine/encoding";
import { digestValue } from "../engine/digest";
import { E } from "../engine/errors";
import { parseInt64, parseSafeInt } from "../engine/num";
import { parseMemory } from "../engine/config";
import { BAD_CLIENT_NAME, helpReply, validClientName } from "../engine/commands/server";
import { debugReload, parseReloadOptions, RELOAD_BAD_OPTION } from "../snapshot/reload";
import type { Connection } from "./connection";
import type { Server } from "./server";

type ClientType = "normal" | "master" | "replica" | "pubsub";

function clientTypeByName(name: string): ClientType | null {
  switch (name.toLowerCase()) {
    case "normal":
      return "normal";
    case "master":
      return "master";
    case "replica":
    case "slave":
      return "replica";
    case "pubsub":
      return "pubsub";
    default:
      return null;
  }
}

function clientTypeOf(server: Server, conn: Connection): ClientType {
  return server.clientExtra(conn).flags.includes("P") ? "pubsub" : "normal";
}

/** One CLIENT LIST / CLIENT INFO line, in Redis 7.0's field order. */
export function clientInfoLine(server: Server, conn: Connection, nowMs: number): string {
  const s = conn.session;
  const extra = server.clientExtra(conn);
  let flags = extra.flags;
  if (s.multi !== null) flags += "x";
  if (conn.blocked !== null) flags += "b";
  if (s.watchDirty) flags += "d";
  if (conn.closing) flags += "c";
  if (s.readonlyMode) flags += "r";
  if (s.noEvict) flags += "e";
  if (server.monitors.has(conn)) flags = `O${flags}`;
  if (flags === "") flags = "N";
  const qbuf = conn.queryBytes;
  const omem = conn.outputBytes;
  const age = Math.floor((nowMs - s.createdAtMs) / 1000);
  const idle = Math.floor((nowMs - s.lastInteractionMs) / 1000);
  return (
    `id=${s.id} addr=${conn.addr} laddr=${conn.laddr} fd=${conn.fd} name=${s.name} age=${age} idle=${idle} flags=${flags} ` +
    `db=${s.db} sub=${extra.sub} psub=${extra.psub} ssub=${extra.ssub} multi=${s.multi === null ? -1 : s.multi.length} ` +
    `qbuf=${qbuf} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=${omem} tot-mem=${qbuf + omem + 16384} ` +
    `events=r cmd=${s.lastCommand} user=${s.user} redir=${extra.redir} resp=${s.resp}`
  );
}

const CLIENT_HELP = [
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
];

interface KillFilter {
  addr: string | null;
  laddr: string | null;
  type: ClientType | null;
  id: number;
  user: string | null;
  skipme: boolean;
}

/** Parses CLIENT KILL's new form; returns the filter or the error reply. */
function parseKillFilter(argv: string[]): KillFilter | Reply {
  const f: KillFilter = { addr: null, laddr: null, type: null, id: 0, user: null, skipme: true };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = (argv[i] ?? "").toLowerCase();
    const val = argv[i + 1];
    if (val === undefined) return E.syntax;
    if (opt === "id") {
      const n = parseSafeInt(val);
      if (n === null || n < 1) return err("ERR client-id should be greater than 0");
      f.id = n;
    } else if (opt === "type") {
      f.type = clientTypeByName(val);
      if (f.type === null) return err(`ERR Unknown client type '${val}'`);
    } else if (opt === "addr") {
      f.addr = val;
    } else if (opt === "laddr") {
      f.laddr = val;
    } else if (opt === "user") {
      if (val !== "default") return err(`ERR No such user '${val}'`);
      f.user = val;
    } else if (opt === "skipme") {
      const l = val.toLowerCase();
      if (l !== "yes" && l !== "no") return E.syntax;
      f.skipme = l === "yes";
    } else {
      return E.syntax;
    }
  }
  return f;
}

function clientKill(server: Server, ctx: Ctx, argv: string[]): Reply {
  const me = server.clients.get(ctx.session.id);
  const oldForm = argv.length === 3;
  let f: KillFilter;
  if (oldForm) {
    f = { addr: argv[2] ?? "", laddr: null, type: null, id: 0, user: null, skipme: false };
  } else {
    const parsed = parseKillFilter(argv);
    if (!("skipme" in parsed)) return parsed;
    f = parsed;
  }
  let killed = 0;
  for (const c of [...server.clients.values()]) {
    if (f.addr !== null && c.addr !== f.addr) continue;
    if (f.laddr !== null && c.laddr !== f.laddr) continue;
    if (f.type !== null && clientTypeOf(server, c) !== f.type) continue;
    if (f.id !== 0 && c.session.id !== f.id) continue;
    if (f.user !== null && c.session.user !== f.user) continue;
    if (c === me && f.skipme) continue;
    if (c === me) c.closing = true;
    else c.destroy();
    killed++;
  }
  if (oldForm) return killed === 0 ? err("ERR No such client") : OK;
  return int(killed);
}

function clientList(server: Server, argv: string[]): Reply {
  const now = Date.now();
  let conns = [...server.clients.values()];
  if (argv.length === 4 && (argv[2] ?? "").toLowerCase() === "type") {
    const type = clientTypeByName(argv[3] ?? "");
    if (type === null) return err(`ERR Unknown client type '${argv[3] ?? ""}'`);
    conns = conns.filter((c) => clientTypeOf(server, c) === type);
  } else if (argv.length > 3 && (argv[2] ?? "").toLowerCase() === "id") {
    const picked: Connection[] = [];
    for (let j = 3; j < argv.length; j++) {
      const id = parseInt64(argv[j] ?? "");
      if (id === null) return err("ERR Invalid client ID");
      const c = typeof id === "number" ? server.clients.get(id) : undefined;
      if (c !== undefined) picked.push(c);
    }
    conns = picked;
  } else if (argv.length !== 2) {
    return E.syntax;
  }
  let out = "";
  for (const c of conns) out += `${clientInfoLine(server, c, now)}\n`;
  return verbatim(out);
}

function clientPause(server: Server, argv: string[]): Reply {
  let type: "write" | "all" = "all";
  if (argv.length === 4) {
    const m = (argv[3] ?? "").toLowerCase();
    if (m === "write") type = "write";
    else if (m !== "all") return err("ERR CLIENT PAUSE mode must be WRITE or ALL");
  }
  const ms = parseInt64(argv[2] ?? "");
  if (ms === null || typeof ms === "bigint") return err("ERR timeout is not an integer or out of range");
  if (ms < 0) return err("ERR timeout is negative");
  server.pauseClients(type, ms === 0 ? 0 : Date.now() + ms);
  return OK;
}

function clientReply(ctx: Ctx, argv: string[]): Reply {
  const s = ctx.session;
  switch ((argv[2] ?? "").toLowerCase()) {
    case "on":
      s.replyMode = "on";
      return OK;
    case "off":
      s.replyMode = "off";
      return NONE;
    case "skip":
      if (s.replyMode !== "off") s.replyMode = "skip";
      return NONE;
    default:
      return E.syntax;
  }
}

function clientUnblock(server: Server, argv: string[]): Reply {
  let reason: "timeout" | "error" = "timeout";
  if (argv.length === 4) {
    const r = (argv[3] ?? "").toLowerCase();
    if (r === "error") reason = "error";
    else if (r !== "timeout") return err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  }
  const id = parseInt64(argv[2] ?? "");
  if (id === null) return E.notInteger;
  const target = typeof id === "number" ? server.clients.get(id) : undefined;
  const b = target?.blocked ?? null;
  if (target === undefined || b === null || b.kind !== "command") return int(0);
  const reply = b.cancel?.(reason) ?? (reason === "error" ? err("UNBLOCKED client unblocked via CLIENT UNBLOCK") : NULL_ARRAY);
  target.unblock(reply);
  return int(1);
}

const CONN: CommandSpec["flags"] = ["noscript", "loading", "stale"];
const ADMIN: CommandSpec["flags"] = ["admin", "noscript", "loading", "stale"];

function clientCommand(server: Server): CommandSpec {
  const sub = (name: string, arity: number, flags: CommandSpec["flags"], summary: string, run: CommandSpec["run"]): CommandSpec => ({
    name,
    arity,
    flags,
    group: "connection",
    summary,
    run,
  });
  return {
    name: "client",
    arity: -2,
    flags: [],
    group: "connection",
    since: "2.4.0",
    summary: "A container for client connection commands",
    subcommands: [
      sub("id", 2, CONN, "Returns the client ID for the current connection", (ctx) => int(ctx.session.id)),
      sub("info", 2, CONN, "Returns information about the current client connection.", (ctx) => {
        const me = server.clients.get(ctx.session.id);
        return verbatim(me === undefined ? "\n" : `${clientInfoLine(server, me, Date.now())}\n`);
      }),
      sub("list", -2, ADMIN, "Get the list of client connections", (_ctx, argv) => clientList(server, argv)),
      sub("kill", -3, ADMIN, "Kill the connection of a client", (ctx, argv) => clientKill(server, ctx, argv)),
      sub("setname", 3, CONN, "Set the current connection name", (ctx, argv) => {
        const name = argv[2] ?? "";
        if (!validClientName(name)) return BAD_CLIENT_NAME;
        ctx.session.name = name;
        return OK;
      }),
      sub("getname", 2, CONN, "Get the current connection name", (ctx) => (ctx.session.name === "" ? NULL : bulk(ctx.session.name))),
      sub("reply", 3, CONN, "Instruct the server whether to reply to commands", clientReply),
      sub("no-evict", 3, ADMIN, "Set client eviction mode for the current connection", (ctx, argv) => {
        const v = (argv[2] ?? "").toLowerCase();
        if (v !== "on" && v !== "off") return E.syntax;
        ctx.session.noEvict = v === "on";
        return OK;
      }),
      sub("pause", -3, ADMIN, "Stop processing commands from clients for some time", (_ctx, argv) =>
        argv.length > 4 ? E.syntax : clientPause(server, argv),
      ),
      sub("unpause", 2, ADMIN, "Resume processing of clients that were paused", () => {
        server.unpause();
        return OK;
      }),
      sub("unblock", -3, ADMIN, "Unblock a client blocked in a blocking command from a different connection", (_ctx, argv) =>
        argv.length > 4 ? E.syntax : clientUnblock(server, argv),
      ),
      sub("help", 2, ["loading", "stale"], "Show helpful text about the different subcommands", () => helpReply("client", CLIENT_HELP)),
    ],
  };
}

// ---------------------------------------------------------------------------
// RESET, QUIT, SHUTDOWN

function reset(server: Server, ctx: Ctx): Reply {
  const s = ctx.session;
  const conn = server.clients.get(s.id);
  ctx.engine.forgetSession(s);
  s.multiError = false;
  s.db = 0;
  ctx.db = ctx.engine.db(0);
  s.resp = 2;
  s.name = "";
  s.replyMode = "on";
  s.readonlyMode = false;
  s.noEvict = false;
  s.user = "default";
  s.authenticated = ctx.engine.config.get("requirepass") === "";
  if (conn !== undefined) {
    server.monitors.delete(conn);
    for (const hook of server.resetHooks) hook(conn);
  }
  return simple("RESET");
}

function shutdown(server: Server, argv: string[]): Reply {
  let save = false;
  let nosave = false;
  let abort = false;
  let other = false;
  for (let i = 1; i < argv.length; i++) {
    const a = (argv[i] ?? "").toLowerCase();
    if (a === "nosave") nosave = true;
    else if (a === "save") save = true;
    else if (a === "now" || a === "force") other = true;
    else if (a === "abort") abort = true;
    else return E.syntax;
  }
  if ((abort && (save || nosave || other)) || (save && nosave)) return E.syntax;
  if (abort) return err("ERR No shutdown in progress.");
  server.shutdown(argv.slice(1).join(" ").toLowerCase() || "shutdown");
  return NONE;
}

// ---------------------------------------------------------------------------
// DEBUG

/** Blocks the whole process, as Redis's DEBUG SLEEP blocks its event loop. */
function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function debugObject(ctx: Ctx, key: string): Reply {
  const v = ctx.db.data.get(key);
  if (v === undefined) return E.noSuchKey;
  const enc = encodingOf(v, compactLimits(ctx.engine.config));
  const idle = Math.floor(idleMs(ctx.db, key, ctx.now) / 1000);
  let extra = "";
  let serialized = typeof v === "string" ? v.length : 0;
  if (typeof v !== "string") {
    serialized = v.length * 8;
    if (v.kind === "list") {
      const nodes = Math.max(1, Math.ceil(v.length / 128));
      extra = ` ql_nodes:${nodes} ql_avg_node:${(v.length / nodes).toFixed(2)} ql_listpack_max:${ctx.engine.config.getInt("list-max-listpack-size")} ql_compressed:${ctx.engine.config.getInt("list-compress-depth") !== 0 ? 1 : 0} ql_uncompressed_size:${serialized}`;
    }
  }
  const lru = Math.floor((ctx.now - idle * 1000) / 1000) % (1 << 24);
  return simple(`Value at:0x${addressOf(key)} refcount:1 encoding:${enc} serializedlength:${serialized} lru:${lru} lru_seconds_idle:${idle}${extra}`);
}

/** A stable pseudo address for DEBUG OBJECT (there are no pointers to show). */
function addressOf(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return `7f00${h.toString(16).padStart(8, "0")}`;
}

function debugProtocol(ctx: Ctx, kind: string): Reply {
  switch (kind.toLowerCase()) {
    case "string":
      return bulk("Hello World");
    case "integer":
      return int(12345);
    case "double":
      return double(3.141);
    case "bignum":
      return { kind: "bignum", value: "1234567999999999999999999999999999999" };
    case "null":
      return NULL;
    case "array":
      return array([int(0), int(1), int(2)]);
    case "set":
      return { kind: "set", items: [int(0), int(1), int(2)] };
    case "map":
      return map([int(0), { kind: "bool", value: false }, int(1), { kind: "bool", value: true }, int(2), { kind: "bool", value: false }]);
    case "attrib":
      // Attributes are not modelled in Reply; the real reply that follows them is.
      return bulk("Some real reply following the attribute");
    case "push":
      if (ctx.session.resp < 3) return err("ERR RESP2 is not supported by this command");
      return bulk("Some real reply following the push reply");
    case "true":
      return { kind: "bool", value: true };
    case "false":
      return { kind: "bool", value: false };
    case "verbatim":
      return verbatim("This is a verbatim\nstring");
    default:
      return err("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
  }
}

const DEBUG_HELP = [
  "CHANGE-REPL-ID",
  "    Change the replication IDs of the instance.",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "OBJECT <key>",
  "    Show low level info about the key and associated value.",
  "PROTOCOL <type>",
  "    Reply with a test value of the specified type. <type> can be: string,",
  "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
  "    true, false.",
  "RELOAD [option ...]",
  "    Save the dataset as a snapshot in memory and reload it back. Valid <option> values:",
  "    * MERGE: conflicting keys will be loaded from the snapshot.",
  "    * NOFLUSH: the existing database will not be removed before load, but",
  "      conflicting keys will make the reload fail (the dataset is left as it was).",
  "    * NOSAVE: the database will be loaded from the snapshot kept by the last",
  "      DEBUG RELOAD of this process.",
  "    On a durable server the reload must leave the dataset unchanged.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "QUICKLIST-PACKED-THRESHOLD <size>",
  "    Sets the threshold for elements to be inserted as plain vs packed nodes",
  "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
];

/** Lenient like C's atoi/strtod: leading number, else 0. */
function leadingNumber(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(s);
  return m === null ? 0 : Number(m[0]);
}

function debug(server: Server, ctx: Ctx, argv: string[]): Reply {
  const sub = (argv[1] ?? "").toLowerCase();
  const n = argv.length;
  if (sub === "help" && n === 2) return helpReply("debug", DEBUG_HELP);
  if (sub === "sleep" && n === 3) {
    sleepSync(Math.floor(leadingNumber(argv[2] ?? "") * 1000));
    return OK;
  }
  if (sub === "set-active-expire" && n === 3) {
    server.activeExpireEnabled = Math.trunc(leadingNumber(argv[2] ?? "")) !== 0;
    return OK;
  }
  if (sub === "log" && n === 3) {
    server.logLine("#", `DEBUG LOG: ${argv[2] ?? ""}`);
    return OK;
  }
  if (sub === "object" && n === 3) return debugObject(ctx, argv[2] ?? "");
  if (sub === "digest" && n === 2) return simple(ctx.engine.digest());
  if (sub === "digest-value") {
    // Like Redis: no lookup (a logically expired key still has a digest), zeros for a missing key.
    return array(
      argv.slice(2).map((key) => {
        const v = ctx.db.data.get(key);
        return simple(v === undefined ? "0".repeat(40) : digestValue(v, ctx.db.expires.get(key)));
      }),
    );
  }
  if (sub === "protocol" && n === 3) return debugProtocol(ctx, argv[2] ?? "");
  if (sub === "error" && n === 3) return err((argv[2] ?? "").replace(/[\r\n]/g, " "));
  if (sub === "quicklist-packed-threshold" && n === 3) {
    const sz = parseMemory(argv[2] ?? "");
    // Redis's quicklistisSetPackedThreshold: 0 restores the default, anything up to 4 GB - 1 MB is taken.
    if (sz === null || sz > 4 * 1024 * 1024 * 1024 - 1024 * 1024) return err("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
    return OK;
  }
  if (sub === "reload") {
    const o = parseReloadOptions(argv.slice(2));
    if (o === null) return err(RELOAD_BAD_OPTION);
    const durable = server.gate !== null;
    const r = debugReload(ctx.engine, o, { durable, nowMs: ctx.now, log: (line) => server.logLine("#", line) });
    if (!r.ok) return err(r.error);
    if (o.save && !durable) {
      // Like Redis's rdbSave: LASTSAVE and rdb_changes_since_last_save see a save (a durable server's are the snapshotter's).
      const st = ctx.engine.stats;
      st.dirtyAtLastSave = st.dirty;
      st.lastSaveMs = ctx.now;
      st.saves++;
    }
    return OK;
  }
  // Harmless toggles here: no replication IDs, checksum skipping or cron to pause.
  if ((sub === "change-repl-id" || sub === "set-skip-checksum-validation" || sub === "pause-cron") && n <= 3) return OK;
  return err(`ERR unknown subcommand or wrong number of arguments for '${(argv[1] ?? "").slice(0, 128)}'. Try DEBUG HELP.`);
}

export function serverCommands(server: Server): CommandSpec[] {
  const specs: CommandSpec[] = [
    {
      name: "quit",
      arity: -1,
      flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
      group: "connection",
      since: "1.0.0",
      summary: "Close the connection",
      run: (ctx): Reply => {
        const conn = server.clients.get(ctx.session.id);
        if (conn !== undefined) conn.closing = true;
        return OK;
      },
    },
    {
      name: "reset",
      arity: 1,
      flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
      group: "connection",
      since: "6.2.0",
      summary: "Reset the connection",
      run: (ctx) => reset(server, ctx),
    },
    clientCommand(server),
    {
      name: "monitor",
      arity: 1,
      flags: ["admin", "noscript", "loading", "stale"],
      group: "server",
      since: "1.0.0",
      summary: "Listen for all requests received by the server in real time",
      run: (ctx): Reply => {
        const conn = server.clients.get(ctx.session.id);
        // Like Redis, a second MONITOR on the same connection is silently ignored.
        if (conn === undefined || server.monitors.has(conn)) return NONE;
        server.monitors.add(conn);
        return OK;
      },
    },
    {
      name: "shutdown",
      arity: -1,
      flags: ["admin", "noscript", "loading", "stale", "no_multi", "sentinel", "allow_busy"],
      group: "server",
      since: "1.0.0",
      summary: "Synchronously save the dataset to disk and then shut down the server",
      run: (_ctx, argv) => shutdown(server, argv),
    },
    {
      name: "debug",
      arity: -2,
      flags: ["admin", "noscript", "loading", "stale"],
      group: "server",
      since: "1.0.0",
      summary: "A container for debugging commands",
      run: (ctx, argv) => debug(server, ctx, argv),
    },
  ];
  if (server.engine.table.lookup("function") === undefined) specs.push(FUNCTION_PLACEHOLDER);
  return specs;
}

/**
 * Functions arrive later; the Redis test harness sends FUNCTION FLUSH before
 * every file, so FLUSH answers OK (there is nothing to flush).
 */
const FUNCTION_PLACEHOLDER: CommandSpec = {
  name: "function",
  arity: -2,
  flags: [],
  group: "scripting",
  since: "7.0.0",
  summary: "A container for function commands (only FLUSH until functions are implemented)",
  subcommands: [
    {
      name: "flush",
      arity: -2,
      flags: ["write", "noscript"],
      effects: "none",
      group: "scripting",
      since: "7.0.0",
      summary: "Deleting all functions",
      run: (_ctx, argv) => {
        if (argv.length > 3) return E.syntax;
        const mode = (argv[2] ?? "sync").toLowerCase();
        if (mode !== "sync" && mode !== "async") return err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return OK;
      },
    },
  ],
};
