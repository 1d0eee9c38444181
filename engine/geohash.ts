// Redis's geohash (geohash.c, geohash_helper.c): 26-step interleaved hashes
// stored as 52-bit sorted set scores, the 3x3 box cover of a search shape,
// and Haversine distances on Redis's sphere. Every formula keeps Redis's
// operation order, so scores are identical to Redis's and distances agree
// to the last bit except where glibc's sin/cos/asin misround (about 0.3% of
// distances, by one ulp; see the correctly rounded functions below).

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
/** Earth's quadratic mean radius for WGS-84, as Redis uses it. */
export const EARTH_RADIUS_M = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180.0;

const TWO_32 = 4294967296;
const U64 = 64;
const EVEN_BITS = 0x5555555555555555n;
const ODD_BITS = 0xaaaaaaaaaaaaaaaan;

/** A coordinate interval. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** Redis's internal ranges (EPSG:900913 latitude limits). */
export const LONG_RANGE: Range = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const LAT_RANGE: Range = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };
/** The standard geohash ranges GEOHASH re-encodes with. */
const STD_LONG_RANGE: Range = { min: -180, max: 180 };
const STD_LAT_RANGE: Range = { min: -90, max: 90 };

/** A hash of `step` bits per coordinate; step 0 marks a dropped neighbour. */
export interface HashBits {
  readonly bits: bigint;
  readonly step: number;
}

export interface Area {
  readonly lonMin: number;
  readonly lonMax: number;
  readonly latMin: number;
  readonly latMax: number;
}

export function degRad(ang: number): number {
  return ang * D_R;
}

export function radDeg(ang: number): number {
  return ang / D_R;
}

export function validLonLat(lon: number, lat: number): boolean {
  return lon >= GEO_LONG_MIN && lon <= GEO_LONG_MAX && lat >= GEO_LAT_MIN && lat <= GEO_LAT_MAX;
}

// ---------------------------------------------------------------------------
// Bit interleaving on plain numbers (the per-point hot path)

/** Spreads the low 16 bits of v to the even bit positions of a 32-bit result. */
function spread16(v: number): number {
  let x = v & 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x >>> 0;
}

