// Geo commands (Redis's geo.c) on sorted sets whose scores are 52-bit
// geohashes (see ../geohash.ts). GEOADD runs ZADD with the computed scores,
// so its effect is that ZADD. The searches that store (GEORADIUS STORE,
// GEOSEARCHSTORE) replicate the stored set itself (DEL + ZADD), so a replica
// never depends on its math library agreeing with the primary's.
import { formatDouble17g } from "../../resp/format";
import { array, bulk, bulks, double, EMPTY_ARRAY, err, int, NULL, NULL_ARRAY, ZERO, type Reply } from "../../resp/reply";
import type { CommandSpec, Handler } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { decodeScore, distance, distanceWithin, encodeScore, geohashString, scoresOfBox, searchCells, validLonLat, type HashBits, type Shape } from "../geohash";
import { parseInt64 } from "../num";
import { ZSetObject } from "../types/zset";
import { parseScore, zsetAt, ZSET_COMMANDS } from "./zset";

const K1: readonly [number, number, number] = [1, 1, 1];
/** Members per ZADD effect of a stored search, so no single log record grows unbounded. */
const ZADD_BATCH_MAX = 1024;

const ERR_UNIT = err("ERR unsupported unit provided. please use M, KM, FT, MI");
const ERR_RADIUS = err("ERR need numeric radius");
const ERR_RADIUS_NEGATIVE = err("ERR radius cannot be negative");
const ERR_WIDTH = err("ERR need numeric width");
const ERR_HEIGHT = err("ERR need numeric height");
const ERR_BOX_NEGATIVE = err("ERR height or width cannot be negative");
const ERR_MEMBER = err("ERR could not decode requested zset member");
const ERR_COUNT = err("ERR COUNT must be > 0");
const ERR_ANY = err("ERR the ANY argument requires COUNT argument");

// ---------------------------------------------------------------------------
// Number formatting as Redis writes geo replies

const F64 = new DataView(new ArrayBuffer(8));

/** |x| (finite) as mant * 2^exp exactly. */
function exactParts(x: number): { mant: bigint; exp: number } {
  F64.setFloat64(0, Math.abs(x));
  const hi = F64.getUint32(0);
  const lo = F64.getUint32(4);
  const biased = hi >>> 20;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mant: frac, exp: -1074 };
  return { mant: frac | (1n << 52n), exp: biased - 1075 };
}

