import { join } from 'node:path';
import { iavlSpec, tendermintSpec, verifyMembership, verifyNonMembership } from '@confio/ics23';
import { filter, firstValueFrom } from 'rxjs';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs, type Changeset } from '../../src/core/changeset.js';
import { commitInfoHash } from '../../src/commitment/commit-info.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { RootStore, type RootStoreEvent, type RootStoreOptions } from '../../src/root/root-store.js';
import { prng, scenarioChangeset } from '../support/changesets.js';
import { blockTime, tempDir } from '../support/db.js';
import { FaultyLevel } from '../support/faulty-level.js';
import { errorOf } from '../support/errors.js';

const STORES = ['store1', 'store2', 'store3'];

interface Env {
  v1db: LevelDb;
  v2db: LevelDb;
  close(): Promise<void>;
  path: string;
}

async function env(): Promise<Env> {
  const dir = tempDir('rxsm-root-');
  const v1db = await openDb(join(dir.path, 'application.db'));
  const v2db = await openDb(join(dir.path, 'v2.db'));
  return {
    v1db,
    v2db,
    path: dir.path,
    close: async () => {
      await v1db.close();
      await v2db.close();
      dir.cleanup();
    },
  };
}

/** Commits versions 1..`versions` of the scenario to a store/v1; returns each version's app hash. */
async function buildV1(db: LevelDb, versions: number, keys: number): Promise<Map<number, Uint8Array>> {
  const v1 = await LegacyStore.open(db, { storeKeys: STORES });
  const appHashes = new Map<number, Uint8Array>();
  for (let v = 1; v <= versions; v++) {
    const info = await v1.commit(scenarioChangeset(v, keys, STORES).changeset);
    appHashes.set(v, commitInfoHash(info.storeInfos));
  }
  return appHashes;
}

/** Runs `test` on a root store over a fresh store/v1 of `versions` × `keys` keys, then closes both. */
async function withRootStore(versions: number, keys: number, options: Omit<RootStoreOptions, 'v1' | 'v2'>, test: (root: RootStore) => Promise<void>): Promise<void> {
  const e = await env();
  let root: RootStore | undefined;
  try {
    await buildV1(e.v1db, versions, keys);
    root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, ...options });
    await test(root);
  } finally {
    await root?.close();
    await e.close();
  }
}

function verifyQueryProof(result: Awaited<ReturnType<RootStore['query']>>, store: string, key: Uint8Array, appHash: Uint8Array): void {
  const proof = result.proof!;
  if (result.value !== undefined) expect(verifyMembership(proof.ops[0].proof, iavlSpec, proof.storeRoot, key, result.value)).toBe(true);
  else expect(verifyNonMembership(proof.ops[0].proof, iavlSpec, proof.storeRoot, key)).toBe(true);
  expect(verifyMembership(proof.ops[1].proof, tendermintSpec, appHash, utf8(store), proof.storeRoot)).toBe(true);
}

