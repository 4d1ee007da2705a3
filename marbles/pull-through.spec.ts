import { of, take } from 'rxjs';
import { pullThrough, PullObservable } from '../src/core/pull.js';
import { marblePullSource, testScheduler } from './support.js';

describe('pullThrough', () => {
  it('requests the next batch only after the sink finished the previous one', () => {
    const requests: number[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const source = marblePullSource([[1, 2], [3, 4], [5]], (batch) => cold('-(b|)', { b: batch }), requests);
      // Each read takes 1 frame, each write 3 frames: reads never run ahead of writes.
      const result = pullThrough(source, (batch) => cold('---(w|)', { w: batch.length }), 2);
      expectObservable(result).toBe('----a---b---c|', { a: 2, b: 2, c: 1 });
    });
  });

  it('with readAhead 1 reads the next batch while the sink writes, never more than one ahead', () => {
    const requests: number[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const source = marblePullSource([[1, 2], [3, 4], [5]], (batch) => cold('-(b|)', { b: batch }), requests);
      // Batch 2 is read during write 1; batch 3 is requested only when write 1 ended.
      const result = pullThrough(source, (batch) => cold('---(w|)', { w: batch.length }), 2, 1);
      expectObservable(result).toBe('----a--b--(c|)', { a: 2, b: 2, c: 1 });
    });
  });

  it('with readAhead, a read error waits until the batch being written is done', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      let reads = 0;
      const source = marblePullSource([[1], [2]], (batch) => (reads++ === 1 ? cold('-#', {}, new Error('read failed')) : cold('-(b|)', { b: batch })));
      const result = pullThrough(source, (batch) => cold('---(w|)', { w: batch[0] }), 1, 1);
      // The failing read ends at frame 2, during write 1 (frames 1-4): its error follows w.
      expectObservable(result).toBe('----(w#)', { w: 1 }, new Error('read failed'));
    });
  });

  it('works with a source and a sink that both answer at once (the same frame, no stack growth)', () => {
    testScheduler().run(({ expectObservable }) => {
      const source = marblePullSource([[1, 2], [3, 4], [5]], (batch) => of(batch));
      expectObservable(pullThrough(source, (batch) => of(batch.length), 2)).toBe('(abc|)', { a: 2, b: 2, c: 1 });
      expectObservable(pullThrough(source, (batch) => of(batch.length), 2, 1)).toBe('(abc|)', { a: 2, b: 2, c: 1 });
    });
    const many = Array.from({ length: 100_000 }, (_, i) => [i]);
    let written = 0;
    pullThrough(marblePullSource(many, (batch) => of(batch)), (batch) => of((written += batch.length)), 1).subscribe();
    expect(written).toBe(100_000);
  });

  it('tears the source down on unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold('-(b|)', { b: [1] });
      const source = marblePullSource([[1], [2], [3]], () => read);
      const result = pullThrough(source, () => cold('--(w|)', { w: 1 }), 1);
      expectObservable(result, '^----!').toBe('---w-', { w: 1 });
      expectSubscriptions(read.subscriptions).toBe(['^!', '---^!']);
    });
  });
});

describe('PullObservable', () => {
  it('delivers every item to a plain subscriber, one batch per read', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = new PullObservable(marblePullSource([[1, 2], [3]], (batch) => cold('-----(b|)', { b: batch })), 2);
      expectObservable(source).toBe('-----(ab)-c----|', { a: 1, b: 2, c: 3 });
    });
  });

  it('reads nothing beyond what a take() needs', () => {
    const requests: number[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const source = new PullObservable(marblePullSource([[1, 2], [3, 4], [5, 6]], (batch) => cold('-----(b|)', { b: batch }), requests), 2);
      expectObservable(source.pipe(take(3))).toBe('-----(ab)-(c|)', { a: 1, b: 2, c: 3 });
    });
    expect(requests).toHaveLength(2);
  });
});
