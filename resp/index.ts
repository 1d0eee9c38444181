export { RespDecoder, splitInline, INLINE_BYTES_MAX } from "./decoder";
export type { DecoderLimits } from "./decoder";
export { RespWriter, encodeReply } from "./encoder";
export type { Protocol } from "./encoder";
export * from "./reply";
export { formatDouble17g } from "./format";
