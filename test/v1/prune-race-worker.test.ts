import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs } from '../../src/core/changeset.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { tempDir } from '../support/db.js';

const STORES = ['a', 'b'];

/** Holds the write of the next chained batch of `db` until `release` is called. */
function holdNextBatch(db: LevelDb): { held: Promise<void>; release: () => void } {
  let release!: () => void;
  let signal!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = new Promise<void>((resolve) => (signal = resolve));
  const original = db.batch.bind(db);
  let armed = true;
  (db as unknown as { batch: () => unknown }).batch = () => {
    const batch = original() as unknown as { write: (...args: unknown[]) => Promise<void> };
    if (armed) {
      armed = false;
      const write = batch.write.bind(batch);
      batch.write = async (...args: unknown[]) => {
        signal();
        await gate;
        return write(...args);
      };
    }
    return batch;
  };
  return { held, release };
}

describe.each([true, false])('a store/v1 snapshot opened while a prune of its version is being written (worker %s)', (exportWorker) => {
  it('fails typed, never passes the pruned store off as empty', async () => {
    const dir = tempDir('rxsm-prune-race-');
    const db = await openDb(join(dir.path, 'application.db'));
    try {
      const v1 = await LegacyStore.open(db, { storeKeys: STORES, exportWorker });
      for (let v = 1; v <= 4; v++) {
        const pairs = STORES.flatMap((s): [string, Uint8Array, Uint8Array][] => [0, 1, 2, 3].map((i) => [s, utf8(`k${v}-${i}`), utf8(`v${v}`)]));
        await v1.commit(changesetFromPairs(v, pairs).changeset);
      }
      // prune(1): the deletion of version 1 of store a is issued (before any pin), its write lands late.
      const { held, release } = holdNextBatch(db);
      const pruning = v1.prune(1).then(() => 'pruned', (e: { code?: string }) => e.code);
      await held;
      const opened = v1.snapshotReader(1);
      // Opened (or refused) before the deletion lands.
      await opened.catch(() => undefined);
      release();
      expect(await pruning).toBe('pruned');
      // The deletion was issued before the pin: the open refuses the version (see `NodeDb.isPruned`)
      // before any worker starts, instead of passing store a off as empty.
      expect(await opened.then(() => 'opened', (e: { code?: string }) => e.code)).toBe('ERR_VERSION_PRUNED');
    } finally {
      await db.close();
      dir.cleanup();
    }
  });
});
