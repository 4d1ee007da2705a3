import { concatMap, defaultIfEmpty, last, map, type Observable, type OperatorFunction } from 'rxjs';
import type { VersionedChangeset } from '../../core/changeset.js';

/**
 * Writes each changeset to the durable log before acknowledging it: the result emits a version
 * only after `append` for it completed, in the order the changesets arrived. One write is in
 * flight at a time; the root store waits for the acknowledgement before its next commit, so the
 * queue in front of `append` never grows beyond one changeset.
 *
 * ```
 * source:  --a-----b-------|        a = v101, b = v102
 * append:    --|   ----|            (per changeset; injected effect)
 * result:  ----1-------2---|         1 = 101, 2 = 102
 * ```
 *
 * @example
 * commits$.pipe(checkVersionOrder(h + 1), logChangesets((cs) => from(log.append(cs))))
 */
export function logChangesets(
  append: (entry: VersionedChangeset) => Observable<unknown>,
): OperatorFunction<VersionedChangeset, number> {
  return (source) =>
    source.pipe(
      concatMap((entry) =>
        append(entry).pipe(
          defaultIfEmpty(undefined),
          last(),
          map(() => entry.version),
        ),
      ),
    );
}
