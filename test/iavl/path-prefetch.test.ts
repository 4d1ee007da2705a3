import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { type Changeset, changesetFromPairs, type ChangesetEntry } from '../../src/core/changeset.js';
import { type LevelDb, openDb } from '../../src/db/level-db.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import type { NodeDb } from '../../src/iavl/node-db.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';

/** Deterministic pseudo-random bytes: the SHA-256 of a label. */
function bytesOf(label: string, length: number): Uint8Array {
  return new Uint8Array(createHash('sha256').update(label).digest().subarray(0, length));
}

const KEYS_PER_VERSION = 1_000;
const VERSIONS = 12;
const PREFIX = 's/k:bank/';

type Write = { readonly key: Uint8Array; readonly value: Uint8Array | undefined };

/** A block of writes on the history tree: updates and removes of existing keys, new keys. */
function blockWrites(seed: string, updates: number, removes: number, inserts: number): Write[] {
  const existing = (i: number): Uint8Array => {
    const n = Number.parseInt(toHex(bytesOf(`${seed} pick ${i}`, 4)), 16);
    return bytesOf(`key ${n % VERSIONS}/${(n >>> 4) % KEYS_PER_VERSION}`, 16);
  };
  const writes = new Map<string, Write>();
  for (let i = 0; i < updates; i++) writes.set(toHex(existing(i)), { key: existing(i), value: bytesOf(`${seed} new value ${i}`, 8) });
  for (let i = updates; i < updates + removes; i++) writes.set(toHex(existing(i)), { key: existing(i), value: undefined });
  for (let i = 0; i < inserts; i++) {
    const key = bytesOf(`${seed} new key ${i}`, 16);
    writes.set(toHex(key), { key, value: bytesOf(`${seed} inserted ${i}`, 8) });
  }
  return [...writes.values()];
}

async function apply(tree: IavlTree, writes: readonly Write[]): Promise<void> {
  for (const { key, value } of writes) {
    if (value === undefined) await tree.remove(key);
    else await tree.set(key, value);
  }
}

