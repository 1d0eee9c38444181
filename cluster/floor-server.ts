// The floor under Mnemo's request path, for benchmarks only
// (`BENCH_FLOOR=1 bash bench/run.sh`): a server with Mnemo's socket I/O (reads
// into one shared buffer, replies written straight to the handle) and nothing
// else. It parses no command and answers each request of redis-benchmark's
// fixed forms with "+OK"; only a lone PING gets "+PONG" (the harness's
// liveness check). What it costs per request is what Node.js and the kernel
// cost before Mnemo does any work.
//
//   node dist/cluster/floor-server.js --port 6392
import { createServer } from "node:net";
import { SocketOutput } from "./direct-write";
import { readIntoSharedBuffer } from "./shared-read";

const OK = "+OK\r\n";
/** Replies for up to this many requests in one read come from one prebuilt buffer. */
const CANNED_REQUESTS_MAX = 4096;
const CANNED = Buffer.from(OK.repeat(CANNED_REQUESTS_MAX), "latin1");
const PONG = Buffer.from("+PONG\r\n", "latin1");
const PING = "*1\r\n$4\r\nping\r\n";

/**
 * Counts the requests that start in a connection's bytes, read by read: a '*'
 * at the start of a line followed by a digit, wherever the reads split them.
 * An argument that is itself "*<digit>..." at the start of a line would be
 * miscounted; none of redis-benchmark's is.
 */
export class RequestCounter {
  private atLineStart = true;
  /** The last read ended with a '*' at the start of a line. */
  private starPending = false;

  /** Requests whose first two bytes have now arrived, given the next read. */
  count(buf: Uint8Array, n: number): number {
    let count = 0;
    let lineStart = this.atLineStart;
    let star = this.starPending;
    for (let i = 0; i < n; i++) {
      const c = buf[i] as number;
      if (star && c >= 0x30 && c <= 0x39) count++;
      star = lineStart && c === 0x2a;
      lineStart = c === 0x0a;
    }
    this.atLineStart = lineStart;
    this.starPending = star;
    return count;
  }
}

function main(argv: readonly string[]): void {
  const i = argv.indexOf("--port");
  const port = i >= 0 ? Number(argv[i + 1]) : 6392;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write("usage: floor-server --port <port>\n");
    process.exit(2);
  }
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    let out: SocketOutput | null = null;
    const counter = new RequestCounter();
    const socket = readIntoSharedBuffer(accepted, (n, buf) => {
      if (out === null) return;
      if (n === PING.length && buf.latin1Slice(0, n).toLowerCase() === PING) {
        out.write(PONG);
        return;
      }
      let requests = counter.count(buf, n);
      while (requests > 0) {
        const k = Math.min(requests, CANNED_REQUESTS_MAX);
        out.write(CANNED.subarray(0, k * OK.length));
        requests -= k;
      }
    });
    if (socket === null) return;
    socket.setNoDelay(true);
    out = new SocketOutput(
      socket,
      () => {},
      () => socket.destroy(),
    );
    socket.on("error", () => socket.destroy());
  });
  server.listen(port, "127.0.0.1", () => process.stdout.write(`floor server listening on 127.0.0.1:${port}\n`));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (require.main === module) main(process.argv.slice(2));
