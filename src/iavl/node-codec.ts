import { putUvarint, putVarint as putZigzag } from '../core/varint.js';
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

/** Room for the varints and child refs of a node besides its key and value (varints ≤ 10 bytes). */
const ENCODING_OVERHEAD = 4 * 10 + 1 + HASH_LENGTH + 2 * (1 + HASH_LENGTH + 10);

/** An upper bound of the encoded length of `node`. */
export function encodedLengthBound(node: Node): number {
  return ENCODING_OVERHEAD + node.key.length + (node.value?.length ?? 0);
}

function putVarint(out: Uint8Array, offset: number, value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new StoreError('ERR_VERSION_RANGE', `varint ${value} is not a safe integer`);
  }
  return putZigzag(out, offset, value);
}

function putBytes(out: Uint8Array, offset: number, bytes: Uint8Array): number {
  offset = putUvarint(out, offset, bytes.length);
  out.set(bytes, offset);
  return offset + bytes.length;
}

function putRef(out: Uint8Array, offset: number, ref: NodeRef): number {
  if (ref.kind === 'legacy') return putBytes(out, offset, ref.hash);
  return putVarint(out, putVarint(out, offset, ref.version), ref.nonce);
}

/**
 * Writes the IAVL v1 on-disk value of a node (cosmos/iavl v1 `Node.writeBytes`) into `out` at
 * `offset`, which must have {@link encodedLengthBound} bytes of room; returns the end offset.
 * Leaf `varint(0) ‖ varint(1) ‖ bytes(key) ‖ bytes(value)`; inner `varint(height) ‖ varint(size) ‖
 * bytes(key) ‖ bytes(hash) ‖ varint(mode) ‖ leftRef ‖ rightRef`, where a ref is
 * `varint(version) ‖ varint(nonce)`, or `bytes(hash)` for a legacy child (mode bit 1 left, 2 right).
 * The version is not stored: it is part of the node key.
 */
export function writeNode(node: Node, out: Uint8Array, offset: number): number {
  let o = putVarint(out, offset, node.height);
  o = putVarint(out, o, node.size);
  o = putBytes(out, o, node.key);
  if (node.height === 0) return putBytes(out, o, node.value!);
  const hash = node.hash;
  const leftRef = node.leftRef;
  const rightRef = node.rightRef;
  if (!hash || !leftRef || !rightRef) {
    throw new StoreError('ERR_NODE_CORRUPT', `cannot encode inner node ${toHex(node.key)} before its hash and children are saved`);
  }
  o = putBytes(out, o, hash);
  o = putVarint(out, o, (leftRef.kind === 'legacy' ? MODE_LEGACY_LEFT : 0) | (rightRef.kind === 'legacy' ? MODE_LEGACY_RIGHT : 0));
  return putRef(out, putRef(out, o, leftRef), rightRef);
}

/** The IAVL v1 on-disk value of a node, as a new array (see {@link writeNode}). */
export function encodeNode(node: Node): Uint8Array {
  const out = new Uint8Array(encodedLengthBound(node));
  return out.slice(0, writeNode(node, out, 0));
}

// The v1 decoder reads through one module-level cursor: decoding is synchronous, and a reader
// object (plus a `{ value, offset }` result per varint) per node was most of its garbage.
let input: Uint8Array = new Uint8Array(0);
let at = 0;

/** A decoding failure; turned into a typed error naming the node by {@link decodeNode}. */
class Malformed extends Error {}

function readUvarint(what: string): number {
  const start = at;
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= input.length) throw new Malformed(`input ends inside ${what} at offset ${start}`);
    const b = input[at++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      // Above 2^53 − 1 the sum is rounded: rejected, never a different number.
      if (result > Number.MAX_SAFE_INTEGER) throw new Malformed(`${what} at offset ${start} exceeds 2^53 − 1`);
      return result;
    }
    scale *= 128;
  }
  throw new Malformed(`${what} at offset ${start} is longer than 10 bytes`);
}

/** Zigzag: the magnitude summed from the form shifted right by one bit, exact for every safe value (see core `readVarint`). */
function readVarint(what: string): number {
  const start = at;
  let negative = false;
  let half = 0;
  let scale = 64;
  for (let i = 0; i < 10; i++) {
    if (at >= input.length) throw new Malformed(`input ends inside ${what} at offset ${start}`);
    const b = input[at++]!;
    if (i === 0) {
      negative = (b & 1) === 1;
      half = (b & 0x7f) >>> 1;
    } else {
      half += (b & 0x7f) * scale;
      scale *= 128;
    }
    if (b < 0x80) {
      const value = negative ? -(half + 1) : half;
      if (!Number.isSafeInteger(value)) throw new Malformed(`${what} at offset ${start} is not a safe integer`);
      return value;
    }
  }
  throw new Malformed(`${what} at offset ${start} is longer than 10 bytes`);
}

