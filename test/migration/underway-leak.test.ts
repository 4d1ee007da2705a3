import { join } from 'node:path';
import { NEVER, Subject } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import type { VersionedChangeset } from '../../src/core/changeset.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { scenarioChangeset } from '../support/changesets.js';
import { tempDir } from '../support/db.js';

const STORES = ['bank', 'staking'];
const turn = () => new Promise((resolve) => setImmediate(resolve));

it('MigrationManager keeps nothing under way across many stopped, failed and finished runs', async () => {
  const dir = tempDir('rxsm-leak-');
  const v1db = await openDb(join(dir.path, 'application.db'));
  const v2db = await openDb(join(dir.path, 'v2.db'));
  try {
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 6; v++) await v1.commit(scenarioChangeset(v, 30, STORES).changeset);
    const sc = await CommitStore.open(v2db, { storeKeys: STORES, prefix: 'sc/' });
    const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
    const manager = new MigrationManager({ db: v2db, logPrefix: utf8('log/'), snapshots: new SnapshotManager(v1, { batchSize: 8 }), ss, sc, batchSize: 8 });
    const size = () => (manager as unknown as { inFlight: { pending: Set<unknown> } }).inFlight.pending.size;
    const sizes: number[] = [];
    for (let i = 0; i < 30; i++) {
      // stopped after i turns (a restore batch, the inspection, or a catch-up step under way)
      const commits$ = new Subject<VersionedChangeset>();
      const sub = manager.start(6, commits$, NEVER).subscribe({ error: () => undefined });
      for (let t = 0; t < i * 3; t++) await turn();
      sub.unsubscribe();
      for (let t = 0; t < 1000 && size() > 0; t++) await new Promise((r) => setTimeout(r, 2));
      sizes.push(size());
    }
    // a failing run: the height is below what the targets hold once restored
    for (let i = 0; i < 10; i++) {
      await manager.migrate(3).catch(() => undefined);
      for (let t = 0; t < 1000 && size() > 0; t++) await new Promise((r) => setTimeout(r, 2));
      sizes.push(size());
    }
    expect(sizes.filter((s) => s !== 0)).toEqual([]);
    await manager.close();
    expect(size()).toBe(0);
  } finally {
    await v1db.close();
    await v2db.close();
    dir.cleanup();
  }
});
