import fc from 'fast-check';
import { lastValueFrom, toArray } from 'rxjs';
import { toHex } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import { leftOf, rightOf } from '../../src/iavl/node-db.js';
import { decodeNodeKey, refId } from '../../src/iavl/node-key.js';
import type { Node } from '../../src/iavl/node.js';

type Op = { kind: 'set'; key: number; value: number } | { kind: 'remove'; key: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), key: fc.integer({ min: 0, max: 40 }) }) },
);

async function reachable(tree: IavlTree, version: number, into: Set<string>): Promise<void> {
  const view = await tree.getImmutable(version);
  const walk = async (node: Node): Promise<void> => {
    const id = refId(node.ref!).replace(/:0$/, ':1');
    if (into.has(id)) return;
    into.add(id);
    if (!node.isLeaf) {
      await walk(await leftOf(tree.ndb, node));
      await walk(await rightOf(tree.ndb, node));
    }
  };
  if (view.root) await walk(view.root);
}

/** Node keys stored in the db (reference and empty roots are not nodes). */
async function storedNodes(db: LevelDb): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const [key, value] of db.iterator({ gte: Uint8Array.of(0x73), lt: Uint8Array.of(0x74) })) {
    const { version, nonce } = decodeNodeKey(key.subarray(1));
    if (nonce === 1 && (value.length === 0 || (value[0] === 0x73 && value.length === 13))) continue;
    ids.add(`${version}:${nonce === 0 ? 1 : nonce}`);
  }
  return ids;
}

describe('IAVL pruning', () => {
  it('keeps every later version intact and leaves no orphan behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 2, maxLength: 12 }),
        fc.nat(),
        async (history, pick) => {
          const db = await openDb();
          try {
            const tree = await IavlTree.open(db);
            const expected: { hash: string; leaves: string }[] = [];
            for (const ops of history) {
              for (const op of ops) {
                if (op.kind === 'set') await tree.set(Uint8Array.of(op.key), Uint8Array.of(op.value));
                else await tree.remove(Uint8Array.of(op.key));
              }
              const saved = await tree.saveVersion();
              const leaves = (await lastValueFrom(tree.export(saved.version).pipe(toArray())))
                .filter((n) => n.height === 0)
                .map((n) => toHex(n.key) + toHex(n.value!))
                .join(',');
              expected.push({ hash: toHex(saved.hash), leaves });
            }
            const latest = history.length;
            const pruneTo = 1 + (pick % (latest - 1));
            await tree.deleteVersionsTo(pruneTo);
            const reopened = await IavlTree.open(db, { cacheSize: 0 });
            expect(reopened.version).toBe(latest);
            expect(await reopened.firstVersion()).toBe(pruneTo + 1);
            const live = new Set<string>();
            for (let v = 1; v <= latest; v++) {
              if (v <= pruneTo) {
                expect(await reopened.versionExists(v)).toBe(false);
                await expect(reopened.getImmutable(v)).rejects.toMatchObject({ code: 'ERR_VERSION_NOT_FOUND' });
                continue;
              }
              const view = await reopened.getImmutable(v);
              expect(toHex(view.hash)).toBe(expected[v - 1]!.hash);
              const leaves = (await lastValueFrom(reopened.export(v).pipe(toArray())))
                .filter((n) => n.height === 0)
                .map((n) => toHex(n.key) + toHex(n.value!))
                .join(',');
              expect(leaves).toBe(expected[v - 1]!.leaves);
              await reachable(reopened, v, live);
            }
            expect([...(await storedNodes(db))].sort()).toEqual([...live].sort());
            // The tree keeps working after pruning.
            await reopened.set(Uint8Array.of(200), Uint8Array.of(1));
            await reopened.saveVersion();
          } finally {
            await db.close();
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('refuses to prune the latest version or a pinned one', async () => {
    const db = await openDb();
    try {
      const tree = await IavlTree.open(db);
      for (let v = 1; v <= 3; v++) {
        await tree.set(Uint8Array.of(v), Uint8Array.of(v));
        await tree.saveVersion();
      }
      await expect(tree.deleteVersionsTo(3)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      const release = tree.ndb.pin(2);
      await expect(tree.deleteVersionsTo(2)).rejects.toMatchObject({ code: 'ERR_VERSION_PINNED' });
      expect(await tree.versionExists(1)).toBe(true);
      release();
      await tree.deleteVersionsTo(2);
      expect(await tree.versionExists(2)).toBe(false);
    } finally {
      await db.close();
    }
  });
});
