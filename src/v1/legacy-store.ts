import type { Observable } from 'rxjs';
import { type BatchReader, fromBatchReader } from '../core/batch-reader.js';
import type { Changeset } from '../core/changeset.js';
import { diskLocation, type LevelDb } from '../db/level-db.js';
import type { WriteOp, WriteOptions } from '../db/namespace.js';
import { checkVersion } from '../core/version.js';
import type { IavlTree } from '../iavl/iavl-tree.js';
import type { ImmutableTree } from '../iavl/immutable-tree.js';
import type { CommitInfo } from '../commitment/commit-info.js';
import { MultiTree, type StoreProof } from '../commitment/multi-tree.js';
import { SnapshotReader } from '../commitment/snapshot-reader.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import { v1Layout } from './v1-layout.js';
import { WorkerSnapshotReader } from './worker-snapshot-reader.js';

/** Options of {@link LegacyStore.open}. */
export interface LegacyStoreOptions {
  /** The mounted store keys (module names). */
  readonly storeKeys: readonly string[];
  /** Decoded IAVL nodes kept in memory per tree. */
  readonly cacheSize?: number;
  /**
   * Read snapshots on a worker thread (default true), when the database is on disk and was opened
   * with `openDb`: the tree walk then runs beside the restore instead of taking turns with it on
   * the main thread (a 1M-key migration took 0.8–0.9× the time on the 2-core project machine).
   * With an in-memory database, or when the worker cannot start (a process warning says why),
   * snapshots are read on the calling thread. The worker costs memory: its own V8 isolate, heap
   * and malloc arena, 35–40 MiB of RSS in a migration; false saves that on a memory-limited host.
   */
  readonly exportWorker?: boolean;
}

/**
 * store/v1: the cosmos-sdk rootmulti layout on one `application.db` — one IAVL tree per module
 * under `s/k:<name>/`, `s/latest`, `s/<height>` CommitInfo. It opens existing databases, commits
 * changesets (all stores of a version in one atomic batch), answers queries with proofs at any
 * retained version, and is the snapshot source of the migration.
 */
export class LegacyStore {
  private constructor(
    /** @internal */
    readonly multi: MultiTree,
    private readonly exportWorker: boolean,
  ) {}

  /** Opens (or creates) the store/v1 database `db`. */
  static async open(db: LevelDb, options: LegacyStoreOptions): Promise<LegacyStore> {
    const multi = await MultiTree.open(db, v1Layout, {
      storeKeys: options.storeKeys,
      ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
    });
    return new LegacyStore(multi, options.exportWorker ?? true);
  }

  /** @internal The live tree of one store: writing through it would desync the commit info. */
  tree(storeKey: string): IavlTree {
    return this.multi.tree(storeKey);
  }

  /**
   * A read-only view of one store's tree at a retained `version`: its root hash, key count,
   * values by key or index, and proofs. `ERR_UNKNOWN_STORE` for another name,
   * `ERR_VERSION_RANGE` below 1, `ERR_VERSION_NOT_FOUND` for a version it does not hold.
   */
  async treeAt(storeKey: string, version: number): Promise<ImmutableTree> {
    return this.multi.tree(storeKey).getImmutable(checkVersion(version, 'version', 1));
  }

  /** Latest committed height (0 when empty). */
  get latestVersion(): number {
    return this.multi.latestVersion;
  }

  /** Mounted store keys, sorted. */
  get storeKeys(): string[] {
    return this.multi.storeKeys;
  }

  /**
   * Commits `changeset` as the next version atomically; returns its CommitInfo. `extraOps` (writes
   * to other namespaces of the same database, such as the migration's changeset log) become
   * durable in the same batch. `sync` makes the batch survive an OS crash or power loss before
   * this resolves (Go's store/v1 writes its commits with `WriteSync`).
   */
  async commit(changeset: Changeset, extraOps: readonly WriteOp[] = [], options: WriteOptions = {}): Promise<CommitInfo> {
    await this.multi.applyChangeset(changeset);
    return this.multi.commit(this.multi.latestVersion + 1, extraOps, options);
  }

  /** The database this store lives in. */
  get db(): LevelDb {
    return this.multi.ns.db;
  }

  /** Value of `key` in `storeKey` at `version` (default latest). */
  get(storeKey: string, key: Uint8Array, version?: number): Promise<Uint8Array | undefined> {
    return this.multi.get(storeKey, key, version);
  }

  /** Value and two-op proof of `key` at `version` (default latest). */
  getProof(storeKey: string, key: Uint8Array, version?: number): Promise<StoreProof> {
    return this.multi.getProof(storeKey, key, version);
  }

  /** The CommitInfo of `version`. */
  getCommitInfo(version: number): Promise<CommitInfo | undefined> {
    return this.multi.getCommitInfo(version);
  }

  /** The app hash at `version` (default latest). */
  appHash(version?: number): Promise<Uint8Array> {
    return this.multi.appHash(version);
  }

  /** Root hash of one store's tree at `version` (default latest). */
  async storeRoot(storeKey: string, version: number = this.latestVersion): Promise<Uint8Array> {
    return (await this.multi.tree(storeKey).getImmutable(version)).hash;
  }

  /** Deletes versions up to `version` inclusive; refused while a snapshot pins one of them. */
  prune(version: number): Promise<void> {
    return this.multi.prune(version);
  }

  /** Earliest readable version. */
  earliestVersion(): Promise<number> {
    return this.multi.earliestVersion();
  }

  /**
   * A pull-based reader of the snapshot at `version`, pinning it until closed. `snapshot(0)` and a
   * version above the latest are typed errors naming the versions.
   */
  async snapshotReader(version: number): Promise<BatchReader<SnapshotItem>> {
    // Opened here first in any case: it checks the version and pins it on this thread.
    const local = await SnapshotReader.open(this.multi, version);
    const location = this.exportWorker ? diskLocation(this.db) : undefined;
    if (location === undefined) return local;
    try {
      const trees = await Promise.all(
        this.storeKeys.map(async (storeKey) => {
          const ndb = this.multi.tree(storeKey).ndb;
          return { storeKey, prefix: ndb.ns.prefix, hasVersion: await ndb.hasVersion(version) };
        }),
      );
      const worker = await WorkerSnapshotReader.start({ db: this.db, location, trees, version, guard: local });
      return worker ?? local;
    } catch (error) {
      await local.close();
      throw error;
    }
  }

  /** The snapshot at `version` as a cold Observable, pinned while subscribed. */
  snapshot(version: number, batchSize = 1024): Observable<SnapshotItem> {
    return fromBatchReader(() => this.snapshotReader(version), batchSize);
  }
}
