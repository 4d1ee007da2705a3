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

/** The 12 bytes `BE64(version) ‖ BE32(nonce)` of a v1 node key. */
export function encodeNodeKey(version: number, nonce: number): Uint8Array {
  const out = new Uint8Array(NODE_KEY_LENGTH);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(version));
  view.setUint32(8, nonce);
  return out;
}

/** Parses the 12-byte `BE64(version) ‖ BE32(nonce)`. */
export function decodeNodeKey(bytes: Uint8Array): { version: number; nonce: number } {
  if (bytes.length !== NODE_KEY_LENGTH) {
    throw new StoreError('ERR_NODE_CORRUPT', `node key has ${bytes.length} bytes, expected 12`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getBigUint64(0);
  if (version > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new StoreError('ERR_VERSION_RANGE', `node key version ${version} is not a safe integer`);
  }
  return { version: Number(version), nonce: view.getUint32(8) };
}

/** A stable string for caches and error messages: `v<version>:<nonce>` or `h<hex hash>`. */
export function refId(ref: NodeRef): string {
  if (ref.kind === 'v1') return `${ref.version}:${ref.nonce}`;
  return `h${Buffer.from(ref.hash.buffer, ref.hash.byteOffset, ref.hash.byteLength).toString('hex')}`;
}

/** Root node keys are `(version, 1)`: nonces are handed out in pre-order, root first. */
export function rootRef(version: number): NodeRef {
  return { kind: 'v1', version, nonce: 1 };
}
