// Bounded waits shared by the log's multi-node tests (never used outside tests).
import type { LogNode } from "./node";

export const WAIT_MS = 10_000;

/** Polls `f` until it returns a value, or fails after `ms`. */
export async function waitFor<T>(what: string, f: () => T | null | undefined | false, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function withTimeout<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The one leader every running node agrees on, or null. */
export function leaderOf(nodes: readonly LogNode[]): LogNode | null {
  const leaders = nodes.filter((n) => n.status().role === "leader");
  if (leaders.length !== 1) return null;
  const l = leaders[0] as LogNode;
  return nodes.every((n) => n.status().leader === l.id) ? l : null;
}
