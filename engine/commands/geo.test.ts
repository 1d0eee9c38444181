import fc from "fast-check";
import t from "tap";
import { encodeReply } from "../../resp/encoder";
import { formatDouble17g } from "../../resp/format";
import { array, bulk, bulks, EMPTY_ARRAY, err, int, NULL, NULL_ARRAY, type Reply } from "../../resp/reply";
import type { Effect } from "../context";
import { Engine } from "../engine";
import { asinCR, cosCR, decodeScore, distance, encodeScore, GEO_LAT_MAX, sinCR } from "../geohash";
import { formatDistance, formatFixed, formatHuman, georadiusKeyIndexes } from "./geo";

function wire(r: Reply): string {
  return encodeReply(r, 2).toString("latin1");
}

function run(e: Engine, ...argv: string[]): Reply {
  return e.execute(argv).reply;
}

function strings(r: Reply): string[] {
  if (r.kind === "bulks") return r.values.map((v) => v ?? "(nil)");
  if (r.kind === "array") return r.items.flatMap(strings);
  if (r.kind === "bulk") return [r.value];
  if (r.kind === "int") return [String(r.value)];
  if (r.kind === "double") return [formatDouble17g(r.value)];
  return [`<${r.kind}>`];
}

// Captured from redis-server 7.0.15: GEOADD g <lon lat name>..., then ZSCORE,
// GEOHASH and GEOPOS of each member.
const CAPTURED: readonly [string, string, string, string, string, string, string][] = [
  ["Palermo", "13.361389", "38.115556", "3479099956230698", "sqc8b49rny0", "13.36138933897018433", "38.11555639549629859"],
  ["Catania", "15.087269", "37.502669", "3479447370796909", "sqdtr74hyu0", "15.08726745843887329", "37.50266842333162032"],
  ["lic", "-73.9454966", "40.747533", "1791875804419201", "dr5rv3fe940", "-73.94549578428268433", "40.74753227099792952"],
  ["London", "-0.1277583", "51.5073509", "2163557714754256", "gcpvj0dup10", "-0.12775629758834839", "51.50735008547815141"],
  ["Sydney", "151.2092955", "-33.8688197", "3252046221958827", "r3gx2f75zf0", "151.20929449796676636", "-33.86881866238967831"],
  ["NE", "180", "85.05112878", "13510798882111488", "bp05b5048p0", "180", "85.0511287799999991"],
  ["SW", "-180", "-85.05112878", "0", "00bh0hbj200", "-179.99999731779098511", "-85.05112751263942528"],
  ["Null", "0", "0", "3377699720527872", "s0000000000", "0.00000268220901489", "0.00000126736058093"],
  ["Wiki", "-5.6", "42.6", "2157242200379188", "ezs42e44yx0", "-5.59999912977218628", "42.6000002789257266"],
  ["Tokyo", "139.6917", "35.6895", "4171231230197045", "xn774c06kt0", "139.69170123338699341", "35.68950126697937009"],
  ["SF1", "-122.407107", "37.7943", "1367860682352358", "9q8zn81zg80", "-122.40710645914077759", "37.79430076631935975"],
  ["SF2", "-122.227336", "37.7943", "1367953026114662", "9q9p48hzb80", "-122.22733408212661743", "37.79430076631935975"],
  ["Edge", "179.999999", "-0.000001", "3377699720527871", "rzzzzzzzzz0", "179.99999731779098511", "-0.00000126736058093"],
];

// GEODIST Palermo Catania, London Sydney, NE SW, SF1 SF2 in each unit (redis-server 7.0.15).
const DISTANCES: Record<string, readonly string[]> = {
  m: ["166274.1516", "16998729.5688", "18919844.5891", "15800.6950"],
  km: ["166.2742", "16998.7296", "18919.8446", "15.8007"],
  mi: ["103.3182", "10562.5471", "11756.2756", "9.8181"],
  ft: ["545518.8700", "55770110.1339", "62072980.9353", "51839.5504"],
};

function capturedSet(): Engine {
  const e = new Engine({});
  const args = CAPTURED.flatMap(([name, lon, lat]) => [lon, lat, name]);
  run(e, "GEOADD", "g", ...args);
  return e;
}

