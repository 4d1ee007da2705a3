import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { randomHistory } from '../support/changesets.js';

async function v1With(versions: number) {
  const db = await openDb();
  const v1 = await LegacyStore.open(db, { storeKeys: ['bank', 'acc'] });
  for (const { changeset } of randomHistory(4, versions, ['bank', 'acc'])) await v1.commit(changeset);
  return { db, v1 };
}

describe('SnapshotManager (behaviours 13, 14, 16)', () => {
  it('holds the lock from a migration snapshot until endMigration, which hands snapshots to the new SC', async () => {
    const { db, v1 } = await v1With(5);
    try {
      const snapshots = new SnapshotManager(v1, { batchSize: 8 });
      const items = await lastValueFrom(snapshots.createMigration(5).pipe(toArray()));
      expect(items[0]).toEqual({ kind: 'store', name: 'acc' });
      expect(snapshots.isMigrating).toBe(true);
      await expect(firstValueFrom(snapshots.createSnapshot(5))).rejects.toMatchObject({
        code: 'ERR_SNAPSHOT_CONFLICT',
        message: expect.stringMatching(/migration snapshot at height 5 is in progress/),
      });
      const sc = await CommitStore.open(db, { storeKeys: ['bank', 'acc'], prefix: 'sc/' });
      await sc.restore(5, await v1.snapshotReader(5));
      snapshots.endMigration(sc);
      expect(snapshots.isMigrating).toBe(false);
      expect(snapshots.snapshotter).toBe(sc);
      const again = await lastValueFrom(snapshots.createSnapshot(5).pipe(toArray()));
      expect(again).toEqual(items);
    } finally {
      await db.close();
    }
  });

  it('releases the lock when the migration snapshot fails or is unsubscribed', async () => {
    const { db, v1 } = await v1With(3);
    try {
      const snapshots = new SnapshotManager(v1);
      await expect(lastValueFrom(snapshots.createMigration(9))).rejects.toMatchObject({ message: expect.stringMatching(/latest version is 3/) });
      expect(snapshots.isMigrating).toBe(false);
      await lastValueFrom(snapshots.createMigration(3).pipe(take(2)));
      expect(snapshots.isMigrating).toBe(false);
      // The exporter was released too: no version pin is left, so version 3 can be pruned.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(['acc', 'bank'].map((store) => v1.multi.tree(store).ndb.pinCount(3))).toEqual([0, 0]);
      await v1.commit({ changes: [] });
      await v1.prune(3);
      expect(await v1.earliestVersion()).toBe(4);
      await expect(lastValueFrom(snapshots.createMigration(0))).rejects.toMatchObject({ code: 'ERR_VERSION_RANGE' });
      expect(snapshots.isMigrating).toBe(false);
    } finally {
      await db.close();
    }
  });

  it('a state-sync snapshot holds the lock only while it runs; a migration during it is a conflict', async () => {
    const { db, v1 } = await v1With(3);
    try {
      const snapshots = new SnapshotManager(v1, { batchSize: 1 });
      const running = snapshots.createSnapshot(3).subscribe();
      await expect(firstValueFrom(snapshots.createMigration(3))).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_CONFLICT' });
      running.unsubscribe();
      await expect(firstValueFrom(snapshots.createMigration(3))).resolves.toMatchObject({ kind: 'store' });
    } finally {
      await db.close();
    }
  });
});
