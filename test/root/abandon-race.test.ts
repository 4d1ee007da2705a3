import { filter, firstValueFrom } from 'rxjs';
import { fromUtf8, toHex, utf8 } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { RootStore } from '../../src/root/root-store.js';
import { scenarioChangeset } from '../support/changesets.js';
import { blockTime, commitPastSwitch } from '../support/db.js';

/**
 * Writes of an abandoned migration still in flight must land before the wipe that the next
 * migration starts with. One store/v2 batch of the first run is held to make the race deterministic.
 */
const STORES = ['store1', 'store2', 'store3'];
const turn = () => new Promise((resolve) => setImmediate(resolve));
const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

interface Op {
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
}

/** Holds the first chained batch of `db` with a put matching `match` until `release()`. */
function holdFirstBatch(db: LevelDb, match: (key: string) => boolean) {
  const original = db.batch;
  let held: { ops: Op[]; landed: Promise<void> } | undefined;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  (db as { batch: unknown }).batch = (...args: unknown[]) => {
    if (args.length > 0) return (original as (...a: unknown[]) => unknown).apply(db, args);
    const chained = original.call(db);
    const ops: Op[] = [];
    const { put, del, write } = { put: chained.put.bind(chained), del: chained.del.bind(chained), write: chained.write.bind(chained) };
    chained.put = (key: Uint8Array, value: Uint8Array) => (ops.push({ key, value }), put(key, value));
    chained.del = (key: Uint8Array) => (ops.push({ key }), del(key));
    chained.write = () => {
      if (held === undefined && ops.some((op) => op.value !== undefined && match(latin1(op.key)))) {
        const landed = gate.then(() => write());
        held = { ops, landed };
        return landed;
      }
      return write();
    };
    return chained;
  };
  return {
    get held() {
      return held;
    },
    release,
    restore: () => ((db as { batch: unknown }).batch = original),
  };
}

/**
 * Migrates store/v1 (versions 1..6) with the first matching SC batch held, abandons, commits 7 and
 * 8 to store/v1, migrates again at 8 and releases the held batch once that run restored (if
 * abandon did not wait for it), then commits until the switch and one version more.
 */
async function abandonWithWriteInFlight(match: (key: string) => boolean) {
  const v1db = await openDb();
  const v2db = await openDb();
  const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
  for (let v = 1; v <= 6; v++) await v1.commit(scenarioChangeset(v, 8, STORES).changeset);
  const hold = holdFirstBatch(v2db, match);
  const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db }, migrate: true });
  try {
    for (let i = 0; i < 10_000 && hold.held === undefined; i++) await turn();
    expect(hold.held).toBeDefined();
    let abandonReturned = false;
    const abandoning = root.abandonMigration().then(() => void (abandonReturned = true));
    for (let i = 0; i < 200 && !abandonReturned; i++) await turn();
    const abandonWaitedForTheWrite = !abandonReturned;
    if (abandonWaitedForTheWrite) hold.release();
    await abandoning;

    await root.commit(scenarioChangeset(7, 8, STORES));
    await root.commit(scenarioChangeset(8, 8, STORES));
    await root.loadVersion();
    await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
    hold.release();
    await hold.held!.landed;
    const commitError = await commitPastSwitch(root, 9, STORES);
    return { v1db, v2db, root, held: hold.held!.ops, abandonWaitedForTheWrite, commitError, restore: hold.restore };
  } catch (error) {
    await root.close();
    await v1db.close();
    await v2db.close();
    throw error;
  }
}

/**
 * Expects the migration after the abandoned one to have switched without a failed commit, abandon
 * to have waited for the held write, then closes the root store and reopens its SC from disk.
 */
async function switchedThenReopenSc(r: Awaited<ReturnType<typeof abandonWithWriteInFlight>>) {
  expect({ waited: r.abandonWaitedForTheWrite, commitError: r.commitError, phase: r.root.phase }).toEqual({ waited: true, commitError: undefined, phase: 'switched' });
  const latest = r.root.latestVersion;
  await r.root.close();
  r.restore();
  return { sc: await CommitStore.open(r.v2db, { storeKeys: STORES, prefix: 'sc/' }), latest };
}

describe('abandonMigration with a write of the abandoned run still in flight', () => {
  it('an SC import batch: abandon waits for it, so the wipe removes it and the new SC holds no node of the old run', async () => {
    const r = await abandonWithWriteInFlight((key) => key.startsWith('sc/t/'));
    try {
      // The new SC, read back from disk: every key, and no node of the held batch that a clean
      // migration of the same history would not have written (identical content) survives.
      const { sc, latest } = await switchedThenReopenSc(r);
      for (const store of STORES) {
        for (let v = 1; v <= latest; v++) expect(fromUtf8((await sc.get(store, latest, utf8(`key-${v}-0`)))!)).toBe(`value-${v}-0`);
      }
      const clean = await cleanScKeys(latest);
      const stale: string[] = [];
      for (const op of r.held) {
        const now = await r.v2db.get(op.key);
        if (op.value !== undefined && now !== undefined && !clean.has(latin1(op.key))) stale.push(latin1(op.key));
      }
      expect(stale).toEqual([]);
    } finally {
      await r.v1db.close();
      await r.v2db.close();
    }
  });

  it('the SC commit-info batch of the abandoned restore (c/latest): it cannot land after the new restore and roll the SC back under the switch', async () => {
    const r = await abandonWithWriteInFlight((key) => key === 'sc/c/latest');
    try {
      // Without waiting: the stale `c/latest = 6` lands after the new restore at 8, the root store
      // switches (durably) and its first store/v2 commit fails "expected 7, got 9".
      const { sc, latest } = await switchedThenReopenSc(r);
      expect(sc.latestVersion).toBe(latest);
      const v1 = await LegacyStore.open(r.v1db, { storeKeys: STORES });
      for (const store of STORES) expect(toHex(await sc.storeRoot(store, 8))).toBe(toHex(await v1.storeRoot(store, 8)));
    } finally {
      await r.v1db.close();
      await r.v2db.close();
    }
  });
});

/** The sc/ keys of a clean migration of the same history (height 8), switched and committed as far. */
async function cleanScKeys(latest: number): Promise<Set<string>> {
  const v1db = await openDb();
  const v2db = await openDb();
  try {
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
    for (let v = 1; v <= 8; v++) await v1.commit(scenarioChangeset(v, 8, STORES).changeset);
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db }, migrate: true });
    await firstValueFrom(root.events$.pipe(filter((ev) => ev.type === 'restored')));
    for (let v = 9; v <= latest; v++) {
      await root.commit(scenarioChangeset(v, 8, STORES));
      await blockTime(root);
    }
    await root.close();
    const keys = new Set<string>();
    for await (const key of v2db.keys({ gte: utf8('sc/'), lt: utf8('sc0') })) keys.add(latin1(key));
    return keys;
  } finally {
    await v1db.close();
    await v2db.close();
  }
}
