import { hash } from 'node:crypto';
import { putUvarint, putVarint, uvarintLength } from '../core/varint.js';
import { sha256Short } from './sha256.js';

/**
 * Inputs up to this length (two blocks with padding) hash in JavaScript; longer ones in OpenSSL,
 * whose per-call overhead the faster compression then outweighs.
 */
const SHORT_INPUT = 119;

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  if (bytes.length <= SHORT_INPUT) return sha256Short(bytes);
  // Node's one-shot hash: no Hash object per call.
  const digest = hash('sha256', bytes, 'buffer') as unknown as Buffer;
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** SHA-256 of the empty string: the root hash of an empty tree. */
export const EMPTY_HASH = sha256(new Uint8Array(0));

// Hash preimages are built in one reused scratch buffer: hashing runs for every saved node, and a
// fresh writer per node was a visible share of garbage-collection time in bulk writes.
let scratch = new Uint8Array(256);

function ensure(size: number): Uint8Array {
  if (scratch.length < size) scratch = new Uint8Array(Math.max(size, scratch.length * 2));
  return scratch;
}

/**
 * Leaf hash (formats.md §2): `SHA256(varint(0) ‖ varint(1) ‖ varint(version) ‖ bytes(key) ‖
 * bytes(SHA256(value)))`. The value is pre-hashed so proofs can carry it by hash.
 */
export function hashLeaf(version: number, key: Uint8Array, value: Uint8Array): Uint8Array {
  const valueHash = sha256(value);
  const out = ensure(2 + 10 + 10 + key.length + 33);
  let o = putVarint(out, 0, 0);
  o = putVarint(out, o, 1);
  o = putVarint(out, o, version);
  o = putUvarint(out, o, key.length);
  out.set(key, o);
  o += key.length;
  out[o++] = 32;
  out.set(valueHash, o);
  o += 32;
  return sha256(out.subarray(0, o));
}

/** Inner hash: `SHA256(varint(height) ‖ varint(size) ‖ varint(version) ‖ bytes(left) ‖ bytes(right))`. */
export function hashInner(height: number, size: number, version: number, leftHash: Uint8Array, rightHash: Uint8Array): Uint8Array {
  const out = ensure(30 + 2 * (uvarintLength(leftHash.length) + 32));
  let o = putVarint(out, 0, height);
  o = putVarint(out, o, size);
  o = putVarint(out, o, version);
  o = putUvarint(out, o, leftHash.length);
  out.set(leftHash, o);
  o += leftHash.length;
  o = putUvarint(out, o, rightHash.length);
  out.set(rightHash, o);
  o += rightHash.length;
  return sha256(out.subarray(0, o));
}
