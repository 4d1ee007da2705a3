import { compareBytes, toHex } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import { Node } from './node.js';
import { checkChild, type NodeDb } from './node-db.js';
import { cacheKey, type NodeRef } from './node-key.js';

/** Entries per node in the undo log: the node and its seven mutable fields. */
const UNDO_SLOTS = 8;

interface SetResult {
  node: Node;
  updated: boolean;
}

interface RemoveResult {
  node: Node | undefined;
  newKey: Uint8Array | undefined;
  value: Uint8Array | undefined;
  removed: boolean;
}

/**
 * Thrown by a mutation step that needs nodes which are neither in memory nor cached. Not an
 * Error: no stack trace is captured on this expected path.
 */
class NeedsNodes {
  constructor(readonly refs: NodeRef[]) {}
}

/**
 * Set and remove on a working tree, following Go cosmos/iavl v1 step by step (the root hash
 * depends on it).
 *
 * The steps are synchronous: an `await` per tree level (and per clone, balance and rotation) was
 * most of the cost of a `set` on a cached tree and most of its garbage. A step that needs a node
 * from storage throws {@link NeedsNodes}; the operation undoes its changes, loads the node and
 * starts over. Persisted nodes are never changed (they are copied, Go `clone`); fresh nodes belong
 * to the working tree alone and are changed in place, with their previous fields logged so that a
 * failed attempt leaves the tree as it was.
 */
export class TreeMutation {
  /** Nodes loaded by the operation in progress, so a retry finds them whatever the cache evicts. */
  private readonly loaded = new Map<number | string, Node>();
  /**
   * Fresh nodes changed in place by the attempt in progress, each followed by its previous
   * fields (UNDO_SLOTS entries per node). Flat and never truncated, so logging allocates
   * nothing; entries past {@link undoLength} are stale.
   */
  private readonly undo: unknown[] = [];
  private undoLength = 0;

  constructor(private readonly ndb: NodeDb) {}

  /**
   * Sets `key` under `root`; the new root, and whether the key existed. Synchronous when every
   * node on the way is in memory (the common case), a promise when nodes had to be loaded.
   */
  set(root: Node, key: Uint8Array, value: Uint8Array): SetResult | Promise<SetResult> {
    return this.run(() => this.setRec(root, key, value));
  }

  /**
   * Removes `key` under `root`; the new root (undefined when the tree became empty) and the
   * removed value. Synchronous or a promise, like {@link set}.
   */
  remove(root: Node, key: Uint8Array): RemoveResult | Promise<RemoveResult> {
    return this.run(() => this.removeRec(root, key));
  }

  private run<T>(step: () => T): T | Promise<T> {
    const first = this.attempt(step);
    return first instanceof NeedsNodes ? this.retry(step, first) : first;
  }

  /** One try of `step`: its result, or (its changes undone) the nodes it needs loaded. */
  private attempt<T>(step: () => T): T | NeedsNodes {
    try {
      const result = step();
      this.undoLength = 0;
      return result;
    } catch (error) {
      this.rollback();
      if (error instanceof NeedsNodes) return error;
      throw error;
    }
  }

  private async retry<T>(step: () => T, needs: NeedsNodes): Promise<T> {
    try {
      for (;;) {
        const nodes = await this.ndb.getNodes(needs.refs);
        needs.refs.forEach((ref, i) => this.loaded.set(cacheKey(ref), nodes[i]!));
        const result = this.attempt(step);
        if (!(result instanceof NeedsNodes)) return result;
        needs = result;
      }
    } finally {
      this.loaded.clear();
    }
  }

  /** Restores the fresh nodes changed by the failed attempt, latest change first. */
  private rollback(): void {
    const undo = this.undo;
    for (let i = this.undoLength - UNDO_SLOTS; i >= 0; i -= UNDO_SLOTS) {
      const node = undo[i] as Node;
      node.left = undo[i + 1] as Node | undefined;
      node.right = undo[i + 2] as Node | undefined;
      node.leftRef = undo[i + 3] as NodeRef | undefined;
      node.rightRef = undo[i + 4] as NodeRef | undefined;
      node.key = undo[i + 5] as Uint8Array;
      node.height = undo[i + 6] as number;
      node.size = undo[i + 7] as number;
    }
    this.undoLength = 0;
  }

  private find(ref: NodeRef | undefined): Node | undefined {
    if (ref === undefined) return undefined;
    return this.ndb.cached(ref) ?? (this.loaded.size === 0 ? undefined : this.loaded.get(cacheKey(ref)));
  }

  private left(node: Node): Node {
    if (node.left !== undefined) return node.left;
    const child = this.find(node.leftRef);
    if (child !== undefined) return checkChild(node, child, 'left');
    if (node.leftRef === undefined) throw missingChild(node, 'left');
    throw new NeedsNodes([node.leftRef]);
  }

  private right(node: Node): Node {
    if (node.right !== undefined) return node.right;
    const child = this.find(node.rightRef);
    if (child !== undefined) return checkChild(node, child, 'right');
    if (node.rightRef === undefined) throw missingChild(node, 'right');
    throw new NeedsNodes([node.rightRef]);
  }

