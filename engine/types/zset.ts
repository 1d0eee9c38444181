// The sorted set value type. Entries are ordered by score, then member bytes,
// in an order-statistic B+tree: leaves hold up to LEAF_MAX entries in packed
// score arrays (a search touches a few cache lines, not one heap object per
// step as a skip list does), inner nodes hold subtree counts and the largest
// key of each child. Insert, delete, rank and rank lookup are O(log n).
// Beside the tree, a dense member array with a member -> slot map gives O(1)
// score lookup, O(1) random members, and scan cursors that survive changes.
// `listpack` tracks the encoding Redis would report.

/** Redis's defaults for zset-max-listpack-entries / zset-max-listpack-value. */
export const LISTPACK_ENTRIES_DEFAULT = 128;
export const LISTPACK_VALUE_DEFAULT = 64;

/**
 * Sets up to this size find lex range ends by a linear scan (what Redis's
 * listpack does under the default config). A constant, not the config, so
 * the choice never depends on a node's history or settings.
 */
export const LEX_LINEAR_MAX = 128;

/** Entries per leaf / children per inner node before a split. */
const LEAF_MAX = 64;
const INNER_MAX = 64;
/** A leaf this small merges with a sibling when the two fit in one. */
const LEAF_MERGE_BELOW = LEAF_MAX / 4;

/** A score interval; `minex`/`maxex` make an end exclusive. */
export interface ScoreRange {
  readonly min: number;
  readonly max: number;
  readonly minex: boolean;
  readonly maxex: boolean;
}

/** One end of a lex interval: `inf` -1 is "-", +1 is "+", 0 a string. */
export interface LexBound {
  readonly value: string;
  readonly inf: -1 | 0 | 1;
  readonly ex: boolean;
}

export interface LexRange {
  readonly min: LexBound;
  readonly max: LexBound;
}

/** One member and its score, as read out of a set. */
export interface ZEntry {
  readonly member: string;
  readonly score: number;
}

export function gteMin(score: number, r: ScoreRange): boolean {
  return r.minex ? score > r.min : score >= r.min;
}

export function lteMax(score: number, r: ScoreRange): boolean {
  return r.maxex ? score < r.max : score <= r.max;
}

function compareLex(member: string, b: LexBound): number {
  if (b.inf !== 0) return -b.inf;
  return member < b.value ? -1 : member > b.value ? 1 : 0;
}

export function lexGteMin(member: string, r: LexRange): boolean {
  const c = compareLex(member, r.min);
  return r.min.ex ? c > 0 : c >= 0;
}

export function lexLteMax(member: string, r: LexRange): boolean {
  const c = compareLex(member, r.max);
  return r.max.ex ? c < 0 : c <= 0;
}

