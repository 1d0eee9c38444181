// Scripted interactions, in the spirit of etcd-io/raft's testdata/*.txt: each
// script drives a TestNet line by line and states what must hold. A failing
// `expect` names its script line.
import t from "tap";
import type { Config } from "./config";
import { TestNet } from "./testnet";
import type { Message } from "./types";

interface Script {
  readonly name: string;
  readonly text: string;
}

const SCRIPTS: readonly Script[] = [
  {
    name: "election, replication and commit",
    text: `
      nodes n1 n2 n3
      campaign n1
      stabilize
      expect role n1 leader
      expect role n2 follower
      expect term n2 1
      expect log n3 1:1
      propose n1 a -> ok
      propose n1 b -> ok
      propose n2 c -> not-leader n1
      stabilize
      expect commit n1 3
      tick n1
      stabilize
      expect commit n3 3
      expect applied n3 a b
    `,
  },
  {
    name: "pre-vote: an isolated node neither raises its term nor disrupts the leader when it returns",
    text: `
      nodes n1 n2 n3 prevote checkquorum
      campaign n1
      stabilize
      isolate n3
      tick-all 60
      expect role n3 pre-candidate
      expect term n3 1
      expect leaders n1
      heal
      tick-all 30
      expect leaders n1
      expect term n1 1
      expect term n3 1
    `,
  },
  {
    name: "check-quorum: a cut-off leader steps down, the majority elects anew, its uncommitted tail is discarded",
    text: `
      nodes n1 n2 n3 prevote checkquorum
      campaign n1
      stabilize
      propose n1 committed -> ok
      stabilize
      isolate n1
      propose n1 lost1 -> ok
      propose n1 lost2 -> ok
      tick-all 40
      expect role n1 follower|pre-candidate
      expect leaders n2|n3
      propose-leader survived
      stabilize
      heal
      tick-all 30
      expect leaders n2|n3
      expect same-log n1 n2 n3
      expect applied n1 committed survived
      expect applied n2 committed survived
    `,
  },
  {
    name: "with pre-vote, a stale leader steps down when a reply to its append carries a higher term",
    text: `
      nodes n1 n2 n3 prevote
      campaign n1
      stabilize
      isolate n1
      campaign n2
      stabilize
      expect role n2 leader
      expect term n2 2
      expect role n1 leader
      heal
      propose n1 stale -> ok
      stabilize
      expect role n1 follower
      expect term n1 2
      tick n2
      stabilize
      expect same-log n1 n2 n3
      expect applied n1
    `,
  },
  {
    name: "a leader that restarts comes back as a follower with its log; committed entries survive",
    text: `
      nodes n1 n2 n3
      campaign n1
      stabilize
      propose n1 x -> ok
      propose n1 y -> ok
      stabilize
      restart n1
      expect role n1 follower
      expect term n1 1
      expect log n1 1:1 2:1 3:1
      tick-all 60
      propose-leader z
      stabilize
      tick-all 2
      expect same-log n1 n2 n3
      expect commit n2 5
    `,
  },
  {
    name: "compaction: a follower that was away gets a snapshot, then entries",
    text: `
      nodes n1 n2 n3
      campaign n1
      stabilize
      isolate n3
      propose n1 a -> ok
      propose n1 b -> ok
      propose n1 c -> ok
      stabilize
      compact n1 4
      heal
      drop-count snap
      tick n1
      stabilize
      expect dropped snap 0
      expect sent snap 1
      expect commit n3 4
      expect applied n3
      propose n1 d -> ok
      stabilize
      tick n1
      stabilize
      expect applied n3 d
    `,
  },
  {
    name: "a leader in the minority never commits, and its proposals never apply",
    text: `
      nodes n1 n2 n3 n4 n5
      campaign n1
      stabilize
      cut n1 n3
      cut n1 n4
      cut n1 n5
      propose n1 minority -> ok
      stabilize
      expect commit n1 1
      expect applied n2
      heal
      isolate n1
      campaign n3
      stabilize
      propose n3 majority -> ok
      stabilize
      heal
      tick n3
      stabilize
      expect same-log n1 n2 n3 n4 n5
      expect applied n1 majority
    `,
  },
];

function parseNodes(words: string[]): { ids: string[]; over: Partial<Config> } {
  const ids: string[] = [];
  const over: { -readonly [K in keyof Config]?: Config[K] } = {};
  for (const w of words) {
    if (w === "prevote") over.preVote = true;
    else if (w === "checkquorum") over.checkQuorum = true;
    else ids.push(w);
  }
  return { ids, over };
}

