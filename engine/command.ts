// The command table: every command as typed data (arity, flags, key spec,
// effects), in the shape of Redis's src/commands/*.json.
import type { Reply } from "../resp/reply";
import type { Ctx } from "./context";

export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "skip_slowlog"
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "no_multi"
  | "allow_busy"
  | "module"
  | "no_mandatory_keys"
  | "sentinel";

/**
 * How a command's writes reach the log:
 * - "verbatim": the command's own argv, when it changed the dataset (dirty grew);
 * - "explicit": the handler emits canonical effects itself (SET EX -> SET PXAT);
 * - "none": the command never writes the dataset.
 */
export type EffectsMode = "verbatim" | "explicit" | "none";

export type Handler = (ctx: Ctx, argv: string[]) => Reply;

export interface CommandSpec {
  /** Lower case; subcommands give only their own name (e.g. "setname"). */
  readonly name: string;
  /** Redis convention: N means exactly N args (name included), -N at least N. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  /** Key positions: first, last (negative counts from the end), step. 0,0,0 = no keys. */
  readonly keys?: readonly [number, number, number];
  readonly effects?: EffectsMode;
  /** Redis's command group (COMMAND DOCS), e.g. "string", "generic", "server". */
  readonly group: string;
  readonly since?: string;
  readonly summary?: string;
  readonly run?: Handler;
  /** Key positions for commands whose keys move (numkeys, STORE options): replaces `keys`. */
  readonly getKeys?: (argv: readonly string[]) => number[];
  readonly subcommands?: readonly CommandSpec[];
}

export const F_WRITE = 1 << 0;
export const F_READONLY = 1 << 1;
export const F_DENYOOM = 1 << 2;
export const F_ADMIN = 1 << 3;
export const F_PUBSUB = 1 << 4;
export const F_NOSCRIPT = 1 << 5;
export const F_BLOCKING = 1 << 6;
export const F_LOADING = 1 << 7;
export const F_STALE = 1 << 8;
export const F_FAST = 1 << 9;
export const F_NO_AUTH = 1 << 10;
export const F_NO_MULTI = 1 << 11;
export const F_MAY_REPLICATE = 1 << 12;

const FLAG_BITS: Partial<Record<CommandFlag, number>> = {
  write: F_WRITE,
  readonly: F_READONLY,
  denyoom: F_DENYOOM,
  admin: F_ADMIN,
  pubsub: F_PUBSUB,
  noscript: F_NOSCRIPT,
  blocking: F_BLOCKING,
  loading: F_LOADING,
  stale: F_STALE,
  fast: F_FAST,
  no_auth: F_NO_AUTH,
  no_multi: F_NO_MULTI,
  may_replicate: F_MAY_REPLICATE,
};

/** A command compiled for dispatch: flags as a bit mask, subcommands in a map. */
export class Command {
  readonly bits: number;
  readonly fullName: string;
  readonly subs: Map<string, Command> | null;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly effects: EffectsMode;
  /** Counters for INFO commandstats. */
  calls = 0;
  usec = 0;
  rejectedCalls = 0;
  failedCalls = 0;

  constructor(
    readonly spec: CommandSpec,
    readonly parent: Command | null,
  ) {
    let bits = 0;
    for (const f of spec.flags) bits |= FLAG_BITS[f] ?? 0;
    this.bits = bits;
    this.fullName = parent === null ? spec.name : `${parent.spec.name}|${spec.name}`;
    const [first, last, step] = spec.keys ?? [0, 0, 0];
    this.firstKey = first;
    this.lastKey = last;
    this.keyStep = step;
    this.effects = spec.effects ?? (bits & F_WRITE ? "verbatim" : "none");
    if (spec.subcommands !== undefined) {
      this.subs = new Map();
      for (const sub of spec.subcommands) this.subs.set(sub.name, new Command(sub, this));
    } else {
      this.subs = null;
    }
  }

  has(bit: number): boolean {
    return (this.bits & bit) !== 0;
  }

  /** The key arguments of argv, per this command's key spec. */
  keyIndexes(argv: readonly string[]): number[] {
    const custom = this.spec.getKeys;
    if (custom !== undefined) return custom(argv);
    if (this.firstKey === 0) return [];
    const last = this.lastKey < 0 ? argv.length + this.lastKey : this.lastKey;
    const out: number[] = [];
    for (let i = this.firstKey; i <= last && i < argv.length; i += this.keyStep) out.push(i);
    return out;
  }
}

export class CommandTable {
  private readonly byName = new Map<string, Command>();

  register(specs: readonly CommandSpec[]): void {
    for (const spec of specs) {
      const cmd = new Command(spec, null);
      this.byName.set(spec.name, cmd);
      this.byName.set(spec.name.toUpperCase(), cmd);
    }
  }

  /** Exact lower- or upper-case names hit without allocating; others are lower-cased. */
  lookup(name: string): Command | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  all(): Command[] {
    const seen = new Set<Command>();
    for (const c of this.byName.values()) seen.add(c);
    return [...seen];
  }
}

/**
 * Keys given as `numkeys key...` with numkeys at argv[numkeysAt], plus any
 * fixed key positions before it (ZUNIONSTORE's destination, ...).
 */
export function numkeysKeys(numkeysAt: number, fixed: readonly number[] = []): (argv: readonly string[]) => number[] {
  return (argv) => {
    const n = Number(argv[numkeysAt]);
    const out = [...fixed];
    if (!Number.isInteger(n) || n <= 0) return out;
    for (let i = numkeysAt + 1; i <= numkeysAt + n && i < argv.length; i++) out.push(i);
    return out;
  };
}
