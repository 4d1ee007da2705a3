import { defer, finalize, tap } from 'rxjs';
import { PullObservable, pullFromReader } from '../core/pull.js';
import type { BatchReader } from '../core/batch-reader.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import { OperationLock } from './operation-lock.js';
import { checkPositiveInteger } from '../core/positive-integer.js';

/** Anything that can export its state at a version as snapshot items (store/v1, or a new SC). */
export interface Snapshotter {
  readonly latestVersion: number;
  snapshotReader(version: number): Promise<BatchReader<SnapshotItem>>;
}

/** Options of {@link SnapshotManager}. */
export interface SnapshotManagerOptions {
  /** Snapshot items per read; default 2048. */
  readonly batchSize?: number;
}

/**
 * Hands out snapshots of the node's state and guards them with one operation lock. A migration
 * snapshot holds the lock from subscription until `endMigration` — or until it fails or is
 * unsubscribed (Go leaked it in those cases and for SS-only migrations, disabling state-sync
 * snapshots for the life of the process).
 */
export class SnapshotManager {
  private readonly lock = new OperationLock();
  private releaseMigration: (() => void) | undefined;
  private source: Snapshotter;
  private readonly batchSize: number;

  constructor(snapshotter: Snapshotter, options: SnapshotManagerOptions = {}) {
    checkPositiveInteger(options.batchSize, 'batchSize');
    this.source = snapshotter;
    this.batchSize = options.batchSize ?? 2048;
  }

  /** What snapshots are taken from: store/v1 until a migration ends with a new SC. */
  get snapshotter(): Snapshotter {
    return this.source;
  }

  /** True while a migration holds the operation lock. */
  get isMigrating(): boolean {
    return this.releaseMigration !== undefined;
  }

  /**
   * store/v1 at `version` as a cold, pull-based stream of snapshot items. Subscribing takes the
   * operation lock (a conflict is an error notification); an error or an unsubscribe releases it;
   * a completed migration snapshot keeps it until {@link endMigration}.
   */
  createMigration(version: number): PullObservable<SnapshotItem> {
    return new PullObservable(
      (requests) =>
        defer(() => {
          const release = this.lock.acquire(`a migration snapshot at height ${version}`);
          this.releaseMigration = () => {
            this.releaseMigration = undefined;
            release();
          };
          const releaseOwn = this.releaseMigration;
          let completed = false;
          return pullFromReader(() => this.source.snapshotReader(version))(requests).pipe(
            tap({ complete: () => (completed = true) }),
            finalize(() => {
              if (!completed) releaseOwn();
            }),
          );
        }),
      this.batchSize,
    );
  }

  /** A state-sync snapshot at `version`; holds the lock only while it runs. */
  createSnapshot(version: number): PullObservable<SnapshotItem> {
    return new PullObservable(
      (requests) =>
        defer(() => {
          const release = this.lock.acquire(`a snapshot at height ${version}`);
          return pullFromReader(() => this.source.snapshotReader(version))(requests).pipe(finalize(release));
        }),
      this.batchSize,
    );
  }

  /**
   * Ends the migration: releases the operation lock and, when the migration produced a new SC,
   * makes it the snapshotter from now on. Safe to call when no migration runs.
   */
  endMigration(newSnapshotter: Snapshotter | null): void {
    this.releaseMigration?.();
    if (newSnapshotter !== null) this.source = newSnapshotter;
  }
}
