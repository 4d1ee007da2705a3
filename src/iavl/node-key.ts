import { compareBytes } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';

/**
 * Where a persisted node lives. IAVL v1 nodes are addressed by `(version, nonce)` and stored under
 * `s ‖ BE64(version) ‖ BE32(nonce)`; nodes of the legacy format (iavl ≤ 0.20) are addressed by
 * their 32-byte hash and stored under `n ‖ hash`.
 */
export type NodeRef =
  | { readonly kind: 'v1'; readonly version: number; readonly nonce: number }
  | { readonly kind: 'legacy'; readonly hash: Uint8Array };

/** Length of a v1 node key without the `s` prefix. */
export const NODE_KEY_LENGTH = 12;

const TWO_POW_32 = 2 ** 32;

/**
 * Writes `BE64(version) ‖ BE32(nonce)` into `out` at `offset`. Versions are safe integers, so the
 * high word is `version / 2^32` exactly; two 32-bit writes avoid a BigInt per key.
 */
export function putNodeKey(out: Uint8Array, offset: number, version: number, nonce: number): void {
  const high = Math.floor(version / TWO_POW_32);
  const low = version >>> 0;
  out[offset] = high >>> 24;
  out[offset + 1] = high >>> 16;
  out[offset + 2] = high >>> 8;
  out[offset + 3] = high;
  out[offset + 4] = low >>> 24;
  out[offset + 5] = low >>> 16;
  out[offset + 6] = low >>> 8;
  out[offset + 7] = low;
  out[offset + 8] = nonce >>> 24;
  out[offset + 9] = nonce >>> 16;
  out[offset + 10] = nonce >>> 8;
  out[offset + 11] = nonce;
}

/** Reads a big-endian unsigned 32-bit word. */
function getUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/**
 * Reads `BE64(version)` at `offset`; a version above the safe-integer range is `ERR_VERSION_RANGE`,
 * never a rounded number.
 */
function getVersion(bytes: Uint8Array, offset: number): number {
  const high = getUint32(bytes, offset);
  if (high >= 0x200000) {
    const version = (BigInt(high) << 32n) | BigInt(getUint32(bytes, offset + 4));
    throw new StoreError('ERR_VERSION_RANGE', `node key version ${version} is not a safe integer`);
  }
  return high * TWO_POW_32 + getUint32(bytes, offset + 4);
}

/** Parses the 12-byte `BE64(version) ‖ BE32(nonce)`. */
export function decodeNodeKey(bytes: Uint8Array): { version: number; nonce: number } {
  if (bytes.length !== NODE_KEY_LENGTH) {
    throw new StoreError('ERR_NODE_CORRUPT', `node key has ${bytes.length} bytes, expected 12`);
  }
  return { version: getVersion(bytes, 0), nonce: getUint32(bytes, 8) };
}

/**
 * Orders refs as their database keys sort: legacy (`n ‖ hash`) before v1 (`s ‖ version ‖ nonce`),
 * v1 by version then nonce, legacy by hash bytes. Reading keys in this order keeps LevelDB on the
 * same table files and blocks from one read to the next.
 */
export function compareNodeRefs(a: NodeRef, b: NodeRef): number {
  if (a.kind === 'v1') {
    if (b.kind !== 'v1') return 1;
    return a.version !== b.version ? a.version - b.version : a.nonce - b.nonce;
  }
  if (b.kind === 'v1') return -1;
  return compareBytes(a.hash, b.hash);
}

/** A stable string for caches and error messages: `v<version>:<nonce>` or `h<hex hash>`. */
export function refId(ref: NodeRef): string {
  if (ref.kind === 'v1') return `${ref.version}:${ref.nonce}`;
  return `h${Buffer.from(ref.hash.buffer, ref.hash.byteOffset, ref.hash.byteLength).toString('hex')}`;
}

/** Nonces below this get a numeric cache key: `version * NONCE_SPAN + nonce` stays exact up to 2^53. */
const NONCE_SPAN = 2 ** 20;
const MAX_NUMERIC_VERSION = Math.floor(Number.MAX_SAFE_INTEGER / NONCE_SPAN) - 1;

/**
 * The key of `ref` in node caches: a number for the usual v1 ref (a template string per lookup
 * was a visible share of tree walks), else {@link refId}. The two kinds never collide in a Map,
 * since a number and a string are distinct keys.
 */
export function cacheKey(ref: NodeRef): number | string {
  if (ref.kind === 'v1' && ref.nonce < NONCE_SPAN && ref.version <= MAX_NUMERIC_VERSION) {
    return ref.version * NONCE_SPAN + ref.nonce;
  }
  return refId(ref);
}

/** Root node keys are `(version, 1)`: nonces are handed out in pre-order, root first. */
export function rootRef(version: number): NodeRef {
  return { kind: 'v1', version, nonce: 1 };
}
