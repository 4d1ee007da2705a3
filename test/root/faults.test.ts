import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { isStoreError } from '../../src/core/errors.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { RootStore, type RootStoreEvent } from '../../src/root/root-store.js';
import { scenarioChangeset } from '../support/changesets.js';
import { blockTime, tempDir } from '../support/db.js';
import { FaultyLevel } from '../support/faulty-level.js';

const STORES = ['bank', 'staking'];
const HEIGHT = 12;

async function env() {
  const dir = tempDir('rxsm-fault-');
  const v1db = await openDb(join(dir.path, 'application.db'));
  const v2raw = await openDb(join(dir.path, 'v2.db'));
  const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
  for (let v = 1; v <= HEIGHT; v++) await v1.commit(scenarioChangeset(v, 25, STORES).changeset);
  return {
    v1,
    v1db,
    v2raw,
    close: async () => {
      await v1db.close();
      await v2raw.close();
      dir.cleanup();
    },
  };
}

async function waitFor(root: RootStore, type: RootStoreEvent['type']): Promise<RootStoreEvent> {
  return firstValueFrom(root.events$.pipe(filter((e) => e.type === type)));
}

/** Commits blocks (with a block time) until the root store switched. */
async function driveToSwitch(root: RootStore, limit: number): Promise<void> {
  while (root.phase !== 'switched' && root.latestVersion < limit) {
    await root.commit(scenarioChangeset(root.latestVersion + 1, 5, STORES));
    await blockTime(root);
  }
  expect(root.phase).toBe('switched');
}

describe.each([
  ['the 3rd write (restore)', { afterWrites: 3 }],
  ['the 12th write (restore or replay)', { afterWrites: 12 }],
  ['the 40th read of store/v2', { afterReads: 40 }],
])('fault injection on store/v2: %s', (_name, plan) => {
  it('surfaces a typed error, keeps serving from store/v1, and a retry completes the migration', async () => {
    const e = await env();
    const faulty = new FaultyLevel(e.v2raw);
    try {
      faulty.arm(plan);
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: faulty.db }, migrate: true, batchSize: 16 });
      const failedOrSwitched = firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'migrationFailed' || ev.type === 'switched')));
      // Commits go on while the migration runs (and fails).
      for (let i = 0; i < 6 && root.phase === 'migrating'; i++) {
        await root.commit(scenarioChangeset(root.latestVersion + 1, 5, STORES));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const outcome = await failedOrSwitched;
      expect(faulty.injected).toBe(1);
      expect(outcome.type).toBe('migrationFailed');
      const error = (outcome as { error: unknown }).error;
      expect(isStoreError(error)).toBe(true);
      expect((error as { code: string }).code).toMatch(/^ERR_/);
      expect((error as Error).message).toMatch(/injected (write|read) fault/);
      // store/v1 keeps serving: commits and queries work.
      expect(root.phase).toBe('failed');
      const v = root.latestVersion + 1;
      await root.commit(scenarioChangeset(v, 5, STORES));
      expect((await root.query('bank', utf8(`key-${v}-2`))).value).toEqual(utf8(`value-${v}-2`));
      // A retry resumes from what store/v2 durably holds and switches.
      await root.retryMigration();
      await driveToSwitch(root, root.latestVersion + 200);
      const latest = root.latestVersion;
      await root.close();
      // store/v2 holds exactly store/v1's state at every version from the height on.
      const sc = await CommitStore.open(e.v2raw, { storeKeys: STORES, prefix: 'sc/' });
      for (let w = HEIGHT; w < latest; w++) {
        const v1Hash = await e.v1.appHash(w).catch(() => undefined);
        if (v1Hash !== undefined) expect(toHex(await sc.appHash(w))).toBe(toHex(v1Hash));
      }
    } finally {
      await e.close();
    }
  });
});

