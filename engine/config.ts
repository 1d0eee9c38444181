// Configuration parameters Mnemo honours, with Redis's names, defaults and
// validation. CONFIG GET/SET work on this registry; CONFIG SET of several
// parameters is all-or-nothing.
import { globMatch } from "./glob";
import { parseSafeInt } from "./num";

export type ParamType = "int" | "memory" | "bool" | "string" | "enum" | "special";

export interface ParamDef {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly type: ParamType;
  readonly defaultValue: string;
  readonly min?: number;
  readonly max?: number;
  readonly enumValues?: readonly string[];
  /** Cannot be changed at run time (CONFIG SET refuses). */
  readonly immutable?: boolean;
  /** Extra validation; returns an error text or null. */
  readonly validate?: (v: string) => string | null;
  /** A memory value may also be a percentage ("10%") of maxmemory. */
  readonly percentOk?: boolean;
  /**
   * Redis can change it at run time, Mnemo cannot (it would need to rebind the
   * listener): CONFIG SET to the current value is a no-op, another value fails.
   */
  readonly fixedAtRuntime?: boolean;
  /** Adjusts an accepted value as Redis does (hz is clamped to 1..500). */
  readonly normalize?: (v: string) => string;
}

const MEMORY_UNITS: Record<string, number> = {
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 * 1000,
  mb: 1024 * 1024,
  g: 1000 * 1000 * 1000,
  gb: 1024 * 1024 * 1024,
};

/** Parses "100", "1mb", "2GB" as Redis's memtoull does; null when invalid or negative. */
export function parseMemory(s: string): number | null {
  const m = /^(\d+)([a-z]*)$/i.exec(s);
  if (m === null) return null;
  const unit = (m[2] ?? "").toLowerCase();
  const mul = unit === "" ? 1 : MEMORY_UNITS[unit];
  if (mul === undefined) return null;
  const n = parseInt(m[1] ?? "0", 10) * mul;
  return Number.isSafeInteger(n) ? n : null;
}

/** The outcome of validating one value: the stored form, or Redis's error text. */
export type CheckResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

export class Config {
  private readonly defs = new Map<string, ParamDef>();
  private readonly values = new Map<string, string>();
  /** Parsed numbers, cached: hot paths read limits on every request. */
  private readonly ints = new Map<string, number>();
  private readonly listeners = new Map<string, ((v: string) => void)[]>();

  constructor(defs: readonly ParamDef[]) {
    for (const d of defs) this.define(d);
  }

  define(def: ParamDef): void {
    this.defs.set(def.name, def);
    for (const a of def.aliases ?? []) this.defs.set(a, def);
    this.values.set(def.name, def.defaultValue);
    this.ints.clear();
  }

  has(name: string): boolean {
    return this.defs.has(name.toLowerCase());
  }

  def(name: string): ParamDef | undefined {
    return this.defs.get(name.toLowerCase());
  }

  get(name: string): string {
    const def = this.defs.get(name);
    if (def === undefined) throw new Error(`unknown config parameter ${name}`);
    return this.values.get(def.name) ?? def.defaultValue;
  }

  getInt(name: string): number {
    const cached = this.ints.get(name);
    if (cached !== undefined) return cached;
    const def = this.defs.get(name);
    const raw = this.get(name);
    const n = def?.type === "memory" ? (parseMemory(raw) ?? 0) : def?.type === "bool" ? (raw === "yes" ? 1 : 0) : parseInt(raw, 10);
    this.ints.set(name, n);
    return n;
  }

  getBool(name: string): boolean {
    return this.get(name) === "yes";
  }

  /** Validates and normalises a value for `name` with Redis's error texts. */
  check(name: string, value: string): CheckResult {
    const def = this.defs.get(name.toLowerCase());
    if (def === undefined) return { ok: false, error: "unknown" };
    if (def.immutable) return { ok: false, error: "can't set immutable config" };
    const r = checkValue(def, value);
    if (r.ok && def.fixedAtRuntime && r.value !== this.get(def.name)) {
      return { ok: false, error: "Mnemo cannot change this parameter at run time; restart with the new value" };
    }
    if (!r.ok) return r;
    const e = def.validate?.(r.value) ?? null;
    if (e !== null) return { ok: false, error: e };
    return { ok: true, value: def.normalize === undefined ? r.value : def.normalize(r.value) };
  }

  /** Sets an already-checked value and notifies listeners. */
  set(name: string, value: string): void {
    const def = this.defs.get(name.toLowerCase());
    if (def === undefined) throw new Error(`unknown config parameter ${name}`);
    this.values.set(def.name, value);
    this.ints.clear();
    for (const fn of this.listeners.get(def.name) ?? []) fn(value);
  }

