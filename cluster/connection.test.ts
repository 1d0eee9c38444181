// A durable primary holds each reply until the log commits the batch it waits
// for, and releases a connection's replies strictly in request order: a reply
// never leaves before its seq is committed, and never before a reply ahead of it.
import t from "tap";
import fc from "fast-check";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { Engine } from "../engine/engine";
import { RespWriter } from "../resp/encoder";
import type { Reply } from "../resp/reply";
import { Connection, type ConnectionHost, type Hold } from "./connection";

/** A socket that records what is written to it (no native handle: writes take the stream path). */
class RecordingSocket extends EventEmitter {
  remoteAddress = "127.0.0.1";
  remotePort = 50000;
  localAddress = "127.0.0.1";
  localPort = 6379;
  writableLength = 0;
  destroyed = false;
  writableEnded = false;
  out = "";
  setNoDelay(): void {}
  write(b: Buffer): boolean {
    this.out += b.toString("latin1");
    return true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {}
  resume(): void {}
  end(cb?: () => void): void {
    this.writableEnded = true;
    cb?.();
  }
}

/** Runs `ECHO text seq`: replies with text; the reply waits for log seq `seq` (0: none). */
class Host implements ConnectionHost {
  readonly writer = new RespWriter();
  private nextSeq = 0;
  scheduled: Connection[] = [];
  handle(_conn: Connection, argv: string[]): Reply | Hold {
    this.nextSeq = Number(argv[2] ?? "0");
    return { kind: "bulk", value: argv[1] ?? "" };
  }
  queryBytesMax(): number {
    return 1 << 30;
  }
  bulkBytesMax(): number {
    return 512 << 20;
  }
  schedule(conn: Connection): void {
    this.scheduled.push(conn);
  }
  clientError(): void {}
  closed(): void {}
  beginTurn(): void {}
  endTurn(): void {}
  countNet(): void {}
  replyWaitSeq(): number {
    return this.nextSeq;
  }
}

function request(text: string, seq: number): string {
  const argv = ["ECHO", text, String(seq)];
  return `*3\r\n${argv.map((a) => `$${a.length}\r\n${a}\r\n`).join("")}`;
}

function open(): { conn: Connection; sock: RecordingSocket } {
  const sock = new RecordingSocket();
  const engine = new Engine({ recordEffects: false });
  const conn = new Connection(sock as unknown as Socket, engine.newSession(), new Host());
  return { conn, sock };
}

function feed(conn: Connection, bytes: string): void {
  const buf = Buffer.from(bytes, "latin1");
  conn.onRead(buf.length, buf);
}

const reply = (text: string): string => `$${text.length}\r\n${text}\r\n`;

t.test("replies wait for their batch and leave in request order", async (t) => {
  const { conn, sock } = open();
  // One read, one pass: two free replies, then one waiting for seq 5, then replies
  // that could go at once but are behind it, then one for seq 7.
  feed(conn, request("a", 0) + request("b", 0) + request("c", 5) + request("d", 0) + request("e", 7) + request("f", 3));
  t.equal(sock.out, reply("a") + reply("b"), "the replies ahead of the first held one go at once");
  t.ok(conn.heldReplies > 0, "c, d, e and f are held");
  conn.release(4);
  t.equal(sock.out, reply("a") + reply("b"), "seq 4 committed: nothing new");
  conn.release(5);
  t.equal(sock.out, reply("a") + reply("b") + reply("c") + reply("d"), "seq 5: c, and d behind it");
  // A later pass with a free reply queues behind what is still held.
  feed(conn, request("g", 0));
  t.equal(sock.out, reply("a") + reply("b") + reply("c") + reply("d"), "g waits behind e and f");
  t.ok(conn.release(7), "seq 7 releases everything");
  t.equal(sock.out, ["a", "b", "c", "d", "e", "f", "g"].map(reply).join(""));
  feed(conn, request("h", 0));
  t.equal(sock.out.endsWith(reply("h")), true, "nothing held: a free reply goes at once again");
});

t.test("property: whatever the passes and commits, output is the committed prefix, in order", async (t) => {
  const scenario = fc.record({
    seqs: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 40 }),
    cuts: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 40 }),
    commits: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
  });
  fc.assert(
    fc.property(scenario, ({ seqs, cuts, commits }) => {
      const { conn, sock } = open();
      // A reply may leave once every reply up to it has its seq committed.
      const released = (committed: number): string => {
        let out = "";
        for (let i = 0; i < seqs.length && i < sent; i++) {
          if ((seqs[i] as number) > committed) break;
          out += reply(`r${i}`);
        }
        return out;
      };
      let sent = 0;
      let committed = 0;
      let step = 0;
      while (sent < seqs.length) {
        const n = Math.min(cuts[step % cuts.length] as number, seqs.length - sent);
        let bytes = "";
        for (let i = sent; i < sent + n; i++) bytes += request(`r${i}`, seqs[i] as number);
        sent += n;
        feed(conn, bytes);
        committed += commits[step % commits.length] as number;
        conn.release(committed);
        step++;
        if (sock.out !== released(committed)) return false;
      }
      conn.release(12);
      return sock.out === released(12) && conn.heldReplies === 0;
    }),
    { numRuns: 300, seed: 20261127 },
  );
  t.pass("300 scenarios");
});