function compareBounds(a: LexBound, b: LexBound): number {
  if (a.inf !== 0 || b.inf !== 0) return a.inf === b.inf ? 0 : a.inf < b.inf ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Orders (score, member) keys. */
function compareKeys(s1: number, m1: string, s2: number, m2: string): number {
  if (s1 !== s2) return s1 < s2 ? -1 : 1;
  return m1 < m2 ? -1 : m1 > m2 ? 1 : 0;
}

class Leaf {
  members: string[] = [];
  scores: number[] = [];
  parent: Inner | null = null;
  /** Index in parent.children. */
  pos = 0;
  prev: Leaf | null = null;
  next: Leaf | null = null;
}

class Inner {
  children: TreeNode[] = [];
  /** Entries under each child. */
  counts: number[] = [];
  /** The largest key under each child. */
  maxScores: number[] = [];
  maxMembers: string[] = [];
  parent: Inner | null = null;
  pos = 0;
}

type TreeNode = Leaf | Inner;

/** Where a rank lives, filled by locate() (the engine runs one command at a time). */
const found = { leaf: new Leaf(), index: 0 };

function childAt(n: Inner, i: number): TreeNode {
  const c = n.children[i];
  if (c === undefined) throw new Error(`zset tree: no child ${i}`);
  return c;
}

function lastKeyScore(n: TreeNode): number {
  return (n instanceof Leaf ? n.scores[n.scores.length - 1] : n.maxScores[n.maxScores.length - 1]) ?? NaN;
}

function lastKeyMember(n: TreeNode): string {
  return (n instanceof Leaf ? n.members[n.members.length - 1] : n.maxMembers[n.maxMembers.length - 1]) ?? "";
}

function sizeOf(n: TreeNode): number {
  if (n instanceof Leaf) return n.members.length;
  let s = 0;
  for (const c of n.counts) s += c;
  return s;
}

/** Renumbers children[from..] after an insertion or removal in `n`. */
function renumber(n: Inner, from: number): void {
  for (let i = from; i < n.children.length; i++) {
    const c = childAt(n, i);
    c.pos = i;
    c.parent = n;
  }
}

/** First child of `n` whose largest key is >= (score, member); the last child when none is. */
function childFor(n: Inner, score: number, member: string): number {
  let lo = 0;
  let hi = n.children.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(n.maxScores[mid] ?? NaN, n.maxMembers[mid] ?? "", score, member) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in `leaf` whose key is >= (score, member). */
function leafLowerBound(leaf: Leaf, score: number, member: string): number {
  let lo = 0;
  let hi = leaf.scores.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(leaf.scores[mid] ?? NaN, leaf.members[mid] ?? "", score, member) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The B+tree of (score, member) keys with subtree counts. */
class ScoreTree {
  root: TreeNode = new Leaf();
  size = 0;

  first(): Leaf {
    let n = this.root;
    while (n instanceof Inner) n = childAt(n, 0);
    return n;
  }

  last(): Leaf {
    let n = this.root;
    while (n instanceof Inner) n = childAt(n, n.children.length - 1);
    return n;
  }

  insert(score: number, member: string): void {
    let n = this.root;
    while (n instanceof Inner) {
      const i = childFor(n, score, member);
      n.counts[i] = (n.counts[i] ?? 0) + 1;
      if (compareKeys(score, member, n.maxScores[i] ?? NaN, n.maxMembers[i] ?? "") > 0) {
        n.maxScores[i] = score;
        n.maxMembers[i] = member;
      }
      n = childAt(n, i);
    }
    const j = leafLowerBound(n, score, member);
    n.scores.splice(j, 0, score);
    n.members.splice(j, 0, member);
    this.size++;
    if (n.members.length > LEAF_MAX) this.splitLeaf(n);
  }

  /** Removes the key, which must be present. */
  delete(score: number, member: string): void {
    let n = this.root;
    while (n instanceof Inner) {
      const i = childFor(n, score, member);
      n.counts[i] = (n.counts[i] ?? 0) - 1;
      n = childAt(n, i);
    }
    const j = leafLowerBound(n, score, member);
    if (n.members[j] !== member) throw new Error("zset tree: deleting a missing key");
    n.scores.splice(j, 1);
    n.members.splice(j, 1);
    this.size--;
    this.afterRemoval(n, j === n.members.length);
  }

  /** Rank of the first key for which `after` holds (`after` must be monotone), or size. */
  lowerRank(after: (score: number, member: string) => boolean): number {
    let rank = 0;
    let n = this.root;
    while (n instanceof Inner) {
      let lo = 0;
      let hi = n.children.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (after(n.maxScores[mid] ?? NaN, n.maxMembers[mid] ?? "")) hi = mid;
        else lo = mid + 1;
      }
      for (let k = 0; k < lo; k++) rank += n.counts[k] ?? 0;
      n = childAt(n, lo);
    }
    let lo = 0;
    let hi = n.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(n.scores[mid] ?? NaN, n.members[mid] ?? "")) hi = mid;
      else lo = mid + 1;
    }
    return rank + lo;
  }

  /** Rank of (score, member), which must be present. */
  rankOf(score: number, member: string): number {
    let rank = 0;
    let n = this.root;
    while (n instanceof Inner) {
      const i = childFor(n, score, member);
      for (let k = 0; k < i; k++) rank += n.counts[k] ?? 0;
      n = childAt(n, i);
    }
    return rank + leafLowerBound(n, score, member);
  }

  /** Points `found` at the entry of 0-based `rank` (0 <= rank < size). */
  locate(rank: number): void {
    let r = rank;
    let n = this.root;
    while (n instanceof Inner) {
      let i = 0;
      const last = n.children.length - 1;
      while (i < last && r >= (n.counts[i] ?? 0)) r -= n.counts[i++] ?? 0;
      n = childAt(n, i);
    }
    found.leaf = n;
    found.index = r;
  }

  private splitLeaf(leaf: Leaf): void {
    const half = leaf.members.length >>> 1;
    const right = new Leaf();
    right.members = leaf.members.splice(half);
    right.scores = leaf.scores.splice(half);
    right.prev = leaf;
    right.next = leaf.next;
    if (leaf.next !== null) leaf.next.prev = right;
    leaf.next = right;
    this.addSibling(leaf, right);
  }

  private splitInner(n: Inner): void {
    const half = n.children.length >>> 1;
    const right = new Inner();
    right.children = n.children.splice(half);
    right.counts = n.counts.splice(half);
    right.maxScores = n.maxScores.splice(half);
    right.maxMembers = n.maxMembers.splice(half);
    renumber(right, 0);
    this.addSibling(n, right);
  }

  /** Inserts `right` (just split off `left`) after `left` in their parent, growing a new root if needed. */
  private addSibling(left: TreeNode, right: TreeNode): void {
    let p = left.parent;
    if (p === null) {
      p = new Inner();
      p.children = [left];
      p.counts = [sizeOf(left) + sizeOf(right)];
      p.maxScores = [lastKeyScore(right)];
      p.maxMembers = [lastKeyMember(right)];
      renumber(p, 0);
      this.root = p;
    }
    const at = left.pos;
    p.counts[at] = sizeOf(left);
    p.maxScores[at] = lastKeyScore(left);
    p.maxMembers[at] = lastKeyMember(left);
    p.children.splice(at + 1, 0, right);
    p.counts.splice(at + 1, 0, sizeOf(right));
    p.maxScores.splice(at + 1, 0, lastKeyScore(right));
    p.maxMembers.splice(at + 1, 0, lastKeyMember(right));
    renumber(p, at + 1);
    if (p.children.length > INNER_MAX) this.splitInner(p);
  }

  /** Restores the invariants after a leaf lost an entry (`wasLast`: it was the leaf's largest). */
  private afterRemoval(leaf: Leaf, wasLast: boolean): void {
    if (leaf.members.length === 0) {
      this.removeNode(leaf);
      return;
    }
    if (wasLast) this.refreshMax(leaf);
    if (leaf.members.length < LEAF_MERGE_BELOW) this.mergeLeaf(leaf);
  }

  /** Recomputes the largest key recorded for `n` in its ancestors. */
  private refreshMax(n: TreeNode): void {
    let c: TreeNode = n;
    for (let p = c.parent; p !== null; c = p, p = p.parent) {
      p.maxScores[c.pos] = lastKeyScore(c);
      p.maxMembers[c.pos] = lastKeyMember(c);
      if (c.pos !== p.children.length - 1) return;
    }
  }

  /** Folds a small leaf's right neighbour (same parent) into it, or it into its left one. */
  private mergeLeaf(leaf: Leaf): void {
    const p = leaf.parent;
    if (p === null) return;
    const right = leaf.next;
    if (right !== null && right.parent === p && leaf.members.length + right.members.length <= LEAF_MAX) {
      this.absorb(leaf, right);
      return;
    }
    const left = leaf.prev;
    if (left !== null && left.parent === p && left.members.length + leaf.members.length <= LEAF_MAX) this.absorb(left, leaf);
  }

  /** Moves every entry of `right` into `left` (adjacent, same parent) and drops `right`. */
  private absorb(left: Leaf, right: Leaf): void {
    const p = left.parent;
    if (p === null) return;
    for (let i = 0; i < right.members.length; i++) {
      left.members.push(right.members[i] ?? "");
      left.scores.push(right.scores[i] ?? NaN);
    }
    p.counts[left.pos] = left.members.length;
    p.maxScores[left.pos] = lastKeyScore(left);
    p.maxMembers[left.pos] = lastKeyMember(left);
    right.members = [];
    right.scores = [];
    this.removeNode(right);
  }

  /** Unlinks an empty node from its parent, removing emptied ancestors and collapsing the root. */
  private removeNode(n: TreeNode): void {
    if (n instanceof Leaf) {
      if (n.prev !== null) n.prev.next = n.next;
      if (n.next !== null) n.next.prev = n.prev;
    }
    const p = n.parent;
    if (p === null) {
      this.root = new Leaf();
      return;
    }
    const at = n.pos;
    p.children.splice(at, 1);
    p.counts.splice(at, 1);
    p.maxScores.splice(at, 1);
    p.maxMembers.splice(at, 1);
    renumber(p, at);
    if (p.children.length === 0) this.removeNode(p);
    else if (at === p.children.length) this.refreshMax(p.children[at - 1] ?? p);
    this.collapseRoot();
  }

  private collapseRoot(): void {
    while (this.root instanceof Inner && this.root.children.length === 1) {
      const only = childAt(this.root, 0);
      only.parent = null;
      only.pos = 0;
      this.root = only;
    }
  }
}

