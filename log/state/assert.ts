// log/ must never import engine/, and log/raft/ belongs to the Raft core, so
// the state machine keeps its own copy of the two assertion helpers.
export class AssertionError extends Error {}

/** Assertions stay on in production: a broken invariant stops the node loudly. */
export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function assertNever(x: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(x)}`);
}
