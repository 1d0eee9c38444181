// Assertions for the checker's own invariants; they stay on.
export class AssertionError extends Error {}

export function assert(cond: unknown, message = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function assertNever(x: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(x)}`);
}
