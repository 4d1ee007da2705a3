import { toHex } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';

const k = (n: number): Uint8Array => Uint8Array.of(0x6b, n);
const cs = (v: number, stores: string[]) => ({ changes: stores.map((s) => ({ storeKey: s, pairs: [{ key: k(v), value: k(v), remove: false }] })) });

describe('CommitStore lifecycle', () => {
  it('clear() keeps the configured node cache size', async () => {
    const sc = await CommitStore.open(await openDb(), { storeKeys: ['a'], cacheSize: 10 });
    const before = sc.tree('a').ndb.cacheKeeps;
    await sc.clear();
    expect(sc.tree('a').ndb.cacheKeeps).toBe(before);
  });

  it('loadVersion(older) makes it the latest: the same writes commit again with the same hashes', async () => {
    const sc = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b'] });
    const hashes: string[] = [];
    for (let v = 1; v <= 3; v++) {
      await sc.writeChangeset(cs(v, ['a', 'b']));
      await sc.commit(v);
      hashes.push(toHex(await sc.appHash(v)));
    }
    await sc.loadVersion(2);
    expect(sc.latestVersion).toBe(2);
    await sc.writeChangeset(cs(3, ['a', 'b']));
    expect(toHex(await sc.appHash((await sc.commit(3)).version))).toBe(hashes[2]);
    await sc.writeChangeset(cs(4, ['a']));
    expect((await sc.commit(4)).version).toBe(4);
  });

  it('a changeset staged while a commit runs is refused, not half committed and half lost', async () => {
    const sc = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b'] });
    await sc.writeChangeset(cs(1, ['a']));
    const commit = sc.commit(1);
    const write = sc.writeChangeset(cs(2, ['a', 'b']));
    const [committed, written] = await Promise.allSettled([commit, write]);
    expect(committed.status).toBe('fulfilled');
    expect(written).toMatchObject({ status: 'rejected', reason: { code: 'ERR_STATE' } });
    expect([await sc.get('a', 1, k(2)), await sc.get('b', 1, k(2))]).toEqual([undefined, undefined]);
  });

  it('a rollback while a changeset is being staged is refused, not half rolled back', async () => {
    const sc = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b'], cacheSize: 0 });
    for (let v = 1; v <= 3; v++) {
      await sc.writeChangeset(cs(v, ['a', 'b']));
      await sc.commit(v);
    }
    // Rollbacks during the staging (it reads nodes: at the 12th step store a was staged, store b
    // not yet, and a rollback then committed half of the changeset).
    const write = sc.writeChangeset(cs(9, ['a', 'b']));
    const outcomes = new Set<string>();
    for (let step = 0; step <= 12; step++) {
      try {
        sc.rollback();
        outcomes.add('rolled back');
      } catch (error) {
        outcomes.add((error as { code?: string }).code ?? String(error));
      }
      await Promise.resolve();
    }
    await write;
    expect([...outcomes]).toEqual(['ERR_STATE']);
    await sc.commit(4);
    expect([await sc.get('a', 4, k(9)), await sc.get('b', 4, k(9))]).toEqual([k(9), k(9)]);
  });

  it.each(['loadVersion', 'clear'] as const)('%s while a commit runs is refused; the commit stays the latest version', async (op) => {
    const sc = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b'] });
    for (let v = 1; v <= 3; v++) {
      await sc.writeChangeset(cs(v, ['a', 'b']));
      await sc.commit(v);
    }
    await sc.writeChangeset(cs(4, ['a', 'b']));
    const commit = sc.commit(4);
    const refused = op === 'clear' ? sc.clear() : sc.loadVersion(3);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_STATE' });
    expect((await commit).version).toBe(4);
    expect(sc.latestVersion).toBe(4);
    await sc.writeChangeset(cs(5, ['a']));
    expect((await sc.commit(5)).version).toBe(5);
    expect(await sc.get('b', 5, k(4))).toEqual(k(4));
  });
});
