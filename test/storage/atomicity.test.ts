import { fromHex, toHex } from '../../src/core/bytes.js';
import type { LevelDb } from '../../src/db/level-db.js';
import { decodeDataKey } from '../../src/storage/ss-key.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { BACKENDS } from '../support/db.js';
import { b, cs, del, dump, errorOf, set } from './ss-support.js';
import { spyOnBatches } from '../support/batch-spy.js';

/** Failure injection: {@link spyOnBatches} makes chosen batches reject, as a full disk or a closed database would. */
const injectBatchFailures = spyOnBatches;

describe.each(BACKENDS)('StorageStore atomicity on $name', ({ open }) => {
  let db: LevelDb;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ db, cleanup } = await open());
  });
  afterEach(async () => cleanup());

  it('writes a changeset and the latest version in ONE batch', async () => {
    const ss = await StorageStore.open(db, { prefix: 'ss/' });
    const spy = injectBatchFailures(db);
    await ss.applyChangeset(1, cs(['bank', [set('a', '1'), set('b', '2'), del('c')]], ['acc', [set('x', 'y')]]));
    expect(spy.calls).toHaveLength(1);
    const keys = (spy.calls[0] as { key: Uint8Array }[]).map((op) => Buffer.from(op.key).toString('latin1'));
    expect(keys).toHaveLength(5);
    expect(keys[4]).toBe('ss/m/latest');
  });

  it('a failed batch leaves nothing visible and the latest version unchanged', async () => {
    const ss = await StorageStore.open(db, { storeKeys: ['bank', 'acc'] });
    await ss.applyChangeset(1, cs(['bank', [set('a', 'a1'), set('b', 'b1')]]));
    const before = await dump(db);
    const spy = injectBatchFailures(db);
    spy.failNext();
    const error = await errorOf(
      ss.applyChangeset(2, cs(['bank', [set('a', 'a2'), del('b'), set('c', 'c2')]], ['acc', [set('x', 'y')]])),
    );
    expect(error.code).toBe('ERR_IO');
    expect(error.message).toMatch(/injected: disk full/);
    expect(ss.latestVersion).toBe(1);
    expect(await dump(db)).toEqual(before);
    for (const v of [1, 2, 99]) {
      expect(await ss.get('bank', v, b('a'))).toEqual(b('a1'));
      expect(await ss.get('bank', v, b('b'))).toEqual(b('b1'));
      expect(await ss.get('bank', v, b('c'))).toBeUndefined();
      expect(await ss.get('acc', v, b('x'))).toBeUndefined();
    }
    expect((await StorageStore.open(db)).latestVersion).toBe(1);
    // The same version can be applied once the disk is back.
    await ss.applyChangeset(2, cs(['bank', [set('a', 'a2')]]));
    expect(ss.latestVersion).toBe(2);
    expect(await ss.get('bank', 2, b('a'))).toEqual(b('a2'));
  });

  it('a failed restore flush fails the writer; abort wipes what earlier flushes wrote', async () => {
    const ss = await StorageStore.open(db);
    const spy = injectBatchFailures(db);
    const writer = await ss.beginRestore(7);
    writer.add('bank', b('a'), b('1'));
    await writer.flush();
    writer.add('bank', b('b'), b('2'));
    spy.failNext();
    expect((await errorOf(writer.flush())).code).toBe('ERR_IO');
    const failed = await errorOf(writer.commit());
    expect(failed.code).toBe('ERR_STATE');
    expect(failed.message).toMatch(/failed earlier \(.*disk full\); abort\(\) it/);
    expect(ss.latestVersion).toBe(0);
    await writer.abort();
    expect(await dump(db)).toEqual([]);
    expect(ss.pendingRestoreVersion).toBeUndefined();
    // A fresh restore works afterwards.
    const again = await ss.beginRestore(7);
    again.add('bank', b('a'), b('1'));
    await again.commit();
    expect(await ss.get('bank', 7, b('a'))).toEqual(b('1'));
  });

  it('a failed restore commit does not move the latest version', async () => {
    const ss = await StorageStore.open(db);
    const spy = injectBatchFailures(db);
    const writer = await ss.beginRestore(7);
    writer.add('bank', b('a'), b('1'));
    spy.failNext();
    expect((await errorOf(writer.commit())).code).toBe('ERR_IO');
    expect(ss.latestVersion).toBe(0);
    expect((await StorageStore.open(db)).latestVersion).toBe(0);
    await writer.abort();
    expect(await dump(db)).toEqual([]);
  });

  it('a prune that fails half-way never answers a read wrongly; running it again finishes', async () => {
    const ss = await StorageStore.open(db);
    for (let v = 1; v <= 20; v++) {
      await ss.applyChangeset(v, cs(['bank', [set(`k${v % 4}`, `v${v}`), v % 5 === 0 ? del(`k${(v + 1) % 4}`) : set('x', `${v}`)]]));
    }
    const expected = async () => {
      const out = [];
      for (let v = 12; v <= 20; v++) for (const k of ['k0', 'k1', 'k2', 'k3', 'x']) out.push(await ss.get('bank', v, b(k)));
      return out;
    };
    const before = await expected();
    const spy = injectBatchFailures(db);
    // The first batch (the new earliest version) succeeds, the second delete batch fails.
    spy.failAt(3);
    expect((await errorOf(ss.prune(12, { batchSize: 3 }))).code).toBe('ERR_IO');
    expect(ss.earliestVersion).toBe(12);
    expect((await StorageStore.open(db)).earliestVersion).toBe(12);
    expect((await errorOf(ss.get('bank', 11, b('x')))).code).toBe('ERR_VERSION_PRUNED');
    expect(await expected()).toEqual(before);
    spy.restore();
    expect(spy.calls.length).toBeGreaterThan(0);
    const leftovers = async () => {
      // Entries at or below 12 beyond the newest one per key (or a tombstone as that newest one).
      const perKey = new Map<string, number>();
      let extra = 0;
      for (const [key, value] of await dump(db)) {
        if (!key.startsWith('64')) continue;
        const decoded = decodeDataKey(fromHex(key));
        if (decoded.version > 12) continue;
        const name = toHex(decoded.key);
        perKey.set(name, (perKey.get(name) ?? 0) + 1);
        if (perKey.get(name)! > 1 || value === '00') extra++;
      }
      return extra;
    };
    expect(await leftovers()).toBeGreaterThan(0);
    // Earliest is already 12, but the unfinished marker makes the next prune finish the job.
    const reopened = await StorageStore.open(db);
    expect((await reopened.prune(12, { batchSize: 3 })).deleted).toBeGreaterThan(0);
    expect(await leftovers()).toBe(0);
    expect(await reopened.prune(12)).toEqual({ scanned: 0, deleted: 0 });
    expect(await expected()).toEqual(before);
    expect(await dump(db)).not.toContainEqual([toHex(b('m/pruning')), expect.anything()]);
  });
});
