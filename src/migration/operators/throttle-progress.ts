import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { MigrationEvent, ProgressEvent } from '../events.js';

/**
 * Rate-limits `progress` events to at most one per `intervalMs` (the first at once, the latest of
 * a burst at the end of the interval) and lets every other event through immediately. A pending
 * progress event is emitted before the next non-progress event, so progress never appears after
 * the event that supersedes it. The scheduler is injectable for virtual-time tests.
 *
 * ```
 * source:  -pppp-----pp-r-|      (intervalMs = 3 frames)
 * result:  -p--p-----p-pr-|
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
      const openWindow = (): void => {
        window = scheduler.schedule(() => {
          window = undefined;
          if (pending !== undefined) {
            const event = pending;
            pending = undefined;
            subscriber.next(event);
            openWindow();
          }
        }, intervalMs);
      };
      const flush = (): void => {
        window?.unsubscribe();
        window = undefined;
        if (pending !== undefined) {
          const event = pending;
          pending = undefined;
          subscriber.next(event);
        }
      };
      const subscription = source.subscribe({
        next: (event) => {
          if (event.type !== 'progress') {
            flush();
            subscriber.next(event);
            return;
          }
          if (window === undefined) {
            subscriber.next(event);
            openWindow();
          } else {
            pending = event;
          }
        },
        error: (error: unknown) => {
          flush();
          subscriber.error(error);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        window?.unsubscribe();
      };
    });
}
