// Sequential models for the checker, each as naive as it can be: a register
// (SET/GET of unique values), an append-only list (RPUSH/LRANGE 0 -1), a
// counter (INCR/GET) and, in ./log-model.ts, the log service's API.
import { ILLEGAL, type Model } from "./wgl";

export { logModel, type LogInput, type LogOutput, type LogModelOptions } from "./log-model";

// ---- register ------------------------------------------------------------------------

export type RegisterInput = { readonly op: "set"; readonly value: string } | { readonly op: "get" };
/** SET answers "OK"; GET answers the value or null. */
export type RegisterOutput = string | null;

export const registerModel: Model<string | null, RegisterInput, RegisterOutput> = {
  name: "register",
  init: () => null,
  step(state, input, output) {
    if (input.op === "set") return output === "OK" ? input.value : ILLEGAL;
    return output === state ? state : ILLEGAL;
  },
  stepUnknown: (state, input) => [input.op === "set" ? input.value : state],
  key: (state) => (state === null ? "-" : `=${state}`),
  describeOp: (input, output) => (input.op === "set" ? `SET ${input.value} -> ${show(output)}` : `GET -> ${show(output)}`),
  describeState: (state) => (state === null ? "(nil)" : JSON.stringify(state)),
};

// ---- list append -----------------------------------------------------------------------

export type ListInput = { readonly op: "rpush"; readonly value: string } | { readonly op: "lrange" };
/** RPUSH answers the new length; LRANGE 0 -1 answers the whole list. */
export type ListOutput = number | readonly string[];

/** A list as a chain of appends; equal lists are the same interned node, so the key is its id. */
export interface ListState {
  readonly id: number;
  readonly length: number;
  readonly last: string;
  readonly prev: ListState | null;
}

const EMPTY_LIST: ListState = { id: 0, length: 0, last: "", prev: null };

function sameList(state: ListState, items: readonly string[]): boolean {
  if (items.length !== state.length) return false;
  let s: ListState | null = state;
  for (let i = items.length - 1; i >= 0; i--, s = s.prev) if (s === null || s.last !== items[i]) return false;
  return true;
}

function listTail(state: ListState, n: number): string[] {
  const out: string[] = [];
  for (let s: ListState | null = state; s !== null && s.length > 0 && out.length < n; s = s.prev) out.unshift(s.last);
  return out;
}

/** A fresh model per check: its intern table lives as long as the model. */
export function listModel(): Model<ListState, ListInput, ListOutput> {
  const interned = new Map<string, ListState>();
  const push = (s: ListState, v: string): ListState => {
    const k = `${s.id}:${v}`;
    let n = interned.get(k);
    if (n === undefined) interned.set(k, (n = { id: interned.size + 1, length: s.length + 1, last: v, prev: s }));
    return n;
  };
  return {
    name: "list-append",
    init: () => EMPTY_LIST,
    step(state, input, output) {
      if (input.op === "rpush") return output === state.length + 1 ? push(state, input.value) : ILLEGAL;
      return typeof output !== "number" && sameList(state, output) ? state : ILLEGAL;
    },
    stepUnknown: (state, input) => [input.op === "rpush" ? push(state, input.value) : state],
    key: (state) => String(state.id),
    describeOp: (input, output) =>
      input.op === "rpush" ? `RPUSH ${input.value} -> ${show(output)}` : `LRANGE 0 -1 -> ${showList(output)}`,
    describeState: (state) => `${state.length} items${state.length > 0 ? `, ending ${JSON.stringify(listTail(state, 5))}` : ""}`,
  };
}

// ---- counter ----------------------------------------------------------------------------

export type CounterInput = { readonly op: "incr" } | { readonly op: "get" };
/** INCR answers the new value; GET answers the value, or null for a key never incremented. */
export type CounterOutput = number | null;

export const counterModel: Model<number, CounterInput, CounterOutput> = {
  name: "counter",
  init: () => 0,
  step(state, input, output) {
    if (input.op === "incr") return output === state + 1 ? state + 1 : ILLEGAL;
    return output === state || (output === null && state === 0) ? state : ILLEGAL;
  },
  stepUnknown: (state, input) => [input.op === "incr" ? state + 1 : state],
  key: (state) => String(state),
  describeOp: (input, output) => (input.op === "incr" ? `INCR -> ${show(output)}` : `GET -> ${show(output)}`),
  describeState: (state) => String(state),
};

function show(x: string | number | null | readonly string[]): string {
  if (x === null) return "(nil)";
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "number") return String(x);
  return showList(x);
}

function showList(x: ListOutput | null): string {
  if (x === null) return "?";
  if (typeof x === "number") return String(x);
  return x.length <= 6 ? JSON.stringify(x) : `[${x.length} items: ...${JSON.stringify(x.slice(-4)).slice(1)}`;
}