export class ZSetObject {
  readonly kind = "zset" as const;
  private tree = new ScoreTree();
  /** Dense arrays (member, score) indexed by slot, and member -> slot. */
  private readonly slotOf = new Map<string, number>();
  private readonly denseMembers: string[] = [];
  private readonly denseScores: number[] = [];
  /**
   * True while Redis would keep this set as a listpack (small, short members).
   * Commands maintain it with the configured limits; it only becomes true
   * again for a freshly built set (the *STORE commands).
   */
  listpack = true;

  /**
   * Builds a set (RESTORE, snapshot loads, tests). Like Redis loading a
   * sorted set, a small one becomes a listpack, which cannot hold -0: its
   * -0 scores become 0; a larger one keeps them.
   */
  static fromEntries(
    entries: Iterable<readonly [string, number]>,
    entriesMax = LISTPACK_ENTRIES_DEFAULT,
    valueMax = LISTPACK_VALUE_DEFAULT,
  ): ZSetObject {
    const z = new ZSetObject();
    const list = [...entries];
    let longest = 0;
    for (const [m] of list) if (m.length > longest) longest = m.length;
    z.listpack = new Set(list.map((e) => e[0])).size <= entriesMax && longest <= valueMax;
    for (const [m, given] of list) {
      const s = z.listpack && given === 0 ? 0 : given;
      if (z.has(m)) z.update(m, s);
      else z.add(m, s);
    }
    return z;
  }