/** Gathers the even bits of a 32-bit value into its low 16 bits. */
function squeeze16(v: number): number {
  let x = v & 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** C's (uint32_t) cast of a double in [0, 2^32): truncation. */
function toU32(x: number): number {
  return x >= TWO_32 || !(x > 0) ? 0 : Math.floor(x);
}

/**
 * interleave64(lat, lon) as the double Redis's ZADD ends up storing: the
 * exact integer when below 2^53, else rounded once to nearest (what
 * strtod of sdsfromlonglong gives).
 */
function interleaveToScore(lat: number, lon: number): number {
  const lo = (spread16(lat) | (spread16(lon) << 1)) >>> 0;
  const hi = (spread16(lat >>> 16) | (spread16(lon >>> 16) << 1)) >>> 0;
  return hi * TWO_32 + lo;
}

/** The sorted set score of a valid (lon, lat): Redis's GEOADD encoding at step 26. */
export function encodeScore(lon: number, lat: number): number {
  const latOffset = ((lat - LAT_RANGE.min) / (LAT_RANGE.max - LAT_RANGE.min)) * 2 ** GEO_STEP_MAX;
  const lonOffset = ((lon - LONG_RANGE.min) / (LONG_RANGE.max - LONG_RANGE.min)) * 2 ** GEO_STEP_MAX;
  return interleaveToScore(toU32(latOffset), toU32(lonOffset));
}

/**
 * C's (uint64_t) cast of a score as x86-64 compilers emit it, split in
 * 32-bit halves. Scores GEOADD wrote are exact integers below 2^53 and take
 * the fast path; anything else a user ZADDed decodes as Redis decodes it.
 */
function scoreToU64(score: number): [hi: number, lo: number] {
  if (score >= 0 && score < 2 ** 53) {
    const t = Math.floor(score);
    return [Math.floor(t / TWO_32), t % TWO_32];
  }
  let u: bigint;
  if (score >= 2 ** 63) u = score < 2 ** 64 ? BigInt(score) : 0n;
  else if (score >= -(2 ** 63)) u = BigInt.asUintN(U64, BigInt(Math.trunc(score)));
  else u = 1n << 63n; // NaN, -inf and below: the "integer indefinite" value.
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/** Redis's decodeGeohash: the cell centre of a score, clamped to the valid ranges. */
export function decodeScore(score: number): [lon: number, lat: number] {
  const [hi, lo] = scoreToU64(score);
  const lat = (squeeze16(lo) | (squeeze16(hi) << 16)) >>> 0;
  const lon = (squeeze16(lo >>> 1) | (squeeze16(hi >>> 1) << 16)) >>> 0;
  const area = cellArea(lat, lon, GEO_STEP_MAX, LONG_RANGE, LAT_RANGE);
  return areaCentre(area);
}

function cellArea(ilat: number, ilon: number, step: number, lonRange: Range, latRange: Range): Area {
  const cells = 2 ** step;
  const latScale = latRange.max - latRange.min;
  const lonScale = lonRange.max - lonRange.min;
  // uint32 arithmetic: ilat + 1 wraps at 2^32 as in C.
  return {
    latMin: latRange.min + ((ilat * 1.0) / cells) * latScale,
    latMax: latRange.min + ((((ilat + 1) >>> 0) * 1.0) / cells) * latScale,
    lonMin: lonRange.min + ((ilon * 1.0) / cells) * lonScale,
    lonMax: lonRange.min + ((((ilon + 1) >>> 0) * 1.0) / cells) * lonScale,
  };
}

function areaCentre(a: Area): [number, number] {
  let lon = (a.lonMin + a.lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (a.latMin + a.latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  return [lon, lat];
}

// ---------------------------------------------------------------------------
// Hashes of any step as uint64 (a few per query, so BigInt is fine)

function spread64(v: number): bigint {
  return (BigInt(spread16(v >>> 16)) << 32n) | BigInt(spread16(v));
}

/** geohashEncode: null outside the valid or given ranges. */
export function encode(lonRange: Range, latRange: Range, lon: number, lat: number, step: number): HashBits | null {
  if (!validLonLat(lon, lat)) return null;
  if (lat < latRange.min || lat > latRange.max || lon < lonRange.min || lon > lonRange.max) return null;
  const latOffset = ((lat - latRange.min) / (latRange.max - latRange.min)) * 2 ** step;
  const lonOffset = ((lon - lonRange.min) / (lonRange.max - lonRange.min)) * 2 ** step;
  return { bits: spread64(toU32(latOffset)) | (spread64(toU32(lonOffset)) << 1n), step };
}

/** geohashDecode: the cell a hash names, in the given ranges. */
export function decode(h: HashBits, lonRange = LONG_RANGE, latRange = LAT_RANGE): Area {
  let lat = 0;
  let lon = 0;
  for (let i = 0; i < 32; i++) {
    if ((h.bits >> BigInt(2 * i)) & 1n) lat += 2 ** i;
    if ((h.bits >> BigInt(2 * i + 1)) & 1n) lon += 2 ** i;
  }
  return cellArea(lat, lon, h.step, lonRange, latRange);
}

/** geohash_move_x / geohash_move_y: one cell along the odd (lon) or even (lat) bits, wrapping. */
function move(h: HashBits, d: -1 | 0 | 1, odd: boolean): HashBits {
  if (d === 0) return h;
  const shift = BigInt(U64 - h.step * 2);
  const mine = h.bits & (odd ? ODD_BITS : EVEN_BITS);
  const other = h.bits & (odd ? EVEN_BITS : ODD_BITS);
  const zz = (odd ? EVEN_BITS : ODD_BITS) >> shift;
  let x = d > 0 ? mine + (zz + 1n) : (mine | zz) - (zz + 1n);
  x = BigInt.asUintN(U64, x) & ((odd ? ODD_BITS : EVEN_BITS) >> shift);
  return { bits: x | other, step: h.step };
}

function moved(h: HashBits, dx: -1 | 0 | 1, dy: -1 | 0 | 1): HashBits {
  return move(move(h, dx, true), dy, false);
}

/** The eight neighbours, in the order Redis scans them after the centre. */
export interface Neighbours {
  north: HashBits;
  south: HashBits;
  east: HashBits;
  west: HashBits;
  northEast: HashBits;
  northWest: HashBits;
  southEast: HashBits;
  southWest: HashBits;
}

export function neighbours(h: HashBits): Neighbours {
  return {
    east: moved(h, 1, 0),
    west: moved(h, -1, 0),
    south: moved(h, 0, -1),
    north: moved(h, 0, 1),
    northWest: moved(h, -1, 1),
    northEast: moved(h, 1, 1),
    southEast: moved(h, 1, -1),
    southWest: moved(h, -1, -1),
  };
}

/** geohashAlign52Bits as the double a score range compares with. */
export function align52(h: HashBits): number {
  return Number(BigInt.asUintN(U64, h.bits << BigInt(52 - h.step * 2)));
}

/** Score interval [min, max) holding every point inside the cell `h`. */
export function scoresOfBox(h: HashBits): { min: number; max: number } {
  return { min: align52(h), max: align52({ bits: h.bits + 1n, step: h.step }) };
}

// ---------------------------------------------------------------------------
// Correctly rounded sin, cos and asin for the small arguments geo uses.
// V8's fdlibm-derived functions are off by one ulp from glibc's in a few
// percent of cases, which would show in stored distances (STOREDIST) and
// in which points sit exactly on a border. glibc's results are (nearly
// always) correctly rounded, so these compute the true value in
// double-double arithmetic (about 100 bits) and round it once.

/** Veltkamp's splitter for 53-bit doubles: 2^27 + 1. */
const SPLIT = 134217729;
/**
 * Double-double operations return the high part and leave the low part in
 * LOW[0]: a typed array stores doubles unboxed, so nothing is allocated.
 */
const LOW = new Float64Array(1);

function lo(): number {
  return LOW[0] ?? 0;
}

/** a * b exactly: returns the product, its rounding error goes to LOW (Dekker; JS has no FMA). */
function twoProd(a: number, b: number): number {
  const p = a * b;
  let c = SPLIT * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b);
  const bl = b - bh;
  LOW[0] = ah * bh - p + ah * bl + al * bh + al * bl;
  return p;
}

function ddMul(ah: number, al: number, bh: number, bl: number): number {
  const ph = twoProd(ah, bh);
  const pl = lo() + (ah * bl + al * bh);
  const h = ph + pl;
  LOW[0] = pl - (h - ph);
  return h;
}

function ddAdd(ah: number, al: number, bh: number, bl: number): number {
  const s = ah + bh;
  const bb = s - ah;
  const e = ah - (s - bb) + (bh - bb) + (al + bl);
  const h = s + e;
  LOW[0] = e - (h - s);
  return h;
}

/** Taylor coefficients (-1)^k / (2k+1)! (sin) and (-1)^k / (2k)! (cos) as double-doubles. */
const SERIES_TERMS = 13;
/** The leading terms summed in double-double; the rest in doubles. */
const DD_TERMS = 7;
const SIN_H = new Float64Array(SERIES_TERMS + 1);
const SIN_L = new Float64Array(SERIES_TERMS + 1);
const COS_H = new Float64Array(SERIES_TERMS + 1);
const COS_L = new Float64Array(SERIES_TERMS + 1);
{
  let fh = 1;
  let fl = 0;
  for (let n = 0; n <= 2 * SERIES_TERMS + 1; n++) {
    if (n > 0) {
      // (fh + fl) / n to double-double precision.
      const q1 = fh / n;
      const p = twoProd(q1, n);
      const q2 = (fh - p - lo() + fl) / n;
      fh = q1 + q2;
      fl = q2 - (fh - q1);
    }
    const sign = (n >> 1) % 2 === 0 ? 1 : -1;
    (n % 2 === 0 ? COS_H : SIN_H)[n >> 1] = sign * fh;
    (n % 2 === 0 ? COS_L : SIN_L)[n >> 1] = sign * fl;
  }
}

const PIO2_HI = 1.5707963267948966;
const PIO2_LO = 6.123233995736766e-17;

/** sin (or cos) of r = rh + rl, |r| <= pi/4, by Horner in r^2 (double-double result). */
function seriesDD(rh: number, rl: number, cosine: boolean): number {
  const xh = ddMul(rh, rl, rh, rl);
  const xl = lo();
  const ch = cosine ? COS_H : SIN_H;
  const cl = cosine ? COS_L : SIN_L;
  // Terms from DD_TERMS on are below 2^-40 of the result: plain doubles carry them to ~2^-93.
  let h = ch[SERIES_TERMS] ?? 0;
  for (let k = SERIES_TERMS - 1; k >= DD_TERMS; k--) h = h * xh + (ch[k] ?? 0);
  let l = 0;
  for (let k = DD_TERMS - 1; k >= 0; k--) {
    const mh = ddMul(h, l, xh, xl);
    h = ddAdd(mh, lo(), ch[k] ?? 0, cl[k] ?? 0);
    l = lo();
  }
  if (cosine) {
    LOW[0] = l;
    return h;
  }
  return ddMul(h, l, rh, rl);
}

/** sin(t) (or cos(t)) for |t| <= 4 as a double-double. */
function sinCosDD(t: number, cosine: boolean): number {
  const k = Math.round(t / PIO2_HI);
  // r = t - k * pi/2 with pi/2 to 106 bits.
  const rh = ddAdd(t, 0, -k * PIO2_HI, -k * PIO2_LO);
  const rl = lo();
  const q = (((cosine ? k + 1 : k) % 4) + 4) % 4;
  const h = seriesDD(rh, rl, q % 2 === 1);
  if (q < 2) return h;
  LOW[0] = -lo();
  return -h;
}

/** Below this sin t rounds to t and cos t to 1; beyond REDUCED_MAX the reduction is not exact enough. */
const TINY = 2 ** -27;
const REDUCED_MAX = 4;

export function sinCR(t: number): number {
  if (Math.abs(t) < TINY) return t;
  if (!(Math.abs(t) <= REDUCED_MAX)) return Math.sin(t);
  const h = sinCosDD(t, false);
  return h + lo();
}

export function cosCR(t: number): number {
  if (Math.abs(t) < TINY) return 1;
  if (!(Math.abs(t) <= REDUCED_MAX)) return Math.cos(t);
  const h = sinCosDD(t, true);
  return h + lo();
}

/** asin by one Newton step from V8's estimate, with the residual in double-double. */
export function asinCR(a: number): number {
  const y0 = Math.asin(a);
  if (!(a > TINY && a < 1)) return y0;
  const sh = sinCosDD(y0, false);
  const rh = ddAdd(a, 0, -sh, -lo());
  const residual = rh + lo();
  return y0 + residual / Math.cos(y0);
}

// ---------------------------------------------------------------------------
// Distances and shapes

export function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_M * Math.abs(degRad(lat2) - degRad(lat1));
}

/** Haversine great-circle distance in meters. */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = sinCR((lon2r - lon1r) / 2);
  // Same longitude: only the latitude differs, no trigonometry needed.
  if (v === 0.0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = sinCR((lat2r - lat1r) / 2);
  const a = u * u + cosCR(lat1r) * cosCR(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_M * asinCR(Math.sqrt(a));
}

/** A search area: a circle of `radius` or a `width` x `height` box, in units of `conversion` meters. */
export type Shape =
  | { readonly kind: "circle"; readonly lon: number; readonly lat: number; readonly conversion: number; readonly radius: number }
  | { readonly kind: "box"; readonly lon: number; readonly lat: number; readonly conversion: number; readonly width: number; readonly height: number };

/** Distance in meters from the shape's centre to (lon, lat), or -1 when outside it. */
export function distanceWithin(s: Shape, lon: number, lat: number): number {
  switch (s.kind) {
    case "circle": {
      const d = distance(s.lon, s.lat, lon, lat);
      return d > s.radius * s.conversion ? -1 : d;
    }
    case "box": {
      // The latitude test is cheaper, so it goes first.
      if (latDistance(lat, s.lat) > (s.height * s.conversion) / 2) return -1;
      if (distance(lon, lat, s.lon, lat) > (s.width * s.conversion) / 2) return -1;
      return distance(s.lon, s.lat, lon, lat);
    }
  }
}

/** geohashEstimateStepsByRadius: the coarsest step whose cells still cover the radius. */
export function estimateSteps(rangeM: number, lat: number): number {
  if (rangeM === 0) return 26;
  let range = rangeM;
  let step = 1;
  // Bounded: range doubles each round, and a range of 0 returned above.
  while (range < MERCATOR_MAX && step < 2000) {
    range *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return Math.min(26, Math.max(1, step));
}

/** geohashBoundingBox: [minLon, minLat, maxLon, maxLat] of the shape. */
export function boundingBox(s: Shape): [number, number, number, number] {
  const half = s.kind === "circle" ? [s.radius, s.radius] : [s.height / 2, s.width / 2];
  const height = s.conversion * (half[0] ?? 0);
  const width = s.conversion * (half[1] ?? 0);
  const latDelta = radDeg(height / EARTH_RADIUS_M);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_M / cosCR(degRad(s.lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_M / cosCR(degRad(s.lat - latDelta)));
  // The widest edge is the one nearer the equator.
  const lonDelta = s.lat < 0 ? lonDeltaBottom : lonDeltaTop;
  return [s.lon - lonDelta, s.lat - latDelta, s.lon + lonDelta, s.lat + latDelta];
}

/** The cells to scan for a shape: the centre cell first, then its neighbours; null = skipped. */
export function searchCells(s: Shape): (HashBits | null)[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(s);
  const radiusM = (s.kind === "circle" ? s.radius : Math.sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2))) * s.conversion;
  let steps = estimateSteps(radiusM, s.lat);
  let hash = encode(LONG_RANGE, LAT_RANGE, s.lon, s.lat, steps) ?? { bits: 0n, step: steps };
  let n = neighbours(hash);
  // Near a cell edge the estimated step can be too fine for a neighbour to cover the area.
  const tooSmall =
    decode(n.north).latMax < maxLat || decode(n.south).latMin > minLat || decode(n.east).lonMax < maxLon || decode(n.west).lonMin > minLon;
  if (steps > 1 && tooSmall) {
    steps--;
    hash = encode(LONG_RANGE, LAT_RANGE, s.lon, s.lat, steps) ?? { bits: 0n, step: steps };
    n = neighbours(hash);
  }
  const area = decode(hash);
  const keep = { north: true, south: true, east: true, west: true };
  // Drop the neighbours lying wholly outside the bounding box.
  if (steps >= 2) {
    if (area.latMin < minLat) keep.south = false;
    if (area.latMax > maxLat) keep.north = false;
    if (area.lonMin < minLon) keep.west = false;
    if (area.lonMax > maxLon) keep.east = false;
  }
  const pick = (h: HashBits, ...sides: boolean[]): HashBits | null => (sides.every((x) => x) ? h : null);
  return [
    hash,
    pick(n.north, keep.north),
    pick(n.south, keep.south),
    pick(n.east, keep.east),
    pick(n.west, keep.west),
    pick(n.northEast, keep.north, keep.east),
    pick(n.northWest, keep.north, keep.west),
    pick(n.southEast, keep.south, keep.east),
    pick(n.southWest, keep.south, keep.west),
  ];
}

const GEO_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/** GEOHASH's 11-character standard geohash of a stored score. */
export function geohashString(score: number): string {
  const [lon, lat] = decodeScore(score);
  const h = encode(STD_LONG_RANGE, STD_LAT_RANGE, lon, lat, GEO_STEP_MAX);
  const bits = h === null ? 0n : h.bits;
  let out = "";
  for (let i = 0; i < 10; i++) out += GEO_ALPHABET[Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn)] ?? "0";
  // 52 bits give 10.4 characters; Redis pads the 11th with a zero index.
  return out + "0";
}
