// A copy of engine/assert.ts: log/ must never import engine/.
export class AssertionError extends Error {
  override name = "AssertionError";
}

/** Assertions stay on in production: a broken invariant stops the node loudly. */
export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function assertNever(x: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(x)}`);
}
