import {
  BehaviorSubject,
  defer,
  distinctUntilChanged,
  filter,
  finalize,
  firstValueFrom,
  from,
  lastValueFrom,
  NEVER,
  type Observable,
  of,
  type SchedulerLike,
  Subject,
  takeUntil,
  takeWhile,
  tap,
} from 'rxjs';
import { StoreError } from '../core/errors.js';
import type { VersionedChangeset } from '../core/changeset.js';
import { checkVersion } from '../core/version.js';
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
  /** Minimum interval between progress events; default 250 ms. */
  readonly progressIntervalMs?: number;
  readonly scheduler?: SchedulerLike;
  /** Log entries are trimmed every this many applied versions; default 64. */
  readonly trimEvery?: number;
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
  private readonly closed = new Subject<void>();

  constructor(private readonly options: MigrationManagerOptions) {
    this.log = new ChangesetLog(new Namespace(options.db, options.logPrefix ?? new Uint8Array(0)));
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

  private apply(entry: VersionedChangeset): Observable<unknown> {
    const { sc, ss } = this.options;
    const trimEvery = this.options.trimEvery ?? 64;
    return defer(async () => {
      await Promise.all([
        sc ? sc.writeChangeset(entry.changeset).then(() => sc.commit(entry.version)) : undefined,
        ss.applyChangeset(entry.version, entry.changeset),
      ]);
      this.migrated.next(entry.version);
      if (entry.version % trimEvery === 0) await this.log.trim(entry.version);
    });
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
   * A second concurrent start is a typed error.
   */
  start(version: number, commits$: Observable<VersionedChangeset>, done$: Observable<unknown>): Observable<MigrationEvent> {
    return defer(() => {
      checkVersion(version, 'migration height', 1);
      this.claim(`start a migration at height ${version}`);
      const { sc, ss, snapshots } = this.options;
      const source = this.rootSource;
      this.logInfo('migration started', { height: version, sc: sc !== null && sc !== undefined });
      return migrationPipeline({
        height: version,
        snapshot$: snapshots.createMigration(version),
        commits$,
        done$,
        append: (entry) => from(this.log.append(entry)),
        read: (v) => from(this.log.read(v)),
        restore: restoreSinks({ height: version, sc: sc ?? null, ss, source, ...(this.options.batchSize ? { batchSize: this.options.batchSize } : {}) }),
        apply: (entry) => this.apply(entry),
        ...(sc && source ? { verify: (v: number) => from(verifyRoots(sc, source, v)) } : {}),
        ...(this.options.progressIntervalMs === undefined ? {} : { progressIntervalMs: this.options.progressIntervalMs }),
        ...(this.options.scheduler ? { scheduler: this.options.scheduler } : {}),
      }).pipe(
        tap({
          next: (event) => {
            if (event.type === 'restored') {
              this.restoredHeight = event.version;
              this.migrated.next(event.version);
            }
            if (event.type === 'switch') {
              snapshots.endMigration(sc ?? null);
              this.logInfo('migration switched', { version: event.version });
            }
          },
          error: (error: unknown) => this.options.logger?.error('migration failed', { error: String(error) }),
        }),
        takeUntil(this.closed),
        finalize(() => {
          this.running = false;
        }),
      );
    });
  }

  /**
   * Restores the snapshot at `version` into SC and SS and verifies it (Go `Migrate`), without
   * following commits. Resolves with the `restored` event; the snapshot lock stays held until
   * {@link close}.
   */
  migrate(version: number): Promise<RestoredEvent> {
    return firstValueFrom(this.start(version, NEVER, NEVER).pipe(filter((e): e is RestoredEvent => e.type === 'restored')));
  }

  /**
   * Applies every changeset in the log after the migrated version, in order (Go `Sync`), and
   * resolves with the new migrated version. Before `migrate` finished it is a typed error.
   */
  async sync(): Promise<number> {
    if (this.restoredHeight === undefined) {
      throw new StoreError('ERR_STATE', 'migration is not done yet: sync needs a finished restore');
    }
    this.claim('sync');
    try {
      const latest = await this.log.latest();
      const from = this.migrated.value + 1;
      if (latest >= from) {
        await lastValueFrom(
          applyLogged(from, {
            latest$: of(latest),
            stop$: NEVER,
            read: (v) => defer(() => this.log.read(v)),
            apply: (entry) => this.apply(entry),
          }).pipe(takeWhile((event) => event.type !== 'caughtUp')),
          { defaultValue: undefined },
        );
      }
      return this.migrated.value;
    } finally {
      this.running = false;
    }
  }

  /**
   * Stops a running migration (unsubscribes it), ends the snapshot operation with or without a
   * new SC, and closes nothing it does not own (the databases stay open).
   */
  async close(): Promise<void> {
    this.closed.next();
    this.options.snapshots.endMigration(null);
    this.migrated.complete();
  }
}

