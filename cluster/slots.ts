// Hash slots: which of the 16384 slots a key belongs to, exactly as Redis
// Cluster computes it (CRC16-XMODEM of the key, or of its `{hash tag}`).

/** The number of hash slots of a Redis cluster. */
export const SLOTS_COUNT = 16384;
/** The highest slot number. */
export const SLOT_MAX = SLOTS_COUNT - 1;

/** CRC16-XMODEM (polynomial 0x1021, initial value 0), one entry per byte value. */
const CRC16_TABLE = buildCrc16Table();

function buildCrc16Table(): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
}

/** CRC16-XMODEM of `s[start, end)`, each char one byte (latin1). */
export function crc16(s: string, start = 0, end = s.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    // The index is masked to 8 bits, so the lookup always hits; `?? 0` only satisfies the type.
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff] ?? 0);
  }
  return crc;
}

/**
 * The hash slot of a key (a latin1 string). As in Redis: when the key holds a
 * `{` followed later by a `}` with at least one byte between them, only the
 * bytes between the first `{` and the first `}` after it are hashed.
 */
export function keyHashSlot(key: string): number {
  const len = key.length;
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) & SLOT_MAX;
  }
  return crc16(key, 0, len) & SLOT_MAX;
}