describe.each([
  ['with SC', true],
  ['SS only', false],
])('acceptance C — port of the root store migrate test (%s)', (_name, withSc) => {
  it('200 versions × 10 keys × 3 stores: readable with proofs during and after; the switch happens and v2 is used', async () => {
    const e = await env();
    try {
      const builtAppHashes = await buildV1(e.v1db, 200, 10);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db, sc: withSc }, migrate: true, batchSize: 256 });
      const events: RootStoreEvent[] = [];
      root.events$.subscribe((ev) => events.push(ev));
      expect(root.isMigrating).toBe(true);
      const appHashes = new Map<number, Uint8Array>();
      // During migration: keys readable with verified proofs (served by store/v1), each at its
      // own version, where the next version's key is still absent (routing by version).
      for (let v = 1; v <= 200; v += 9) {
        for (const store of STORES) {
          const key = utf8(`key-${v}-3`);
          const result = await root.query(store, key, { version: v, prove: true });
          expect(result.value).toEqual(utf8(`value-${v}-3`));
          verifyQueryProof(result, store, key, result.proof!.appHash);
          expect(toHex(result.proof!.appHash)).toBe(toHex(builtAppHashes.get(v)!));
          const next = utf8(`key-${v + 1}-3`);
          const absent = await root.query(store, next, { version: v, prove: true });
          expect(absent.value).toBeUndefined();
          verifyQueryProof(absent, store, next, absent.proof!.appHash);
        }
      }
      // Keep committing until the root store switched (or v reaches 400).
      let v = 200;
      while (root.phase === 'migrating' && v < 400) {
        v++;
        appHashes.set(v, await root.commit(scenarioChangeset(v, 10, STORES)));
        // Block time (Go's test: 100 ms of virtual time), so the migration can catch up.
        await blockTime(root);
      }
      expect(root.phase).toBe('switched');
      const switched = events.find((ev) => ev.type === 'switched');
      expect(switched).toMatchObject({ type: 'switched', version: v, height: 200 });
      expect(events.some((ev) => ev.type === 'switch')).toBe(true);
      expect(events.filter((ev) => !Object.isFrozen(ev))).toEqual([]);
      expect(root.migratedVersion).toBe(v);
      // All keys readable at max(v, 200), now from store/v2: every version, every key.
      for (let w = 1; w <= v; w++) {
        for (const store of STORES) {
          for (let i = 0; i < 10; i++) expect((await root.query(store, utf8(`key-${w}-${i}`))).value).toEqual(utf8(`value-${w}-${i}`));
        }
      }
      // 10 more commits go to store/v2 only; latest = caught-up + 10.
      for (let i = 0; i < 10; i++) {
        v++;
        appHashes.set(v, await root.commit(scenarioChangeset(v, 10, STORES)));
      }
      expect(root.latestVersion).toBe(v);
      expect(root.migratedVersion).toBe(v);
      const v1After = await LegacyStore.open(e.v1db, { storeKeys: STORES });
      if (withSc) {
        // store/v1 stopped at the switch: v2 carries on alone.
        expect(v1After.latestVersion).toBe((switched as { version: number }).version - 1);
      }
      const proof = await root.query('store2', utf8(`key-${v}-1`), { prove: true });
      expect(proof.value).toEqual(utf8(`value-${v}-1`));
      verifyQueryProof(proof, 'store2', utf8(`key-${v}-1`), appHashes.get(v)!);
      await root.close();
    } finally {
      await e.close();
    }
  });
});

function randomBlock(rand: () => number, version: number): Changeset {
  const entries: [string, Uint8Array, Uint8Array | undefined][] = [];
  const n = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) {
    const store = STORES[Math.floor(rand() * STORES.length)]!;
    const key = utf8(`k${Math.floor(rand() * 300)}`);
    entries.push([store, key, rand() < 0.25 ? undefined : utf8(`v${version}-${i}`)]);
  }
  return changesetFromPairs(version, entries).changeset;
}

describe('app-hash continuity across the switch', () => {
  it('500 random blocks return exactly the hashes a shadow store/v1 computes', async () => {
    const e = await env();
    const shadowDb = await openDb();
    try {
      const rand = prng(2024);
      const shadow = await LegacyStore.open(shadowDb, { storeKeys: STORES });
      const seed = await LegacyStore.open(e.v1db, { storeKeys: STORES });
      for (let v = 1; v <= 50; v++) {
        const cs = randomBlock(rand, v);
        await seed.commit(cs);
        await shadow.commit(cs);
      }
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true, batchSize: 64 });
      let switchedAt = 0;
      for (let v = 51; v <= 550; v++) {
        const cs = randomBlock(rand, v);
        const hash = await root.commit(cs);
        const expected = await shadow.commit(cs);
        expect(toHex(hash)).toBe(toHex(commitInfoHash(expected.storeInfos)));
        if (switchedAt === 0 && root.phase === 'switched') switchedAt = v;
        await blockTime(root);
      }
      expect(switchedAt).toBeGreaterThan(50);
      await root.close();
    } finally {
      await shadowDb.close();
      await e.close();
    }
  });
});

