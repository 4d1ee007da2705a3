import {
  bufferCount,
  concat,
  concatMap,
  finalize,
  tap,
  defaultIfEmpty,
  defer,
  EMPTY,
  forkJoin,
  last,
  map,
  type Observable,
  of,
  type OperatorFunction,
} from 'rxjs';
import { StoreError } from '../../core/errors.js';
import { isPullObservable, pullThrough, type PullSource } from '../../core/pull.js';
import { whenIdle } from '../../core/when-idle.js';
import { MAX_HEIGHT } from '../../iavl/node-codec.js';
import type { SnapshotItem } from '../../proto/snapshot-item.js';
import { migrationEvent, type MigrationEvent, type RestoredEvent } from '../events.js';

/** A leaf of the snapshot with the store it belongs to: what the SS stores. */
export interface RestoredLeaf {
  readonly storeKey: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Running totals handed to `finish`. */
export interface RestoreTotals {
  readonly items: number;
  readonly keys: number;
  readonly bytes: number;
  readonly storesDone: number;
}

/** The injected effects of {@link restoreSnapshot}. */
export interface RestoreSinks {
  /** Imports one batch of store and IAVL items into the new SC; absent for an SS-only migration. */
  readonly sc?: (items: readonly SnapshotItem[]) => Observable<unknown>;
  /** Writes one batch of leaves into the SS. */
  readonly ss: (leaves: readonly RestoredLeaf[]) => Observable<unknown>;
  /** Ends the restore (SC commit info, SS latest version, verification) and describes it. */
  readonly finish: (totals: RestoreTotals) => Observable<RestoredEvent>;
  /** Items per batch; default 2048. */
  readonly batchSize?: number;
  /**
   * Batches read ahead while the previous one is written (a pull source only); default 1, so the
   * snapshot's reads overlap the SC and SS writes and at most two batches are in memory.
   */
  readonly readAhead?: number;
  /**
   * Throws when the targets hold no store of this name (`ERR_UNKNOWN_STORE`); called for each
   * store item before its batch is written, so that an SS-only restore refuses it as the SC
   * import does. Absent: every store is accepted.
   */
  readonly checkStore?: (name: string) => void;
  /** Called when the restore ends without `finish` (error or unsubscribe), to release the targets. */
  readonly abandon?: () => void;
  /**
   * True while the host needs the event loop for itself (a root store while a block commits): no
   * batch starts being read (from a pull source) or written until it is false again, so the
   * restore yields to the host between batches. Must emit its current value on subscribe (a
   * `BehaviorSubject`); absent: never busy.
   */
  readonly busy$?: Observable<boolean>;
}

function pushAsPull<T>(source: Observable<T>, batchSize: number): PullSource<T> {
  return () => source.pipe(bufferCount(batchSize));
}

/**
 * Restores a snapshot stream into SC and SS. Items are taken batch by batch; each batch is
 * imported into the SC while its leaves are written to the SS (fan-out, both in parallel), and
 * the next batch is requested only when both are done, so at most one batch is in memory. After
 * the last batch one more progress event counts every store as done, `finish` runs and the
 * `restored` event closes the stream. With a
 * {@link PullObservable} source (what `SnapshotManager.createMigration` returns) the snapshot is
 * read at the pace of the writes; a plain Observable source is batched as it pushes.
 *
 * With `busy$`, a batch is written, and the next one requested from a pull source, only when the
 * host is not busy:
 *
 * ```
 * source:  -s-n-n-n-s-n-n-|          (batchSize 4)
 * busy$:   f--------t-------f         t/f = true/false
 * result:  -------p---------(ppr|)    the second batch (at |) waits for f
 * ```
 *
 * The stream is untrusted: an IAVL item before any store item and an extension item are typed
 * errors; so is any failure of a sink, and the source's own error arrives after every batch
 * before it was written.
 *
 * ```
 * source:  -s-n-n-n-s-n-n-|          s = store item, n = IAVL node (batchSize 4)
 * sc, ss:         --|     --|
 * result:  ---------p-------(ppr|)   p = progress, r = restored
 * ```
 *
 * @example
 * snapshots.createMigration(h).pipe(restoreSnapshot({ sc, ss, finish }))
 */
export function restoreSnapshot(sinks: RestoreSinks): OperatorFunction<SnapshotItem, MigrationEvent> {
  const batchSize = sinks.batchSize ?? 2048;
  return (source) =>
    defer(() => {
      let store: string | undefined;
      let items = 0;
      let keys = 0;
      let bytes = 0;
      let storesSeen = 0;
      const pull = isPullObservable(source) ? source.pull : pushAsPull(source, batchSize);
      const writeBatch = (batch: readonly SnapshotItem[]): Observable<MigrationEvent> => {
        const leaves: RestoredLeaf[] = [];
        for (const item of batch) {
          items++;
          if (item.kind === 'store') {
            sinks.checkStore?.(item.name);
            store = item.name;
            storesSeen++;
          } else if (item.kind === 'iavl') {
            if (store === undefined) {
              throw new StoreError('ERR_IMPORT_ORDER', `snapshot item ${items}: IAVL node before any store item`, {
                details: { item: items },
              });
            }
            // The SC importer checks the tree's shape; the height bound holds for SS-only too.
            if (!Number.isInteger(item.height) || item.height < 0 || item.height > MAX_HEIGHT) {
              throw new StoreError('ERR_IMPORT_HEIGHT', `snapshot item ${items} (store ${store}): height ${item.height} is outside 0..${MAX_HEIGHT}`, {
                details: { item: items, store, height: item.height },
              });
            }
            bytes += item.key.length + item.value.length;
            if (item.height === 0) {
              keys++;
              leaves.push({ storeKey: store, key: item.key, value: item.value });
            }
          } else {
            throw new StoreError('ERR_INVALID_ARGUMENT', `snapshot item ${items}: a migration snapshot has no ${item.kind} items`, {
              details: { item: items, kind: item.kind },
            });
          }
        }
        const done = (o: Observable<unknown>) => o.pipe(defaultIfEmpty(undefined), last());
        return forkJoin([sinks.sc ? done(sinks.sc(batch)) : of(undefined), done(sinks.ss(leaves))]).pipe(
          map(() =>
            migrationEvent({ type: 'progress', phase: 'restore', items, keys, bytes, storesDone: Math.max(storesSeen - 1, 0), lag: 0 }),
          ),
        );
      };
      let finished = false;
      const free$ = whenIdle(sinks.busy$);
      // A read is work on the host's event loop too: the next batch is requested only while the
      // host is not busy (a read already under way finishes).
      const idlePull: PullSource<SnapshotItem> = sinks.busy$ ? (requests) => pull(requests.pipe(concatMap((n) => concat(free$, of(n))))) : pull;
      return concat(
        pullThrough(idlePull, (batch) => concat(free$, defer(() => writeBatch(batch))), batchSize, isPullObservable(source) ? (sinks.readAhead ?? 1) : 0),
        // The batches count the store being read as unfinished; once the stream ended, all are done.
        defer(() =>
          items === 0 ? EMPTY : of(migrationEvent({ type: 'progress', phase: 'restore', items, keys, bytes, storesDone: storesSeen, lag: 0 })),
        ),
        defer(() => sinks.finish({ items, keys, bytes, storesDone: storesSeen })).pipe(tap({ complete: () => (finished = true) })),
      ).pipe(
        finalize(() => {
          if (!finished) sinks.abandon?.();
        }),
      );
    });
}
