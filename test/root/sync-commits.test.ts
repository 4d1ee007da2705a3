/**
 * syncCommits false: store/v1's commits are not synced, yet store/v2 never becomes durably ahead
 * of them where it follows them (a recorded migration, an SS-only store after its switch). And
 * synced writes on classic-level on disk.
 */
import { filter, firstValueFrom } from 'rxjs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { utf8 } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { imagingDb, restoreImage } from '../support/power-loss.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { RootStore } from '../../src/root/root-store.js';
import { scenarioChangeset } from '../support/changesets.js';
import { tempDir } from '../support/db.js';

const STORES = ['bank', 'staking'];

/** Opens the crashed SS-only store again: its latest version, or the error that refused it. */
async function reopenSsOnly(v1db: LevelDb, v2db: LevelDb): Promise<{ latest: number } | { code?: string; message?: string }> {
  return RootStore.open({ v1: { db: v1db, storeKeys: STORES, exportWorker: false }, v2: { db: v2db, sc: false }, syncCommits: false }).then(
    async (reopened) => {
      const latest = reopened.latestVersion;
      await reopened.close();
      return { latest };
    },
    (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
  );
}

describe('syncCommits false after the switch of an SS-only migration', () => {
  it('an OS crash keeps every commit, and the store still opens (the SS is never durable ahead of store/v1)', async () => {
    const v1 = await imagingDb();
    const v2db = await openDb();
    const legacy = await LegacyStore.open(v1.db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 4; v++) await legacy.commit(scenarioChangeset(v, 2, STORES).changeset);
    const root = await RootStore.open({ v1: { db: v1.db, storeKeys: STORES, exportWorker: false }, v2: { db: v2db, sc: false }, migrate: true, syncCommits: false });
    await firstValueFrom(root.events$.pipe(filter((e) => e.type === 'restored')));
    await root.commit(scenarioChangeset(5, 2, STORES));
    expect(root.phase).toBe('switched');
    const afterVersion5 = v1.count();
    await root.commit(scenarioChangeset(6, 2, STORES));
    await root.close();
    // The OS crashed: store/v1's database keeps commit 6 (synced although syncCommits is false, as
    // store/v2 follows it), and store/v2's kept its synced SS write of 6.
    const crashed = await restoreImage(v1.crashTo(afterVersion5));
    expect(await reopenSsOnly(crashed, v2db)).toEqual({ latest: 6 });
    await crashed.close();
    await v2db.close();
    await v1.db.close();
  });
});

describe('syncCommits false in an SS-only migration, the last commit before the switch', () => {
  it('an OS crash never leaves the SS durable ahead of store/v1 (the store still opens)', async () => {
    const v1 = await imagingDb();
    const v2db = await openDb();
    const legacy = await LegacyStore.open(v1.db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 4; v++) await legacy.commit(scenarioChangeset(v, 2, STORES).changeset);
    const root = await RootStore.open({ v1: { db: v1.db, storeKeys: STORES, exportWorker: false }, v2: { db: v2db, sc: false }, migrate: true, syncCommits: false });
    const beforeVersion5 = v1.count();
    // Committed while the restore runs: store/v1 (and its log entry) only, not synced.
    await root.commit(scenarioChangeset(5, 2, STORES));
    expect(root.phase).toBe('migrating');
    await firstValueFrom(root.events$.pipe(filter((e) => e.type === 'applied' && e.version === 5)));
    await root.commit(scenarioChangeset(6, 2, STORES)); // switches (the switched record is synced), then commits 6
    expect(root.phase).toBe('switched');
    await root.close();
    const crashed = await restoreImage(v1.crashTo(beforeVersion5));
    expect(await reopenSsOnly(crashed, v2db)).toEqual({ latest: 6 });
    await crashed.close();
    await v2db.close();
    await v1.db.close();
  });
});

describe('syncCommits false while a migration with an SC runs', () => {
  it('an OS crash never leaves store/v2 durably ahead of store/v1: the replayed block does not fail the migration', async () => {
    const v1 = await imagingDb();
    const v2db = await openDb();
    const legacy = await LegacyStore.open(v1.db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 4; v++) await legacy.commit(scenarioChangeset(v, 2, STORES).changeset);
    const root = await RootStore.open({ v1: { db: v1.db, storeKeys: STORES, exportWorker: false }, v2: { db: v2db }, migrate: true, syncCommits: false });
    const beforeVersion5 = v1.count();
    await root.commit(scenarioChangeset(5, 2, STORES));
    await firstValueFrom(root.events$.pipe(filter((e) => e.type === 'applied' && e.version === 5)));
    expect(root.phase).toBe('migrating');
    await root.close();
    // store/v2's database kept what it wrote (the SC and SS at 5); store/v1's keeps commit 5 too,
    // synced although syncCommits is false, as a migration is recorded.
    const crashed = await restoreImage(v1.crashTo(beforeVersion5));
    const reopened = await RootStore.open({ v1: { db: crashed, storeKeys: STORES, exportWorker: false }, v2: { db: v2db }, migrate: true, syncCommits: false });
    const failures: unknown[] = [];
    const sub = reopened.events$.subscribe((e) => e.type === 'migrationFailed' && failures.push(String((e as { error: unknown }).error)));
    const appliedOrFailed = firstValueFrom(reopened.events$.pipe(filter((e) => (e.type === 'applied' && e.version === 6) || e.type === 'migrationFailed')));
    expect(reopened.latestVersion).toBe(5);
    await reopened.commit(scenarioChangeset(6, 2, STORES));
    await appliedOrFailed;
    sub.unsubscribe();
    expect(failures).toEqual([]);
    await reopened.close();
    await crashed.close();
    await v2db.close();
    await v1.db.close();
  });
});

describe('synced writes on classic-level on disk', () => {
  it.each([true, false])('a migrating root store (sc %p) commits through the switch with sync, and reopens', async (sc) => {
    const dir = tempDir();
    const syncs: boolean[] = [];
    try {
      const v1db = await openDb(join(dir.path, 'v1'));
      const v2db = await openDb(join(dir.path, 'v2'));
      expect(v1db).toBeInstanceOf(ClassicLevel);
      for (const db of [v1db, v2db]) {
        const original = db.batch.bind(db) as (...a: unknown[]) => any;
        (db as { batch: unknown }).batch = (...args: unknown[]) => {
          const chained = original(...args);
          if (args.length > 0) return chained;
          const write = chained.write.bind(chained);
          chained.write = (options?: { sync?: boolean }) => (syncs.push(options?.sync === true), write(options));
          return chained;
        };
      }
      const legacy = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
      for (let v = 1; v <= 4; v++) await legacy.commit(scenarioChangeset(v, 2, STORES).changeset);
      const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES, exportWorker: false }, v2: { db: v2db, sc }, migrate: true });
      await firstValueFrom(root.events$.pipe(filter((e) => e.type === 'restored')));
      for (let v = 5; v <= 8; v++) await root.commit(scenarioChangeset(v, 2, STORES));
      expect(root.phase).toBe('switched');
      await root.close();
      // store/v1's commit 5 (migrating) and the switched record; then, with an SC, its commits 6–8;
      // without, store/v1's commits 6–8 and their SS writes, and the SS write of 5 after the switch.
      expect(syncs.filter(Boolean)).toHaveLength(sc ? 5 : 9);
      await v1db.close();
      await v2db.close();
      const v1again = await openDb(join(dir.path, 'v1'));
      const v2again = await openDb(join(dir.path, 'v2'));
      const reopened = await RootStore.open({ v1: { db: v1again, storeKeys: STORES, exportWorker: false }, v2: { db: v2again, sc } });
      expect(reopened.latestVersion).toBe(8);
      expect(await reopened.query('bank', utf8('key-8-1'))).toEqual({ version: 8, value: utf8('value-8-1') });
      await reopened.close();
      await v1again.close();
      await v2again.close();
    } finally {
      dir.cleanup();
    }
  });
});
