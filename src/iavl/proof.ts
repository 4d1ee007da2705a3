import { compareBytes, toHex } from '../core/bytes.js';
import { ByteWriter } from '../core/byte-writer.js';
import { StoreError } from '../core/errors.js';
import type { Node } from './node.js';
import { leftOf, rightOf } from './node-db.js';
import type { ImmutableTree } from './immutable-tree.js';

import { HashOp, LengthOp, type InnerOp, type LeafOp } from '../proto/ics23.js';

export { HashOp, LengthOp, type InnerOp, type LeafOp };

/** ICS23 existence proof as built here (the leaf op is always set); `path` runs from the leaf's parent up to the root. */
export interface ExistenceProof {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly leaf: LeafOp;
  readonly path: InnerOp[];
}

/** ICS23 non-existence proof: existence proofs of the neighbours left and right of `key`. */
export interface NonExistenceProof {
  readonly key: Uint8Array;
  readonly left?: ExistenceProof;
  readonly right?: ExistenceProof;
}

/** ICS23 `CommitmentProof` (exist or nonexist), accepted as is by `@confio/ics23`. */
export interface CommitmentProof {
  readonly exist?: ExistenceProof;
  readonly nonexist?: NonExistenceProof;
}

/** The length prefix Go IAVL writes before each 32-byte child hash. */
const HASH_LENGTH_BYTE = 0x20;

/** The IAVL leaf op for a leaf saved at `version` (Go `convertLeafOp`). */
export function iavlLeafOp(version: number): LeafOp {
  return {
    hash: HashOp.SHA256,
    prehashKey: HashOp.NO_HASH,
    prehashValue: HashOp.SHA256,
    length: LengthOp.VAR_PROTO,
    prefix: new ByteWriter(12).varint(0).varint(1).varint(version).finish(),
  };
}

/**
 * One inner step: the inner node's hash preimage is `varint(height) ‖ varint(size) ‖
 * varint(version) ‖ 0x20 ‖ left ‖ 0x20 ‖ right`, split around the child on the path.
 */
function innerOp(node: Node, wentRight: boolean, sibling: Uint8Array): InnerOp {
  const prefix = new ByteWriter(48).varint(node.height).varint(node.size).varint(node.version);
  let suffix: Uint8Array = new Uint8Array(0);
  if (wentRight) {
    prefix.byte(HASH_LENGTH_BYTE).raw(sibling).byte(HASH_LENGTH_BYTE);
  } else {
    prefix.byte(HASH_LENGTH_BYTE);
    suffix = new ByteWriter(33).byte(HASH_LENGTH_BYTE).raw(sibling).finish();
  }
  return { hash: HashOp.SHA256, prefix: prefix.finish(), suffix };
}

/** Existence proof of a key known to be present. */
export async function createExistenceProof(tree: ImmutableTree, key: Uint8Array): Promise<ExistenceProof> {
  const steps: InnerOp[] = [];
  let node = tree.root;
  if (node === undefined) throw notFound(key, tree.version);
  while (!node.isLeaf) {
    const left = await leftOf(tree.ndb, node);
    const right = await rightOf(tree.ndb, node);
    if (compareBytes(key, node.key) < 0) {
      steps.push(innerOp(node, false, right.hash!));
      node = left;
    } else {
      steps.push(innerOp(node, true, left.hash!));
      node = right;
    }
  }
  if (compareBytes(node.key, key) !== 0) throw notFound(key, tree.version);
  return { key: node.key, value: node.value!, leaf: iavlLeafOp(node.version), path: steps.reverse() };
}

function notFound(key: Uint8Array, version: number): StoreError {
  return new StoreError('ERR_KEY_NOT_FOUND', `key ${toHex(key)} does not exist at version ${version}`, {
    details: { key: toHex(key), version },
  });
}

/**
 * The ICS23 proof of `key` in `tree`: an existence proof when present, otherwise a non-existence
 * proof made of the existence proofs of its neighbours (Go `GetNonMembershipProof`).
 */
export async function createProof(tree: ImmutableTree, key: Uint8Array): Promise<CommitmentProof> {
  if (key.length === 0) throw new StoreError('ERR_EMPTY_KEY', 'cannot prove an empty key (ICS23 rejects it)');
  if (tree.size === 0) {
    throw new StoreError(
      'ERR_KEY_NOT_FOUND',
      `cannot prove key ${toHex(key)}: the tree is empty at version ${tree.version} (ICS23 has no proof for an empty tree)`,
      { details: { key: toHex(key), version: tree.version } },
    );
  }
  const { index, value } = await tree.getWithIndex(key);
  if (value !== undefined) return { exist: await createExistenceProof(tree, key) };
  const leftNeighbour = index >= 1 ? await tree.getByIndex(index - 1) : undefined;
  const rightNeighbour = await tree.getByIndex(index);
  const nonexist: { key: Uint8Array; left?: ExistenceProof; right?: ExistenceProof } = { key };
  if (leftNeighbour !== undefined) nonexist.left = await createExistenceProof(tree, leftNeighbour.key);
  if (rightNeighbour !== undefined) nonexist.right = await createExistenceProof(tree, rightNeighbour.key);
  return { nonexist };
}
