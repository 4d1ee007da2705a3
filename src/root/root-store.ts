import { BehaviorSubject, type Observable, ReplaySubject, Subject, type Subscription } from 'rxjs';
import { utf8 } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import { checkChangeset, type Changeset, type VersionedChangeset } from '../core/changeset.js';
import { checkVersion } from '../core/version.js';
import type { LevelDb } from '../db/level-db.js';
import { Namespace, type WriteOptions } from '../db/namespace.js';
import { commitInfoHash } from '../commitment/commit-info.js';
import { CommitStore } from '../commitment/commit-store.js';
import type { StoreProof } from '../commitment/multi-tree.js';
import { StorageStore } from '../storage/storage-store.js';
import { LegacyStore } from '../v1/legacy-store.js';
import { SnapshotManager } from '../snapshots/snapshot-manager.js';
import type { MigrationEvent } from '../migration/events.js';
import { MigrationManager, type MigrationLogger } from '../migration/migration-manager.js';
import { ChangesetLog } from '../migration/changeset-log.js';
import { migrationRecordOp, readMigrationRecord, type MigrationRecord } from './migration-record.js';
import { V1_MIGRATION_LOG_PREFIX, V2_LAYOUT } from './v2-layout.js';
import { checkPositiveInteger } from '../core/positive-integer.js';

/** Options of {@link RootStore.open}. */
export interface RootStoreOptions {
  /**
   * store/v1: its `application.db`, mounted store keys, decoded IAVL nodes cached per tree, and
   * whether the migration walks its trees on a worker thread (`exportWorker`, default true; see
   * `LegacyStoreOptions.exportWorker`: false saves the worker's memory on a memory-limited host).
   */
  readonly v1: { readonly db: LevelDb; readonly storeKeys: readonly string[]; readonly cacheSize?: number; readonly exportWorker?: boolean };
  /**
   * store/v2: its database; `sc: false` migrates SS only (store/v1 trees keep the commitments);
   * `cacheSize`: decoded IAVL nodes cached per SC tree.
   */
  readonly v2: { readonly db: LevelDb; readonly sc?: boolean; readonly cacheSize?: number };
  /** Migrate to store/v2 once a version is loaded (in the background). */
  readonly migrate?: boolean;
  /** Keep store/v1 open read-only after the switch, for queries below the migration height. Default true. */
  readonly retainV1?: boolean;
  readonly logger?: MigrationLogger;
  /**
   * Snapshot items per batch during the restore; default 256. The restore yields to block
   * commits between batches, so a commit waits for at most one batch: small slices keep commit
   * latency during a migration close to what it is without one (the offline `migrate` command
   * uses 2048, which is faster when nothing else runs).
   */
  readonly batchSize?: number;
  /** Minimum interval between progress events (ms); default 250. */
  readonly progressIntervalMs?: number;
  /**
   * Changesets a migration that is recorded but not running (it failed, or the store was opened
   * without `migrate`) may keep in its log, for a retry to replay; the commit that would log one
   * more abandons the migration instead (see {@link RootStore.abandonMigration}). Default 100 000
   * (about a week of 6-second blocks).
   */
  readonly failedMigrationLogLimit?: number;
  /**
   * Whether a commit's durable write is synced to disk before `commit` resolves (LevelDB `sync`),
   * so a version whose app hash was returned survives an OS crash or power loss, as Go's store/v1
   * writes its commits with `WriteSync`. Default true. false saves an fsync per block: a killed
   * process still loses nothing, but an OS crash may lose the last versions committed (a CometBFT
   * node replays them from its block store). Ignored (synced) while a migration is recorded, and
   * after the switch of an SS-only migration: store/v2 then follows store/v1's commits and must
   * never hold a version store/v1 lost.
   */
  readonly syncCommits?: boolean;
}

/** Where the root store reads and writes. */
export type RootPhase = 'v1' | 'migrating' | 'switched' | 'failed';

