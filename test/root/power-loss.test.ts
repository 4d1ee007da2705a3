/**
 * An OS crash (power loss) keeps, of each LevelDB, only what a synced write made durable; later
 * unsynced writes may be lost — independently per database. The changeset log (store/v1's
 * database in a root store) is trimmed once the targets (store/v2's database) hold a version:
 * if that trim survives while the targets' writes do not, the versions in between are gone.
 */
import { filter, firstValueFrom, NEVER, Subject } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import type { VersionedChangeset } from '../../src/core/changeset.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';
import { RootStore } from '../../src/root/root-store.js';
import type { MigrationEvent } from '../../src/migration/events.js';
import { scenarioChangeset } from '../support/changesets.js';
import { imagingDb, restoreImage } from '../support/power-loss.js';

const STORES = ['bank', 'staking'];

describe('power loss during a migration', () => {
  it('never trims a changeset from the log before the targets hold it durably', async () => {
    const v1db = await openDb();
    const target = await imagingDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 4; v++) await v1.commit(scenarioChangeset(v, 2, STORES).changeset);
    const options = (sc: CommitStore, ss: StorageStore) => ({ db: v1db, logPrefix: utf8('m/'), snapshots: new SnapshotManager(v1), sc, ss, trimEvery: 2 });

    // Run 1: restore at 4, apply 5 and 6; applying 6 trims the log up to 6 (in store/v1's database).
    const sc1 = await CommitStore.open(target.db, { storeKeys: STORES, prefix: 'sc/' });
    const ss1 = await StorageStore.open(target.db, { prefix: 'ss/', storeKeys: STORES });
    const manager1 = new MigrationManager(options(sc1, ss1));
    const commits1 = new Subject<VersionedChangeset>();
    const events1: MigrationEvent[] = [];
    const run1 = manager1.start(4, commits1, NEVER).subscribe((e) => events1.push(e));
    await firstValueFrom(manager1.migratedVersion$.pipe(filter((v) => v === 4)));
    for (let v = 5; v <= 6; v++) {
      const entry = scenarioChangeset(v, 2, STORES);
      await v1.commit(entry.changeset);
      commits1.next(entry);
    }
    const applied = () => events1.some((e) => e.type === 'applied' && e.version === 6);
    for (let i = 0; i < 10_000 && !applied(); i++) await new Promise((r) => setImmediate(r));
    expect(applied()).toBe(true);
    expect(await manager1.log.latest()).toBe(0); // trimmed
    run1.unsubscribe();
    await manager1.close();

    // Power loss: store/v1's database kept its writes (the trim among them); the targets' database
    // keeps only what a synced write made durable.
    const v2db = await restoreImage(target.crashTo(0));
    const sc2 = await CommitStore.open(v2db, { storeKeys: STORES, prefix: 'sc/' });
    const ss2 = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
    const manager2 = new MigrationManager(options(sc2, ss2));
    const commits2 = new Subject<VersionedChangeset>();
    const done2 = new Subject<void>();
    let failure: unknown;
    const events2: MigrationEvent[] = [];
    manager2.start(4, commits2, done2).subscribe({ next: (e) => events2.push(e), error: (e) => (failure = e) });
    const entry = scenarioChangeset(7, 2, STORES);
    await v1.commit(entry.changeset);
    commits2.next(entry);
    for (let i = 0; i < 10_000 && failure === undefined && manager2.migratedVersion < 7; i++) await new Promise((r) => setImmediate(r));
    expect(failure).toBeUndefined();
    expect(manager2.migratedVersion).toBe(7);
    done2.next();
    for (let i = 0; i < 1000 && !events2.some((e) => e.type === 'switch'); i++) await new Promise((r) => setImmediate(r));
    expect(events2.at(-1)).toEqual({ type: 'switch', version: 7 });
    await manager2.close();
    await v1db.close();
    await v2db.close();
    await target.db.close();
  });
});

describe('power loss after the switch of an SS-only migration', () => {
  it('the store opens again: no log entry is deleted before the SS holds its version durably', async () => {
    const v1db = await openDb();
    const v2 = await imagingDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 4; v++) await v1.commit(scenarioChangeset(v, 2, STORES).changeset);
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2.db, sc: false }, migrate: true });
    await firstValueFrom(root.events$.pipe(filter((e) => e.type === 'restored')));
    await root.commit(scenarioChangeset(5, 2, STORES));
    expect(root.phase).toBe('switched');
    const afterVersion5 = v2.count();
    await root.commit(scenarioChangeset(6, 2, STORES));
    await root.commit(scenarioChangeset(7, 2, STORES));
    await root.close();
    // store/v1's database kept its writes; store/v2's lost its last ones (none that a synced write covered).
    const v2db = await restoreImage(v2.crashTo(afterVersion5));
    const reopened = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db, sc: false } });
    expect(reopened.latestVersion).toBe(7);
    expect(await reopened.query('bank', utf8('key-6-0'), { version: 6 })).toEqual({ version: 6, value: utf8('value-6-0') });
    await reopened.close();
    await v1db.close();
    await v2db.close();
    await v2.db.close();
  });
});

describe('power loss after a commit returned (syncCommits)', () => {
  const commitThree = async (options: { syncCommits?: boolean }) => {
    const v1 = await imagingDb();
    const root = await RootStore.open({ v1: { db: v1.db, storeKeys: STORES }, v2: { db: await openDb() }, ...options });
    for (let v = 1; v <= 3; v++) await root.commit(scenarioChangeset(v, 2, STORES));
    await root.close();
    // The OS crashed: of store/v1's database, what its last synced write made durable is left.
    const crashed = await restoreImage(v1.crashTo(0));
    const reopened = await RootStore.open({ v1: { db: crashed, storeKeys: STORES }, v2: { db: await openDb() } });
    const latest = reopened.latestVersion;
    await reopened.close();
    await crashed.close();
    await v1.db.close();
    return latest;
  };

  it('keeps every version whose app hash was returned (the default: synced like Go\'s WriteSync)', async () => {
    expect(await commitThree({})).toBe(3);
  });

  it('with syncCommits false, an OS crash may lose them (a process kill still does not)', async () => {
    expect(await commitThree({ syncCommits: false })).toBe(0);
  });

  it('keeps the versions committed to store/v2 after the switch', async () => {
    const v1db = await openDb();
    const v2 = await imagingDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 4; v++) await v1.commit(scenarioChangeset(v, 2, STORES).changeset);
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2.db }, migrate: true });
    await firstValueFrom(root.events$.pipe(filter((e) => e.type === 'restored')));
    await root.commit(scenarioChangeset(5, 2, STORES));
    expect(root.phase).toBe('switched');
    const afterSwitch = v2.count();
    await root.commit(scenarioChangeset(6, 2, STORES));
    await root.commit(scenarioChangeset(7, 2, STORES));
    await root.close();
    const v2db = await restoreImage(v2.crashTo(afterSwitch));
    const reopened = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db } });
    expect(reopened.latestVersion).toBe(7);
    expect(await reopened.query('bank', utf8('key-7-0'), { version: 7 })).toEqual({ version: 7, value: utf8('value-7-0') });
    await reopened.close();
    await v1db.close();
    await v2db.close();
    await v2.db.close();
  });
});
