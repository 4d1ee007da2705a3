import { from, map, take, type Observable } from 'rxjs';
import { checkVersionOrder } from '../../src/migration/operators/check-version-order.js';
import { throttleProgress } from '../../src/migration/operators/throttle-progress.js';
import type { MigrationEvent } from '../../src/migration/events.js';
import { cs } from '../../marbles/support.js';

/** A synchronous source over a generator that counts how far it was pulled and whether it was closed. */
function counted<T>(make: (i: number) => T, limit: number) {
  const state = { pulled: 0, returned: false };
  function* gen() {
    try {
      for (let i = 1; i <= limit; i++) {
        state.pulled++;
        yield make(i);
      }
    } finally {
      state.returned = true;
    }
  }
  return { source: from(gen()) as Observable<T>, state };
}

describe('operators stop a synchronous source when their subscriber leaves', () => {
  it('reference: map + take(1) pulls one item and closes the generator', () => {
    const { source, state } = counted((i) => cs(i), 100_000);
    source.pipe(map((x) => x), take(1)).subscribe();
    expect(state).toEqual({ pulled: 1, returned: true });
  });

  it('checkVersionOrder + take(1) pulls one item', () => {
    const { source, state } = counted((i) => cs(i), 100_000);
    source.pipe(checkVersionOrder(1), take(1)).subscribe();
    expect(state).toEqual({ pulled: 1, returned: true });
  });

  it('checkVersionOrder stops pulling after its own gap error', () => {
    const { source, state } = counted((i) => cs(i === 2 ? 5 : i), 100_000);
    let error: unknown;
    source.pipe(checkVersionOrder(1)).subscribe({ error: (e) => (error = e) });
    expect((error as { code?: string }).code).toBe('ERR_VERSION_GAP');
    expect(state).toEqual({ pulled: 2, returned: true });
  });

  it('throttleProgress + take(1) pulls one item', () => {
    const p = (n: number): MigrationEvent => ({ type: 'progress', phase: 'restore', items: n, keys: n, bytes: n, storesDone: 0, lag: 0 });
    const { source, state } = counted(p, 100_000);
    source.pipe(throttleProgress(5), take(1)).subscribe();
    expect(state).toEqual({ pulled: 1, returned: true });
  });
});
