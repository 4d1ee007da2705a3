import { lastValueFrom, toArray } from 'rxjs';
import { toHex } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';

const k = (n: number): Uint8Array => Uint8Array.of(0x6b, n);

/** Source: writes in versions 1..6, none in 7..10 (its root at 10 is node version 6). */
async function source(): Promise<IavlTree> {
  const tree = await IavlTree.open(await openDb());
  for (let v = 1; v <= 10; v++) {
    if (v <= 6) for (let i = 0; i < 4; i++) await tree.set(k(v * 4 + i), k(v));
    await tree.saveVersion();
  }
  return tree;
}

describe('IAVL import, then prune', () => {
  it('an imported tree does not claim the root node version as a version, and prunes', async () => {
    const src = await source();
    const nodes = await lastValueFrom(src.export(10).pipe(toArray()));
    const tree = await IavlTree.open(await openDb());
    const importer = await tree.importer(10);
    for (const n of nodes) await importer.add(n);
    await importer.commit();
    for (let v = 11; v <= 12; v++) {
      await tree.set(k(200 + v), k(v));
      await src.set(k(200 + v), k(v));
      expect(toHex((await tree.saveVersion()).hash)).toBe(toHex((await src.saveVersion()).hash));
    }
    // Version 6 was never imported: only 10, 11, 12 exist here.
    // (versionExists(6) is true, as in Go: the imported root is stored at (6, 1).)
    const first = await tree.firstVersion(); // 6 here (Go: the same binary search)
    await tree.deleteVersionsTo(11);
    expect(await tree.firstVersion()).toBe(12);
    expect(toHex((await tree.getImmutable(12)).hash)).toBe(toHex((await src.getImmutable(12)).hash));
  });
});

describe('SC restored from a snapshot, then pruned', () => {
  it('reports the restored height as earliest and prunes past it', async () => {
    const { CommitStore } = await import('../../src/commitment/commit-store.js');
    const cs = (v: number, stores: string[]) => ({ changes: stores.map((s) => ({ storeKey: s, pairs: [{ key: k(v), value: k(v), remove: false }] })) });
    const src = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b'] });
    for (let v = 1; v <= 10; v++) {
      await src.writeChangeset(cs(v, v <= 6 ? ['a', 'b'] : ['a'])); // store b unchanged after 6
      await src.commit(v);
    }
    const dst = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b'] });
    const reader = await src.snapshotReader(10);
    await dst.restore(10, reader);
    await reader.close();
    expect(await dst.earliestVersion()).toBe(10);
    for (let v = 11; v <= 12; v++) {
      await src.writeChangeset(cs(v, ['a', 'b']));
      await dst.writeChangeset(cs(v, ['a', 'b']));
      await src.commit(v);
      expect(toHex(await dst.appHash((await dst.commit(v)).version))).toBe(toHex(await src.appHash(v)));
    }
    await dst.prune(11);
    expect(await dst.earliestVersion()).toBe(12);
    expect(toHex(await dst.storeRoot('b', 12))).toBe(toHex(await src.storeRoot('b', 12)));
  });
});