describe('RootStore behaviour', () => {
  it('commits issued back to back without awaiting never reorder or lose a changeset', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 30, 3);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true, batchSize: 32 });
      const shadowDb = await openDb();
      const shadow = await LegacyStore.open(shadowDb, { storeKeys: STORES });
      for (let v = 1; v <= 30; v++) await shadow.commit(scenarioChangeset(v, 3, STORES).changeset);
      const pending = [];
      for (let v = 31; v <= 130; v++) pending.push(root.commit(scenarioChangeset(v, 3, STORES)));
      const hashes = await Promise.all(pending);
      for (let v = 31; v <= 130; v++) {
        const info = await shadow.commit(scenarioChangeset(v, 3, STORES).changeset);
        expect(toHex(hashes[v - 31]!)).toBe(toHex(commitInfoHash(info.storeInfos)));
      }
      // Drive to the switch and check every changeset reached store/v2.
      let v = 130;
      while (root.phase === 'migrating') {
        await root.commit(scenarioChangeset(++v, 3, STORES));
        await blockTime(root);
      }
      for (let w = 31; w <= v; w += 7) expect((await root.query('store3', utf8(`key-${w}-2`))).value).toEqual(utf8(`value-${w}-2`));
      await root.close();
      await shadowDb.close();
    } finally {
      await e.close();
    }
  });

  it('tells the migration the host is idle only after the committing caller resumed, and between queued commits too', () =>
    withRootStore(10, 3, { migrate: true, batchSize: 32 }, async (root) => {
      const busy: boolean[] = [];
      const subscription = root.migrationParts.busy$.subscribe((b) => busy.push(b));
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      await root.commit(scenarioChangeset(11, 3, STORES));
      // Still busy where the caller resumes: a migration step started by "idle" would have run
      // inside the commit, before its caller got the result.
      expect(busy.at(-1)).toBe(true);
      await turn();
      expect(busy.at(-1)).toBe(false);

      busy.length = 0;
      await Promise.all([root.commit(scenarioChangeset(12, 3, STORES)), root.commit(scenarioChangeset(13, 3, STORES))]);
      await turn();
      expect(busy).toEqual([true, false, true, false]);
      subscription.unsubscribe();
    }));

  it('without a migration listening, a commit ends idle at once (nothing is deferred)', () =>
    withRootStore(5, 3, { migrate: false }, async (root) => {
      await root.commit(scenarioChangeset(6, 3, STORES));
      expect(await firstValueFrom(root.migrationParts.busy$)).toBe(false);
    }));

  it('keeps migrating while the host commits back to back, never told idle inside a commit', () =>
    withRootStore(20, 20, { migrate: true, batchSize: 16 }, async (root) => {
      const applied: number[] = [];
      const subscription = root.events$.subscribe((event) => {
        if (event.type === 'applied') applied.push(event.version);
      });
      // The migration must never be told "idle" while a commit runs: from its "busy" until it
      // returned (before its "busy", the commit may wait for the previous commit's idle turn).
      let committing = false;
      let started = false;
      let idleDuringCommit = 0;
      const busy = root.migrationParts.busy$.subscribe((b) => {
        if (b && committing) started = true;
        if (!b && started) idleDuringCommit++;
      });
      // About 150 restore batches of 16 items, one per gap between two commits, then the
      // catch-up: every gap lets a step run, so the migration advances while the blocks keep coming.
      let v = 20;
      while (applied.length < 20 && v < 1_000) {
        committing = true;
        await root.commit(scenarioChangeset(++v, 3, STORES));
        committing = started = false;
      }
      busy.unsubscribe();
      expect(idleDuringCommit).toBe(0);
      expect(applied.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => 21 + i));
      // Given block time, it catches up and switches.
      while (root.phase === 'migrating' && v < 2_000) {
        await root.commit(scenarioChangeset(++v, 3, STORES));
        await blockTime(root);
      }
      expect(root.phase).toBe('switched');
      subscription.unsubscribe();
    }));

  it('starts the migration exactly once, refuses upgrades while migrating, and checks the commit version', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 5, 2);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true });
      const starts: RootStoreEvent[] = [];
      root.events$.pipe(filter((ev) => ev.type === 'migrationStarted')).subscribe((ev) => starts.push(ev));
      await root.loadVersion();
      await root.loadVersion(5);
      // One start, replayed to this late subscriber; the two loads started nothing more.
      expect(starts).toHaveLength(1);
      expect((await errorOf(root.loadVersionAndUpgrade(5, { added: ['gov'] }))).message).toMatch(/cannot upgrade while migrating/);
      const mismatch = await errorOf(root.commit({ version: 9, changeset: { changes: [] } }));
      expect(mismatch.code).toBe('ERR_VERSION_MISMATCH');
      expect(mismatch.message).toMatch(/commit version mismatch: expected 6, got 9/);
      await root.close();
    } finally {
      await e.close();
    }
  });

  it('after the switch, versions below the height come from the retained store/v1 or fail naming the height', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 8, 2);
      const open = (retainV1: boolean) => RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true, retainV1 });
      const root = await open(true);
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      // Nothing was committed during the restore: v2 is caught up, so 9 already goes to store/v2.
      await root.commit(scenarioChangeset(9, 2, STORES));
      expect(root.phase).toBe('switched');
      await root.commit(scenarioChangeset(10, 2, STORES));
      expect((await root.query('store1', utf8('key-3-1'), { version: 4 })).value).toEqual(utf8('value-3-1'));
      await root.close();
      // A restart knows the migration is done: store/v2 serves at once, and without v1 retained
      // the old versions are a typed error naming the height.
      const again = await open(false);
      expect(again.phase).toBe('switched');
      expect(again.latestVersion).toBe(10);
      const below = await errorOf(again.query('store1', utf8('key-3-1'), { version: 4 }));
      expect(below.code).toBe('ERR_VERSION_PRUNED');
      expect(below.message).toMatch(/below the migration height 8/);
      expect((await again.query('store1', utf8('key-9-0'))).value).toEqual(utf8('value-9-0'));
      await again.close();
      // Retained, but the application closed its database: the same typed error, saying so.
      const retained = await open(true);
      await e.v1db.close();
      const closed = await errorOf(retained.query('store1', utf8('key-3-1'), { version: 4, prove: true }));
      expect(closed.code).toBe('ERR_VERSION_PRUNED');
      expect(closed.message).toBe('version 4 is below the migration height 8 and store/v1 is closed');
      expect(closed.details).toEqual({ requestedVersion: 4, migrationHeight: 8 });
      expect((await retained.query('store1', utf8('key-9-0'))).value).toEqual(utf8('value-9-0'));
      await retained.close();
    } finally {
      await e.close();
    }
  });

  it('a failing migration reaches events$; the node keeps serving and committing from store/v1', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 6, 2);
      // A stray newer version in the SS makes the restore refuse to write (it must not overwrite).
      const stray = await StorageStore.open(e.v2db, { prefix: 'ss/', storeKeys: STORES });
      await stray.applyChangeset(50, { changes: [] });
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true });
      const failure = await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'migrationFailed')));
      expect((failure as { error: { code: string } }).error.code).toBe('ERR_IMPORT_NOT_EMPTY');
      expect(root.phase).toBe('failed');
      expect(root.isMigrating).toBe(false);
      const hash = await root.commit(scenarioChangeset(7, 2, STORES));
      expect(hash).toHaveLength(32);
      expect((await root.query('store2', utf8('key-7-1'))).value).toEqual(utf8('value-7-1'));
      await root.close();
    } finally {
      await e.close();
    }
  });
});

