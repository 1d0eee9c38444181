// Node's fast latin1 paths on Buffer exist at run time but are not in @types/node.
declare global {
  interface Buffer<TArrayBuffer extends ArrayBufferLike = ArrayBufferLike> {
    latin1Slice(start: number, end: number): string;
    latin1Write(s: string, offset: number, length?: number): number;
    readonly __latin1Brand?: TArrayBuffer;
  }
}
export {};
