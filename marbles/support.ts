import { TestScheduler } from 'rxjs/testing';
import { concatMap, type Observable, takeWhile } from 'rxjs';
import type { PullSource } from '../src/core/pull.js';
import { utf8 } from '../src/core/bytes.js';
import type { SnapshotItem } from '../src/proto/snapshot-item.js';
import type { VersionedChangeset } from '../src/core/changeset.js';

/** A TestScheduler asserting with jest's deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/**
 * A pull source in virtual time: each request is answered by `respond(batch)` (e.g. a cold
 * marble such as `--(b|)`), batch after batch, then completes. Records the frame of every request.
 */
export function marblePullSource<T>(
  batches: readonly (readonly T[])[],
  respond: (batch: readonly T[]) => Observable<readonly T[]>,
  requestLog: number[] = [],
  now: () => number = () => 0,
): PullSource<T> {
  return (requests) => {
    let index = 0;
    return requests.pipe(
      concatMap((n) => {
        requestLog.push(now());
        const batch = batches[index++] ?? [];
        return respond(batch.slice(0, n));
      }),
      takeWhile((batch) => batch.length > 0),
    );
  };
}

/** Snapshot items for marble tests. */
export const items = {
  store: (name: string): SnapshotItem => ({ kind: 'store', name }),
  leaf: (key: string, version = 1): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: utf8(`v-${key}`), version, height: 0 }),
  inner: (key: string, version = 1, height = 1): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: new Uint8Array(0), version, height }),
};

/** A versioned changeset with one write, for marble tests. */
export function cs(version: number): VersionedChangeset {
  return { version, changeset: { changes: [{ storeKey: 'bank', pairs: [{ key: utf8(`k${version}`), value: utf8(`v${version}`), remove: false }] }] } };
}
