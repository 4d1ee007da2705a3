import { equalBytes, fromUtf8, toHex, utf8 } from '../core/bytes.js';
import { StoreError, withContext } from '../core/errors.js';
import type { Changeset, KVPair } from '../core/changeset.js';
import { checkVersion } from '../core/version.js';
import type { LevelDb } from '../db/level-db.js';
import { Namespace, type WriteOp, type WriteOptions } from '../db/namespace.js';
import { IavlTree, type StagedVersion } from '../iavl/iavl-tree.js';
import type { CommitmentProof } from '../iavl/proof.js';
import { encodeCommitmentProof } from '../proto/ics23.js';
import { commitInfoHash, storeInfoProof, type CommitInfo } from './commit-info.js';
import { checkStoreNames } from './store-names.js';

/**
 * Writes of one store whose tree paths are loaded together before they run (see
 * `IavlTree.prefetch`): a block's writes in a few reads per tree level instead of one read per
 * missing node. A chunk loads up to ~2 × tree height nodes a key (~10k for a tree of 2^20 keys),
 * which the default node cache keeps; with a smaller cache the chunks are smaller.
 */
const PREFETCH_KEYS = 256;

/** Where a multi-store keeps its trees and metadata inside its namespace. */
export interface MultiTreeLayout {
  /** Human name for errors, e.g. "store/v1" or "SC". */
  readonly name: string;
  treePrefix(storeName: string): Uint8Array;
  commitInfoKey(version: number): Uint8Array;
  readonly latestKey: Uint8Array;
  encodeCommitInfo(info: CommitInfo): Uint8Array;
  decodeCommitInfo(bytes: Uint8Array): CommitInfo;
  encodeLatest(version: number): Uint8Array;
  decodeLatest(bytes: Uint8Array): number;
}

/** One proof operation, as Go's `ProofOp`: a type, the proven key and the ICS23 proof. */
export interface ProofOp {
  readonly type: 'ics23:iavl' | 'ics23:simple';
  readonly key: Uint8Array;
  readonly proof: CommitmentProof;
  /** The proof encoded as `cosmos.ics23.v1.CommitmentProof` (Go `ProofOp.Data`). */
  readonly data: Uint8Array;
}

/** A key's value (absent when not set) with the proof chain from the key up to the app hash. */
export interface StoreProof {
  readonly value: Uint8Array | undefined;
  /** `ics23:iavl` (key in the store tree), then `ics23:simple` (store root in the app hash). */
  readonly ops: readonly [ProofOp, ProofOp];
  readonly storeRoot: Uint8Array;
  readonly appHash: Uint8Array;
}

/** Options of {@link MultiTree.open}. */
export interface MultiTreeOptions {
  readonly storeKeys: readonly string[];
  readonly prefix?: Uint8Array;
  readonly cacheSize?: number;
}

/**
 * The multi-store core shared by store/v1 (rootmulti) and the store/v2 State Commitment: one IAVL
 * tree per store key, every version committed for every store in one atomic batch together with
 * its CommitInfo and the latest version, so a crash leaves either the whole version or none.
 */
export class MultiTree {
  private latest: number;

  private constructor(
    readonly ns: Namespace,
    readonly layout: MultiTreeLayout,
    private readonly trees: Map<string, IavlTree>,
    latest: number,
    private readonly cacheSize: number | undefined,
  ) {
    this.latest = latest;
  }

