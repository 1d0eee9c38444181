import fc from "fast-check";
import t from "tap";
import { bulk, err, int, NULL, OK } from "../../resp/reply";
import { digestValue } from "../digest";
import { Engine } from "../engine";
import { HashObject } from "../types/hash";
import { ListObject } from "../types/list";
import { SetObject } from "../types/set";
import { StreamObject } from "../types/stream";
import { ZSetObject } from "../types/zset";
import type { Value } from "../value";

type Contents = string | string[] | [string, string][];

interface Fixture {
  readonly name: string;
  readonly hex: string;
  readonly value: Contents;
  readonly digest?: string;
  readonly identical?: boolean;
  readonly type?: string;
}

/** DUMP payloads captured from redis-server 7.0.15 (default config, rdbcompression yes), with DEBUG DIGEST-VALUE. */
const REDIS_PAYLOADS: readonly Fixture[] = [
  {"name":"string int","hex":"00c07b0a0048e253e1007a67b9","type":"string","value":"123","digest":"89f7f51b707418f666d5b45e053bd5bbbf82ac2b","identical":true},
  {"name":"string short","hex":"000568656c6c6f0a006372df766534200a","type":"string","value":"hello","digest":"36b23a1456b2dce2c3ed252c456761301dba8060","identical":true},
  {"name":"string empty","hex":"00000a005d9b5c400f7fa2da","type":"string","value":"","digest":"8b3447c33a834b810e3e181b6fd6a2ee1020921c","identical":true},
  {"name":"string int16","hex":"00c1d08a0a00d57cb019a3f85d10","type":"string","value":"-30000","digest":"8f17670a06eb9fb1dae16a0fa52d6f0d48e5de31","identical":true},
  {"name":"string int32","hex":"00c2009435770a00421228d8e073c087","type":"string","value":"2000000000","digest":"c3246827501873ce2752cec27aef938d3e7e2dcd","identical":true},
  {"name":"string beyond int32","hex":"000b31323334353637383930310a00304e52d727176510","type":"string","value":"12345678901","digest":"01da988100ae51f642f9236f868f2091d2c38123","identical":true},
  {"name":"string binary","hex":"000400ff0d0a0a008d10d19e4216ec65","type":"string","value":"\u0000ÿ\r\n","digest":"0be8cedfeef041d42343f84d3f6672142a3b9692","identical":true},
  {"name":"string lzf","hex":"00c30a405002616261e042010161620a00949d5f0eb1dea445","type":"string","value":"abababababababababababababababababababababababababababababababababababababababab","digest":"35fd777edabbfa3019cc8f53ddad59f65c6efa83","identical":false},
  {"name":"list quicklist","hex":"120102c33b407e1f7e0000000b008161020101dfff02c12c02f270110104f2404b4c04f4005ed0b2201e030009f4ff8000097f09d000028001e0467ae03c000148ff0a00963c006e5fbd7a69","type":"list","value":["a","1","-1","300","70000","5000000","3000000000","9223372036854775807","-4096","","zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"],"digest":"7e9e891a50898e65c286d5a1f598dc0f629b2c99","identical":false},
  {"name":"set intset","hex":"0b180400000004000000feffffff0100000003000000a08601000a002c59742a6d44d9ba","type":"set","value":["-2","1","100000","3"],"digest":"8d12c236c6a65e88bc7d956e32004aab7687760f","identical":true},
  {"name":"set intset int64","hex":"0bc312180408000000022003a00001800160080100000a0023c86d022340525c","type":"set","value":["-9223372036854775808","1"],"digest":"e60908173883784ec48e7dd0d6a95323a7420b12","identical":false},
  {"name":"set hashtable","hex":"02030162c00101610a0069f402e5f760831a","type":"set","value":["1","a","b"],"digest":"e8f32bbb1ad9bf537c8867de4f19fec9e001296d","identical":true},
  {"name":"hash listpack","hex":"1021210000000600816602817602816e020c018362696704f4ffe30b540200000009ff0a00bd6a7a19081e8f78","type":"hash","value":[["big","9999999999"],["f","v"],["n","12"]],"digest":"ce1d219a94627fcdcc2840428b6dbf4a286c901a","identical":true},
  {"name":"hash hashtable","hex":"0402016701770166c3094041017676e034000176760a00463ebe9288e64fb6","type":"hash","value":[["f","vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"],["g","w"]],"digest":"6085db9c506e1699db1b63c192f932f6633f7c8e","identical":false},
  {"name":"zset listpack","hex":"11c33e40471c470000000e00816502842d696e6605816302dffe0281660293302e3130e00500163114816102010181620283312e3504640103018164028320360104ff0a00d0e13088e916dd8a","type":"zset","value":[["e","-inf"],["c","-2"],["f","0.10000000000000001"],["a","1"],["b","1.5"],["100","3"],["d","inf"]],"digest":"f49cd62c5b92573e7f9c2312b612785abcf33f7d","identical":false},
  {"name":"zset skiplist","hex":"0502016e0000000000000440c3094041016d6de03400016d6d000000000000f03f0a00bf8c8708c5040ed9","type":"zset","value":[["mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm","1"],["n","2.5"]],"digest":"ddd238fbe86c428d837099f23cfa7711b532f342","identical":false},
];

