// Configuration parameters Mnemo honours, with Redis's names, defaults and
// validation. CONFIG GET/SET work on this registry.
import { globMatch } from "./glob";

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

/** Parses "100", "1mb", "2gb" as Redis's memtoull does; null when invalid. */
export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)([a-z]*)$/i.exec(s);
  if (m === null) return null;
  const unit = (m[2] ?? "").toLowerCase();
  const mul = unit === "" ? 1 : MEMORY_UNITS[unit];
  if (mul === undefined) return null;
  return parseInt(m[1] ?? "0", 10) * mul;
}

export class Config {
  private readonly defs = new Map<string, ParamDef>();
  private readonly values = new Map<string, string>();
  private readonly listeners = new Map<string, ((v: string) => void)[]>();

  constructor(defs: readonly ParamDef[]) {
    for (const d of defs) this.define(d);
  }

  define(def: ParamDef): void {
    this.defs.set(def.name, def);
    for (const a of def.aliases ?? []) this.defs.set(a, def);
    this.values.set(def.name, def.defaultValue);
  }

  has(name: string): boolean {
    return this.defs.has(name.toLowerCase());
  }

  get(name: string): string {
    const def = this.defs.get(name);
    if (def === undefined) throw new Error(`unknown config parameter ${name}`);
    return this.values.get(def.name) ?? def.defaultValue;
  }

  getInt(name: string): number {
    const def = this.defs.get(name);
    const raw = this.get(name);
    if (def?.type === "memory") return parseMemory(raw) ?? 0;
    if (def?.type === "bool") return raw === "yes" ? 1 : 0;
    return parseInt(raw, 10);
  }

  getBool(name: string): boolean {
    return this.get(name) === "yes";
  }

  /** Validates and normalises a value; returns [normalised, null] or [null, error]. */
  check(name: string, value: string): [string, null] | [null, string] {
    const def = this.defs.get(name.toLowerCase());
    if (def === undefined) return [null, "unknown"];
    if (def.immutable) return [null, "can't set immutable config"];
    let v = value;
    switch (def.type) {
      case "int":
      case "memory": {
        const n = def.type === "memory" ? parseMemory(value) : /^-?\d+$/.test(value) ? parseInt(value, 10) : null;
        if (n === null || !Number.isFinite(n)) return [null, "argument couldn't be parsed into an integer"];
        if ((def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max)) {
          return [null, `argument must be between ${def.min ?? "-inf"} and ${def.max ?? "inf"} inclusive`];
        }
        v = String(n);
        break;
      }
      case "bool": {
        const l = value.toLowerCase();
        if (l !== "yes" && l !== "no") return [null, "argument must be 'yes' or 'no'"];
        v = l;
        break;
      }
      case "enum": {
        const l = value.toLowerCase();
        if (!(def.enumValues ?? []).includes(l)) return [null, "argument(s) must be one of the following: " + (def.enumValues ?? []).join(", ")];
        v = l;
        break;
      }
      case "string":
      case "special":
        break;
    }
    const e = def.validate?.(v) ?? null;
    if (e !== null) return [null, e];
    return [v, null];
  }

  /** Sets an already-checked value and notifies listeners. */
  set(name: string, value: string): void {
    const def = this.defs.get(name.toLowerCase());
    if (def === undefined) throw new Error(`unknown config parameter ${name}`);
    this.values.set(def.name, value);
    for (const fn of this.listeners.get(def.name) ?? []) fn(value);
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

  /** Pairs [name, value] for parameters (and aliases) matching a glob pattern. */
  matching(pattern: string): [string, string][] {
    const out: [string, string][] = [];
    const p = pattern.toLowerCase();
    for (const [name, def] of this.defs) {
      if (globMatch(p, name)) out.push([name, this.values.get(def.name) ?? def.defaultValue]);
    }
    return out;
  }
}
