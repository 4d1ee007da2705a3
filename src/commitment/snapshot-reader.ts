import { StoreError } from '../core/errors.js';
import type { BatchReader } from '../core/batch-reader.js';
import { checkVersion } from '../core/version.js';
import { ExportReader } from '../iavl/export-reader.js';
import type { NodeDb } from '../iavl/node-db.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import type { MultiTree } from './multi-tree.js';

const EMPTY = new Uint8Array(0);

/**
 * @internal What a snapshot walks: the store names in sorted order and each store's node storage.
 * {@link SnapshotReader.open} takes them from a {@link MultiTree}; the snapshot export worker
 * builds them from the prefixes its caller sends.
 */
export interface SnapshotTrees {
  readonly storeKeys: readonly string[];
  nodeDb(storeKey: string): NodeDb;
}

/**
 * The snapshot of a multi-store at one version as a pull-based item source: per store in sorted
 * name order (Go used random map order), one store item, then the store's IAVL nodes in
 * post-order. Opened with {@link SnapshotReader.open}, all trees are pinned at the version until
 * the reader is closed, so pruning cannot remove it mid-export.
 */
export class SnapshotReader implements BatchReader<SnapshotItem> {
  private storeIndex = 0;
  private current: ExportReader | undefined;
  private release: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly trees: SnapshotTrees,
    readonly version: number,
    release: () => void,
  ) {
    this.release = release;
  }

  /**
   * @internal Opens a snapshot of `version` (see `CommitStore.snapshotReader`): 0 or a version
   * above the latest are errors naming both versions; a pruned version is `ERR_VERSION_PRUNED`.
   */
  static async open(store: MultiTree, version: number): Promise<SnapshotReader> {
    if (version === 0) throw new StoreError('ERR_VERSION_RANGE', 'cannot snapshot version 0');
    checkVersion(version, 'snapshot version', 1);
    const latest = store.latestVersion;
    if (version > latest) {
      throw new StoreError('ERR_VERSION_NOT_FOUND', `cannot snapshot version ${version}: the latest version is ${latest}`, {
        details: { version, latest },
      });
    }
    const release = store.pin(version);
    const committed = new Set<string>();
    try {
      const earliest = await store.earliestVersion();
      const pruned = (): StoreError =>
        new StoreError('ERR_VERSION_PRUNED', `cannot snapshot version ${version}: pruned, the earliest version is ${earliest}`, {
          details: { earliestVersion: earliest, requestedVersion: version },
        });
      if (version < earliest) throw pruned();
      // The stores committed at `version` must all have it: one that lost it to a prune (an
      // interrupted one, or one under way when the pin was taken) is not an empty store.
      const info = await store.getCommitInfo(version);
      if (info === undefined) throw pruned();
      for (const { name } of info.storeInfos) committed.add(name);
      for (const name of store.storeKeys) {
        const ndb = store.tree(name).ndb;
        // A deletion issued before the pin was taken may not have landed yet: `hasVersion` still
        // finds the root, but the nodes are going (a reader on another thread has no other way to know).
        if (ndb.isPruned(version)) throw pruned();
        if (committed.has(name) && !(await ndb.hasVersion(version))) throw pruned();
      }
    } catch (error) {
      release();
      throw error;
    }
    // Under the pin, every store checked here keeps the version: a prune stops at a pinned version.
    return new SnapshotReader({ storeKeys: store.storeKeys, nodeDb: (storeKey) => store.tree(storeKey).ndb }, version, release);
  }

  /**
   * @internal A snapshot of `version` over `trees` without the checks and the pin of
   * {@link open}: a store without the version reads as empty. Only for a reader
   * whose caller holds a checked, pinned snapshot of the same version on the same database (the
   * snapshot export worker, whose caller opened one first and checks its trees).
   */
  static ofCheckedVersion(trees: SnapshotTrees, version: number): SnapshotReader {
    return new SnapshotReader(trees, checkVersion(version, 'snapshot version', 1), () => {});
  }

  async read(max: number): Promise<SnapshotItem[]> {
    const out: SnapshotItem[] = [];
    const names = this.trees.storeKeys;
    while (!this.closed && out.length < max) {
      if (this.current === undefined) {
        const name = names[this.storeIndex];
        if (name === undefined) break;
        out.push({ kind: 'store', name });
        const ndb = this.trees.nodeDb(name);
        // A store whose tree starts after this version (added later) is empty here.
        const opened = (await ndb.hasVersion(this.version)) ? await ExportReader.open(ndb, this.version) : undefined;
        if (this.closed) {
          // Closed while this store's export opened: close found no reader, so its pin is released here.
          await opened?.close();
          break;
        }
        this.current = opened;
        this.storeIndex++;
        // Back to the loop's test: the store item may have filled the batch, and a read of 0 nodes
        // would look like the end of the store's tree.
        continue;
      }
      const nodes = await this.current.read(max - out.length);
      if (nodes.length === 0) {
        this.current = undefined;
        continue;
      }
      for (const node of nodes) {
        out.push({ kind: 'iavl', key: node.key, value: node.value ?? EMPTY, version: node.version, height: node.height });
      }
    }
    if (out.length === 0) await this.close();
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current?.close();
    this.current = undefined;
    this.release?.();
    this.release = undefined;
  }
}
