// Turns what a log client saw (a command and the state machine's reply, or a
// read and its result, or nothing at all) into operations for the log model.
import type { LogEvent, LogReplySeen, LogRequest } from "../log/sim/log-workload";
import type { ShardId } from "../log/state/types";
import { assertNever } from "./assert";
import type { LogInput, LogOutput, LogReadOutput } from "./log-model";
import type { Operation, Outcome } from "./wgl";

export type { LogEvent, LogRequest, ReadReply } from "../log/sim/log-workload";

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

export function shardKey(shard: ShardId): string {
  return typeof shard === "number" ? `shard ${shard}` : `shard "${shard}"`;
}

export function logInput(r: LogRequest): LogInput {
  if (r.kind === "read") return { op: "read", fromSeq: r.fromSeq, countMax: r.countMax };
  const c = r.command;
  switch (c.kind) {
    case "append":
      return { op: "append", records: c.records.map(latin1), expectedSeq: c.expectedSeq, leaseId: c.leaseId };
    case "tryTakeLease":
      return { op: "tryTakeLease", nodeId: c.nodeId, expectedSeq: c.expectedSeq };
    case "renewLease":
      return { op: "renewLease", leaseId: c.leaseId };
    case "trim":
      return { op: "trim", uptoSeq: c.uptoSeq };
    default:
      return assertNever(c, "command");
  }
}

export function logOutput(reply: LogReplySeen): LogOutput {
  if (reply.kind === "read") {
    const r = reply.result;
    const result: LogReadOutput = r.kind === "trimmed" ? r : { kind: "records", firstSeq: r.firstSeq, records: r.records.map(latin1), tip: r.tip };
    return { op: "read", result };
  }
  return reply.reply;
}

/** The model's operations, partitioned by shard; a read that got no answer tells nothing and is left out. */
export function logOperations(events: readonly LogEvent[]): Operation<LogInput, LogOutput>[] {
  return events.filter((e) => e.reply !== null || e.request.kind !== "read").map((e) => {
    const shard = e.request.kind === "read" ? e.request.shard : e.request.command.shard;
    const outcome: Outcome<LogOutput> = e.reply === null ? { known: false } : { known: true, output: logOutput(e.reply) };
    return { client: e.client, key: shardKey(shard), input: logInput(e.request), outcome, callAt: e.callAt, returnAt: e.reply === null ? Infinity : e.returnAt };
  });
}