describe('abandoning a migration (the changeset log stays bounded)', () => {
  /** A root store whose migration failed at height 6: a stray newer SS version refuses the restore. */
  async function failedMigration(e: Env, options: Omit<RootStoreOptions, 'v1' | 'v2'> = {}) {
    await buildV1(e.v1db, 6, 2);
    const stray = await StorageStore.open(e.v2db, { prefix: 'ss/', storeKeys: STORES });
    await stray.applyChangeset(50, { changes: [] });
    await stray.close();
    const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true, ...options });
    const events: RootStoreEvent[] = [];
    root.events$.subscribe((ev) => events.push(ev));
    await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'migrationFailed')));
    return { root, events };
  }

  /** Commits versions `from`..`to` of the scenario; returns their app hashes. */
  async function commitRange(root: RootStore, from: number, to: number): Promise<Map<number, Uint8Array>> {
    const hashes = new Map<number, Uint8Array>();
    for (let v = from; v <= to; v++) hashes.set(v, await root.commit(scenarioChangeset(v, 2, STORES)));
    return hashes;
  }

  it('a failed migration logs up to failedMigrationLogLimit changesets, then is abandoned; loadVersion starts afresh on wiped targets', async () => {
    const e = await env();
    try {
      const { root, events } = await failedMigration(e, { failedMigrationLogLimit: 20 });
      await commitRange(root, 7, 26);
      // Versions 7..26 are kept for a retry: the limit.
      expect({ first: await root.migrationLog.first(), latest: await root.migrationLog.latest() }).toEqual({ first: 7, latest: 26 });
      expect(events.some((ev) => ev.type === 'migrationAbandoned')).toBe(false);
      await commitRange(root, 27, 40);
      expect(events.filter((ev) => ev.type === 'migrationAbandoned')).toEqual([{ type: 'migrationAbandoned', height: 6, reason: 'logLimit' }]);
      expect(root.phase).toBe('v1');
      expect({ first: await root.migrationLog.first(), latest: await root.migrationLog.latest() }).toEqual({ first: 0, latest: 0 });
      expect((await root.query('store1', utf8('key-40-1'))).value).toEqual(utf8('value-40-1'));
      await expect(root.retryMigration()).rejects.toMatchObject({ code: 'ERR_STATE' });

      // A fresh migration at the latest version: the stray SS version is wiped with the rest.
      await root.loadVersion();
      expect(root.phase).toBe('migrating');
      expect(root.migrationHeight).toBe(40);
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      await root.commit(scenarioChangeset(41, 2, STORES));
      expect(root.phase).toBe('switched');
      expect((await root.query('store2', utf8('key-41-0'))).value).toEqual(utf8('value-41-0'));
      expect((await root.query('store2', utf8('key-7-0'))).value).toEqual(utf8('value-7-0'));
      await expect(root.abandonMigration()).rejects.toMatchObject({ code: 'ERR_STATE', message: 'cannot abandon the migration: the migration is switched' });
      await root.close();
    } finally {
      await e.close();
    }
  });

  it('abandonMigration stops logging at once, durably: a reopen logs nothing, and one with migrate starts afresh', async () => {
    const e = await env();
    try {
      const { root } = await failedMigration(e);
      const hashes = await commitRange(root, 7, 9);
      await root.close();
      // Opened without migrate, the recorded migration keeps logging until it is abandoned.
      const quiet = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db } });
      expect(quiet.phase).toBe('v1');
      await commitRange(quiet, 10, 11);
      expect(await quiet.migrationLog.latest()).toBe(11);
      const abandoned = firstValueFrom(quiet.events$.pipe(filter((ev) => ev.type === 'migrationAbandoned')));
      await quiet.abandonMigration();
      expect(await abandoned).toEqual({ type: 'migrationAbandoned', height: 6, reason: 'requested' });
      expect(await quiet.migrationLog.first()).toBe(0);
      await commitRange(quiet, 12, 13);
      expect(await quiet.migrationLog.first()).toBe(0);
      await expect(quiet.abandonMigration()).rejects.toMatchObject({ code: 'ERR_STATE', message: 'cannot abandon the migration: the migration is abandoned' });
      await quiet.close();

      const again = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db } });
      await commitRange(again, 14, 14);
      expect(await again.migrationLog.first()).toBe(0);
      await again.close();

      const fresh = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true });
      expect(fresh.migrationHeight).toBe(14);
      await firstValueFrom(fresh.events$.pipe(filter((ev) => ev.type === 'restored')));
      const hash15 = await fresh.commit(scenarioChangeset(15, 2, STORES));
      expect(fresh.phase).toBe('switched');
      // The app-hash chain goes on as store/v1's would have.
      const shadowDb = await openDb();
      const shadowHashes = await buildV1(shadowDb, 15, 2);
      await shadowDb.close();
      expect(toHex(hash15)).toBe(toHex(shadowHashes.get(15)!));
      expect(toHex(hashes.get(9)!)).toBe(toHex(shadowHashes.get(9)!));
      await fresh.close();
    } finally {
      await e.close();
    }
  });

  it('an abandonMigration whose record cannot be written changes nothing: the migration goes on and switches', async () => {
    const e = await env();
    const faulty = new FaultyLevel(e.v2db);
    try {
      await buildV1(e.v1db, 5, 3);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: faulty.db }, migrate: true });
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      faulty.arm({ afterWrites: 1 });
      await expect(root.abandonMigration()).rejects.toMatchObject({ code: 'ERR_IO' });
      faulty.disarm();
      expect(root.phase).toBe('migrating');
      for (let v = 6; root.phase === 'migrating' && v <= 50; v++) {
        await root.commit(scenarioChangeset(v, 2, STORES));
        await blockTime(root);
      }
      expect(root.phase).toBe('switched');
      await root.close();
    } finally {
      await e.close();
    }
  });

  it('an abandon whose log deletion fails is still done; the log goes at the next open', async () => {
    const e = await env();
    try {
      await failedMigration(e).then(({ root }) => commitRange(root, 7, 9).then(() => root.close()));
      const v1 = new FaultyLevel(e.v1db);
      const root = await RootStore.open({ v1: { db: v1.db, storeKeys: STORES }, v2: { db: e.v2db } });
      expect(await root.migrationLog.latest()).toBe(9);
      v1.arm({ afterWrites: 1 });
      await root.abandonMigration();
      expect(v1.injected).toBe(1);
      v1.disarm();
      expect(root.phase).toBe('v1');
      expect(await root.migrationLog.first()).toBe(7);
      await root.close();
      const again = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db } });
      expect(await again.migrationLog.first()).toBe(0);
      await again.close();
    } finally {
      await e.close();
    }
  });

  it('abandon and retry issued together: the later one sees what the earlier did (no migration both abandoned and running)', async () => {
    const e = await env();
    try {
      const { root } = await failedMigration(e);
      const [abandoned, retried] = await Promise.allSettled([root.abandonMigration(), root.retryMigration()]);
      expect(abandoned.status).toBe('fulfilled');
      expect(retried).toMatchObject({ status: 'rejected', reason: { code: 'ERR_STATE', message: 'cannot retry: the migration has not failed (phase v1, record abandoned)' } });
      expect(root.phase).toBe('v1');
      await commitRange(root, 7, 8);
      expect(await root.migrationLog.first()).toBe(0);
      await root.close();
    } finally {
      await e.close();
    }
  });

  it('a loadVersion whose record cannot be written changes nothing; closed, the calls reject', async () => {
    const e = await env();
    const faulty = new FaultyLevel(e.v2db);
    try {
      await buildV1(e.v1db, 4, 2);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: faulty.db } });
      (root as unknown as { options: { migrate: boolean } }).options.migrate = true;
      faulty.arm({ afterWrites: 1 });
      await expect(root.loadVersion()).rejects.toMatchObject({ code: 'ERR_IO' });
      faulty.disarm();
      expect(root.phase).toBe('v1');
      await root.commit(scenarioChangeset(5, 2, STORES));
      expect(await root.migrationLog.latest()).toBe(0);
      await root.loadVersion();
      expect(root.migrationHeight).toBe(5);
      await root.close();
      for (const call of [() => root.loadVersion(), () => root.retryMigration(), () => root.abandonMigration()]) {
        await expect(call()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
      }
    } finally {
      await e.close();
    }
  });

  it('a commit issued together with loadVersion after an abandon is not lost to the new migration', async () => {
    const e = await env();
    try {
      const { root } = await failedMigration(e);
      await root.abandonMigration();
      // Issued back to back: the commit first, then the load (which wipes the targets and starts).
      await Promise.all([root.commit(scenarioChangeset(7, 2, STORES)), root.loadVersion()]);
      expect(root.migrationHeight).toBe(7);
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      for (let v = 8; root.phase === 'migrating' && v <= 40; v++) {
        await root.commit(scenarioChangeset(v, 2, STORES));
        await blockTime(root);
      }
      expect(root.phase).toBe('switched');
      expect((await root.query('store1', utf8('key-7-0'))).value).toEqual(utf8('value-7-0'));
      await root.close();
    } finally {
      await e.close();
    }
  });

  it('refuses to abandon when nothing is recorded or the migration switched, and refuses a limit below 1', async () => {
    await withRootStore(3, 2, {}, async (root) => {
      await expect(root.abandonMigration()).rejects.toMatchObject({ code: 'ERR_STATE', message: 'cannot abandon the migration: no migration is recorded' });
    });
    const e = await env();
    try {
      await expect(RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, failedMigrationLogLimit: 0 })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    } finally {
      await e.close();
    }
  });
});

