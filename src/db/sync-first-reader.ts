import type { LevelDb } from './level-db.js';

/** Synchronous reads may hold the event loop this long per turn; then reads go async (yield). */
const SYNC_BUDGET_MS = 2;
/** A synchronous read slower than this on average came from disk, not from a cache. */
const SLOW_READ_MS = 0.02;
/** Batches read through the thread pool after reads proved slow, before trying sync again. */
const ASYNC_BATCHES_AFTER_SLOW = 64;
/** The clock is read once per this many keys. */
const CLOCK_EVERY = 16;

/**
 * Multi-key reads that prefer `getSync`. A `getMany` round trip through LevelDB's thread pool
 * costs a few microseconds per key in snapshots, copies and wake-ups, while a read served from
 * LevelDB's block cache or the OS page cache costs about one synchronously. Synchronous reads
 * hold the event loop for at most {@link SYNC_BUDGET_MS} per turn (the rest of a batch goes
 * through `getMany`, which yields), and when they prove slow (the data is on disk) the next
 * batches go through `getMany` altogether: other work (a block commit) never waits long.
 *
 * Unlike `getMany`, the keys of a batch are not read from one snapshot: only for data whose keys
 * are never overwritten (immutable tree nodes).
 */
export class SyncFirstReader {
  private readonly canSync: boolean;
  private asyncBatches = 0;
  /** When synchronous reading started in the current event-loop turn, if it did. */
  private turnStart: number | undefined;

  constructor(private readonly db: LevelDb) {
    // abstract-level's manifest typings predate `getSync`.
    this.canSync = (db.supports as { getSync?: boolean }).getSync === true;
  }

  /** The values of `keys` (full database keys); `undefined` for each absent key. */
  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (!this.canSync || this.asyncBatches > 0) {
      if (this.asyncBatches > 0) this.asyncBatches--;
      return this.db.getMany(keys);
    }
    const start = performance.now();
    if (this.turnStart === undefined) {
      this.turnStart = start;
      setImmediate(() => {
        this.turnStart = undefined;
      });
    } else if (start - this.turnStart > SYNC_BUDGET_MS) {
      // This turn's budget is spent (a caller awaiting only microtasks never lets the turn end):
      // a read through the thread pool lets the event loop turn.
      return this.db.getMany(keys);
    }
    const out: (Uint8Array | undefined)[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      out[i] = this.db.getSync(keys[i]!);
      // The clock every CLOCK_EVERY keys and after the last one, so small batches count too.
      if ((i + 1) % CLOCK_EVERY !== 0 && i + 1 !== keys.length) continue;
      const now = performance.now();
      // Slowness is judged on full batches only: a single-node read (a tree update loading a path)
      // is still much cheaper synchronously than a thread-pool round trip, even from disk.
      if (i + 1 >= CLOCK_EVERY && (now - start) / (i + 1) > SLOW_READ_MS) this.asyncBatches = ASYNC_BATCHES_AFTER_SLOW;
      if (i + 1 < keys.length && now - this.turnStart > SYNC_BUDGET_MS) {
        const rest = await this.db.getMany(keys.slice(i + 1));
        for (let j = 0; j < rest.length; j++) out[i + 1 + j] = rest[j];
        return out;
      }
    }
    return out;
  }
}

const readers = new WeakMap<LevelDb, SyncFirstReader>();

/** The reader of `db`, shared by all its namespaces so that they share one budget per turn. */
export function syncFirstReader(db: LevelDb): SyncFirstReader {
  let reader = readers.get(db);
  if (reader === undefined) {
    reader = new SyncFirstReader(db);
    readers.set(db, reader);
  }
  return reader;
}
