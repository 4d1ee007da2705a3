import { toHex } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import { FaultyLevel } from '../support/faulty-level.js';

const k = (n: number): Uint8Array => Uint8Array.of(0x6b, n);

describe('IAVL tree lifecycle (regressions)', () => {
  it('a failed saveVersion keeps the changes; the retry gives the reference hash', async () => {
    const faulty = new FaultyLevel(await openDb());
    const tree = await IavlTree.open(faulty.db as LevelDb, { cacheSize: 4 });
    const ref = await IavlTree.open(await openDb());
    for (let v = 1; v <= 6; v++) {
      for (let i = 0; i < 5; i++) { await tree.set(k((v * 7 + i) % 23), k(v)); await ref.set(k((v * 7 + i) % 23), k(v)); }
      await tree.remove(k(v)); await ref.remove(k(v));
      faulty.arm({ afterWrites: 1 });
      await expect(tree.saveVersion()).rejects.toThrow();
      faulty.disarm();
      await tree.set(k(99), k(v)); await ref.set(k(99), k(v));
      expect(toHex((await tree.saveVersion()).hash)).toBe(toHex((await ref.saveVersion()).hash));
    }
  });
  it('a view of a version pruned under it reads the old data or fails typed, never wrong data', async () => {
    const tree = await IavlTree.open(await openDb(), { cacheSize: 0 });
    for (let v = 1; v <= 6; v++) { for (let i = 0; i < 8; i++) await tree.set(k(i * 3 + v), k(v)); await tree.saveVersion(); }
    const view = await tree.getImmutable(2);
    const before = await Promise.all([...Array(30).keys()].map((i) => view.get(k(i))));
    await tree.deleteVersionsTo(4);
    for (let i = 0; i < 30; i++) {
      try { const got = await view.get(k(i)); expect(got && toHex(got)).toBe(before[i] && toHex(before[i]!)); }
      catch (e) { expect((e as { code: string }).code).toBe('ERR_NODE_MISSING'); }
    }
    await expect(tree.getImmutable(2)).rejects.toMatchObject({ code: 'ERR_VERSION_NOT_FOUND' });
  });
});
