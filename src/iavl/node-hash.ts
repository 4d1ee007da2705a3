import { createHash } from 'node:crypto';
import { ByteWriter } from '../core/byte-writer.js';

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** SHA-256 of the empty string: the root hash of an empty tree. */
export const EMPTY_HASH = sha256(new Uint8Array(0));

/**
 * Leaf hash (formats.md §2): `SHA256(varint(0) ‖ varint(1) ‖ varint(version) ‖ bytes(key) ‖
 * bytes(SHA256(value)))`. The value is pre-hashed so proofs can carry it by hash.
 */
export function hashLeaf(version: number, key: Uint8Array, value: Uint8Array): Uint8Array {
  const w = new ByteWriter(key.length + 48);
  w.varint(0).varint(1).varint(version).bytes(key).bytes(sha256(value));
  return sha256(w.finish());
}

/** Inner hash: `SHA256(varint(height) ‖ varint(size) ‖ varint(version) ‖ bytes(left) ‖ bytes(right))`. */
export function hashInner(
  height: number,
  size: number,
  version: number,
  leftHash: Uint8Array,
  rightHash: Uint8Array,
): Uint8Array {
  const w = new ByteWriter(96);
  w.varint(height).varint(size).varint(version).bytes(leftHash).bytes(rightHash);
  return sha256(w.finish());
}
