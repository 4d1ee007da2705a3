import type { LevelDb } from '../../src/db/level-db.js';
import type { WriteOp } from '../../src/db/namespace.js';

/** What {@link spyOnBatches} records and controls. */
export interface BatchSpy {
  /** The operations of every batch written (array form, or a chained batch at `write()`), in order. */
  readonly calls: WriteOp[][];
  /** The next `n` batches fail as a full disk would (nothing of them is written). */
  failNext(n?: number): void;
  /** Fails the batch with this 1-based number (counted from the spy's start). */
  failAt(call: number): void;
  /** Puts the database's own `batch` back. */
  restore(): void;
}

/**
 * Replaces `db.batch` on the instance so that every atomic batch is recorded and chosen ones
 * reject — for both forms: `batch(ops)` and the chained `batch().put().del().write()` the
 * stores use.
 */
export function spyOnBatches(db: LevelDb): BatchSpy {
  const original = db.batch;
  const calls: WriteOp[][] = [];
  let failures = 0;
  const failing = new Set<number>();
  const attempt = (ops: WriteOp[], write: () => Promise<void>): Promise<void> => {
    calls.push(ops);
    const fail = failing.delete(calls.length) || failures > 0;
    if (!fail) return write();
    if (failures > 0) failures--;
    return Promise.reject(new Error('injected: disk full'));
  };
  (db as { batch: unknown }).batch = (...args: unknown[]) => {
    if (args.length > 0) return attempt(args[0] as WriteOp[], () => (original as (...a: unknown[]) => Promise<void>).apply(db, args));
    const chained = original.call(db);
    const ops: WriteOp[] = [];
    const { put, del, write } = { put: chained.put.bind(chained), del: chained.del.bind(chained), write: chained.write.bind(chained) };
    chained.put = (key: Uint8Array, value: Uint8Array) => {
      ops.push({ type: 'put', key, value });
      return put(key, value);
    };
    chained.del = (key: Uint8Array) => {
      ops.push({ type: 'del', key });
      return del(key);
    };
    chained.write = () => attempt(ops, () => write());
    return chained;
  };
  return {
    calls,
    failNext: (n = 1) => (failures = n),
    failAt: (call) => failing.add(call),
    restore: () => ((db as { batch: unknown }).batch = original),
  };
}
