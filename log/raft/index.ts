// The Raft core: pure, synchronous, deterministic. See rawnode.ts for how to drive it.
export { AssertionError } from "./assert";
export { DEFAULT_LIMITS, type Config } from "./config";
export { decodeMessage, decodeWith, encodeMessage, Reader, Writer, type Decoded } from "./codec";
export { Raft, type ProposeResult, type Role, type RoleKind } from "./raft";
export { RawNode, type Ready, type SoftState, type Status } from "./rawnode";
export { MemoryStorage, type Storage } from "./storage";
export {
  EMPTY_HARD_STATE,
  EMPTY_SNAPSHOT,
  entryBytes,
  type Entry,
  type EntryKind,
  type HardState,
  type Message,
  type MessageKind,
  type NodeId,
  type Snapshot,
} from "./types";
