import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { scenarioChangeset } from '../support/changesets.js';
import { tempDir } from '../support/db.js';

const STORES = ['bank', 'staking'];

/** store/v1 at version 4, migrated (SC and SS) at 4 by a manager that is returned open. */
async function migratedAt4(v1db: LevelDb, v2db: LevelDb) {
  const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
  for (let v = 1; v <= 4; v++) await v1.commit(scenarioChangeset(v, 4, STORES).changeset);
  const sc = await CommitStore.open(v2db, { storeKeys: STORES, prefix: 'sc/' });
  const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
  const manager = new MigrationManager({ db: v2db, logPrefix: utf8('log/'), snapshots: new SnapshotManager(v1), ss, sc });
  await manager.migrate(4);
  return { v1, sc, ss, manager };
}

it('MigrationManager.close() during sync(): no SS or SC write is issued after close() returned', async () => {
  const dir = tempDir('rxsm-sync-');
  const v1db = await openDb(join(dir.path, 'application.db'));
  const v2db = await openDb(join(dir.path, 'v2.db'));
  try {
    const { v1, sc, ss, manager } = await migratedAt4(v1db, v2db);
    for (let v = 5; v <= 30; v++) {
      const entry = scenarioChangeset(v, 4, STORES);
      await v1.commit(entry.changeset);
      await manager.log.append(entry);
    }
    let closed = false;
    const late: number[] = [];
    const apply = ss.applyChangeset.bind(ss);
    jest.spyOn(ss, 'applyChangeset').mockImplementation((v, cs) => {
      if (closed) late.push(v);
      return apply(v, cs);
    });
    const syncing = manager.sync().catch((e: unknown) => String(e));
    await new Promise((r) => setImmediate(r));
    await manager.close();
    closed = true;
    expect(await syncing).toContain('closed during sync');
    expect(late).toEqual([]);
  } finally {
    await v1db.close();
    await v2db.close();
    dir.cleanup();
  }
});

it('MigrationManager.sync() and migrate() after close() reject ERR_CLOSED and write nothing', async () => {
  const v1db = await openDb();
  const v2db = await openDb();
  try {
    const { v1, sc, ss, manager } = await migratedAt4(v1db, v2db);
    for (let v = 5; v <= 6; v++) await manager.log.append(scenarioChangeset(v, 4, STORES));
    await manager.close();
    const code = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: { code?: string }) => error.code);
    expect([await code(manager.sync()), await code(manager.migrate(4))]).toEqual(['ERR_CLOSED', 'ERR_CLOSED']);
    expect([sc.latestVersion, ss.latestVersion]).toEqual([4, 4]);
  } finally {
    await v1db.close();
    await v2db.close();
  }
});
