import { EMPTY, filter, ignoreElements, type Observable, take } from 'rxjs';

/**
 * Completes (emitting nothing) as soon as `busy$` is false — at once when it already is — so that
 * `concat(whenIdle(busy$), work$)` starts `work$` only while the host is not busy. `busy$` must
 * emit its current value on subscribe (a `BehaviorSubject`); without one, never busy.
 *
 * ```
 * busy$:     t----f---t--       t/f = true/false
 * whenIdle:  -----|
 * ```
 */
export function whenIdle(busy$: Observable<boolean> | undefined): Observable<never> {
  return busy$ ? busy$.pipe(filter((busy) => !busy), take(1), ignoreElements()) : EMPTY;
}
