import { join } from 'node:path';
import { filter, firstValueFrom, NEVER } from 'rxjs';
import { fromUtf8, utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { RootStore } from '../../src/root/root-store.js';
import { scenarioChangeset } from '../support/changesets.js';
import { commitPastSwitch, tempDir } from '../support/db.js';

const STORES = ['bank', 'staking'];
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('a stopped run\'s inspection (the wipe it starts with)', () => {
  it('MigrationManager.close() returns only after the stopped run\'s SC wipe settled, and a run stopped before its turn wipes nothing', async () => {
    const dir = tempDir('rxsm-insp-');
    const v1db = await openDb(join(dir.path, 'application.db'));
    const v2db = await openDb(join(dir.path, 'v2.db'));
    try {
      const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
      for (let v = 1; v <= 4; v++) await v1.commit(scenarioChangeset(v, 4, STORES).changeset);
      const sc = await CommitStore.open(v2db, { storeKeys: STORES, prefix: 'sc/' });
      const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
      const manager = new MigrationManager({ db: v2db, logPrefix: utf8('log/'), snapshots: new SnapshotManager(v1), ss, sc });
      const clear = sc.clear.bind(sc);
      let closed = false;
      const late: string[] = [];
      jest.spyOn(sc, 'clear').mockImplementation(async () => {
        if (closed) late.push('clear started after close() returned');
        await clear();
        if (closed) late.push('clear ended after close() returned');
      });
      const subscription = manager.start(4, NEVER, NEVER).subscribe({ error: () => undefined });
      subscription.unsubscribe();
      await manager.close();
      closed = true;
      for (let i = 0; i < 50; i++) await turn();
      expect(late).toEqual([]);
    } finally {
      await v1db.close();
      await v2db.close();
      dir.cleanup();
    }
  });

  it('RootStore.abandonMigration() waits for the abandoned run\'s SC wipe; it cannot land after the next migration restored', async () => {
    const v1db = await openDb();
    const v2db = await openDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
    for (let v = 1; v <= 6; v++) await v1.commit(scenarioChangeset(v, 8, STORES).changeset);
    // The first SC wipe (the first run's requireEmpty) is slow: held until released.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const original = CommitStore.prototype.clear;
    let calls = 0;
    let held: Promise<void> | undefined;
    const spy = jest.spyOn(CommitStore.prototype, 'clear').mockImplementation(function (this: CommitStore) {
      if (calls++ === 0) return (held = gate.then(() => original.call(this)));
      return original.call(this);
    });
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db }, migrate: true });
    try {
      for (let i = 0; i < 1000 && held === undefined; i++) await turn();
      expect(held).toBeDefined();
      let returned = false;
      const abandoning = root.abandonMigration().then(() => void (returned = true));
      for (let i = 0; i < 200 && !returned; i++) await turn();
      const waited = !returned;
      if (waited) release();
      await abandoning;
      await root.commit(scenarioChangeset(7, 8, STORES));
      await root.commit(scenarioChangeset(8, 8, STORES));
      await root.loadVersion();
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored' || ev.type === 'migrationFailed')));
      release();
      await held;
      const commitError = await commitPastSwitch(root, 9, STORES);
      const value = root.phase === 'switched' ? await root.query('bank', utf8('key-1-0'), { prove: true }).then((r) => r.value && fromUtf8(r.value), (e: unknown) => String(e)) : undefined;
      const failed = root.phase === 'failed' ? await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'migrationFailed'))) : undefined;
      expect({ waited, commitError, phase: root.phase, value, failed: failed && String((failed as { error: unknown }).error) }).toEqual({ waited: true, commitError: undefined, phase: 'switched', value: 'value-1-0', failed: undefined });
    } finally {
      spy.mockRestore();
      release();
      await root.close();
      await v1db.close();
      await v2db.close();
    }
  });
});
