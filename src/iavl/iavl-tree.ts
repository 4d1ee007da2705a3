import type { Observable } from 'rxjs';
import { equalBytes, toHex, utf8 } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import { checkVersion } from '../core/version.js';
import type { LevelDb } from '../db/level-db.js';
import { Namespace, type WriteOp } from '../db/namespace.js';
import { Node } from './node.js';
import { EMPTY_HASH, hashInner, hashLeaf } from './node-hash.js';
import { NodeDb } from './node-db.js';
import { setChildren, TreeMutation } from './tree-mutation.js';
import { prefetchPaths } from './path-prefetch.js';
import { getValue } from './tree-reader.js';
import { ImmutableTree } from './immutable-tree.js';
import { ExportReader, type ExportNode } from './export-reader.js';
import { exportTree } from './exporter.js';
import { Importer } from './importer.js';
import type { CommitmentProof } from './proof.js';
import { deleteVersionsTo } from './pruner.js';

/** Options of {@link IavlTree.open}. */
export interface IavlTreeOptions {
  /** Raw byte prefix (or UTF-8 string) of the tree inside the database; default none. */
  readonly prefix?: Uint8Array | string;
  /** Version of the first save on an empty tree (Go `InitialVersion`); default 1. */
  readonly initialVersion?: number;
  /** Decoded nodes kept in memory; default 200,000 (Go nodes default to 781,250). */
  readonly cacheSize?: number;
  /**
   * Version to load instead of the latest found on disk; 0 opens the tree empty. For trees whose
   * owner records the committed version elsewhere (a multi-store), where nodes above it are the
   * leftovers of an interrupted import and not a version.
   */
  readonly version?: number;
}

/** A saved version: its number and root hash. */
export interface SavedVersion {
  readonly version: number;
  readonly hash: Uint8Array;
}

/**
 * The writes of one version, prepared but not yet applied. A multi-store commit puts the `ops` of
 * every tree into one atomic batch, then calls `commit()` on each so the in-memory trees move on
 * only after the batch is durable.
 */
export interface StagedVersion extends SavedVersion {
  readonly ops: WriteOp[];
  /** Marks the version as saved in memory; call only after `ops` were written. */
  commit(): void;
  /** Returns the working tree to its unsaved state when `ops` could not be written. */
  abort(): void;
}

/**
 * A mutable, versioned IAVL+ tree whose hashes equal Go cosmos/iavl v1 for the same history of
 * writes. Changes build a working tree in memory; `saveVersion` hashes and persists it in the IAVL
 * v1 on-disk format. Any saved version can be read (`getImmutable`), exported, and proven.
 */
export class IavlTree {
  private root: Node | undefined = undefined;
  private savedVersion = 0;
  private savedRoot: Node | undefined = undefined;
  private readOnlyReason: string | undefined = undefined;
  private readonly mutation: TreeMutation;

  private constructor(
    /** @internal The tree's node storage. */
    readonly ndb: NodeDb,
    private readonly initialVersion: number,
  ) {
    this.mutation = new TreeMutation(ndb);
  }

  /** Opens (or creates) the tree under `prefix` of `db` and loads its latest version. */
  static async open(db: LevelDb, options: IavlTreeOptions = {}): Promise<IavlTree> {
    const prefix = typeof options.prefix === 'string' ? utf8(options.prefix) : (options.prefix ?? new Uint8Array(0));
    const initialVersion = checkVersion(options.initialVersion ?? 0, 'initial version');
    const tree = new IavlTree(new NodeDb(new Namespace(db, prefix), options.cacheSize), initialVersion);
    const version = options.version === undefined ? await tree.ndb.latestVersion() : checkVersion(options.version, 'version');
    if (version > 0) await tree.loadVersion(version);
    return tree;
  }

  /** Last saved (or loaded) version; 0 for a new tree. */
  get version(): number {
    return this.savedVersion;
  }

  /** The version the next `saveVersion` writes. */
  get workingVersion(): number {
    if (this.savedVersion === 0 && this.initialVersion > 0) return this.initialVersion;
    return this.savedVersion + 1;
  }

  /** Number of keys in the working tree. */
  get size(): number {
    return this.root?.size ?? 0;
  }