  /**
   * An inner node this operation may change, with both children in memory: a copy of a persisted
   * node (Go `clone`), or the fresh node itself, logged for {@link rollback}.
   */
  private clone(node: Node): Node {
    if (!node.persisted) {
      const undo = this.undo;
      const i = this.undoLength;
      undo[i] = node;
      undo[i + 1] = node.left;
      undo[i + 2] = node.right;
      undo[i + 3] = node.leftRef;
      undo[i + 4] = node.rightRef;
      undo[i + 5] = node.key;
      undo[i + 6] = node.height;
      undo[i + 7] = node.size;
      this.undoLength = i + UNDO_SLOTS;
      return node;
    }
    const left = node.left ?? this.find(node.leftRef);
    const right = node.right ?? this.find(node.rightRef);
    if (left === undefined && right === undefined && node.leftRef !== undefined && node.rightRef !== undefined) {
      // One round trip for both.
      throw new NeedsNodes([node.leftRef, node.rightRef]);
    }
    return node.cloneInner(this.left(node), this.right(node));
  }

  private setRec(node: Node, key: Uint8Array, value: Uint8Array): SetResult {
    if (node.isLeaf) {
      const c = compareBytes(key, node.key);
      if (c === 0) return { node: Node.leaf(key, value), updated: true };
      const inner = c < 0 ? new Node(node.key, undefined, 1, 2) : new Node(key, undefined, 1, 2);
      const leaf = Node.leaf(key, value);
      setChildren(inner, c < 0 ? leaf : node, c < 0 ? node : leaf);
      return { node: inner, updated: false };
    }
    const copy = this.clone(node);
    let result: SetResult;
    if (compareBytes(key, copy.key) < 0) {
      result = this.setRec(copy.left!, key, value);
      setChildren(copy, result.node, copy.right!);
    } else {
      result = this.setRec(copy.right!, key, value);
      setChildren(copy, copy.left!, result.node);
    }
    if (result.updated) return { node: copy, updated: true };
    updateHeightAndSize(copy);
    result.node = this.balance(copy);
    return result;
  }

  private removeRec(node: Node, key: Uint8Array): RemoveResult {
    if (node.isLeaf) {
      if (compareBytes(key, node.key) === 0) {
        return { node: undefined, newKey: undefined, value: node.value, removed: true };
      }
      return { node, newKey: undefined, value: undefined, removed: false };
    }
    if (compareBytes(key, node.key) < 0) {
      const result = this.removeRec(this.left(node), key);
      if (!result.removed) return { ...result, node };
      const right = this.right(node);
      // The removed leaf was our left child: the right child takes our place unchanged.
      if (result.node === undefined) return { node: right, newKey: node.key, value: result.value, removed: true };
      const copy = this.clone(node);
      setChildren(copy, result.node, copy.right!);
      updateHeightAndSize(copy);
      return { node: this.balance(copy), newKey: result.newKey, value: result.value, removed: true };
    }
    const result = this.removeRec(this.right(node), key);
    if (!result.removed) return { ...result, node };
    const left = this.left(node);
    if (result.node === undefined) return { node: left, newKey: undefined, value: result.value, removed: true };
    const copy = this.clone(node);
    setChildren(copy, copy.left!, result.node);
    if (result.newKey !== undefined) copy.key = result.newKey;
    updateHeightAndSize(copy);
    return { node: this.balance(copy), newKey: undefined, value: result.value, removed: true };
  }

  private balanceOf(node: Node): number {
    return this.left(node).height - this.right(node).height;
  }

  /** Rebalances `node`, a copy made by this operation. */
  private balance(node: Node): Node {
    const left = node.left!;
    const right = node.right!;
    const balance = left.height - right.height;
    if (balance > 1) {
      if (this.balanceOf(left) >= 0) return this.rotateRight(node);
      setChildren(node, this.rotateLeft(left), right);
      return this.rotateRight(node);
    }
    if (balance < -1) {
      if (this.balanceOf(right) <= 0) return this.rotateLeft(node);
      setChildren(node, left, this.rotateRight(right));
      return this.rotateLeft(node);
    }
    return node;
  }

  private rotateRight(node: Node): Node {
    const top = this.clone(node);
    const pivot = this.clone(top.left!);
    setChildren(top, pivot.right!, top.right!);
    setChildren(pivot, pivot.left!, top);
    updateHeightAndSize(top);
    updateHeightAndSize(pivot);
    return pivot;
  }

  private rotateLeft(node: Node): Node {
    const top = this.clone(node);
    const pivot = this.clone(top.right!);
    setChildren(top, top.left!, pivot.left!);
    setChildren(pivot, top, pivot.right!);
    updateHeightAndSize(top);
    updateHeightAndSize(pivot);
    return pivot;
  }
}

/** Links `left` and `right` under `node` (their refs are undefined while they are fresh). */
export function setChildren(node: Node, left: Node, right: Node): void {
  node.left = left;
  node.right = right;
  node.leftRef = left.ref;
  node.rightRef = right.ref;
}

function updateHeightAndSize(node: Node): void {
  node.height = Math.max(node.left!.height, node.right!.height) + 1;
  node.size = node.left!.size + node.right!.size;
}

function missingChild(node: Node, side: string): StoreError {
  return new StoreError('ERR_NODE_CORRUPT', `inner node ${toHex(node.key)} has no ${side} child`);
}