describe('a store/v1 commit that fails during the migration (weakness 7)', () => {
  it('is not acknowledged to the migration: the block is committed again, and store/v2 matches store/v1 after the switch', async () => {
    const e = await env();
    const faultyV1 = new FaultyLevel(e.v1db);
    try {
      const root = await RootStore.open({ v1: { db: faultyV1.db, storeKeys: STORES }, v2: { db: e.v2raw }, migrate: true, batchSize: 16 });
      await root.commit(scenarioChangeset(HEIGHT + 1, 5, STORES));
      expect(root.phase).toBe('migrating');
      // The block's write fails: neither store/v1 nor the log holds it.
      const bad = scenarioChangeset(HEIGHT + 2, 5, STORES);
      faultyV1.arm({ afterWrites: 1 });
      await expect(root.commit({ changes: bad.changeset.changes.map((c) => ({ ...c, pairs: c.pairs.map((p) => ({ ...p, value: utf8('BAD') })) })) })).rejects.toThrow(
        /injected write fault/,
      );
      faultyV1.disarm();
      expect(root.latestVersion).toBe(HEIGHT + 1);
      expect(await root.migrationLog.latest()).toBe(HEIGHT + 1);
      await driveToSwitch(root, HEIGHT + 200);
      const latest = root.latestVersion;
      expect((await root.query('bank', utf8(`key-${HEIGHT + 2}-0`), { version: HEIGHT + 2 })).value).toEqual(utf8(`value-${HEIGHT + 2}-0`));
      await root.close();
      const sc = await CommitStore.open(e.v2raw, { storeKeys: STORES, prefix: 'sc/' });
      for (let w = HEIGHT; w < latest; w++) expect(toHex(await sc.appHash(w))).toBe(toHex(await e.v1.appHash(w)));
    } finally {
      await e.close();
    }
  });
});

describe.each([
  ['during the restore', false],
  ['during the catch-up', true],
])('RootStore.close() %s (weakness 23)', (_name, catchUp) => {
  it('stops the migration: nothing is written to store/v2 once close() resolved', async () => {
    const e = await env();
    const v2 = new FaultyLevel(e.v2raw);
    try {
      const root = await RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db: v2.db }, migrate: true, batchSize: 4 });
      if (catchUp) {
        const applied = waitFor(root, 'applied');
        for (let v = HEIGHT + 1; v <= HEIGHT + 30; v++) await root.commit(scenarioChangeset(v, 25, STORES));
        await applied;
      } else {
        await waitFor(root, 'progress');
      }
      expect(root.phase).toBe('migrating');
      await root.close();
      const atClose = v2.writes;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(v2.writes).toBe(atClose);
    } finally {
      await e.close();
    }
  });
});

describe('fault injection on store/v1 reads during the snapshot', () => {
  it('fails the migration with a typed error; the node still serves; a retry completes', async () => {
    const e = await env();
    const faultyV1 = new FaultyLevel(e.v1db);
    try {
      const root = await RootStore.open({ v1: { db: faultyV1.db, storeKeys: STORES }, v2: { db: e.v2raw }, migrate: false, batchSize: 16 });
      faultyV1.arm({ afterReads: 20 });
      (root as unknown as { options: { migrate: boolean } }).options.migrate = true;
      await root.loadVersion();
      const failure = await waitFor(root, 'migrationFailed');
      expect(isStoreError((failure as { error: unknown }).error)).toBe(true);
      expect(root.phase).toBe('failed');
      expect((await root.query('staking', utf8('key-3-1'))).value).toEqual(utf8('value-3-1'));
      await root.retryMigration();
      await driveToSwitch(root, root.latestVersion + 200);
      await root.close();
    } finally {
      await e.close();
    }
  });
});

