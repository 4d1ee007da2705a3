import { defer, type OperatorFunction, tap } from 'rxjs';
import { StoreError } from '../../core/errors.js';
import type { VersionedChangeset } from '../../core/changeset.js';

/**
 * Lets changesets through only in strict version order starting at `first`: a gap, a duplicate or
 * an out-of-order version is an error notification naming the expected and the received version.
 * Go waited forever on a gap; here the pipeline fails at once and the root store is told.
 * With `earliestFirst`, the run may start at any version in `[earliestFirst, first]` (a feeder that
 * replays versions the snapshot already holds, as Go's tests do); it must be consecutive after.
 *
 * ```
 * source:  --a--b--c--      a = v101, b = v102, c = v104
 * result:  --a--b--#        # = ERR_VERSION_GAP "expected 103, received 104"
 * ```
 *
 * @example
 * commits$.pipe(checkVersionOrder(height + 1), logChangesets(append))
 */
export function checkVersionOrder<T extends Pick<VersionedChangeset, 'version'>>(
  first: number,
  earliestFirst: number = first,
): OperatorFunction<T, T> {
  // Built from `defer` and `tap`, not a hand-written subscribe: the error (or a subscriber that
  // leaves) then unsubscribes the source at once, also a synchronous one in the middle of its run.
  return (source) =>
    defer(() => {
      let expected: number | undefined;
      return source.pipe(
        tap((entry) => {
          if (expected === undefined && entry.version >= earliestFirst && entry.version <= first) expected = entry.version;
          expected ??= first;
          if (entry.version !== expected) {
            const what = entry.version < expected ? (entry.version === expected - 1 ? 'duplicate' : 'out-of-order') : 'gap';
            throw new StoreError('ERR_VERSION_GAP', `changeset version ${what}: expected ${expected}, received ${entry.version}`, {
              details: { expected, received: entry.version },
            });
          }
          expected++;
        }),
      );
    });
}
