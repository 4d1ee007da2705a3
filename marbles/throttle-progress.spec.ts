import { throttleProgress } from '../src/migration/operators/throttle-progress.js';
import type { MigrationEvent } from '../src/migration/events.js';
import { testScheduler } from './support.js';

const p = (n: number): MigrationEvent => ({ type: 'progress', phase: 'restore', items: n, keys: n, bytes: n, storesDone: 0, lag: 0 });
const values = {
  a: p(1),
  b: p(2),
  c: p(3),
  d: p(4),
  e: p(5),
  f: p(6),
  r: { type: 'restored', version: 9, keys: 5, storeRoots: {} },
  x: { type: 'applied', version: 10 },
  y: { type: 'logged', version: 11 },
} satisfies Record<string, MigrationEvent>;

describe('throttleProgress', () => {
  it('emits the first progress at once and the latest of a burst at the end of the interval', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-abcd----------|', values);
      expectObservable(source.pipe(throttleProgress(5))).toBe('-a----d--------|', values);
    });
  });

  it('lets other events through at once, after the pending progress', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ab-r-----e--|', values);
      expectObservable(source.pipe(throttleProgress(5))).toBe('-a--(br)--e--|', values);
    });
  });

  it('flushes a pending progress before completing and before an error', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('-ab|', values).pipe(throttleProgress(10))).toBe('-a-(b|)', values);
      expectObservable(hot('-ab#', values).pipe(throttleProgress(10))).toBe('-a-(b#)', values);
    });
  });

  it('releases its timer on unsubscribe', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('-abc-----', values);
      expectObservable(source.pipe(throttleProgress(3)), '^-----!').toBe('-a--c', values);
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('keeps the rate when per-version events (applied, logged) come between progress events', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ax--bx--cy--dx--ex--fx--|', values);
      expectObservable(source.pipe(throttleProgress(8))).toBe('-ax---x--cy---x--ex---x--(f|)', values);
    });
  });
});