/** What the root store reports on `events$`: the migration's events plus its own milestones. */
export type RootStoreEvent =
  | MigrationEvent
  | { readonly type: 'migrationStarted'; readonly height: number }
  | { readonly type: 'migrationFailed'; readonly error: unknown }
  | { readonly type: 'switched'; readonly version: number; readonly height: number }
  /**
   * After the switch, `version` was committed (commitment and changeset log durable) but writing
   * it to the SS failed with `error`: the SS is completed from the log before the next commit and
   * before the next read from the SS, and that operation fails if completing it fails again.
   */
  | { readonly type: 'ssBehind'; readonly version: number; readonly error: unknown }
  /**
   * The migration from `height` was given up: on request, or because it was not running while
   * its log reached `failedMigrationLogLimit` changesets (`reason`). store/v1 serves alone.
   */
  | { readonly type: 'migrationAbandoned'; readonly height: number; readonly reason: 'requested' | 'logLimit' };

/** A query answer. */
export interface QueryResult {
  readonly version: number;
  readonly value: Uint8Array | undefined;
  /** With `prove`: the two-op proof up to the app hash of `version`. */
  readonly proof?: StoreProof;
}

/** Restore batch size of a live migration: see {@link RootStoreOptions.batchSize}. */
const LIVE_BATCH_SIZE = 256;
/** See {@link RootStoreOptions.failedMigrationLogLimit}. */
const FAILED_MIGRATION_LOG_LIMIT = 100_000;
/** Events replayed to late subscribers of `events$`. */
const EVENT_REPLAY = 128;
const SC_PREFIX = utf8(V2_LAYOUT.sc);
const SS_PREFIX = utf8(V2_LAYOUT.ss);
const MIGRATION_LOG_PREFIX = utf8(V1_MIGRATION_LOG_PREFIX);
const POST_SWITCH_LOG_PREFIX = utf8(V2_LAYOUT.log);
const ROOT_PREFIX = utf8(V2_LAYOUT.root);

/**
 * What an application uses: commits, queries with proofs, and — configured with `migrate` — the
 * live move from store/v1 to store/v2. While migrating, commits go to store/v1 and then, once
 * durable there, into the migration's log; queries are answered by store/v1. At the first commit
 * after the migration caught up, the root store switches: that commit and every later one go to
 * store/v2 (SC + SS) with the same app hash store/v1 would have produced.
 */
export class RootStore {
  private phaseNow: RootPhase = 'v1';
  // A bounded replay, so a subscriber that attaches right after `open()` still sees a start or a
  // failure that happened during it.
  private readonly eventsSubject = new ReplaySubject<RootStoreEvent>(EVENT_REPLAY);
  private tail: Promise<unknown> = Promise.resolve();
  /**
   * True from the start of a commit until the event loop's turn after it returned: the migration
   * yields to commits (starts no snapshot read, restore batch or catch-up step meanwhile).
   */
  private readonly committing = new BehaviorSubject(false);
  /** Resolves once the last commit's end was signalled to the migration. */
  private idleSignalled: Promise<void> = Promise.resolve();
  private latest: number;
  private migration: MigrationRun | undefined;
  private v1: LegacyStore | undefined;
  private record: MigrationRecord | undefined;
  private closed = false;
  /** A completion of the SS under way: see {@link catchUpSs}. */
  private ssCatchUp: Promise<void> | undefined;
  /** The first version in the log of a migration that does not run (read once, when first needed). */
  private idleLogFirst: number | undefined;

  /** Migration and switch events; the last few are replayed to a new subscriber. */
  readonly events$: Observable<RootStoreEvent> = this.eventsSubject.asObservable();

  private constructor(
    private readonly options: RootStoreOptions,
    v1: LegacyStore,
    private readonly sc: CommitStore | null,
    private readonly ss: StorageStore,
    private readonly meta: Namespace,
  ) {
    this.v1 = v1;
    this.latest = v1.latestVersion;
  }

