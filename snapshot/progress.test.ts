// Progress output: plain lines per 10% (no escape codes) when the output is
// not a terminal, nothing for short work, a cli-progress bar on a TTY.
import t from "tap";
import { PassThrough } from "node:stream";
import { progressReporter } from "./progress";

/** A stream that says whether it is a terminal, collecting what is written. */
function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const p = new PassThrough();
  let text = "";
  p.on("data", (d: Buffer) => (text += d.toString("utf8")));
  const stream = Object.assign(p, { isTTY, columns: 100, rows: 30, cursorTo: () => true, clearLine: () => true, moveCursor: () => true }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

t.test("not a terminal: one plain line per 10%, no escape codes", async (t) => {
  const { stream, text } = fakeStream(false);
  const total = 100 * 1024 * 1024;
  const bar = progressReporter({ label: "restoring x", total, unit: "bytes", stream });
  for (let done = 0; done <= total; done += 1024 * 1024) bar.update(done);
  bar.stop();
  await new Promise((r) => setImmediate(r));
  const lines = text().trim().split("\n");
  t.equal(lines.length, 11, "0%, 10%, ..., 100%");
  t.match(lines[0] ?? "", /^restoring x: 0% \(0\.0 MB of 100\.0 MB/);
  t.match(lines[10] ?? "", /^restoring x: 100% \(100\.0 MB of 100\.0 MB/);
  t.notOk(text().includes("\x1b"), "no escape codes");
});

t.test("lines can go to a log function instead", async (t) => {
  const got: string[] = [];
  const bar = progressReporter({ label: "writing", total: 200_000, unit: "keys", log: (l) => got.push(l), stream: fakeStream(false).stream });
  bar.update(50_000);
  bar.update(200_000);
  bar.stop();
  t.same(
    got.map((l) => l.replace(/, [\d.]+ s\)$/, ")")),
    ["writing: 20% (50000 keys of 200000 keys)", "writing: 100% (200000 keys of 200000 keys)"],
  );
});

t.test("short work shows nothing", async (t) => {
  const { stream, text } = fakeStream(false);
  const bar = progressReporter({ label: "small", total: 1000, unit: "keys", stream });
  bar.update(1000);
  bar.stop();
  await new Promise((r) => setImmediate(r));
  t.equal(text(), "");
});

t.test("a terminal gets a bar", async (t) => {
  const { stream, text } = fakeStream(true);
  const bar = progressReporter({ label: "verifying", total: 100_000, unit: "keys", stream });
  bar.update(50_000);
  bar.update(100_000);
  bar.stop();
  await new Promise((r) => setImmediate(r));
  t.match(text(), /verifying \[.*\] 100% \| 100000\/100000 keys/);
});
