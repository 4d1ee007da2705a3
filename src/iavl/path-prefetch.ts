import { compareBytes } from '../core/bytes.js';
import type { Node } from './node.js';
import type { NodeDb } from './node-db.js';
import { cacheKey, type NodeRef } from './node-key.js';

interface Descent {
  readonly node: Node;
  /** The keys whose path runs through `node`. */
  readonly keys: readonly Uint8Array[];
}

/** `node` when it is lower than `parent` (or absent), else null: a corrupt reference. */
function lower(parent: Node, node: Node | undefined): Node | undefined | null {
  return node === undefined || node.height < parent.height ? node : null;
}

/**
 * Loads into the node cache what setting or removing `keys` under `root` will visit: every inner
 * node on each key's path and both its children (a copied inner node needs both, Go `clone`).
 * All keys descend together, one batched read per tree level for whatever is missing at that
 * level, instead of the one read per missing node that a mutation makes on its own (and that an
 * await between them hands the event loop to whatever else runs, such as a migration).
 *
 * Only a hint: the mutation still loads whatever is missing when it runs (a rotation's nodes off
 * the path, anything the cache evicted), so a cache too small to keep the nodes costs speed, never
 * correctness.
 */
export async function prefetchPaths(ndb: NodeDb, root: Node, keys: readonly Uint8Array[]): Promise<void> {
  if (keys.length === 0) return;
  // Nodes this call loaded: a small cache may evict them before the next level needs them.
  const loaded = new Map<number | string, Node>();
  const child = (node: Node, side: 'left' | 'right'): Node | undefined => {
    const inMemory = side === 'left' ? node.left : node.right;
    if (inMemory !== undefined) return inMemory;
    const ref = side === 'left' ? node.leftRef : node.rightRef;
    return ref === undefined ? undefined : (ndb.cached(ref) ?? loaded.get(cacheKey(ref)));
  };
  let waiting: Descent[] = [{ node: root, keys }];
  while (waiting.length > 0) {
    const missing: NodeRef[] = [];
    const blocked: Descent[] = [];
    const stack = waiting;
    while (stack.length > 0) {
      const { node, keys: through } = stack.pop()!;
      if (node.isLeaf) continue;
      // A child not lower than its node is corrupt: left for the mutation to report (a descent
      // into it would not end).
      const left = lower(node, child(node, 'left'));
      const right = lower(node, child(node, 'right'));
      if (left === null || right === null) continue;
      if (left === undefined || right === undefined) {
        // A child neither in memory nor referenced is a broken tree: left for the mutation to report.
        const before = missing.length;
        if (left === undefined && node.leftRef !== undefined) missing.push(node.leftRef);
        if (right === undefined && node.rightRef !== undefined) missing.push(node.rightRef);
        if (missing.length > before) blocked.push({ node, keys: through });
        continue;
      }
      const toLeft: Uint8Array[] = [];
      const toRight: Uint8Array[] = [];
      for (const key of through) (compareBytes(key, node.key) < 0 ? toLeft : toRight).push(key);
      if (toLeft.length > 0) stack.push({ node: left, keys: toLeft });
      if (toRight.length > 0) stack.push({ node: right, keys: toRight });
    }
    if (missing.length === 0) return;
    const nodes = await ndb.getNodes(missing);
    missing.forEach((ref, i) => loaded.set(cacheKey(ref), nodes[i]!));
    waiting = blocked;
  }
}
