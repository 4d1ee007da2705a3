import { StoreError } from '../core/errors.js';
import type { BatchReader } from '../core/batch-reader.js';
import { checkVersion } from '../core/version.js';
import type { Importer } from '../iavl/importer.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import type { CommitInfo } from './commit-info.js';
import type { MultiTree } from './multi-tree.js';

/** Receives every restored leaf; a returned promise is awaited before the next item. */
export type LeafSink = (storeKey: string, key: Uint8Array, value: Uint8Array) => void | Promise<void>;

/** Options of {@link restoreMultiTree}. */
export interface RestoreOptions {
  /** Items pulled per read (bounded memory); default 4096. */
  readonly batchSize?: number;
  /** Called for every leaf (height 0), in stream order. */
  readonly onLeaf?: LeafSink;
  /** Called after each batch with running totals. */
  readonly onProgress?: (progress: RestoreProgress) => void;
}

/** Running totals of a restore. */
export interface RestoreProgress {
  readonly items: number;
  readonly nodes: number;
  readonly leaves: number;
  readonly bytes: number;
  readonly storesDone: number;
}

/** What a restore produced. */
export interface RestoreResult extends RestoreProgress {
  readonly commitInfo: CommitInfo;
  /** The first item that is neither a store nor an IAVL item (an extension), if any. */
  readonly next: SnapshotItem | undefined;
  /** Items read after `next` in the same batch, for the caller to continue with. */
  readonly remaining: readonly SnapshotItem[];
}

/**
 * Restores a multi-store from a snapshot stream at `version`: each store item starts an IAVL
 * import into that store's (empty) tree, each IAVL item is added to it and every leaf is handed
 * to `onLeaf`. Items are pulled batch by batch, and the next batch is read only after the
 * previous one was imported and sunk. The CommitInfo and latest version are written last, so an
 * interrupted restore never looks committed.
 */
export async function restoreMultiTree(
  store: MultiTree,
  version: number,
  source: BatchReader<SnapshotItem>,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  checkVersion(version, 'restore version', 1);
  if (store.latestVersion !== 0) {
    throw new StoreError(
      'ERR_IMPORT_NOT_EMPTY',
      `cannot restore version ${version} into ${store.layout.name}: it already has version ${store.latestVersion}`,
      { details: { version, latest: store.latestVersion } },
    );
  }
  const batchSize = options.batchSize ?? 4096;
  let importer: Importer | undefined;
  let storeName: string | undefined;
  const done = new Set<string>();
  let items = 0;
  let nodes = 0;
  let leaves = 0;
  let bytes = 0;
  let next: SnapshotItem | undefined;
  let remaining: SnapshotItem[] = [];

  const finishStore = async (): Promise<void> => {
    if (importer !== undefined) {
      await importer.commit();
      done.add(storeName!);
      importer = undefined;
    }
  };

  try {
    outer: for (;;) {
      const batch = await source.read(batchSize);
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        items++;
        if (item.kind === 'store') {
          await finishStore();
          storeName = item.name;
          if (done.has(storeName)) {
            throw new StoreError('ERR_IMPORT_ORDER', `store ${JSON.stringify(storeName)} appears twice in the snapshot`, {
              details: { store: storeName },
            });
          }
          importer = await store.tree(item.name).importer(version);
        } else if (item.kind === 'iavl') {
          if (importer === undefined) {
            throw new StoreError('ERR_IMPORT_ORDER', `snapshot item ${items}: IAVL node before any store item`, {
              details: { item: items },
            });
          }
          await importer.add(item.height === 0 ? item : { key: item.key, version: item.version, height: item.height });
          nodes++;
          bytes += item.key.length + item.value.length;
          if (item.height === 0) {
            leaves++;
            if (options.onLeaf) await options.onLeaf(storeName!, item.key, item.value);
          }
        } else {
          next = item;
          remaining = batch.slice(i + 1);
          break outer;
        }
      }
      options.onProgress?.({ items, nodes, leaves, bytes, storesDone: done.size });
    }
    await finishStore();
    for (const name of store.storeKeys) {
      if (!done.has(name)) await (await store.tree(name).importer(version)).commit();
    }
    const commitInfo = await store.adoptRestored(version);
    return { commitInfo, next, remaining, items, nodes, leaves, bytes, storesDone: done.size };
  } catch (error) {
    importer?.close();
    throw error;
  }
}