/** Uncompressed dumps (CONFIG SET rdbcompression no): Mnemo must write exactly these bytes. */
const REDIS_UNCOMPRESSED: readonly { name: string; cmd: string; args: string[]; hex: string; digest: string }[] = [
  {"name":"list int boundaries","cmd":"rpush","args":["0","127","128","-1","-4096","4095","4096","-4097","-32768","32767","32768","-8388608","8388607","8388608","-2147483648","2147483647","2147483648","9223372036854775807","-9223372036854775808","01","-0","+1","1.5"],"hex":"120102407777000000170000017f01c08002dfff02d00002cfff02f1001003f1ffef03f1008003f1ff7f03f200800004f200008004f2ffff7f04f30000800005f30000008005f3ffffff7f05f4000000800000000009f4ffffffffffffff7f09f400000000000000800982303103822d3003822b310383312e3504ff0a002598c493ca8e5d74","digest":"2a815156068ff5b6431cfd27dd2f7cbbe49a7055"},
  {"name":"list string lengths","cmd":"rpush","args":["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"],"hex":"1201024157570100000300bf61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616140e0406262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626242e0c8636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636301caff0a004ec870f8da3963bc","digest":"f1ab1feb71e2c511ac4a1566a4bed3dec2a12029"},
  {"name":"zset scores","cmd":"zadd","args":["0","a","-0","b","1e17","l","4611686018427387904","m","-4611686018427387904","n","9e18","o","1.5","c","0.1","d","1e100","e","-1e-10","f","4503599627370495","g","4503599627370496","h","-inf","i","inf","j","123456789.125","k"],"hex":"1140b5b50000001e00816902842d696e6605816e02f400000000000000c009816602862d31652d3130078161020001816202000181640293302e31303030303030303030303030303030311481630283312e3504816b028d3132333435363738392e3132350e816702f4ffffffffffff0f0009816802f4000000000000100009816c02f400008a5d7845630109816d02f4000000000000004009816f028539652b3138068165028631652b31303007816a0283696e6604ff0a00ca1816e6e48d5059","digest":"85dedb4bb4899ace8353e11830c400b2b66afbb7"},
  {"name":"hash ints","cmd":"hset","args":["1","-1","100000","9223372036854775807","x",""],"hex":"10202000000006000101dfff02f2a0860104f4ffffffffffffff7f098178028001ff0a009c380f3b64149ae2","digest":"6b2cc7aa7a279e7fc1f0a0b24ae56d346e57fc76"},
  {"name":"set intset widths","cmd":"sadd","args":["5","-70000","3000000000"],"hex":"0b20080000000300000090eefeffffffffff0500000000000000005ed0b2000000000a00d34c240b2820d489","digest":"72d216af4e730c41eaa600860600c0c5dd1f60be"},
];