  get length(): number {
    return this.denseMembers.length;
  }

  get encoding(): "listpack" | "skiplist" {
    return this.listpack ? "listpack" : "skiplist";
  }

  has(member: string): boolean {
    return this.slotOf.has(member);
  }

  score(member: string): number | undefined {
    const slot = this.slotOf.get(member);
    return slot === undefined ? undefined : this.denseScores[slot];
  }

  /** Adds a member that is not in the set yet. */
  add(member: string, score: number): void {
    if (this.slotOf.has(member)) throw new Error("zset add: member exists");
    this.tree.insert(score, member);
    this.slotOf.set(member, this.denseMembers.length);
    this.denseMembers.push(member);
    this.denseScores.push(score);
  }

  /** Changes the score of a member that is in the set. */
  update(member: string, score: number): void {
    const slot = this.slotOf.get(member);
    const old = slot === undefined ? undefined : this.denseScores[slot];
    if (slot === undefined || old === undefined) throw new Error("zset update: no such member");
    if (Object.is(score, old)) return;
    this.tree.delete(old, member);
    this.tree.insert(score, member);
    this.denseScores[slot] = score;
  }

  /** Removes `member`; false when absent. */
  delete(member: string): boolean {
    const slot = this.slotOf.get(member);
    const score = slot === undefined ? undefined : this.denseScores[slot];
    if (slot === undefined || score === undefined) return false;
    this.tree.delete(score, member);
    this.forget(member, slot);
    return true;
  }

