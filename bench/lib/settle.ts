import type { LevelDb } from '../../src/db/level-db.js';

/**
 * Waits until LevelDB's own compactions of `db` have stopped: its `leveldb.stats` (files, sizes
 * and compaction totals per level) unchanged for `quietMs`, polled every 250 ms, at most
 * `timeoutMs`. Opening a database recovers its journal into a level-0 table and resumes the
 * compactions that closing it cut short; a bench that times reads right after the open would time
 * those too. Databases without `getProperty` (memory-level) are settled at once.
 */
export async function settled(db: LevelDb, quietMs = 1000, timeoutMs = 120_000): Promise<void> {
  const stats = (db as unknown as { getProperty?: (property: string) => string }).getProperty;
  if (stats === undefined) return;
  const read = (): string => stats.call(db, 'leveldb.stats');
  const start = Date.now();
  let last = read();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs) {
    if (Date.now() - start > timeoutMs) throw new Error(`LevelDB kept compacting for ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = read();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
}