/** Values from Redis's tests/assets/*.rdb in the encodings older Redis versions wrote (RDB v4 to v9). */
const LEGACY_PAYLOADS: readonly Fixture[] = [
  {"name":"zset (ascii scores) (encodings.rdb zset)","hex":"030c026262023230026363023330036262620332303004626262620a3530303030303030303003636363033330300463636363093132333435363738390161013102616102313001620132036161610331303001630133046161616104313030300400ccdca26b492040f9","value":[["a","1"],["b","2"],["c","3"],["aa","10"],["bb","20"],["cc","30"],["aaa","100"],["bbb","200"],["ccc","300"],["aaaa","1000"],["cccc","123456789"],["bbbb","5000000000"]]},
  {"name":"set intset (encodings.rdb set_zipped_1)","hex":"0b1002000000040000000100020003000400040082622918c487161e","value":["1","2","3","4"]},
  {"name":"list ziplist (encodings.rdb list_zipped)","hex":"0a303000000025000000080000c0010004c0020004c0030004016103016203016303d0a086010006e000bca06501000000ff04004d40f1bdecce17f6","value":["1","2","3","a","b","c","100000","6000000000"]},
  {"name":"string (encodings.rdb compressible)","hex":"00c3094089016161e07c0001616104002ba79f99ea28a18a","value":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
  {"name":"set intset (encodings.rdb set_zipped_2)","hex":"0b180400000004000000a0860100400d0300e0930400801a0600040070adf9f67eca4883","value":["100000","200000","300000","400000"]},
  {"name":"set intset (encodings.rdb set_zipped_3)","hex":"0b38080000000600000000ca9a3b000000000094357700000000005ed0b20000000000286bee0000000000f2052a0100000000bca065010000000400f087319769501ce5","value":["1000000000","2000000000","3000000000","4000000000","5000000000","6000000000"]},
  {"name":"set (encodings.rdb set)","hex":"02080a36303030303030303030c2a08601000161c0010162c0020163c003040032577e410b428fc9","value":["1","100000","2","3","6000000000","a","b","c"]},
  {"name":"list (encodings.rdb list)","hex":"0118c001c002c003016101620163c2a08601000a36303030303030303030c001c002c003016101620163c2a08601000a36303030303030303030c001c002c003016101620163c2a08601000a363030303030303030300400efcc7e864423e2f7","value":["1","2","3","a","b","c","100000","6000000000","1","2","3","a","b","c","100000","6000000000","1","2","3","a","b","c","100000","6000000000"]},
  {"name":"hash ziplist (encodings.rdb hash_zipped)","hex":"0d20200000001b000000060000016103c0010004016203c0020004016303c00300ff040027e6e2818b41d72c","value":[["a","1"],["b","2"],["c","3"]]},
  {"name":"zset ziplist (encodings.rdb zset_zipped)","hex":"0c20200000001b000000060000016103c0010004016203c0020004016303c00300ff0400ed928b057bb22856","value":[["a","1"],["b","2"],["c","3"]]},
  {"name":"hash (encodings.rdb hash)","hex":"040b0162c002026161c00a0163c00303616161c064026262c014026363c01e03626262c1c80003636363c12c0103646464c19001036565650a353030303030303030300161c0010400f296a87264e05b65","value":[["b","2"],["aa","10"],["c","3"],["aaa","100"],["bb","20"],["cc","30"],["bbb","200"],["ccc","300"],["ddd","400"],["eee","5000000000"],["a","1"]]},
  {"name":"hash zipmap (hash-zipmap.rdb hash)","hex":"0910020266310200763102663202007632ff0300ead239e970a5b6e0","value":[["f1","v1"],["f2","v2"]]},
  {"name":"list quicklist v1 (list-quicklist.rdb list)","hex":"0e010d0d0000000a000000010000f8ff080010ebd801dd1c4d8d","value":["7"]},
];

const latin1 = (hex: string): string => Buffer.from(hex, "hex").toString("latin1");
const hexOf = (s: string): string => Buffer.from(s, "latin1").toString("hex");

/** A value's contents in a comparable form: sets and hashes sorted, scores as numbers. */
function contentsOf(v: Value | undefined): unknown {
  if (v === undefined || typeof v === "string") return v;
  switch (v.kind) {
    case "list":
      return v.toArray();
    case "set":
      return v.toArray().sort();
    case "hash":
      return v.entries().sort();
    case "zset":
      return v.entries().map(([m, s]) => [m, s]);
    case "stream":
      return "stream";
  }
}

function expectedContents(f: Fixture): unknown {
  if (typeof f.value === "string") return f.value;
  if (f.type === "zset" || f.name.startsWith("zset")) {
    return (f.value as [string, string][]).map(([m, s]) => [m, Number(s.replace("inf", "Infinity"))]);
  }
  if (f.type === "set" || f.name.startsWith("set")) return [...(f.value as string[])].sort();
  if (f.type === "hash" || f.name.startsWith("hash")) return [...(f.value as [string, string][])].sort();
  return f.value;
}

function dumpOf(e: Engine, key: string): string {
  const r = e.execute(["DUMP", key]).reply;
  if (r.kind !== "bulk") throw new Error(`DUMP ${key}: ${JSON.stringify(r)}`);
  return r.value;
}

t.test("RESTORE loads what redis-server 7.0 DUMPs, and DUMP writes what it writes", async (t) => {
  for (const f of REDIS_PAYLOADS) {
    const e = new Engine();
    t.same(e.execute(["RESTORE", "k", "0", latin1(f.hex)]).reply, OK, f.name);
    const v = e.db(0).data.get("k");
    t.same(contentsOf(v), expectedContents(f), `${f.name}: contents`);
    if (v !== undefined && f.digest !== undefined) t.equal(digestValue(v), f.digest, `${f.name}: DEBUG DIGEST-VALUE as Redis`);
    const mine = dumpOf(e, "k");
    // Redis LZF-compresses larger blobs and Mnemo never does; everything else is byte for byte.
    if (f.identical === true) t.equal(hexOf(mine), f.hex, `${f.name}: same bytes as Redis`);
    const back = new Engine();
    back.execute(["RESTORE", "k", "0", mine]);
    t.same(contentsOf(back.db(0).data.get("k")), expectedContents(f), `${f.name}: round trip`);
  }
});

t.test("DUMP matches Redis byte for byte when Redis does not compress", async (t) => {
  for (const f of REDIS_UNCOMPRESSED) {
    // Built from Redis's own payload, so the check covers the encoder alone (f.cmd, f.args say how Redis built it).
    const e = new Engine();
    e.execute(["RESTORE", "k", "0", latin1(f.hex)]);
    t.equal(hexOf(dumpOf(e, "k")), f.hex, `${f.name} (${f.cmd} ${f.args.join(" ")})`);
    const v = e.db(0).data.get("k");
    if (v !== undefined) t.equal(digestValue(v), f.digest, `${f.name}: digest`);
  }
});

t.test("RESTORE reads the legacy encodings (zipmap, ziplist, intset, quicklist v1, ascii scores, LZF)", async (t) => {
  for (const f of LEGACY_PAYLOADS) {
    const e = new Engine();
    t.same(e.execute(["RESTORE", "k", "0", latin1(f.hex)]).reply, OK, f.name);
    t.same(contentsOf(e.db(0).data.get("k")), expectedContents(f), `${f.name}: contents`);
  }
});

// --- property: DUMP then RESTORE gives back the same value, under any thresholds -------------

const byteString = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 80 }).map((a) => String.fromCharCode(...a));
const intString = fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n)).map(String);
const element = fc.oneof(byteString, intString, fc.constantFrom("", "0", "-0", "01", "x".repeat(100)));
const score = fc.oneof(fc.double({ noNaN: true }), fc.integer().map(Number), fc.constantFrom(0.1, 1.5, -0, Infinity, -Infinity));

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  element,
  fc.array(element, { minLength: 1, maxLength: 200 }).map((a) => ListObject.fromArray(a)),
  fc.uniqueArray(element, { minLength: 1, maxLength: 150 }).map((a) => SetObject.fromMembers(a)),
  fc.uniqueArray(fc.tuple(element, element), { minLength: 1, maxLength: 150, selector: (p) => p[0] }).map((a) => HashObject.fromEntries(a)),
  fc.uniqueArray(fc.tuple(element, score), { minLength: 1, maxLength: 150, selector: (p) => p[0] }).map((a) => ZSetObject.fromEntries(a)),
);

