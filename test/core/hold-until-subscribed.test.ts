import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { holdUntilSubscribed } from '../../src/core/hold-until-subscribed.js';

const testScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('holdUntilSubscribed', () => {
  it('delivers what came before the subscription at its frame, then follows the source', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const { held } = holdUntilSubscribed(hot('-a-b-----c-d-|'));
      expectObservable(held, '----^').toBe('----(ab)-c-d-|');
    });
  });

  it('holds an early error and an early completion', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      expectObservable(holdUntilSubscribed(hot('-a-#')).held, '-----^').toBe('-----(a#)');
      expectObservable(holdUntilSubscribed(hot('-a|')).held, '---^').toBe('---(a|)');
    });
  });

  it('keeps the order when the source emits while the early values are delivered', () => {
    const source = new Subject<number>();
    const { held } = holdUntilSubscribed(source);
    source.next(1);
    source.next(2);
    const seen: number[] = [];
    held.subscribe((value) => {
      seen.push(value);
      if (value === 1) source.next(3);
    });
    source.next(4);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('can be subscribed once; after that subscriber leaves, values are dropped, and the connection stops it all', () => {
    const source = new Subject<number>();
    const { held, connection } = holdUntilSubscribed(source);
    const first: number[] = [];
    const subscription = held.subscribe((value) => first.push(value));
    source.next(1);
    subscription.unsubscribe();
    source.next(2);
    let error: { code?: string } | undefined;
    held.subscribe({ error: (e: { code?: string }) => (error = e) });
    expect(first).toEqual([1]);
    expect(error?.code).toBe('ERR_STATE');
    expect(source.observed).toBe(true);
    connection.unsubscribe();
    expect(source.observed).toBe(false);
  });
});
