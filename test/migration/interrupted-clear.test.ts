import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { scenarioChangeset } from '../support/changesets.js';
import { errorOf } from '../support/errors.js';
import { spyOnBatches } from '../support/batch-spy.js';

const STORES = ['bank', 'gov'];

describe('MigrationManager after a wipe of a stale SS restore stopped half-way', () => {
  it('finishes the wipe on the next run instead of failing with ERR_IMPORT_NOT_EMPTY forever', async () => {
    const v1db = await openDb();
    const v2db = await openDb();
    try {
      const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
      for (let v = 1; v <= 3; v++) await v1.commit(scenarioChangeset(v, 2, STORES).changeset);
      // An earlier run at height 2 made some pairs durable, then the process stopped.
      const ss = await StorageStore.open(v2db, { prefix: 'ss/' });
      const stale = await ss.beginRestore(2);
      for (const k of ['a', 'b', 'c']) stale.add('bank', utf8(k), utf8(k));
      await stale.flush();
      stale.suspend();
      // A run at height 3 wipes it (the pending height differs); the wipe's data batch fails
      // (a crash would stop it at the same point).
      const spy = spyOnBatches(v2db);
      spy.failAt(2);
      const manager = new MigrationManager({ db: v1db, snapshots: new SnapshotManager(v1), ss, sc: null });
      expect((await errorOf(manager.migrate(3))).code).toBe('ERR_IO');
      spy.restore();
      await manager.close();
      // Restart.
      const ss2 = await StorageStore.open(v2db, { prefix: 'ss/' });
      const again = new MigrationManager({ db: v1db, snapshots: new SnapshotManager(v1), ss: ss2, sc: null });
      const restored = await again.migrate(3).catch((error: unknown) => error);
      expect(restored).toMatchObject({ type: 'restored', version: 3 });
      expect(ss2.latestVersion).toBe(3);
      expect(await ss2.get('bank', 3, utf8('a'))).toBeUndefined();
      await again.close();
    } finally {
      await v1db.close();
      await v2db.close();
    }
  });
});
