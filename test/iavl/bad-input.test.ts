import { lastValueFrom, take, toArray } from 'rxjs';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { isStoreError, StoreError } from '../../src/core/errors.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import { type ExportNode, ExportReader } from '../../src/iavl/export-reader.js';
import { nodeDbKey } from '../../src/iavl/node-db.js';
import { decodeNode, encodedLengthBound, writeNode } from '../../src/iavl/node-codec.js';
import { errorOf } from '../support/errors.js';

async function withTree<T>(fn: (tree: IavlTree, db: LevelDb) => Promise<T>): Promise<T> {
  const db = await openDb();
  try {
    return await fn(await IavlTree.open(db), db);
  } finally {
    await db.close();
  }
}

async function filled(tree: IavlTree, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tree.set(utf8(`key-${String(i).padStart(3, '0')}`), utf8(`value-${i}`));
  await tree.saveVersion();
}

describe('IAVL bad input: typed errors, never a crash or a silently wrong hash', () => {
  it('a stored child reference that points back up the tree is ERR_NODE_CORRUPT for every descent, never an endless loop', async () =>
    withTree(async (tree, db) => {
      await filled(tree, 40);
      // The root (version 1, nonce 1) made its own right child, as a corrupt database could hold.
      const rootKey = nodeDbKey({ kind: 'v1', version: 1, nonce: 1 });
      const root = decodeNode({ kind: 'v1', version: 1, nonce: 1 }, (await db.get(rootKey))!);
      root.rightRef = { kind: 'v1', version: 1, nonce: 1 };
      const bytes = new Uint8Array(encodedLengthBound(root));
      await db.put(rootKey, bytes.subarray(0, writeNode(root, bytes, 0)));
      const corrupt = await IavlTree.open(db, { cacheSize: 0 });
      const expectCorrupt = (error: StoreError) => {
        expect(error.code).toBe('ERR_NODE_CORRUPT');
        expect(error.message).toMatch(/inner node s\(1, 1\) \(height \d+\) has a right child of height \d+: a child must be lower than its parent/);
      };
      expectCorrupt(await errorOf(corrupt.get(utf8('key-039'))));
      expectCorrupt(await errorOf(lastValueFrom(corrupt.export(1).pipe(toArray()))));
      expectCorrupt(await errorOf(corrupt.getProof(utf8('key-039'))));
      expectCorrupt(await errorOf(corrupt.set(utf8('key-039'), utf8('x'))));
      // The left half is intact.
      expect(await corrupt.get(utf8('key-000'))).toEqual(utf8('value-0'));
    }));

  it('refuses a nil value and an empty key', async () =>
    withTree(async (tree) => {
      const nil = await errorOf(tree.set(utf8('k'), undefined as unknown as Uint8Array));
      expect(nil.code).toBe('ERR_NIL_VALUE');
      expect(nil.message).toMatch(/nil value at key 6b/);
      expect((await errorOf(tree.set(new Uint8Array(0), utf8('v')))).code).toBe('ERR_EMPTY_KEY');
      expect(tree.size).toBe(0);
    }));

  it('opens at a chosen version (0: empty) and names a version that does not exist', async () =>
    withTree(async (tree, db) => {
      await filled(tree, 3);
      await tree.set(utf8('key-001'), utf8('changed'));
      await tree.saveVersion();
      const empty = await IavlTree.open(db, { version: 0 });
      expect([empty.version, empty.size]).toEqual([0, 0]);
      const first = await IavlTree.open(db, { version: 1 });
      expect(first.version).toBe(1);
      expect(await first.get(utf8('key-001'))).toEqual(utf8('value-1'));
      expect((await IavlTree.open(db)).version).toBe(2);
      expect((await errorOf(IavlTree.open(db, { version: 3 }))).code).toBe('ERR_VERSION_NOT_FOUND');
      expect((await errorOf(IavlTree.open(db, { version: -1 }))).message).toMatch(/version/);
    }));

  it('reports a missing node by its key when reading an older version', async () =>
    withTree(async (tree, db) => {
      await filled(tree, 20);
      await tree.set(utf8('key-005'), utf8('changed'));
      await tree.saveVersion();
      // Delete a node of version 1 that version 1's tree still needs.
      await db.del(nodeDbKey({ kind: 'v1', version: 1, nonce: 2 }));
      const reopened = await IavlTree.open(db, { cacheSize: 0 });
      const error = await errorOf(lastValueFrom(reopened.export(1).pipe(toArray())));
      expect(error.code).toBe('ERR_NODE_MISSING');
      expect(error.message).toContain('s(1, 2)');
    }));

  it('reports a corrupt stored node instead of computing a wrong hash', async () =>
    withTree(async (tree, db) => {
      await filled(tree, 10);
      const key = nodeDbKey({ kind: 'v1', version: 1, nonce: 2 });
      const bytes = (await db.get(key))!;
      await db.put(key, bytes.subarray(0, bytes.length - 3));
      const reopened = await IavlTree.open(db, { cacheSize: 0 });
      const error = await errorOf(lastValueFrom(reopened.export(1).pipe(toArray())));
      expect(error.code).toBe('ERR_NODE_CORRUPT');
      expect(error.message).toContain('s(1, 2)');
    }));

  it('saves version 2^53 − 1, refuses the version after it, and still opens', async () => {
    const db = await openDb();
    try {
      const tree = await IavlTree.open(db, { initialVersion: Number.MAX_SAFE_INTEGER });
      await tree.set(utf8('a'), utf8('1'));
      expect((await tree.saveVersion()).version).toBe(Number.MAX_SAFE_INTEGER);
      await tree.set(utf8('a'), utf8('2'));
      const error = await errorOf(tree.saveVersion());
      expect(error.code).toBe('ERR_VERSION_RANGE');
      expect(error.message).toBe(`the next version ${Number.MAX_SAFE_INTEGER + 1} must be an integer between 1 and ${Number.MAX_SAFE_INTEGER}`);
      const reopened = await IavlTree.open(db);
      expect(reopened.version).toBe(Number.MAX_SAFE_INTEGER);
      expect(await reopened.get(utf8('a'))).toEqual(utf8('1'));
    } finally {
      await db.close();
    }
  });

  it('refuses to save over an existing version with a different root', async () =>
    withTree(async (tree, db) => {
      await filled(tree, 5);
      await tree.set(utf8('x'), utf8('1'));
      await tree.saveVersion();
      const old = await IavlTree.open(db);
      await old.loadVersion(1);
      await old.set(utf8('y'), utf8('2'));
      const error = await errorOf(old.saveVersion());
      expect(error.code).toBe('ERR_VERSION_EXISTS');
      expect(error.message).toMatch(/version 2 was already saved/);
      // Re-saving the identical change is idempotent.
      const same = await IavlTree.open(db);
      await same.loadVersion(1);
      await same.set(utf8('x'), utf8('1'));
      expect(toHex((await same.saveVersion()).hash)).toBe(toHex(tree.hash()));
    }));

  describe('import streams', () => {
    async function exported(): Promise<{ nodes: ExportNode[]; hash: string }> {
      return withTree(async (tree) => {
        await filled(tree, 12);
        return { nodes: await lastValueFrom(tree.export(1).pipe(toArray())), hash: toHex(tree.hash()) };
      });
    }

    async function importAll(nodes: readonly ExportNode[], version = 1): Promise<unknown> {
      return withTree(async (tree) => {
        const importer = await tree.importer(version);
        for (const node of nodes) await importer.add(node);
        return importer.commit();
      });
    }

    it('accepts the untouched stream', async () => {
      const { nodes, hash } = await exported();
      expect(toHex(((await importAll(nodes)) as { hash: Uint8Array }).hash)).toBe(hash);
    });

    it('rejects an inner node before its children (wrong order)', async () => {
      const { nodes } = await exported();
      const inner = nodes.findIndex((n) => n.height > 0);
      const swapped = [...nodes];
      [swapped[inner - 1], swapped[inner]] = [swapped[inner]!, swapped[inner - 1]!];
      const error = await errorOf(importAll(swapped));
      expect(error.code).toBe('ERR_IMPORT_ORDER');
      expect(error.message).toMatch(/import node #\d+/);
    });

    it('rejects leaves out of key order', async () => {
      const { nodes } = await exported();
      const leaves = nodes.map((n, i) => [n, i] as const).filter(([n]) => n.height === 0);
      const mutated = [...nodes];
      mutated[leaves[0]![1]] = { ...leaves[0]![0], key: utf8('zzz') };
      expect((await errorOf(importAll(mutated))).code).toBe('ERR_IMPORT_ORDER');
    });

    it('rejects a height above 127 and a negative height', async () => {
      const { nodes } = await exported();
      const last = nodes[nodes.length - 1]!;
      const high = await errorOf(importAll([...nodes.slice(0, -1), { ...last, height: 128 }]));
      expect(high.code).toBe('ERR_IMPORT_HEIGHT');
      expect(high.message).toMatch(/height 128 is outside 0..127/);
      expect((await errorOf(importAll([{ ...nodes[0]!, height: -1 }]))).code).toBe('ERR_IMPORT_HEIGHT');
    });

    it('rejects an inner height that does not match its children', async () => {
      const { nodes } = await exported();
      const last = nodes[nodes.length - 1]!;
      expect((await errorOf(importAll([...nodes.slice(0, -1), { ...last, height: last.height + 1 }]))).code).toBe('ERR_IMPORT_HEIGHT');
    });

    it('rejects a leaf without value (nil) and a nil node', async () => {
      const { nodes } = await exported();
      const { value: _drop, ...noValue } = nodes[0]!;
      expect((await errorOf(importAll([noValue as ExportNode])).then((e) => e)).code).toBe('ERR_NIL_VALUE');
      expect((await errorOf(importAll([null as unknown as ExportNode]))).code).toBe('ERR_INVALID_ARGUMENT');
    });

    it('rejects a node version above the import version', async () => {
      const { nodes } = await exported();
      expect((await errorOf(importAll([{ ...nodes[0]!, version: 5 }], 1))).code).toBe('ERR_IMPORT_ORDER');
    });

    it('rejects a truncated stream at commit', async () => {
      const { nodes } = await exported();
      const error = await errorOf(importAll(nodes.slice(0, -1)));
      expect(error.code).toBe('ERR_IMPORT_INCOMPLETE');
      expect(error.message).toMatch(/unjoined subtrees/);
    });

    it('rejects an inner key that is not the smallest key of its right subtree', async () => {
      const { nodes } = await exported();
      const last = nodes[nodes.length - 1]!;
      expect((await errorOf(importAll([...nodes.slice(0, -1), { ...last, key: fromHex('00') }]))).code).toBe('ERR_IMPORT_ORDER');
    });

    it('refuses to import into a tree that has versions', async () =>
      withTree(async (tree) => {
        await filled(tree, 3);
        expect((await errorOf(tree.importer(5))).code).toBe('ERR_IMPORT_NOT_EMPTY');
      }));

    it('imports an empty stream as an empty tree', async () => {
      const result = (await importAll([], 4)) as { version: number; hash: Uint8Array };
      expect(result.version).toBe(4);
      expect(toHex(result.hash)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    });
  });

  describe('export stream lifecycle', () => {
    it('pins the version while exporting and releases the pin on unsubscribe', async () =>
      withTree(async (tree) => {
        await filled(tree, 50);
        const first = await lastValueFrom(tree.export(1, { batchSize: 4 }).pipe(take(3), toArray()));
        expect(first).toHaveLength(3);
        await new Promise((resolve) => setImmediate(resolve));
        expect(tree.ndb.pinCount(1)).toBe(0);
        let pinnedWhileEmitting = -1;
        await new Promise<void>((resolve) =>
          tree.export(1, { batchSize: 4 }).subscribe({
            next: () => {
              if (pinnedWhileEmitting < 0) pinnedWhileEmitting = tree.ndb.pinCount(1);
            },
            complete: resolve,
          }),
        );
        expect(pinnedWhileEmitting).toBe(1);
        expect(tree.ndb.pinCount(1)).toBe(0);
      }));

    /**
     * 10k keys saved at version 1, reopened without its rightmost leaf (the last pre-order nonce),
     * which the walk reads long after the left of the tree was delivered; taller than a subtree the
     * walk reads ahead whole (height 12), so it reads ahead several times before.
     */
    async function withoutRightmostLeaf(tree: IavlTree, db: LevelDb): Promise<IavlTree> {
      for (let i = 0; i < 10_000; i++) await tree.set(utf8(`key-${String(i).padStart(5, '0')}`), utf8(`v${i}`));
      await tree.saveVersion();
      await db.del(nodeDbKey({ kind: 'v1', version: 1, nonce: 19_999 }));
      return IavlTree.open(db, { cacheSize: 0 });
    }

    it('delivers every node before a mid-stream read failure, then the error', async () =>
      withTree(async (tree, db) => {
        const reopened = await withoutRightmostLeaf(tree, db);
        const seen: ExportNode[] = [];
        const error = await new Promise<unknown>((resolve) =>
          reopened.export(1, { batchSize: 3 }).subscribe({ next: (n) => seen.push(n), error: resolve, complete: () => resolve(undefined) }),
        );
        expect(isStoreError(error, 'ERR_NODE_MISSING')).toBe(true);
        expect(seen.length).toBeGreaterThan(5000);
        expect(seen.length).toBeLessThan(19_999);
        expect(reopened.ndb.pinCount(1)).toBe(0);
      }));

    it('a read after a failed one fails again: the walk never skips the subtree it could not read', async () =>
      withTree(async (tree, db) => {
        const reopened = await withoutRightmostLeaf(tree, db);
        const reader = await ExportReader.open(reopened.ndb, 1);
        let delivered = 0;
        const failures: unknown[] = [];
        // A caller that retries after every error: each read after the first failure must fail too.
        for (let attempt = 0; attempt < 20_000 && failures.length < 3; attempt++) {
          try {
            const batch = await reader.read(1000);
            if (batch.length === 0) break;
            delivered += batch.length;
          } catch (error) {
            failures.push(error);
          }
        }
        expect(failures).toHaveLength(3);
        for (const error of failures) expect(isStoreError(error, 'ERR_NODE_MISSING')).toBe(true);
        expect(delivered).toBeGreaterThan(5000);
        expect(delivered).toBeLessThan(19_999);
        await reader.close();
        expect(reopened.ndb.pinCount(1)).toBe(0);
      }));

    it('is lazy: nothing is read before subscribe', async () =>
      withTree(async (tree) => {
        await filled(tree, 5);
        tree.export(1);
        expect(tree.ndb.pinCount(1)).toBe(0);
        await expect(lastValueFrom(tree.export(7))).rejects.toMatchObject({ code: 'ERR_VERSION_NOT_FOUND' });
      }));
  });
});
