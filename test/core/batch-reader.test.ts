import { fromBatchReader, type BatchReader } from '../../src/core/batch-reader.js';
import { isPullObservable } from '../../src/core/pull.js';

describe('fromBatchReader', () => {
  it('closes a reader that finished opening after the subscriber left', async () => {
    let opened!: (reader: BatchReader<number>) => void;
    const closed = jest.fn(async () => undefined);
    const reader: BatchReader<number> = { read: async () => [1, 2], close: closed };
    const subscription = fromBatchReader(() => new Promise<BatchReader<number>>((resolve) => (opened = resolve)), 2).subscribe();
    subscription.unsubscribe();
    // The open started on subscribe (on the next microtask) and finishes after the unsubscribe.
    await Promise.resolve();
    opened(reader);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toHaveBeenCalledTimes(1);
  });

  it('closes the reader before it completes, and is a pull source', async () => {
    const log: string[] = [];
    let left = 3;
    const reader: BatchReader<number> = {
      read: async () => (left-- > 0 ? [left] : []),
      close: async () => void log.push('close'),
    };
    const source = fromBatchReader(() => reader, 2);
    expect(isPullObservable(source)).toBe(true);
    await new Promise<void>((resolve) => source.subscribe({ next: (n) => log.push(String(n)), complete: () => (log.push('complete'), resolve()) }));
    expect(log).toEqual(['2', '1', '0', 'close', 'complete']);
  });

  it('closes the reader only once a read under way settled when the subscriber leaves', async () => {
    const log: string[] = [];
    let finishRead!: () => void;
    const reader: BatchReader<number> = {
      read: () => new Promise((resolve) => (finishRead = () => (log.push('read done'), resolve([1])))),
      close: async () => void log.push('close'),
    };
    const subscription = fromBatchReader(() => reader, 2).subscribe();
    await new Promise((resolve) => setImmediate(resolve));
    subscription.unsubscribe();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    finishRead();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['read done', 'close']);
  });
});
