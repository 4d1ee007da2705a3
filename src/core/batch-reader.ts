import { PullObservable, pullFromReader } from './pull.js';

/**
 * A pull-based source of bulk data: nothing is read until `read` is called, and each call reads
 * at most `max` items. This is the backpressure contract of the library: a consumer asks for the
 * next batch only after it has written the previous one, so memory stays bounded whatever the size
 * of the state.
 */
export interface BatchReader<T> {
  /** The next items (at most `max`); an empty array at the end. */
  read(max: number): Promise<readonly T[]>;
  /** Releases iterators, pins and locks; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * A cold, pull-based Observable over a {@link BatchReader} (a {@link PullObservable}): on subscribe
 * it opens the reader, then reads a batch, emits its items synchronously, and reads the next batch
 * only after the subscriber has taken every item of the previous one. An operator that writes
 * asynchronously, such as `restoreSnapshot`, pulls it batch by batch instead, at the pace of its
 * writes, so at most one batch (plus its read-ahead) is in memory however slow the writes are.
 * Unsubscribing closes the reader (once an open under way finished); a read failure is an error
 * notification after the items before it; at the end the reader is closed before completion.
 */
export function fromBatchReader<T>(open: () => BatchReader<T> | Promise<BatchReader<T>>, batchSize: number): PullObservable<T> {
  return new PullObservable(pullFromReader(open), batchSize);
}
