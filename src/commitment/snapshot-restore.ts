import { StoreError } from '../core/errors.js';
import type { BatchReader } from '../core/batch-reader.js';
import { checkVersion } from '../core/version.js';
import type { Importer } from '../iavl/importer.js';
import type { ExportNode } from '../iavl/export-reader.js';
import type { SnapshotIAVLItem, SnapshotItem } from '../proto/snapshot-item.js';
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
 * Imports a snapshot stream into an empty multi-store, item by item: a store item starts an IAVL
 * import into that store's tree, an IAVL item is added to it. `finish` imports stores the
 * snapshot did not mention as empty trees and records the version (CommitInfo and latest written
 * last, so an interrupted restore never looks committed).
 */
export class MultiTreeRestorer {
  private importer: Importer | undefined;
  private storeName: string | undefined;
  private readonly done = new Set<string>();
  private totals = { items: 0, nodes: 0, leaves: 0, bytes: 0 };
  private aborted = false;

  constructor(
    private readonly store: MultiTree,
    readonly version: number,
  ) {
    checkVersion(version, 'restore version', 1);
    if (store.latestVersion !== 0) {
      throw new StoreError(
        'ERR_IMPORT_NOT_EMPTY',
        `cannot restore version ${version} into ${store.layout.name}: it already has version ${store.latestVersion}`,
        { details: { version, latest: store.latestVersion } },
      );
    }
  }

  /** Running totals. */
  get progress(): RestoreProgress {
    return { ...this.totals, storesDone: this.done.size };
  }

  /** The store the next IAVL item belongs to. */
  get currentStore(): string | undefined {
    return this.storeName;
  }

  /**
   * Adds one store or IAVL item; returns the leaf's store name for a leaf (so callers can fan it
   * out), `undefined` otherwise. Other item kinds are rejected: the caller decides what they mean.
   */
  async add(item: SnapshotItem): Promise<string | undefined> {
    this.assertNotAborted();
    this.totals.items++;
    if (item.kind === 'store') {
      await this.finishStore();
      this.assertNotAborted();
      if (this.done.has(item.name)) {
        throw new StoreError('ERR_IMPORT_ORDER', `store ${JSON.stringify(item.name)} appears twice in the snapshot`, {
          details: { store: item.name },
        });
      }
      this.storeName = item.name;
      this.importer = await this.store.tree(item.name).importer(this.version);
      return undefined;
    }
    if (item.kind !== 'iavl') {
      throw new StoreError('ERR_INVALID_ARGUMENT', `snapshot item ${this.totals.items}: ${item.kind} item where a store or IAVL item was expected`);
    }
    if (this.importer === undefined) {
      throw new StoreError('ERR_IMPORT_ORDER', `snapshot item ${this.totals.items}: IAVL node before any store item`, {
        details: { item: this.totals.items },
      });
    }
    await this.importer.add(exportNode(item));
    this.count(item);
    return item.height === 0 ? this.storeName : undefined;
  }

  /**
   * Adds a batch of items in order, like `add` for each; the IAVL nodes between two store items
   * go to the importer together, which waits only where a write is due (see `Importer.addMany`).
   */
  async addAll(items: readonly SnapshotItem[]): Promise<void> {
    let run: SnapshotIAVLItem[] = [];
    for (const item of items) {
      // An aborted batch stops here, instead of importing its remaining stores after the abort.
      this.assertNotAborted();
      if (item.kind === 'iavl' && this.importer !== undefined) {
        run.push(item);
        continue;
      }
      await this.addRun(run);
      run = [];
      await this.add(item);
    }
    await this.addRun(run);
  }

  private async addRun(run: readonly SnapshotIAVLItem[]): Promise<void> {
    if (run.length === 0) return;
    const importer = this.importer!;
    const before = importer.added;
    try {
      await importer.addMany(run.map(exportNode));
    } finally {
      // Counted as `add` counts, also when the importer rejected a node: every item reached
      // (the rejected one too), and every node the importer took (unlike `add`, this includes a
      // node whose batch then failed to write).
      const taken = importer.added - before;
      this.totals.items += Math.min(taken + 1, run.length);
      for (let i = 0; i < taken; i++) this.count(run[i]!);
    }
  }

  private count(item: SnapshotIAVLItem): void {
    this.totals.nodes++;
    this.totals.bytes += item.key.length + item.value.length;
    if (item.height === 0) this.totals.leaves++;
  }

  private async finishStore(): Promise<void> {
    if (this.importer !== undefined) {
      await this.importer.commit();
      this.done.add(this.storeName!);
      this.importer = undefined;
    }
  }

  /** Commits the last store, imports unmentioned stores empty, and records the version. */
  async finish(): Promise<CommitInfo> {
    this.assertNotAborted();
    await this.finishStore();
    for (const name of this.store.storeKeys) {
      this.assertNotAborted();
      if (!this.done.has(name)) await (await this.store.tree(name).importer(this.version)).commit();
    }
    this.assertNotAborted();
    return this.store.adoptRestored(this.version);
  }

  /**
   * Abandons the import in progress: later calls, and the rest of a batch being added, fail with
   * `ERR_CLOSED` (a write already issued still lands: the caller awaits it before wiping).
   */
  abort(): void {
    this.aborted = true;
    this.importer?.close();
    this.importer = undefined;
  }

  private assertNotAborted(): void {
    if (this.aborted) throw new StoreError('ERR_CLOSED', `the restore of version ${this.version} was abandoned`, { details: { version: this.version } });
  }
}

/**
 * Restores a multi-store from a pull-based snapshot stream at `version`, forwarding every leaf to
 * `onLeaf`. The next batch is read only after the previous one was imported and sunk; the first
 * item that is neither a store nor an IAVL item stops the restore and is returned.
 */
export async function restoreMultiTree(
  store: MultiTree,
  version: number,
  source: BatchReader<SnapshotItem>,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const restorer = new MultiTreeRestorer(store, version);
  const batchSize = options.batchSize ?? 4096;
  let next: SnapshotItem | undefined;
  let remaining: SnapshotItem[] = [];
  try {
    outer: for (;;) {
      const batch = await source.read(batchSize);
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        if (item.kind !== 'store' && item.kind !== 'iavl') {
          next = item;
          remaining = batch.slice(i + 1);
          break outer;
        }
        const leafStore = await restorer.add(item);
        if (leafStore !== undefined && options.onLeaf && item.kind === 'iavl') await options.onLeaf(leafStore, item.key, item.value);
      }
      options.onProgress?.(restorer.progress);
    }
    const commitInfo = await restorer.finish();
    return { commitInfo, next, remaining, ...restorer.progress };
  } catch (error) {
    restorer.abort();
    throw error;
  }
}

/**
 * An IAVL item as the importer takes it: an inner node's empty value (protobuf's default) is
 * dropped; a non-empty one is kept, for the importer to reject.
 */
function exportNode(item: SnapshotIAVLItem): ExportNode {
  return item.height !== 0 && item.value.length === 0 ? { key: item.key, version: item.version, height: item.height } : item;
}
