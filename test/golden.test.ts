// Golden transcripts (test/golden/*.txt): each command with its exact reply
// bytes in RESP2 and RESP3 and the effects it leaves for replicas, on an engine
// with a fixed clock and a seeded random. Every effect batch is also applied
// to a replica engine, which must end up with the same dataset.
//
//   node dist/test/golden.test.js            check
//   node dist/test/golden.test.js --rewrite  regenerate the expectations (review the diff!)
//
// File format, one item per line:
//   # comment                 kept as is
//   @clock 1700000000000      set the clock (unix ms); "@clock +1500" advances it
//   @seed 7                   seed of the engine's random (before the first command)
//   > SET k "a b" EX 10       a command: words, or "quoted" with \" \\ \r \n \t \xHH
//   resp2: +OK\r\n            the reply bytes, escaped the same way
//   resp3: +OK\r\n
//   effect: SET k "a b" PXAT 1700000010000     one line per effect, in order
//   effect db=1: ...          an effect in another db
// A block whose command is not registered yet is skipped, with the rest of its
// file (the state after it would be wrong).
import t from "tap";
import * as fs from "node:fs";
import * as path from "node:path";
import { Engine } from "../engine/engine";
import type { Effect } from "../engine/context";
import { encodeReply } from "../resp/encoder";
import { dumpEngine } from "./support/dump";
import { seededRandom } from "./support/gen";
import { ROOT } from "./support/server";

const GOLDEN_DIR = path.join(ROOT, "test/golden");
const REWRITE = process.argv.includes("--rewrite");
const DEFAULT_CLOCK_MS = 1_700_000_000_000;

/** Escapes bytes (a latin1 string) so that a transcript line stays one printable line. */
export function escapeBytes(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += "\\\\";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x09) out += "\\t";
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else out += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return out;
}

export function unescapeBytes(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => {
    if (e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === "r" ? "\r" : e === "n" ? "\n" : e === "t" ? "\t" : e;
  });
}

function quoteArg(a: string): string {
  if (a.length > 0 && /^[\x21-\x7e]+$/.test(a) && !/["\\]/.test(a)) return a;
  return `"${escapeBytes(a).replace(/"/g, '\\"')}"`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(quoteArg).join(" ");
}

/** Splits a command line into words; "quoted" words take the escapes above. */
export function parseArgv(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    out.push(m[1] !== undefined ? unescapeBytes(m[1]) : (m[2] ?? ""));
  }
  return out;
}

function formatEffect(e: Effect): string {
  return `effect${e.db === 0 ? "" : ` db=${e.db}`}: ${formatArgv(e.argv)}`;
}

interface Block {
  /** 1-based line of the command. */
  line: number;
  argv: string[];
  expected: string[];
}

type Item = { kind: "text"; text: string } | { kind: "block"; block: Block };

const EXPECTATION = /^(resp2|resp3|effect( db=\d+)?):/;

function parseFile(text: string): Item[] {
  const items: Item[] = [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((line, i) => {
    const last = items[items.length - 1];
    if (line.startsWith("> ")) {
      items.push({ kind: "block", block: { line: i + 1, argv: parseArgv(line.slice(2)), expected: [] } });
    } else if (EXPECTATION.test(line) && last?.kind === "block") {
      last.block.expected.push(line);
    } else {
      items.push({ kind: "text", text: line });
    }
  });
  return items;
}

/** What a command produced, as transcript lines. */
function actualLines(engine: Engine, argv: string[], replica: Engine): string[] {
  const { reply, effects } = engine.execute(argv);
  replica.apply(effects);
  return [
    `resp2: ${escapeBytes(encodeReply(reply, 2).toString("latin1"))}`,
    `resp3: ${escapeBytes(encodeReply(reply, 3).toString("latin1"))}`,
    ...effects.map(formatEffect),
  ];
}

interface FileResult {
  rewritten: string;
  checked: { block: Block; actual: string[] }[];
  skippedFrom: Block | null;
}

function runFile(text: string): FileResult {
  let now = DEFAULT_CLOCK_MS;
  let seed = 1;
  let engine: Engine | null = null;
  const replica = new Engine({ role: "replica" });
  const out: string[] = [];
  const checked: { block: Block; actual: string[] }[] = [];
  let skippedFrom: Block | null = null;
  for (const item of parseFile(text)) {
    if (item.kind === "text") {
      const clock = /^@clock (\+?)(\d+)$/.exec(item.text);
      const seedLine = /^@seed (\d+)$/.exec(item.text);
      if (clock !== null) now = clock[1] === "+" ? now + Number(clock[2]) : Number(clock[2]);
      if (seedLine !== null) seed = Number(seedLine[1]);
      out.push(item.text);
      continue;
    }
    const b = item.block;
    out.push(`> ${formatArgv(b.argv)}`);
    engine ??= new Engine({ clock: () => now, random: seededRandom(seed) });
    if (skippedFrom === null && engine.table.lookup(b.argv[0] ?? "") === undefined) skippedFrom = b;
    if (skippedFrom !== null) {
      out.push(...b.expected);
      continue;
    }
    const actual = actualLines(engine, b.argv, replica);
    checked.push({ block: b, actual });
    out.push(...actual);
  }
  if (engine !== null && skippedFrom === null && dumpEngine(engine) !== dumpEngine(replica)) {
    throw new Error(`the replica diverged:\n  primary: ${dumpEngine(engine)}\n  replica: ${dumpEngine(replica)}`);
  }
  return { rewritten: out.join("\n") + "\n", checked, skippedFrom };
}

const files = fs
  .readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith(".txt"))
  .sort();

t.test("there are golden transcripts", async (t) => {
  t.ok(files.length >= 5, `${files.length} files in ${GOLDEN_DIR}`);
});

for (const f of files) {
  t.test(f, async (t) => {
    const file = path.join(GOLDEN_DIR, f);
    const text = fs.readFileSync(file, "latin1");
    const r = runFile(text);
    if (REWRITE) {
      if (r.rewritten !== text) fs.writeFileSync(file, r.rewritten, "latin1");
      t.pass(r.rewritten === text ? "unchanged" : "rewritten");
    } else {
      for (const { block, actual } of r.checked) {
        t.same(actual, block.expected, `${f}:${block.line} > ${formatArgv(block.argv)}`);
      }
    }
    if (r.skippedFrom !== null) {
      t.pass(`${f}:${r.skippedFrom.line} onwards`, { skip: `'${r.skippedFrom.argv[0] ?? ""}' is not registered yet` });
    }
  });
}
