import { concat, concatMap, defer, EMPTY, finalize, from, materialize, Observable, type Subscriber, takeWhile, throwError } from 'rxjs';
import type { BatchReader } from './batch-reader.js';
import { StoreError } from './errors.js';
import { checkPositiveInteger } from './positive-integer.js';

/**
 * A pull-based source of bulk data in RxJS terms: a function from a stream of requests (each
 * "give me up to n items") to a stream of batches, exactly one batch per request, completing when
 * the data ends. Nothing is read before a request, so the consumer sets the pace: RxJS itself has
 * no backpressure, and `concatMap` over a push source would buffer without limit.
 */
export type PullSource<T> = (requests: Observable<number>) => Observable<readonly T[]>;

/**
 * A {@link PullSource} over a {@link BatchReader}, opened lazily on the first request and closed
 * when the batches complete or a read fails (before the completion or error), or when they are
 * unsubscribed. On unsubscribe, the reader is closed once a read under way has settled: a reader
 * never sees `close` during its own `read`.
 */
export function pullFromReader<T>(open: () => BatchReader<T> | Promise<BatchReader<T>>): PullSource<T> {
  return (requests) =>
    defer(() => {
      let reader: Promise<BatchReader<T>> | undefined;
      let reading: Promise<unknown> = Promise.resolve();
      let closing: Promise<void> | undefined;
      let left = false;
      const get = (): Promise<BatchReader<T>> => (reader ??= Promise.resolve().then(open));
      // Exactly once, whoever gets there first: the end of the data, a failed read, the unsubscribe.
      const close = (r: BatchReader<T>): Promise<void> => (closing ??= r.close());
      // At the end and on a read failure, the reader is closed before the stream says so.
      const read = async (max: number): Promise<readonly T[]> => {
        const r = await get();
        // The subscriber left while the reader opened: nothing more is read.
        if (left) return [];
        let batch: readonly T[];
        try {
          batch = await r.read(max);
        } catch (error) {
          await close(r).catch(() => undefined);
          throw error;
        }
        if (batch.length === 0) await close(r);
        return batch;
      };
      return requests.pipe(
        concatMap((max) => {
          const batch = read(max);
          reading = batch.catch(() => undefined);
          return from(batch);
        }),
        takeWhile((batch) => batch.length > 0),
        finalize(() => {
          left = true;
          const opened = reader;
          if (opened !== undefined) void reading.then(() => opened).then(close).catch(() => undefined);
        }),
      );
    });
}

/**
 * Drives a {@link PullSource}: requests a batch, hands it to `sink`, and requests the next batch
 * only after the Observable returned by `sink` completed. With `readAhead` n > 0, n more batches
 * are requested up front, so the source reads while the sink writes (the disk's read and write
 * waits overlap) and at most 1 + n batches are in memory, however slow the sink. The request loop
 * never leaves this function; a source and a sink that answer synchronously work too, with a
 * stack that does not grow per batch.
 *
 * ```
 * readAhead 0:  read -r--------r--------r|      r = a batch arrives
 *               sink  -[write-]-[write-]-
 * readAhead 1:  read -r-r------r------r|        the next read overlaps the write
 *               sink  -[write-][write-]-
 * ```
 */
export function pullThrough<T, R>(
  source: PullSource<T>,
  sink: (batch: readonly T[]) => Observable<R>,
  batchSize: number,
  readAhead = 0,
): Observable<R> {
  return defer(() => {
    // An error notification, not a throw: a batch size below 1 would read nothing and look like
    // the end of the data (an empty restore that "succeeds").
    checkPositiveInteger(batchSize, 'batchSize');
    if (!Number.isSafeInteger(readAhead) || readAhead < 0) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `readAhead must be a non-negative integer, got ${readAhead}`, { details: { readAhead } });
    }
    const requests = requestLoop(batchSize, 1 + readAhead);
    return source(requests.stream).pipe(
      // A read-ahead batch's error waits its turn: the batch being written is finished first.
      materialize(),
      concatMap((notification) => {
        if (notification.kind === 'E') return throwError(() => notification.error);
        if (notification.kind === 'C') return EMPTY;
        return concat(
          sink(notification.value),
          defer(() => {
            requests.next();
            return EMPTY;
          }),
        );
      }),
      finalize(() => requests.complete()),
    );
  });
}

/**
 * The requests of {@link pullThrough}: `initial` at once, then one per `next()`. A trampoline: a
 * request made while one is being delivered (a source and a sink that both answer synchronously)
 * is delivered right after it returns, by the same loop, instead of being lost to a stream not yet
 * subscribed or delivered one stack frame deeper per batch.
 */
function requestLoop(batchSize: number, initial: number): { readonly stream: Observable<number>; next(): void; complete(): void } {
  let target: Subscriber<number> | undefined;
  let owed = initial;
  let delivering = false;
  const deliver = (): void => {
    if (delivering) return;
    delivering = true;
    try {
      while (owed > 0 && target !== undefined && !target.closed) {
        owed--;
        target.next(batchSize);
      }
    } finally {
      delivering = false;
    }
  };
  return {
    stream: new Observable<number>((subscriber) => {
      target = subscriber;
      deliver();
      return () => {
        if (target === subscriber) target = undefined;
      };
    }),
    next: () => {
      owed++;
      deliver();
    },
    complete: () => target?.complete(),
  };
}

/**
 * A cold Observable that is also pull-based: subscribing directly delivers the items, reading
 * the next batch only once the previous batch was delivered; an operator that writes
 * asynchronously uses {@link PullObservable.pull} instead and requests batches at its own pace.
 */
export class PullObservable<T> extends Observable<T> {
  constructor(
    readonly pull: PullSource<T>,
    readonly batchSize: number,
  ) {
    super((subscriber) => pullThrough(pull, (batch) => from(batch), batchSize).subscribe(subscriber));
  }
}

/** True when `source` can be pulled batch by batch. */
export function isPullObservable<T>(source: Observable<T>): source is PullObservable<T> {
  return source instanceof PullObservable;
}
