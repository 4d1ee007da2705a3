import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { NEVER, type Subscription } from 'rxjs';
import { toHex, utf8 } from '../core/bytes.js';
import { openDb, type LevelDb, type OpenDbOptions } from '../db/level-db.js';
import { Namespace } from '../db/namespace.js';
import { commitInfoHash } from '../commitment/commit-info.js';
import { CommitStore } from '../commitment/commit-store.js';
import { StorageStore } from '../storage/storage-store.js';
import { LegacyStore } from '../v1/legacy-store.js';
import { SnapshotManager } from '../snapshots/snapshot-manager.js';
import { MigrationManager } from '../migration/migration-manager.js';
import type { MigrationEvent, RestoredEvent } from '../migration/events.js';
import { migrationRecordOp } from '../root/migration-record.js';
import { closeAll, detectKind, describeRecord, isEmptyOrMissing, readV1Head, readV2Head, requireLevelDbFolder, storeKeysOf } from './databases.js';
import { V2_LAYOUT } from '../root/v2-layout.js';
import { CliError, EXIT, InterruptedError } from './errors.js';
import type { Output } from './output.js';
import { MigrationProgress, ProgressView } from './progress.js';

/** Options of `rx-store-migration migrate`. */
export interface MigrateOptions {
  /** The store/v1 `application.db` folder (a copy: LevelDB rewrites its journal on open). */
  readonly from: string;
  /** The store/v2 database folder to create (or to resume / report). */
  readonly to: string;
  /** Snapshot height; default the latest version of `from`. */
  readonly height?: number;
  /** Store keys; default the stores of the latest CommitInfo of `from`. */
  readonly stores?: readonly string[];
  /** Snapshot items per batch. */
  readonly batchSize?: number;
  /**
   * Table files LevelDB keeps open per database (see `OpenDbOptions.maxOpenFiles`): fewer bound
   * the memory-mapped table pages in RSS on a memory-limited host, at the cost of slower reads.
   */
  readonly maxOpenFiles?: number;
  /**
   * Bytes per table file LevelDB writes into the store/v2 target (see `OpenDbOptions.maxFileSize`):
   * smaller tables bound the target's mapped table pages in RSS together with `maxOpenFiles`.
   */
  readonly maxFileSize?: number;
  /**
   * Bytes LevelDB buffers in memory before it writes a table into the store/v2 target (see
   * `OpenDbOptions.writeBufferSize`); default {@link MIGRATE_WRITE_BUFFER_SIZE}, 16 MiB, where
   * LevelDB's own is 4 MiB: a migration's writes are not in key order, and fewer, larger level-0
   * tables save compaction. A memory-limited host gives 4 MiB (4194304) back: up to 24 MiB less RSS.
   */
  readonly writeBufferSize?: number;
  /**
   * Walk store/v1 on a worker thread (default true, see `LegacyStoreOptions.exportWorker`); false
   * keeps it on the main thread, which saves the worker's 35–40 MiB of RSS on a memory-limited host.
   */
  readonly exportWorker?: boolean;
}

/**
 * The write buffer of the store/v2 target unless `MigrateOptions.writeBufferSize` says otherwise:
 * at 1M keys in 3 stores, 16 MiB instead of LevelDB's 4 MiB made a migration ~10 % faster (see
 * `OpenDbOptions.writeBufferSize`) for up to 24 MiB more RSS.
 */
export const MIGRATE_WRITE_BUFFER_SIZE = 16 * 1024 * 1024;

/**
 * The LevelDB options of the two databases of a migration: the table cache for both, the table
 * size and the write buffer for the target only (the source is read, and its tables stay as its
 * writer made them).
 */
export function migrateDbOptions(options: Pick<MigrateOptions, 'maxOpenFiles' | 'maxFileSize' | 'writeBufferSize'>): { source: OpenDbOptions; target: OpenDbOptions } {
  const source: OpenDbOptions = options.maxOpenFiles === undefined ? {} : { maxOpenFiles: options.maxOpenFiles };
  return {
    source,
    target: {
      ...source,
      ...(options.maxFileSize === undefined ? {} : { maxFileSize: options.maxFileSize }),
      writeBufferSize: options.writeBufferSize ?? MIGRATE_WRITE_BUFFER_SIZE,
    },
  };
}

