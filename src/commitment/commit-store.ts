import type { Observable } from 'rxjs';
import type { BatchReader } from '../core/batch-reader.js';
import { fromBatchReader } from '../core/batch-reader.js';
import type { Changeset } from '../core/changeset.js';
import { utf8 } from '../core/bytes.js';
import { InFlight } from '../core/in-flight.js';
import type { LevelDb } from '../db/level-db.js';
import type { WriteOp, WriteOptions } from '../db/namespace.js';
import { checkVersion } from '../core/version.js';
import type { IavlTree } from '../iavl/iavl-tree.js';
import type { ImmutableTree } from '../iavl/immutable-tree.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import type { CommitInfo } from './commit-info.js';
import { MultiTree, type StoreProof } from './multi-tree.js';
import { scLayout } from './sc-layout.js';
import { SnapshotReader } from './snapshot-reader.js';
import { restoreMultiTree, type RestoreOptions, type RestoreResult } from './snapshot-restore.js';

/** Options of {@link CommitStore.open}. */
export interface CommitStoreOptions {
  /** The store keys (module names) whose trees the SC holds. */
  readonly storeKeys: readonly string[];
  /** Namespace prefix inside `db` (raw bytes or UTF-8); default none. */
  readonly prefix?: Uint8Array | string;
  /** Decoded IAVL nodes kept in memory per tree. */
  readonly cacheSize?: number;
}

/**
 * The store/v2 State Commitment (SC): one IAVL tree per store key, used only for hashes and
 * proofs. Writes are staged with `writeChangeset` and made durable by `commit(version)`, which
 * returns the CommitInfo whose hash is the app hash — byte-identical to store/v1's for the same
 * trees.
 */
export class CommitStore {
  /** Staging and commits in flight (see {@link settled}). */
  private readonly inFlight = new InFlight();

  private constructor(
    /** @internal */
    readonly multi: MultiTree,
  ) {}

  /** Opens (or creates) the SC in `db` under `prefix`. */
  static async open(db: LevelDb, options: CommitStoreOptions): Promise<CommitStore> {
    const prefix = typeof options.prefix === 'string' ? utf8(options.prefix) : options.prefix;
    const multi = await MultiTree.open(db, scLayout, {
      storeKeys: options.storeKeys,
      ...(prefix === undefined ? {} : { prefix }),
      ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
    });
    return new CommitStore(multi);
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

  /**
   * Deletes everything (used to wipe an interrupted restore before importing again). Like
   * `rollback` and `loadVersion`, `ERR_STATE` while a `writeChangeset` or `commit` is under way.
   */
  clear(): Promise<void> {
    return this.multi.clear();
  }

  /** Latest committed version (0 when empty). */
  get latestVersion(): number {
    return this.multi.latestVersion;
  }

  /** Store keys, sorted. */
  get storeKeys(): string[] {
    return this.multi.storeKeys;
  }

  /**
   * Stages a changeset in the working trees (validated as a whole before anything changes).
   * `ERR_STATE` while another one is staged or a commit runs: one change of the trees at a time.
   */
  writeChangeset(changeset: Changeset): Promise<void> {
    return this.inFlight.track(this.multi.applyChangeset(changeset));
  }

  /**
   * Resolves once every `writeChangeset` and `commit` called so far has settled, fulfilled or
   * not: what a caller that abandoned one of them waits for before it touches the trees again.
   */
  settled(): Promise<void> {
    return this.inFlight.settled();
  }

  /**
   * Drops the staged changes: the working trees return to the latest committed version.
   * `ERR_STATE` while a `writeChangeset` or `commit` is under way (await {@link settled} first).
   */
  rollback(): void {
    this.multi.rollback();
  }

  /**
   * Commits the staged changes as `version` (must be latest + 1, else `ERR_VERSION_MISMATCH`);
   * `extraOps` on the same database become durable in the same batch; `sync` makes the batch (and
   * every earlier write of the database) survive an OS crash before it resolves. `ERR_STATE`
   * while a changeset is being staged or another commit runs.
   */
  commit(version: number, extraOps: readonly WriteOp[] = [], options: WriteOptions = {}): Promise<CommitInfo> {
    return this.inFlight.track(this.multi.commit(version, extraOps, options));
  }

  /** The database this store lives in. */
  get db(): LevelDb {
    return this.multi.ns.db;
  }

  /** Value of `key` in `storeKey` at `version`. */
  get(storeKey: string, version: number, key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.multi.get(storeKey, key, version);
  }

  /** Value and two-op proof (`ics23:iavl`, `ics23:simple`) of `key` at `version`. */
  getProof(storeKey: string, version: number, key: Uint8Array): Promise<StoreProof> {
    return this.multi.getProof(storeKey, key, version);
  }

  /** The CommitInfo of `version`, or `undefined` when not committed or pruned. */
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

  /**
   * Makes `version` the working state (discarding staged changes) and the latest version: the next
   * commit is `version + 1`, and must reproduce the hash of a newer version it saves again (newer
   * versions are not deleted). In memory only, until that commit. `ERR_STATE` while a
   * `writeChangeset` or `commit` is under way.
   */
  loadVersion(version: number): Promise<void> {
    return this.multi.loadVersion(version);
  }

  /** Deletes versions up to `version` inclusive (never the latest, never a pinned one). */
  prune(version: number): Promise<void> {
    return this.multi.prune(version);
  }

  /** Earliest readable version. */
  earliestVersion(): Promise<number> {
    return this.multi.earliestVersion();
  }

  /** A pull-based reader of the snapshot at `version` (store items, then IAVL nodes in post-order). */
  snapshotReader(version: number): Promise<SnapshotReader> {
    return SnapshotReader.open(this.multi, version);
  }

  /** The snapshot at `version` as a cold Observable (see {@link SnapshotReader}). */
  snapshot(version: number, batchSize = 1024): Observable<SnapshotItem> {
    return fromBatchReader(() => SnapshotReader.open(this.multi, version), batchSize);
  }

  /**
   * Restores this (empty) SC from a snapshot at `version`, forwarding every leaf to
   * `options.onLeaf`; returns the first non-store, non-IAVL item, if any.
   */
  restore(version: number, items: BatchReader<SnapshotItem>, options?: RestoreOptions): Promise<RestoreResult> {
    return restoreMultiTree(this.multi, version, items, options);
  }
}
