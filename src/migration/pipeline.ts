import {
  BehaviorSubject,
  concat,
  concatMap,
  connect,
  defaultIfEmpty,
  defer,
  EMPTY,
  ignoreElements,
  last,
  map,
  merge,
  type Observable,
  of,
  ReplaySubject,
  type SchedulerLike,
  take,
  takeUntil,
  tap,
} from 'rxjs';
import { StoreError } from '../core/errors.js';
import type { VersionedChangeset } from '../core/changeset.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import { migrationEvent, type MigrationEvent, type ProgressEvent } from './events.js';
import { applyLogged } from './operators/apply-logged.js';
import { checkVersionOrder } from './operators/check-version-order.js';
import { logChangesets } from './operators/log-changesets.js';
import { restoreSnapshot, type RestoreSinks } from './operators/restore-snapshot.js';
import { throttleProgress } from './operators/throttle-progress.js';

/** Everything the migration timeline needs from the outside world, as Observables. */
export interface PipelineEffects {
  /** The height H of the snapshot. */
  readonly height: number;
  /** store/v1 at H, pulled in batches (see `SnapshotManager.createMigration`). */
  readonly snapshot$: Observable<SnapshotItem>;
  /** Changesets committed to store/v1 after H, in version order (hot, from the root store). */
  readonly commits$: Observable<VersionedChangeset>;
  /** The root store's stop signal: at the switch, or to end catch-up. */
  readonly done$: Observable<unknown>;
  /** Writes one changeset to the durable log; completes when it is durable. */
  append(entry: VersionedChangeset): Observable<unknown>;
  /** Reads one changeset back from the log. */
  read(version: number): Observable<VersionedChangeset | undefined>;
  /** Where the snapshot goes (SC import, SS leaves, finish + verification). */
  readonly restore: RestoreSinks;
  /** Applies one logged changeset to SC and SS; completes when both are durable. */
  apply(entry: VersionedChangeset): Observable<unknown>;
  /** Completes when the next logged changeset may be applied (see `applyLogged`); default at once. */
  waitTurn?(): Observable<unknown>;
  /** Checks v2 against v1 at the switch version (root hashes); errors on mismatch. */
  verify?(version: number): Observable<unknown>;
  /** Minimum time between progress events; default 250 ms. */
  readonly progressIntervalMs?: number;
  readonly scheduler?: SchedulerLike;
  /**
   * A resumed migration whose restore already finished: v2 holds every version up to this one, so
   * the timeline starts with the catch-up from here (after `verify` of the height).
   */
  readonly resumeFrom?: number;
  /** Highest version already in the durable log (a resumed migration); default the height. */
  readonly initialLogged?: number;
}

/**
 * The whole migration timeline as one cold Observable of events:
 *
 * ```
 * snapshot$  --s--n--n--n--s--n--n--|
 * commits$   -----c101-----c102-------c103----c104--
 * done$      -------------------------------------d
 * events$    --L---p--L--p--p----r-a-a--L-a-C---L-a-C--S|
 * ```
 *
 * Commits are version-checked and logged durably from the first moment (`logged` is the
 * acknowledgement), the snapshot is restored into SC and SS, and only then (`concat`) the log is
 * replayed in version order and followed live — the log on disk is the only queue between them.
 * `done$` ends the loop at a version boundary; if v2 then holds every logged version, it is
 * verified against v1 and `switch` closes the stream. A done signal before the restore finished
 * is a typed error, as is any failure on the way.
 */
export function migrationPipeline(effects: PipelineEffects): Observable<MigrationEvent> {
  return defer(() => {
    const latestLogged = new BehaviorSubject<number>(Math.max(effects.height, effects.initialLogged ?? 0));
    const stop = new ReplaySubject<void>(1);
    let restored = false;
    let migrated = 0;
    let totals: Omit<ProgressEvent, 'type' | 'phase' | 'lag'> = { items: 0, keys: 0, bytes: 0, storesDone: 0 };

    const logged$ = effects.commits$.pipe(
      // A fresh run may be fed versions the snapshot already holds too (only later ones are
      // applied). A resumed run that logged past the height continues after the last logged
      // version: an earlier one would overwrite a log entry, so it is a duplicate.
      checkVersionOrder(latestLogged.value + 1, latestLogged.value > effects.height ? latestLogged.value + 1 : 1),
      logChangesets((entry) => effects.append(entry)),
      // The acknowledgement goes out first; then the catch-up loop learns of the new entry.
      concatMap((version) =>
        concat(
          of(migrationEvent({ type: 'logged', version })),
          defer(() => {
            if (version > latestLogged.value) latestLogged.next(version);
            return EMPTY;
          }),
        ),
      ),
    );
    const done$ = effects.done$.pipe(
      take(1),
      tap(() => {
        if (!restored) {
          throw new StoreError('ERR_STATE', `done signal before the restore of height ${effects.height} finished`, {
            details: { height: effects.height },
          });
        }
        stop.next();
      }),
      ignoreElements(),
    );

    const resumed$ = defer(() => {
      const verified = effects.verify ? effects.verify(effects.height).pipe(defaultIfEmpty(undefined), last()) : of(undefined);
      return verified.pipe(
        map(() => migrationEvent({ type: 'restored', version: effects.height, keys: 0, storeRoots: {} })),
      );
    });
    const restoreOrResume$: Observable<MigrationEvent> =
      effects.resumeFrom === undefined ? effects.snapshot$.pipe(restoreSnapshot(effects.restore)) : resumed$;
    const restore$ = restoreOrResume$.pipe(
      tap((event) => {
        if (event.type === 'progress') totals = { items: event.items, keys: event.keys, bytes: event.bytes, storesDone: event.storesDone };
        if (event.type === 'restored') {
          restored = true;
          migrated = effects.resumeFrom ?? event.version;
        }
      }),
    );
    const catchUp$ = defer(() => applyLogged(migrated + 1, {
      latest$: latestLogged,
      stop$: stop,
      read: (version) => effects.read(version),
      apply: (entry) => effects.apply(entry),
      ...(effects.waitTurn ? { waitTurn: () => effects.waitTurn!() } : {}),
    })).pipe(
      concatMap((event) => {
        if (event.type !== 'applied') return of(event);
        migrated = event.version;
        const lag = latestLogged.value - event.version;
        const progress = migrationEvent({ type: 'progress', phase: lag > 0 ? 'replay' : 'live', ...totals, lag } as const);
        return of(event, progress);
      }),
    );
    const switch$ = defer(() => {
      if (migrated !== latestLogged.value) return EMPTY;
      const verified = effects.verify ? effects.verify(migrated).pipe(defaultIfEmpty(undefined), last()) : of(undefined);
      return verified.pipe(map(() => migrationEvent({ type: 'switch', version: migrated })));
    });

    const work$ = concat(restore$, catchUp$, switch$);
    return work$.pipe(
      connect((work) => merge(merge(logged$, done$).pipe(takeUntil(work.pipe(ignoreElements(), defaultIfEmpty(0), last()))), work)),
      throttleProgress(effects.progressIntervalMs ?? 250, effects.scheduler),
    );
  });
}
