import { Observable, type ObservableNotification, type Subscriber, Subscription } from 'rxjs';
import { StoreError } from './errors.js';

/** {@link holdUntilSubscribed}'s result: the held stream and the subscription to the source. */
export interface HeldStream<T> {
  /** Replays what the source emitted before it was subscribed, then follows the source. Once only. */
  readonly held: Observable<T>;
  /** The subscription to the source; unsubscribe it to stop holding and following. */
  readonly connection: Subscription;
}

/**
 * Subscribes to `source` at once and keeps its notifications only until `held` is subscribed:
 * those are delivered first, everything after passes straight through, and nothing is kept
 * afterwards. Unlike a `ReplaySubject`, which keeps every value for later subscribers for as long
 * as it lives, memory holds only what arrived before the first subscriber. `held` can be
 * subscribed once (a second subscription is an `ERR_STATE` error notification); after that
 * subscriber unsubscribes, the source's values are dropped.
 *
 * ```
 * source:  -a-b-----c-d-|
 * held:        ^----         subscribed at frame 4
 * result:  ----(ab)-c-d-|
 * ```
 */
export function holdUntilSubscribed<T>(source: Observable<T>): HeldStream<T> {
  let early: ObservableNotification<T>[] | undefined = [];
  let target: Subscriber<T> | undefined;
  let subscribed = false;
  const send = (to: Subscriber<T>, notification: ObservableNotification<T>): void => {
    if (notification.kind === 'N') to.next(notification.value);
    else if (notification.kind === 'E') to.error(notification.error);
    else to.complete();
  };
  const deliver = (notification: ObservableNotification<T>): void => {
    if (target !== undefined) send(target, notification);
    else early?.push(notification);
  };
  const connection = source.subscribe({
    next: (value) => deliver({ kind: 'N', value }),
    error: (error: unknown) => deliver({ kind: 'E', error }),
    complete: () => deliver({ kind: 'C' }),
  });
  const held = new Observable<T>((subscriber) => {
    if (subscribed) {
      subscriber.error(new StoreError('ERR_STATE', 'a held stream can be subscribed only once'));
      return;
    }
    subscribed = true;
    const pending = early!;
    // What the source emits while the held notifications are replayed queues behind them.
    while (pending.length > 0 && !subscriber.closed) send(subscriber, pending.shift()!);
    early = undefined;
    if (!subscriber.closed) target = subscriber;
    return () => {
      target = undefined;
    };
  });
  return { held, connection };
}
