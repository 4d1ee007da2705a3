import type { LevelDb } from '../../src/db/level-db.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { BACKENDS } from '../support/db.js';
import { spyOnBatches } from '../support/batch-spy.js';
import { b, cs, dump, errorOf, set } from './ss-support.js';

/**
 * Lifecycle edges of the State Storage: a clear that stops half-way, iterators open when the
 * store closes, and a restore writer handle used after it was suspended.
 */
describe.each(BACKENDS)('StorageStore lifecycle on $name', ({ open }) => {
  let db: LevelDb;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ db, cleanup } = await open());
  });
  afterEach(async () => cleanup());

  const fill = async (ss: StorageStore): Promise<void> => {
    for (let v = 1; v <= 3; v++) await ss.applyChangeset(v, cs(['bank', [set(`k${v}`, `old${v}`)]]));
  };

  it.each([
    ['in the same process', false],
    ['after a restart', true],
  ])('a clear that stopped half-way never lets a later commit expose pre-clear values (%s)', async (_name, restart) => {
    let ss = await StorageStore.open(db, { prefix: 'ss/' });
    await fill(ss);
    const spy = spyOnBatches(db);
    spy.failAt(2); // the metadata batch lands, the first data batch does not (crash, full disk)
    expect((await errorOf(ss.clear())).code).toBe('ERR_IO');
    spy.restore();
    if (restart) ss = await StorageStore.open(db, { prefix: 'ss/' });
    expect(ss.latestVersion).toBe(0);
    // The store refuses commits until the clear is finished: the leftovers would reappear under them.
    expect((await errorOf(ss.applyChangeset(1, cs(['bank', [set('fresh', 'f')]])))).code).toBe('ERR_STATE');
    expect(ss.pendingClear).toBe(true);
  });

  it('an unfinished clear is reported and finished by the next clear(); then commits and restores work', async () => {
    const ss = await StorageStore.open(db, { prefix: 'ss/' });
    await fill(ss);
    const spy = spyOnBatches(db);
    spy.failAt(2);
    await errorOf(ss.clear());
    spy.restore();
    const reopened = await StorageStore.open(db, { prefix: 'ss/' });
    expect(reopened.pendingClear).toBe(true);
    const refused = await errorOf(reopened.applyChangeset(1, cs(['bank', [set('fresh', 'f')]])));
    expect(refused.code).toBe('ERR_STATE');
    expect(refused.message).toMatch(/unfinished clear/);
    expect((await errorOf(reopened.beginRestore(5))).code).toBe('ERR_STATE');
    await reopened.clear();
    expect(reopened.pendingClear).toBe(false);
    expect(await dump(db)).toEqual([]);
    const writer = await reopened.beginRestore(5);
    writer.add('bank', b('a'), b('1'));
    await writer.commit();
    expect(await reopened.get('bank', 5, b('k1'))).toBeUndefined();
    expect(await reopened.get('bank', 5, b('a'))).toEqual(b('1'));
  });

  it('closing the store fails an iteration under way with ERR_CLOSED instead of ending it early', async () => {
    const ss = await StorageStore.open(db);
    const pairs = Array.from({ length: 300 }, (_, i) => set(`k${String(i).padStart(3, '0')}`, 'v'));
    await ss.applyChangeset(1, cs(['bank', pairs]));
    for (const reverse of [false, true]) {
      const store = reverse ? await StorageStore.open(db) : ss;
      const it = reverse ? store.reverseIterator('bank', 1) : store.iterator('bank', 1);
      expect(await it.read(10)).toHaveLength(10);
      // Forward: the close lands while the read is queued; reverse: before the read.
      const reading = reverse ? undefined : it.read(10);
      await store.close();
      expect((await errorOf(reading ?? it.read(10))).code).toBe('ERR_CLOSED');
      expect((await errorOf(it.read(10))).code).toBe('ERR_CLOSED');
    }
    // A `for await` consumer must not mistake the close for the end of the range.
    const other = await StorageStore.open(db);
    const seen: Uint8Array[] = [];
    const loop = (async () => {
      for await (const [key] of other.iterator('bank', 1)) {
        seen.push(key);
        if (seen.length === 10) await other.close();
      }
    })();
    const error = await errorOf(loop);
    expect(error.code).toBe('ERR_CLOSED');
    expect(seen).toHaveLength(128); // the batch read before the close (ITERATION_BATCH)
    // An iterator the caller closed itself still reads as empty.
    const third = await StorageStore.open(db);
    const mine = third.iterator('bank', 1);
    await mine.close();
    expect(await mine.read(5)).toEqual([]);
  });

  it('abort() of a suspended writer cannot wipe the restore a resumed writer continues', async () => {
    const ss = await StorageStore.open(db, { prefix: 'ss/' });
    const keys = Array.from({ length: 20 }, (_, i) => b(`key-${String(i).padStart(2, '0')}`));
    const first = await ss.beginRestore(5);
    for (const k of keys.slice(0, 10)) first.add('bank', k, k);
    await first.flush();
    first.suspend();
    const resumed = await ss.resumeRestore(5);
    expect(resumed.resumedKeys).toBe(10);
    // Cleanup code still holding the first handle aborts it.
    expect((await errorOf(first.abort())).code).toBe('ERR_STATE');
    for (const k of keys.slice(10)) resumed.add('bank', k, k);
    await resumed.commit();
    expect(ss.latestVersion).toBe(5);
    const missing = [];
    for (const k of keys) if ((await ss.get('bank', 5, k)) === undefined) missing.push(Buffer.from(k).toString());
    expect(missing).toEqual([]);
  });

  it('abort() of a suspended writer cannot delete data committed after the store was cleared', async () => {
    const ss = await StorageStore.open(db, { prefix: 'ss/' });
    const stale = await ss.beginRestore(5);
    stale.add('bank', b('x'), b('1'));
    await stale.flush();
    stale.suspend();
    await ss.clear();
    await fill(ss);
    expect((await errorOf(stale.abort())).code).toBe('ERR_STATE');
    expect(ss.latestVersion).toBe(3);
    expect(await ss.get('bank', 3, b('k1'))).toEqual(b('old1'));
  });
});
