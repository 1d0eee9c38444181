// Interned command names for the decoder. Turning bytes into a JS string is
// a native call; a command name is one of a few hundred known strings, so the
// decoder looks its bytes up here and reuses the one string object (whose
// hash V8 has already computed for the command table's Map).

/** Names longer than this are not cached (no Redis command name is). */
const NAME_BYTES_MAX = 32;

/** FNV-1a over buf[start, start + len), folded to 30 bits so the Map key stays a small integer. */
function hashBytes(buf: Uint8Array, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return (h >>> 2) & 0x3fffffff;
}

export class NameCache {
  private readonly byHash = new Map<number, string>();

  constructor(names: Iterable<string> = []) {
    for (const name of names) this.add(name);
  }

  /** Adds a latin1 name; a name whose hash is taken by another is simply not cached. */
  add(name: string): void {
    if (name.length === 0 || name.length > NAME_BYTES_MAX) return;
    const bytes = Buffer.from(name, "latin1");
    const h = hashBytes(bytes, 0, bytes.length);
    if (!this.byHash.has(h)) this.byHash.set(h, name);
  }

  /** The cached string whose bytes are buf[start, start + len), or null. */
  find(buf: Uint8Array, start: number, len: number): string | null {
    if (len === 0 || len > NAME_BYTES_MAX) return null;
    const s = this.byHash.get(hashBytes(buf, start, len));
    if (s === undefined || s.length !== len) return null;
    for (let i = 0; i < len; i++) if (s.charCodeAt(i) !== buf[start + i]) return null;
    return s;
  }
}