t.test("GEOADD scores, GEOHASH and GEOPOS equal redis-server's, bit for bit", async (t) => {
  const e = capturedSet();
  t.same(run(e, "ZCARD", "g"), int(CAPTURED.length));
  for (const [name, , , score, hash, lon, lat] of CAPTURED) {
    t.equal(strings(run(e, "ZSCORE", "g", name))[0], score, `${name} score`);
    t.same(run(e, "GEOHASH", "g", name), bulks([hash]), `${name} geohash`);
    t.same(run(e, "GEOPOS", "g", name), array([array([bulk(lon), bulk(lat)])]), `${name} position`);
  }
  t.same(run(e, "GEOPOS", "g", "nope", "Null"), array([NULL_ARRAY, array([bulk("0.00000268220901489"), bulk("0.00000126736058093")])]));
  t.same(run(e, "GEOHASH", "g", "nope"), bulks([null]));
  t.same(run(e, "GEOPOS", "missing", "x"), array([NULL_ARRAY]));
});

t.test("GEODIST equals redis-server's in every unit", async (t) => {
  const e = capturedSet();
  const pairs = [
    ["Palermo", "Catania"],
    ["London", "Sydney"],
    ["NE", "SW"],
    ["SF1", "SF2"],
  ];
  for (const [unit, want] of Object.entries(DISTANCES)) {
    pairs.forEach(([a, b], i) => t.same(run(e, "GEODIST", "g", a ?? "", b ?? "", unit.toUpperCase()), bulk(want[i] ?? ""), `${a}-${b} ${unit}`));
  }
  t.same(run(e, "GEODIST", "g", "Palermo", "Catania"), bulk("166274.1516"), "meters by default");
  t.same(run(e, "GEODIST", "g", "Palermo", "Palermo"), bulk("0.0000"));
  t.same(run(e, "GEODIST", "g", "Palermo", "nope"), NULL);
  t.same(run(e, "GEODIST", "missing", "a", "b"), NULL);
  t.same(run(e, "GEODIST", "g", "a", "b", "yd"), err("ERR unsupported unit provided. please use M, KM, FT, MI"));
  t.same(run(e, "GEODIST", "g", "a", "b", "km", "x"), err("ERR syntax error"));
});

t.test("scores a user wrote with ZADD decode as Redis decodes them", async (t) => {
  const e = new Engine({});
  run(e, "ZADD", "k", "-1", "neg", "1e20", "big", "0.5", "half", "-inf", "ninf");
  const pos = (m: string): string[] => strings(run(e, "GEOPOS", "k", m));
  t.same(pos("neg"), ["180", "85.0511287799999991"]);
  t.same(pos("big"), ["-179.99999731779098511", "-85.05112751263942528"]);
  t.same(pos("half"), ["-179.99999731779098511", "-85.05112751263942528"]);
  t.same(pos("ninf"), ["180", "-85.05112751263942528"]);
  t.same(run(e, "GEOHASH", "k", "neg", "ninf"), bulks(["bp05b5048p0", "00bh0hbj200"]));
});