describe('store/v1 and store/v2 in one database (weakness 13: namespaces never overlap)', () => {
  it('migrates, switches and reopens; store/v1 keeps its app hashes and the chain goes on as a shadow store/v1 computes it', async () => {
    const dir = tempDir('rxsm-one-db-');
    const db = await openDb(join(dir.path, 'one.db'));
    const shadowDb = await openDb();
    try {
      const built = await buildV1(db, 5, 4);
      const shadow = await buildV1(shadowDb, 5, 4);
      const open = () => RootStore.open({ v1: { db, storeKeys: STORES }, v2: { db }, migrate: true });
      const root = await open();
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      const shadowV1 = await LegacyStore.open(shadowDb, { storeKeys: STORES });
      for (let v = 6; v <= 12; v++) {
        const changeset = scenarioChangeset(v, 1, STORES);
        const hash = await root.commit(changeset);
        shadow.set(v, commitInfoHash((await shadowV1.commit(changeset.changeset)).storeInfos));
        expect(toHex(hash)).toBe(toHex(shadow.get(v)!));
      }
      expect(root.phase).toBe('switched');
      expect((await root.query('store1', utf8('key-3-1'), { version: 4, prove: true })).value).toEqual(utf8('value-3-1'));
      await root.close();
      const v1 = await LegacyStore.open(db, { storeKeys: STORES });
      for (let v = 1; v <= 5; v++) expect(toHex(await v1.appHash(v))).toBe(toHex(built.get(v)!));
      const again = await open();
      expect(again.phase).toBe('switched');
      expect(again.latestVersion).toBe(12);
      expect((await again.query('store3', utf8('key-12-0'))).value).toEqual(utf8('value-12-0'));
      await again.close();
    } finally {
      await db.close();
      await shadowDb.close();
      dir.cleanup();
    }
  });
});

