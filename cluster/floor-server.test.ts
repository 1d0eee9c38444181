// The floor server (bench only) must count every request however the reads
// split them: a request it misses leaves redis-benchmark waiting for a reply.
import t from "tap";
import fc from "fast-check";
import { RequestCounter } from "./floor-server";

function encode(argv: readonly string[]): string {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

// Arguments as redis-benchmark sends them, "*" (XADD's ID) included.
const arg = fc.oneof(fc.constantFrom("*", "xxx", "key:__rand_int__", "mystream", "field", "value", "0"), fc.stringMatching(/^[a-z0-9:]{0,12}$/));
const request = fc.array(arg, { minLength: 1, maxLength: 12 });

t.test("counts each request once, wherever the reads split the pipeline", async (t) => {
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 30 }), (reqs, cuts) => {
      const bytes = Buffer.from(reqs.map(encode).join(""), "latin1");
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const counter = new RequestCounter();
      let total = 0;
      let from = 0;
      for (const p of [...points, bytes.length]) {
        const chunk = bytes.subarray(from, p);
        total += counter.count(chunk, chunk.length);
        from = p;
      }
      return total === reqs.length;
    }),
  );
  t.pass();
});

t.test("a split between '*' and the count still counts the request", async (t) => {
  const counter = new RequestCounter();
  const a = Buffer.from("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*", "latin1");
  const b = Buffer.from("2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "latin1");
  t.equal(counter.count(a, a.length), 1);
  t.equal(counter.count(b, b.length), 1);
});
