import { join } from 'node:path';
import type { BatchReader } from '../../src/core/batch-reader.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { LegacyStore, type LegacyStoreOptions } from '../../src/v1/legacy-store.js';
import { randomHistory } from '../support/changesets.js';
import { tempDir } from '../support/db.js';
import { watchExportWorkers, type ExportWorkerWatch } from '../support/export-workers.js';

const STORES = ['acc', 'bank', 'staking'];
const VERSION = 8;

async function readAll(reader: BatchReader<SnapshotItem>): Promise<unknown[]> {
  const out: unknown[] = [];
  try {
    for (;;) {
      const batch = await reader.read(50);
      if (batch.length === 0) break;
      // Copied out of the worker's packed buffers, for comparisons.
      for (const item of batch) {
        out.push(item.kind === 'iavl' ? { ...item, key: Buffer.from(item.key).toString('hex'), value: Buffer.from(item.value).toString('hex') } : item);
      }
    }
  } finally {
    await reader.close();
  }
  return out;
}

describe('LegacyStoreOptions.exportWorker on a database on disk', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: LevelDb;
  let watch: ExportWorkerWatch | undefined;

  beforeEach(async () => {
    dir = tempDir('rxsm-export-worker-option-');
    db = await openDb(join(dir.path, 'application.db'));
    const writer = await LegacyStore.open(db, { storeKeys: STORES });
    for (const { changeset } of randomHistory(7, VERSION, STORES, 20)) await writer.commit(changeset);
  });

  afterEach(async () => {
    watch?.restore();
    watch = undefined;
    await db.close();
    dir.cleanup();
  });

  /** The snapshot at VERSION read by a store opened with `options`, and the export workers it started. */
  async function readWith(options: Omit<LegacyStoreOptions, 'storeKeys'>): Promise<{ items: unknown[]; starts: number; running: number; threads: string[] }> {
    watch = watchExportWorkers();
    const store = await LegacyStore.open(db, { storeKeys: STORES, ...options });
    const items = await readAll(await store.snapshotReader(VERSION));
    const seen = { items, starts: watch.starts.mock.calls.length, running: await watch.running(), threads: watch.threads() };
    watch.restore();
    watch = undefined;
    return seen;
  }

  it('by default, reading a snapshot starts exactly one export worker thread', async () => {
    const seen = await readWith({});
    expect(seen.starts).toBe(1);
    expect(seen.running).toBe(1);
    expect(seen.threads).toHaveLength(1);
    expect(seen.threads[0]).toMatch(/\/v1\/export-worker\.js\b/);
  });

  it('with exportWorker: true, too, it starts exactly one', async () => {
    const seen = await readWith({ exportWorker: true });
    expect(seen.starts).toBe(1);
    expect(seen.running).toBe(1);
    expect(seen.threads).toHaveLength(1);
  });

  it('with exportWorker: false, reading a snapshot starts no worker thread at all', async () => {
    const seen = await readWith({ exportWorker: false });
    expect(seen.starts).toBe(0);
    expect(seen.threads).toEqual([]);
  });

  it('gives the same snapshot items with and without the worker', async () => {
    const onWorker = await readWith({});
    const onThread = await readWith({ exportWorker: false });
    expect(onWorker.threads).toHaveLength(1);
    expect(onThread.threads).toEqual([]);
    expect(onThread.items.filter((item) => (item as SnapshotItem).kind === 'store')).toHaveLength(STORES.length);
    expect(onThread.items.length).toBeGreaterThan(50);
    expect(onWorker.items).toEqual(onThread.items);
  });
});