  /** Value of `key` in the working tree (including unsaved changes). */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return getValue(this.ndb, this.root, key);
  }

  /** True when `key` is set in the working tree. */
  async has(key: Uint8Array): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /**
   * Sets `key` to `value` in the working tree. Returns true when the key existed (an update).
   * Empty keys and a missing value are typed errors (Go: "attempt to store nil value").
   */
  async set(key: Uint8Array, value: Uint8Array): Promise<boolean> {
    this.assertWritable();
    if (!(key instanceof Uint8Array) || key.length === 0) {
      throw new StoreError('ERR_EMPTY_KEY', 'cannot set an empty key');
    }
    if (!(value instanceof Uint8Array)) {
      throw new StoreError('ERR_NIL_VALUE', `attempt to store nil value at key ${toHex(key)}`, {
        details: { key: toHex(key) },
      });
    }
    if (this.root === undefined) {
      this.root = Node.leaf(key.slice(), value.slice());
      return false;
    }
    const pending = this.mutation.set(this.root, key.slice(), value.slice());
    // Awaiting only a real promise: most sets complete synchronously.
    const result = pending instanceof Promise ? await pending : pending;
    this.root = result.node;
    return result.updated;
  }

  /**
   * Loads the nodes that setting or removing `keys` in the working tree will need, one batched
   * read per tree level: a batch of writes then runs almost without reads of its own. Only a
   * speed-up (a write loads whatever it still misses). What it loads must stay in the node cache
   * until the writes ran, so it does nothing when the cache could evict some of it (up to
   * 2 × (height + 1) nodes a key), and on a read-only tree, which refuses the writes anyway.
   */
  prefetch(keys: readonly Uint8Array[]): Promise<void> {
    const root = this.root;
    if (root === undefined || this.readOnlyReason !== undefined || keys.length > this.prefetchLimit) return Promise.resolve();
    return prefetchPaths(this.ndb, root, keys);
  }

  /** The most keys {@link prefetch} takes at once with this tree's height and node cache. */
  get prefetchLimit(): number {
    return this.root === undefined ? 0 : Math.floor(this.ndb.cacheKeeps / (2 * (this.root.height + 1)));
  }

  /** Removes `key` from the working tree; returns the removed value, or `undefined` when absent. */
  async remove(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.assertWritable();
    if (this.root === undefined) return undefined;
    const pending = this.mutation.remove(this.root, key);
    const result = pending instanceof Promise ? await pending : pending;
    if (!result.removed) return undefined;
    this.root = result.node;
    return result.value;
  }

  /** Hashes and persists the working tree as the next version. */
  async saveVersion(): Promise<SavedVersion> {
    const staged = await this.stageVersion();
    try {
      await this.ndb.ns.write(staged.ops);
    } catch (error) {
      staged.abort();
      throw error;
    }
    staged.commit();
    return { version: staged.version, hash: staged.hash };
  }

  /**
   * Prepares the next version without writing it: assigns node keys (nonces in pre-order, root =
   * 1), hashes bottom-up, encodes the nodes. A version without changes stores a reference to the
   * previous root; an empty tree stores an empty root.
   */
  async stageVersion(): Promise<StagedVersion> {
    this.assertWritable();
    // Past 2^53 − 1 a version would be written that no reader can take back as a number.
    const version = checkVersion(this.workingVersion, 'the next version', 1);
    const root = this.root;
    const existing = await this.ndb.getRoot(version);
    if (existing !== undefined) {
      // Go allows re-saving an existing version only with the identical root (idempotent replay).
      const existingRoot = existing.kind === 'empty' ? undefined : await this.ndb.getNode(existing.ref);
      const existingHash = existingRoot?.hash ?? EMPTY_HASH;
      const hash = await this.workingHash();
      if (!equalBytes(existingHash, hash)) {
        throw new StoreError(
          'ERR_VERSION_EXISTS',
          `version ${version} was already saved with root ${toHex(existingHash)}, not ${toHex(hash)}`,
          { details: { version } },
        );
      }
      return { version, hash, ops: [], commit: () => this.adopt(version, existingRoot), abort: () => {} };
    }
    if (root === undefined) {
      return { version, hash: EMPTY_HASH, ops: [this.ndb.emptyRootOp(version)], commit: () => this.adopt(version, undefined), abort: () => {} };
    }
    if (root.persisted) {
      const ops = [this.ndb.referenceRootOp(version, root.ref!)];
      return { version, hash: root.hash!, ops, commit: () => this.adopt(version, root), abort: () => {} };
    }
    const fresh: Node[] = [];
    let nonce = 0;
    // Go recursiveAssignKey: nonces in pre-order (root = 1), hashes in post-order.
    const assign = (node: Node): void => {
      if (node.persisted) return;
      node.ref = { kind: 'v1', version, nonce: ++nonce };
      node.version = version;
      fresh.push(node);
      if (node.isLeaf) {
        node.hash = hashLeaf(version, node.key, node.value!);
        return;
      }
      const left = node.left ?? missing(node);
      const right = node.right ?? missing(node);
      assign(left);
      assign(right);
      node.leftRef = left.ref;
      node.rightRef = right.ref;
      node.hash = hashInner(node.height, node.size, version, left.hash!, right.hash!);
    };
    const abort = (): void => {
      for (const node of fresh) {
        node.ref = undefined;
        node.version = 0;
        node.hash = undefined;
      }
      for (const node of fresh) if (!node.isLeaf) setChildren(node, node.left!, node.right!);
    };
    let ops: WriteOp[];
    try {
      assign(root);
      ops = this.ndb.saveNodeOps(fresh);
    } catch (error) {
      abort();
      throw error;
    }
    return {
      version,
      hash: root.hash!,
      ops,
      commit: () => {
        for (const node of fresh) {
          node.left = undefined;
          node.right = undefined;
          this.ndb.remember(node);
        }
        this.adopt(version, root);
      },
      abort,
    };
  }

  private adopt(version: number, root: Node | undefined): void {
    this.savedVersion = version;
    this.savedRoot = root;
    this.root = root;
  }

  /** Root hash of the last saved version (the empty hash for an empty tree). */
  hash(): Uint8Array {
    return this.savedRoot?.hash ?? EMPTY_HASH;
  }

  /** Root hash the working tree would have if saved now (Go `WorkingHash`). */
  async workingHash(): Promise<Uint8Array> {
    const root = this.root;
    if (root === undefined) return EMPTY_HASH;
    if (root.persisted) return root.hash!;
    const version = this.workingVersion;
    const hashOf = (node: Node): Uint8Array => {
      if (node.persisted) return node.hash!;
      if (node.isLeaf) return hashLeaf(version, node.key, node.value!);
      return hashInner(node.height, node.size, version, hashOf(node.left!), hashOf(node.right!));
    };
    return hashOf(root);
  }

  /**
   * Makes `version` the working tree, discarding unsaved changes. Loading an older version does
   * not delete newer ones: saving again over an existing version must reproduce its hash.
   */
  async loadVersion(version: number): Promise<void> {
    checkVersion(version, 'version', 1);
    const entry = await this.ndb.getRoot(version);
    if (entry === undefined) {
      throw new StoreError('ERR_VERSION_NOT_FOUND', `version ${version} does not exist in the tree`, {
        details: { version },
      });
    }
    const root = entry.kind === 'empty' ? undefined : await this.ndb.getNode(entry.ref);
    this.root = root;
    this.savedRoot = root;
    this.savedVersion = version;
    this.readOnlyReason =
      root?.ref?.kind === 'legacy' ? `version ${version} is stored in the legacy IAVL format (read-only)` : undefined;
  }

  /** Drops unsaved changes. */
  rollback(): void {
    this.root = this.savedRoot;
  }

  /** True when `version` was saved and not pruned. */
  async versionExists(version: number): Promise<boolean> {
    return this.ndb.hasVersion(version);
  }

  /**
   * Deletes all versions up to `toVersion` inclusive, keeping every node later versions use. The
   * latest version and versions pinned by a running export are refused with typed errors.
   */
  async deleteVersionsTo(toVersion: number): Promise<void> {
    checkVersion(toVersion, 'prune version', 1);
    this.assertWritable();
    await deleteVersionsTo(this.ndb, toVersion, this.savedVersion);
  }

  /** Earliest retained version (0 for an empty database). */
  async firstVersion(): Promise<number> {
    return this.ndb.firstVersion();
  }

  /** A read-only view of a saved version (default: the last saved one). */
  async getImmutable(version: number = this.savedVersion): Promise<ImmutableTree> {
    if (version === this.savedVersion) return ImmutableTree.of(this.ndb, this.savedRoot, version);
    return ImmutableTree.load(this.ndb, version);
  }

  /** Value of `key` at a saved `version`. */
  async getAt(version: number, key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.getImmutable(version)).get(key);
  }

  /**
   * A pull-based reader of the nodes of `version` in depth-first post-order (what {@link export}
   * streams); the version is pinned against pruning until the reader is closed.
   */
  exportReader(version: number = this.savedVersion): Promise<ExportReader> {
    return ExportReader.open(this.ndb, version);
  }

  /**
   * The nodes of `version` in depth-first post-order, read in bounded batches as the subscriber
   * consumes them; see {@link exportTree}.
   */
  export(version: number = this.savedVersion, options?: { batchSize?: number }): Observable<ExportNode> {
    return exportTree(this.ndb, version, options);
  }

  /** An importer that rebuilds a version from an export stream into this (empty) tree. */
  async importer(version: number): Promise<Importer> {
    if (this.savedVersion !== 0 || (await this.ndb.latestVersion()) !== 0) {
      throw new StoreError('ERR_IMPORT_NOT_EMPTY', `cannot import into a tree that already has version ${this.savedVersion}`, {
        details: { version: this.savedVersion },
      });
    }
    return Importer.into(this.ndb, checkVersion(version, 'import version', 1), (root) => {
      this.root = root;
      this.savedRoot = root;
      this.savedVersion = version;
    });
  }

  /** ICS23 existence (or non-existence, when absent) proof of `key` at `version` (default latest). */
  async getProof(key: Uint8Array, version: number = this.savedVersion): Promise<CommitmentProof> {
    return (await this.getImmutable(version)).getProof(key);
  }

  private assertWritable(): void {
    if (this.readOnlyReason !== undefined) {
      throw new StoreError('ERR_READ_ONLY', `tree is read-only: ${this.readOnlyReason}`);
    }
  }
}

function missing(node: Node): never {
  throw new StoreError('ERR_NODE_CORRUPT', `fresh inner node ${toHex(node.key)} lost a child before saving`);
}
