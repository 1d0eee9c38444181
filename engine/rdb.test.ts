import fc from "fast-check";
import t from "tap";
import { crc64, decodeDumpPayload, decodeRdbString, decodeRdbValue, lzfDecompress, verifyDumpPayload } from "./rdb";

t.test("crc64 is Redis's (Jones, reflected): the crc64.c test vector", async (t) => {
  t.equal(crc64(Buffer.from("123456789")), 0xe9c6d914c4b8d9can);
  t.equal(crc64(Buffer.alloc(0)), 0n);
  // The C test hashes sizeof(li), so the terminating NUL is included.
  const li =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do " +
    "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad " +
    "minim veniam, quis nostrud exercitation ullamco laboris nisi ut " +
    "aliquip ex ea commodo consequat. Duis aute irure dolor in " +
    "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla " +
    "pariatur. Excepteur sint occaecat cupidatat non proident, sunt in " +
    "culpa qui officia deserunt mollit anim id est laborum.";
  t.equal(crc64(Buffer.from(li + "\0", "latin1")), 0xc7794709e69683b3n, "crc64.c's second vector");
});

t.test("LZF: literal runs and overlapping back references; malformed input is refused", async (t) => {
  // "aaaaaaaaaa": literal "a", then a back reference of 9 bytes at distance 1.
  t.equal(lzfDecompress(Buffer.from([0x00, 0x61, 0xe0, 0x00, 0x00]), 10).toString(), "a".repeat(10));
  t.equal(lzfDecompress(Buffer.from([0x02, 0x61, 0x62, 0x63, 0x20, 0x02]), 6).toString(), "abcabc");
  t.throws(() => lzfDecompress(Buffer.from([0x02, 0x61]), 3), "truncated literal");
  t.throws(() => lzfDecompress(Buffer.from([0x00, 0x61, 0x20, 0x05]), 4), "reference before the start");
  t.throws(() => lzfDecompress(Buffer.from([0x00, 0x61]), 2), "short output");
});

t.test("RDB lengths in all four sizes, and special string encodings", async (t) => {
  const s64 = "x".repeat(64);
  t.same(decodeRdbString(Buffer.concat([Buffer.from([0x40, 0x40]), Buffer.from(s64)]), 0), { value: s64, next: 66 });
  const s20000 = "y".repeat(20000);
  const len32 = Buffer.from([0x80, 0, 0, 0x4e, 0x20]);
  t.same(decodeRdbString(Buffer.concat([len32, Buffer.from(s20000)]), 0)?.value.length, 20000);
  const len64 = Buffer.from([0x81, 0, 0, 0, 0, 0, 0, 0, 3]);
  t.same(decodeRdbString(Buffer.concat([len64, Buffer.from("abc")]), 0), { value: "abc", next: 12 });
  t.same(decodeRdbString(Buffer.from([0xc0, 0xff]), 0)?.value, "-1");
  t.same(decodeRdbString(Buffer.from([0xc1, 0x30, 0x75]), 0)?.value, "30000");
  t.same(decodeRdbString(Buffer.from([0xc2, 0x00, 0x00, 0x00, 0x80]), 0)?.value, "-2147483648");
  t.equal(decodeRdbString(Buffer.from([0xc4]), 0), null, "unknown encoding");
  t.equal(decodeRdbString(Buffer.from([0x05, 0x61]), 0), null, "truncated");
  t.equal(decodeRdbValue(1, Buffer.from([0x00]), 0), null, "an empty list is bad data");
});

t.test("no payload makes RESTORE's decoder throw, whatever its bytes", async (t) => {
  const withFooter = (body: Uint8Array): Buffer => {
    const b = Buffer.concat([body, Buffer.from([10, 0])]);
    const crc = Buffer.alloc(8);
    crc.writeBigUInt64LE(crc64(b));
    return Buffer.concat([b, crc]);
  };
  const typed = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.uint8Array({ maxLength: 64 })).map(([type, rest]) => Buffer.concat([Buffer.from([type]), rest]));
  fc.assert(
    fc.property(typed, (body) => {
      const p = withFooter(body);
      if (!verifyDumpPayload(p)) return false;
      const r = decodeDumpPayload(p);
      return r.ok || r.error === "format";
    }),
    { numRuns: 5000 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (raw) => typeof decodeDumpPayload(Buffer.from(raw)).ok === "boolean"));
});
