import { lastValueFrom } from 'rxjs';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs, decodeChangeset, encodeChangeset, type Changeset } from '../../src/core/changeset.js';
import { StoreError } from '../../src/core/errors.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { RootStore } from '../../src/root/root-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { arrayReader } from './support.js';

/**
 * Empty keys and empty store names are refused with typed errors on every write path, and a
 * changeset carrying one changes nothing (it is validated as a whole before anything is written).
 */

const E = new Uint8Array(0);
const dbs: LevelDb[] = [];

async function memDb(): Promise<LevelDb> {
  const db = await openDb();
  dbs.push(db);
  return db;
}

afterAll(async () => {
  for (const db of dbs) await db.close();
});

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    expect(typeof error.code).toBe('string');
    return error.code;
  }
  return 'resolved';
}

/** A valid set, then a set of an empty key: the whole changeset must be refused. */
const mixed: Changeset = changesetFromPairs(2, [
  ['bank', utf8('good'), utf8('1')],
  ['bank', E, utf8('2')],
]).changeset;
const emptyDelete: Changeset = changesetFromPairs(2, [
  ['bank', utf8('good'), utf8('1')],
  ['bank', E, undefined],
]).changeset;

describe('empty keys and store names', () => {
  it('the changeset codec carries an empty key faithfully (refusing it is the stores’ job)', () => {
    expect(decodeChangeset(encodeChangeset(mixed))).toEqual(mixed);
  });

  it('LegacyStore: an empty key in a commit is ERR_EMPTY_KEY and nothing is committed', async () => {
    const v1 = await LegacyStore.open(await memDb(), { storeKeys: ['bank'] });
    await v1.commit(changesetFromPairs(1, [['bank', utf8('a'), utf8('1')]]).changeset);
    const hash = await v1.appHash();
    for (const cs of [mixed, emptyDelete]) {
      expect(await codeOf(v1.commit(cs))).toBe('ERR_EMPTY_KEY');
      expect(v1.latestVersion).toBe(1);
      expect(await v1.get('bank', utf8('good'))).toBeUndefined();
    }
    // Still usable, same state.
    const info = await v1.commit(changesetFromPairs(2, [['bank', utf8('b'), utf8('2')]]).changeset);
    expect(info.version).toBe(2);
    expect(toHex(await v1.appHash(1))).toBe(toHex(hash));
    expect(await codeOf(v1.getProof('bank', E))).toBe('ERR_EMPTY_KEY');
  });

  it('CommitStore: writeChangeset refuses an empty key atomically; getProof refuses it', async () => {
    const sc = await CommitStore.open(await memDb(), { storeKeys: ['bank'] });
    await sc.writeChangeset(changesetFromPairs(1, [['bank', utf8('a'), utf8('1')]]).changeset);
    await sc.commit(1);
    expect(await codeOf(sc.writeChangeset(mixed))).toBe('ERR_EMPTY_KEY');
    await sc.commit(2);
    expect(await sc.get('bank', 2, utf8('good'))).toBeUndefined();
    expect(await codeOf(sc.getProof('bank', 2, E))).toBe('ERR_EMPTY_KEY');
  });

  it('StorageStore: applyChangeset, get, iterator bounds and restore refuse empty keys', async () => {
    const ss = await StorageStore.open(await memDb(), { storeKeys: ['bank'] });
    await ss.applyChangeset(1, changesetFromPairs(1, [['bank', utf8('a'), utf8('1')]]).changeset);
    expect(await codeOf(ss.applyChangeset(2, mixed))).toBe('ERR_EMPTY_KEY');
    expect(await codeOf(ss.applyChangeset(2, emptyDelete))).toBe('ERR_EMPTY_KEY');
    expect(ss.latestVersion).toBe(1);
    expect(await ss.get('bank', 2, utf8('good'))).toBeUndefined();
    expect(await codeOf(ss.get('bank', 1, E))).toBe('ERR_EMPTY_KEY');
    expect(await codeOf(() => ss.iterator('bank', 1, E))).toBe('ERR_EMPTY_KEY');
    expect(await codeOf(() => ss.iterator('bank', 1, undefined, E))).toBe('ERR_EMPTY_KEY');
    const fresh = await StorageStore.open(await memDb(), { storeKeys: ['bank'] });
    const restore = lastValueFrom(fresh.restore(5, arrayReader([{ storeKey: 'bank', key: utf8('a'), value: utf8('1') }, { storeKey: 'bank', key: E, value: utf8('2') }])));
    expect(await codeOf(restore)).toBe('ERR_EMPTY_KEY');
    // The failed restore was wiped: nothing readable, a new restore may start.
    expect(fresh.latestVersion).toBe(0);
    await lastValueFrom(fresh.restore(5, arrayReader([{ storeKey: 'bank', key: utf8('a'), value: utf8('1') }])));
    expect(await fresh.get('bank', 5, utf8('a'))).toEqual(utf8('1'));
    await ss.close();
    await fresh.close();
  });

  it('empty or malformed store names are refused when opening every store', async () => {
    for (const storeKeys of [[''], ['bank', ''], ['a/b'], ['a\u0000'], ['bank', 'bank']]) {
      expect(await codeOf(LegacyStore.open(await memDb(), { storeKeys }))).toBe('ERR_INVALID_ARGUMENT');
      expect(await codeOf(CommitStore.open(await memDb(), { storeKeys }))).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(await codeOf(StorageStore.open(await memDb(), { storeKeys: [''] }))).toBe('ERR_INVALID_ARGUMENT');
    const ss = await StorageStore.open(await memDb());
    expect(await codeOf(ss.applyChangeset(1, changesetFromPairs(1, [['', utf8('k'), utf8('v')]]).changeset))).toBe('ERR_INVALID_ARGUMENT');
    await ss.close();
  });

  it('RootStore: an empty key in a commit is refused, before and after the switch, and v1 keeps serving', async () => {
    const v1db = await memDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: ['bank'] });
    for (let v = 1; v <= 3; v++) await v1.commit(changesetFromPairs(v, [['bank', utf8(`k${v}`), utf8(`v${v}`)]]).changeset);
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: ['bank'] }, v2: { db: await memDb() }, migrate: true, progressIntervalMs: 0 });
    expect(await codeOf(root.commit(changesetFromPairs(4, [['bank', E, utf8('x')]])))).toBe('ERR_EMPTY_KEY');
    expect(root.latestVersion).toBe(3);
    expect(root.phase).toBe('migrating');
    let v = 3;
    while (root.phase === 'migrating' && v < 50) {
      v++;
      await root.commit(changesetFromPairs(v, [['bank', utf8(`k${v}`), utf8(`v${v}`)]]));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(root.phase).toBe('switched');
    expect(await codeOf(root.commit(changesetFromPairs(v + 1, [['bank', E, utf8('x')]])))).toBe('ERR_EMPTY_KEY');
    expect(root.latestVersion).toBe(v);
    expect((await root.query('bank', utf8('k2'))).value).toEqual(utf8('v2'));
    expect(await codeOf(root.query('bank', E, { prove: true }))).toBe('ERR_EMPTY_KEY');
    await root.close();
  });
});
