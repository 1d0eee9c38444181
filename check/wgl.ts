// A linearizability checker in the style of Porcupine: the Wing–Gong search
// with Lowe's memoization. A history is a set of operations, each with a call
// time, a return time, an input and an output; it is linearizable when some
// total order of the operations respects real time (an operation that returned
// before another was called comes first) and replays, operation by operation,
// through a sequential model that accepts every output.
//
// An operation whose reply was lost "may have happened": it has no return
// event, any output is acceptable for it, and the search may also leave it out
// entirely. The model steps sets of states (the powerset construction), so an
// operation with several possible effects needs no backtracking of its own.
//
// Histories are checked per partition (per key, P-compositionality: a history
// is linearizable iff each key's sub-history is). Each partition has a budget
// of search steps; running out yields "unknown", which callers must treat as a
// failure. An illegal partition comes with the longest prefix that did
// linearize and the operation that could not be placed after it.
//
// Symmetry: operations with unknown outcomes and equal inputs (two INCRs whose
// replies were lost) are interchangeable, so the search only ever places the
// earliest-called one not yet placed; without this, k such operations would
// make it explore 2^k subsets.
import { assert } from "./assert";

/** What a model's step returns when it never answers so (a value no state can be, unlike null). */
export const ILLEGAL: unique symbol = Symbol("illegal");
export type Illegal = typeof ILLEGAL;

/** A sequential specification, deliberately naive: the system is checked against it, not copied from it. */
export interface Model<S, I, O> {
  readonly name: string;
  init(): S;
  /** The state after `input` answered with `output`, or ILLEGAL when the model never answers so in `state`. */
  step(state: S, input: I, output: O): S | Illegal;
  /** Every state `input` may leave when its answer is unknown (it did happen; not happening is the checker's business). */
  stepUnknown(state: S, input: I): readonly S[];
  /** A canonical string: equal iff the states are equal. */
  key(state: S): string;
  describeOp(input: I, output: O | null): string;
  describeState(state: S): string;
  /** Equal for inputs with the same effect (default: their JSON); used for the symmetry above. */
  inputKey?(input: I): string;
}

export type Outcome<O> = { readonly known: true; readonly output: O } | { readonly known: false };

export interface Operation<I, O> {
  readonly client: number;
  /** The partition (usually the key) the operation belongs to. */
  readonly key: string;
  readonly input: I;
  readonly outcome: Outcome<O>;
  readonly callAt: number;
  /** Ignored (+infinity) when the outcome is unknown. */
  readonly returnAt: number;
}

export interface Explanation<I, O> {
  /** The longest prefix the search could linearize, in linearization order. */
  readonly prefix: readonly Operation<I, O>[];
  /** The states the model may be in after the prefix. */
  readonly stateAfterPrefix: string;
  /** An operation that returned before it could be placed after the prefix. */
  readonly stuck: Operation<I, O> | null;
  readonly text: string;
}

export type PartitionResult<I, O> =
  | { readonly kind: "ok"; readonly key: string; readonly ops: number; readonly steps: number }
  | { readonly kind: "illegal"; readonly key: string; readonly ops: number; readonly steps: number; readonly explanation: Explanation<I, O> }
  | { readonly kind: "unknown"; readonly key: string; readonly ops: number; readonly steps: number; readonly reason: string };

export interface CheckResult<I, O> {
  /** illegal if any partition is, else unknown if any is, else ok. */
  readonly kind: "ok" | "illegal" | "unknown";
  readonly partitions: readonly PartitionResult<I, O>[];
}

export interface CheckOptions {
  /** Search steps per partition before giving up with "unknown" (default 2 000 000). */
  readonly stepsMax?: number;
  /** Wall-clock budget per partition in ms (default: none). */
  readonly timeMsMax?: number;
  /** Operations shown before the stuck one in an explanation (default 12). */
  readonly explainOpsMax?: number;
}

const STEPS_MAX_DEFAULT = 2_000_000;
/** The clock is read once per this many steps. */
const CLOCK_EVERY_STEPS = 4096;

