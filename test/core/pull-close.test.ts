import { fromBatchReader, type BatchReader } from '../../src/core/batch-reader.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('pullFromReader releases its reader exactly once, and reads nothing after unsubscribe', () => {
  it('closes the reader once when the data ends', async () => {
    let closes = 0;
    let left = 2;
    const reader: BatchReader<number> = { read: async () => (left-- > 0 ? [left] : []), close: async () => void closes++ };
    await new Promise<void>((resolve) => fromBatchReader(() => reader, 1).subscribe({ complete: resolve }));
    await tick();
    expect(closes).toBe(1);
  });

  it('closes the reader once when a read fails', async () => {
    let closes = 0;
    const reader: BatchReader<number> = { read: async () => Promise.reject(new Error('io')), close: async () => void closes++ };
    await new Promise<void>((resolve) => fromBatchReader(() => reader, 1).subscribe({ error: () => resolve() }));
    await tick();
    expect(closes).toBe(1);
  });

  it('starts no read when the subscriber left while the reader was opening', async () => {
    let opened!: (reader: BatchReader<number>) => void;
    const log: string[] = [];
    const reader: BatchReader<number> = { read: async () => (log.push('read'), [1]), close: async () => void log.push('close') };
    const subscription = fromBatchReader(() => new Promise<BatchReader<number>>((resolve) => (opened = resolve)), 2).subscribe();
    await Promise.resolve();
    subscription.unsubscribe();
    opened(reader);
    await tick();
    expect(log).toEqual(['close']);
  });
});