/** Whether two sorted store lists name the same stores. */
function sameStoreList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((store, i) => store === b[i]);
}

/**
 * Offline migration of an existing store/v1 database: restores the snapshot at the height into a
 * store/v2 database laid out as the root store lays out its own (SC under `sc/`, SS under `ss/`,
 * the changeset log under `log/`, the migration record under `root/`), verifies every store root
 * and the app hash against store/v1, and records the target as switched at height + 1, so that
 * `RootStore.open` serves it from store/v2 at once.
 *
 * Before anything is written the target is marked `migrating`: a run stopped half-way (Ctrl-C, a
 * crash) leaves that mark, and the next run at the same height resumes it (the SS restore from its
 * last durable checkpoint; the SC trees are imported again, see `MigrationManager`); a run at
 * another height wipes the partial target and starts over. A finished target is reported and left
 * alone.
 */
export async function runMigrate(options: MigrateOptions, output: Output, signal: AbortSignal): Promise<number> {
  const started = performance.now();
  output.warn(
    'LevelDB rewrites its journal when it opens a database: run migrate on a copy of application.db (stopped node), never on the live folder',
  );
  const fromPath = requireLevelDbFolder(options.from, 'store/v1 database');
  const toPath = resolve(options.to);
  const dbOptions = migrateDbOptions(options);
  if (fromPath === toPath) throw new CliError('--from and --to are the same folder: the store/v2 target must be a separate database');
  if (!existsSync(resolve(toPath, 'CURRENT')) && !isEmptyOrMissing(toPath)) {
    throw new CliError(`target ${options.to} exists, is not empty and is not a LevelDB database`);
  }

  let v1db: LevelDb | undefined;
  let v2db: LevelDb | undefined;
  let manager: MigrationManager | undefined;
  let ss: StorageStore | undefined;
  let subscription: Subscription | undefined;
  let view: ProgressView | undefined;
  try {
    v1db = await openDb(fromPath, dbOptions.source);
    const head = await readV1Head(v1db, options.from);
    const discovered = storeKeysOf(head.commitInfo);
    const storeKeys = options.stores ? [...options.stores].sort() : discovered;
    for (const store of storeKeys) {
      if (!discovered.includes(store)) {
        throw new CliError(`store "${store}" is not in the store/v1 commit info at version ${head.latest} (stores: ${discovered.join(', ')})`);
      }
    }
    const height = options.height ?? head.latest;
    if (height > head.latest) {
      throw new CliError(`version ${height} not found: it is above the latest version ${head.latest} of ${options.from}`);
    }
    const v1 = await LegacyStore.open(v1db, { storeKeys, ...(options.exportWorker === undefined ? {} : { exportWorker: options.exportWorker }) });
    const earliest = await v1.earliestVersion();
    if (height < earliest) throw new CliError(`version ${height} not found: ${options.from} was pruned up to ${earliest - 1} (earliest version ${earliest})`);
    let totalKeys = 0;
    for (const store of storeKeys) {
      try {
        totalKeys += (await v1.tree(store).getImmutable(height)).size;
      } catch (error) {
        throw new CliError(`version ${height} not found in store ${store} of ${options.from}: ${(error as Error).message}`);
      }
    }
    if (height < head.latest) {
      output.warn(`store/v1 has versions above ${height} (latest ${head.latest}); the store/v2 target starts at ${height}`);
    }
    output.event('source', { path: fromPath, latestVersion: head.latest, earliestVersion: earliest, height, stores: storeKeys, keys: totalKeys });

    v2db = await openDb(toPath, dbOptions.target);
    const kind = await detectKind(v2db);
    if (kind === 'store/v1') throw new CliError(`target ${options.to} is a store/v1 database: choose a new folder for store/v2`);
    const v2head = await readV2Head(v2db);
    const rootNs = new Namespace(v2db, utf8(V2_LAYOUT.root));
    if (v2head.record?.status === 'switched') {
      const record = v2head.record;
      // Asked for the latest state, a target that stops below it is no answer.
      if (options.height === undefined && head.latest >= record.switchedAt) {
        throw new CliError(
          `target ${options.to} was migrated at height ${record.height}, but ${options.from} is at version ${head.latest}: the target lacks versions ${record.switchedAt}..${head.latest}; migrate into a new folder (or pass --height ${record.height})`,
        );
      }
      output.info(`target ${options.to} is already migrated: ${describeRecord(record)}; left alone`);
      if (options.height !== undefined && options.height !== record.height) {
        output.warn(`--height ${options.height} differs from the finished migration's height ${record.height}; nothing was changed`);
      }
      const migratedStores = storeKeysOf(v2head.scCommitInfo ?? { version: 0, storeInfos: [] });
      if (options.stores !== undefined && !sameStoreList(storeKeys, migratedStores)) {
        output.warn(`--stores ${storeKeys.join(',')} differs from the finished migration's stores ${migratedStores.join(',')}; nothing was changed`);
      }
      output.summary({
        command: 'migrate',
        status: 'already-migrated',
        from: fromPath,
        to: toPath,
        height: record.height,
        switchedAt: record.switchedAt,
        stores: migratedStores,
        durationMs: Math.round(performance.now() - started),
      });
      return EXIT.ok;
    }
    const pendingSs = await new Namespace(v2db, utf8(V2_LAYOUT.ss)).get(utf8('m/restoring'));
    // An abandoned migration is unfinished too, but never resumed.
    const unfinished = v2head.record !== undefined || pendingSs !== undefined;
    let wiped: number | undefined;
    let resuming = false;
    const record = v2head.record;
    const recordedStores = record?.status === 'migrating' ? record.stores : undefined;
    const sameStores = recordedStores === undefined || sameStoreList(recordedStores, storeKeys);
    if (unfinished && record?.status === 'migrating' && record.height === height && sameStores) {
      // Same height: the migration resumes (SS from its last durable checkpoint, the SC tree import
      // again from the start — see MigrationManager), instead of throwing the finished part away.
      resuming = true;
    } else if (unfinished) {
      wiped = record?.height ?? height;
      const what =
        record?.status === 'abandoned'
          ? `an abandoned migration at height ${wiped}`
          : wiped === height && !sameStores
            ? `an unfinished migration at height ${wiped} of stores ${recordedStores!.join(', ')}, not ${storeKeys.join(', ')}`
            : `an unfinished migration at height ${wiped}, not ${height}`;
      output.info(`target ${options.to} holds ${what}: wiping it and starting over`);
      output.event('wipe', { path: toPath, height: wiped });
      // Marked abandoned first: a wipe cut short by a crash or Ctrl-C is never taken for a
      // resumable target (its checkpoint may outlive the data it counts), only wiped again.
      await rootNs.write([migrationRecordOp(rootNs, { status: 'abandoned', height: wiped })]);
      for (const prefix of [V2_LAYOUT.sc, V2_LAYOUT.ss, V2_LAYOUT.log]) await new Namespace(v2db, utf8(prefix)).clear();
    } else if (kind === 'store/v2' || (await hasAnyKey(v2db))) {
      throw new CliError(`target ${options.to} holds data but no migration record: it is not a target of this command; choose an empty folder`);
    }
    if (signal.aborted) throw new InterruptedError('nothing was migrated');

    // Mark the target before writing any data: an interrupted run is recognised and redone.
    await rootNs.write([migrationRecordOp(rootNs, { status: 'migrating', height, stores: storeKeys })]);
    const sc = await CommitStore.open(v2db, { storeKeys, prefix: V2_LAYOUT.sc });
    ss = await StorageStore.open(v2db, { prefix: V2_LAYOUT.ss, storeKeys });
    const resumedSsKeys = resuming ? await ss.restoreCheckpoint() : 0;
    if (resuming) {
      output.info(
        `target ${options.to} holds an unfinished migration at height ${height}: resuming (store/v2 SS has ${resumedSsKeys.toLocaleString('en-US')} of ${totalKeys.toLocaleString('en-US')} keys; the SC trees are imported again)`,
      );
      output.event('resume', { path: toPath, height, ssKeys: resumedSsKeys });
    }
    const batchSize = options.batchSize;
    manager = new MigrationManager({
      db: v2db,
      logPrefix: utf8(V2_LAYOUT.log),
      snapshots: new SnapshotManager(v1, batchSize ? { batchSize } : {}),
      ss,
      sc,
      source: v1,
      progressIntervalMs: 200,
      ...(batchSize ? { batchSize } : {}),
    });
    view = new ProgressView(output);
    const progress = new MigrationProgress(view, output, totalKeys, false);
    output.info(`migrating ${storeKeys.length} store${storeKeys.length === 1 ? '' : 's'} (${totalKeys.toLocaleString('en-US')} keys) of ${options.from} at height ${height} into ${options.to}`);
    const restoreStarted = performance.now();
    progress.next({ type: 'migrationStarted', height });
    output.event('migrationStarted', { height });
    const restored = await new Promise<RestoredEvent>((resolvePromise, reject) => {
      const onAbort = (): void => {
        subscription?.unsubscribe();
        reject(new InterruptedError(`the target keeps an unfinished migration at height ${height}; rerun the same command to resume it`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      subscription = manager!.start(height, NEVER, NEVER).subscribe({
        next: (event: MigrationEvent) => {
          output.event(event.type, event);
          progress.next(event);
          if (event.type === 'restored') {
            signal.removeEventListener('abort', onAbort);
            resolvePromise(event);
          }
        },
        error: (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      if (signal.aborted) onAbort();
    });
    subscription?.unsubscribe();
    const restoreMs = performance.now() - restoreStarted;
    view.stop();

    // The store roots were verified by the migration itself; the app hash is compared when the
    // target holds every store of store/v1's commit at the height.
    const v1Info = await v1.getCommitInfo(height);
    const v2Hash = await sc.appHash(height);
    const allStores = v1Info !== undefined && storeKeysOf(v1Info).join('\u0000') === storeKeys.join('\u0000');
    const v1Hash = allStores ? commitInfoHash(v1Info.storeInfos) : undefined;
    if (v1Hash !== undefined && toHex(v1Hash) !== toHex(v2Hash)) {
      throw new CliError(`app hash mismatch at version ${height}: store/v1 ${toHex(v1Hash)}, store/v2 SC ${toHex(v2Hash)}`, EXIT.mismatch);
    }
    if (v1Info === undefined) output.warn(`store/v1 has no commit info at version ${height}: the app hash was not compared (the store roots were)`);
    else if (!allStores) output.warn(`--stores selects ${storeKeys.length} of the ${v1Info.storeInfos.length} stores: the app hash differs by design and was not compared (the store roots were)`);
    await rootNs.write([migrationRecordOp(rootNs, { status: 'switched', height, switchedAt: height + 1 })]);
    output.info(`done: ${options.to} is a switched store/v2 at height ${height} (the next block, ${height + 1}, commits to store/v2)`);
    output.summary({
      command: 'migrate',
      status: 'migrated',
      from: fromPath,
      to: toPath,
      height,
      switchedAt: height + 1,
      stores: storeKeys,
      keys: restored.keys,
      keysPerSecond: Math.round(restored.keys / Math.max(restoreMs / 1000, 0.001)),
      storeRoots: restored.storeRoots,
      appHash: toHex(v2Hash),
      verified: true,
      appHashCompared: v1Hash !== undefined,
      restarted: wiped !== undefined,
      resumed: resuming,
      ...(resuming ? { resumedSsKeys } : {}),
      durationMs: Math.round(performance.now() - started),
    });
    return EXIT.ok;
  } finally {
    view?.stop();
    subscription?.unsubscribe();
    await manager?.close().catch(() => undefined);
    await ss?.close().catch(() => undefined);
    await closeAll(v1db, v2db);
  }
}

async function hasAnyKey(db: LevelDb): Promise<boolean> {
  const found = await db.keys({ limit: 1 }).all();
  return found.length > 0;
}
