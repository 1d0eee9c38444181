// The log service's real state machine (log/state) as a simulated node's
// application: each committed entry goes to the LogStateMachine, exactly as
// log/io/node.ts applies it, and the reply is kept for the workload to hand to
// the client that proposed the entry. A SimApp hash chain over the same
// entries gives the checkers a cheap state hash; the snapshot holds both.
//
// A bug can be planted on purpose (simulation only), to show that the
// linearizability check catches what it must: "no-fencing" applies every
// append under the shard's newest lease, whatever lease id it names.
import { decodeEntry, encodeEntry } from "../codec";
import { assert, AssertionError } from "../raft/assert";
import type { Entry } from "../raft/types";
import { LogStateMachine } from "../state/machine";
import { MemoryRecordStore } from "../state/record-store";
import type { Reply } from "../state/types";
import { SimApp } from "./app";
import type { ReplicatedApp } from "./node";

export type PlantedBug = "no-fencing";

export class LogApp implements ReplicatedApp {
  /** The reply to the last entry applied (null for a no-op). */
  lastReply: Reply | null = null;

  private constructor(
    private readonly chain: SimApp,
    readonly machine: LogStateMachine,
    readonly store: MemoryRecordStore,
    private readonly bug: PlantedBug | null,
  ) {
    if (chain.index !== machine.appliedIndex) throw new AssertionError(`hash chain at ${chain.index}, state machine at ${machine.appliedIndex}`);
  }

  get index(): number {
    return this.chain.index;
  }

  apply(e: Entry): void {
    this.chain.apply(e);
    const out = this.machine.applyEntry(this.bug === null ? e : this.withBug(e));
    // Every entry in the simulation was encoded by encodeEntry: one that does not decode is a bug.
    if (out.kind === "halt") throw new AssertionError(`entry ${e.index} cannot be applied: ${out.kind === "halt" ? out.error.message : ""}`);
    this.lastReply = out.kind === "applied" ? out.reply : null;
    this.machine.checkInvariants();
  }

  private withBug(e: Entry): Entry {
    if (e.kind !== "normal") return e;
    const d = decodeEntry(e.data);
    if (!d.ok || d.value.command.kind !== "append") return e;
    const c = d.value.command;
    const lease = this.machine.shard(c.shard)?.lease;
    if (lease === undefined || lease === null || lease.leaseId === c.leaseId) return e;
    return { ...e, data: encodeEntry({ proposedAtMs: d.value.proposedAtMs, command: { ...c, leaseId: lease.leaseId } }) };
  }

  hash(): number {
    return this.chain.hash();
  }

  encode(): Buffer {
    const chain = this.chain.encode();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(chain.length, 0);
    return Buffer.concat([head, chain, this.machine.snapshot()]);
  }

  static decode(data: Uint8Array): LogApp {
    return LogApp.decodeWithBug(data, null);
  }

  static decodeWithBug(data: Uint8Array, bug: PlantedBug | null): LogApp {
    const store = new MemoryRecordStore();
    if (data.length === 0) return new LogApp(new SimApp(), new LogStateMachine(store), store, bug);
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const n = buf.readUInt32BE(0);
    const chain = SimApp.decode(buf.subarray(4, 4 + n));
    const m = LogStateMachine.restore(buf.subarray(4 + n), store);
    if (!(m.ok)) throw new AssertionError(`a log snapshot does not decode: ${m.ok ? "" : m.error.message}`);
    return new LogApp(chain, m.value, store, bug);
  }
}
