// keyHashSlot against slots computed by a real Redis 7.0.15 cluster node
// (`CLUSTER KEYSLOT` on a cluster-enabled redis-server), against a bit-by-bit
// CRC16 written independently, and the hash-tag rules as properties.
import t from "tap";
import fc from "fast-check";
import { crc16, keyHashSlot, SLOT_MAX } from "./slots";

/** [key as hex, slot Redis answered]. Includes binary keys and every brace corner case. */
const REDIS_VECTORS: readonly (readonly [string, number])[] = [
  ["", 0],
  ["61", 15495],
  ["666f6f", 12182],
  ["626172", 5061],
  ["313233343536373839", 12739],
  ["7b75736572313030307d2e666f6c6c6f77696e67", 3443],
  ["7b75736572313030307d2e666f6c6c6f77657273", 3443],
  ["666f6f7b7d7b6261727d", 8363],
  ["666f6f7b7b6261727d7d7a6170", 4015],
  ["666f6f7b6261727d7b7a61707d", 5061],
  ["7b7d", 15257],
  ["7b", 4092],
  ["7d", 12090],
  ["7d7b", 12793],
  ["7b61", 10276],
  ["617d", 5921],
  ["7b617d", 15495],
  ["787b617d79", 15495],
  ["7b7b7d7d", 4092],
  ["7b7d617d", 4370],
  ["617b627d637b647d", 3300],
  ["6b65793a30", 2592],
  ["6b65793a31", 6657],
  ["6b65793a3939393939", 2036],
  ["6d796c697374", 5282],
  ["6d79736574", 560],
  ["ff0080", 7915],
  ["00", 0],
  ["7bff7d", 7920],
  ["68656c6c6f20776f726c64", 15332],
  ["78".repeat(1000), 3195],
  ["7b7461677d" + "7a".repeat(300), 8338],
  ["00", 0],
  ["258aef54", 11629],
  ["4aaf1479de43a8", 9279],
  ["6fd4399e0368cd3297fc", 6170],
  ["94f95ec3288df257bc2186eb50", 7398],
  ["b91e83e84db2177ce146ab1075da3fa4", 8470],
  ["de43a80d72d73ca1066bd0359aff64c92e93f8", 15353],
  ["0368cd3297fc61c62b90f55abf2489ee53b81d82e74c", 16184],
  ["288df257bc2186eb50b51a7fe449ae1378dd42a70c71d63ba0", 13212],
  ["4db2177ce146ab1075da3fa4096ed3389d0267cc3196fb60c52a8ff4", 6468],
  ["72d73ca1066bd0359aff64c92e93f85dc2278cf156bb2085ea4fb4197ee348", 7726],
  ["97fc61c62b90f55abf2489ee53b81d82e74cb1167be045aa0f74d93ea3086dd2379c", 11529],
  ["bc2186eb50b51a7fe449ae1378dd42a70c71d63ba0056acf3499fe63c82d92f75cc1268bf0", 11034],
  ["e146ab1075da3fa4096ed3389d0267cc3196fb60c52a8ff459be2388ed52b71c81e64bb0157adf44", 13018],
  ["066bd0359aff64c92e93f85dc2278cf156bb2085ea4fb4197ee348ad1277dc41a60b70d53a9f0469ce3398", 2663],
  ["2b90f55abf2489ee53b81d82e74cb1167be045aa0f74d93ea3086dd2379c0166cb3095fa5fc4298ef358bd2287ec", 8615],
];

/** CRC16-XMODEM one bit at a time: the textbook definition, no table. */
function crc16Bitwise(bytes: readonly number[]): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const latin1 = (bytes: readonly number[]): string => Buffer.from(bytes).toString("latin1");

t.test("slots match what a real Redis cluster node answers", async (t) => {
  for (const [hex, slot] of REDIS_VECTORS) {
    const key = Buffer.from(hex, "hex").toString("latin1");
    t.equal(keyHashSlot(key), slot, `CLUSTER KEYSLOT of 0x${hex.slice(0, 40)}${hex.length > 40 ? "..." : ""}`);
  }
});

t.test("CRC16-XMODEM check value and documented examples", async (t) => {
  t.equal(crc16("123456789"), 0x31c3, "the standard XMODEM check value");
  t.equal(keyHashSlot("{user1000}.following"), keyHashSlot("{user1000}.followers"), "the cluster spec's hash tag example");
  t.equal(keyHashSlot("foo{}{bar}"), crc16("foo{}{bar}") & SLOT_MAX, "an empty tag hashes the whole key");
  t.equal(keyHashSlot("foo{{bar}}zap"), keyHashSlot("{bar"), "the tag runs from the first { to the first } after it");
  t.equal(keyHashSlot("foo{bar}{zap}"), keyHashSlot("bar"), "only the first tag counts");
});

t.test("the table-driven CRC equals the bitwise definition on any bytes", async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }), (bytes) => crc16(latin1(bytes)) === crc16Bitwise(bytes)),
    { numRuns: 2000 },
  );
  t.pass("2000 random byte strings agree");
});

t.test("a non-empty hash tag decides the slot, whatever surrounds it", async (t) => {
  const noOpen = fc.string({ maxLength: 12 }).map((s) => s.replace(/[{]/g, "x"));
  const tag = fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/[}]/g, "y"));
  fc.assert(
    fc.property(noOpen, tag, fc.string({ maxLength: 12 }), (before, inner, after) => {
      const slot = keyHashSlot(`${before}{${inner}}${after}`);
      return slot === (crc16(inner) & SLOT_MAX) && slot >= 0 && slot <= SLOT_MAX;
    }),
    { numRuns: 2000 },
  );
  t.pass("2000 tagged keys land in their tag's slot");
});
