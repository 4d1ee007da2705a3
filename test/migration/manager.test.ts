import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BehaviorSubject, filter, firstValueFrom, lastValueFrom, NEVER, Subject, tap, toArray } from 'rxjs';
import { toHex, utf8 } from '../../src/core/bytes.js';
import type { VersionedChangeset } from '../../src/core/changeset.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager, type MigrationManagerOptions } from '../../src/migration/migration-manager.js';
import type { MigrationEvent } from '../../src/migration/events.js';
import { scenarioChangeset } from '../support/changesets.js';
import { tempDir } from '../support/db.js';
import { errorOf } from '../support/errors.js';

const STORES = ['bank', 'staking'];

async function setup(height: number, extra: Partial<MigrationManagerOptions> = {}) {
  const dir = tempDir('rxsm-mgr-');
  const v1db = await openDb(join(dir.path, 'application.db'));
  const v2db = await openDb(join(dir.path, 'v2.db'));
  const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
  for (let v = 1; v <= height; v++) await v1.commit(scenarioChangeset(v, 4, STORES).changeset);
  const sc = await CommitStore.open(v2db, { storeKeys: STORES, prefix: 'sc/' });
  const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
  const snapshots = new SnapshotManager(v1, { batchSize: 16 });
  const manager = new MigrationManager({ db: v2db, logPrefix: utf8('log/'), snapshots, ss, sc, batchSize: 16, ...extra });
  /** Commits the next version to v1 and returns what the root store would forward. */
  const commitNext = async (): Promise<VersionedChangeset> => {
    const entry = scenarioChangeset(v1.latestVersion + 1, 4, STORES);
    await v1.commit(entry.changeset);
    return entry;
  };
  return {
    v1,
    sc,
    ss,
    snapshots,
    manager,
    commitNext,
    close: async () => {
      await manager.close();
      await v1db.close();
      await v2db.close();
      dir.cleanup();
    },
  };
}

const versionsOf = (events: MigrationEvent[], type: MigrationEvent['type']) =>
  events.filter((e) => e.type === type).map((e) => ('version' in e ? e.version : -1));

/**
 * A migration restored at 6 and catching up on version 7, where the host starts a block just as
 * the SC's tree changes of version 7 are staged; resolves once the host is busy.
 */
async function hostBusyAfterScStaging() {
  const busy$ = new BehaviorSubject(false);
  const s = await setup(6, { busy$ });
  const commits$ = new Subject<VersionedChangeset>();
  const subscription = s.manager.start(6, commits$, NEVER).subscribe();
  const writeChangeset = s.sc.writeChangeset.bind(s.sc);
  const spy = jest.spyOn(s.sc, 'writeChangeset').mockImplementation(async (changeset) => {
    await writeChangeset(changeset);
    busy$.next(true);
  });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 6)));
  commits$.next(await s.commitNext());
  for (let i = 0; i < 10_000 && !busy$.value; i++) await turn();
  return { s, busy$, spy, subscription, turn };
}