  /** 0-based rank of `member`, or -1 when absent. */
  rank(member: string): number {
    const s = this.score(member);
    return s === undefined ? -1 : this.tree.rankOf(s, member);
  }

  /** The entry at 0-based `rank`, or null when out of range. */
  at(rank: number): ZEntry | null {
    if (rank < 0 || rank >= this.length || !Number.isInteger(rank)) return null;
    this.tree.locate(rank);
    const { leaf, index } = found;
    return { member: leaf.members[index] ?? "", score: leaf.scores[index] ?? NaN };
  }

  /**
   * Entries from `rank` onwards (backwards when `reverse`) while `keep`
   * holds, at most `limit` of them (a negative limit means no limit).
   */
  collect(rank: number, reverse: boolean, limit: number, keep: (e: ZEntry) => boolean = () => true): ZEntry[] {
    const out: ZEntry[] = [];
    if (rank < 0 || rank >= this.length || limit === 0) return out;
    this.tree.locate(rank);
    let leaf: Leaf | null = found.leaf;
    let i = found.index;
    while (leaf !== null) {
      for (; i >= 0 && i < leaf.members.length; i += reverse ? -1 : 1) {
        const e: ZEntry = { member: leaf.members[i] ?? "", score: leaf.scores[i] ?? NaN };
        if (!keep(e)) return out;
        out.push(e);
        if (out.length === limit) return out;
      }
      leaf = reverse ? leaf.prev : leaf.next;
      i = reverse && leaf !== null ? leaf.members.length - 1 : 0;
    }
    return out;
  }

  /** Removes `count` entries starting at `rank`; returns them in rank order. */
  deleteRange(rank: number, count: number): ZEntry[] {
    const removed = this.collect(rank, false, count);
    if (removed.length === this.length) {
      // Emptying the set (ZREMRANGEBYRANK 0 -1, ZPOPMIN with a large count): drop it wholesale.
      this.tree = new ScoreTree();
      this.slotOf.clear();
      this.denseMembers.length = 0;
      this.denseScores.length = 0;
      return removed;
    }
    for (const e of removed) this.delete(e.member);
    return removed;
  }

  /** Rank of the first entry whose score is within `r`, or -1. */
  firstInRange(r: ScoreRange): number {
    if (r.min > r.max || (r.min === r.max && (r.minex || r.maxex))) return -1;
    const rank = this.tree.lowerRank((s) => gteMin(s, r));
    const e = this.at(rank);
    return e !== null && lteMax(e.score, r) ? rank : -1;
  }

  /** Rank of the last entry whose score is within `r`, or -1. */
  lastInRange(r: ScoreRange): number {
    if (r.min > r.max || (r.min === r.max && (r.minex || r.maxex))) return -1;
    const rank = this.tree.lowerRank((s) => !lteMax(s, r)) - 1;
    const e = this.at(rank);
    return e !== null && gteMin(e.score, r) ? rank : -1;
  }

  /**
   * Rank of the first entry whose member is within `r`, or -1. Lex ranges
   * assume equal scores; when they are not, the answer must still be a
   * function of the sequence alone (not of the tree's shape, which depends
   * on history) so replicas replaying a command find the same entries: small
   * sets scan linearly, like Redis's listpack, larger ones bisect over ranks.
   */
  firstInLexRange(r: LexRange): number {
    if (!this.mayHaveLex(r)) return -1;
    const rank = this.length <= LEX_LINEAR_MAX ? this.scan1(0, 1, (e) => lexGteMin(e.member, r)) : this.bisect((e) => lexGteMin(e.member, r));
    const e = this.at(rank);
    return e !== null && lexLteMax(e.member, r) ? rank : -1;
  }