describe.each([
  ['with an SC', true],
  ['SS only', false],
])('after the switch (%s)', (_name, withSc) => {
  const openRoot = (e: Awaited<ReturnType<typeof env>>, db: LevelDb) =>
    RootStore.open({ v1: { db: e.v1db, storeKeys: STORES }, v2: { db, sc: withSc }, migrate: true, batchSize: 16 });

  it('a commit whose SS write fails is committed; the SS is completed from the log before the next read and commit', async () => {
    const e = await env();
    const faulty = new FaultyLevel(e.v2raw);
    try {
      const root = await openRoot(e, faulty.db);
      await driveToSwitch(root, HEIGHT + 200);
      // The writes of one post-switch commit to store/v2: the SS write is the last of them.
      const before = faulty.writes;
      await root.commit(scenarioChangeset(root.latestVersion + 1, 5, STORES));
      faulty.arm({ afterWrites: faulty.writes - before });
      const behind = firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'ssBehind')));
      const v = root.latestVersion + 1;
      const hash = await root.commit(scenarioChangeset(v, 5, STORES));
      expect(faulty.injected).toBe(1);
      expect(root.latestVersion).toBe(v);
      const event = (await behind) as { version: number; error: Error };
      expect(event.version).toBe(v);
      expect(event.error.message).toMatch(/injected write fault/);
      // The read completes the SS first; so would the next commit.
      expect((await root.query('bank', utf8(`key-${v}-2`))).value).toEqual(utf8(`value-${v}-2`));
      await root.commit(scenarioChangeset(v + 1, 5, STORES));
      expect((await root.query('staking', utf8(`key-${v + 1}-4`))).value).toEqual(utf8(`value-${v + 1}-4`));
      await root.close();
      const reopened = await openRoot(e, e.v2raw);
      expect(reopened.latestVersion).toBe(v + 1);
      expect((await reopened.query('bank', utf8(`key-${v}-2`), { version: v })).value).toEqual(utf8(`value-${v}-2`));
      await reopened.close();
      // The commitment holds version v under the hash the commit returned, and nothing beyond v + 1.
      const commitment = withSc
        ? await CommitStore.open(e.v2raw, { storeKeys: STORES, prefix: 'sc/' })
        : await LegacyStore.open(e.v1db, { storeKeys: STORES });
      expect(commitment.latestVersion).toBe(v + 1);
      expect(toHex(await commitment.appHash(v))).toBe(toHex(hash));
    } finally {
      await e.close();
    }
  });

  it('a query while a commit is under way answers each version with its own value', async () => {
    const e = await env();
    let slow = false;
    // The same database, its batch writes taking 20 ms once slow (a slow disk).
    const v2 = new Proxy(e.v2raw, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property !== 'batch') return typeof value === 'function' ? value.bind(target) : value;
        return (...args: unknown[]) => {
          const pause = () => (slow ? new Promise((resolve) => setTimeout(resolve, 20)) : Promise.resolve());
          if (args.length > 0) return pause().then(() => value.apply(target, args));
          const chained = value.apply(target, []) as { write: (...a: unknown[]) => Promise<void> };
          const write = chained.write.bind(chained);
          chained.write = (...a: unknown[]) => pause().then(() => write(...a));
          return chained;
        };
      },
    }) as LevelDb;
    try {
      const root = await openRoot(e, v2);
      await driveToSwitch(root, HEIGHT + 200);
      const key = utf8('hot');
      const block = (v: number) => ({ changes: [{ storeKey: 'bank', pairs: [{ key, value: utf8(`v${v}`), remove: false }] }] });
      await root.commit(block(root.latestVersion + 1));
      slow = true;
      const v = root.latestVersion + 1;
      let done = false;
      const committing = root.commit(block(v)).then(() => (done = true));
      let answers = 0;
      while (!done) {
        const answer = await root.query('bank', key);
        expect(answer.value).toEqual(utf8(`v${answer.version}`));
        answers++;
      }
      await committing;
      expect(answers).toBeGreaterThan(1);
      expect((await root.query('bank', key)).value).toEqual(utf8(`v${v}`));
      await root.close();
    } finally {
      await e.close();
    }
  });

  it('a crash between the switch record and the trim of the migration log: the next open trims it', async () => {
    const e = await env();
    try {
      const root = await openRoot(e, e.v2raw);
      await driveToSwitch(root, HEIGHT + 200);
      const latest = root.latestVersion;
      expect(latest).toBeGreaterThan(HEIGHT + 1);
      // What the trim would have deleted: entries of versions before the latest.
      const stale = Array.from({ length: latest - HEIGHT - 1 }, (_, i) => HEIGHT + 1 + i);
      for (const v of stale) await root.migrationLog.append(scenarioChangeset(v, 1, STORES));
      await root.close();
      const reopened = await openRoot(e, e.v2raw);
      for (const v of stale) expect({ v, entry: await reopened.migrationLog.read(v) }).toEqual({ v, entry: undefined });
      // Without an SC, the latest commit's own entry stays: the SS would be completed from it.
      expect(await reopened.migrationLog.latest()).toBe(withSc ? 0 : latest);
      expect(reopened.latestVersion).toBe(latest);
      await reopened.close();
    } finally {
      await e.close();
    }
  });
});
