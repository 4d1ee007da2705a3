import { fromHex } from '../../src/core/bytes.js';
import type { Changeset, StoreChanges } from '../../src/core/changeset.js';
import type { LevelDb } from '../../src/db/level-db.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { BACKENDS } from '../support/db.js';
import { b, cs, del, dump, errorOf, set } from './ss-support.js';

describe.each(BACKENDS)('StorageStore bad input on $name: typed errors with stable codes', ({ open }) => {
  let db: LevelDb;
  let cleanup: () => Promise<void>;
  let ss: StorageStore;
  beforeEach(async () => {
    ({ db, cleanup } = await open());
    ss = await StorageStore.open(db, { storeKeys: ['bank', 'acc'] });
    await ss.applyChangeset(3, cs(['bank', [set('k', 'v3')]]));
  });
  afterEach(async () => cleanup());

  it('unknown store key: ERR_UNKNOWN_STORE naming it, everywhere', async () => {
    const get = await errorOf(ss.get('nope', 3, b('k')));
    expect(get.code).toBe('ERR_UNKNOWN_STORE');
    expect(get.message).toMatch(/^store nope not found/);
    expect(get.details).toMatchObject({ storeKey: 'nope' });
    expect((await errorOf(ss.has('bank2', 3, b('k')))).code).toBe('ERR_UNKNOWN_STORE');
    expect((await errorOf(() => ss.iterator('ban', 3))).code).toBe('ERR_UNKNOWN_STORE');
    expect((await errorOf(() => ss.reverseIterator('Bank', 3))).code).toBe('ERR_UNKNOWN_STORE');
    const before = await dump(db);
    const apply = await errorOf(ss.applyChangeset(4, cs(['bank', [set('a', 'a')]], ['nope', [set('k', 'v')]])));
    expect(apply.code).toBe('ERR_UNKNOWN_STORE');
    expect(await dump(db)).toEqual(before);
    expect(ss.latestVersion).toBe(3);
  });

  it('malformed store keys: ERR_INVALID_ARGUMENT', async () => {
    expect((await errorOf(StorageStore.open(db, { storeKeys: [''] }))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await errorOf(StorageStore.open(db, { storeKeys: ['a\ud800'] }))).message).toMatch(/lone surrogate/);
    const open = await StorageStore.open(db);
    expect((await errorOf(open.get('', 1, b('k')))).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('applyChangeset at a version ≤ latest: ERR_NOT_GREATER naming both, nothing written', async () => {
    const before = await dump(db);
    for (const version of [3, 2, 1]) {
      const error = await errorOf(ss.applyChangeset(version, cs(['bank', [set('k', 'late'), set('new', 'x')]])));
      expect(error.code).toBe('ERR_NOT_GREATER');
      expect(error.message).toBe(`changeset version ${version} is not greater than latest version 3`);
      expect(error.details).toMatchObject({ version, latestVersion: 3 });
    }
    expect(await dump(db)).toEqual(before);
    expect(ss.latestVersion).toBe(3);
    expect(await ss.get('bank', 3, b('k'))).toEqual(b('v3'));
    expect(await ss.get('bank', 3, b('new'))).toBeUndefined();
  });

  it('two racing commits at the same version: exactly one wins', async () => {
    const results = await Promise.allSettled([
      ss.applyChangeset(4, cs(['bank', [set('k', 'first')]])),
      ss.applyChangeset(4, cs(['bank', [set('k', 'second')]])),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(((results[1] as PromiseRejectedResult).reason as { code: string }).code).toBe('ERR_NOT_GREATER');
    expect(await ss.get('bank', 4, b('k'))).toEqual(b('first'));
  });

  it('invalid versions: ERR_VERSION_RANGE', async () => {
    for (const version of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
      expect((await errorOf(ss.applyChangeset(version, cs()))).code).toBe('ERR_VERSION_RANGE');
    }
    for (const version of [-1, 0.5, Number.POSITIVE_INFINITY]) {
      expect((await errorOf(ss.get('bank', version, b('k')))).code).toBe('ERR_VERSION_RANGE');
      expect((await errorOf(() => ss.iterator('bank', version))).code).toBe('ERR_VERSION_RANGE');
    }
    expect((await errorOf(ss.beginRestore(0))).code).toBe('ERR_VERSION_RANGE');
    const above = await errorOf(ss.prune(4));
    expect(above.code).toBe('ERR_VERSION_RANGE');
    expect(above.message).toMatch(/prune to version 4: the latest version is 3/);
  });

  it('empty keys: ERR_EMPTY_KEY before anything is written', async () => {
    const before = await dump(db);
    const apply = await errorOf(ss.applyChangeset(4, cs(['bank', [set('ok', 'v'), set(new Uint8Array(0), 'v')]])));
    expect(apply.code).toBe('ERR_EMPTY_KEY');
    expect(apply.message).toMatch(/changeset 4 store bank pair 1/);
    expect((await errorOf(ss.applyChangeset(4, cs(['bank', [del(new Uint8Array(0))]])))).code).toBe('ERR_EMPTY_KEY');
    expect(await dump(db)).toEqual(before);
    expect(ss.latestVersion).toBe(3);
    expect((await errorOf(ss.get('bank', 3, new Uint8Array(0)))).code).toBe('ERR_EMPTY_KEY');
    expect((await errorOf(ss.has('bank', 3, new Uint8Array(0)))).code).toBe('ERR_EMPTY_KEY');
    const writer = await ss.clear().then(() => ss.beginRestore(5));
    expect((await errorOf(() => writer.add('bank', new Uint8Array(0), b('v')))).code).toBe('ERR_EMPTY_KEY');
    await writer.abort();
  });

  it('a set without a value, a delete with one, a non-boolean remove: ERR_INVALID_ARGUMENT', async () => {
    const before = await dump(db);
    const bad: Changeset[] = [
      { changes: [{ storeKey: 'bank', pairs: [{ key: b('k'), remove: false }] }] },
      { changes: [{ storeKey: 'bank', pairs: [{ key: b('k'), value: b('v'), remove: true }] }] },
      { changes: [{ storeKey: 'bank', pairs: [{ key: b('k'), value: b('v'), remove: 'no' as unknown as boolean }] }] },
      { changes: [{ storeKey: 'bank', pairs: [{ key: 'k' as unknown as Uint8Array, value: b('v'), remove: false }] }] },
      { changes: undefined as unknown as [] },
      // A null group, and a hole in a sparse array, are named, not skipped.
      { changes: [null as unknown as StoreChanges] },
      { changes: [, { storeKey: 'bank', pairs: [] }] as unknown as StoreChanges[] },
    ];
    for (const changeset of bad) {
      const error = await errorOf(ss.applyChangeset(4, changeset));
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect((await errorOf(ss.applyChangeset(4, bad[5]!))).message).toBe('changeset 4 group 0: storeKey must be a string');
    expect((await errorOf(ss.applyChangeset(4, bad[6]!))).message).toBe('changeset 4 group 0: storeKey must be a string');
    const noValue = await errorOf(ss.applyChangeset(4, bad[0]!));
    expect(noValue.message).toMatch(/set of key 6b has no value/);
    expect(noValue.details).toMatchObject({ version: 4, storeKey: 'bank', key: '6b' });
    expect(await dump(db)).toEqual(before);
  });

  it('empty or unordered iterator bounds (behaviour 43)', async () => {
    for (const make of [ss.iterator.bind(ss), ss.reverseIterator.bind(ss)]) {
      expect((await errorOf(() => make('bank', 3, new Uint8Array(0)))).code).toBe('ERR_EMPTY_KEY');
      expect((await errorOf(() => make('bank', 3, undefined, new Uint8Array(0)))).code).toBe('ERR_EMPTY_KEY');
      const unordered = await errorOf(() => make('bank', 3, b('b'), b('a')));
      expect(unordered.code).toBe('ERR_INVALID_ARGUMENT');
      expect(unordered.message).toBe('iterator start 62 is after end 61 in store bank');
      expect((await errorOf(() => make('bank', 3, fromHex('0000'), fromHex('00')))).code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect((await errorOf(ss.iterator('bank', 3).read(0))).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('reads of pruned versions: ERR_VERSION_PRUNED carrying earliest and requested (behaviour 44)', async () => {
    await ss.applyChangeset(4, cs(['bank', [set('k', 'v4')]]));
    await ss.applyChangeset(6, cs(['acc', [set('k', 'a6')]]));
    await ss.prune(4);
    for (const attempt of [
      () => ss.get('bank', 3, b('k')),
      () => ss.has('acc', 0, b('k')),
      () => ss.iterator('bank', 2),
      () => ss.reverseIterator('acc', 3, b('a'), b('z')),
    ]) {
      const error = await errorOf(attempt);
      expect(error.code).toBe('ERR_VERSION_PRUNED');
      expect(error.details).toMatchObject({ earliestVersion: 4 });
      expect(error.message).toMatch(/earliest available version is 4/);
    }
    const error = await errorOf(ss.get('bank', 3, b('k')));
    expect(error.message).toBe('version 3 of store bank is pruned: the earliest available version is 4 (requested 3)');
    expect(error.details).toEqual({ storeKey: 'bank', earliestVersion: 4, requestedVersion: 3 });
    expect(await ss.get('bank', 4, b('k'))).toEqual(b('v4'));
  });

  it('restore into a non-empty target or at a version ≤ latest (behaviour 19)', async () => {
    const notGreater = await errorOf(ss.beginRestore(3));
    expect(notGreater.code).toBe('ERR_NOT_GREATER');
    expect(notGreater.message).toBe('snapshot version 3 is not greater than latest version 3');
    expect(notGreater.details).toMatchObject({ version: 3, latestVersion: 3 });
    const notEmpty = await errorOf(ss.beginRestore(10));
    expect(notEmpty.code).toBe('ERR_IMPORT_NOT_EMPTY');
    expect(notEmpty.message).toMatch(/already holds data/);
  });

  it('a second restore, a clear or a commit during a restore: ERR_STATE', async () => {
    await ss.clear();
    const writer = await ss.beginRestore(10);
    expect((await errorOf(ss.beginRestore(11))).code).toBe('ERR_STATE');
    expect((await errorOf(ss.applyChangeset(11, cs()))).code).toBe('ERR_STATE');
    expect((await errorOf(ss.clear())).code).toBe('ERR_STATE');
    await writer.commit();
    expect((await errorOf(() => writer.add('bank', b('k'), b('v')))).code).toBe('ERR_STATE');
    expect((await errorOf(writer.flush())).code).toBe('ERR_STATE');
    expect((await errorOf(writer.abort())).code).toBe('ERR_STATE');
    await ss.applyChangeset(11, cs());
  });

  it('a closed store: ERR_CLOSED; a running prune stops and the next one finishes it', async () => {
    for (let v = 4; v <= 30; v++) await ss.applyChangeset(v, cs(['bank', [set('k', `v${v}`), set(`k${v % 3}`, 'x')]]));
    const other = await StorageStore.open(db, { prefix: 'other/' });
    const writer = await other.beginRestore(1);
    await other.close();
    expect((await errorOf(() => writer.add('bank', b('k'), b('v')))).code).toBe('ERR_CLOSED');
    expect((await errorOf(writer.commit())).code).toBe('ERR_CLOSED');
    const prune = ss.prune(25, { batchSize: 2 });
    await ss.close();
    const interrupted = await errorOf(prune);
    expect(interrupted.code).toBe('ERR_CLOSED');
    expect(interrupted.message).toMatch(/prune to version 25 interrupted/);
    const reopened = await StorageStore.open(db);
    expect(reopened.earliestVersion).toBe(25);
    expect((await reopened.prune(25)).deleted).toBeGreaterThan(0);
    expect(await reopened.get('bank', 25, b('k'))).toEqual(b('v25'));
    await ss.close();
    await ss.close();
    expect((await errorOf(ss.get('bank', 3, b('k')))).code).toBe('ERR_CLOSED');
    expect((await errorOf(ss.applyChangeset(4, cs()))).code).toBe('ERR_CLOSED');
    expect((await errorOf(() => ss.iterator('bank', 3))).code).toBe('ERR_CLOSED');
    expect((await errorOf(ss.prune(1))).code).toBe('ERR_CLOSED');
  });

  it('corrupt metadata: ERR_IO when opening', async () => {
    await db.put(b('m/latest'), fromHex('01'));
    const error = await errorOf(StorageStore.open(db));
    expect(error.code).toBe('ERR_IO');
    expect(error.message).toMatch(/metadata latest version has 1 bytes/);
  });
});