export function checkHistory<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], opts: CheckOptions = {}): CheckResult<I, O> {
  const byKey = new Map<string, Operation<I, O>[]>();
  for (const op of history) {
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const keys = [...byKey.keys()].sort();
  const partitions = keys.map((k) => checkPartition(model, k, byKey.get(k) as Operation<I, O>[], opts));
  const kind = partitions.some((p) => p.kind === "illegal") ? "illegal" : partitions.some((p) => p.kind === "unknown") ? "unknown" : "ok";
  return { kind, partitions };
}

// ---- the search -------------------------------------------------------------------

interface Node {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  /** The call's return node (null for an unknown outcome); unused on return nodes. */
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

/** A set of model states, deduplicated and ordered by key, with its own key. */
interface StateSet<S> {
  readonly states: readonly S[];
  readonly key: string;
}

function stateSet<S>(model: Model<S, unknown, unknown>, states: readonly S[]): StateSet<S> | null {
  if (states.length === 0) return null;
  if (states.length === 1) return { states, key: model.key(states[0] as S) };
  const byKey = new Map<string, S>();
  for (const s of states) byKey.set(model.key(s), s);
  const keys = [...byKey.keys()].sort();
  return { states: keys.map((k) => byKey.get(k) as S), key: keys.join("\u0001") };
}

function stepSet<S, I, O>(model: Model<S, I, O>, set: StateSet<S>, op: Operation<I, O>): StateSet<S> | null {
  const out: S[] = [];
  for (const s of set.states) {
    if (op.outcome.known) {
      const n = model.step(s, op.input, op.outcome.output);
      if (n !== ILLEGAL) out.push(n);
    } else out.push(...model.stepUnknown(s, op.input));
  }
  return stateSet(model as Model<S, unknown, unknown>, out);
}

/** The call and return events in time order; at equal times calls come first (they overlap). */
function buildList<I, O>(ops: readonly Operation<I, O>[]): Node {
  const nodes: Node[] = [];
  ops.forEach((op, i) => {
    assert(Number.isFinite(op.callAt), `operation ${i} has no call time`);
    const call: Node = { op: i, isCall: true, time: op.callAt, match: null, prev: null, next: null };
    nodes.push(call);
    if (!op.outcome.known) return;
    assert(op.returnAt >= op.callAt, `operation ${i} returns (${op.returnAt}) before its call (${op.callAt})`);
    const ret: Node = { op: i, isCall: false, time: op.returnAt, match: null, prev: null, next: null };
    call.match = ret;
    nodes.push(ret);
  });
  nodes.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.op - b.op);
  const head: Node = { op: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const n of nodes) {
    prev.next = n;
    n.prev = prev;
    prev = n;
  }
  return head;
}

function lift(call: Node): void {
  (call.prev as Node).next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = call.match;
  if (ret === null) return;
  (ret.prev as Node).next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

function unlift(call: Node): void {
  const ret = call.match;
  if (ret !== null) {
    (ret.prev as Node).next = ret;
    if (ret.next !== null) ret.next.prev = ret;
  }
  (call.prev as Node).next = call;
  if (call.next !== null) call.next.prev = call;
}

/** The set of linearized operations, with an incrementally maintained 64-bit Zobrist hash. */
class OpSet {
  readonly words: Uint32Array;
  h1 = 0;
  h2 = 0;
  private readonly z1: Uint32Array;
  private readonly z2: Uint32Array;

  constructor(n: number) {
    this.words = new Uint32Array(Math.ceil(n / 32));
    this.z1 = new Uint32Array(n);
    this.z2 = new Uint32Array(n);
    let s = 0x9e3779b9;
    for (let i = 0; i < n; i++) {
      s = (s + 0x6d2b79f5) | 0;
      this.z1[i] = mix(s);
      this.z2[i] = mix(s ^ 0x5bd1e995);
    }
  }

  flip(i: number): void {
    this.words[i >>> 5] = (this.words[i >>> 5] as number) ^ (1 << (i & 31));
    this.h1 ^= this.z1[i] as number;
    this.h2 ^= this.z2[i] as number;
  }
}

function mix(x: number): number {
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Lowe's cache: (linearized set, state set) pairs already explored. */
class Seen {
  private readonly map = new Map<string, Uint32Array[]>();

  /** False if the pair was there already. */
  add(ops: OpSet, stateKey: string): boolean {
    const k = `${ops.h1}:${ops.h2}:${stateKey}`;
    const list = this.map.get(k);
    if (list === undefined) {
      this.map.set(k, [ops.words.slice()]);
      return true;
    }
    for (const w of list) if (sameWords(w, ops.words)) return false;
    list.push(ops.words.slice());
    return true;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Frame<S> {
  readonly call: Node;
  readonly before: StateSet<S>;
}

/** The deepest point the search reached, for the explanation. */
interface Best<S> {
  ops: number[];
  state: StateSet<S>;
  stuck: number | null;
}

/** Groups of interchangeable unknown-outcome operations: each one's group (-1: none) and rank by call order. */
interface Symmetry {
  readonly group: Int32Array;
  readonly rank: Int32Array;
  /** Per group, how many (a prefix by rank) are placed. */
  readonly placed: number[];
}

function symmetryOf<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): Symmetry {
  const group = new Int32Array(ops.length).fill(-1);
  const rank = new Int32Array(ops.length);
  const placed: number[] = [];
  const ids = new Map<string, number>();
  const order = ops.map((_, i) => i).sort((a, b) => (ops[a] as Operation<I, O>).callAt - (ops[b] as Operation<I, O>).callAt || a - b);
  for (const i of order) {
    const op = ops[i] as Operation<I, O>;
    if (op.outcome.known) continue;
    const k = model.inputKey === undefined ? JSON.stringify(op.input) : model.inputKey(op.input);
    let g = ids.get(k);
    if (g === undefined) {
      ids.set(k, (g = placed.length));
      placed.push(0);
    }
    group[i] = g;
    rank[i] = placed[g] as number;
    placed[g] = (placed[g] as number) + 1;
  }
  placed.fill(0);
  return { group, rank, placed };
}

/** Moves the placed count of op's group (when it has one) by delta. */
function countPlaced(sym: Symmetry, op: number, delta: number): void {
  const g = sym.group[op] as number;
  if (g >= 0) sym.placed[g] = (sym.placed[g] as number) + delta;
}

function checkPartition<S, I, O>(model: Model<S, I, O>, key: string, ops: readonly Operation<I, O>[], opts: CheckOptions): PartitionResult<I, O> {
  const stepsMax = opts.stepsMax ?? STEPS_MAX_DEFAULT;
  const sym = symmetryOf(model, ops);
  const deadline = opts.timeMsMax === undefined ? Infinity : Date.now() + opts.timeMsMax;
  const head = buildList(ops);
  const linearized = new OpSet(ops.length);
  const seen = new Seen();
  const stack: Frame<S>[] = [];
  let state = stateSet(model as Model<S, unknown, unknown>, [model.init()]) as StateSet<S>;
  const best: Best<S> = { ops: [], state, stuck: null };
  // True while the stack is exactly the best prefix: the first return met then is the stuck operation.
  let atBest = true;
  let remaining = ops.filter((o) => o.outcome.known).length;
  let node = head.next;
  let steps = 0;
  while (remaining > 0) {
    steps++;
    if (steps > stepsMax || (steps % CLOCK_EVERY_STEPS === 0 && Date.now() > deadline)) {
      const why = steps > stepsMax ? `${stepsMax} search steps` : `${opts.timeMsMax ?? 0} ms`;
      return { kind: "unknown", key, ops: ops.length, steps, reason: `gave up after ${why} (${stack.length} of ${ops.length} operations placed)` };
    }
    assert(node !== null, "the search ran off the end of the history");
    if (node.isCall) {
      const op = ops[node.op] as Operation<I, O>;
      const g = sym.group[node.op] as number;
      if (g >= 0 && sym.rank[node.op] !== sym.placed[g]) {
        // An interchangeable operation called earlier is not placed yet: place that one first.
        node = node.next;
        continue;
      }
      const next = stepSet(model, state, op);
      if (next !== null) {
        linearized.flip(node.op);
        if (seen.add(linearized, next.key)) {
          stack.push({ call: node, before: state });
          state = next;
          lift(node);
          countPlaced(sym, node.op, 1);
          if (op.outcome.known) remaining--;
          if (stack.length > best.ops.length) {
            best.ops = stack.map((f) => f.call.op);
            best.state = state;
            best.stuck = null;
            atBest = true;
          }
          node = head.next;
          continue;
        }
        linearized.flip(node.op);
      }
      node = node.next;
      continue;
    }
    // A return event of an operation not yet placed: undo the last choice.
    if (atBest && best.stuck === null) best.stuck = node.op;
    atBest = false;
    const top = stack.pop();
    if (top === undefined) return illegal(model, key, ops, steps, best, opts);
    state = top.before;
    linearized.flip(top.call.op);
    unlift(top.call);
    countPlaced(sym, top.call.op, -1);
    if ((ops[top.call.op] as Operation<I, O>).outcome.known) remaining++;
    node = top.call.next;
  }
  return { kind: "ok", key, ops: ops.length, steps };
}

function illegal<S, I, O>(
  model: Model<S, I, O>,
  key: string,
  ops: readonly Operation<I, O>[],
  steps: number,
  best: Best<S>,
  opts: CheckOptions,
): PartitionResult<I, O> {
  const prefix = best.ops.map((i) => ops[i] as Operation<I, O>);
  const stuck = best.stuck === null ? null : (ops[best.stuck] as Operation<I, O>);
  const stateAfterPrefix = best.state.states.map((s) => model.describeState(s)).join(" | ");
  const shown = opts.explainOpsMax ?? 12;
  const lines = [`key ${key}: not linearizable (${model.name}, ${ops.length} operations)`];
  lines.push(`  longest linearizable prefix: ${prefix.length} operations${prefix.length > shown ? `, the last ${shown}:` : ":"}`);
  for (const op of prefix.slice(-shown)) lines.push(`    ${describe(model, op)}`);
  lines.push(`  state after it: ${stateAfterPrefix}`);
  if (stuck !== null) lines.push(`  cannot place: ${describe(model, stuck)}`);
  return { kind: "illegal", key, ops: ops.length, steps, explanation: { prefix, stateAfterPrefix, stuck, text: lines.join("\n") } };
}

export function describe<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const out = op.outcome.known ? op.outcome.output : null;
  const when = op.outcome.known ? `[${op.callAt}, ${op.returnAt}]` : `[${op.callAt}, ?]`;
  return `client ${op.client} ${when} ${model.describeOp(op.input, out)}${op.outcome.known ? "" : " (unknown outcome)"}`;
}

/** One line per partition that is not ok, for reports. */
export function summarize<I, O>(r: CheckResult<I, O>): string {
  const bad = r.partitions.filter((p) => p.kind !== "ok");
  if (bad.length === 0) return `linearizable (${r.partitions.length} keys)`;
  return bad.map((p) => (p.kind === "illegal" ? p.explanation.text : p.kind === "unknown" ? `key ${p.key}: unknown: ${p.reason}` : "")).join("\n");
}
