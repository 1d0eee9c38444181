// Redis's glob-style pattern matching (stringmatchlen): * ? [abc] [^a-z] and \ escapes.

const NESTING_MAX = 1000;

export function globMatch(pattern: string, s: string, nocase = false): boolean {
  if (nocase) {
    pattern = pattern.toLowerCase();
    s = s.toLowerCase();
  }
  if (pattern === "*") return true;
  return matchAt(pattern, 0, s, 0, 0, { skipLonger: false });
}

/**
 * Set once the rest of a pattern after a `*` matched nowhere in the rest of the
 * string: then no earlier `*` can help by matching more, so every caller stops
 * (Redis's skipLongerMatches; without it "a*a*a*...b" backtracks exponentially).
 */
interface MatchState {
  skipLonger: boolean;
}

function matchAt(p: string, pi: number, s: string, si: number, nesting: number, st: MatchState): boolean {
  if (nesting > NESTING_MAX) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si <= slen) {
    const c = p[pi];
    switch (c) {
      case "*": {
        while (pi + 1 < plen && p[pi + 1] === "*") pi++;
        if (pi + 1 === plen) return true;
        for (let k = si; k < slen; k++) {
          if (matchAt(p, pi + 1, s, k, nesting + 1, st)) return true;
          if (st.skipLonger) return false;
        }
        st.skipLonger = true;
        return false;
      }
      case "?":
        if (si >= slen) return false;
        si++;
        break;
      case "[": {
        if (si >= slen) return false;
        pi++;
        const not = p[pi] === "^";
        if (not) pi++;
        let match = false;
        for (;;) {
          if (pi >= plen) {
            pi--;
            break;
          }
          const pc = p[pi];
          if (pc === "\\" && pi + 1 < plen) {
            pi++;
            if (p[pi] === s[si]) match = true;
          } else if (pc === "]") {
            break;
          } else if (pi + 2 < plen && p[pi + 1] === "-") {
            let start = p.charCodeAt(pi);
            let end = p.charCodeAt(pi + 2);
            const ch = s.charCodeAt(si);
            if (start > end) [start, end] = [end, start];
            pi += 2;
            if (ch >= start && ch <= end) match = true;
          } else if (pc === s[si]) {
            match = true;
          }
          pi++;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        break;
      }
      case "\\":
        if (pi + 1 < plen) pi++;
        if (si >= slen || p[pi] !== s[si]) return false;
        si++;
        break;
      default:
        if (si >= slen || c !== s[si]) return false;
        si++;
        break;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p[pi] === "*") pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}
