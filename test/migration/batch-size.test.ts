import { lastValueFrom, of } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import { pullThrough } from '../../src/core/pull.js';
import { openDb } from '../../src/db/level-db.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { RootStore } from '../../src/root/root-store.js';
import { errorOf } from '../support/errors.js';

const STORES = ['bank', 'staking'];
// 0 and NaN once fell back to the default; a negative size read nothing and restored an empty SS.
const BAD = [-1, -2048, 0, Number.NaN, 1.5];

describe('an invalid batch size is a typed error, never a default or an empty restore', () => {
  it.each(BAD)('MigrationManager, SnapshotManager and RootStore refuse batchSize %p', async (batchSize) => {
    const v1db = await openDb();
    const v2db = await openDb();
    try {
      const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
      const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
      const snapshots = new SnapshotManager(v1);
      const refusal = async (what: string, make: () => unknown) => {
        try {
          const made = await make();
          if (made instanceof RootStore) await made.close();
          return `${what}: accepted`;
        } catch (error) {
          return `${what}: ${(error as { code?: string }).code} ${(error as Error).message}`;
        }
      };
      const outcomes = [
        await refusal('MigrationManager', () => new MigrationManager({ db: v2db, logPrefix: utf8('log/'), snapshots, ss, sc: null, batchSize })),
        await refusal('MigrationManager', () => new MigrationManager({ db: v2db, snapshots, ss, sc: null, trimEvery: batchSize })),
        await refusal('SnapshotManager', () => new SnapshotManager(v1, { batchSize })),
        await refusal('RootStore', () => RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db }, batchSize })),
      ];
      const refused = (who: string, what: string) => `${who}: ERR_INVALID_ARGUMENT ${what} ${String(batchSize)} must be a whole number, at least 1`;
      expect(outcomes).toEqual([refused('MigrationManager', 'batchSize'), refused('MigrationManager', 'trimEvery'), refused('SnapshotManager', 'batchSize'), refused('RootStore', 'batchSize')]);
    } finally {
      await v1db.close();
      await v2db.close();
    }
  });

  it.each([-1, 0, Number.NaN])('pullThrough with batch size %p is an error notification, not a throw or an empty stream', async (batchSize) => {
    let observable: ReturnType<typeof pullThrough> | undefined;
    expect(() => (observable = pullThrough(() => of([1, 2, 3]), (batch) => of(batch.length), batchSize))).not.toThrow();
    expect((await errorOf(lastValueFrom(observable!))).code).toBe('ERR_INVALID_ARGUMENT');
  });
});
