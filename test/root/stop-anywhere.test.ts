import { filter, firstValueFrom } from 'rxjs';
import { openDb } from '../../src/db/level-db.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { RootStore, type RootStoreEvent } from '../../src/root/root-store.js';
import { scenarioChangeset } from '../support/changesets.js';
import { blockTime } from '../support/db.js';

const STORES = ['s1', 's2', 's3'];
const turn = () => new Promise((resolve) => setImmediate(resolve));
const within = async <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} hung`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
};

describe('stopping a live migration at any point', () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  beforeAll(() => process.on('unhandledRejection', onRejection));
  afterAll(() => void process.off('unhandledRejection', onRejection));

  it.each([0, 2, 8, 34, 144, 700, 2000])('abandon / close after %i turns: no hang, no failure, no unhandled rejection, and the next migration switches', async (delay) => {
    const v1db = await openDb();
    const v2db = await openDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: STORES, exportWorker: false });
    for (let v = 1; v <= 10; v++) await v1.commit(scenarioChangeset(v, 150, STORES).changeset);
    const events: RootStoreEvent[] = [];
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES, exportWorker: false }, v2: { db: v2db }, migrate: true, batchSize: 32 });
    root.events$.subscribe((e) => events.push(e));
    try {
      for (let i = 0; i < delay; i++) {
        await turn();
      }
      expect(root.phase).toBe('migrating');
      await within(root.abandonMigration(), 10_000, 'abandonMigration');
      await root.commit(scenarioChangeset(root.latestVersion + 1, 4, STORES));
      await root.loadVersion();
      for (let i = 0; i < delay; i++) await turn();
      for (let n = 0; n < 60 && root.phase === 'migrating'; n++) {
        await root.commit(scenarioChangeset(root.latestVersion + 1, 4, STORES));
        await blockTime(root);
      }
      await within(root.close(), 10_000, 'close');
      // Unhandled rejections are reported after the turn that left them: a few turns, not a clock.
      for (let i = 0; i < 10; i++) await turn();
      const failed = events.filter((e) => e.type === 'migrationFailed').map((e) => String((e as { error: unknown }).error));
      expect({ failed, phase: root.phase, rejections: rejections.map(String) }).toEqual({ failed: [], phase: 'switched', rejections: [] });
    } finally {
      await root.close();
      await v1db.close();
      await v2db.close();
    }
  });
});
