// Server administration against the real server: CONFIG, INFO, COMMAND,
// SLOWLOG, DEBUG, MEMORY, SAVE/LASTSAVE, with ioredis and redis-cli.
import t from "tap";
import { execFileSync } from "node:child_process";
import Redis from "ioredis";
import { startServer, type ServerProcess } from "./support/server";

let server: ServerProcess;

t.before(async () => {
  server = await startServer();
});

t.teardown(async () => {
  await server.stop();
});

function cli(...args: string[]): string {
  return execFileSync("redis-cli", ["-p", String(server.port), ...args], { encoding: "latin1", timeout: 10_000 });
}

function fields(info: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of info.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

function sections(info: string): string[] {
  return info
    .split("\r\n")
    .filter((l) => l.startsWith("# "))
    .map((l) => l.slice(2));
}

t.test("CONFIG GET takes several patterns; CONFIG SET several pairs, all or nothing", async (t) => {
  const r = new Redis(server.port);
  const got = (await r.config("GET", "maxmemory", "hz", "slowlog-*")) as unknown as Record<string, string> | string[];
  const flat = Array.isArray(got) ? got : Object.entries(got).flat();
  t.ok(flat.includes("maxmemory") && flat.includes("hz") && flat.includes("slowlog-max-len"));
  t.equal(await r.call("CONFIG", "SET", "maxmemory", "10mb", "hz", "20"), "OK");
  t.same(cli("config", "get", "maxmemory").trim().split("\n"), ["maxmemory", String(10 * 1024 * 1024)]);
  await t.rejects(
    r.call("CONFIG", "SET", "hz", "30", "maxmemory", "lots"),
    /^ERR CONFIG SET failed \(possibly related to argument 'maxmemory'\) - argument must be a memory value$/,
  );
  t.same(cli("config", "get", "hz").trim().split("\n"), ["hz", "20"], "the valid half was not applied");
  await t.rejects(r.call("CONFIG", "SET", "hz", "abc"), /^ERR CONFIG SET failed \(possibly related to argument 'hz'\) - argument couldn't be parsed into an integer$/);
  await t.rejects(r.call("CONFIG", "SET", "nosuch", "1"), /^ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'$/);
  await t.rejects(r.call("CONFIG", "SET", "hz", "5", "hz", "6"), /duplicate parameter$/);
  await t.rejects(r.call("CONFIG", "SET", "databases", "4"), /can't set immutable config$/);
  await t.rejects(r.call("CONFIG", "SET", "hz", "1", "timeout"), /^ERR syntax error$/);
  await t.rejects(r.call("CONFIG", "SET", "appendonly", "maybe"), /argument must be 'yes' or 'no'$/);
  await t.rejects(r.call("CONFIG", "REWRITE"), /^ERR The server is running without a config file$/);
  t.equal(await r.call("CONFIG", "SET", "hz", "10", "maxmemory", "0"), "OK");
  r.disconnect();
});

t.test("INFO selects sections as Redis 7.0 does", async (t) => {
  const r = new Redis(server.port);
  await r.set("info-key", "v");
  await r.set("info-ttl", "v", "EX", 100);
  const def = await r.info();
  t.same(sections(def), ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace"]);
  t.notMatch(def, "rejected_calls");
  t.same(sections(await r.info("everything")), sections(await r.info("all")));
  t.match(await r.info("all"), /cmdstat_set:calls=\d+,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0/);
  t.same(sections(await r.call("INFO", "CPU", "commandSTATS") as string), ["CPU", "Commandstats"]);
  const f = fields(def);
  t.equal(f.get("redis_version"), "7.0.15");
  t.equal(f.get("tcp_port"), String(server.port));
  t.equal(f.get("mem_allocator"), "libc");
  t.equal(f.get("role"), "master");
  t.equal(f.get("cluster_enabled"), "0");
  t.equal(f.get("loading"), "0");
  t.equal(f.get("aof_enabled"), "0");
  t.equal(f.get("migrate_cached_sockets"), "0");
  t.ok(Number(f.get("used_memory")) > 0);
  t.match(f.get("used_memory_human") ?? "", /^[\d.]+[BKMG]$/);
  t.match(f.get("used_cpu_user") ?? "", /^\d+\.\d{6}$/);
  t.ok(Number(f.get("connected_clients")) >= 1);
  t.ok(Number(f.get("total_connections_received")) >= 1);
  t.ok(Number(f.get("total_commands_processed")) >= 3);
  t.match(f.get("db0") ?? "", /^keys=\d+,expires=1,avg_ttl=\d+$/);
  t.match(f.get("master_replid") ?? "", /^[0-9a-f]{40}$/);
  await r.call("NOSUCHCMD").catch(() => undefined);
  t.match(await r.info("errorstats"), /errorstat_ERR:count=\d+/);
  r.disconnect();
});

t.test("rdb_changes_since_last_save counts writes; SAVE resets it; SAVE is refused in MULTI", async (t) => {
  const r = new Redis(server.port);
  await r.call("SAVE");
  await r.set("a", "1");
  await r.set("b", "2");
  t.equal(fields(await r.info("persistence")).get("rdb_changes_since_last_save"), "2");
  t.equal(await r.call("SAVE"), "OK");
  t.equal(fields(await r.info("persistence")).get("rdb_changes_since_last_save"), "0");
  t.ok(Math.abs(Number(await r.call("LASTSAVE")) - Date.now() / 1000) < 5);
  await r.call("MULTI");
  await t.rejects(r.call("SAVE"), /^ERR Command not allowed inside a transaction$/);
  await t.rejects(r.call("SHUTDOWN"), /^ERR Command not allowed inside a transaction$/);
  await t.rejects(r.call("EXEC"), /^EXECABORT/);
  r.disconnect();
});

t.test("CONFIG RESETSTAT clears the counters", async (t) => {
  const r = new Redis(server.port);
  await r.get("x");
  t.equal(await r.call("CONFIG", "RESETSTAT"), "OK");
  const f = fields(await r.info("stats"));
  t.ok(Number(f.get("total_commands_processed")) <= 1);
  t.equal(f.get("keyspace_misses"), "0");
  t.equal(f.get("total_error_replies"), "0");
  t.notMatch(await r.info("commandstats"), "cmdstat_get");
  r.disconnect();
});

t.test("COMMAND describes the command table", async (t) => {
  const r = new Redis(server.port);
  const count = Number(await r.call("COMMAND", "COUNT"));
  t.ok(count > 20);
  const all = (await r.call("COMMAND")) as unknown[];
  t.equal(all.length, count);
  const [get] = (await r.call("COMMAND", "INFO", "get")) as unknown[][];
  t.equal(get?.[0], "get");
  t.equal(get?.[1], 2);
  t.same(get?.slice(3, 6), [1, 1, 1]);
  t.equal(get?.length, 10, "name arity flags first last step categories tips keyspecs subcommands");
  const [cfg] = (await r.call("COMMAND", "INFO", "config")) as unknown[][];
  const subs = (cfg?.[9] ?? []) as unknown[][];
  t.ok(subs.some((s) => s[0] === "config|get"));
  t.same(await r.call("COMMAND", "INFO", "nosuch"), [null]);
  t.same(await r.call("COMMAND", "GETKEYS", "set", "k", "v"), ["k"]);
  t.same(await r.call("COMMAND", "GETKEYS", "memory", "usage", "mk"), ["mk"]);
  await t.rejects(r.call("COMMAND", "GETKEYS", "ping"), /^ERR The command has no key arguments$/);
  await t.rejects(r.call("COMMAND", "GETKEYS", "nosuch", "x"), /^ERR Invalid command specified$/);
  await t.rejects(r.call("COMMAND", "GETKEYS", "get"), /^ERR Invalid number of arguments specified for command$/);
  const list = (await r.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "config*")) as string[];
  t.ok(list.includes("config") && list.includes("config|set"));
  t.same(await r.call("COMMAND", "LIST", "FILTERBY", "MODULE", "x"), []);
  const docs = (await r.call("COMMAND", "DOCS", "get")) as unknown;
  t.match(JSON.stringify(docs), /"group","string"/);
  r.disconnect();
});

t.test("SLOWLOG records slow commands, with DEBUG SLEEP blocking the server", async (t) => {
  const r = new Redis(server.port);
  const other = new Redis(server.port);
  await r.call("CONFIG", "SET", "slowlog-log-slower-than", "100000");
  await r.call("SLOWLOG", "RESET");
  await r.client("SETNAME", "sleeper");
  await r.ping();
  t.equal(await r.call("SLOWLOG", "LEN"), 0);
  const started = Date.now();
  const sleeping = r.call("DEBUG", "SLEEP", "0.3");
  await new Promise((res) => setTimeout(res, 20));
  await other.ping();
  t.ok(Date.now() - started >= 250, "another client waited: DEBUG SLEEP blocks the whole server");
  await sleeping;
  const [e] = (await r.call("SLOWLOG", "GET")) as unknown[][];
  t.equal(e?.length, 6);
  t.ok(Number(e?.[2]) >= 250_000, "duration in microseconds");
  t.same(e?.[3], ["DEBUG", "SLEEP", "0.3"]);
  t.equal(e?.[5], "sleeper");
  await t.rejects(r.call("SLOWLOG", "GET", "-2"), /^ERR count should be greater than or equal to -1$/);
  await r.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
  await r.call("CONFIG", "SET", "requirepass", "");
  const entries = (await r.call("SLOWLOG", "GET", "1")) as unknown[][];
  t.same(entries[0]?.[3], ["CONFIG", "SET", "requirepass", "(redacted)"], "passwords never reach the slow log");
  await r.call("CONFIG", "SET", "slowlog-log-slower-than", "10000");
  r.disconnect();
  other.disconnect();
});

t.test("DEBUG OBJECT, MEMORY USAGE, DEBUG errors", async (t) => {
  const r = new Redis(server.port);
  await r.set("mk", "bar");
  t.match(String(await r.call("DEBUG", "OBJECT", "mk")), /^Value at:0x[0-9a-f]+ refcount:\d+ encoding:embstr serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/);
  await t.rejects(r.call("DEBUG", "OBJECT", "missing"), /^ERR no such key$/);
  t.equal(await r.call("MEMORY", "USAGE", "mk"), 64, "the same estimate Redis 7.0 gives for a 3-byte key and value");
  t.equal(await r.call("MEMORY", "USAGE", "missing"), null);
  await t.rejects(r.call("MEMORY", "USAGE", "mk", "SAMPLES", "-1"), /^ERR syntax error$/);
  await t.rejects(r.call("DEBUG", "JMAP"), /^ERR unknown subcommand or wrong number of arguments for 'JMAP'\. Try DEBUG HELP\.$/);
  t.match(JSON.stringify(await r.call("MEMORY", "STATS")), /keys\.count/);
  t.match(String(await r.call("MEMORY", "DOCTOR")), /Sam/);
  r.disconnect();
});

t.test("redis-cli talks to the server", async (t) => {
  t.equal(cli("ping").trim(), "PONG");
  t.match(cli("info", "server"), /redis_version:7\.0\.15/);
  t.match(cli("-3", "hello", "3"), /proto\s+3/);
  t.match(cli("client", "list"), /cmd=client\|list/);
  t.equal(cli("function", "flush").trim(), "OK");
});