const configArb = fc.record({
  entries: fc.constantFrom("0", "1", "4", "128"),
  value: fc.constantFrom("0", "8", "64"),
  intset: fc.constantFrom("0", "3", "512"),
  fill: fc.constantFrom("-5", "-2", "-1", "0", "1", "3", "128"),
});

t.test("DUMP then RESTORE reproduces every value (digest and contents)", async (t) => {
  fc.assert(
    fc.property(valueArb, configArb, (v, c) => {
      const a = new Engine();
      for (const [name, val] of [
        ["hash-max-listpack-entries", c.entries],
        ["zset-max-listpack-entries", c.entries],
        ["hash-max-listpack-value", c.value],
        ["zset-max-listpack-value", c.value],
        ["set-max-intset-entries", c.intset],
        ["list-max-listpack-size", c.fill],
      ] as const) {
        a.config.set(name, val);
      }
      a.db(0).data.set("k", v);
      const payload = dumpOf(a, "k");
      const b = new Engine();
      const r = b.execute(["RESTORE", "k", "0", payload]).reply;
      const got = b.db(0).data.get("k");
      return r.kind === "simple" && got !== undefined && digestValue(got) === digestValue(v) && JSON.stringify(contentsOf(got)) === JSON.stringify(contentsOf(v));
    }),
    { numRuns: 300 },
  );
});

