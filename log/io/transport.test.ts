// The frame codec (any split decodes identically, garbage never throws, the
// maximum is enforced) and the TCP transport between log nodes on ephemeral
// ports: messages both ways, a wrong secret refused, reconnection after a
// restart on the same port, and the injected inter-AZ delay.
import t from "tap";
import fc from "fast-check";
import { performance } from "node:perf_hooks";
import { FrameDecoder, encodeFrame, encodeFrames } from "./frame";
import { Transport, type TransportEvent, type TransportOptions } from "./transport";
import type { Message, NodeId } from "../raft/types";

const SECRET = "cluster-secret";

/** Cuts `buf` at the given (sorted, deduplicated) offsets. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

t.test("frames: every split of every stream decodes to the same payloads", async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (payloads, cuts) => {
        const stream = encodeFrames(payloads);
        const d = new FrameDecoder(1024);
        const got: Buffer[] = [];
        for (const chunk of split(stream, cuts)) {
          const r = d.push(chunk);
          if (r.error !== null) return false;
          got.push(...r.frames.map((f) => Buffer.from(f)));
        }
        return (
          d.bufferedBytes === 0 &&
          got.length === payloads.length &&
          got.every((g, i) => g.equals(Buffer.from(payloads[i] as Uint8Array)))
        );
      },
    ),
    { numRuns: 500 },
  );
  t.same(encodeFrames([Buffer.from("ab"), Buffer.from("c")]), Buffer.concat([encodeFrame(Buffer.from("ab")), encodeFrame(Buffer.from("c"))]));
});

t.test("frames: random garbage never throws; the maximum is a sticky error", async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 20 }), fc.nat(5000), (bytes, cuts, max) => {
      const d = new FrameDecoder(max);
      let error: string | null = null;
      for (const chunk of split(Buffer.from(bytes), cuts)) {
        const r = d.push(chunk);
        for (const f of r.frames) if (f.length > max) return false;
        if (error !== null && r.error !== error) return false;
        error = r.error;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  const d = new FrameDecoder(16);
  const r = d.push(encodeFrame(Buffer.alloc(17)));
  t.same(r.frames, []);
  t.match(r.error, /17 bytes exceeds the maximum of 16/);
  t.match(d.push(encodeFrame(Buffer.alloc(1))).error, /exceeds/);
  // A header claiming 4 GB is refused as soon as the header is in, not buffered.
  const big = new FrameDecoder();
  t.match(big.push(Buffer.from([0xff, 0xff, 0xff])).error, null);
  t.match(big.push(Buffer.from([0xff])).error, /exceeds the maximum of 67108864/);
});

function hb(from: NodeId, to: NodeId, commit: number): Message {
  return { kind: "heartbeat", from, to, term: 1, commit };
}

function app(from: NodeId, to: NodeId, i: number): Message {
  return {
    kind: "app",
    from,
    to,
    term: 2,
    prevIndex: i,
    prevTerm: 1,
    commit: i,
    entries: [{ index: i + 1, term: 2, kind: "normal", data: Buffer.from(`entry-${i}`) }],
  };
}

interface Node {
  readonly t: Transport;
  readonly got: Message[];
  readonly events: TransportEvent[];
}

async function node(id: NodeId, extra: Partial<TransportOptions> = {}): Promise<Node> {
  const got: Message[] = [];
  const events: TransportEvent[] = [];
  const tr = new Transport({
    id,
    port: 0,
    secret: SECRET,
    backoffMinMs: 10,
    backoffMaxMs: 100,
    onMessage: (m) => got.push(m),
    onEvent: (e) => events.push(e),
    ...extra,
  });
  await tr.start();
  return { t: tr, got, events };
}

function connectAll(nodes: Node[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.t.setPeer(b.t.id, { host: "127.0.0.1", port: b.t.port });
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test("three transports exchange messages in both directions", async (t) => {
  const nodes = [await node("az-a"), await node("az-b"), await node("az-c")];
  t.teardown(() => Promise.all(nodes.map((n) => n.t.close())).then(() => {}));
  connectAll(nodes);
  await waitFor("all links", () => nodes.every((a) => nodes.every((b) => a === b || a.t.isConnected(b.t.id))));
  for (const a of nodes) for (const b of nodes) if (a !== b) for (let i = 0; i < 10; i++) t.ok(a.t.send(app(a.t.id, b.t.id, i)));
  await waitFor("all messages", () => nodes.every((n) => n.got.length === 20));
  for (const n of nodes) {
    t.ok(n.got.every((m) => m.to === n.t.id));
    for (const from of nodes) {
      if (from === n) continue;
      const seq = n.got.filter((m) => m.from === from.t.id);
      t.same(seq, Array.from({ length: 10 }, (_, i) => app(from.t.id, n.t.id, i)), `${from.t.id} -> ${n.t.id} in order`);
    }
  }
  // Unknown peers are dropped, not thrown.
  t.notOk(nodes[0]!.t.send(hb("az-a", "az-z", 1)));
});

t.test("a wrong secret is refused in both directions", async (t) => {
  const good = await node("az-a");
  const bad = await node("az-x", { secret: "wrong" });
  t.teardown(async () => {
    await good.t.close();
    await bad.t.close();
  });
  connectAll([good, bad]);
  await waitFor("rejections", () => good.events.some((e) => e.kind === "rejected") && bad.events.some((e) => e.kind === "rejected"));
  t.notOk(good.t.isConnected("az-x"));
  t.notOk(bad.t.isConnected("az-a"));
  t.notOk(good.t.send(hb("az-a", "az-x", 1)));
  t.notOk(bad.t.send(hb("az-x", "az-a", 1)));
  await sleep(100);
  t.same(good.got, []);
  t.same(bad.got, []);
  t.ok(good.events.some((e) => e.kind === "rejected" && /failed to prove the shared secret/.test(e.detail)));
  t.ok(bad.events.some((e) => e.kind === "rejected" && /refused by az-a: authentication failed|failed to prove/.test(e.detail)));
  t.notOk(good.events.some((e) => e.kind === "connected" || e.kind === "accepted"));
});

t.test("a peer restarted on the same port is reconnected", async (t) => {
  const a = await node("az-a");
  let b = await node("az-b");
  t.teardown(async () => {
    await a.t.close();
    await b.t.close();
  });
  connectAll([a, b]);
  await waitFor("links", () => a.t.isConnected("az-b") && b.t.isConnected("az-a"));
  a.t.send(hb("az-a", "az-b", 1));
  await waitFor("first message", () => b.got.length === 1);
  const port = b.t.port;
  await b.t.close();
  await waitFor("disconnect", () => !a.t.isConnected("az-b"));
  t.notOk(a.t.send(hb("az-a", "az-b", 2)), "dropped while the peer is down");
  await sleep(150); // a few failed redials
  b = await node("az-b", { port, peers: { "az-a": { host: "127.0.0.1", port: a.t.port } } });
  await waitFor("reconnected", () => a.t.isConnected("az-b") && b.t.isConnected("az-a"));
  a.t.send(hb("az-a", "az-b", 3));
  b.t.send(hb("az-b", "az-a", 4));
  await waitFor("messages after restart", () => b.got.length === 1 && a.got.length === 1);
  t.same(b.got, [hb("az-a", "az-b", 3)]);
  t.same(a.got, [hb("az-b", "az-a", 4)]);
  t.ok(a.events.some((e) => e.kind === "disconnected" && e.peer === "az-b"));
});

t.test("azDelayMs delays every outgoing frame and keeps order", async (t) => {
  const DELAY = 80;
  const a = await node("az-a", { azDelayMs: DELAY });
  const b = await node("az-b");
  t.teardown(async () => {
    await a.t.close();
    await b.t.close();
  });
  connectAll([a, b]);
  await waitFor("links", () => a.t.isConnected("az-b") && b.t.isConnected("az-a"));
  const arrived = new Map<number, number>();
  const sentAt = new Map<number, number>();
  const done = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      for (const m of b.got) if (m.kind === "heartbeat" && !arrived.has(m.commit)) arrived.set(m.commit, performance.now());
      if (arrived.size === 30) {
        clearInterval(check);
        resolve();
      }
    }, 1);
  });
  for (let i = 0; i < 30; i++) {
    sentAt.set(i, performance.now());
    a.t.send(hb("az-a", "az-b", i));
    if (i % 10 === 9) await sleep(15); // several event-loop turns, several batches
  }
  await done;
  t.same(
    b.got.map((m) => (m.kind === "heartbeat" ? m.commit : -1)),
    Array.from({ length: 30 }, (_, i) => i),
    "order preserved",
  );
  let minDelay = Infinity;
  for (const [i, at] of arrived) minDelay = Math.min(minDelay, at - (sentAt.get(i) as number));
  t.ok(minDelay >= DELAY, `every message delayed at least ${DELAY} ms (min ${minDelay.toFixed(1)})`);
  // The other direction has no delay configured; only a lower bound is asserted
  // (an upper bound would fail on a loaded machine).
  b.t.send(hb("az-b", "az-a", 99));
  await waitFor("reply", () => a.got.length === 1);
  t.same(a.got, [hb("az-b", "az-a", 99)], "the reverse direction delivers too");
});

t.test("a connection sending an oversized frame or garbage is closed with a clear error", async (t) => {
  const net = await import("node:net");
  const a = await node("az-a", { maxFrameBytes: 1024 });
  t.teardown(() => a.t.close());
  for (const junk of [Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]), Buffer.from([5, 0, 0, 0, 99, 1, 2, 3, 4])]) {
    const s = net.connect({ host: "127.0.0.1", port: a.t.port });
    s.on("error", () => {});
    s.resume();
    await new Promise<void>((r) => s.once("connect", () => r()));
    s.write(junk);
    await new Promise<void>((r) => s.once("close", () => r()));
  }
  t.ok(a.events.some((e) => e.kind === "protocol-error" && /exceeds the maximum of 1024/.test(e.detail)));
  t.ok(a.events.some((e) => e.kind === "protocol-error" && /expected an AUTH frame/.test(e.detail)));
  t.same(a.got, []);
});
