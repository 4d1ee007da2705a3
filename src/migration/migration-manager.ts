import {
  BehaviorSubject,
  concat,
  concatMap,
  defaultIfEmpty,
  defer,
  distinctUntilChanged,
  EMPTY,
  filter,
  finalize,
  firstValueFrom,
  forkJoin,
  from,
  last,
  lastValueFrom,
  NEVER,
  type Observable,
  of,
  ReplaySubject,
  type SchedulerLike,
  Subscription,
  takeUntil,
  takeWhile,
  throwIfEmpty,
  tap,
} from 'rxjs';
import { InFlight } from '../core/in-flight.js';
import { checkPositiveInteger } from '../core/positive-integer.js';
import { StoreError } from '../core/errors.js';
import type { VersionedChangeset } from '../core/changeset.js';
import { checkVersion } from '../core/version.js';
import { whenIdle } from '../core/when-idle.js';
import { holdUntilSubscribed } from '../core/hold-until-subscribed.js';
import type { LevelDb } from '../db/level-db.js';
import { Namespace } from '../db/namespace.js';
import type { CommitStore } from '../commitment/commit-store.js';
import type { StorageStore } from '../storage/storage-store.js';
import type { SnapshotManager } from '../snapshots/snapshot-manager.js';
import { ChangesetLog } from './changeset-log.js';
import type { MigrationEvent, RestoredEvent } from './events.js';
import { migrationPipeline } from './pipeline.js';
import { restoreSinks, verifyRoots, type RootSource } from './restore-effects.js';
import { applyLogged } from './operators/apply-logged.js';