  /**
   * Opens store/v1 and the store/v2 targets. A durable record tells whether a previous run
   * switched (then store/v2 serves at once, after giving the SS a changeset a crash may have kept
   * from it) or was interrupted mid-migration (then, with `migrate`, the migration resumes from what
   * store/v2 durably holds; store/v2 is never read before the switch).
   */
  static async open(options: RootStoreOptions): Promise<RootStore> {
    checkPositiveInteger(options.batchSize, 'batchSize');
    checkPositiveInteger(options.failedMigrationLogLimit, 'failedMigrationLogLimit');
    const v1 = await LegacyStore.open(options.v1.db, {
      storeKeys: options.v1.storeKeys,
      ...(options.v1.cacheSize === undefined ? {} : { cacheSize: options.v1.cacheSize }),
      ...(options.v1.exportWorker === undefined ? {} : { exportWorker: options.v1.exportWorker }),
    });
    const storeKeys = v1.storeKeys;
    const withSc = options.v2.sc ?? true;
    const meta = new Namespace(options.v2.db, ROOT_PREFIX);
    const record = await readMigrationRecord(meta);
    const sc = withSc
      ? await CommitStore.open(options.v2.db, {
          storeKeys,
          prefix: SC_PREFIX,
          ...(options.v2.cacheSize === undefined ? {} : { cacheSize: options.v2.cacheSize }),
        })
      : null;
    const ss = await StorageStore.open(options.v2.db, { prefix: SS_PREFIX, storeKeys });
    const root = new RootStore(options, v1, sc, ss, meta);
    root.record = record;
    if (record?.status === 'switched') {
      if (sc && sc.latestVersion === 0) {
        throw new StoreError(
          'ERR_STATE',
          `store/v2 switched at version ${record.switchedAt} without an SC (its SC is empty): open it with v2.sc false, as it was migrated`,
          { details: { switchedAt: record.switchedAt, height: record.height } },
        );
      }
      // With an SC, store/v1 stopped at the switch: a later version in it was committed by
      // something else (a node run on store/v1 alone), and store/v2 does not have it.
      if (sc && v1.latestVersion >= record.switchedAt) {
        throw new StoreError(
          'ERR_STATE',
          `store/v1 holds versions ${record.switchedAt}..${v1.latestVersion}, committed after the switch to store/v2 at version ${record.switchedAt} (migration height ${record.height}): store/v2 does not have them; migrate again into an empty store/v2`,
          { details: { switchedAt: record.switchedAt, height: record.height, v1Latest: v1.latestVersion } },
        );
      }
      root.phaseNow = 'switched';
      root.latest = sc?.latestVersion ?? v1.latestVersion;
      await root.completeSsFromLog();
      // Each commit writes its commitment and log entry, then the SS, so after the log replay the
      // SS equals its commitment. Behind: store/v1 was committed to by something else. Ahead:
      // the store was opened with another `v2.sc` than the migration's.
      if (ss.latestVersion !== root.latest) {
        const commitment = sc ? 'the SC' : 'store/v1';
        const why =
          ss.latestVersion < root.latest
            ? ` and the changeset log cannot complete it (switched at version ${record.switchedAt}; was store/v1 committed to without the root store?); migrate again into an empty store/v2`
            : `, which it is never ahead of: was store/v2 opened with v2.sc false although it migrated with an SC?`;
        throw new StoreError('ERR_STATE', `the store/v2 SS holds versions up to ${ss.latestVersion}, but ${commitment} is at ${root.latest}${why}`, {
          details: { switchedAt: record.switchedAt, height: record.height, ss: ss.latestVersion, latest: root.latest },
        });
      }
      // The switch trims the migration log after its record is durable: a crash in between left
      // entries nothing else deletes. Without an SC the log goes on after the switch, where each
      // commit keeps its own entry (the SS is completed from it) and deletes the one before.
      await root.migrationLog.trim(withSc ? root.latest : root.latest - 1);
      if (options.retainV1 === false && withSc) root.v1 = undefined;
    } else if (record?.status === 'migrating' && options.migrate) {
      // Interrupted mid-migration: store/v2 is not read until the switch; the migration resumes
      // from what the targets durably hold and replays the log, which holds every later commit.
      root.startMigration(record.height, true);
    } else if (record?.status === 'abandoned') {
      // A crash may have come between the record and the log's deletion.
      await root.migrationLog.trim(root.latest);
    }
    if (options.migrate) await root.loadVersion();
    return root;
  }

  /** The latest committed version. */
  get latestVersion(): number {
    return this.latest;
  }

  /** Where reads and writes go now. */
  get phase(): RootPhase {
    return this.phaseNow;
  }

  /** True while a migration runs in the background. */
  get isMigrating(): boolean {
    return this.phaseNow === 'migrating';
  }

  /**
   * Highest version store/v2 holds: while migrating, what the migration applied (0 before the
   * restore finished); after the switch, the latest version.
   */
  get migratedVersion(): number {
    return this.migration?.migratedVersion ?? (this.phaseNow === 'switched' ? this.latest : 0);
  }

