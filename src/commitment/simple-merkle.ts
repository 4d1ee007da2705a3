import { compareBytes, concatBytes } from '../core/bytes.js';
import { ByteWriter } from '../core/byte-writer.js';
import { EMPTY_HASH, sha256 } from '../iavl/node-hash.js';
import { HashOp, LengthOp, type ExistenceProof, type InnerOp } from '../iavl/proof.js';

/**
 * The RFC-6962-style simple Merkle tree of cometbft `crypto/merkle`, which the app hash (the
 * CommitInfo hash) is built on: leaves `SHA256(0x00 ‖ item)`, inner nodes `SHA256(0x01 ‖ left ‖
 * right)`, split at the largest power of two strictly below the count, empty = SHA256("").
 */

const LEAF_PREFIX = Uint8Array.of(0x00);
const INNER_PREFIX = Uint8Array.of(0x01);

/** `SHA256(0x00 ‖ item)`. */
export function merkleLeafHash(item: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, item));
}

/** `SHA256(0x01 ‖ left ‖ right)`. */
export function merkleInnerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(INNER_PREFIX, left, right));
}

/** Largest power of two strictly less than `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Root over already-hashed leaves; SHA256("") for none. */
export function merkleRootFromLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_HASH;
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return merkleInnerHash(merkleRootFromLeafHashes(leaves.slice(0, k)), merkleRootFromLeafHashes(leaves.slice(k)));
}

/** The key-value leaf item: `bytes(key) ‖ bytes(SHA256(value))` (cosmos-sdk `maps.KVPair`). */
export function kvLeafItem(key: Uint8Array, value: Uint8Array): Uint8Array {
  return new ByteWriter(key.length + 40).bytes(key).bytes(sha256(value)).finish();
}

/** A sorted simple Merkle map (cosmos-sdk `maps.HashFromMap`): entries sorted by key bytewise. */
export function merkleMapRoot(entries: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareBytes(a[0], b[0]));
  return merkleRootFromLeafHashes(sorted.map(([k, v]) => merkleLeafHash(kvLeafItem(k, v))));
}

/**
 * ICS23 inner ops proving leaf `index` among `leaves`, leaf first (cosmos-sdk
 * `proofs.convertInnerOps`): when the proven node is the left child the sibling goes in the
 * suffix, otherwise in the prefix after the 0x01 tag.
 */
export function merkleInnerOps(leaves: readonly Uint8Array[], index: number): InnerOp[] {
  if (leaves.length < 2) return [];
  const k = splitPoint(leaves.length);
  if (index < k) {
    const sibling = merkleRootFromLeafHashes(leaves.slice(k));
    return [...merkleInnerOps(leaves.slice(0, k), index), { hash: HashOp.SHA256, prefix: INNER_PREFIX, suffix: sibling }];
  }
  const sibling = merkleRootFromLeafHashes(leaves.slice(0, k));
  return [
    ...merkleInnerOps(leaves.slice(k), index - k),
    { hash: HashOp.SHA256, prefix: concatBytes(INNER_PREFIX, sibling), suffix: new Uint8Array(0) },
  ];
}

/**
 * ICS23 existence proof (TendermintSpec) of `(key, value)` in the sorted Merkle map of `entries`.
 * Returns `undefined` when `key` is not an entry.
 */
export function merkleMapProof(
  entries: readonly (readonly [Uint8Array, Uint8Array])[],
  key: Uint8Array,
): ExistenceProof | undefined {
  const sorted = [...entries].sort((a, b) => compareBytes(a[0], b[0]));
  const index = sorted.findIndex(([k]) => compareBytes(k, key) === 0);
  if (index < 0) return undefined;
  const leaves = sorted.map(([k, v]) => merkleLeafHash(kvLeafItem(k, v)));
  return {
    key: sorted[index]![0],
    value: sorted[index]![1],
    leaf: {
      hash: HashOp.SHA256,
      prehashKey: HashOp.NO_HASH,
      prehashValue: HashOp.SHA256,
      length: LengthOp.VAR_PROTO,
      prefix: LEAF_PREFIX,
    },
    path: merkleInnerOps(leaves, index),
  };
}
