import { asyncScheduler, ignoreElements, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription, tap } from 'rxjs';
import type { MigrationEvent, ProgressEvent } from '../events.js';

/** Events that come once per version and so do not supersede a pending progress event. */
const PER_VERSION: ReadonlySet<MigrationEvent['type']> = new Set(['logged', 'applied', 'caughtUp']);

/**
 * Rate-limits `progress` events to at most one per `intervalMs` (the first at once, the latest of
 * a burst at the end of the interval) and lets every other event through immediately. A pending
 * progress event is emitted before a milestone (`restored`, `switch`: any event but the
 * per-version `logged`, `applied` and `caughtUp`) and before the end, so progress never appears
 * after the event that supersedes it; the interval then starts again. Per-version events do not
 * flush it: a catch-up, and a migration following live commits, emit them for every version, and
 * would otherwise let every progress through.
 *
 * ```
 * source:  -pppp-----pp-r----|   (intervalMs = 3 frames; r = restored)
 * result:  -p--p-----p--(pr)-|
 *
 * source:  -pa--pa--pa--pa--pa--pa--|      (intervalMs = 8 frames; a = applied)
 * result:  -pa---a--pa---a--pa---a--(p|)
 * ```
 *
 * @example
 * events$.pipe(throttleProgress(250))
 */
export function throttleProgress(intervalMs: number, scheduler: SchedulerLike = asyncScheduler): MonoTypeOperatorFunction<MigrationEvent> {
  return (source) =>
    new Observable<MigrationEvent>((subscriber) => {
      let pending: ProgressEvent | undefined;
      let window: Subscription | undefined;
      // Each emission opens its window first: a subscriber that unsubscribes while it takes the
      // event then finds the timer to cancel, instead of one scheduled after its teardown.
      const openWindow = (): void => {
        window?.unsubscribe();
        window = scheduler.schedule(() => {
          window = undefined;
          flush();
        }, intervalMs);
      };
      const flush = (): void => {
        if (pending !== undefined) {
          const event = pending;
          pending = undefined;
          openWindow();
          subscriber.next(event);
        }
      };
      // The source is subscribed through operators ending in `subscriber`, not with a plain
      // observer: a subscriber that leaves (or an error) then stops the source at once, also a
      // synchronous source in the middle of its run.
      const subscription = source
        .pipe(
          tap({
            next: (event) => {
              if (event.type !== 'progress') {
                if (!PER_VERSION.has(event.type)) flush();
                subscriber.next(event);
                return;
              }
              if (window === undefined) {
                openWindow();
                subscriber.next(event);
              } else {
                pending = event;
              }
            },
            error: () => flush(),
            complete: () => flush(),
          }),
          ignoreElements(),
        )
        .subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        window?.unsubscribe();
      };
    });
}