/** A minimal logger; `console` fits. */
export interface MigrationLogger {
  info(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Options of {@link MigrationManager}. */
export interface MigrationManagerOptions {
  /** Database of the changeset log (keys `m/cs_<version>` under `logPrefix`). Not closed by the manager. */
  readonly db: LevelDb;
  /** Snapshot source (store/v1) and its operation lock. */
  readonly snapshots: SnapshotManager;
  /** The new State Storage. */
  readonly ss: StorageStore;
  /** The new State Commitment, or `null`/absent for an SS-only migration. */
  readonly sc?: CommitStore | null;
  /** Where store roots are checked against; defaults to the snapshotter when it has `storeRoot`. */
  readonly source?: RootSource;
  readonly logger?: MigrationLogger;
  /** Prefix of the changeset log inside `db`; default none (keys are `m/cs_…`). */
  readonly logPrefix?: Uint8Array;
  /** Snapshot items per batch; default 2048. */
  readonly batchSize?: number;
  /**
   * True while the host needs the event loop (a block commit in flight): no snapshot batch is
   * read or written, no catch-up step starts, and a catch-up step whose SC tree changes are done
   * waits before hashing and writing them, until it is false. Must emit its current value on
   * subscribe (a `BehaviorSubject`). With small batches this keeps a live node's commit latency
   * close to what it is without a migration: the migration yields between its steps.
   */
  readonly busy$?: Observable<boolean>;
  /** Minimum interval between progress events; default 250 ms. */
  readonly progressIntervalMs?: number;
  readonly scheduler?: SchedulerLike;
  /** Log entries are trimmed every this many applied versions; default 64. */
  readonly trimEvery?: number;
  /**
   * The caller writes each changeset's log entry itself, atomically with its store/v1 commit
   * (what the root store does): the pipeline then only acknowledges it.
   */
  readonly logWrittenByCaller?: boolean;
}

/** What a (possibly interrupted) earlier run left in the v2 targets. */
interface TargetState {
  readonly restored: boolean;
  readonly importSc: boolean;
  readonly importSs: boolean;
  readonly resumeSs: boolean;
  /** Highest version both targets hold, when the restore is done. */
  readonly migrated: number;
}

/**
 * Runs the store/v1 → store/v2 migration: restores a snapshot at height H into the new SC and SS,
 * logs every later commit durably, replays and follows the log, and reports everything as
 * {@link MigrationEvent}s. Failures are error notifications with typed errors — never only logged.
 */
export class MigrationManager {
  readonly log: ChangesetLog;
  private readonly migrated = new BehaviorSubject<number>(0);
  private running = false;
  private restoredHeight: number | undefined;
  /** Replays the close: a run or `sync` begun after `close()` stops at once (`ERR_CLOSED`). */
  private readonly closed = new ReplaySubject<void>(1);
  /**
   * What runs issued and may still be writing: an unsubscribed run issues nothing more, but a
   * batch it already issued lands when it lands. Awaited before a run inspects or wipes the
   * targets, and by {@link close}, so no write of a stopped run reaches a target after a wipe.
   */
  private readonly inFlight = new InFlight();

  constructor(private readonly options: MigrationManagerOptions) {
    checkPositiveInteger(options.batchSize, 'batchSize');
    checkPositiveInteger(options.trimEvery, 'trimEvery');
    this.log = ChangesetLog.in(new Namespace(options.db, options.logPrefix ?? new Uint8Array(0)));
  }

  /** The new SC, or `null` for an SS-only migration. */
  get stateCommitment(): CommitStore | null {
    return this.options.sc ?? null;
  }

  /** Highest version fully present in v2: 0 before the restore, H after it, then each applied version. */
  get migratedVersion(): number {
    return this.migrated.value;
  }

  /** {@link migratedVersion} as an Observable: replays the current value, monotonic, no duplicates. */
  get migratedVersion$(): Observable<number> {
    return this.migrated.pipe(distinctUntilChanged());
  }

  private get rootSource(): RootSource | undefined {
    if (this.options.source) return this.options.source;
    const snapshotter = this.options.snapshots.snapshotter as Partial<RootSource>;
    return typeof snapshotter.storeRoot === 'function' ? (snapshotter as RootSource) : undefined;
  }

  private logInfo(message: string, details?: Record<string, unknown>): void {
    this.options.logger?.info(message, details);
  }

  /**
   * Applies one logged changeset to SC and SS, once its turn came (`waitTurn`: like the restore's
   * batches, a catch-up step waits while the host commits a block). Each target is checked first:
   * a version it already holds (the other target's write was interrupted by a crash) is skipped,
   * never applied twice; the SC's check waits for its earlier calls to settle (see `applyToSc`).
   */
  private apply(entry: VersionedChangeset): Observable<unknown> {
    const { sc, ss } = this.options;
    const trimEvery = this.options.trimEvery ?? 64;
    const v = entry.version;
    // The trim deletes log entries, possibly in another database than the targets (a root store
    // keeps the log in store/v1's): the targets' writes it relies on must be durable first, or an
    // OS crash could keep the trim and lose them, and the versions in between would be gone. A
    // synced write flushes every earlier write of its database too. Once every `trimEvery`.
    const trim = v % trimEvery === 0;
    let wrote = 0;
    const write = <T>(work: () => Promise<T>): Observable<T> => defer(() => (wrote++, work()));
    return concat(
      defer(() =>
        forkJoin([
          sc ? this.applyToSc(sc, entry, trim, write).pipe(defaultIfEmpty(undefined), last()) : of(undefined),
          ss.latestVersion < v ? write(() => this.inFlight.track(ss.applyChangeset(v, entry.changeset, { sync: trim }))) : of(undefined),
        ]),
      ),
      defer(async () => {
        this.migrated.next(v);
        // A target that already held `v` (written by an earlier run) was not synced here: the
        // next trim covers this version.
        if (trim && wrote === (sc ? 2 : 1)) await this.log.trim(v);
      }),
    );
  }

  /**
   * Resolves once every write issued so far (inspections, restore sinks, catch-up steps) has
   * settled — not what is issued meanwhile: a run's own inspection waits here.
   */
  private async settled(): Promise<void> {
    await this.inFlight.settled();
    await this.options.sc?.settled();
  }

  /**
   * Stages a logged changeset in the SC and commits it. The hashing and write after the tree
   * changes are a second slice of about the same size, which waits for the host too. A step that
   * was abandoned on this SC (unsubscribed, or its SS half failed; then retried by a new run) may
   * still be under way, or may have left changes staged: each step first waits until the SC's
   * earlier calls settled, then starts from its committed trees.
   */
  private applyToSc(
    sc: CommitStore,
    entry: VersionedChangeset,
    sync: boolean,
    write: <T>(work: () => Promise<T>) => Observable<T>,
  ): Observable<unknown> {
    const v = entry.version;
    return from(sc.settled()).pipe(
      concatMap(() => {
        if (sc.latestVersion >= v) return EMPTY;
        sc.rollback();
        return concat(defer(() => sc.writeChangeset(entry.changeset)), whenIdle(this.options.busy$), write(() => sc.commit(v, [], { sync })));
      }),
    );
  }

  /**
   * Inspects the v2 targets before a (re)start at `height`: a finished restore is resumed at the
   * catch-up; a partial SC is wiped and imported again (its importer's stack of unjoined subtrees
   * is not on disk, and a tree import costs no more than the export that feeds it); a partial SS
   * restore continues from its last durable checkpoint.
   */
  private async targetState(height: number): Promise<TargetState> {
    const { sc, ss } = this.options;
    const inconsistent = (what: string, latest: number) =>
      new StoreError('ERR_STATE', `${what} holds version ${latest}, below the migration height ${height}: it is not this migration's target`, {
        details: { height, latest },
      });
    let scRestored = true;
    if (sc) {
      if (sc.latestVersion > 0 && sc.latestVersion < height) throw inconsistent('the new SC', sc.latestVersion);
      scRestored = sc.latestVersion >= height;
      if (!scRestored) await sc.clear();
    }
    // A wipe that stopped half-way (crash) left data behind a store that reads as empty: finish it.
    if (ss.pendingClear) await ss.clear();
    if (ss.latestVersion > 0 && ss.latestVersion < height) throw inconsistent('the new SS', ss.latestVersion);
    const ssRestored = ss.latestVersion >= height;
    const pending = ss.pendingRestoreVersion;
    if (!ssRestored && pending !== undefined && pending !== height) await ss.clear();
    const restored = scRestored && ssRestored;
    return {
      restored,
      importSc: !scRestored,
      importSs: !ssRestored,
      resumeSs: !ssRestored && pending === height,
      migrated: restored ? Math.min(sc ? sc.latestVersion : Number.MAX_SAFE_INTEGER, ss.latestVersion) : 0,
    };
  }

  private async requireEmpty(height: number): Promise<TargetState> {
    const { sc, ss } = this.options;
    // The remains of a wipe that stopped half-way are not data of an earlier migration: finish it.
    if (ss.pendingClear) await ss.clear();
    const used = (sc?.latestVersion ?? 0) > 0 || ss.latestVersion > 0 || ss.pendingRestoreVersion !== undefined;
    if (used) {
      throw new StoreError(
        'ERR_IMPORT_NOT_EMPTY',
        `cannot start a fresh migration at height ${height}: the v2 targets already hold data (SC ${sc?.latestVersion ?? '-'}, SS ${ss.latestVersion})`,
        { details: { height, sc: sc?.latestVersion ?? null, ss: ss.latestVersion } },
      );
    }
    if (sc) await sc.clear();
    return { restored: false, importSc: sc !== null && sc !== undefined, importSs: true, resumeSs: false, migrated: 0 };
  }

  private claim(what: string): void {
    if (this.running) throw new StoreError('ERR_STATE', `cannot ${what}: a migration is already running`);
    this.running = true;
  }

  /**
   * The live migration at height `version` as a cold Observable of events. `commits$` carries
   * every changeset committed to store/v1 after `version`, in order; each is acknowledged with a
   * `logged` event once durable. `done$` ends catch-up; if v2 then holds every logged version it
   * is verified and `switch` is the last event, and the snapshot lock passes to the new SC.
   * A second concurrent start is a typed error. By default an interrupted earlier run is resumed
   * (see `targetState`); `resume: false` demands empty targets.
   */
  start(
    version: number,
    commits$: Observable<VersionedChangeset>,
    done$: Observable<unknown>,
    options: { readonly resume?: boolean } = {},
  ): Observable<MigrationEvent> {
    return this.run(version, commits$, done$, options.resume !== false, false);
  }

  /**
   * {@link start}; a run that ends without a switch (it failed, was unsubscribed, closed or
   * stopped) gives the snapshot operation up, unless `keepLockWhenRestored` and it restored
   * (`migrate`, whose `sync` follows).
   */
  private run(
    version: number,
    commits$: Observable<VersionedChangeset>,
    done$: Observable<unknown>,
    resume: boolean,
    keepLockWhenRestored: boolean,
  ): Observable<MigrationEvent> {
    return defer(() => {
      checkVersion(version, 'migration height', 1);
      this.claim(`start a migration at height ${version}`);
      const { sc, ss, snapshots } = this.options;
      const source = this.rootSource;
      const caller = this.options.logWrittenByCaller === true;
      // Commits and the stop signal are taken from the very first moment: the inspection of the
      // targets below is asynchronous, and a hot source must not lose what it emits meanwhile.
      // Commits are held only for those few reads; then the pipeline consumes them directly.
      const early = holdUntilSubscribed(commits$);
      const stopped = new ReplaySubject<unknown>(1);
      const inputs = new Subscription();
      inputs.add(early.connection);
      inputs.add(done$.subscribe(stopped));
      let restored = false;
      let switched = false;
      // A previous run's writes still under way must land before the targets are inspected or wiped;
      // a run stopped meanwhile inspects (and wipes) nothing.
      let ended = false;
      const inspected = this.settled().then(() =>
        ended ? undefined : Promise.all([resume ? this.targetState(version) : this.requireEmpty(version), this.log.latest()]),
      );
      // The inspection is one of the run's writes (it may wipe the targets); the sinks' ones are
      // tracked once the run ended (see `finalize`), when nothing can issue more.
      void this.inFlight.track(inspected).catch(() => undefined);
      let sinks: ReturnType<typeof restoreSinks> | undefined;
      return from(inspected).pipe(
        filter((inspection): inspection is [TargetState, number] => inspection !== undefined),
        concatMap(([state, logged]) => {
          this.logInfo(state.restored ? 'migration resumed' : 'migration started', {
            height: version,
            sc: sc !== null && sc !== undefined,
            migrated: state.migrated,
            logged,
          });
          if (state.restored) this.migrated.next(state.migrated);
          sinks = restoreSinks({
            height: version,
            sc: sc ?? null,
            ss,
            source,
            importSc: state.importSc,
            importSs: state.importSs,
            resumeSs: state.resumeSs,
            ...(this.options.batchSize === undefined ? {} : { batchSize: this.options.batchSize }),
            ...(this.options.busy$ ? { busy$: this.options.busy$ } : {}),
          });
          return migrationPipeline({
            height: version,
            snapshot$: snapshots.createMigration(version),
            commits$: early.held,
            done$: stopped,
            append: (entry) => (caller ? of(undefined) : from(this.log.append(entry))),
            read: (v) => from(this.log.read(v)),
            restore: sinks,
            apply: (entry) => this.apply(entry),
            waitTurn: () => whenIdle(this.options.busy$),
            ...(sc && source ? { verify: (v: number) => from(verifyRoots(sc, source, v)) } : {}),
            ...(this.options.progressIntervalMs === undefined ? {} : { progressIntervalMs: this.options.progressIntervalMs }),
            ...(this.options.scheduler ? { scheduler: this.options.scheduler } : {}),
            ...(state.restored ? { resumeFrom: state.migrated } : {}),
            // A resumed run may find the log empty: the catch-up trims it up to the version it
            // applied, which the log then holds no more, although every version up to it is logged.
            initialLogged: Math.max(logged, state.migrated),
          });
        }),
        tap({
          next: (event) => {
            if (event.type === 'restored') {
              restored = true;
              this.restoredHeight = event.version;
              if (this.migrated.value < event.version) this.migrated.next(event.version);
            }
            if (event.type === 'switch') {
              switched = true;
              snapshots.endMigration(sc ?? null);
              this.logInfo('migration switched', { version: event.version });
            }
          },
          error: (error: unknown) => this.options.logger?.error('migration failed', { error: String(error) }),
        }),
        takeUntil(this.closed),
        finalize(() => {
          ended = true;
          inputs.unsubscribe();
          // What the run issued is awaited by the next run and by close() until it has settled.
          void this.inFlight.track(inspected.then(() => sinks?.settled(), () => undefined));
          this.running = false;
          // Otherwise the lock would outlive the run, and a retry or a state-sync snapshot would
          // be refused with ERR_SNAPSHOT_CONFLICT until close.
          if (!switched && !(keepLockWhenRestored && restored)) snapshots.endMigration(null);
        }),
      );
    });
  }

  /**
   * Restores the snapshot at `version` into SC and SS and verifies it (Go `Migrate`), without
   * following commits. Resolves with the `restored` event; the snapshot lock stays held until
   * {@link close}. Rejects with the run's error (the lock is then released), or with `ERR_CLOSED`
   * when {@link close} stopped it first.
   */
  migrate(version: number): Promise<RestoredEvent> {
    return firstValueFrom(
      this.run(version, NEVER, NEVER, true, true).pipe(
        filter((e): e is RestoredEvent => e.type === 'restored'),
        throwIfEmpty(() => new StoreError('ERR_CLOSED', `the migration at height ${version} was closed before its restore finished`, { details: { height: version } })),
      ),
    );
  }

  /**
   * Applies every changeset in the log after the migrated version, in order (Go `Sync`), and
   * resolves with the new migrated version. Before `migrate` finished it is a typed error;
   * `close()` stops it between two versions, and it then rejects with `ERR_CLOSED`.
   */
  async sync(): Promise<number> {
    if (this.restoredHeight === undefined) {
      throw new StoreError('ERR_STATE', 'migration is not done yet: sync needs a finished restore');
    }
    this.claim('sync');
    // close() stops it between steps like a run (a step under way is awaited by close()).
    let closed = false;
    const closing = this.closed.subscribe(() => (closed = true));
    try {
      const latest = await this.log.latest();
      const from = this.migrated.value + 1;
      if (latest >= from && !closed) {
        await lastValueFrom(
          applyLogged(from, {
            latest$: of(latest),
            stop$: NEVER,
            read: (v) => defer(() => this.log.read(v)),
            apply: (entry) => this.apply(entry),
            waitTurn: () => whenIdle(this.options.busy$),
          }).pipe(takeWhile((event) => event.type !== 'caughtUp'), takeUntil(this.closed)),
          { defaultValue: undefined },
        );
      }
      if (closed) {
        throw new StoreError('ERR_CLOSED', `the migration manager was closed during sync, at version ${this.migrated.value}`, {
          details: { migrated: this.migrated.value },
        });
      }
      return this.migrated.value;
    } finally {
      closing.unsubscribe();
      this.running = false;
    }
  }

  /**
   * Stops a running migration (unsubscribes it), ends the snapshot operation with or without a
   * new SC, and closes nothing it does not own (the databases stay open). Resolves once the
   * writes the run already issued have landed. The manager is done: a later `migrate` or `sync`
   * rejects with `ERR_CLOSED`, and a later `start` ends without an event.
   */
  async close(): Promise<void> {
    this.closed.next();
    this.options.snapshots.endMigration(null);
    this.migrated.complete();
    // The run is unsubscribed; its writes already issued land before the caller wipes or closes.
    await this.settled();
  }
}
