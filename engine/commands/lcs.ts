// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] (Redis 7.0's
// lcsCommand): the classic dynamic-programming table, walked back from the end
// with Redis's tie-break so the reported ranges are the same as Redis's.
import { array, bulk, err, int, map, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseInt64 } from "../num";
import { transientBytesMax } from "./string";

const ERR_NOT_STRINGS = err("ERR The specified keys must contain string values");
const ERR_LEN_AND_IDX = err("ERR If you want both the length and indexes, please just use IDX.");
const ERR_TABLE_LIMIT = err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
const ERR_TABLE_ALLOC = err("ERR Insufficient memory, failed allocating transient memory for LCS");
const MATCHES = bulk("matches");
const LEN = bulk("len");

interface LcsOptions {
  len: boolean;
  idx: boolean;
  withMatchLen: boolean;
  minMatchLen: number;
}

function parseOptions(argv: string[]): LcsOptions | Reply {
  const o: LcsOptions = { len: false, idx: false, withMatchLen: false, minMatchLen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    if (opt === "idx") o.idx = true;
    else if (opt === "len") o.len = true;
    else if (opt === "withmatchlen") o.withMatchLen = true;
    else if (opt === "minmatchlen" && j + 1 < argv.length) {
      const n = parseInt64(argv[++j] ?? "");
      if (n === null) return E.notInteger;
      o.minMatchLen = n < 0 ? 0 : Number(n);
    } else {
      return E.syntax;
    }
  }
  if (o.len && o.idx) return ERR_LEN_AND_IDX;
  return o;
}

/** table[j + i * (b.length + 1)] = length of the LCS of a[0, i) and b[0, j). */
function lcsTable(a: Uint8Array, b: Uint8Array): Uint32Array {
  const width = b.length + 1;
  const t = new Uint32Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    const row = i * width;
    const up = row - width;
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      if (ai === b[j - 1]) t[row + j] = (t[up + j - 1] ?? 0) + 1;
      else t[row + j] = Math.max(t[up + j] ?? 0, t[row + j - 1] ?? 0);
    }
  }
  return t;
}

interface Walk {
  readonly text: Uint8Array;
  readonly ranges: Reply[];
}

/** One emitted match: [[aStart, aEnd], [bStart, bEnd], len?]. */
function rangeReply(aStart: number, aEnd: number, bStart: number, bEnd: number, withLen: boolean): Reply {
  const items = [array([int(aStart), int(aEnd)]), array([int(bStart), int(bEnd)])];
  if (withLen) items.push(int(aEnd - aStart + 1));
  return array(items);
}

/** Walks the table back from (alen, blen), collecting the LCS and its matching ranges. */
function walkBack(a: Uint8Array, b: Uint8Array, t: Uint32Array, o: LcsOptions): Walk {
  const width = b.length + 1;
  let idx = t[a.length * width + b.length] ?? 0;
  const text = new Uint8Array(idx);
  const ranges: Reply[] = [];
  let aStart = -1; // -1: no range open
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = a.length;
  let j = b.length;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      text[idx - 1] = a[i - 1] ?? 0;
      if (aStart === -1) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if ((t[(i - 1) * width + j] ?? 0) > (t[i * width + j - 1] ?? 0)) i--;
      else j--;
      if (aStart !== -1) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (o.minMatchLen === 0 || matchLen >= o.minMatchLen) {
        ranges.push(rangeReply(aStart, aEnd, bStart, bEnd, o.withMatchLen));
      }
      aStart = -1;
    }
  }
  return { text, ranges };
}

function lcs(ctx: Ctx, argv: string[]): Reply {
  const va = ctx.lookupRead(argv[1] ?? "");
  const vb = ctx.lookupRead(argv[2] ?? "");
  if ((va !== undefined && typeof va !== "string") || (vb !== undefined && typeof vb !== "string")) {
    return ERR_NOT_STRINGS;
  }
  const o = parseOptions(argv);
  if (!("minMatchLen" in o)) return o;
  const a = Buffer.from(va ?? "", "latin1");
  const b = Buffer.from(vb ?? "", "latin1");
  const cells = (a.length + 1) * (b.length + 1);
  if (cells * 4 > transientBytesMax(ctx)) return ERR_TABLE_LIMIT;
  let t: Uint32Array;
  try {
    t = lcsTable(a, b);
  } catch (e) {
    if (e instanceof RangeError) return ERR_TABLE_ALLOC;
    throw e;
  }
  const total = t[cells - 1] ?? 0;
  if (o.len) return int(total);
  const w = walkBack(a, b, t, o);
  if (o.idx) return map([MATCHES, array(w.ranges), LEN, int(total)]);
  return bulk(Buffer.from(w.text.buffer, w.text.byteOffset, w.text.length).toString("latin1"));
}

export const LCS_COMMANDS: readonly CommandSpec[] = [
  { name: "lcs", arity: -3, flags: ["readonly"], keys: [1, 2, 1], group: "string", since: "7.0.0", run: lcs },
];
