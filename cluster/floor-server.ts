// The floor under Mnemo's request path, for benchmarks only (bench/floor.sh):
// a server with Mnemo's socket I/O (reads into one shared buffer, replies
// written straight to the handle) and nothing else. It parses no command and
// answers each request of redis-benchmark's fixed forms with "+OK"; only a
// lone PING gets "+PONG" (the harness's liveness check). What it costs per
// request is what Node.js and the kernel cost before Mnemo does any work.
//
//   node dist/cluster/floor-server.js --port 6391
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
 * Requests that start in buf[0, n): a '*' at the start of a line followed by a
 * digit. redis-benchmark writes whole pipelines, so a request is not split
 * between reads in practice; an argument that is itself "*<digit>..." at the
 * start of a line would be miscounted (none of the benchmark's is).
 */
function countRequests(buf: Buffer, n: number): number {
  let count = 0;
  for (let i = 0; i + 1 < n; i++) {
    if (buf[i] === 0x2a && (i === 0 || buf[i - 1] === 0x0a)) {
      const d = buf[i + 1] as number;
      if (d >= 0x30 && d <= 0x39) count++;
    }
  }
  return count;
}

function main(argv: readonly string[]): void {
  const i = argv.indexOf("--port");
  const port = i >= 0 ? Number(argv[i + 1]) : 6391;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write("usage: floor-server --port <port>\n");
    process.exit(2);
  }
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    let out: SocketOutput | null = null;
    const socket = readIntoSharedBuffer(accepted, (n, buf) => {
      if (out === null) return;
      if (n === PING.length && buf.latin1Slice(0, n).toLowerCase() === PING) {
        out.write(PONG);
        return;
      }
      let requests = countRequests(buf, n);
      while (requests > 0) {
        const k = Math.min(requests, CANNED_REQUESTS_MAX);
        out.write(CANNED.subarray(0, k * OK.length));
        requests -= k;
      }
    });
    if (socket === null) return;
    socket.setNoDelay(true);
    const s = socket;
    out = new SocketOutput(
      s,
      () => {},
      () => s.destroy(),
    );
    s.on("error", () => s.destroy());
  });
  server.listen(port, "127.0.0.1", () => process.stdout.write(`floor server listening on 127.0.0.1:${port}\n`));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main(process.argv.slice(2));