t.test("argument errors carry Redis's texts", async (t) => {
  const e = new Engine({});
  run(e, "GEOADD", "nyc", "-73.9454966", "40.747533", "lic market");
  t.same(run(e, "GEOADD", "k", "200", "0", "m"), err("ERR invalid longitude,latitude pair 200.000000,0.000000"));
  t.same(run(e, "GEOADD", "k", "1.5", "86.123456789", "m"), err("ERR invalid longitude,latitude pair 1.500000,86.123457"));
  t.same(run(e, "GEOADD", "k", "foo", "0", "m"), err("ERR value is not a valid float"));
  t.same(run(e, "GEOADD", "k", "xx", "nx", "1", "2", "m"), err("ERR syntax error"));
  t.same(run(e, "GEOADD", "k", "ch", "1", "2", "m", "3"), err("ERR syntax error"));
  t.same(run(e, "GEOADD", "k", "1", "2", "m", "300", "0", "n"), err("ERR invalid longitude,latitude pair 300.000000,0.000000"));
  t.same(run(e, "EXISTS", "k"), int(0), "a bad pair adds nothing");
  const c = ["GEORADIUS", "nyc", "-73.9", "40.7"];
  t.same(run(e, ...c, "-1", "km"), err("ERR radius cannot be negative"));
  t.same(run(e, ...c, "x", "km"), err("ERR need numeric radius"));
  t.same(run(e, ...c, "1", "km", "COUNT", "0"), err("ERR COUNT must be > 0"));
  t.same(run(e, ...c, "1", "km", "ANY"), err("ERR the ANY argument requires COUNT argument"));
  t.same(run(e, ...c, "1", "km", "COUNT"), err("ERR syntax error"));
  t.same(run(e, ...c, "1", "km", "STORE", "d", "WITHDIST"), err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"));
  t.same(run(e, "GEORADIUS_RO", "nyc", "0", "0", "1", "km", "STORE", "d"), err("ERR syntax error"));
  t.same(run(e, "GEORADIUSBYMEMBER", "nyc", "nope", "1", "km"), err("ERR could not decode requested zset member"));
  t.same(run(e, "GEOSEARCH", "nyc", "BYBOX", "1", "1", "km", "ASC"), err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"));
  t.same(run(e, "geosearch", "nyc", "FROMLONLAT", "0", "0", "ASC", "DESC"), err("ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch"));
  t.same(run(e, "GEOSEARCH", "nyc", "FROMLONLAT", "0", "0", "BYBOX", "-1", "1", "km"), err("ERR height or width cannot be negative"));
  t.same(run(e, "GEOSEARCH", "nyc", "FROMLONLAT", "0", "0", "BYBOX", "1", "y", "km"), err("ERR need numeric height"));
  t.same(run(e, "GEOSEARCH", "nyc", "FROMLONLAT", "0", "0", "FROMMEMBER", "x", "BYBOX", "1", "1", "km"), err("ERR syntax error"));
  t.same(run(e, "GEOSEARCHSTORE", "d", "nyc", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km", "WITHHASH"), err("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"));
  run(e, "SET", "str", "x");
  t.same(run(e, "GEORADIUS", "str", "1", "1", "1", "km"), err("WRONGTYPE Operation against a key holding the wrong kind of value"));
});

function nyc(): Engine {
  const e = new Engine({});
  run(e, "GEOADD", "nyc", "-73.9454966", "40.747533", "lic market", "-73.9733487", "40.7648057", "central park n/q/r", "-73.9903085", "40.7362513", "union square");
  run(e, "GEOADD", "nyc", "-74.0131604", "40.7126674", "wtc one", "-73.7858139", "40.6428986", "jfk", "-73.9375699", "40.7498929", "q4", "-73.9564142", "40.7480973", "4545");
  return e;
}

t.test("searches reply like redis-server", async (t) => {
  const e = nyc();
  const here = ["-73.9798091", "40.7598464"];
  t.same(run(e, "GEORADIUS", "nyc", ...here, "3", "km", "ASC"), bulks(["central park n/q/r", "4545", "union square"]));
  t.same(strings(run(e, "GEORADIUS", "nyc", ...here, "3", "km", "WITHDIST", "WITHHASH", "WITHCOORD", "ASC")).slice(0, 10), [
    "central park n/q/r",
    "0.7750",
    "1791875761332224",
    "-73.97334784269332886",
    "40.76480639569881959",
    "4545",
    "2.3651",
    "1791875796750882",
    "-73.95641237497329712",
    "40.74809751381645384",
  ]);
  t.same(run(e, "GEOSEARCH", "nyc", "FROMLONLAT", ...here, "BYBOX", "6", "6", "km", "ASC"), bulks(["central park n/q/r", "4545", "union square", "lic market"]));
  t.same(run(e, "GEORADIUS", "nyc", ...here, "10", "km", "COUNT", "3", "ANY"), bulks(["wtc one", "union square", "central park n/q/r"]));
  t.same(run(e, "GEORADIUS", "nyc", ...here, "10", "km", "COUNT", "2", "DESC"), bulks(["wtc one", "q4"]));
  t.same(strings(run(e, "GEORADIUSBYMEMBER", "nyc", "wtc one", "7", "km", "WITHDIST")), [
    "wtc one",
    "0.0000",
    "union square",
    "3.2544",
    "central park n/q/r",
    "6.7000",
    "4545",
    "6.1975",
    "lic market",
    "6.8969",
  ]);
  t.same(run(e, "GEORADIUS", "nyc", "0", "0", "1", "km"), EMPTY_ARRAY);
  t.same(run(e, "GEORADIUSBYMEMBER", "missing", "m", "x", "y"), EMPTY_ARRAY, "no source key: the radius is never read");
  run(e, "GEOADD", "points", "-122.407107", "37.794300", "1", "-122.227336", "37.794300", "2");
  t.same(strings(run(e, "GEORADIUS", "points", "-122.407107", "37.794300", "30", "mi", "ASC", "WITHDIST")), ["1", "0.0001", "2", "9.8182"]);
});

t.test("stored searches: replies, effects and a replica agree", async (t) => {
  const e = nyc();
  const replica = nyc();
  const steps: string[][] = [
    ["GEORADIUS", "nyc", "-73.9798091", "40.7598464", "10", "km", "STOREDIST", "d1", "COUNT", "2"],
    ["GEOSEARCHSTORE", "d2", "nyc", "FROMMEMBER", "wtc one", "BYBOX", "14", "14", "km"],
    ["GEORADIUSBYMEMBER", "nyc", "jfk", "1", "m", "STORE", "d3"],
    ["GEOSEARCHSTORE", "d2", "nyc", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
    ["GEOSEARCHSTORE", "d1", "missing", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
  ];
  const effects: string[][] = [];
  const replies = steps.map((argv) => {
    const r = e.execute(argv);
    replica.apply(r.effects as Effect[]);
    effects.push(...r.effects.map((x) => [...x.argv]));
    return r.reply;
  });
  t.same(replies, [int(2), int(6), int(1), int(0), int(0)]);
  t.same(
    effects.map((x) => `${x[0]} ${x[1]} ${x.length}`),
    ["ZADD d1 6", "ZADD d2 14", "ZADD d3 4", "DEL d2 2", "DEL d1 2"],
    "stored searches replicate the stored set, never the search",
  );
  t.same(effects[0]?.slice(2, 4), ["0.77501636173928778", "central park n/q/r"], "the distance redis-server stores");
  t.same(strings(run(e, "ZRANGE", "d3", "0", "-1", "WITHSCORES")), ["jfk", "1791895905559723"]);
  t.same(run(e, "EXISTS", "d1", "d2"), int(0), "an empty result deletes the destination");
  for (const k of ["d1", "d2", "d3"]) t.same(wire(run(replica, "ZRANGE", k, "0", "-1", "WITHSCORES")), wire(run(e, "ZRANGE", k, "0", "-1", "WITHSCORES")), k);
  const add = e.execute(["GEOADD", "nyc", "CH", "XX", "-73.9454966", "40.747533", "q4"]);
  t.same(add.reply, int(1));
  t.same(
    add.effects.map((x) => x.argv),
    [["ZADD", "nyc", "CH", "XX", "1791875804419201", "q4"]],
    "GEOADD replicates as ZADD with the computed score",
  );
  t.same(e.execute(["GEOSEARCH", "nyc", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"]).effects, []);
});

t.test("number formatting follows C's printf", async (t) => {
  t.equal(formatFixed(0.5, 0), "0");
  t.equal(formatFixed(1.5, 0), "2");
  t.equal(formatFixed(2.5, 0), "2", "exact ties round to even");
  t.equal(formatFixed(-0, 6), "-0.000000");
  t.equal(formatFixed(1e22, 1), "10000000000000000000000.0");
  t.equal(formatFixed(2 ** -20, 6), "0.000001");
  t.equal(formatHuman(-0), "0");
  t.equal(formatHuman(180), "180");
  t.equal(formatHuman(-1e-18), "0", "a negative value rounding to zero prints as 0");
  t.equal(formatDistance(0), "0.0000");
  t.equal(formatDistance(0.775), "0.7750");
  t.equal(formatDistance(12.34567), "12.3457");
  t.equal(formatDistance(2.5e-4), "0.0002", "llrint rounds half to even");
});

t.test("sin, cos and asin are correctly rounded where V8's Math functions are not", async (t) => {
  // Arguments where Node 20's Math.sin/cos/asin miss by an ulp; expected values from mpmath at 200 bits.
  const cases: [(x: number) => number, number, number][] = [
    [sinCR, 1.2325064688073049, 0.9433235969541532],
    [sinCR, -0.5878262316077398, -0.554553437273997],
    [sinCR, 0.8250156702656303, 0.734558415324288],
    [cosCR, 1.1410667391526772, 0.41662499161930583],
    [cosCR, -1.4570772676539114, 0.11347411463457192],
    [cosCR, -0.26666136287611736, 0.9646560428580447],
    [asinCR, 0.6054652333259583, 0.6503502956930612],
    [asinCR, 0.9276041984558105, 1.1879475483296742],
    [asinCR, 0.7488975524902344, 0.8463969062733104],
  ];
  for (const [fn, x, want] of cases) t.equal(fn(x), want, `${fn.name}(${x}) is correctly rounded`);
  t.equal(sinCR(-0), -0);
  t.equal(cosCR(0), 1);
  t.equal(asinCR(1), Math.PI / 2);
  t.equal(asinCR(0), 0);
});

const lon = fc.double({ min: -180, max: 180, noNaN: true });
const lat = fc.double({ min: -GEO_LAT_MAX, max: GEO_LAT_MAX, noNaN: true });

t.test("a stored position decodes to the centre of a cell within 1 m of the input", async () => {
  fc.assert(
    fc.property(lon, lat, (x, y) => {
      const score = encodeScore(x, y);
      if (!Number.isInteger(score) || score < 0 || score > 2 ** 54) throw new Error(`bad score ${score}`);
      const [dx, dy] = decodeScore(score);
      if (distance(x, y, dx, dy) > 1) throw new Error(`(${x}, ${y}) decoded to (${dx}, ${dy})`);
      if (encodeScore(dx, dy) !== score) throw new Error("decoding is not a fixed point of encoding");
    }),
    { numRuns: 5000 },
  );
});

t.test("searches find exactly the points inside the shape", async () => {
  const point = fc.tuple(fc.double({ min: -180, max: 180, noNaN: true }), fc.double({ min: -70, max: 70, noNaN: true }));
  // Like Redis's own fuzz test, latitudes stay within +-70; centres also stay
  // clear of the antimeridian, across which Redis's cell cover misses points.
  const centre = fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -70, max: 70, noNaN: true }));
  fc.assert(
    fc.property(fc.array(point, { minLength: 1, maxLength: 60 }), centre, fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), (pts, [cx, cy], w, h) => {
      const e = new Engine({});
      run(e, "GEOADD", "k", ...pts.flatMap(([x, y], i) => [String(x), String(y), `p${i}`]));
      const positions = pts.map((_, i) => strings(run(e, "GEOPOS", "k", `p${i}`)).map(Number));
      const circle = new Set(strings(run(e, "GEOSEARCH", "k", "FROMLONLAT", String(cx), String(cy), "BYRADIUS", String(w), "km")));
      const box = new Set(strings(run(e, "GEOSEARCH", "k", "FROMLONLAT", String(cx), String(cy), "BYBOX", String(w), String(h), "km")));
      positions.forEach(([px = 0, py = 0], i) => {
        const d = distance(cx, cy, px, py);
        // Redis's own fuzz test allows 0.1% at the border, where float rounding decides.
        if (Math.abs(d / 1000 - w) > w * 0.001 && circle.has(`p${i}`) !== d <= w * 1000) throw new Error(`p${i} at ${d} m, radius ${w} km`);
        const dy = distance(px, py, px, cy);
        const dx = distance(px, py, cx, py);
        const nearEdge = Math.abs(dy / 500 - h) < h * 0.002 || Math.abs(dx / 500 - w) < w * 0.002;
        if (!nearEdge && box.has(`p${i}`) !== (dy <= h * 500 && dx <= w * 500)) throw new Error(`p${i} box ${w}x${h} km: dx ${dx} dy ${dy}`);
      });
    }),
    { numRuns: 300 },
  );
});

t.test("GEORADIUS key positions include the last STORE / STOREDIST destination", async (t) => {
  t.same(georadiusKeyIndexes(["GEORADIUS", "src", "0", "0", "1", "km", "STORE", "a", "STOREDIST", "b"]), [1, 9]);
  t.same(georadiusKeyIndexes(["GEORADIUS", "src", "0", "0", "1", "km"]), [1]);
});