/** `uvarint(len) ‖ bytes` as a view into the input (stored values are never mutated). */
function readBytes(what: string): Uint8Array {
  const start = at;
  const length = readUvarint(what);
  if (length > input.length - at) {
    throw new Malformed(`${what} length ${length} exceeds the ${input.length - at} bytes left at offset ${start}`);
  }
  at += length;
  return input.subarray(at - length, at);
}

function readHeight(): number {
  const height = readVarint('height');
  if (height < 0 || height > MAX_HEIGHT) throw new Malformed(`node height ${height} is outside 0..${MAX_HEIGHT}`);
  return height;
}

function readSize(height: number): number {
  const size = readVarint('size');
  if (height === 0 ? size !== 1 : size < 2) throw new Malformed(`node size ${size} is invalid for height ${height}`);
  return size;
}

function readChildKey(): NodeRef {
  const version = readVarint('child version');
  const nonce = readVarint('child nonce');
  if (version < 0 || nonce < 0 || nonce > 0xffffffff) throw new Malformed(`child key (${version}, ${nonce}) is invalid`);
  return { kind: 'v1', version, nonce };
}

function readChildHash(): { kind: 'legacy'; hash: Uint8Array } {
  const hash = readBytes('child hash');
  if (hash.length !== HASH_LENGTH) throw new Malformed(`child hash has ${hash.length} bytes, expected 32`);
  return { kind: 'legacy', hash };
}

function expectEnd(): void {
  if (at !== input.length) throw new Malformed(`${input.length - at} trailing bytes after offset ${at}`);
}

function readV1(ref: Extract<NodeRef, { kind: 'v1' }>): Node {
  const height = readHeight();
  const size = readSize(height);
  const key = readBytes('key');
  let node: Node;
  if (height === 0) {
    node = new Node(key, readBytes('value'), 0, 1);
  } else {
    node = new Node(key, undefined, height, size);
    const hash = readBytes('hash');
    if (hash.length !== HASH_LENGTH) throw new Malformed(`inner hash has ${hash.length} bytes, expected 32`);
    node.hash = hash;
    const mode = readVarint('mode');
    if (mode < 0 || mode > 3) throw new Malformed(`child mode ${mode} is not 0..3`);
    node.leftRef = (mode & MODE_LEGACY_LEFT) !== 0 ? readChildHash() : readChildKey();
    node.rightRef = (mode & MODE_LEGACY_RIGHT) !== 0 ? readChildHash() : readChildKey();
  }
  expectEnd();
  node.version = ref.version;
  node.ref = ref;
  return node;
}

function readLegacy(own: Uint8Array): Node {
  const height = readHeight();
  const size = readSize(height);
  const version = readVarint('version');
  if (version < 0) throw new Malformed(`node version ${version} is negative`);
  const key = readBytes('key');
  let node: Node;
  let computed: Uint8Array;
  if (height === 0) {
    const value = readBytes('value');
    node = new Node(key, value, 0, 1);
    computed = hashLeaf(version, key, value);
  } else {
    node = new Node(key, undefined, height, size);
    const left = readChildHash();
    const right = readChildHash();
    node.leftRef = left;
    node.rightRef = right;
    computed = hashInner(height, size, version, left.hash, right.hash);
  }
  expectEnd();
  if (!equalBytes(computed, own)) throw new Malformed(`content hashes to ${toHex(computed)}, not to its key`);
  node.version = version;
  node.hash = own;
  node.ref = { kind: 'legacy', hash: own };
  return node;
}

const EMPTY = new Uint8Array(0);

function corrupt(where: string, error: unknown): StoreError {
  const message = error instanceof Error ? error.message : String(error);
  return new StoreError('ERR_NODE_CORRUPT', `corrupt ${where}: ${message}`, { cause: error, details: { node: where } });
}

/**
 * Decodes a v1 node stored at `ref` (its version comes from the key). Inner nodes carry their
 * stored hash; a leaf computes its hash on first use. Key, value and hash are views into `bytes`.
 * Any malformed byte is a typed `ERR_NODE_CORRUPT` naming the node, never a silently wrong tree.
 */
export function decodeNode(ref: Extract<NodeRef, { kind: 'v1' }>, bytes: Uint8Array): Node {
  input = bytes;
  at = 0;
  try {
    return readV1(ref);
  } catch (error) {
    throw corrupt(`node s(${ref.version}, ${ref.nonce})`, error);
  } finally {
    input = EMPTY;
  }
}

/**
 * Decodes a legacy (iavl ≤ 0.20) node stored under `n ‖ hash`:
 * `varint(height) ‖ varint(size) ‖ varint(version) ‖ bytes(key)` then `bytes(value)` (leaf) or
 * `bytes(leftHash) ‖ bytes(rightHash)` (inner). The legacy key is the node's own hash, so the
 * node is verified against it: a flipped byte is detected here.
 */
export function decodeLegacyNode(hash: Uint8Array, bytes: Uint8Array): Node {
  input = bytes;
  at = 0;
  try {
    return readLegacy(hash.slice());
  } catch (error) {
    throw corrupt(`legacy node n${toHex(hash)}`, error);
  } finally {
    input = EMPTY;
  }
}
