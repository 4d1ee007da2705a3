import { from, lastValueFrom, toArray } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { restoreSnapshot } from '../../src/migration/operators/restore-snapshot.js';
import { restoreSinks } from '../../src/migration/restore-effects.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { errorOf } from '../support/errors.js';

/**
 * The restore's checks of the snapshot hold with and without an SC (behaviour 17): an SS-only
 * migration has no importer to refuse a bad tree, so the restore itself refuses it.
 */
const leaf = (key: string): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: utf8(`v-${key}`), version: 1, height: 0 });
const inner = (key: string, height: number): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: new Uint8Array(0), version: 1, height });

describe.each([
  ['with an SC', true],
  ['SS only', false],
])('restoreSinks + restoreSnapshot (%s)', (_name, withSc) => {
  async function restore(stream: SnapshotItem[]) {
    const db = await openDb();
    const sc = withSc ? await CommitStore.open(db, { storeKeys: ['bank'], prefix: 'sc/' }) : null;
    const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: ['bank'] });
    const sinks = restoreSinks({ height: 1, sc, ss, source: undefined, batchSize: 2 });
    const error = await errorOf(lastValueFrom(from(stream).pipe(restoreSnapshot(sinks), toArray())));
    const latest = { sc: sc?.latestVersion ?? null, ss: ss.latestVersion };
    await db.close();
    return { error, latest };
  }

  it('refuses a node height above 127, naming the item and the store; nothing is recorded', async () => {
    const { error, latest } = await restore([{ kind: 'store', name: 'bank' }, leaf('a'), leaf('b'), inner('b', 200)]);
    expect(error.code).toBe('ERR_IMPORT_HEIGHT');
    expect(error.message).toBe('snapshot item 4 (store bank): height 200 is outside 0..127');
    expect(latest).toEqual({ sc: withSc ? 0 : null, ss: 0 });
  });

  it('refuses a store the targets do not hold, even one without leaves', async () => {
    const { error, latest } = await restore([{ kind: 'store', name: 'bank' }, leaf('a'), { kind: 'store', name: 'gov' }, inner('x', 3)]);
    expect(error.code).toBe('ERR_UNKNOWN_STORE');
    expect(error.message).toBe('store gov not found (known stores: bank)');
    expect(latest).toEqual({ sc: withSc ? 0 : null, ss: 0 });
  });
});
