// Bounded waits shared by the log's multi-node tests (never used outside tests).
import * as path from "node:path";
import { type ClientListener, startClientListener } from "./client-listener";
import { LogNode, type LogNodeOptions } from "./node";
import type { PeerAddress } from "./transport";

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

export interface LocalMember {
  node: LogNode;
  listener: ClientListener;
}

/** Three (or more) LogNodes with client listeners in this process, ephemeral ports, data dirs under root. */
export class LocalCluster {
  readonly members = new Map<string, LocalMember>();
  /** Peer ports by id, fixed at start so a restarted node reuses its own. */
  readonly peerPorts = new Map<string, number>();
  readonly clientPorts = new Map<string, number>();

  constructor(
    readonly root: string,
    readonly ids: readonly string[],
    readonly secret: string,
    readonly extra: Partial<LogNodeOptions> = {},
  ) {}

  async start(): Promise<void> {
    for (const id of this.ids) await this.startOne(id);
    for (const { node: n } of this.members.values()) for (const [id, port] of this.peerPorts) if (id !== n.id) n.setPeerAddress(id, { host: "127.0.0.1", port });
  }

  /** Starts `id` (again), on its old ports when it had some. */
  async startOne(id: string, extra: Partial<LogNodeOptions> = {}): Promise<LocalMember> {
    const peers: Record<string, PeerAddress | null> = {};
    for (const p of this.ids) if (p !== id) peers[p] = this.peerPorts.has(p) ? { host: "127.0.0.1", port: this.peerPorts.get(p) as number } : null;
    const node = await LogNode.start({
      id,
      port: this.peerPorts.get(id) ?? 0,
      dataDir: path.join(this.root, id),
      secret: this.secret,
      peers,
      tickMs: 10,
      electionTicks: 10,
      ...this.extra,
      ...extra,
    });
    const listener = await startClientListener(node, { port: this.clientPorts.get(id) ?? 0, secret: this.secret });
    this.peerPorts.set(id, node.port);
    this.clientPorts.set(id, listener.port);
    const m = { node, listener };
    this.members.set(id, m);
    return m;
  }

  /** Closes `id`'s node and listener (a clean stop). */
  async stopOne(id: string): Promise<void> {
    const m = this.members.get(id);
    if (m === undefined) return;
    this.members.delete(id);
    await m.node.close();
    await m.listener.close();
  }

  nodes(): LogNode[] {
    return [...this.members.values()].map((m) => m.node);
  }

  addresses(): { id: string; host: string; port: number }[] {
    return this.ids.map((id) => ({ id, host: "127.0.0.1", port: this.clientPorts.get(id) as number }));
  }

  async close(): Promise<void> {
    for (const id of [...this.members.keys()]) await this.stopOne(id);
  }
}
