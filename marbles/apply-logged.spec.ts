import { BehaviorSubject, concat, NEVER, type Observable, of, ReplaySubject, shareReplay } from 'rxjs';
import type { VersionedChangeset } from '../src/core/changeset.js';
import { StoreError } from '../src/core/errors.js';
import { applyLogged } from '../src/migration/operators/apply-logged.js';
import type { MigrationEvent } from '../src/migration/events.js';
import { cs, testScheduler } from './support.js';

const ev = {
  a: { type: 'applied', version: 1 },
  b: { type: 'applied', version: 2 },
  c: { type: 'applied', version: 3 },
  d: { type: 'applied', version: 4 },
  C: { type: 'caughtUp', version: 3 },
  D: { type: 'caughtUp', version: 4 },
  E: { type: 'caughtUp', version: 5 },
  e: { type: 'applied', version: 5 },
} satisfies Record<string, MigrationEvent>;

/** An apply effect that records each version it was called with. */
function recordingApply(applies: number[], write: () => Observable<unknown>) {
  return (entry: VersionedChangeset): Observable<unknown> => {
    applies.push(entry.version);
    return write();
  };
}

describe('applyLogged', () => {
  it('replays what is already logged at once, in order, then follows new log entries with zero delay', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const latest$ = hot('3-----4----5---', { 3: 3, 4: 4, 5: 5 }).pipe(shareReplay(1));
      const stop$ = hot('--------------------s').pipe(shareReplay(1));
      const result = applyLogged(1, { latest$, stop$, read: (v) => of(cs(v)), apply: () => cold('|') });
      expectObservable(result).toBe('(abcC)(dD)-(eE)-----|', ev);
    });
  });

  it('replays a long log with effects that answer at once, without the stack growing per version', () => {
    const versions = 2_000;
    const events: MigrationEvent[] = [];
    let completed = false;
    const stop$ = new ReplaySubject<string>(1);
    applyLogged(1, { latest$: concat(of(versions), NEVER), stop$, read: (v) => of(cs(v)), apply: () => of(undefined) }).subscribe({
      next: (event) => events.push(event),
      complete: () => (completed = true),
    });
    // Everything above ran synchronously, up to the wait for the next version.
    expect(events.filter((e) => e.type === 'applied')).toHaveLength(versions);
    expect(events.at(-1)).toEqual({ type: 'caughtUp', version: versions });
    stop$.next('stop');
    expect(completed).toBe(true);
  });

  it('with effects that answer at once, follows a log that grows by several versions after a wait', () => {
    const latest$ = new BehaviorSubject(3);
    const events: MigrationEvent[] = [];
    let completed = false;
    applyLogged(1, { latest$, stop$: NEVER, read: (v) => of(cs(v)), apply: () => of(undefined) }).subscribe({
      next: (event) => events.push(event),
      complete: () => (completed = true),
    });
    latest$.next(6);
    latest$.next(7);
    expect(events).toEqual([ev.a, ev.b, ev.c, ev.C, ev.d, ev.e, { type: 'applied', version: 6 }, { type: 'caughtUp', version: 6 }, { type: 'applied', version: 7 }, { type: 'caughtUp', version: 7 }]);
    expect(completed).toBe(false);
  });

  it('takes each apply in turn: a slow write delays the next version, never reorders it', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const latest$ = hot('3--------------', { 3: 3 }).pipe(shareReplay(1));
      const stop$ = hot('--------------s').pipe(shareReplay(1));
      const result = applyLogged(1, { latest$, stop$, read: (v) => of(cs(v)), apply: () => cold('---|') });
      expectObservable(result).toBe('---a--b--(cC)-|', ev);
    });
  });

  it('stops at the version boundary: an apply in flight completes, the next one never starts', () => {
    const applies: number[] = [];
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const latest$ = hot('3-', { 3: 3 }).pipe(shareReplay(1));
      const stop$ = hot('-s').pipe(shareReplay(1));
      const result = applyLogged(1, {
        latest$,
        stop$,
        read: (v) => of(cs(v)),
        apply: recordingApply(applies, () => cold('----|')),
      });
      expectObservable(result).toBe('----(a|)', ev);
    });
    expect(applies).toEqual([1]);
  });

  it('waits for its turn before each version; the stop signal during that wait means nothing more is written', () => {
    const applies: number[] = [];
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const latest$ = hot('2-------', { 2: 2 }).pipe(shareReplay(1));
      const stop$ = hot('  ----s---').pipe(shareReplay(1));
      const turns = [
        cold('             --|'), //        version 1's turn, from 0
        cold('                ------|'), // version 2's, from 3: the stop comes first
      ];
      let next = 0;
      const result = applyLogged(1, {
        latest$,
        stop$,
        read: (v) => of(cs(v)),
        apply: recordingApply(applies, () => cold('-|')),
        waitTurn: () => turns[next++]!,
      });
      expectObservable(result).toBe('---a|', ev);
    });
    expect(applies).toEqual([1]);
  });

  it('reports a logged version missing from the log as a typed gap error', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const latest$ = hot('2-', { 2: 2 }).pipe(shareReplay(1));
      const stop$ = hot('--').pipe(shareReplay(1));
      const result = applyLogged(1, { latest$, stop$, read: (v) => of(v === 1 ? cs(1) : undefined), apply: () => of(true) });
      expectObservable(result).toBe(
        '(a#)',
        ev,
        new StoreError('ERR_VERSION_GAP', 'changeset log has no entry for version 2 although it is logged', {
          details: { expected: 2, received: null },
        }),
      );
    });
  });

  it('propagates an apply failure as the error notification', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const latest$ = hot('2-', { 2: 2 }).pipe(shareReplay(1));
      const stop$ = hot('--').pipe(shareReplay(1));
      const result = applyLogged(1, { latest$, stop$, read: (v) => of(cs(v)), apply: (e) => (e.version === 2 ? cold('-#', {}, new Error('SC write failed')) : cold('-|')) });
      expectObservable(result).toBe('-a#', ev, new Error('SC write failed'));
    });
  });
});
