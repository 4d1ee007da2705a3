import { StoreError } from '../core/errors.js';
import { checkVersion } from '../core/version.js';
import type { Node } from './node.js';
import { EMPTY_HASH } from './node-hash.js';
import type { NodeDb } from './node-db.js';
import { getByIndex, getValue, getWithIndex } from './tree-reader.js';
import { createProof, type CommitmentProof } from './proof.js';

/** A read-only view of one saved version of an IAVL tree. */
export class ImmutableTree {
  private constructor(
    /** @internal */
    readonly ndb: NodeDb,
    /** @internal */
    readonly root: Node | undefined,
    /** The version this tree is. */
    readonly version: number,
  ) {}

  /** @internal Made by `IavlTree.getImmutable` (see `load`). */
  static of(ndb: NodeDb, root: Node | undefined, version: number): ImmutableTree {
    return new ImmutableTree(ndb, root, version);
  }

  /** @internal Loads the root of `version`; `ERR_VERSION_NOT_FOUND` when it was never saved or was pruned. */
  static async load(ndb: NodeDb, version: number): Promise<ImmutableTree> {
    checkVersion(version, 'version', 1);
    const entry = await ndb.getRoot(version);
    if (entry === undefined) {
      throw new StoreError('ERR_VERSION_NOT_FOUND', `version ${version} does not exist in the tree`, {
        details: { version },
      });
    }
    const root = entry.kind === 'empty' ? undefined : await ndb.getNode(entry.ref);
    return new ImmutableTree(ndb, root, version);
  }

  /** Root hash of this version. */
  get hash(): Uint8Array {
    return this.root?.hash ?? EMPTY_HASH;
  }

  /** Number of keys. */
  get size(): number {
    return this.root?.size ?? 0;
  }

  /** Value of `key`, or `undefined`. */
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return getValue(this.ndb, this.root, key);
  }

  /** Index of `key` (or where it would be) and its value. */
  getWithIndex(key: Uint8Array): Promise<{ index: number; value: Uint8Array | undefined }> {
    return getWithIndex(this.ndb, this.root, key);
  }

  /** The key and value at `index` in key order, or `undefined` past the end. */
  async getByIndex(index: number): Promise<{ key: Uint8Array; value: Uint8Array } | undefined> {
    const leaf = await getByIndex(this.ndb, this.root, index);
    return leaf === undefined ? undefined : { key: leaf.key, value: leaf.value! };
  }

  /** ICS23 proof of `key`: existence when present, non-existence otherwise. */
  getProof(key: Uint8Array): Promise<CommitmentProof> {
    return createProof(this, key);
  }
}