  /** The height the migration started at (after a switch: where store/v2 history begins). */
  get migrationHeight(): number | undefined {
    return this.migration?.height ?? this.record?.height;
  }

  private emit(event: RootStoreEvent): void {
    // Frozen like the migration's own events; an error inside stays the caller's to inspect.
    this.eventsSubject.next(Object.freeze(event));
  }

  /**
   * Loads `version` (the latest; store/v1 cannot be rolled back here) and, with `migrate`
   * configured, starts the migration at it in the background — exactly once: a second load while
   * migrating or after the switch starts nothing. Serialized with commits.
   */
  async loadVersion(version?: number): Promise<void> {
    this.assertOpen();
    return this.serialized(() => this.loadNow(version ?? this.latest));
  }

  /**
   * Runs `work` after every commit and state change queued before it, and before any queued
   * after; a store closed meanwhile is `ERR_CLOSED` when its turn comes.
   */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      this.assertOpen();
      return work();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async loadNow(version: number): Promise<void> {
    checkVersion(version, 'version');
    if (version !== this.latest) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `can only load the latest version ${this.latest}, not ${version}`, {
        details: { version, latest: this.latest },
      });
    }
    if (!this.options.migrate || this.phaseNow !== 'v1') return;
    if (version === 0) throw new StoreError('ERR_STATE', 'cannot migrate an empty store/v1: commit a version first');
    if (this.record?.status === 'abandoned') {
      // The targets hold what the abandoned migration wrote; a fresh one needs them empty, and a
      // log that abandoning could not delete goes too.
      await this.sc?.clear();
      await this.ss.clear();
      await this.migrationLog.trim(this.latest);
    }
    // Durable first: if this write fails, nothing has changed.
    const record: MigrationRecord = { status: 'migrating', height: version };
    await this.meta.write([migrationRecordOp(this.meta, record)]);
    this.record = record;
    this.startMigration(version, false);
  }

  private startMigration(height: number, resume: boolean): void {
    this.phaseNow = 'migrating';
    this.idleLogFirst = undefined;
    this.migration = new MigrationRun(this, height, resume);
    this.emit({ type: 'migrationStarted', height });
    this.migration.start();
  }

  /** The log of changesets that must reach the SS after the switch (in the commitment's database). */
  private get postSwitchLog(): ChangesetLog {
    return this.sc ? ChangesetLog.in(new Namespace(this.options.v2.db, POST_SWITCH_LOG_PREFIX)) : this.migrationLog;
  }

  /** The migration's changeset log, in store/v1's database. */
  get migrationLog(): ChangesetLog {
    return ChangesetLog.in(new Namespace(this.options.v1.db, MIGRATION_LOG_PREFIX));
  }

  /** After a crash between a post-switch commitment write and its SS write: give the SS what it missed. */
  private async completeSsFromLog(): Promise<void> {
    const log = this.postSwitchLog;
    const last = await log.latest();
    for (let v = this.ss.latestVersion + 1; v <= last && v <= this.latest; v++) {
      const entry = await log.read(v);
      if (entry === undefined) {
        throw new StoreError('ERR_VERSION_GAP', `the SS is at ${this.ss.latestVersion} but the log has no changeset ${v}`, {
          details: { expected: v },
        });
      }
      // Synced without an SC: see commitV2.
      await this.ss.applyChangeset(v, entry.changeset, { sync: this.sc === null });
    }
  }

  /**
   * Restarts a failed migration (for example after a disk error): it resumes from what store/v2
   * durably holds. `ERR_STATE` unless the migration failed when its turn comes (it is serialized
   * with commits, `loadVersion` and `abandonMigration`).
   */
  async retryMigration(): Promise<void> {
    this.assertOpen();
    // Checked when its turn comes: a queued abandon may have given the migration up meanwhile.
    return this.serialized(async () => {
      const record = this.record;
      if (this.phaseNow !== 'failed' || record?.status !== 'migrating') {
        throw new StoreError('ERR_STATE', `cannot retry: the migration has not failed (phase ${this.phaseNow}, record ${record?.status ?? 'none'})`);
      }
      await this.migration?.stop();
      this.startMigration(record.height, true);
    });
  }

  /**
   * Gives the migration up, running or not (failed, or recorded while the store was opened
   * without `migrate`): it stops, its changeset log is deleted, and store/v1 serves alone and
   * logs nothing from here on. The record says so durably; the store/v2 targets keep what the
   * migration wrote until the next migration starts (`loadVersion` with `migrate`, or the next
   * open with it), which wipes them first and begins at the latest version. `ERR_STATE` when
   * there is no migration to give up (none recorded, or it switched). Serialized with commits.
   */
  async abandonMigration(): Promise<void> {
    this.assertOpen();
    return this.serialized(() => this.abandonNow('requested'));
  }

  private async abandonNow(reason: 'requested' | 'logLimit'): Promise<void> {
    const record = this.record;
    if (record?.status !== 'migrating' || this.phaseNow === 'switched') {
      const what = record === undefined ? 'no migration is recorded' : `the migration is ${record.status}`;
      throw new StoreError('ERR_STATE', `cannot abandon the migration: ${what}`, { details: { phase: this.phaseNow } });
    }
    // Durable first: if this write fails, nothing has changed and the migration goes on.
    const abandoned: MigrationRecord = { status: 'abandoned', height: record.height };
    // Synced: the log's deletion below (store/v1's database) must never outlive this record in an
    // OS crash, or the migration would resume on a log that lost its entries.
    await this.meta.write([migrationRecordOp(this.meta, abandoned)], { sync: true });
    this.record = abandoned;
    this.phaseNow = 'v1';
    this.idleLogFirst = undefined;
    const run = this.migration;
    this.migration = undefined;
    await run?.stop();
    this.options.logger?.info('migration abandoned', { height: record.height, reason });
    this.emit({ type: 'migrationAbandoned', height: record.height, reason });
    // The abandon is done; a log this fails to delete goes at the next open or migration start.
    await this.migrationLog.trim(this.latest).catch((error: unknown) => {
      this.options.logger?.error('could not delete the abandoned migration log; it is deleted later', { error: String(error) });
    });
  }

  /** Store upgrades are refused while migrating (Go: "cannot upgrade while migrating"). */
  async loadVersionAndUpgrade(version: number, upgrades: { readonly added?: readonly string[]; readonly deleted?: readonly string[] }): Promise<void> {
    if (this.isMigrating) throw new StoreError('ERR_STATE', 'cannot upgrade while migrating');
    if ((upgrades.added?.length ?? 0) > 0 || (upgrades.deleted?.length ?? 0) > 0) {
      throw new StoreError('ERR_INVALID_ARGUMENT', 'store upgrades (adding or deleting stores) are not supported by this root store');
    }
    await this.loadVersion(version);
  }

  /**
   * Commits the next version and returns its app hash. Commits are serialized in call order, so
   * calls issued back to back without awaiting never reorder. A `VersionedChangeset` whose
   * version is not latest + 1 is `ERR_VERSION_MISMATCH` ("commit version mismatch"); a malformed
   * changeset (see `checkChangeset`: a pair without a boolean `remove`, a set without a value, …)
   * is `ERR_INVALID_ARGUMENT` (`ERR_EMPTY_KEY` for an empty key) before anything is written. A running
   * migration pauses while a commit runs and resumes on the event loop's next turn after it
   * returned (`setImmediate`); a commit issued before that turn waits for it, so the migration
   * keeps making progress between blocks committed back to back. (So a test that fakes
   * `setImmediate` must let it run while a migration runs.)
   */
  commit(input: Changeset | VersionedChangeset): Promise<Uint8Array> {
    const run = this.tail.then(async () => {
      // Between two commits the migration gets its turn, even from a host that commits back to
      // back without ever leaving the event loop a turn of its own.
      await this.idleSignalled;
      this.committing.next(true);
      try {
        return await this.commitNow(input);
      } finally {
        if (!this.committing.observed) {
          // No migration listens (none runs, or it ended): nothing to defer.
          this.committing.next(false);
        } else {
          // Idle only once the caller has resumed: signalled here, the migration's next step
          // would start synchronously inside this commit and delay its return.
          this.idleSignalled = new Promise((resolve) =>
            setImmediate(() => {
              this.committing.next(false);
              resolve();
            }),
          );
        }
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commitNow(input: Changeset | VersionedChangeset): Promise<Uint8Array> {
    this.assertOpen();
    const version = this.latest + 1;
    const changeset = 'changeset' in input ? input.changeset : input;
    if ('version' in input && input.version !== version) {
      throw new StoreError('ERR_VERSION_MISMATCH', `commit version mismatch: expected ${version}, got ${input.version}`, {
        details: { expected: version, received: input.version },
      });
    }
    // One check for every target: the trees would take a pair the SS refuses after the commitment.
    checkChangeset(version, changeset);
    if (this.phaseNow === 'migrating' && this.migration!.caughtUpTo(this.latest)) await this.switchOver(version);
    if (this.phaseNow === 'switched') {
      const hash = await this.commitV2(version, changeset);
      this.latest = version;
      return hash;
    }
    if (this.record?.status === 'migrating' && this.phaseNow !== 'migrating' && (await this.idleLogFull(version))) {
      await this.abandonNow('logLimit');
    }
    if (this.record?.status !== 'migrating') {
      const info = await this.v1!.commit(changeset, [], this.commitWrite);
      this.latest = version;
      return commitInfoHash(info.storeInfos);
    }
    // The log entry becomes durable in the same batch as the store/v1 commit: a crash can never
    // leave a committed version that the migration does not know about. A failed migration keeps
    // logging too, so that a retry (or the next start) finds every version.
    const entry = { version, changeset };
    const info = await this.v1!.commit(changeset, [this.migrationLog.entryOp(entry)], this.commitWrite);
    this.latest = version;
    if (this.phaseNow === 'migrating') await this.migration!.forward(entry);
    return commitInfoHash(info.storeInfos);
  }

  /**
   * How a commit's durable batch is written (see `RootStoreOptions.syncCommits`). Synced anyway
   * while store/v2 follows store/v1's commits: during a migration (it applies each logged version
   * to store/v2, whose database syncs at the trims and the switch) and, without an SC, after the
   * switch (store/v1's trees stay the commitment and the SS write of every commit is synced).
   * Otherwise an OS crash could keep store/v2 at a version store/v1 lost: the replayed block then
   * fails the migration as a duplicate, or the SS is ahead of its commitment and the store no
   * longer opens.
   */
  private get commitWrite(): WriteOptions {
    const followed = this.record?.status === 'migrating' || (this.record?.status === 'switched' && this.sc === null);
    return { sync: this.options.syncCommits !== false || followed };
  }

  /** Whether logging `version` would take the log of a migration that does not run past its limit. */
  private async idleLogFull(version: number): Promise<boolean> {
    this.idleLogFirst ??= (await this.migrationLog.first()) || version;
    return version - this.idleLogFirst + 1 > (this.options.failedMigrationLogLimit ?? FAILED_MIGRATION_LOG_LIMIT);
  }

  /**
   * A post-switch commit: the commitment (new SC, or store/v1's trees for an SS-only migration —
   * Go closed them first and kept using them) with the changeset logged in the same batch, then
   * the SS. A crash in between is repaired from the log on the next open.
   */
  private async commitV2(version: number, changeset: Changeset): Promise<Uint8Array> {
    const { sc, ss } = this;
    // First the version an earlier failed SS write left out: this commit deletes its log entry.
    await this.catchUpSs();
    const log = this.postSwitchLog;
    const logOps = [log.entryOp({ version, changeset }), log.deleteOp(version - 1)];
    let info;
    if (sc) {
      await sc.writeChangeset(changeset);
      info = await sc.commit(version, logOps, this.commitWrite);
    } else {
      // store/v1's trees number their versions themselves.
      const v1 = this.v1!;
      if (v1.latestVersion !== version - 1) {
        throw new StoreError('ERR_STATE', `store/v1's trees are at version ${v1.latestVersion}, the root store commits ${version}`, {
          details: { trees: v1.latestVersion, version },
        });
      }
      info = await v1.commit(changeset, logOps, this.commitWrite);
    }
    // The version is committed from here on (its hash is final, the log holds its changeset), but
    // it becomes the latest only once the SS holds it too, or is known to lack it: a query in
    // between would read the SS's previous version under the new number.
    try {
      // Without an SC, the next commit deletes this version's log entry in store/v1's database:
      // the SS write (store/v2's database) must be durable against an OS crash before that.
      await ss.applyChangeset(version, changeset, { sync: sc === null });
    } catch (error) {
      this.options.logger?.error('SS write failed after a durable commit; it is completed from the log', { version, error: String(error) });
      this.emit({ type: 'ssBehind', version, error });
    }
    this.latest = version;
    return commitInfoHash(info.storeInfos);
  }

  /**
   * Completes the SS from the post-switch log when it is behind the latest version (a commit's SS
   * write failed, see the `ssBehind` event); one completion at a time, shared by concurrent
   * callers. A failure is `ERR_IO` with the cause, and the next call tries again.
   */
  private catchUpSs(): Promise<void> {
    if (this.ss.latestVersion >= this.latest) return Promise.resolve();
    this.ssCatchUp ??= this.completeSsFromLog()
      .then(
        () => undefined,
        (error: unknown) => {
          throw new StoreError('ERR_IO', `the SS is behind at version ${this.ss.latestVersion} (latest ${this.latest}) and completing it from the changeset log failed`, {
            cause: error,
            details: { ss: this.ss.latestVersion, latest: this.latest },
          });
        },
      )
      .finally(() => {
        this.ssCatchUp = undefined;
      });
    return this.ssCatchUp;
  }

  /** Ends catch-up and moves to store/v2 at the boundary before `version`. */
  private async switchOver(version: number): Promise<void> {
    const run = this.migration!;
    const switched = await run.finish();
    if (!switched) return;
    this.record = { status: 'switched', height: run.height, switchedAt: version };
    // Synced, with every store/v2 write before it: the migration log is deleted next, in store/v1's
    // database, and an OS crash must not keep that deletion and lose what it relies on.
    await this.meta.write([migrationRecordOp(this.meta, this.record)], { sync: true });
    this.phaseNow = 'switched';
    // The run ended with its switch event; closing its manager ends the snapshot operation.
    await run.stop();
    this.migration = undefined;
    // Everything in the migration log is applied now.
    await this.migrationLog.trim(this.latest);
    if (this.options.retainV1 === false && this.sc) this.v1 = undefined;
    this.emit({ type: 'switched', version, height: run.height });
  }

  /** @internal Called by the migration run when it failed: keep serving from store/v1. */
  failed(error: unknown): void {
    if (this.phaseNow !== 'migrating') return;
    this.phaseNow = 'failed';
    this.emit({ type: 'migrationFailed', error });
  }

  /** @internal Forwards a migration event to `events$`. */
  forwardEvent(event: MigrationEvent): void {
    this.emit(event);
  }

  /** @internal The pieces a migration run needs. */
  get migrationParts(): { v1: LegacyStore; sc: CommitStore | null; ss: StorageStore; options: RootStoreOptions; busy$: Observable<boolean> } {
    return { v1: this.v1!, sc: this.sc, ss: this.ss, options: this.options, busy$: this.committing.asObservable() };
  }

  /**
   * Reads `key` of `storeKey` at `version` (default latest), with a proof when `prove`. Before
   * the switch store/v1 answers; after it, versions from the migration height on are answered by
   * the SS (falling back to the SC) with proofs from the new SC, and older versions by the
   * retained store/v1 — or a typed error naming the migration height when it is not retained.
   */
  async query(storeKey: string, key: Uint8Array, options: { readonly version?: number; readonly prove?: boolean } = {}): Promise<QueryResult> {
    this.assertOpen();
    const version = options.version ?? this.latest;
    checkVersion(version, 'query version', 1);
    if (!(key instanceof Uint8Array) || key.length === 0) {
      throw new StoreError('ERR_EMPTY_KEY', `query of store ${storeKey}: the key must be a non-empty Uint8Array`);
    }
    if (version > this.latest) {
      throw new StoreError('ERR_VERSION_NOT_FOUND', `version ${version} is above the latest version ${this.latest}`, {
        details: { version, latest: this.latest },
      });
    }
    const useV1 = this.phaseNow !== 'switched' || version < this.record!.height;
    if (useV1) {
      // After the switch, store/v1 is only kept for older versions; its database is the
      // application's, which may close it.
      const v1 = this.v1;
      const gone = v1 === undefined ? 'is not retained' : this.phaseNow === 'switched' && v1.db.status !== 'open' ? 'is closed' : undefined;
      if (v1 === undefined || gone !== undefined) {
        throw new StoreError(
          'ERR_VERSION_PRUNED',
          `version ${version} is below the migration height ${this.record!.height} and store/v1 ${gone}`,
          { details: { requestedVersion: version, migrationHeight: this.record!.height } },
        );
      }
      if (options.prove) {
        const proof = await v1.getProof(storeKey, key, version);
        return { version, value: proof.value, proof };
      }
      return { version, value: await v1.get(storeKey, key, version) };
    }
    const commitment = this.sc ?? this.v1!;
    if (options.prove) {
      const proof = this.sc ? await this.sc.getProof(storeKey, version, key) : await this.v1!.getProof(storeKey, key, version);
      return { version, value: proof.value, proof };
    }
    await this.catchUpSs();
    try {
      return { version, value: await this.ss.get(storeKey, version, key) };
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== 'ERR_VERSION_PRUNED') throw error;
      const value = commitment instanceof CommitStore ? await commitment.get(storeKey, version, key) : await commitment.get(storeKey, key, version);
      return { version, value };
    }
  }

  /** Stops the migration (unsubscribes it) and closes what the root store opened; databases stay open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await this.migration?.stop();
    await this.ss.close();
    this.eventsSubject.complete();
    this.committing.complete();
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('ERR_CLOSED', 'the root store is closed');
  }
}

/** One background migration of a root store: its manager, inputs and acknowledgements. */
class MigrationRun {
  private readonly commits = new Subject<VersionedChangeset>();
  private readonly done = new Subject<void>();
  private readonly acks = new Map<number, () => void>();
  private readonly manager: MigrationManager;
  private subscription: Subscription | undefined;
  private restored = false;
  private switched = false;
  private failure: unknown;
  private ended!: Promise<void>;
  private end!: () => void;

  constructor(
    private readonly root: RootStore,
    readonly height: number,
    /** Continue an interrupted run (its durable record said "migrating") instead of starting fresh. */
    private readonly resume: boolean,
  ) {
    const { v1, sc, ss, options, busy$ } = root.migrationParts;
    this.manager = new MigrationManager({
      db: options.v1.db,
      logPrefix: MIGRATION_LOG_PREFIX,
      logWrittenByCaller: true,
      snapshots: new SnapshotManager(v1, { batchSize: options.batchSize ?? LIVE_BATCH_SIZE }),
      ss,
      sc,
      source: v1,
      busy$,
      ...(options.logger ? { logger: options.logger } : {}),
      batchSize: options.batchSize ?? LIVE_BATCH_SIZE,
      ...(options.progressIntervalMs === undefined ? {} : { progressIntervalMs: options.progressIntervalMs }),
    });
    this.ended = new Promise((resolve) => (this.end = resolve));
  }

  start(): void {
    this.subscription = this.manager.start(this.height, this.commits, this.done, { resume: this.resume }).subscribe({
      next: (event) => {
        if (event.type === 'restored') this.restored = true;
        if (event.type === 'switch') this.switched = true;
        if (event.type === 'logged') {
          this.acks.get(event.version)?.();
          this.acks.delete(event.version);
        }
        this.root.forwardEvent(event);
      },
      error: (error: unknown) => {
        this.failure = error;
        this.releaseAcks();
        this.root.failed(error);
        this.end();
      },
      complete: () => {
        this.releaseAcks();
        this.end();
      },
    });
  }

  private releaseAcks(): void {
    for (const ack of this.acks.values()) ack();
    this.acks.clear();
  }

  get migratedVersion(): number {
    return this.manager.migratedVersion;
  }

  /** True when v2 holds every version up to `version` (the last committed one). */
  caughtUpTo(version: number): boolean {
    return this.restored && this.failure === undefined && this.manager.migratedVersion === version;
  }

  /**
   * Hands a changeset committed to store/v1 to the migration and waits until it is durably
   * logged. A failed or finished migration does not hold the commit up.
   */
  forward(entry: VersionedChangeset): Promise<void> {
    if (this.failure !== undefined || this.subscription?.closed) return Promise.resolve();
    const logged = new Promise<void>((resolve) => this.acks.set(entry.version, resolve));
    this.commits.next(entry);
    return logged;
  }

  /** Ends catch-up; resolves true when the migration switched (verified and caught up). */
  async finish(): Promise<boolean> {
    this.done.next();
    await this.ended;
    return this.switched;
  }

  async stop(): Promise<void> {
    this.subscription?.unsubscribe();
    this.releaseAcks();
    await this.manager.close();
  }
}
