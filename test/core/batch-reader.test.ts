import { fromBatchReader, type BatchReader } from '../../src/core/batch-reader.js';

describe('fromBatchReader', () => {
  it('closes a reader that finished opening after the subscriber left', async () => {
    let opened!: (reader: BatchReader<number>) => void;
    const closed = jest.fn(async () => undefined);
    const reader: BatchReader<number> = { read: async () => [1, 2], close: closed };
    const subscription = fromBatchReader(() => new Promise<BatchReader<number>>((resolve) => (opened = resolve)), 2).subscribe();
    subscription.unsubscribe();
    opened(reader);
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toHaveBeenCalledTimes(1);
  });
});
