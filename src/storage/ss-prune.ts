import { equalBytes } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import type { Namespace, WriteOp } from '../db/namespace.js';
import { DATA_END, DATA_START, KIND_TOMBSTONE, VERSION_BYTES, versionOfDataKey } from './ss-key.js';
import type { WriteQueue } from './write-queue.js';

/** Counts of one prune pass. */
export interface PruneResult {
  /** Entries read. */
  readonly scanned: number;
  /** Entries deleted. */
  readonly deleted: number;
}

/** Options of {@link pruneData}. */
export interface PruneDataOptions {
  /** Deletes per atomic batch. */
  readonly batchSize: number;
  /** Operations written with the last batch (the caller's "prune finished" marker). */
  readonly finalOps?: readonly WriteOp[];
  /** Polled between batches: when it returns true the pass stops with `ERR_CLOSED`. */
  readonly stopped?: () => boolean;
}

const READ_BATCH = 1024;

/**
 * Deletes every data entry that no read at a version ≥ `version` can see: for each key, all
 * entries older than its newest entry ≤ `version`, and that newest entry too when it is a
 * tombstone (with everything older gone it shadows nothing; reads then find no entry, which
 * means "absent" just the same). Entries above `version` are untouched.
 *
 * Deletes go out in atomic batches of about `batchSize` through `queue`, so concurrent commits
 * interleave with them; the scan reads from the iterator's snapshot, and the entries it deletes
 * are never the ones a commit writes (those are above the latest version). A tombstone's delete
 * is queued only after the deletes of the entries it shadows, in the same or a later batch:
 * if the process stops between two batches, no older value can reappear. A pass that stops early
 * (failure or `stopped`) leaves only entries no read at or above `version` can see.
 */
export async function pruneData(
  namespace: Namespace,
  queue: WriteQueue,
  version: number,
  options: PruneDataOptions,
): Promise<PruneResult> {
  const { batchSize, finalOps = [], stopped } = options;
  const reader = namespace.range({ gte: DATA_START, lt: DATA_END });
  let ops: WriteOp[] = [];
  let scanned = 0;
  let deleted = 0;
  let current: Uint8Array | undefined;
  /** The newest entry ≤ version of the current key was seen (kept, or a tombstone to drop). */
  let decided = false;
  let tombstone: Uint8Array | undefined;

  const checkStopped = (): void => {
    if (stopped?.() === true) {
      throw new StoreError('ERR_CLOSED', `prune to version ${version} interrupted: the state storage was closed`, {
        details: { version },
      });
    }
  };
  const flush = async (): Promise<void> => {
    if (ops.length === 0) return;
    checkStopped();
    const batch = ops;
    ops = [];
    await queue.run(() => namespace.write(batch));
  };
  const finishKey = (): void => {
    if (tombstone !== undefined) {
      ops.push(namespace.del(tombstone));
      deleted++;
    }
    tombstone = undefined;
  };

  try {
    for (;;) {
      checkStopped();
      const entries = await reader.next(READ_BATCH);
      if (entries.length === 0) break;
      for (const [key, value] of entries) {
        scanned++;
        const keyPart = key.subarray(0, key.length - VERSION_BYTES);
        if (current === undefined || !equalBytes(keyPart, current)) {
          finishKey();
          current = keyPart;
          decided = false;
        }
        if (versionOfDataKey(key) > version) continue;
        if (!decided) {
          decided = true;
          if (value[0] === KIND_TOMBSTONE) tombstone = key;
        } else {
          ops.push(namespace.del(key));
          deleted++;
        }
        if (ops.length >= batchSize) await flush();
      }
    }
    finishKey();
    ops.push(...finalOps);
    await flush();
  } finally {
    await reader.close();
  }
  return { scanned, deleted };
}
