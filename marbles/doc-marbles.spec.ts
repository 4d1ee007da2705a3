/**
 * The marble diagrams of the operators' doc comments, run as written (frame for frame, same
 * strings): a diagram a reader trusts must be what the operator does.
 */
import { BehaviorSubject, of, shareReplay } from 'rxjs';
import { applyLogged } from '../src/migration/operators/apply-logged.js';
import { checkVersionOrder } from '../src/migration/operators/check-version-order.js';
import { logChangesets } from '../src/migration/operators/log-changesets.js';
import { restoreSnapshot } from '../src/migration/operators/restore-snapshot.js';
import { throttleProgress } from '../src/migration/operators/throttle-progress.js';
import { StoreError } from '../src/core/errors.js';
import type { MigrationEvent } from '../src/migration/events.js';
import { cs, items, testScheduler } from './support.js';

const progress = expect.objectContaining({ type: 'progress' }) as unknown as MigrationEvent;
const restored: MigrationEvent = { type: 'restored', version: 1, keys: 0, storeRoots: {} };

describe('doc-comment marbles', () => {
  it('checkVersionOrder', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const v = { a: cs(101), b: cs(102), c: cs(104) };
      const error = new StoreError('ERR_VERSION_GAP', 'changeset version gap: expected 103, received 104', { details: { expected: 103, received: 104 } });
      expectObservable(hot('--a--b--c--', v).pipe(checkVersionOrder(101))).toBe('--a--b--#', v, error);
    });
  });

  it('logChangesets', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('--a-----b-------|', { a: cs(101), b: cs(102) });
      const append = (e: { version: number }) => (e.version === 101 ? cold('--|') : cold('----|'));
      expectObservable(source.pipe(logChangesets(append))).toBe('----1-------2---|', { 1: 101, 2: 102 });
    });
  });

  it('applyLogged', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const latest$ = hot('3-----4------5----', { 3: 3, 4: 4, 5: 5 }).pipe(shareReplay(1));
      const stop$ = hot('---------------------s').pipe(shareReplay(1));
      const result = applyLogged(1, { latest$, stop$, read: (v) => of(cs(v)), apply: () => of(undefined) });
      const a = (v: number): MigrationEvent => ({ type: 'applied', version: v });
      const C = (v: number): MigrationEvent => ({ type: 'caughtUp', version: v });
      expectObservable(result).toBe('(abcC)(dD)---(eE)----|', { a: a(1), b: a(2), c: a(3), C: C(3), d: a(4), D: C(4), e: a(5), E: C(5) });
    });
  });

  it('throttleProgress (both diagrams)', () => {
    const p: MigrationEvent = { type: 'progress', phase: 'restore', items: 1, keys: 0, bytes: 0, storesDone: 0, lag: 0 };
    const a: MigrationEvent = { type: 'applied', version: 2 };
    testScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('-pppp-----pp-r----|', { p, r: restored }).pipe(throttleProgress(3))).toBe('-p--p-----p--(pr)-|', { p, r: restored });
      expectObservable(hot('-pa--pa--pa--pa--pa--pa--|', { p, a }).pipe(throttleProgress(8))).toBe('-pa---a--pa---a--pa---a--(p|)', { p, a });
    });
  });

  it('restoreSnapshot (both diagrams)', () => {
    const v = { s: items.store('acc'), n: items.leaf('k') };
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const busy$ = new BehaviorSubject(false);
      hot('f--------t-------f', { t: true, f: false }).subscribe(busy$);
      const result = cold('-s-n-n-n-s-n-n-|', v).pipe(restoreSnapshot({ batchSize: 4, ss: () => of(undefined), finish: () => of(restored), busy$ }));
      expectObservable(result).toBe('-------p---------(ppr|)', { p: progress, r: restored });
    });
    testScheduler().run(({ cold, expectObservable }) => {
      const sinks = { batchSize: 4, sc: () => cold('--|'), ss: () => cold('--|'), finish: () => of(restored) };
      expectObservable(cold('-s-n-n-n-s-n-n-|', v).pipe(restoreSnapshot(sinks))).toBe('---------p-------(ppr|)', { p: progress, r: restored });
    });
  });
});
