// Starts the real `mnemo up` (log nodes, primary, replica as child processes)
// for multi-process tests, waits until a primary serves, and stops it.
import { spawn, type ChildProcess } from "node:child_process";
import { MNEMO_JS, ROOT } from "./server";

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

export interface Up {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Everything `mnemo up` printed so far. */
  output(): string;
}

export interface UpOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly logPort: number;
  readonly leaseMs: number;
  /** More `mnemo up` options. */
  readonly extra?: readonly string[];
}

export function startUp(o: UpOptions): Promise<Up> {
  const args = [MNEMO_JS, "up", "--data-dir", o.dataDir, "--port", String(o.port), "--log-port", String(o.logPort), "--replicas", "1", "--lease-ms", String(o.leaseMs), ...(o.extra ?? [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const poll = setInterval(() => {
      if (out.includes("Mnemo is up")) {
        clearInterval(poll);
        resolve({ child, exited, output: () => out });
      } else if (Date.now() > deadline || child.exitCode !== null) {
        clearInterval(poll);
        child.kill("SIGKILL");
        reject(new Error(`mnemo up did not come up:\n${out}`));
      }
    }, 50);
  });
}

/** SIGTERM (the supervisor stops its children), SIGKILL if it takes too long. */
export async function stopUp(up: Up): Promise<void> {
  if (up.child.exitCode !== null) return;
  up.child.kill("SIGTERM");
  const timer = setTimeout(() => up.child.kill("SIGKILL"), STOP_GRACE_MS);
  await up.exited;
  clearTimeout(timer);
}