describe('MigrationManager', () => {
  it('restores, replays commits made during the restore, follows live ones and switches (behaviours 20, 23, 24, 29)', async () => {
    const s = await setup(20);
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const done$ = new Subject<void>();
      const seen: number[] = [];
      s.manager.migratedVersion$.subscribe((v) => seen.push(v));
      const events = lastValueFrom(s.manager.start(20, commits$, done$).pipe(toArray()));
      // Commits keep arriving while the restore runs; each is logged before it is acknowledged.
      for (let i = 0; i < 5; i++) commits$.next(await s.commitNext());
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 25)));
      commits$.next(await s.commitNext());
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 26)));
      done$.next();
      const all = await events;
      expect(versionsOf(all, 'logged')).toEqual([21, 22, 23, 24, 25, 26]);
      expect(versionsOf(all, 'applied')).toEqual([21, 22, 23, 24, 25, 26]);
      expect(all[all.length - 1]).toEqual({ type: 'switch', version: 26 });
      expect(all.indexOf(all.find((e) => e.type === 'restored')!)).toBeLessThan(all.findIndex((e) => e.type === 'applied'));
      expect(seen).toEqual([0, 20, 21, 22, 23, 24, 25, 26]);
      expect(Object.isFrozen(all[0])).toBe(true);
      // v2 equals v1 at every migrated version; keys written after H exist only from their version.
      for (const v of [20, 26]) {
        expect(toHex(await s.sc.appHash(v))).toBe(toHex(await s.v1.appHash(v)));
        expect(await s.ss.get('bank', v, utf8('key-20-1'))).toEqual(utf8('value-20-1'));
      }
      expect(await s.ss.get('bank', 20, utf8('key-21-0'))).toBeUndefined();
      expect(await s.ss.get('bank', 21, utf8('key-21-0'))).toEqual(utf8('value-21-0'));
      expect(await s.sc.get('staking', 20, utf8('key-26-3'))).toBeUndefined();
      // The switch handed the snapshot lock over: the new SC is the snapshotter now.
      expect(s.snapshots.isMigrating).toBe(false);
      expect(s.snapshots.snapshotter).toBe(s.sc);
    } finally {
      await s.close();
    }
  });

  it('catches up without any timer: applies with setTimeout/setInterval frozen (behaviour 26)', async () => {
    const s = await setup(6);
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const done$ = new Subject<void>();
      const events = lastValueFrom(s.manager.start(6, commits$, done$).pipe(toArray()));
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 6)));
      commits$.next(await s.commitNext());
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 7)));
      done$.next();
      expect(versionsOf(await events, 'switch')).toEqual([7]);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
      await s.close();
    }
  });

  it('sync before migrate is a state error; after migrate it applies the logged changesets (behaviour 27)', async () => {
    const s = await setup(5);
    try {
      const early = await errorOf(s.manager.sync());
      expect(early.code).toBe('ERR_STATE');
      expect(early.message).toMatch(/migration is not done yet/);
      await s.manager.migrate(5);
      for (let i = 0; i < 3; i++) await s.manager.log.append(await s.commitNext());
      expect(await s.manager.sync()).toBe(8);
      expect(toHex(await s.sc.appHash(8))).toBe(toHex(await s.v1.appHash(8)));
    } finally {
      await s.close();
    }
  });

  it('reads and writes no batch while busy$ is true and finishes once it is false (the restore yields to block commits)', async () => {
    const busy$ = new BehaviorSubject(true);
    const s = await setup(12, { busy$, progressIntervalMs: 0 });
    const db = s.v1.db;
    const reads = [jest.spyOn(db, 'get'), jest.spyOn(db, 'getMany'), jest.spyOn(db, 'getSync'), jest.spyOn(db, 'iterator')];
    const readCount = () => reads.reduce((n, spy) => n + spy.mock.calls.length, 0);
    try {
      const events: MigrationEvent[] = [];
      const restored = firstValueFrom(s.manager.start(12, NEVER, NEVER).pipe(tap((e) => events.push(e)), filter((e) => e.type === 'restored')));
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      // The restore waits for the host before it reads the first batch.
      for (let i = 0; i < 10_000 && !busy$.observed; i++) await turn();
      expect(busy$.observed).toBe(true);
      // It keeps waiting, however many turns pass, without touching store/v1.
      for (let i = 0; i < 200; i++) await turn();
      expect(busy$.observed).toBe(true);
      expect(readCount()).toBe(0);
      expect(events.filter((e) => e.type === 'progress')).toEqual([]);
      expect(await s.ss.get('bank', 12, utf8('key-1-0'))).toBeUndefined();
      busy$.next(false);
      expect(await restored).toMatchObject({ type: 'restored', version: 12 });
      expect(await s.ss.get('bank', 12, utf8('key-1-0'))).toEqual(utf8('value-1-0'));
      expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(1);
      expect(readCount()).toBeGreaterThan(0);
    } finally {
      for (const spy of reads) spy.mockRestore();
      await s.close();
    }
  });

  it('applies no logged changeset while busy$ is true (the catch-up yields to block commits too)', async () => {
    const busy$ = new BehaviorSubject(false);
    const s = await setup(6, { busy$ });
    const commits$ = new Subject<VersionedChangeset>();
    const events: MigrationEvent[] = [];
    const subscription = s.manager.start(6, commits$, NEVER).subscribe((e) => events.push(e));
    try {
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 6)));
      busy$.next(true);
      commits$.next(await s.commitNext());
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      // Logged (durable) while busy, but not applied until the host is idle.
      for (let i = 0; i < 10_000 && !events.some((e) => e.type === 'logged'); i++) await turn();
      expect(versionsOf(events, 'logged')).toEqual([7]);
      // The catch-up reads entry 7 from the log, then waits for the host (however long it waits).
      for (let i = 0; i < 10_000 && !busy$.observed; i++) await turn();
      expect(busy$.observed).toBe(true);
      for (let i = 0; i < 200; i++) await turn();
      expect(s.manager.migratedVersion).toBe(6);
      busy$.next(false);
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 7)));
      expect(await s.ss.get('bank', 7, utf8('key-7-0'))).toEqual(utf8('value-7-0'));
    } finally {
      subscription.unsubscribe();
      await s.close();
    }
  });

  it('does not hash and write a catch-up step into the SC while busy$ is true, even after its tree changes', async () => {
    const { s, busy$, spy, subscription, turn } = await hostBusyAfterScStaging();
    try {
      expect(spy).toHaveBeenCalledTimes(1);
      for (let i = 0; i < 200; i++) await turn();
      expect(s.sc.latestVersion).toBe(6);
      expect(s.manager.migratedVersion).toBe(6);
      busy$.next(false);
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 7)));
      expect(s.sc.latestVersion).toBe(7);
      expect(toHex(await s.sc.appHash(7))).toBe(toHex(await s.v1.appHash(7)));
    } finally {
      spy.mockRestore();
      subscription.unsubscribe();
      await s.close();
    }
  });

  it('an abandoned catch-up step commits nothing, and the next run starts from the committed SC', async () => {
    const { s, busy$, spy, subscription, turn } = await hostBusyAfterScStaging();
    try {
      const bank = s.sc.multi.tree('bank');
      expect(toHex(await bank.workingHash())).not.toBe(toHex(await s.sc.storeRoot('bank', 6)));
      subscription.unsubscribe();
      busy$.next(false);
      for (let i = 0; i < 50; i++) await turn();
      expect(s.sc.latestVersion).toBe(6);
      // A second run applies version 7 from the log onto the committed trees, not onto the staged ones.
      spy.mockRestore();
      const again = s.manager.start(6, NEVER, NEVER).subscribe();
      try {
        await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 7)));
        expect(toHex(await s.sc.appHash(7))).toBe(toHex(await s.v1.appHash(7)));
      } finally {
        again.unsubscribe();
      }
    } finally {
      spy.mockRestore();
      subscription.unsubscribe();
      await s.close();
    }
  });

  it('a retried run waits for an abandoned SC step still under way before it stages the same version', async () => {
    const busy$ = new BehaviorSubject(false);
    const s = await setup(6, { busy$ });
    await s.manager.migrate(6);
    const entry = await s.commitNext();
    await s.manager.log.append(entry);
    const applyChangeset = s.sc.multi.applyChangeset.bind(s.sc.multi);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The first run's staging of version 7 is slow: it settles only after the retry started.
    const spy = jest.spyOn(s.sc.multi, 'applyChangeset').mockImplementationOnce(async (changeset) => {
      await gate;
      await applyChangeset(changeset);
    });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      const first = s.manager.start(6, NEVER, NEVER).subscribe({ error: () => undefined });
      for (let i = 0; i < 10_000 && spy.mock.calls.length === 0; i++) await turn();
      expect(spy).toHaveBeenCalledTimes(1);
      first.unsubscribe();
      const retry = s.manager.start(6, NEVER, NEVER).subscribe();
      try {
        for (let i = 0; i < 2_000 && spy.mock.calls.length < 2; i++) await turn();
        // The retry has not staged anything while the abandoned staging is under way.
        expect(spy).toHaveBeenCalledTimes(1);
        release();
        await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 7)));
        expect(toHex(await s.sc.appHash(7))).toBe(toHex(await s.v1.appHash(7)));
      } finally {
        retry.unsubscribe();
      }
    } finally {
      release();
      spy.mockRestore();
      await s.close();
    }
  });

  it('refuses a second concurrent start', async () => {
    const s = await setup(3);
    try {
      const running = s.manager.start(3, new Subject(), new Subject()).subscribe({ error: () => undefined });
      await expect(lastValueFrom(s.manager.start(3, new Subject(), new Subject()))).rejects.toMatchObject({
        code: 'ERR_STATE',
        message: expect.stringMatching(/already running/),
      });
      running.unsubscribe();
    } finally {
      await s.close();
    }
  });

  it('close() ends a running migration and its snapshot operation, and leaves the databases open (behaviour 30)', async () => {
    const s = await setup(3);
    try {
      const run = lastValueFrom(s.manager.start(3, new Subject(), new Subject()), { defaultValue: undefined });
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 3)));
      expect(s.snapshots.isMigrating).toBe(true);
      await s.manager.close();
      await run;
      expect(s.snapshots.isMigrating).toBe(false);
      expect([s.v1.db.status, s.manager.log.ns.db.status]).toEqual(['open', 'open']);
      expect(await s.ss.get('bank', 3, utf8('key-3-0'))).toEqual(utf8('value-3-0'));
      expect(s.sc.latestVersion).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('stops with ERR_HASH_MISMATCH and no restored event when the SC differs from v1 (behaviour 46)', async () => {
    const holder: { v1?: LegacyStore } = {};
    const s = await setup(4, {
      // A source whose staking root disagrees with what the restore produced.
      source: { storeRoot: async (store, v) => (store === 'staking' ? new Uint8Array(32) : holder.v1!.storeRoot(store, v)) },
    });
    holder.v1 = s.v1;
    try {
      const events: MigrationEvent[] = [];
      const error = await errorOf(lastValueFrom(s.manager.start(4, new Subject(), new Subject()).pipe(filter((e) => (events.push(e), true)))));
      expect(error.code).toBe('ERR_HASH_MISMATCH');
      expect(error.message).toMatch(/store staking at version 4/);
      expect(events.some((e) => e.type === 'restored')).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('at the switch too: a store root differing only at the switch version stops with ERR_HASH_MISMATCH, no switch (behaviour 46)', async () => {
    const holder: { v1?: LegacyStore } = {};
    const s = await setup(4, {
      source: { storeRoot: async (store, v) => (v === 5 && store === 'bank' ? new Uint8Array(32) : holder.v1!.storeRoot(store, v)) },
    });
    holder.v1 = s.v1;
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const done$ = new Subject<void>();
      const events: MigrationEvent[] = [];
      const run = lastValueFrom(s.manager.start(4, commits$, done$).pipe(tap((e) => events.push(e))));
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 4)));
      commits$.next(await s.commitNext());
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 5)));
      done$.next();
      const error = await errorOf(run);
      expect(error.code).toBe('ERR_HASH_MISMATCH');
      expect(error.message).toMatch(/^store bank at version 5: new SC root [0-9a-f]{64} differs from store\/v1 root 0{64}$/);
      expect(versionsOf(events, 'restored')).toEqual([4]);
      expect(events.some((e) => e.type === 'switch')).toBe(false);
      // No switch: the snapshots stay with store/v1, and the lock is given up for a retry.
      expect(s.snapshots.snapshotter).toBe(s.v1);
      expect(s.snapshots.isMigrating).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('surfaces a failure while applying as an error notification (behaviour 31)', async () => {
    const s = await setup(3);
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const result = lastValueFrom(s.manager.start(3, commits$, new Subject()));
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 3)));
      await s.ss.close();
      commits$.next(await s.commitNext());
      const error = await errorOf(result);
      expect(error.code).toBe('ERR_CLOSED');
    } finally {
      await s.close();
    }
  });

  it('advances migratedVersion only once SC and SS both applied a version (behaviour 24)', async () => {
    const s = await setup(3);
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const seen: number[] = [];
      s.manager.migratedVersion$.subscribe((v) => seen.push(v));
      const result = lastValueFrom(s.manager.start(3, commits$, new Subject()));
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 3)));
      const spy = jest.spyOn(s.ss, 'applyChangeset').mockRejectedValueOnce(new Error('SS disk full'));
      commits$.next(await s.commitNext());
      await expect(result).rejects.toThrow('SS disk full');
      spy.mockRestore();
      // Whether or not the SC got to commit its half, the version does not count as migrated.
      expect(s.ss.latestVersion).toBe(3);
      expect(s.manager.migratedVersion).toBe(3);
      expect(seen).toEqual([0, 3]);
    } finally {
      await s.close();
    }
  });
  it('keeps no forwarded changeset once it is applied (commits are held only until the pipeline subscribes)', async () => {
    // jest runs without --expose-gc; V8 can expose it at run time.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const s = await setup(3);
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const events = lastValueFrom(s.manager.start(3, commits$, NEVER).pipe(toArray()));
      const forwarded: WeakRef<VersionedChangeset>[] = [];
      // Forwarded before the pipeline subscribed (the targets are being inspected) and after.
      for (let i = 0; i < 40; i++) {
        const entry = await s.commitNext();
        forwarded.push(new WeakRef(entry));
        commits$.next(entry);
      }
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 43)));
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The catch-up reads every changeset back from the log: none of the forwarded objects is needed.
      expect(forwarded.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(1);
      await s.manager.close();
      await events;
    } finally {
      await s.close();
    }
  });

  it('gives the snapshot lock up when a run fails, so that a retry can start (the SC is verified again)', async () => {
    let wrongRoot = true;
    const holder: { v1?: LegacyStore } = {};
    const s = await setup(4, {
      source: { storeRoot: async (store, v) => (wrongRoot && store === 'staking' ? new Uint8Array(32) : holder.v1!.storeRoot(store, v)) },
    });
    holder.v1 = s.v1;
    try {
      const failed = await errorOf(lastValueFrom(s.manager.start(4, new Subject(), new Subject())));
      expect(failed.code).toBe('ERR_HASH_MISMATCH');
      expect(s.snapshots.isMigrating).toBe(false);
      wrongRoot = false;
      const done$ = new Subject<void>();
      // The stop signal once the retry restored (it finds the targets done and verifies them).
      const retried = lastValueFrom(s.manager.start(4, new Subject(), done$).pipe(tap((e) => e.type === 'restored' && done$.next()), toArray()));
      expect((await retried).at(-1)).toEqual({ type: 'switch', version: 4 });
    } finally {
      await s.close();
    }
  });

  it('gives the snapshot lock up when a run is unsubscribed after its restore', async () => {
    const s = await setup(4);
    try {
      const subscription = s.manager.start(4, new Subject(), NEVER).subscribe();
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 4)));
      expect(s.snapshots.isMigrating).toBe(true);
      subscription.unsubscribe();
      expect(s.snapshots.isMigrating).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('migrate keeps the lock for sync once restored, and rejects with ERR_CLOSED when closed before', async () => {
    const s = await setup(4);
    try {
      await s.manager.migrate(4);
      expect(s.snapshots.isMigrating).toBe(true);
    } finally {
      await s.close();
    }
    const t = await setup(30);
    try {
      const migrating = t.manager.migrate(30);
      await t.manager.close();
      const error = await errorOf(migrating);
      expect(error.code).toBe('ERR_CLOSED');
      expect(error.message).toMatch(/height 30 was closed before its restore finished/);
    } finally {
      await t.close();
    }
  });

  it('writes nothing after done: a version waiting for the host to be idle is not applied (behaviour 28)', async () => {
    const busy$ = new BehaviorSubject(false);
    const s = await setup(6, { busy$ });
    try {
      const commits$ = new Subject<VersionedChangeset>();
      const done$ = new Subject<void>();
      const events = lastValueFrom(s.manager.start(6, commits$, done$).pipe(toArray()));
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 6)));
      busy$.next(true);
      commits$.next(await s.commitNext());
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      // Version 7 is logged and read back; its apply waits for the host.
      for (let i = 0; i < 10_000 && !busy$.observed; i++) await turn();
      expect(busy$.observed).toBe(true);
      done$.next();
      busy$.next(false);
      const all = await events;
      expect(versionsOf(all, 'logged')).toEqual([7]);
      expect(versionsOf(all, 'applied')).toEqual([]);
      // v2 does not hold the logged version 7, so there is no switch either.
      expect(all.map((e) => e.type)).not.toContain('switch');
      for (let i = 0; i < 50; i++) await turn();
      expect({ sc: s.sc.latestVersion, ss: s.ss.latestVersion, migrated: s.manager.migratedVersion }).toEqual({ sc: 6, ss: 6, migrated: 6 });
    } finally {
      await s.close();
    }
  });

  it('a resumed run that logged past the height refuses an already logged version as a duplicate (behaviour 25)', async () => {
    const busy$ = new BehaviorSubject(false);
    const s = await setup(5, { busy$ });
    try {
      // The first run restores at 5, logs 6 and 7 while the host is busy, then the process stops.
      const first = new Subject<VersionedChangeset>();
      const logged: number[] = [];
      const run = s.manager.start(5, first, NEVER).subscribe((e) => e.type === 'logged' && logged.push(e.version));
      await firstValueFrom(s.manager.migratedVersion$.pipe(filter((v) => v === 5)));
      busy$.next(true);
      const six = await s.commitNext();
      const seven = await s.commitNext();
      first.next(six);
      first.next(seven);
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 10_000 && logged.length < 2; i++) await turn();
      expect(logged).toEqual([6, 7]);
      run.unsubscribe();

      // The resumed run is fed version 7 again, with other content.
      const commits$ = new Subject<VersionedChangeset>();
      const resumed = lastValueFrom(s.manager.start(5, commits$, NEVER));
      const forged = scenarioChangeset(7, 4, STORES);
      commits$.next({ ...forged, changeset: { changes: [{ storeKey: 'bank', pairs: [{ key: utf8('key-7-0'), value: utf8('forged'), remove: false }] }] } });
      const error = await errorOf(resumed);
      expect(error.code).toBe('ERR_VERSION_GAP');
      expect(error.message).toBe('changeset version duplicate: expected 8, received 7');
      expect(error.details).toEqual({ expected: 8, received: 7 });
      // The log entry of version 7 is still the one store/v1 committed.
      expect(await s.manager.log.read(7)).toEqual(seven);
    } finally {
      await s.close();
    }
  });

  it('resumes after the catch-up trimmed the log up to its last applied version (the log is empty then)', async () => {
    const s = await setup(3, { trimEvery: 2 });
    try {
      const first = new Subject<VersionedChangeset>();
      const applied4 = new Subject<void>();
      const run = s.manager.start(3, first, NEVER).subscribe((e) => e.type === 'applied' && e.version === 4 && applied4.next());
      const trimmed = firstValueFrom(applied4);
      first.next(await s.commitNext());
      // `applied` comes once the step is done, its trim of the log up to 4 included.
      await trimmed;
      // The process stops here, with nothing else pending.
      run.unsubscribe();
      const commits$ = new Subject<VersionedChangeset>();
      const done$ = new Subject<void>();
      const events = lastValueFrom(s.manager.start(3, commits$, done$).pipe(tap((e) => e.type === 'applied' && done$.next()), toArray()));
      commits$.next(await s.commitNext());
      const all = await events;
      expect(versionsOf(all, 'applied')).toEqual([5]);
      expect(all.at(-1)).toEqual({ type: 'switch', version: 5 });
      expect(toHex(await s.sc.appHash(5))).toBe(toHex(await s.v1.appHash(5)));
    } finally {
      await s.close();
    }
  });
});