// --- errors ------------------------------------------------------------------------------------

t.test("RESTORE errors, in Redis's order", async (t) => {
  const e = new Engine();
  const x = (...argv: string[]) => e.execute(argv).reply;
  x("SET", "foo", "bar");
  const good = dumpOf(e, "foo");
  t.same(x("RESTORE", "foo", "0", "..."), err("BUSYKEY Target key name already exists."));
  t.same(x("RESTORE", "foo", "0", "...", "invalid-option"), err("ERR syntax error"), "options are parsed before the key is checked");
  t.same(x("RESTORE", "new", "x", good), err("ERR value is not an integer or out of range"));
  t.same(x("RESTORE", "new", "-1", good), err("ERR Invalid TTL value, must be >= 0"));
  t.same(x("RESTORE", "new", "0", good, "IDLETIME", "-1"), err("ERR Invalid IDLETIME value, must be >= 0"));
  t.same(x("RESTORE", "new", "0", good, "FREQ", "256"), err("ERR Invalid FREQ value, must be >= 0 and <= 255"));
  t.same(x("RESTORE", "new", "0", good, "FREQ", "1", "IDLETIME", "1"), err("ERR syntax error"), "IDLETIME and FREQ exclude each other");
  t.same(x("RESTORE", "new", "0", "short"), err("ERR DUMP payload version or checksum are wrong"));
  const flipped = Buffer.from(good, "latin1");
  flipped[1] = (flipped[1] ?? 0) ^ 1;
  t.same(x("RESTORE", "new", "0", flipped.toString("latin1")), err("ERR DUMP payload version or checksum are wrong"));
  // A newer RDB version is refused even with a valid checksum.
  const { crc64 } = await import("../rdb");
  const body = Buffer.from(good, "latin1").subarray(0, -8);
  body.writeUInt16LE(11, body.length - 2);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  t.same(x("RESTORE", "new", "0", Buffer.concat([body, crc]).toString("latin1")), err("ERR DUMP payload version or checksum are wrong"));
  // Valid checksum over garbage, over an empty list, over a stream type.
  for (const junk of ["ff00", "0e00", "1300", "020000"]) {
    const b = Buffer.concat([Buffer.from(junk, "hex"), Buffer.from([10, 0])]);
    const c = Buffer.alloc(8);
    c.writeBigUInt64LE(crc64(b));
    t.same(x("RESTORE", "new", "0", Buffer.concat([b, c]).toString("latin1")), err("ERR Bad data format"), `payload ${junk}`);
  }
  t.same(x("EXISTS", "new"), int(0));
  t.same(x("DUMP", "nonexisting_key"), NULL);
});

