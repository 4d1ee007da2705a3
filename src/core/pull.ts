import { BehaviorSubject, concat, concatMap, defer, EMPTY, finalize, from, Observable, takeWhile } from 'rxjs';
import type { BatchReader } from './batch-reader.js';

/**
 * A pull-based source of bulk data in RxJS terms: a function from a stream of requests (each
 * "give me up to n items") to a stream of batches, exactly one batch per request, completing when
 * the data ends. Nothing is read before a request, so the consumer sets the pace: RxJS itself has
 * no backpressure, and `concatMap` over a push source would buffer without limit.
 */
export type PullSource<T> = (requests: Observable<number>) => Observable<readonly T[]>;

/**
 * A {@link PullSource} over a {@link BatchReader}, opened lazily on the first request and closed
 * when the batches complete, fail or are unsubscribed.
 */
export function pullFromReader<T>(open: () => BatchReader<T> | Promise<BatchReader<T>>): PullSource<T> {
  return (requests) =>
    defer(() => {
      let reader: Promise<BatchReader<T>> | undefined;
      const get = (): Promise<BatchReader<T>> => (reader ??= Promise.resolve().then(open));
      return requests.pipe(
        concatMap((max) => from(get().then((r) => r.read(max)))),
        takeWhile((batch) => batch.length > 0),
        finalize(() => {
          void reader?.then((r) => r.close()).catch(() => undefined);
        }),
      );
    });
}

/**
 * Drives a {@link PullSource}: requests a batch, hands it to `sink`, and requests the next batch
 * only after the Observable returned by `sink` completed. At most one batch is in memory, however
 * slow the sink. The request loop is closed over an internal subject that never leaves this
 * function.
 */
export function pullThrough<T, R>(
  source: PullSource<T>,
  sink: (batch: readonly T[]) => Observable<R>,
  batchSize: number,
): Observable<R> {
  return defer(() => {
    const requests = new BehaviorSubject<number>(batchSize);
    return source(requests).pipe(
      concatMap((batch) =>
        concat(
          sink(batch),
          defer(() => {
            requests.next(batchSize);
            return EMPTY;
          }),
        ),
      ),
      finalize(() => requests.complete()),
    );
  });
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
