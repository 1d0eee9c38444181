// Exact reductions of a history before the search: an operation whose reply
// was lost may be left out ("it never happened") whenever no linearization
// could need it, and leaving such operations in costs the search dearly (each
// one may be placed anywhere after its call).
//
//   register: a SET of a unique value that no GET returned. If it happened,
//     no read fell between it and the next write, so the history without it
//     reads the same.
//   list: an RPUSH of a unique value that no LRANGE returned, on a key whose
//     final LRANGE (read after every client stopped) exists. Had it happened
//     before that read, the read would show it; after it, it changes nothing
//     anyone saw.
import type { ListInput, ListOutput, RegisterInput, RegisterOutput } from "./models";
import type { Operation } from "./wgl";

type RegOp = Operation<RegisterInput, RegisterOutput>;
type ListOp = Operation<ListInput, ListOutput>;

export function reduceRegister(ops: readonly RegOp[]): RegOp[] {
  const seen = new Set<string>();
  for (const o of ops) if (o.input.op === "get" && o.outcome.known && o.outcome.output !== null) seen.add(`${o.key}\u0000${o.outcome.output}`);
  return ops.filter((o) => o.outcome.known || o.input.op !== "set" || seen.has(`${o.key}\u0000${o.input.value}`));
}

/** `finalClient`: the client id of the reads made after the run. */
export function reduceList(ops: readonly ListOp[], finalClient: number): ListOp[] {
  const seen = new Set<string>();
  const finalRead = new Set<string>();
  for (const o of ops) {
    if (o.input.op !== "lrange" || !o.outcome.known || typeof o.outcome.output === "number") continue;
    if (o.client === finalClient) finalRead.add(o.key);
    for (const v of o.outcome.output) seen.add(`${o.key}\u0000${v}`);
  }
  return ops.filter((o) => o.outcome.known || o.input.op !== "rpush" || !finalRead.has(o.key) || seen.has(`${o.key}\u0000${o.input.value}`));
}
