// Number parsing and formatting with Redis's exact rules.

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/**
 * Redis's string2ll: an optional '-', digits, no leading zeros (except "0"),
 * no spaces or '+', within int64. Returns a number when it is exactly
 * representable, a bigint otherwise, or null when not an integer.
 */
export function parseInt64(s: string): number | bigint | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  let i = 0;
  const c0 = s.charCodeAt(0);
  if (c0 === 45) {
    if (len === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return len === i + 1 && i === 0 ? 0 : null;
  if (first < 49 || first > 57) return null;
  // Up to 15 digits the value is exact in a double: build it while checking.
  let n = first - 48;
  for (let j = i + 1; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
    n = n * 10 + (c - 48);
  }
  if (len - i <= 15) return i === 1 ? -n : n;
  const b = BigInt(s);
  if (b > INT64_MAX || b < INT64_MIN) return null;
  const asNum = Number(b);
  return Number.isSafeInteger(asNum) ? asNum : b;
}

/** Like parseInt64 but the result must fit a JS safe integer (offsets, counts). */
export function parseSafeInt(s: string): number | null {
  const v = parseInt64(s);
  if (v === null || typeof v === "bigint") return null;
  return v;
}

/** parseInt64 returning bigint always (arithmetic that must not lose precision). */
export function parseBigInt64(s: string): bigint | null {
  const v = parseInt64(s);
  if (v === null) return null;
  return typeof v === "bigint" ? v : BigInt(v);
}

/**
 * Redis's string2ld / strtold acceptance for floats given by users: decimal or
 * exponent notation, "inf"/"-inf" and friends; no trailing garbage, no leading
 * space, no NaN.
 */
export function parseDouble(s: string): number | null {
  if (s.length === 0 || s.length > 5000) return null;
  const c0 = s.charCodeAt(0);
  if (c0 === 32 || c0 === 9 || c0 === 10 || c0 === 13 || c0 === 11 || c0 === 12) return null;
  const lower = s.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") return Infinity;
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) {
    if (/^[+-]?0x[0-9a-f]+(\.[0-9a-f]*)?(p[+-]?\d+)?$/i.test(s)) return parseHexFloat(s);
    return null;
  }
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

function parseHexFloat(s: string): number | null {
  const m = /^([+-]?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i.exec(s);
  if (m === null) return null;
  const [, sign, intPart = "0", frac = "", exp = "0"] = m;
  let v = parseInt(intPart, 16);
  for (let i = 0; i < frac.length; i++) v += parseInt(frac[i] ?? "0", 16) / 16 ** (i + 1);
  v *= 2 ** parseInt(exp, 10);
  return sign === "-" ? -v : v;
}

/** The canonical decimal text of an integer (what Redis stores after INCR). */
export function formatInt(n: number | bigint): string {
  return typeof n === "number" ? String(n) : n.toString();
}

/**
 * True when the string is the canonical form of an int64 (Redis keeps such
 * strings as the "int" encoding).
 */
export function isCanonicalInt64(s: string): boolean {
  return s.length <= 20 && parseInt64(s) !== null;
}
