import { fromHex, toHex } from '../../src/core/bytes.js';
import { isStoreError } from '../../src/core/errors.js';
import { Node } from '../../src/iavl/node.js';
import { decodeLegacyNode, decodeNode, encodeNode } from '../../src/iavl/node-codec.js';
import { hashLeaf } from '../../src/iavl/node-hash.js';
import { readVectors } from '../support/vectors.js';

interface EncodingCase {
  name: string;
  height: number;
  size: number;
  key: string;
  value?: string;
  hash?: string;
  nodeKey: { version: number; nonce: number };
  left?: { version: number; nonce: number };
  right?: { version: number; nonce: number };
  rightLegacyHash?: string;
  expectedHex: string;
}
const vectors = readVectors<{ cases: EncodingCase[] }>('iavl-node-encoding-vectors.json');

function nodeOf(c: EncodingCase): Node {
  const node = new Node(fromHex(c.key), c.value === undefined ? undefined : fromHex(c.value), c.height, c.size);
  node.version = c.nodeKey.version;
  node.ref = { kind: 'v1', ...c.nodeKey };
  if (c.hash !== undefined) node.hash = fromHex(c.hash);
  if (c.left) node.leftRef = { kind: 'v1', ...c.left };
  if (c.right) node.rightRef = { kind: 'v1', ...c.right };
  if (c.rightLegacyHash) node.rightRef = { kind: 'legacy', hash: fromHex(c.rightLegacyHash) };
  return node;
}

describe('IAVL v1 node value encoding (cosmos/iavl v1.3.5 TestNode_encode_decode)', () => {
  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s encodes to the Go bytes and decodes back', (_n, c) => {
    const node = nodeOf(c);
    expect(toHex(encodeNode(node))).toBe(c.expectedHex);
    const decoded = decodeNode({ kind: 'v1', ...c.nodeKey }, fromHex(c.expectedHex));
    expect(toHex(decoded.key)).toBe(c.key);
    expect(decoded.height).toBe(c.height);
    expect(decoded.size).toBe(c.size);
    expect(decoded.version).toBe(c.nodeKey.version);
    if (c.height === 0) {
      expect(toHex(decoded.value!)).toBe(c.value);
      expect(toHex(decoded.hash!)).toBe(toHex(hashLeaf(c.nodeKey.version, fromHex(c.key), fromHex(c.value!))));
    } else {
      expect(toHex(decoded.hash!)).toBe(c.hash);
      expect(decoded.leftRef).toEqual(node.leftRef);
      expect(decoded.rightRef).toEqual(node.rightRef);
    }
  });
});

describe('corrupt node values are typed errors naming the node', () => {
  const inner = vectors.cases.find((c) => c.name === 'inner')!;
  const ref = { kind: 'v1' as const, version: 2, nonce: 1 };

  it.each([
    ['truncated inside the hash', inner.expectedHex.slice(0, 20)],
    ['trailing garbage', `${inner.expectedHex}00`],
    ['height beyond int8', `fe03${inner.expectedHex.slice(2)}`],
    ['negative height', `01${inner.expectedHex.slice(2)}`],
    ['leaf with size 2', '0004036b65790576616c7565'],
    ['child mode 9', inner.expectedHex.replace(/0002020202$/, '1202020202')],
    ['hash of 31 bytes', `060e036b65791f${inner.expectedHex.slice(16, 78)}0002020202`],
    ['empty', ''],
    ['varint longer than 10 bytes', 'ffffffffffffffffffffff'],
  ])('%s', (_what, hex) => {
    let caught: unknown;
    try {
      decodeNode(ref, fromHex(hex));
    } catch (error) {
      caught = error;
    }
    expect(isStoreError(caught, 'ERR_NODE_CORRUPT')).toBe(true);
    expect((caught as Error).message).toContain('s(2, 1)');
  });

  it('a legacy node whose content does not hash to its key is rejected', () => {
    // A legacy leaf: height 0, size 1, version 1, key "a", value "b".
    const body = fromHex('000202016101620000');
    let caught: unknown;
    try {
      decodeLegacyNode(new Uint8Array(32), body.subarray(0, 7));
    } catch (error) {
      caught = error;
    }
    expect(isStoreError(caught, 'ERR_NODE_CORRUPT')).toBe(true);
    expect((caught as Error).message).toMatch(/not to its key/);
  });
});