describe('commits during a migration (behaviour 33)', () => {
  it('go to store/v1 and the log only: the SS is written by the catch-up alone, after the restore, each version once', async () => {
    const e = await env();
    const original = StorageStore.prototype.applyChangeset;
    const spy = jest.spyOn(StorageStore.prototype, 'applyChangeset');
    try {
      await buildV1(e.v1db, 30, 100);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true, batchSize: 8 });
      const seen: string[] = [];
      root.events$.subscribe((ev) => seen.push(ev.type));
      const writes: { version: number; restoredBefore: boolean }[] = [];
      spy.mockImplementation(async function (this: StorageStore, version, changeset) {
        writes.push({ version, restoredBefore: seen.includes('restored') });
        return original.call(this, version, changeset);
      });
      for (let v = 31; root.phase === 'migrating' && v <= 300; v++) {
        await root.commit(scenarioChangeset(v, 2, STORES));
        // A short block time: blocks keep coming during the restore and the catch-up. After 100
        // blocks the block time adapts, so a loaded machine still lets the catch-up finish.
        if (v < 130) await new Promise((resolve) => setTimeout(resolve, 5));
        else await blockTime(root);
      }
      expect(root.phase).toBe('switched');
      const switchedAt = root.latestVersion;
      expect(switchedAt).toBeGreaterThan(32);
      const beforeSwitch = writes.filter((w) => w.version < switchedAt);
      expect(beforeSwitch.every((w) => w.restoredBefore)).toBe(true);
      expect(beforeSwitch.map((w) => w.version)).toEqual(Array.from({ length: switchedAt - 31 }, (_, i) => 31 + i));
      await root.close();
    } finally {
      spy.mockRestore();
      await e.close();
    }
  });
});

