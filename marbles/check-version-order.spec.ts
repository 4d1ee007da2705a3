import { StoreError } from '../src/core/errors.js';
import { checkVersionOrder } from '../src/migration/operators/check-version-order.js';
import { cs, testScheduler } from './support.js';

const values = { a: cs(101), b: cs(102), c: cs(103), d: cs(104), x: cs(101) };

describe('checkVersionOrder', () => {
  it('passes consecutive versions through', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a--b--c--|', values);
      expectObservable(source.pipe(checkVersionOrder(101))).toBe('-a--b--c--|', values);
    });
  });

  it.each([
    ['a gap', '-a--b--d--|', '-a--b--#', 103, 104, 'gap'],
    ['a duplicate', '-a--b--b--|', '-a--b--#', 103, 102, 'duplicate'],
    ['an out-of-order version', '-a--b--c--x|', '-a--b--c--#', 104, 101, 'out-of-order'],
  ])('errors on %s, naming the expected and received version', (_what, input, output, expected, received, word) => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(input, values);
      const error = new StoreError('ERR_VERSION_GAP', `changeset version ${word}: expected ${expected}, received ${received}`, {
        details: { expected, received },
      });
      expectObservable(source.pipe(checkVersionOrder(101))).toBe(output, values, error);
      expectSubscriptions(source.subscriptions).toBe(`^${'-'.repeat(output.length - 2)}!`);
    });
  });

  it('errors when the first version is not the expected one', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('--b|', values).pipe(checkVersionOrder(101))).toBe(
        '--#',
        {},
        new StoreError('ERR_VERSION_GAP', 'changeset version gap: expected 101, received 102', { details: { expected: 101, received: 102 } }),
      );
    });
  });

  it('may start earlier than the first expected version when allowed, then must stay consecutive', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const early = { p: cs(99), q: cs(100), a: cs(101), c: cs(103) };
      expectObservable(cold('-p-q-a-|', early).pipe(checkVersionOrder(101, 1))).toBe('-p-q-a-|', early);
      expectObservable(cold('-p-a-|', early).pipe(checkVersionOrder(101, 1))).toBe(
        '-p-#',
        early,
        new StoreError('ERR_VERSION_GAP', 'changeset version gap: expected 100, received 101', { details: { expected: 100, received: 101 } }),
      );
      expectObservable(cold('-c-|', early).pipe(checkVersionOrder(101, 1))).toBe(
        '-#',
        early,
        new StoreError('ERR_VERSION_GAP', 'changeset version gap: expected 101, received 103', { details: { expected: 101, received: 103 } }),
      );
    });
  });
});
