// Starts the real `mnemo server --standalone` as a child process on an
// ephemeral port (the CLI prints the port it bound) and stops it by pid.
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

/** The repository root (this file runs from dist/test/support). */
export const ROOT = path.resolve(__dirname, "../../..");
export const MNEMO_JS = path.join(ROOT, "dist/bin/mnemo.js");

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface ServerProcess {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code and signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited in time. Safe to call twice. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the standalone server with `--port 0` and waits for its "listening on" line. */
export function startServer(extraArgs: readonly string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MNEMO_JS, "server", "--standalone", "--port", "0", ...extraArgs], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`server did not start in ${START_TIMEOUT_MS} ms; output:\n${out}`));
    }, START_TIMEOUT_MS);
    const onData = (d: Buffer): void => {
      out += d.toString("latin1");
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m === null || m[1] === undefined) return;
      clearTimeout(timer);
      const pid = child.pid;
      if (pid === undefined) return reject(new Error("no pid"));
      resolve({
        port: Number(m[1]),
        pid,
        child,
        output: () => out,
        exited,
        stop: () => stopChild(child, exited),
      });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => (out += d.toString("latin1")));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code ?? signal}); output:\n${out}`));
    });
  });
}

function stopChild(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    process.kill(child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    }, STOP_TIMEOUT_MS);
    void exited.then(() => clearTimeout(timer));
  }
  return exited;
}
