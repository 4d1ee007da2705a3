import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { RootStore, type RootStoreOptions } from '../../src/root/root-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { scenarioChangeset } from '../support/changesets.js';
import { blockTime, tempDir } from '../support/db.js';
import { watchExportWorkers } from '../support/export-workers.js';

const STORES = ['bank', 'staking'];
const HEIGHT = 6;

/**
 * Opens a root store over a fresh store/v1 on disk (HEIGHT versions × 4 keys × 2 stores) with
 * `v1.exportWorker` = `exportWorker` (left out when undefined), migrates it to the switch, and
 * returns the export workers the migration started.
 */
async function migrateToSwitch(exportWorker: boolean | undefined): Promise<{ starts: number; running: number; threads: string[] }> {
  const dir = tempDir('rxsm-root-export-worker-');
  const v1db = await openDb(join(dir.path, 'application.db'));
  const v2db = await openDb(join(dir.path, 'v2.db'));
  const watch = watchExportWorkers();
  let root: RootStore | undefined;
  try {
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
    for (let v = 1; v <= HEIGHT; v++) await v1.commit(scenarioChangeset(v, 4, STORES).changeset);
    const options: RootStoreOptions = {
      v1: { db: v1db, storeKeys: STORES, ...(exportWorker === undefined ? {} : { exportWorker }) },
      v2: { db: v2db },
      migrate: true,
      batchSize: 16,
    };
    root = await RootStore.open(options);
    expect(root.phase).toBe('migrating');
    while (root.phase === 'migrating' && root.latestVersion < HEIGHT + 50) {
      await root.commit(scenarioChangeset(root.latestVersion + 1, 2, STORES));
      await blockTime(root);
    }
    expect(root.phase).toBe('switched');
    // The migrated snapshot is served from store/v2 now.
    expect((await root.query('bank', utf8('key-3-1'))).value).toEqual(utf8('value-3-1'));
    return { starts: watch.starts.mock.calls.length, running: await watch.running(), threads: watch.threads() };
  } finally {
    watch.restore();
    await root?.close();
    await v1db.close();
    await v2db.close();
    dir.cleanup();
  }
}

describe('RootStoreOptions.v1.exportWorker', () => {
  it('by default, the migration reads store/v1 on exactly one export worker thread', async () => {
    const seen = await migrateToSwitch(undefined);
    expect(seen.starts).toBe(1);
    expect(seen.running).toBe(1);
    expect(seen.threads).toHaveLength(1);
    expect(seen.threads[0]).toMatch(/\/v1\/export-worker\.js\b/);
  });

  it('with exportWorker: false, the migration to the switch starts no worker thread', async () => {
    const seen = await migrateToSwitch(false);
    expect(seen.starts).toBe(0);
    expect(seen.threads).toEqual([]);
  });
});
