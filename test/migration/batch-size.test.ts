import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { scenarioChangeset } from '../support/changesets.js';

const STORES = ['bank', 'staking'];

describe('an invalid batch size is a typed error, never an empty restore', () => {
  it.each([-1, -2048])('MigrationManager batchSize %p (SS only)', async (batchSize) => {
    const v1db = await openDb();
    const v2db = await openDb();
    try {
      const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
      for (let v = 1; v <= 5; v++) await v1.commit(scenarioChangeset(v, 4, STORES).changeset);
      const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
      const manager = new MigrationManager({ db: v2db, logPrefix: utf8('log/'), snapshots: new SnapshotManager(v1), ss, sc: null, batchSize });
      const outcome = await manager.migrate(5).then(
        (restored) => ({ restored: restored.keys, ssLatest: ss.latestVersion }),
        (error: { code?: string }) => ({ code: error.code }),
      );
      expect(outcome).toEqual({ code: 'ERR_INVALID_ARGUMENT' });
    } finally {
      await v1db.close();
      await v2db.close();
    }
  });
});
