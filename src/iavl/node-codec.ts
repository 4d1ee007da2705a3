import { ByteReader } from '../core/byte-reader.js';
import { ByteWriter } from '../core/byte-writer.js';
import { equalBytes, toHex } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import { Node } from './node.js';
import { hashInner, hashLeaf } from './node-hash.js';
import type { NodeRef } from './node-key.js';

const MODE_LEGACY_LEFT = 1;
const MODE_LEGACY_RIGHT = 2;
const HASH_LENGTH = 32;
/** Go stores the height as int8. */
export const MAX_HEIGHT = 127;

function writeRef(w: ByteWriter, ref: NodeRef): void {
  if (ref.kind === 'legacy') w.bytes(ref.hash);
  else w.varint(ref.version).varint(ref.nonce);
}

/**
 * The IAVL v1 on-disk value of a node (cosmos/iavl v1 `Node.writeBytes`):
 * leaf `varint(0) ‖ varint(1) ‖ bytes(key) ‖ bytes(value)`; inner `varint(height) ‖ varint(size) ‖
 * bytes(key) ‖ bytes(hash) ‖ varint(mode) ‖ leftRef ‖ rightRef`, where a ref is
 * `varint(version) ‖ varint(nonce)`, or `bytes(hash)` for a legacy child (mode bit 1 left, 2 right).
 * The version is not stored: it is part of the node key.
 */
export function encodeNode(node: Node): Uint8Array {
  const w = new ByteWriter(node.key.length + (node.value?.length ?? 48) + 16);
  w.varint(node.height).varint(node.size).bytes(node.key);
  if (node.isLeaf) {
    w.bytes(node.value!);
    return w.finish();
  }
  if (!node.hash || !node.leftRef || !node.rightRef) {
    throw new StoreError('ERR_NODE_CORRUPT', `cannot encode inner node ${toHex(node.key)} before its hash and children are saved`);
  }
  w.bytes(node.hash);
  let mode = 0;
  if (node.leftRef.kind === 'legacy') mode |= MODE_LEGACY_LEFT;
  if (node.rightRef.kind === 'legacy') mode |= MODE_LEGACY_RIGHT;
  w.varint(mode);
  writeRef(w, node.leftRef);
  writeRef(w, node.rightRef);
  return w.finish();
}

function readHeader(r: ByteReader): { height: number; size: number } {
  const height = r.varint('height');
  const size = r.varint('size');
  if (height < 0 || height > MAX_HEIGHT) {
    throw new StoreError('ERR_NODE_CORRUPT', `node height ${height} is outside 0..${MAX_HEIGHT}`);
  }
  if (height === 0 ? size !== 1 : size < 2) {
    throw new StoreError('ERR_NODE_CORRUPT', `node size ${size} is invalid for height ${height}`);
  }
  return { height, size };
}

function readRef(r: ByteReader, legacy: boolean, side: string): NodeRef {
  if (legacy) {
    const hash = r.bytesField(`${side} child hash`);
    if (hash.length !== HASH_LENGTH) {
      throw new StoreError('ERR_NODE_CORRUPT', `${side} child hash has ${hash.length} bytes, expected 32`);
    }
    return { kind: 'legacy', hash: hash.slice() };
  }
  const version = r.varint(`${side} child version`);
  const nonce = r.varint(`${side} child nonce`);
  if (version < 0 || nonce < 0 || nonce > 0xffffffff) {
    throw new StoreError('ERR_NODE_CORRUPT', `${side} child key (${version}, ${nonce}) is invalid`);
  }
  return { kind: 'v1', version, nonce };
}

/**
 * Decodes a v1 node stored at `ref` (its version comes from the key). Leaves get their hash
 * computed here; inner nodes carry their stored hash. Any malformed byte is a typed
 * `ERR_NODE_CORRUPT` naming the node, never a silently wrong tree.
 */
export function decodeNode(ref: Extract<NodeRef, { kind: 'v1' }>, bytes: Uint8Array): Node {
  const where = `node s(${ref.version}, ${ref.nonce})`;
  return corruptOnError(where, () => {
    const r = new ByteReader(bytes, where);
    const { height, size } = readHeader(r);
    const key = r.bytesField('key').slice();
    let node: Node;
    if (height === 0) {
      const value = r.bytesField('value').slice();
      node = new Node(key, value, 0, 1);
      node.hash = hashLeaf(ref.version, key, value);
    } else {
      node = new Node(key, undefined, height, size);
      const hash = r.bytesField('hash');
      if (hash.length !== HASH_LENGTH) {
        throw new StoreError('ERR_NODE_CORRUPT', `inner hash has ${hash.length} bytes, expected 32`);
      }
      node.hash = hash.slice();
      const mode = r.varint('mode');
      if (mode < 0 || mode > 3) throw new StoreError('ERR_NODE_CORRUPT', `child mode ${mode} is not 0..3`);
      node.leftRef = readRef(r, (mode & MODE_LEGACY_LEFT) !== 0, 'left');
      node.rightRef = readRef(r, (mode & MODE_LEGACY_RIGHT) !== 0, 'right');
    }
    r.expectEnd();
    node.version = ref.version;
    node.ref = ref;
    return node;
  });
}

/**
 * Decodes a legacy (iavl ≤ 0.20) node stored under `n ‖ hash`:
 * `varint(height) ‖ varint(size) ‖ varint(version) ‖ bytes(key)` then `bytes(value)` (leaf) or
 * `bytes(leftHash) ‖ bytes(rightHash)` (inner). The legacy key is the node's own hash, so the
 * node is verified against it: a flipped byte is detected here.
 */
export function decodeLegacyNode(hash: Uint8Array, bytes: Uint8Array): Node {
  const where = `legacy node n${toHex(hash)}`;
  return corruptOnError(where, () => {
    const r = new ByteReader(bytes, where);
    const { height, size } = readHeader(r);
    const version = r.varint('version');
    if (version < 0) throw new StoreError('ERR_NODE_CORRUPT', `node version ${version} is negative`);
    const key = r.bytesField('key').slice();
    let node: Node;
    let computed: Uint8Array;
    if (height === 0) {
      const value = r.bytesField('value').slice();
      node = new Node(key, value, 0, 1);
      computed = hashLeaf(version, key, value);
    } else {
      node = new Node(key, undefined, height, size);
      const left = readRef(r, true, 'left');
      const right = readRef(r, true, 'right');
      node.leftRef = left;
      node.rightRef = right;
      computed = hashInner(height, size, version, (left as { hash: Uint8Array }).hash, (right as { hash: Uint8Array }).hash);
    }
    r.expectEnd();
    if (!equalBytes(computed, hash)) {
      throw new StoreError('ERR_NODE_CORRUPT', `content hashes to ${toHex(computed)}, not to its key`);
    }
    node.version = version;
    node.hash = hash.slice();
    node.ref = { kind: 'legacy', hash: node.hash };
    return node;
  });
}

function corruptOnError<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StoreError && error.code === 'ERR_NODE_CORRUPT' && error.message.includes(where)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StoreError('ERR_NODE_CORRUPT', `corrupt ${where}: ${message}`, {
      cause: error,
      details: { node: where },
    });
  }
}
