import { join } from 'node:path';
import type { BatchReader } from '../../src/core/batch-reader.js';
import { utf8 } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { WorkerSnapshotReader } from '../../src/v1/worker-snapshot-reader.js';
import { randomHistory } from '../support/changesets.js';
import { tempDir } from '../support/db.js';

// A file of its own: the fallback warning is emitted once per process (module), and this test
// needs to see it.
describe('store/v1 snapshots read by a worker thread: the trees its caller sends', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: LevelDb;

  beforeEach(async () => {
    dir = tempDir('rxsm-export-worker-trees-');
    db = await openDb(join(dir.path, 'application.db'));
    const v1 = await LegacyStore.open(db, { storeKeys: ['acc', 'bank'] });
    for (const { changeset } of randomHistory(5, 12, ['acc', 'bank'], 20)) await v1.commit(changeset);
  });

  afterEach(async () => {
    await db.close();
    dir.cleanup();
  });

  it('refuse to start, and fall back to this thread, when the worker does not find a tree where its caller did', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const guard: BatchReader<SnapshotItem> = { read: async () => [], close: async () => undefined };
    try {
      const location = join(dir.path, 'application.db');
      // 'acc' has version 12 under its own prefix; under another prefix the worker finds nothing.
      const started = await WorkerSnapshotReader.start({ db, location, trees: [{ storeKey: 'acc', prefix: utf8('s/k:elsewhere/'), hasVersion: true }], version: 12, guard });
      expect(started).toBeUndefined();
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(emitWarning.mock.calls[0]![0]).toMatch(/could not start \(store acc: the export worker does not find version 12, unlike its caller\)/);
      const agrees = await WorkerSnapshotReader.start({ db, location, trees: [{ storeKey: 'acc', prefix: utf8('s/k:acc/'), hasVersion: true }], version: 12, guard });
      expect(agrees).toBeInstanceOf(WorkerSnapshotReader);
      expect((await agrees!.read(1))[0]).toEqual({ kind: 'store', name: 'acc' });
      await agrees!.close();
    } finally {
      emitWarning.mockRestore();
    }
  });
});
