// The log service's replicated state machine: what log/io and the simulator use.
export { type Lease, leaseLive } from "./lease";
export { type ApplyOutcome, type CommittedEntry, DEFAULT_WINDOW_LIMITS, LogStateMachine, type ReadResult, readThrough } from "./machine";
export { MemoryRecordStore, type RecordSink, type RecordStore } from "./record-store";
export type { ShardInfo, WindowLimits } from "./shard";
export { SNAPSHOT_VERSION } from "./snapshot";
export * from "./types";
