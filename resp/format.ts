// Number formatting as Redis 7.0 writes numbers on the wire.

/** C's printf("%.17g", x), which Redis 7.0 uses for double replies (ZSCORE, RESP3 doubles). */
export function formatDouble17g(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  // toExponential gives the exact exponent after rounding to 17 digits.
  const e = x.toExponential(16);
  const ePos = e.indexOf("e");
  const realExp = parseInt(e.slice(ePos + 1), 10);
  if (realExp < -4 || realExp >= 17) {
    let mant = e.slice(0, ePos);
    if (mant.includes(".")) mant = mant.replace(/0+$/, "").replace(/\.$/, "");
    const sign = realExp < 0 ? "-" : "+";
    const abs = Math.abs(realExp);
    return `${mant}e${sign}${abs < 10 ? "0" + abs : abs}`;
  }
  let fixed = x.toFixed(Math.max(0, 16 - realExp));
  if (fixed.includes(".")) fixed = fixed.replace(/0+$/, "").replace(/\.$/, "");
  return fixed;
}