  /**
   * CONFIG SET semantics for name/value pairs: every name must exist, be
   * mutable and appear once, and every value must be valid, or nothing
   * changes. Returns null on success or the whole Redis error line.
   */
  setMany(pairs: readonly (readonly [string, string])[]): string | null {
    const seen = new Set<ParamDef>();
    for (const [name] of pairs) {
      if (this.defs.get(name.toLowerCase()) === undefined) {
        return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
      }
    }
    for (const [name] of pairs) {
      const def = this.defs.get(name.toLowerCase());
      if (def === undefined) continue;
      if (def.immutable) return configSetFailed(name, "can't set immutable config");
      if (seen.has(def)) return configSetFailed(name, "duplicate parameter");
      seen.add(def);
    }
    const checked: [string, string][] = [];
    for (const [name, value] of pairs) {
      const r = this.check(name, value);
      if (!r.ok) return configSetFailed(this.canonicalName(name) ?? name, r.error);
      checked.push([name, r.value]);
    }
    for (const [name, value] of checked) this.set(name, value);
    return null;
  }

  onChange(name: string, fn: (v: string) => void): void {
    const def = this.defs.get(name);
    if (def === undefined) throw new Error(`unknown config parameter ${name}`);
    const list = this.listeners.get(def.name) ?? [];
    list.push(fn);
    this.listeners.set(def.name, list);
  }

  canonicalName(name: string): string | undefined {
    return this.defs.get(name.toLowerCase())?.name;
  }

  /**
   * CONFIG GET for several patterns: a name without glob characters is looked
   * up exactly (an alias answers under the alias), a pattern matches every
   * name and alias (both appear, as in Redis). No name appears twice.
   */
  lookup(patterns: readonly string[]): [string, string][] {
    const out = new Map<string, string>();
    for (const raw of patterns) {
      const p = raw.toLowerCase();
      if (!/[*?[]/.test(p)) {
        const def = this.defs.get(p);
        if (def !== undefined && !out.has(p)) {
          out.set(p, this.values.get(def.name) ?? def.defaultValue);
        }
        continue;
      }
      for (const [name, def] of this.defs) {
        if (out.has(name)) continue;
        if (globMatch(p, name, true)) {
          out.set(name, this.values.get(def.name) ?? def.defaultValue);
        }
      }
    }
    return [...out];
  }

  /** Pairs [name, value] for parameters (and aliases) matching a glob pattern. */
  matching(pattern: string): [string, string][] {
    return this.lookup([pattern]);
  }
}

function configSetFailed(name: string, error: string): string {
  return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${error}`;
}

/** "N%" with 0 <= N <= 100, as Redis's percent memory configs take. */
function checkPercent(value: string): CheckResult {
  const n = parseSafeInt(value.slice(0, -1));
  if (n === null || n < 0) return { ok: false, error: "argument must be a memory or percent value" };
  if (n > 100) return { ok: false, error: "percentage argument must be less or equal to 100" };
  return { ok: true, value: `${n}%` };
}

function checkValue(def: ParamDef, value: string): CheckResult {
  switch (def.type) {
    case "int":
    case "memory": {
      if (def.percentOk && value.endsWith("%")) return checkPercent(value);
      const n = def.type === "memory" ? parseMemory(value) : parseSafeInt(value);
      if (n === null) {
        const what = def.percentOk ? "argument must be a memory or percent value" : "argument must be a memory value";
        return { ok: false, error: def.type === "memory" ? what : "argument couldn't be parsed into an integer" };
      }
      if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
        return { ok: false, error: `argument must be between ${def.min ?? Number.MIN_SAFE_INTEGER} and ${def.max ?? Number.MAX_SAFE_INTEGER} inclusive` };
      }
      return { ok: true, value: String(n) };
    }
    case "bool": {
      const l = value.toLowerCase();
      if (l !== "yes" && l !== "no") return { ok: false, error: "argument must be 'yes' or 'no'" };
      return { ok: true, value: l };
    }
    case "enum": {
      const l = value.toLowerCase();
      const allowed = def.enumValues ?? [];
      if (!allowed.includes(l)) return { ok: false, error: `argument(s) must be one of the following: ${allowed.join(", ")}` };
      return { ok: true, value: l };
    }
    case "string":
    case "special":
      return { ok: true, value };
    default: {
      const never: never = def.type;
      throw new Error(`unknown param type ${String(never)}`);
    }
  }
}
