import { Observable } from 'rxjs';

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
 * A cold Observable over a {@link BatchReader}: on subscribe it opens the reader, then reads a
 * batch, emits its items synchronously, and reads the next batch only after the subscriber has
 * taken every item of the previous one. At most one batch is in memory. Unsubscribing stops the
 * loop and closes the reader; a read failure is an error notification after the items before it.
 */
export function fromBatchReader<T>(
  open: () => BatchReader<T> | Promise<BatchReader<T>>,
  batchSize: number,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    let reader: BatchReader<T> | undefined;
    let stopped = false;
    const run = async (): Promise<void> => {
      reader = await open();
      // Unsubscribed while it opened: the teardown found no reader to close.
      if (stopped) return void (await reader.close());
      for (;;) {
        const batch = await reader.read(batchSize);
        if (stopped) return;
        if (batch.length === 0) break;
        for (const item of batch) {
          subscriber.next(item);
          if (stopped) return;
        }
      }
      await reader.close();
      subscriber.complete();
    };
    run().catch(async (error: unknown) => {
      await reader?.close().catch(() => undefined);
      subscriber.error(error);
    });
    return () => {
      stopped = true;
      void reader?.close().catch(() => undefined);
    };
  });
}