describe('a malformed changeset (a pair without remove, from a JavaScript caller)', () => {
  it('is refused before anything is written, before and after the switch (the trees took it, the SS did not)', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 4, 2);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true });
      const events: RootStoreEvent[] = [];
      root.events$.subscribe((ev) => events.push(ev));
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      const loose = { changes: [{ storeKey: 'store1', pairs: [{ key: utf8('k'), value: utf8('v') }] }] } as unknown as Changeset;
      for (const phase of ['migrating', 'switched']) {
        expect(root.phase).toBe(phase);
        const latest = root.latestVersion;
        const error = await errorOf(root.commit(loose));
        expect(error.code).toBe('ERR_INVALID_ARGUMENT');
        expect(error.message).toBe(`changeset ${latest + 1} store store1 pair 0: remove must be a boolean`);
        expect(root.latestVersion).toBe(latest);
        await root.commit(scenarioChangeset(latest + 1, 2, STORES));
      }
      expect(events.filter((ev) => ev.type === 'ssBehind')).toEqual([]);
      await root.close();
    } finally {
      await e.close();
    }
  });
});

describe('a switched store/v2 opened with another v2.sc setting than its migration', () => {
  it('migrated without an SC, opened with one: refused, saying so', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 4, 2);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db, sc: false }, migrate: true });
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      for (let v = 5; v <= 6; v++) await root.commit(scenarioChangeset(v, 2, STORES));
      expect(root.phase).toBe('switched');
      await root.close();
      const error = await errorOf(RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db } }));
      expect(error).toMatchObject({
        code: 'ERR_STATE',
        message: 'store/v2 switched at version 5 without an SC (its SC is empty): open it with v2.sc false, as it was migrated',
      });
    } finally {
      await e.close();
    }
  });

  it('is refused at open: the SS is ahead of the commitment the root store would use', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 4, 2);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db }, migrate: true });
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      for (let v = 5; v <= 7; v++) await root.commit(scenarioChangeset(v, 2, STORES));
      expect(root.phase).toBe('switched');
      await root.close();
      const error = await errorOf(RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db, sc: false } }));
      expect(error.code).toBe('ERR_STATE');
      expect(error.message).toBe(
        'the store/v2 SS holds versions up to 7, but store/v1 is at 4, which it is never ahead of: was store/v2 opened with v2.sc false although it migrated with an SC?',
      );
    } finally {
      await e.close();
    }
  });
});

