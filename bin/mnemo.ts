#!/usr/bin/env node
// The mnemo command line: `mnemo up`, `mnemo server --standalone`, ...
import { parseArgs } from "node:util";
import { Server } from "../cluster/server";
import { Engine } from "../engine/engine";

const USAGE = `usage:
  mnemo up [--port 6379]                     run Mnemo (for now: the standalone server)
  mnemo server --standalone [--port 6379] [--bind 127.0.0.1] [--requirepass PW]
                                             engine only, in memory, no log
`;

async function runStandalone(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      standalone: { type: "boolean", default: false },
      port: { type: "string", default: "6379" },
      bind: { type: "string", default: "127.0.0.1" },
      requirepass: { type: "string" },
      "data-dir": { type: "string" },
      replicas: { type: "string" },
      shards: { type: "string" },
      "log-port": { type: "string" },
      "az-delay-ms": { type: "string" },
      "lease-ms": { type: "string" },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const engine = new Engine({ recordEffects: false });
  if (values.requirepass !== undefined) engine.config.set("requirepass", values.requirepass);
  const server = new Server({ port, host: values.bind, engine });
  await server.listen();
  process.stdout.write(`mnemo standalone server listening on ${values.bind}:${server.port} (pid ${process.pid})\n`);
  const stop = (): void => {
    process.stdout.write("mnemo: shutting down\n");
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "server":
      if (!rest.includes("--standalone")) {
        process.stderr.write("mnemo server: only --standalone exists until the log service lands\n");
        return 2;
      }
      await runStandalone(rest);
      return -1;
    case "up":
      process.stdout.write("mnemo up: the log service is not built yet; running the standalone server\n");
      await runStandalone(rest);
      return -1;
    case "help":
    case "--help":
    case "-h":
    case undefined:
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`mnemo: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`mnemo: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