  /** Rank of the last entry whose member is within `r`, or -1 (see firstInLexRange). */
  lastInLexRange(r: LexRange): number {
    if (!this.mayHaveLex(r)) return -1;
    const rank = this.length <= LEX_LINEAR_MAX ? this.scan1(this.length - 1, -1, (e) => lexLteMax(e.member, r)) : this.bisect((e) => !lexLteMax(e.member, r)) - 1;
    const e = this.at(rank);
    return e !== null && lexGteMin(e.member, r) ? rank : -1;
  }

  /** A uniformly chosen entry, `r` in [0, 1). The set must not be empty. */
  randomEntry(r: number): ZEntry {
    const slot = Math.min(this.length - 1, Math.floor(r * this.length));
    const member = this.denseMembers[slot];
    const score = this.denseScores[slot];
    if (member === undefined || score === undefined) throw new RangeError("random entry of an empty zset");
    return { member, score };
  }

  /** All [member, score] pairs in rank order (score, then member bytes). */
  entries(): [string, number][] {
    const out: [string, number][] = [];
    for (let leaf: Leaf | null = this.tree.first(); leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.members.length; i++) out.push([leaf.members[i] ?? "", leaf.scores[i] ?? NaN]);
    }
    return out;
  }

  clone(): ZSetObject {
    const z = new ZSetObject();
    for (const [m, s] of this.entries()) z.add(m, s);
    z.listpack = this.listpack;
    return z;
  }

  /**
   * One step of ZSCAN over the dense slots, walking downwards: removal moves
   * the last slot into the hole and additions go on top, so an entry present
   * for the whole scan only moves to lower slots and is returned at least
   * once. A listpack set is returned whole, in rank order, with cursor 0.
   */
  scan(cursor: number, count: number): { next: number; entries: ZEntry[] } {
    if (this.listpack) return { next: 0, entries: this.collect(0, false, -1) };
    const top = cursor === 0 || cursor > this.length ? this.length : cursor;
    const bottom = Math.max(0, top - count);
    const entries: ZEntry[] = [];
    for (let i = top - 1; i >= bottom; i--) entries.push({ member: this.denseMembers[i] ?? "", score: this.denseScores[i] ?? NaN });
    return { next: bottom, entries };
  }

  /** Redis's quick rejections before searching a lex range. */
  private mayHaveLex(r: LexRange): boolean {
    const c = compareBounds(r.min, r.max);
    if (c > 0 || (c === 0 && (r.min.ex || r.max.ex))) return false;
    const first = this.at(0);
    const last = this.at(this.length - 1);
    return first !== null && last !== null && lexGteMin(last.member, r) && lexLteMax(first.member, r);
  }

  /** The first rank from `from` stepping by `step` whose entry satisfies `pred` (out of range if none). */
  private scan1(from: number, step: 1 | -1, pred: (e: ZEntry) => boolean): number {
    let rank = from;
    for (const e of this.collect(from, step < 0, -1)) {
      if (pred(e)) return rank;
      rank += step;
    }
    return rank;
  }

  /** The smallest rank whose entry satisfies `pred` (length if none), by bisection over ranks. */
  private bisect(pred: (e: ZEntry) => boolean): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.at(mid);
      if (e !== null && pred(e)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Drops `member` from the dense arrays (the last slot fills the hole). */
  private forget(member: string, slot: number): void {
    this.slotOf.delete(member);
    const lastMember = this.denseMembers.pop();
    const lastScore = this.denseScores.pop();
    if (lastMember !== undefined && lastScore !== undefined && lastMember !== member) {
      this.denseMembers[slot] = lastMember;
      this.denseScores[slot] = lastScore;
      this.slotOf.set(lastMember, slot);
    }
  }
}