/** Runs `fn` and counts the batched node reads (database round trips) of the trees of `ndbs`. */
async function countingReads(ndbs: NodeDb | readonly NodeDb[], fn: () => Promise<unknown>): Promise<number> {
  let reads = 0;
  const spies = (Array.isArray(ndbs) ? ndbs : [ndbs as NodeDb]).map((ndb) => {
    const original = ndb.ns.getManyPrefixed.bind(ndb.ns);
    return jest.spyOn(ndb.ns, 'getManyPrefixed').mockImplementation((keys) => {
      reads++;
      return original(keys);
    });
  });
  try {
    await fn();
    return reads;
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** A store/v1 of `versions` commits of `keysPerVersion` keys spread over `stores`. */
async function storeWithHistory(db: LevelDb, stores: readonly string[], versions: number, keysPerVersion: number): Promise<void> {
  const v1 = await LegacyStore.open(db, { storeKeys: [...stores] });
  for (let v = 0; v < versions; v++) {
    const entries: ChangesetEntry[] = [];
    for (let i = 0; i < keysPerVersion; i++) entries.push([stores[i % stores.length]!, bytesOf(`key ${v}/${i}`, 16), bytesOf(`value ${v}/${i}`, 8)]);
    await v1.commit(changesetFromPairs(v1.latestVersion + 1, entries).changeset);
  }
}

describe('prefetching the paths of a block of writes', () => {
  let db: LevelDb;
  let tree: IavlTree;

  beforeAll(async () => {
    db = await openDb();
    const builder = await IavlTree.open(db, { prefix: PREFIX });
    for (let v = 0; v < VERSIONS; v++) {
      for (let i = 0; i < KEYS_PER_VERSION; i++) await builder.set(bytesOf(`key ${v}/${i}`, 16), bytesOf(`value ${v}/${i}`, 8));
      await builder.saveVersion();
    }
    tree = await IavlTree.open(db, { prefix: PREFIX });
  });
  afterAll(async () => {
    await db.close();
  });
  afterEach(() => tree.rollback());

  it('reads one batch per tree level, after which the writes read almost nothing; the root hash is unchanged', async () => {
    const writes = blockWrites('block', 100, 30, 70);
    tree.ndb.clearCache();
    const plainReads = await countingReads(tree.ndb, () => apply(tree, writes));
    const plainHash = await tree.workingHash();
    tree.rollback();

    tree.ndb.clearCache();
    const prefetchReads = await countingReads(tree.ndb, () => tree.prefetch(writes.map((w) => w.key)));
    const laterReads = await countingReads(tree.ndb, () => apply(tree, writes));
    const hash = await tree.workingHash();

    expect(toHex(hash)).toBe(toHex(plainHash));
    const height = (await tree.getImmutable()).root!.height;
    // The root is in memory; each level below it is at most one read, whatever the number of keys.
    expect(prefetchReads).toBeLessThanOrEqual(height);
    // Without the prefetch, a cold tree reads node by node: one round trip per missing node.
    expect(plainReads).toBeGreaterThan(writes.length);
    // After it, only nodes off the paths remain: those a rotation or a removal's sibling needs.
    expect(laterReads).toBeLessThan(plainReads / 10);
  });

  it('is only a hint: with any cache size (none; one that evicts during the writes; the default), the same writes give the same tree', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 8_000, 200_000), fc.nat({ max: 40 }), fc.nat({ max: 20 }), fc.nat({ max: 40 }), fc.string(), async (cacheSize, updates, removes, inserts, seed) => {
        const writes = blockWrites(seed, updates, removes, inserts);
        const plain = await IavlTree.open(db, { prefix: PREFIX, cacheSize });
        await apply(plain, writes);
        const prefetched = await IavlTree.open(db, { prefix: PREFIX, cacheSize });
        await prefetched.prefetch(writes.map((w) => w.key));
        await apply(prefetched, writes);
        expect(toHex(await prefetched.workingHash())).toBe(toHex(await plain.workingHash()));
        expect(prefetched.size).toBe(plain.size);
      }),
      { numRuns: 15 },
    );
  });

  it('does nothing when the node cache could evict what it loads before the writes run', async () => {
    const small = await IavlTree.open(db, { prefix: PREFIX, cacheSize: 16 });
    const keys = blockWrites('small cache', 10, 0, 0).map((w) => w.key);
    await expect(countingReads(small.ndb, () => small.prefetch(keys))).resolves.toBe(0);
  });

  it('does nothing on an empty tree or for no keys', async () => {
    const empty = await IavlTree.open(db, { prefix: 's/k:empty/' });
    await expect(countingReads(empty.ndb, () => empty.prefetch([bytesOf('a', 4)]))).resolves.toBe(0);
    tree.ndb.clearCache();
    await expect(countingReads(tree.ndb, () => tree.prefetch([]))).resolves.toBe(0);
  });
});

