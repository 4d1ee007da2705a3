import { compareBytes } from '../core/bytes.js';
import type { Node } from './node.js';
import { leftOf, type NodeDb, rightOf } from './node-db.js';

/** Value of `key` under `root`, or `undefined`. */
export async function getValue(ndb: NodeDb, root: Node | undefined, key: Uint8Array): Promise<Uint8Array | undefined> {
  let node = root;
  if (node === undefined) return undefined;
  while (!node.isLeaf) {
    node = compareBytes(key, node.key) < 0 ? await leftOf(ndb, node) : await rightOf(ndb, node);
  }
  return compareBytes(node.key, key) === 0 ? node.value : undefined;
}

/**
 * Index of `key` among the leaves (or of the first greater key when absent) and its value:
 * Go `ImmutableTree.GetWithIndex`, used for non-existence proofs.
 */
export async function getWithIndex(
  ndb: NodeDb,
  root: Node | undefined,
  key: Uint8Array,
): Promise<{ index: number; value: Uint8Array | undefined }> {
  let node = root;
  let index = 0;
  if (node === undefined) return { index: 0, value: undefined };
  while (!node.isLeaf) {
    if (compareBytes(key, node.key) < 0) {
      node = await leftOf(ndb, node);
    } else {
      const right = await rightOf(ndb, node);
      index += node.size - right.size;
      node = right;
    }
  }
  const c = compareBytes(node.key, key);
  if (c < 0) return { index: index + 1, value: undefined };
  if (c > 0) return { index, value: undefined };
  return { index, value: node.value };
}

/** The leaf at `index` (0-based, in key order), or `undefined` past the end. */
export async function getByIndex(ndb: NodeDb, root: Node | undefined, index: number): Promise<Node | undefined> {
  let node = root;
  if (node === undefined || index < 0 || index >= node.size) return undefined;
  while (!node.isLeaf) {
    const left = await leftOf(ndb, node);
    if (index < left.size) {
      node = left;
    } else {
      index -= left.size;
      node = await rightOf(ndb, node);
    }
  }
  return index === 0 ? node : undefined;
}
