import { join } from 'node:path';
import { filter, firstValueFrom, lastValueFrom, Subject, toArray } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import type { VersionedChangeset } from '../../src/core/changeset.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { changesetLogKey } from '../../src/core/changeset-log-key.js';
import { scenarioChangeset } from '../support/changesets.js';
import { tempDir } from '../support/db.js';

const STORES = ['store1', 'store2'];

interface Setup {
  v1: LegacyStore;
  sc: CommitStore | null;
  ss: StorageStore;
  snapshots: SnapshotManager;
  manager: MigrationManager;
  v2db: LevelDb;
  history: VersionedChangeset[];
  close(): Promise<void>;
}

/** store/v1 on disk with `versions` commits, and empty v2 targets in a second LevelDB. */
async function setup(versions: number, keys: number, withSc: boolean): Promise<Setup> {
  const dir = tempDir('rxsm-accept-');
  const v1db = await openDb(join(dir.path, 'application.db'));
  const v2db = await openDb(join(dir.path, 'v2.db'));
  const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
  const history: VersionedChangeset[] = [];
  for (let v = 1; v <= versions; v++) {
    const entry = scenarioChangeset(v, keys, STORES);
    history.push(entry);
    await v1.commit(entry.changeset);
  }
  const sc = withSc ? await CommitStore.open(v2db, { storeKeys: STORES, prefix: 'sc/' }) : null;
  const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
  const snapshots = new SnapshotManager(v1);
  const manager = new MigrationManager({ db: v2db, logPrefix: utf8('log/'), snapshots, ss, sc, batchSize: 64 });
  return {
    v1,
    sc,
    ss,
    snapshots,
    manager,
    v2db,
    history,
    close: async () => {
      await manager.close();
      await v1db.close();
      await v2db.close();
      dir.cleanup();
    },
  };
}

async function checkMigratedState(s: Setup, height: number, versions: number, keys: number): Promise<void> {
  for (const store of STORES) {
    for (let v = 1; v <= versions; v++) {
      for (let i = 0; i < keys; i++) {
        const key = utf8(`key-${v}-${i}`);
        const expected = v <= height ? utf8(`value-${v}-${i}`) : undefined;
        if (s.sc) expect(await s.sc.get(store, height, key)).toEqual(expected);
        expect(await s.ss.get(store, height, key)).toEqual(expected);
      }
    }
  }
}

describe.each([
  ['with SC', true],
  ['SS only (SC = null)', false],
])('acceptance A — port of TestMigrateState (%s)', (_name, withSc) => {
  it('migrates 100 versions × 10 keys × 2 stores at height 99 and holds the snapshot lock', async () => {
    const s = await setup(100, 10, withSc);
    try {
      const restored = await s.manager.migrate(99);
      expect(restored.version).toBe(99);
      expect(s.manager.migratedVersion).toBe(99);
      // The migration holds the snapshot operation lock: a second snapshot at 99 fails.
      await expect(firstValueFrom(s.snapshots.createSnapshot(99))).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_CONFLICT' });
      await checkMigratedState(s, 99, 100, 10);
      if (s.sc) {
        expect(restored.storeRoots.store1).toBe(Buffer.from(await s.v1.storeRoot('store1', 99)).toString('hex'));
        expect(Buffer.from(await s.sc.appHash(99))).toEqual(Buffer.from(await s.v1.appHash(99)));
      }
      // close() ends the snapshot operation even for an SS-only migration.
      await s.manager.close();
      await expect(firstValueFrom(s.snapshots.createSnapshot(99))).resolves.toEqual({ kind: 'store', name: 'store1' });
    } finally {
      await s.close();
    }
  });
});

describe.each([
  ['with SC', true],
  ['SS only (SC = null)', false],
])('acceptance B — port of TestStartMigrateState (%s)', (_name, withSc) => {
  it('follows changesets 1..10 from height 9, stops when migrated reaches 9, and logged every changeset', async () => {
    const s = await setup(10, 5, withSc);
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const done$ = new Subject<void>();
      // The watcher reacts to the migrated version itself (no busy spin), even if 10 lands first.
      const watcher = firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v >= 9))).then(() => done$.next());
      const events = lastValueFrom(s.manager.start(9, commits$, done$).pipe(toArray()));
      for (const entry of s.history) commits$.next(entry);
      await watcher;
      const all = await events;
      expect(all.filter((e) => e.type === 'logged').map((e) => ('version' in e ? e.version : 0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(all.find((e) => e.type === 'restored')).toMatchObject({ version: 9 });
      await checkMigratedState(s, 9, 10, 5);
      for (let v = 1; v <= 9; v++) expect(await s.v2db.get(Buffer.concat([Buffer.from('log/'), changesetLogKey(v)]))).toBeDefined();
    } finally {
      await s.close();
    }
  });
});
