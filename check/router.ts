// Finds the primary: CLUSTER SLOTS on any server port we know (the owner of
// the first slot range; one shard), else `mnemo status`. A -MOVED reply names
// the primary directly. Discovery is single-flight and spaced out, so a crowd
// of clients that all lost the primary at once asks once.
import type { ClusterStatus, Endpoint } from "./cluster";
import { serversOf } from "./cluster";
import { RespClient, type RespValue } from "./resp";
import type { Router } from "./workload";

const DISCOVER_SPACING_MS = 100;
const PROBE_TIMEOUT_MS = 1000;

/** The primary of the first slot range in a CLUSTER SLOTS reply, or null. */
export function primaryFromSlots(reply: RespValue, askedHost: string): Endpoint | null {
  if (reply.kind !== "array" || reply.items === null) return null;
  const range = reply.items[0];
  if (range === undefined || range.kind !== "array" || range.items === null) return null;
  const node = range.items[2];
  if (node === undefined || node.kind !== "array" || node.items === null) return null;
  const [host, port] = node.items;
  if (host?.kind !== "bulk" || port?.kind !== "int") return null;
  return { host: host.value === null || host.value === "" || host.value === "?" ? askedHost : host.value, port: port.value };
}

export class ClusterRouter implements Router {
  private primary: Endpoint | null;
  private inflight: Promise<void> | null = null;
  private lastAt = 0;
  private servers: Endpoint[];

  constructor(
    seeds: readonly Endpoint[],
    /** `mnemo status` of the managed cluster; null for a server we did not start. */
    private readonly status: (() => Promise<ClusterStatus>) | null,
    /** For a standalone target that answers no CLUSTER command: always this one. */
    private readonly fixed: Endpoint | null = null,
  ) {
    this.servers = [...seeds];
    this.primary = fixed;
  }

  current(): Endpoint | null {
    return this.primary;
  }

  rediscover(hint?: Endpoint): Promise<void> {
    if (hint !== undefined) {
      this.primary = hint;
      return Promise.resolve();
    }
    if (this.inflight === null) {
      this.inflight = this.discover().finally(() => {
        this.inflight = null;
        this.lastAt = Date.now();
      });
    }
    return this.inflight;
  }

  /** Learns the server ports from a status (call after each status read). */
  learn(s: ClusterStatus): void {
    const ports = serversOf(s).flatMap((p) => (p.port === null ? [] : [{ host: "127.0.0.1", port: p.port }]));
    if (ports.length > 0) this.servers = ports;
    const primary = serversOf(s, "primary")[0];
    if (this.primary === null && primary?.port !== null && primary !== undefined) this.primary = { host: "127.0.0.1", port: primary.port as number };
  }

  private async discover(): Promise<void> {
    const wait = this.lastAt + DISCOVER_SPACING_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const ep of this.servers) {
      const found = await askSlots(ep);
      if (found !== null) {
        this.primary = found;
        return;
      }
    }
    if (this.status === null) return;
    try {
      const s = await this.status();
      this.learn(s);
      const p = serversOf(s, "primary")[0];
      if (p !== undefined && p.port !== null) this.primary = { host: "127.0.0.1", port: p.port };
    } catch {
      // The status itself may fail while processes restart; the next rediscovery tries again.
    }
  }
}

async function askSlots(ep: Endpoint): Promise<Endpoint | null> {
  let c: RespClient | null = null;
  try {
    c = await RespClient.connect(ep.host, ep.port, PROBE_TIMEOUT_MS);
    return primaryFromSlots(await c.call(["CLUSTER", "SLOTS"], PROBE_TIMEOUT_MS), ep.host);
  } catch {
    return null;
  } finally {
    c?.close();
  }
}