  /** Opens every store's tree at the latest committed version. */
  static async open(db: LevelDb, layout: MultiTreeLayout, options: MultiTreeOptions): Promise<MultiTree> {
    const names = checkStoreNames(options.storeKeys);
    const ns = new Namespace(db, options.prefix ?? new Uint8Array(0));
    const latestBytes = await ns.get(layout.latestKey);
    const latest = latestBytes === undefined ? 0 : decodeLatest(layout, latestBytes);
    const trees = new Map<string, IavlTree>();
    for (const name of names) {
      const prefix = concat(ns.prefix, layout.treePrefix(name));
      const treeOptions = { prefix, ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }) };
      // Opened at the multi-store's committed version, never at the tree's own highest node: an
      // interrupted import leaves flushed nodes of older versions without a root.
      const tree = await IavlTree.open(db, { ...treeOptions, version: 0, initialVersion: latest + 1 });
      if (latest > 0 && (await tree.ndb.latestVersion()) > 0) await tree.loadVersion(latest);
      // else: nothing committed yet, or a store added after genesis (Go: InitialVersion on upgrade).
      trees.set(name, tree);
    }
    return new MultiTree(ns, layout, trees, latest, options.cacheSize);
  }

  /**
   * Deletes every tree and all metadata (an interrupted restore is wiped, never resumed: the
   * importer's stack of unjoined subtrees is not on disk) and leaves the store empty and usable.
   */
  clear(): Promise<void> {
    return this.exclusively('a clear', 'clear', async () => {
      await this.ns.clear();
      for (const [name, tree] of this.trees) {
        tree.ndb.clearCache();
        // Opened as `open` does: the node cache keeps its configured size.
        const options = { prefix: tree.ndb.ns.prefix, ...(this.cacheSize === undefined ? {} : { cacheSize: this.cacheSize }) };
        this.trees.set(name, await IavlTree.open(this.ns.db, options));
      }
      this.latest = 0;
      this.earliest = undefined;
    });
  }

  /** Latest committed version (0 before the first commit). */
  get latestVersion(): number {
    return this.latest;
  }

  /** Store keys, sorted. */
  get storeKeys(): string[] {
    return [...this.trees.keys()];
  }

  /** The tree of `storeKey`; `ERR_UNKNOWN_STORE` ("store X not found") otherwise. */
  tree(storeKey: string): IavlTree {
    const tree = this.trees.get(storeKey);
    if (tree === undefined) {
      throw new StoreError('ERR_UNKNOWN_STORE', `store ${JSON.stringify(storeKey)} not found in ${this.layout.name}`, {
        details: { store: storeKey },
      });
    }
    return tree;
  }

  /**
   * Applies a changeset to the working trees. Every store and key is checked before anything is
   * touched, so a bad changeset changes nothing.
   */
  async applyChangeset(changeset: Changeset): Promise<void> {
    this.assertIdle('stage a changeset');
    for (const group of changeset.changes) {
      this.tree(group.storeKey);
      for (const pair of group.pairs) {
        if (!(pair.key instanceof Uint8Array) || pair.key.length === 0) {
          throw new StoreError('ERR_EMPTY_KEY', `empty key in changeset for store ${group.storeKey}`, {
            details: { store: group.storeKey },
          });
        }
        if (!pair.remove && !(pair.value instanceof Uint8Array)) {
          throw new StoreError('ERR_NIL_VALUE', `nil value for key ${toHex(pair.key)} in store ${group.storeKey}`, {
            details: { store: group.storeKey, key: toHex(pair.key) },
          });
        }
      }
    }
    this.writing = 'a changeset being staged';
    try {
      // The prefetch reads nodes the writes read anyway (the paths and their siblings), so its
      // read error is the changeset's, rolled back like any other.
      const prefetch = (tree: IavlTree, pairs: readonly KVPair[]): Promise<void> => tree.prefetch(pairs.map((pair) => pair.key));
      // Chunks as large as the tree's node cache keeps what they load, up to PREFETCH_KEYS.
      const chunkOf = (tree: IavlTree): number => Math.max(1, Math.min(PREFETCH_KEYS, tree.prefetchLimit));
      // The first chunk of every store is read side by side (the trees are independent); the
      // writes keep the changeset's order, as a later write to the same key must win.
      const first = changeset.changes.map((group) => {
        const tree = this.tree(group.storeKey);
        return prefetch(tree, group.pairs.slice(0, chunkOf(tree)));
      });
      await Promise.all(first);
      for (const group of changeset.changes) {
        const tree = this.tree(group.storeKey);
        const size = chunkOf(tree);
        for (let start = 0; start < group.pairs.length; start += size) {
          const chunk = group.pairs.slice(start, start + size);
          if (start > 0) await prefetch(tree, chunk);
          for (const pair of chunk) {
            if (pair.remove) await tree.remove(pair.key);
            else await tree.set(pair.key, pair.value!);
          }
        }
      }
    } catch (error) {
      this.dropStaged();
      throw error;
    } finally {
      this.writing = undefined;
    }
  }

  /** The change of the working trees under way (staging, a commit, a load, a clear), if any. */
  private writing: string | undefined;

  /**
   * One change of the working trees at a time: staging overlapping a commit would be half in the
   * committed version (the trees not yet staged) and half silently dropped (the trees staged, whose
   * working root the commit then replaces); a rollback, load or clear overlapping either leaves a
   * changeset half staged, or the trees and the latest version apart from what was written.
   */
  private assertIdle(what: string): void {
    if (this.writing !== undefined) {
      throw new StoreError('ERR_STATE', `cannot ${what} in ${this.layout.name} while ${this.writing} is under way`);
    }
  }

  private async exclusively<T>(busy: string, what: string, work: () => Promise<T>): Promise<T> {
    this.assertIdle(what);
    this.writing = busy;
    try {
      return await work();
    } finally {
      this.writing = undefined;
    }
  }

  /** Drops every uncommitted change; `ERR_STATE` while staging, a commit, a load or a clear runs. */
  rollback(): void {
    this.assertIdle('roll back');
    this.dropStaged();
  }

  private dropStaged(): void {
    for (const tree of this.trees.values()) tree.rollback();
  }

  /**
   * Commits the working trees as `version` (must be latest + 1): every tree's nodes, the
   * CommitInfo, the latest version and `extraOps` (same database) go into one atomic batch.
   */
  async commit(version: number = this.latest + 1, extraOps: readonly WriteOp[] = [], options: WriteOptions = {}): Promise<CommitInfo> {
    checkVersion(version, 'commit version', 1);
    if (version !== this.latest + 1) {
      throw new StoreError(
        'ERR_VERSION_MISMATCH',
        `commit version mismatch in ${this.layout.name}: expected ${this.latest + 1}, got ${version}`,
        { details: { expected: this.latest + 1, received: version } },
      );
    }
    this.assertIdle('commit');
    this.writing = 'a commit';
    const staged: StagedVersion[] = [];
    const ops: WriteOp[] = [];
    try {
      for (const [name, tree] of this.trees) {
        const s = await tree.stageVersion();
        staged.push(s);
        if (s.version !== version) {
          throw new StoreError('ERR_VERSION_MISMATCH', `store ${name} would save version ${s.version}, not ${version}`, {
            details: { store: name, expected: version, received: s.version },
          });
        }
        ops.push(...s.ops);
      }
      const info: CommitInfo = {
        version,
        storeInfos: this.storeKeys.map((name, i) => ({ name, commitId: { version, hash: staged[i]!.hash } })),
      };
      ops.push(this.ns.put(this.layout.commitInfoKey(version), this.layout.encodeCommitInfo(info)));
      ops.push(this.ns.put(this.layout.latestKey, this.layout.encodeLatest(version)));
      // Writes that must become durable exactly with this version (e.g. its changeset-log entry).
      ops.push(...extraOps);
      await this.ns.write(ops, options);
      for (const s of staged) s.commit();
      this.latest = version;
      return info;
    } catch (error) {
      for (const s of staged) s.abort();
      // The version was not written: drop its changes too, so a retry starts from the last
      // committed state instead of applying the same changeset on top of itself.
      this.dropStaged();
      throw error;
    } finally {
      this.writing = undefined;
    }
  }

  /**
   * Records a restored `version` (every tree already imported at it): writes its CommitInfo and
   * the latest version in one batch. Used only by a snapshot restore.
   */
  async adoptRestored(version: number): Promise<CommitInfo> {
    const storeInfos = this.storeKeys.map((name) => {
      const tree = this.tree(name);
      if (tree.version !== version) {
        throw new StoreError('ERR_IMPORT_INCOMPLETE', `store ${name} holds version ${tree.version}, not the restored ${version}`, {
          details: { store: name, version },
        });
      }
      return { name, commitId: { version, hash: tree.hash() } };
    });
    const info: CommitInfo = { version, storeInfos };
    await this.ns.write([
      this.ns.put(this.layout.commitInfoKey(version), this.layout.encodeCommitInfo(info)),
      this.ns.put(this.layout.latestKey, this.layout.encodeLatest(version)),
    ]);
    this.latest = version;
    this.earliest = undefined;
    return info;
  }

  /** The stored CommitInfo of `version`, or `undefined`. */
  async getCommitInfo(version: number): Promise<CommitInfo | undefined> {
    const key = this.layout.commitInfoKey(version);
    const bytes = await this.ns.get(key);
    if (bytes === undefined) return undefined;
    const where = `the commit info of ${this.layout.name} at ${fromUtf8(key)}`;
    let info: CommitInfo;
    try {
      info = this.layout.decodeCommitInfo(bytes);
    } catch (error) {
      throw withContext(error, (message) => `${where}: ${message}`);
    }
    // The key names the version: a record claiming another one (or a store committed later) is corrupt.
    const later = info.storeInfos.find((store) => store.commitId.version > version);
    if (info.version !== version || later !== undefined) {
      const claimed = later === undefined ? `version ${info.version}` : `store ${later.name} at version ${later.commitId.version}`;
      throw new StoreError('ERR_VERSION_MISMATCH', `${where} records ${claimed}`, {
        details: { version, recorded: info.version, ...(later === undefined ? {} : { store: later.name, storeVersion: later.commitId.version }) },
      });
    }
    return info;
  }

  /** The app hash of `version` (CommitInfo hash). */
  async appHash(version: number = this.latest): Promise<Uint8Array> {
    const info = await this.requireCommitInfo(version);
    return commitInfoHash(info.storeInfos);
  }

  private async requireCommitInfo(version: number): Promise<CommitInfo> {
    const info = await this.getCommitInfo(version);
    if (info === undefined) {
      throw new StoreError('ERR_VERSION_NOT_FOUND', `${this.layout.name} has no commit at version ${version} (latest ${this.latest})`, {
        details: { version, latest: this.latest },
      });
    }
    return info;
  }

  private async checkReadVersion(version: number): Promise<void> {
    checkVersion(version, 'version', 1);
    const earliest = await this.earliestVersion();
    if (version < earliest) {
      throw new StoreError(
        'ERR_VERSION_PRUNED',
        `version ${version} of ${this.layout.name} was pruned; the earliest version is ${earliest}`,
        { details: { earliestVersion: earliest, requestedVersion: version } },
      );
    }
    if (version > this.latest) {
      throw new StoreError('ERR_VERSION_NOT_FOUND', `version ${version} is above the latest version ${this.latest} of ${this.layout.name}`, {
        details: { version, latest: this.latest },
      });
    }
  }

  /** Value of `key` in `storeKey` at `version` (default latest). */
  async get(storeKey: string, key: Uint8Array, version: number = this.latest): Promise<Uint8Array | undefined> {
    const tree = this.tree(storeKey);
    await this.checkReadVersion(version);
    return tree.getAt(version, key);
  }

  /** Value and two-op proof (key in store tree, store root in app hash) at `version`. */
  async getProof(storeKey: string, key: Uint8Array, version: number = this.latest): Promise<StoreProof> {
    const tree = this.tree(storeKey);
    await this.checkReadVersion(version);
    const info = await this.requireCommitInfo(version);
    const view = await tree.getImmutable(version);
    const proof = await view.getProof(key);
    const storeProof = storeInfoProof(info.storeInfos, storeKey);
    if (storeProof === undefined) {
      throw new StoreError('ERR_UNKNOWN_STORE', `store ${storeKey} is not part of the commit at version ${version}`);
    }
    // The two ops must chain: a commit info that disagrees with the tree (a corrupt or foreign
    // database) would give a proof that fails to verify, handed out as if it were sound.
    const recorded = info.storeInfos.find((store) => store.name === storeKey)!.commitId.hash;
    if (!equalBytes(recorded, view.hash)) {
      throw new StoreError(
        'ERR_HASH_MISMATCH',
        `the commit info of version ${version} in ${this.layout.name} records ${toHex(recorded)} for store ${storeKey}, but its tree's root is ${toHex(view.hash)}`,
        { details: { store: storeKey, version, recorded: toHex(recorded), root: toHex(view.hash) } },
      );
    }
    const value = proof.exist?.value;
    return {
      value,
      storeRoot: view.hash,
      appHash: commitInfoHash(info.storeInfos),
      ops: [
        { type: 'ics23:iavl', key, proof, data: encodeCommitmentProof(proof) },
        { type: 'ics23:simple', key: utf8(storeKey), proof: { exist: storeProof }, data: encodeCommitmentProof({ exist: storeProof }) },
      ],
    };
  }

  /** Makes `version` the working state of every tree (discarding uncommitted changes). */
  loadVersion(version: number): Promise<void> {
    return this.exclusively('a load', 'load a version', async () => {
      await this.checkReadVersion(version);
      try {
        for (const tree of this.trees.values()) await tree.loadVersion(version);
      } catch (error) {
        // Some trees moved, some did not: back to the committed state.
        for (const tree of this.trees.values()) await tree.loadVersion(this.latest).catch(() => undefined);
        throw error;
      }
      // The working state is `version`: the next commit is `version + 1` (Go rolls its latest back
      // the same way; a replay of the same writes saves the same versions again).
      this.latest = version;
    });
  }

  /**
   * Deletes versions up to `version` inclusive in every tree, then their CommitInfos. The latest
   * version always stays; a version pinned by a running snapshot is refused.
   */
  async prune(version: number): Promise<void> {
    checkVersion(version, 'prune version', 1);
    if (version >= this.latest) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `cannot prune ${this.layout.name} up to ${version}: the latest version ${this.latest} must stay`, {
        details: { version, latest: this.latest },
      });
    }
    const from = await this.earliestVersion();
    for (const tree of this.trees.values()) {
      for (let v = from; v <= version; v++) {
        if (tree.ndb.pinCount(v) > 0) {
          throw new StoreError('ERR_VERSION_PINNED', `cannot prune version ${v} of ${this.layout.name}: a snapshot of it is in progress`, {
            details: { version: v },
          });
        }
      }
    }
    try {
      for (const tree of this.trees.values()) {
        // 0: a store added after genesis that no commit has reached yet holds nothing to prune.
        const first = await tree.firstVersion();
        if (first > 0 && first <= version) await tree.deleteVersionsTo(version);
      }
      const ops: WriteOp[] = [];
      for (let v = Math.max(from, 1); v <= version; v++) ops.push(this.ns.del(this.layout.commitInfoKey(v)));
      await this.ns.write(ops);
    } catch (error) {
      // Some trees may have lost versions: the earliest version is computed again from the trees.
      this.earliest = undefined;
      throw error;
    }
    // A prune below the earliest version deletes nothing and must not move it back.
    this.earliest = Math.max(from, version + 1);
  }

  private earliest: number | undefined;

  /** Earliest version every tree still holds (0 before the first commit). */
  async earliestVersion(): Promise<number> {
    if (this.latest === 0) return 0;
    if (this.earliest === undefined) {
      // Stores added after genesis start later, so the earliest readable version is the minimum.
      // Without any tree (a commit info that lists no store), only the latest commit info is known.
      let earliest = this.latest;
      for (const tree of this.trees.values()) earliest = Math.min(earliest, await tree.firstVersion());
      earliest = Math.max(earliest, 1);
      // A restored tree may keep its root at the root's own older version (see
      // `NodeDb.firstVersion`), which no commit was made at: the versions start at the first
      // commit info from there (they run up to the latest).
      const committed = async (v: number): Promise<boolean> => (await this.ns.get(this.layout.commitInfoKey(v))) !== undefined;
      if (!(await committed(earliest))) {
        let hi = this.latest;
        while (earliest < hi) {
          const mid = Math.floor((earliest + hi) / 2);
          if (await committed(mid)) hi = mid;
          else earliest = mid + 1;
        }
      }
      this.earliest = earliest;
    }
    return this.earliest;
  }

  /** Pins `version` in every tree against pruning; call the returned function to release. */
  pin(version: number): () => void {
    const releases = [...this.trees.values()].map((tree) => tree.ndb.pin(version));
    return () => releases.forEach((release) => release());
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The latest version a layout's `latest` record holds: a version, or 0 (nothing committed). */
function decodeLatest(layout: MultiTreeLayout, bytes: Uint8Array): number {
  const where = `the latest version of ${layout.name} at ${fromUtf8(layout.latestKey)}`;
  let latest: number;
  try {
    latest = layout.decodeLatest(bytes);
  } catch (error) {
    throw withContext(error, (message) => `${where}: ${message}`);
  }
  if (!Number.isSafeInteger(latest) || latest < 0) {
    throw new StoreError('ERR_VERSION_RANGE', `${where} is ${latest}: it must be a version, or 0`, { details: { latest } });
  }
  return latest;
}
