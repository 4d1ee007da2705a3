import type { LevelDb } from '../../src/db/level-db.js';
import { SyncFirstReader } from '../../src/db/sync-first-reader.js';

/** A database stub whose synchronous reads take at least `spinMs` each and echo the key. */
function stubDb(spinMs: number) {
  const calls = { sync: 0, many: 0 };
  const db = {
    supports: { getSync: true },
    getSync(key: Uint8Array): Uint8Array {
      calls.sync++;
      const until = performance.now() + spinMs;
      while (performance.now() < until);
      return key;
    },
    async getMany(keys: Uint8Array[]): Promise<Uint8Array[]> {
      calls.many++;
      return keys;
    },
  } as unknown as LevelDb;
  return { db, calls };
}

const keys = (n: number, from = 0) => Array.from({ length: n }, (_, i) => Uint8Array.of(from + i));
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SyncFirstReader: synchronous reads within a budget per event-loop turn', () => {
  it('reads from cache synchronously, in order', async () => {
    const { db, calls } = stubDb(0);
    const reader = new SyncFirstReader(db);
    expect(await reader.getMany(keys(40))).toEqual(keys(40));
    expect(calls).toEqual({ sync: 40, many: 0 });
  });

  it('hands the rest of a batch to getMany once the turn has used its budget, keeping the order', async () => {
    const { db, calls } = stubDb(0.25);
    const reader = new SyncFirstReader(db);
    // 64 reads of ≥ 0.25 ms: the 2 ms budget is spent at the 16th key, where the clock is read.
    expect(await reader.getMany(keys(64))).toEqual(keys(64));
    expect(calls.many).toBe(1);
    expect(calls.sync).toBe(16);
  });

  it('lets the event loop turn even when the caller awaits only microtasks (small batches count)', async () => {
    const { db, calls } = stubDb(0.005);
    const reader = new SyncFirstReader(db);
    let n = 0;
    while (calls.many === 0 && n < 100_000) await reader.getMany(keys(2, n++ % 200));
    expect(calls.many).toBeGreaterThan(0);
    expect(calls.sync).toBeGreaterThan(0);
  });

  it('after a slow full batch (data on disk), the next batches go through getMany, then sync again', async () => {
    const { db, calls } = stubDb(0.1);
    const reader = new SyncFirstReader(db);
    await reader.getMany(keys(16));
    expect(calls).toEqual({ sync: 16, many: 0 });
    await turn();
    for (let i = 0; i < 64; i++) await reader.getMany(keys(4));
    expect(calls).toEqual({ sync: 16, many: 64 });
    await turn();
    await reader.getMany(keys(1));
    expect(calls.sync).toBe(17);
  });

  it('small batches stay synchronous even when slow (a tree update loading its path), within the budget', async () => {
    const { db, calls } = stubDb(0.1);
    const reader = new SyncFirstReader(db);
    for (let i = 0; i < 3; i++) {
      await reader.getMany(keys(2));
      await turn();
    }
    expect(calls).toEqual({ sync: 6, many: 0 });
  });

  it('uses getMany only when the database has no getSync (memory-level)', async () => {
    const { db, calls } = stubDb(0);
    (db as unknown as { supports: object }).supports = {};
    expect(await new SyncFirstReader(db).getMany(keys(3))).toEqual(keys(3));
    expect(calls).toEqual({ sync: 0, many: 1 });
  });
});