describe('a multi-store commit prefetches every store of a block', () => {
  it('keeps the order of the writes across chunks and repeated store groups: the later write wins', async () => {
    const db = await openDb();
    try {
      const v1 = await LegacyStore.open(db, { storeKeys: ['bank'] });
      const key = bytesOf('contested', 16);
      // Group 1 sets the key as its 281st write (past the first prefetch chunk); a later group of
      // the same store sets it again.
      const first = Array.from({ length: 300 }, (_, i) => ({ key: i === 280 ? key : bytesOf(`first ${i}`, 16), value: bytesOf(`first value ${i}`, 8), remove: false }));
      const second = [{ key, value: utf8('second'), remove: false }];
      const changeset: Changeset = { changes: [{ storeKey: 'bank', pairs: first }, { storeKey: 'bank', pairs: second }] };
      await v1.multi.applyChangeset(changeset);
      expect(await v1.multi.tree('bank').get(key)).toEqual(utf8('second'));

      const reference = await IavlTree.open(await openDb(), { prefix: 'reference/' });
      for (const pair of [...first, ...second]) await reference.set(pair.key, pair.value);
      expect(toHex(await v1.multi.tree('bank').workingHash())).toBe(toHex(await reference.workingHash()));
    } finally {
      await db.close();
    }
  });

  it('a failing prefetch read fails the changeset like any read, and leaves the trees as committed', async () => {
    const db = await openDb();
    try {
      const v1 = await LegacyStore.open(db, { storeKeys: ['bank'] });
      await v1.commit(changesetFromPairs(1, [['bank', bytesOf('a', 8), bytesOf('1', 8)]]).changeset);
      const tree = v1.multi.tree('bank');
      const committed = toHex(await tree.workingHash());
      const spy = jest.spyOn(tree, 'prefetch').mockRejectedValue(new Error('injected read fault'));
      try {
        await expect(v1.multi.applyChangeset(changesetFromPairs(2, [['bank', bytesOf('b', 8), bytesOf('2', 8)]]).changeset)).rejects.toThrow('injected read fault');
      } finally {
        spy.mockRestore();
      }
      expect(toHex(await tree.workingHash())).toBe(committed);
      await v1.commit(changesetFromPairs(2, [['bank', bytesOf('b', 8), bytesOf('2', 8)]]).changeset);
      expect(await v1.get('bank', bytesOf('b', 8))).toEqual(bytesOf('2', 8));
    } finally {
      await db.close();
    }
  });

  it('with a smaller node cache, prefetches in smaller chunks rather than not at all', async () => {
    const db = await openDb();
    try {
      await storeWithHistory(db, ['bank'], 4, 2_000);
      // Keeps 2,000 nodes: ~71 keys a chunk on this tree of height ~13.
      const reopened = await LegacyStore.open(db, { storeKeys: ['bank'], cacheSize: 4_000 });
      const tree = reopened.multi.tree('bank');
      expect(tree.prefetchLimit).toBeGreaterThan(20);
      expect(tree.prefetchLimit).toBeLessThan(300);
      const block: ChangesetEntry[] = [];
      for (let i = 0; i < 300; i++) block.push(['bank', bytesOf(`key ${i % 4}/${i * 5}`, 16), bytesOf(`changed ${i}`, 8)]);
      const reads = await countingReads(tree.ndb, () => reopened.multi.applyChangeset(changesetFromPairs(5, block).changeset));
      const chunks = Math.ceil(300 / tree.prefetchLimit);
      const height = (await tree.getImmutable()).root!.height;
      // A few reads per level and chunk, not one per missing node (over a thousand here).
      expect(reads).toBeLessThanOrEqual(chunks * (height + 5));
    } finally {
      await db.close();
    }
  });

  it('applies a cold block over three stores in a few reads per tree level, not one per node', async () => {
    const stores = ['acc', 'bank', 'staking'];
    const db = await openDb();
    try {
      await storeWithHistory(db, stores, 6, 1_500);
      const reopened = await LegacyStore.open(db, { storeKeys: stores });
      const block: ChangesetEntry[] = [];
      for (let i = 0; i < 150; i++) block.push([stores[i % 3]!, bytesOf(`key ${i % 6}/${i * 7}`, 16), bytesOf(`changed ${i}`, 8)]);
      const ndbs = stores.map((store) => reopened.multi.tree(store).ndb);
      const reads = await countingReads(ndbs, () => reopened.multi.applyChangeset(changesetFromPairs(reopened.latestVersion + 1, block).changeset));
      const heights = await Promise.all(stores.map(async (store) => (await reopened.multi.tree(store).getImmutable()).root!.height));
      // One read per level and store for the paths, plus a few for rotations: far below the 150
      // writes × ~11 levels a node-by-node descent reads.
      expect(reads).toBeLessThanOrEqual(heights.reduce((a, b) => a + b, 0) + 10);
    } finally {
      await db.close();
    }
  });
});
