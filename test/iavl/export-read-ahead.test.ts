import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { compareBytes, equalBytes } from '../../src/core/bytes.js';
import { type LevelDb, openDb } from '../../src/db/level-db.js';
import type { ExportNode } from '../../src/iavl/export-reader.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import type { Node } from '../../src/iavl/node.js';
import { leftOf, nodeDbKey, type NodeDb, rightOf } from '../../src/iavl/node-db.js';
import { compareNodeRefs, type NodeRef } from '../../src/iavl/node-key.js';

/** Deterministic pseudo-random bytes: the SHA-256 of a label. */
function bytesOf(label: string, length: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(label).digest().subarray(0, length));
}

/** Keys per saved version: enough versions that the nodes of one subtree come from many of them. */
const KEYS_PER_VERSION = 1_000;
const VERSIONS = 12;

/** A tree of 12k random keys over 12 versions: height ≈ 16, above the exporter's whole-subtree height. */
async function historyTree(db: LevelDb): Promise<IavlTree> {
  const tree = await IavlTree.open(db, { prefix: 's/k:bank/' });
  for (let v = 0; v < VERSIONS; v++) {
    for (let i = 0; i < KEYS_PER_VERSION; i++) await tree.set(bytesOf(`key ${v}/${i}`, 16), bytesOf(`value ${v}/${i}`, 8));
    await tree.saveVersion();
  }
  return tree;
}

/** The reference walk: one node read at a time, post-order. */
async function naiveExport(ndb: NodeDb, node: Node, out: ExportNode[]): Promise<void> {
  if (!node.isLeaf) {
    await naiveExport(ndb, await leftOf(ndb, node), out);
    await naiveExport(ndb, await rightOf(ndb, node), out);
  }
  out.push(node.isLeaf ? { key: node.key, value: node.value!, version: node.version, height: 0 } : { key: node.key, version: node.version, height: node.height });
}

function sameNodes(a: readonly ExportNode[], b: readonly ExportNode[]): boolean {
  return (
    a.length === b.length &&
    a.every((n, i) => {
      const m = b[i]!;
      const sameValue = n.value === undefined ? m.value === undefined : m.value !== undefined && equalBytes(n.value, m.value);
      return equalBytes(n.key, m.key) && sameValue && n.version === m.version && n.height === m.height;
    })
  );
}

/** Runs `fn` while recording the keys of every batched node read of `ndb`. */
async function recordingReads<T>(ndb: NodeDb, fn: () => Promise<T>): Promise<{ result: T; reads: Uint8Array[][] }> {
  const ns = ndb.ns;
  const reads: Uint8Array[][] = [];
  const original = ns.getManyPrefixed.bind(ns);
  const spy = jest.spyOn(ns, 'getManyPrefixed').mockImplementation((keys) => {
    reads.push([...keys]);
    return original(keys);
  });
  try {
    return { result: await fn(), reads };
  } finally {
    spy.mockRestore();
  }
}

describe('export read-ahead over a tree with history', () => {
  let db: LevelDb;
  let tree: IavlTree;
  let root: Node;

  beforeAll(async () => {
    db = await openDb();
    tree = await historyTree(db);
    const entry = await tree.ndb.getRoot(VERSIONS);
    if (entry === undefined || entry.kind === 'empty') throw new Error('the tree has no root');
    root = await tree.ndb.getNode(entry.ref);
  });
  afterAll(async () => {
    await db.close();
  });

  it('is taller than a whole read-ahead subtree, so both read-ahead paths run', () => {
    expect(root.height).toBeGreaterThan(12);
  });

  it('exports exactly what a node-by-node post-order walk reads, in reads of at most 512 nodes in key order', async () => {
    const expected: ExportNode[] = [];
    await naiveExport(tree.ndb, root, expected);
    tree.ndb.clearCache();

    const { result: actual, reads: batches } = await recordingReads(tree.ndb, async () => {
      const reader = await tree.exportReader(VERSIONS);
      const nodes: ExportNode[] = [];
      for (let batch = await reader.read(500); batch.length > 0; batch = await reader.read(500)) nodes.push(...batch);
      return nodes;
    });
    expect(actual).toHaveLength(expected.length);
    expect(sameNodes(actual, expected)).toBe(true);

    // Every node below the root came through a batch (the read-ahead bypasses the cache).
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(expected.length - 1);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(512);
    // Large batches: far fewer round trips than nodes.
    expect(batches.length).toBeLessThan(expected.length / 50);
    for (const batch of batches) {
      for (let i = 1; i < batch.length; i++) expect(compareBytes(batch[i - 1]!, batch[i]!)).toBeLessThan(0);
    }
  });

  it('reads a tall tree a whole subtree at a time: the first read loads far less than the tree', async () => {
    tree.ndb.clearCache();
    const { reads } = await recordingReads(tree.ndb, async () => {
      const reader = await tree.exportReader(VERSIONS);
      expect(await reader.read(1)).toHaveLength(1);
      await reader.close();
    });
    const loaded = reads.flat().length;
    // One whole subtree of height ≤ 12 (< 2^13 nodes) plus the few nodes above that height.
    expect(loaded).toBeLessThan(2 ** 13 + 256);
    expect(loaded).toBeGreaterThan(1000);
  });

  it('getNodes reads its misses in key order, in reads of at most 512 keys, and puts each node where its ref was', async () => {
    const refs: NodeRef[] = [];
    const collect = async (node: Node): Promise<void> => {
      if (node.isLeaf || refs.length > 3000) return;
      refs.push(node.leftRef!, node.rightRef!);
      await collect(await leftOf(tree.ndb, node));
      await collect(await rightOf(tree.ndb, node));
    };
    await collect(root);
    const rank = (i: number): Uint8Array => bytesOf(`shuffle ${i}`, 8);
    const shuffled = refs.map((ref, i) => ({ ref, rank: rank(i) })).sort((a, b) => compareBytes(a.rank, b.rank)).map((e) => e.ref);
    // Every third ref cached (hits interleave with misses), and one ref asked for twice.
    tree.ndb.clearCache();
    for (let i = 0; i < shuffled.length; i += 3) await tree.ndb.getNode(shuffled[i]!);
    const asked = [...shuffled, shuffled[1]!];

    const { result: batch, reads } = await recordingReads(tree.ndb, () => tree.ndb.getNodes(asked, false));
    const keys = reads.flat();
    expect(keys.length).toBe(asked.length - Math.ceil(shuffled.length / 3));
    expect(reads.length).toBe(Math.ceil(keys.length / 512));
    for (let i = 1; i < keys.length; i++) expect(compareBytes(keys[i - 1]!, keys[i]!)).toBeLessThanOrEqual(0);

    tree.ndb.clearCache();
    for (let i = 0; i < asked.length; i++) {
      const single = await tree.ndb.getNode(asked[i]!);
      expect(batch[i]!.version).toBe(single.version);
      expect(equalBytes(batch[i]!.hash!, single.hash!)).toBe(true);
    }
  });
});

describe('compareNodeRefs', () => {
  const refArb: fc.Arbitrary<NodeRef> = fc.oneof(
    fc.record({
      kind: fc.constant('v1' as const),
      version: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
      nonce: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
    }),
    fc.record({ kind: fc.constant('legacy' as const), hash: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  );

  it('orders refs exactly as their database keys sort', () => {
    fc.assert(
      fc.property(refArb, refArb, (a, b) => {
        expect(Math.sign(compareNodeRefs(a, b))).toBe(Math.sign(compareBytes(nodeDbKey(a), nodeDbKey(b))));
      }),
    );
  });
});