t.test("a stream survives DUMP and RESTORE", async (t) => {
  const e = new Engine();
  e.execute(["XADD", "s", "1-1", "f", "v"]);
  e.execute(["XADD", "s", "2-1", "g", "w"]);
  e.execute(["XGROUP", "CREATE", "s", "grp", "0"]);
  const dumped = e.execute(["DUMP", "s"]).reply;
  t.equal(dumped.kind, "bulk");
  if (dumped.kind !== "bulk") return;
  t.same(e.execute(["RESTORE", "copy", "0", dumped.value]).reply, { kind: "simple", value: "OK" });
  t.same(e.execute(["XRANGE", "copy", "-", "+"]).reply, e.execute(["XRANGE", "s", "-", "+"]).reply);
  t.same(e.execute(["XINFO", "GROUPS", "copy"]).reply, e.execute(["XINFO", "GROUPS", "s"]).reply);
});

// --- TTL, effects, replay ----------------------------------------------------------------------

t.test("RESTORE TTLs and canonical effects replay identically", async (t) => {
  let now = 1_700_000_000_000;
  const e = new Engine({ clock: () => now });
  const replica = new Engine({ clock: () => now, role: "replica" });
  const x = (...argv: string[]) => {
    const r = e.execute(argv);
    replica.apply(r.effects);
    return r;
  };
  x("SET", "foo", "bar");
  const payload = dumpOf(e, "foo");
  let r = x("RESTORE", "a", "5000", payload);
  t.same(r.reply, OK);
  t.same(r.effects.map((f) => f.argv), [["RESTORE", "a", String(now + 5000), payload, "REPLACE", "ABSTTL"]]);
  t.same(x("PTTL", "a").reply, int(5000));
  r = x("RESTORE", "b", String(now + 3000), payload, "ABSTTL");
  t.same(r.effects.map((f) => f.argv), [["RESTORE", "b", String(now + 3000), payload, "REPLACE", "ABSTTL"]]);
  r = x("RESTORE", "c", "0", payload);
  t.same(r.effects.map((f) => f.argv), [["RESTORE", "c", "0", payload, "REPLACE", "ABSTTL"]]);
  t.same(x("TTL", "c").reply, int(-1));
  r = x("RESTORE", "d", "2569591501", payload);
  t.same(x("PTTL", "d").reply, int(2569591501), "TTLs beyond 32 bits");
  // An expiry already past: replacing deletes (DEL), otherwise nothing happens at all.
  r = x("RESTORE", "a", String(now - 3000), payload, "ABSTTL", "REPLACE");
  t.same(r.reply, OK);
  t.same(r.effects.map((f) => f.argv), [["DEL", "a"]]);
  r = x("RESTORE", "zz", String(now - 3000), payload, "ABSTTL");
  t.same(r.effects, []);
  t.same(x("EXISTS", "a", "zz").reply, int(0));
  t.equal(replica.digest(), e.digest(), "the replica applying the effects has the same dataset");
  now += 10_000;
  t.same(x("GET", "b").reply, NULL);
  t.same(x("GET", "c").reply, bulk("bar"));
  t.equal(replica.digest(), e.digest());
});

t.test("RESTORE IDLETIME and FREQ set the access metadata", async (t) => {
  let now = 1_000_000;
  const e = new Engine({ clock: () => now });
  const x = (...argv: string[]) => e.execute(argv).reply;
  x("SET", "foo", "bar");
  const payload = dumpOf(e, "foo");
  x("RESTORE", "idle", "0", payload, "IDLETIME", "1000");
  t.same(x("OBJECT", "IDLETIME", "idle"), int(1000));
  now += 5000;
  t.same(x("OBJECT", "IDLETIME", "idle"), int(1005));
  e.config.set("maxmemory-policy", "allkeys-lfu");
  x("RESTORE", "freq", "0", payload, "FREQ", "100");
  t.same(x("OBJECT", "FREQ", "freq"), int(100));
  t.match(x("OBJECT", "IDLETIME", "freq"), { kind: "error", message: /^ERR An LFU maxmemory policy is selected/ });
});