/** C's printf("%.<digits>f", x) for a finite x: exact value, ties to even. */
export function formatFixed(x: number, digits: number): string {
  const { mant, exp } = exactParts(x);
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) {
    q = (mant << BigInt(exp)) * scale;
  } else {
    const num = mant * scale;
    const den = 1n << BigInt(-exp);
    q = num / den;
    const twice = 2n * (num % den);
    if (twice > den || (twice === den && (q & 1n) === 1n)) q++;
  }
  let s = q.toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, "0");
    s = `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  }
  return (x < 0 || Object.is(x, -0) ? "-" : "") + s;
}

/** ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros, "-0" as "0". */
export function formatHuman(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  let s = formatFixed(x, 17);
  s = s.replace(/0+$/, "");
  if (s.endsWith(".")) s = s.slice(0, -1);
  return s === "-0" ? "0" : s;
}

/** fixedpoint_d2string(d, 4): llrint(d * 10^4) printed with four decimals. */
export function formatDistance(d: number): string {
  if (d === 0) return "0.0000";
  const p = d * 10000;
  let r = Math.round(p);
  // llrint rounds ties to even; Math.round rounds them up.
  if (r - p === 0.5 && r % 2 !== 0) r -= 1;
  const neg = r < 0;
  const digits = Math.abs(r).toString().padStart(5, "0");
  return `${neg ? "-" : ""}${digits.slice(0, -4)}.${digits.slice(-4)}`;
}

/** A coordinate reply: addReplyHumanLongDouble (a bulk string in RESP2, a double in RESP3). */
function coordReply(ctx: Ctx, x: number): Reply {
  return ctx.session.resp === 3 ? double(x) : bulk(formatHuman(x));
}

// ---------------------------------------------------------------------------
// Argument parsing

/** `lon lat` at argv[i], i+1: the pair, or Redis's error. */
function parseLonLat(argv: readonly string[], i: number): [number, number] | Reply {
  const lon = parseScore(argv[i] ?? "");
  if (lon === null) return E.notFloat;
  const lat = parseScore(argv[i + 1] ?? "");
  if (lat === null) return E.notFloat;
  if (!validLonLat(lon, lat)) return err(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
  return [lon, lat];
}

/** Meters per unit, or null for an unknown unit. */
function unitToMeters(u: string): number | null {
  switch (u.toLowerCase()) {
    case "m":
      return 1;
    case "km":
      return 1000;
    case "ft":
      return 0.3048;
    case "mi":
      return 1609.34;
    default:
      return null;
  }
}

/** `radius unit` at argv[i]. */
function parseRadius(argv: readonly string[], i: number): { radius: number; conversion: number } | Reply {
  const radius = parseScore(argv[i] ?? "");
  if (radius === null) return ERR_RADIUS;
  if (radius < 0) return ERR_RADIUS_NEGATIVE;
  const conversion = unitToMeters(argv[i + 1] ?? "");
  if (conversion === null) return ERR_UNIT;
  return { radius, conversion };
}

/** `width height unit` at argv[i]. */
function parseBox(argv: readonly string[], i: number): { width: number; height: number; conversion: number } | Reply {
  const width = parseScore(argv[i] ?? "");
  if (width === null) return ERR_WIDTH;
  const height = parseScore(argv[i + 1] ?? "");
  if (height === null) return ERR_HEIGHT;
  if (height < 0 || width < 0) return ERR_BOX_NEGATIVE;
  const conversion = unitToMeters(argv[i + 2] ?? "");
  if (conversion === null) return ERR_UNIT;
  return { width, height, conversion };
}

// ---------------------------------------------------------------------------
// GEOADD

const zaddRun = ZSET_COMMANDS.find((c) => c.name === "zadd")?.run;

function geoadd(ctx: Ctx, argv: string[]): Reply {
  let at = 2;
  let nx = false;
  let xx = false;
  for (; at < argv.length; at++) {
    const opt = (argv[at] ?? "").toLowerCase();
    if (opt === "nx") nx = true;
    else if (opt === "xx") xx = true;
    else if (opt !== "ch") break;
  }
  if ((argv.length - at) % 3 !== 0 || (nx && xx)) return E.syntax;
  // ZADD key [options] score member ...: ZADD does the rest, and its argv is the effect.
  const zargv = ["ZADD", ...argv.slice(1, at)];
  for (let i = at; i < argv.length; i += 3) {
    const xy = parseLonLat(argv, i);
    if (!Array.isArray(xy)) return xy;
    zargv.push(String(encodeScore(xy[0], xy[1])), argv[i + 2] ?? "");
  }
  if (zaddRun === undefined) throw new Error("geoadd: ZADD is not registered");
  return zaddRun(ctx, zargv);
}

// ---------------------------------------------------------------------------
// GEOPOS, GEOHASH, GEODIST

function geopos(ctx: Ctx, argv: string[]): Reply {
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (z !== null && !(z instanceof ZSetObject)) return z;
  const out: Reply[] = [];
  for (let i = 2; i < argv.length; i++) {
    const score = z?.score(argv[i] ?? "");
    if (score === undefined) {
      out.push(NULL_ARRAY);
      continue;
    }
    const [lon, lat] = decodeScore(score);
    out.push(array([coordReply(ctx, lon), coordReply(ctx, lat)]));
  }
  return array(out);
}

function geohash(ctx: Ctx, argv: string[]): Reply {
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (z !== null && !(z instanceof ZSetObject)) return z;
  const out: (string | null)[] = [];
  for (let i = 2; i < argv.length; i++) {
    const score = z?.score(argv[i] ?? "");
    out.push(score === undefined ? null : geohashString(score));
  }
  return bulks(out);
}

function geodist(ctx: Ctx, argv: string[]): Reply {
  let toMeters = 1;
  if (argv.length === 5) {
    const u = unitToMeters(argv[4] ?? "");
    if (u === null) return ERR_UNIT;
    toMeters = u;
  } else if (argv.length > 5) {
    return E.syntax;
  }
  const z = zsetAt(ctx, argv[1] ?? "", false);
  if (z === null) return NULL;
  if (!(z instanceof ZSetObject)) return z;
  const s1 = z.score(argv[2] ?? "");
  const s2 = z.score(argv[3] ?? "");
  if (s1 === undefined || s2 === undefined) return NULL;
  const [lon1, lat1] = decodeScore(s1);
  const [lon2, lat2] = decodeScore(s2);
  return bulk(formatDistance(distance(lon1, lat1, lon2, lat2) / toMeters));
}

// ---------------------------------------------------------------------------
// Searches: GEORADIUS[BYMEMBER][_RO], GEOSEARCH[STORE]

const COORDS = 1;
const MEMBER = 2;
const NOSTORE = 4;
const SEARCH = 8;
const SEARCHSTORE = 16;

interface Search {
  lon: number;
  lat: number;
  radius: number | null;
  box: { width: number; height: number } | null;
  conversion: number;
  fromMember: boolean;
  fromLonLat: boolean;
  withDist: boolean;
  withHash: boolean;
  withCoord: boolean;
  sort: "none" | "asc" | "desc";
  firstFound: boolean;
  count: number;
  storeKey: string | null;
  storeDist: boolean;
}

function newSearch(): Search {
  return {
    lon: 0,
    lat: 0,
    radius: null,
    box: null,
    conversion: 1,
    fromMember: false,
    fromLonLat: false,
    withDist: false,
    withHash: false,
    withCoord: false,
    sort: "none",
    firstFound: false,
    count: 0,
    storeKey: null,
    storeDist: false,
  };
}

/** The centre of a search from a member's position, or Redis's error. */
function centreFromMember(q: Search, z: ZSetObject, member: string): Reply | null {
  const score = z.score(member);
  if (score === undefined) return ERR_MEMBER;
  [q.lon, q.lat] = decodeScore(score);
  return null;
}

/** The fixed leading arguments of GEORADIUS / GEORADIUSBYMEMBER; returns where options start. */
function parseRadiusHead(q: Search, argv: readonly string[], flags: number, z: ZSetObject | null): number | Reply {
  if (flags & COORDS) {
    const xy = parseLonLat(argv, 2);
    if (!Array.isArray(xy)) return xy;
    [q.lon, q.lat] = xy;
  } else if (z === null) {
    // No source key: options are still parsed to choose the reply shape.
    return 5;
  } else {
    const e = centreFromMember(q, z, argv[2] ?? "");
    if (e !== null) return e;
  }
  const at = flags & COORDS ? 4 : 3;
  const r = parseRadius(argv, at);
  if ("kind" in r) return r;
  q.radius = r.radius;
  q.conversion = r.conversion;
  return at + 2;
}

/** Parses one option at argv[i]; returns the index of its last argument. */
function parseOption(q: Search, argv: readonly string[], i: number, flags: number, z: ZSetObject | null): number | Reply {
  const arg = (argv[i] ?? "").toLowerCase();
  const left = argv.length - i - 1;
  const search = (flags & SEARCH) !== 0;
  const storeOk = !(flags & NOSTORE) && !search;
  switch (arg) {
    case "withdist":
      q.withDist = true;
      return i;
    case "withhash":
      q.withHash = true;
      return i;
    case "withcoord":
      q.withCoord = true;
      return i;
    case "any":
      q.firstFound = true;
      return i;
    case "asc":
    case "desc":
      q.sort = arg;
      return i;
  }
  if (arg === "count" && left >= 1) return parseCount(q, argv, i);
  if ((arg === "store" || arg === "storedist") && left >= 1 && storeOk) {
    q.storeKey = argv[i + 1] ?? "";
    q.storeDist = arg === "storedist";
    return i + 1;
  }
  if (arg === "storedist" && search && flags & SEARCHSTORE) {
    q.storeDist = true;
    return i;
  }
  if (search) return parseSearchOption(q, argv, i, arg, left, z);
  return E.syntax;
}

function parseCount(q: Search, argv: readonly string[], i: number): number | Reply {
  const n = parseInt64(argv[i + 1] ?? "");
  if (n === null) return E.notInteger;
  if (n <= 0) return ERR_COUNT;
  q.count = Number(n);
  return i + 1;
}

/** GEOSEARCH's FROMMEMBER / FROMLONLAT / BYRADIUS / BYBOX. */
function parseSearchOption(q: Search, argv: readonly string[], i: number, arg: string, left: number, z: ZSetObject | null): number | Reply {
  if (arg === "frommember" && left >= 1 && !q.fromLonLat) {
    q.fromMember = true;
    if (z === null) return i + 1;
    const e = centreFromMember(q, z, argv[i + 1] ?? "");
    return e ?? i + 1;
  }
  if (arg === "fromlonlat" && left >= 2 && !q.fromMember) {
    const xy = parseLonLat(argv, i + 1);
    if (!Array.isArray(xy)) return xy;
    [q.lon, q.lat] = xy;
    q.fromLonLat = true;
    return i + 2;
  }
  if (arg === "byradius" && left >= 2 && q.box === null) {
    const r = parseRadius(argv, i + 1);
    if ("kind" in r) return r;
    q.radius = r.radius;
    q.conversion = r.conversion;
    return i + 2;
  }
  if (arg === "bybox" && left >= 3 && q.radius === null) {
    const b = parseBox(argv, i + 1);
    if ("kind" in b) return b;
    q.box = { width: b.width, height: b.height };
    q.conversion = b.conversion;
    return i + 3;
  }
  return E.syntax;
}

/** Parses a whole search command the way georadiusGeneric does, stopping at the first error. */
function parseSearch(argv: readonly string[], flags: number, z: ZSetObject | null): Search | Reply {
  const q = newSearch();
  let at: number;
  if (flags & SEARCH) {
    at = flags & SEARCHSTORE ? 3 : 2;
    if (flags & SEARCHSTORE) q.storeKey = argv[1] ?? "";
  } else {
    const head = parseRadiusHead(q, argv, flags, z);
    if (typeof head !== "number") return head;
    at = head;
  }
  for (let i = at; i < argv.length; i++) {
    const last = parseOption(q, argv, i, flags, z);
    if (typeof last !== "number") return last;
    i = last;
  }
  return checkSearch(q, argv, flags);
}

/** The cross-option checks Redis makes once every option is read. */
function checkSearch(q: Search, argv: readonly string[], flags: number): Search | Reply {
  const name = argv[0] ?? "";
  if (q.storeKey !== null && (q.withDist || q.withHash || q.withCoord)) {
    const what = flags & SEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS";
    return err(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (flags & SEARCH && !(q.fromMember || q.fromLonLat)) return err(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${name}`);
  if (flags & SEARCH && q.radius === null && q.box === null) return err(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${name}`);
  if (q.firstFound && q.count === 0) return ERR_ANY;
  return q;
}

function shapeOf(q: Search): Shape {
  if (q.box !== null) return { kind: "box", lon: q.lon, lat: q.lat, conversion: q.conversion, width: q.box.width, height: q.box.height };
  return { kind: "circle", lon: q.lon, lat: q.lat, conversion: q.conversion, radius: q.radius ?? 0 };
}

interface GeoPoint {
  readonly member: string;
  readonly lon: number;
  readonly lat: number;
  /** Meters until the reply converts it to the request's unit. */
  dist: number;
  readonly score: number;
}

/** Appends the points of cell `h` inside the shape, stopping once `limit` (> 0) points are found. */
function pointsInCell(z: ZSetObject, h: HashBits, shape: Shape, out: GeoPoint[], limit: number): void {
  const { min, max } = scoresOfBox(h);
  const start = z.firstInRange({ min, max, minex: false, maxex: true });
  if (start < 0) return;
  z.collect(start, false, -1, (e) => {
    if (e.score >= max || (limit > 0 && out.length >= limit)) return false;
    const [lon, lat] = decodeScore(e.score);
    const dist = distanceWithin(shape, lon, lat);
    if (dist >= 0) out.push({ member: e.member, lon, lat, dist, score: e.score });
    return true;
  });
}

/** membersOfAllNeighbors: the centre cell and its neighbours, skipping a cell equal to the last one scanned. */
function searchPoints(z: ZSetObject, shape: Shape, limit: number): GeoPoint[] {
  const cells = searchCells(shape);
  const out: GeoPoint[] = [];
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const h = cells[i];
    if (h === null || h === undefined) continue;
    // Redis's "last processed" index starts at 0, which also means "none yet".
    const prev = cells[last];
    if (last !== 0 && prev !== null && prev !== undefined && prev.bits === h.bits && prev.step === h.step) continue;
    if (limit > 0 && out.length >= limit) break;
    pointsInCell(z, h, shape, out, limit);
    last = i;
  }
  return out;
}

function georadiusGeneric(ctx: Ctx, argv: string[], flags: number): Reply {
  const found = zsetAt(ctx, argv[flags & SEARCHSTORE ? 2 : 1] ?? "", false);
  if (found !== null && !(found instanceof ZSetObject)) return found;
  const q = parseSearch(argv, flags, found);
  if ("kind" in q) return q;
  if (found === null) {
    if (q.storeKey === null) return EMPTY_ARRAY;
    return storeResult(ctx, q.storeKey, false, []);
  }
  // COUNT without an order keeps the nearest ones; ANY takes the first found.
  if (q.count !== 0 && q.sort === "none" && !q.firstFound) q.sort = "asc";
  const points = searchPoints(found, shapeOf(q), q.firstFound ? q.count : 0);
  if (points.length === 0 && q.storeKey === null) return EMPTY_ARRAY;
  // A stable sort: equal distances keep the order the cells were scanned in.
  if (q.sort !== "none") {
    const sign = q.sort === "asc" ? 1 : -1;
    points.sort((a, b) => sign * (a.dist > b.dist ? 1 : a.dist < b.dist ? -1 : 0));
  }
  const returned = q.count === 0 ? points : points.slice(0, q.count);
  for (const p of returned) p.dist /= q.conversion;
  if (q.storeKey === null) return searchReply(ctx, q, returned);
  return storeResult(ctx, q.storeKey, q.storeDist, returned);
}

function searchReply(ctx: Ctx, q: Search, points: readonly GeoPoint[]): Reply {
  if (!q.withDist && !q.withHash && !q.withCoord) return bulks(points.map((p) => p.member));
  return array(
    points.map((p) => {
      const item: Reply[] = [bulk(p.member)];
      if (q.withDist) item.push(bulk(formatDistance(p.dist)));
      if (q.withHash) item.push(int(Math.trunc(p.score)));
      if (q.withCoord) item.push(array([coordReply(ctx, p.lon), coordReply(ctx, p.lat)]));
      return array(item);
    }),
  );
}

/** Stores the points as a sorted set (by geohash or by distance), or deletes `dst` when none. */
function storeResult(ctx: Ctx, dst: string, byDist: boolean, points: readonly GeoPoint[]): Reply {
  if (points.length === 0) {
    if (ctx.deleteKey(dst)) {
      ctx.dirty++;
      ctx.emit(["DEL", dst]);
    }
    return ZERO;
  }
  const z = new ZSetObject();
  let longest = 0;
  for (const p of points) {
    if (z.has(p.member)) continue;
    z.add(p.member, byDist ? p.dist : p.score);
    if (p.member.length > longest) longest = p.member.length;
  }
  const config = ctx.engine.config;
  z.listpack = z.length <= config.getInt("zset-max-listpack-entries") && longest <= config.getInt("zset-max-listpack-value");
  const existed = ctx.db.data.has(dst);
  ctx.setKey(dst, z);
  ctx.dirty += points.length;
  emitStored(ctx, dst, z, existed);
  return int(points.length);
}

/** The stored set as DEL + ZADDs with exact scores: replicas never redo the trigonometry. */
function emitStored(ctx: Ctx, dst: string, z: ZSetObject, existed: boolean): void {
  if (existed) ctx.emit(["DEL", dst]);
  const entries = z.entries();
  for (let i = 0; i < entries.length; i += ZADD_BATCH_MAX) {
    const argv = ["ZADD", dst];
    for (const [member, score] of entries.slice(i, i + ZADD_BATCH_MAX)) argv.push(formatDouble17g(score), member);
    ctx.emit(argv);
  }
}

// ---------------------------------------------------------------------------

const search =
  (flags: number): Handler =>
  (ctx, argv) =>
    georadiusGeneric(ctx, argv, flags);

const WD = ["write", "denyoom"] as const;
const RO = ["readonly"] as const;

export const GEO_COMMANDS: readonly CommandSpec[] = [
  { name: "geoadd", arity: -5, flags: WD, keys: K1, effects: "explicit", group: "geo", since: "3.2.0", run: geoadd },
  { name: "geodist", arity: -4, flags: RO, keys: K1, group: "geo", since: "3.2.0", run: geodist },
  { name: "geohash", arity: -2, flags: RO, keys: K1, group: "geo", since: "3.2.0", run: geohash },
  { name: "geopos", arity: -2, flags: RO, keys: K1, group: "geo", since: "3.2.0", run: geopos },
  { name: "georadius", arity: -6, flags: WD, keys: K1, getKeys: georadiusKeyIndexes, effects: "explicit", group: "geo", since: "3.2.0", run: search(COORDS) },
  { name: "georadius_ro", arity: -6, flags: RO, keys: K1, group: "geo", since: "3.2.10", run: search(COORDS | NOSTORE) },
  { name: "georadiusbymember", arity: -5, flags: WD, keys: K1, getKeys: georadiusKeyIndexes, effects: "explicit", group: "geo", since: "3.2.0", run: search(MEMBER) },
  { name: "georadiusbymember_ro", arity: -5, flags: RO, keys: K1, group: "geo", since: "3.2.10", run: search(MEMBER | NOSTORE) },
  { name: "geosearch", arity: -7, flags: RO, keys: K1, group: "geo", since: "6.2.0", run: search(SEARCH) },
  { name: "geosearchstore", arity: -8, flags: WD, keys: [1, 2, 1], effects: "explicit", group: "geo", since: "6.2.0", run: search(SEARCH | SEARCHSTORE) },
];

/** Redis's georadiusGetKeys: the source key and the last STORE / STOREDIST destination. */
export function georadiusKeyIndexes(argv: readonly string[]): number[] {
  let store = -1;
  for (let i = 5; i < argv.length; i++) {
    const opt = (argv[i] ?? "").toLowerCase();
    if ((opt === "store" || opt === "storedist") && i + 1 < argv.length) store = ++i;
  }
  return store < 0 ? [1] : [1, store];
}
