import type { BatchReader } from '../../src/core/batch-reader.js';
import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import type { RestorePair } from '../../src/storage/ss-restore.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('StorageStore.restore over a BatchReader', () => {
  it('on unsubscribe closes the reader once, only after the read under way settled', async () => {
    const db = await openDb();
    try {
      const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: ['bank'] });
      const log: string[] = [];
      let finishRead!: () => void;
      let reading = false;
      const reader: BatchReader<RestorePair> = {
        read: () => {
          reading = true;
          log.push('read');
          return new Promise((resolve) =>
            (finishRead = () => {
              reading = false;
              log.push('read done');
              resolve([{ storeKey: 'bank', key: utf8('k'), value: utf8('v') }]);
            }),
          );
        },
        close: async () => void log.push(reading ? 'close DURING read' : 'close'),
      };
      const subscription = ss.restore(5, reader).subscribe({ error: () => undefined });
      for (let i = 0; i < 20 && !reading; i++) await tick();
      expect(reading).toBe(true);
      subscription.unsubscribe();
      await tick();
      finishRead();
      for (let i = 0; i < 20; i++) await tick();
      expect(log).toEqual(['read', 'read done', 'close']);
    } finally {
      await db.close();
    }
  });
});
