import { concat, concatMap, defaultIfEmpty, defer, EMPTY, expand, first, ignoreElements, last, map, type Observable, of, queueScheduler, race, subscribeOn, take, throwError } from 'rxjs';
import { StoreError } from '../../core/errors.js';
import type { VersionedChangeset } from '../../core/changeset.js';
import { migrationEvent, type MigrationEvent } from '../events.js';

/** The injected effects of {@link applyLogged}. */
export interface ApplyLoggedEffects {
  /**
   * The highest durably logged version. Must replay its current value on subscribe (like a
   * BehaviorSubject), so waiting for a version that is already logged costs no time.
   */
  readonly latest$: Observable<number>;
  /** Emits once when the migration must stop; must replay once stopped (like a ReplaySubject(1)). */
  readonly stop$: Observable<unknown>;
  /** Reads a logged changeset (from the log, not from memory). */
  read(version: number): Observable<VersionedChangeset | undefined>;
  /** Applies a changeset to the new stores (SC write + commit, SS apply); completes when durable. */
  apply(entry: VersionedChangeset): Observable<unknown>;
  /**
   * Completes when the next version may be written (for example once the host is idle); by
   * default at once. `stop$` can still end the loop during this wait: nothing is written yet.
   */
  waitTurn?(): Observable<unknown>;
}

const STOP = Symbol('stop');

/**
 * Replays the changeset log from `from` in strict version order, then follows new log entries
 * live: for each version it waits until the log holds it (reacting to the log write itself, never
 * polling), reads it back, waits for its turn (`waitTurn`), applies it and emits `applied`; when the
 * applied version equals the latest logged one it also emits `caughtUp`. `stop$` ends the loop at
 * the next version boundary: an apply in flight always completes, a version still waiting (for the
 * log, its read or its turn) is never written, and nothing is written after the loop ends.
 *
 * ```
 * latest$: 3-----4------5----      (replaying; the log already holds 1..3 when the restore ends)
 * stop$:   ---------------------s
 * result:  (aaaC)(aC)---(aC)----|  a = applied(v), C = caughtUp(v); from = 1
 * ```
 *
 * @example
 * concat(restore$, applyLogged(height + 1, { latest$, stop$, read, apply }))
 */
export function applyLogged(from: number, effects: ApplyLoggedEffects): Observable<MigrationEvent> {
  const turn = (entry: VersionedChangeset): Observable<VersionedChangeset> =>
    effects.waitTurn ? concat(effects.waitTurn().pipe(ignoreElements()), of(entry)) : of(entry);
  const due = (version: number): Observable<VersionedChangeset> =>
    effects.latest$.pipe(
      first((latest) => latest >= version),
      concatMap(() => effects.read(version)),
      concatMap((entry) =>
        entry === undefined || entry.version !== version
          ? throwError(
              () =>
                new StoreError('ERR_VERSION_GAP', `changeset log has no entry for version ${version} although it is logged`, {
                  details: { expected: version, received: entry?.version ?? null },
                }),
            )
          : turn(entry),
      ),
    );
  const step = (version: number): Observable<number | typeof STOP> =>
    // Everything before the first write races the stop signal; once the apply began, it completes.
    race(effects.stop$.pipe(map((): typeof STOP => STOP)), due(version)).pipe(
      take(1),
      concatMap((entry) =>
        entry === STOP
          ? of(STOP)
          : effects.apply(entry).pipe(
              defaultIfEmpty(undefined),
              last(),
              map(() => version),
            ),
      ),
    );

  return defer(() =>
    step(from).pipe(
      // Each step is subscribed on the queue scheduler: with effects that answer synchronously,
      // each version would otherwise be subscribed one stack frame deeper than the last. (Not
      // expand's own scheduler argument: with it, RxJS 7.8 can complete while a step is queued.)
      expand((done) => (done === STOP ? EMPTY : step(done + 1).pipe(subscribeOn(queueScheduler))), 1),
      concatMap((done) => {
        if (done === STOP) return EMPTY;
        const applied = of(migrationEvent({ type: 'applied', version: done }));
        const caughtUp = effects.latest$.pipe(
          take(1),
          concatMap((latest) => (latest === done ? of(migrationEvent({ type: 'caughtUp', version: done })) : EMPTY)),
        );
        return concat(applied, caughtUp);
      }),
    ),
  );
}