describe.each([
  ['with SC', true],
  ['SS only', false],
])('a switched store/v2 whose store/v1 was committed to without the root store (%s)', (_name, withSc) => {
  it('is refused at open with ERR_STATE, instead of serving store/v2 without those blocks', async () => {
    const e = await env();
    try {
      await buildV1(e.v1db, 5, 2);
      const open = () => RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: e.v2db, sc: withSc }, migrate: true });
      const root = await open();
      await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
      await root.commit(scenarioChangeset(6, 2, STORES));
      await root.commit(scenarioChangeset(7, 2, STORES));
      expect(root.phase).toBe('switched');
      await root.close();
      // A node run on store/v1 alone commits two blocks.
      const alone = await LegacyStore.open(e.v1db, { storeKeys: STORES });
      const from = alone.latestVersion + 1;
      for (let v = from; v < from + 2; v++) await alone.commit(scenarioChangeset(v, 2, STORES).changeset);
      const error = await errorOf(open());
      expect(error.code).toBe('ERR_STATE');
      expect(error.message).toBe(
        withSc
          ? 'store/v1 holds versions 6..7, committed after the switch to store/v2 at version 6 (migration height 5): store/v2 does not have them; migrate again into an empty store/v2'
          : 'the store/v2 SS holds versions up to 7, but store/v1 is at 9 and the changeset log cannot complete it (switched at version 6; was store/v1 committed to without the root store?); migrate again into an empty store/v2',
      );
    } finally {
      await e.close();
    }
  });
});