/** Runs one script; returns the failures as "line N: ..." strings. */
function run(script: Script): string[] {
  const failures: string[] = [];
  let net: TestNet | null = null;
  const sent = new Map<string, number>();
  const lines = script.text.split("\n").map((l) => l.trim());
  lines.forEach((line, i) => {
    if (line === "" || line.startsWith("#")) return;
    const fail = (what: string): void => void failures.push(`line ${i}: "${line}": ${what}`);
    const [cmd, ...args] = line.split(/\s+/) as [string, ...string[]];
    if (cmd === "nodes") {
      const { ids, over } = parseNodes(args);
      net = new TestNet(ids, over);
      return;
    }
    if (net === null) return fail("no nodes yet");
    step(net, cmd, args, sent, fail);
  });
  return failures;
}

function step(net: TestNet, cmd: string, args: string[], sent: Map<string, number>, fail: (w: string) => void): void {
  const [a = "", b = ""] = args;
  switch (cmd) {
    case "campaign":
      return net.campaign(a);
    case "stabilize":
      return net.stabilize();
    case "tick":
      return net.tick(a, Number(b || 1));
    case "tick-all":
      for (let i = 0; i < Number(a || 1); i++) {
        for (const id of net.ids) net.tick(id);
        net.stabilize();
      }
      return;
    case "isolate":
      return net.isolate(a);
    case "cut":
      return net.cut(a, b);
    case "heal":
      return net.heal();
    case "restart":
      return net.restart(a);
    case "compact": {
      const n = net.node(a);
      n.storage.createSnapshot(Number(b), Buffer.from(`snap@${b}`));
      n.storage.compact(Number(b));
      return;
    }
    case "drop-count":
      net.dropIf = (m: Message) => {
        sent.set(m.kind, (sent.get(m.kind) ?? 0) + 1);
        return false;
      };
      return;
    case "propose":
    case "propose-leader":
      return propose(net, cmd, args, fail);
    case "expect":
      return expect(net, args, sent, fail);
    default:
      return fail(`unknown command ${cmd}`);
  }
}

function propose(net: TestNet, cmd: string, args: string[], fail: (w: string) => void): void {
  const [a = "", b = "", arrow, kind, hint] = args;
  if (cmd === "propose-leader") {
    const leader = net.leaders()[0];
    if (leader === undefined) return fail("no leader");
    const r = net.propose(leader, a);
    if (r.kind !== "ok") fail(`leader ${leader} refused: ${r.kind}`);
    return;
  }
  const r = net.propose(a, b);
  if (arrow !== "->") return;
  const got = r.kind === "not-leader" ? `not-leader ${r.leader ?? "none"}` : r.kind;
  const want = hint === undefined ? kind : `${kind} ${hint}`;
  if (got !== want) fail(`got ${got}`);
}

function expect(net: TestNet, args: string[], sent: Map<string, number>, fail: (w: string) => void): void {
  const [what = "", id = "", ...rest] = args;
  const r = (): ReturnType<TestNet["raft"]> => net.raft(id);
  const check = (got: string, want: string): void => {
    if (got !== want) fail(`got ${got}`);
  };
  switch (what) {
    case "role": {
      const kind = r().role.kind;
      if (!(rest[0] ?? "").split("|").includes(kind)) fail(`got ${kind}`);
      return;
    }
    case "term":
      return check(String(r().term), rest[0] ?? "");
    case "commit":
      return check(String(r().log.committed), rest[0] ?? "");
    case "log":
      return check(net.termsOf(id), rest.join(" "));
    case "applied":
      return check(net.appliedData(id).join(" "), rest.join(" "));
    case "leaders": {
      const leaders = net.leaders();
      const ok = leaders.length === 1 && id.split("|").includes(leaders[0] as string);
      if (!ok) fail(`leaders are [${leaders.join(", ")}]`);
      return;
    }
    case "same-log": {
      const ids = [id, ...rest];
      const logs = ids.map((x) => net.termsOf(x));
      if (new Set(logs).size !== 1) fail(`logs differ: ${ids.map((x, i) => `${x}=[${logs[i] ?? ""}]`).join(" ")}`);
      return;
    }
    case "sent":
      return check(String(sent.get(id) ?? 0), rest[0] ?? "");
    case "dropped":
      return check("0", rest[0] ?? "0");
    default:
      return fail(`unknown expectation ${what}`);
  }
}

for (const script of SCRIPTS) {
  t.test(script.name, async (t) => {
    const failures = run(script);
    t.same(failures, [], "every expectation held");
  });
}
