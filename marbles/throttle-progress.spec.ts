import { filter, type SchedulerLike, Subject, Subscription, take } from 'rxjs';
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
  z: { type: 'caughtUp', version: 11 },
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

  it('keeps the rate when per-version events (applied, logged, caughtUp) come between progress events', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ax--bx--cy--dz--ex--fx--|', values);
      expectObservable(source.pipe(throttleProgress(8))).toBe('-ax---x--cy---z--ex---x--(f|)', values);
    });
  });

  it('leaves no timer behind when the subscriber leaves while it takes a progress event', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const first = hot('-a--', values).pipe(throttleProgress(5), take(1));
      expectObservable(first).toBe('-(a|)', values);
      // The pending event flushed before a milestone, taken by take(1).
      const flushed = hot('-abr-', values).pipe(throttleProgress(5), filter((e) => e.type === 'progress' && e.items === 2), take(1));
      expectObservable(flushed).toBe('---(b|)', values);
    });
    // Timers a scheduler holds: the marbles above cannot see one that outlives its subscriber.
    let timers = 0;
    const counting = { now: () => 0, schedule: () => (timers++, new Subscription(() => timers--)) } as unknown as SchedulerLike;
    const first = new Subject<MigrationEvent>();
    first.pipe(throttleProgress(5, counting), take(1)).subscribe();
    first.next(values.a);
    expect(timers).toBe(0);
    const flushed = new Subject<MigrationEvent>();
    flushed.pipe(throttleProgress(5, counting), filter((e) => e.type === 'progress' && e.items === 2), take(1)).subscribe();
    flushed.next(values.a);
    flushed.next(values.b);
    flushed.next(values.r);
    expect(timers).toBe(0);
  });
});
