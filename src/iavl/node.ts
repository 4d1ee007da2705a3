import type { NodeRef } from './node-key.js';
import { hashLeaf } from './node-hash.js';

/**
 * An IAVL node. Leaves (height 0) hold a key and value; inner nodes hold the smallest key of their
 * right subtree and two children. A node is either persisted (it has a `ref`, its `version` and
 * `hash` are final) or fresh (created by the current working version, no ref, no hash yet).
 *
 * Children of a persisted node are referenced by `leftRef`/`rightRef` and loaded through the node
 * db's cache; `left`/`right` hold in-memory children only while they are fresh or were loaded for
 * a mutation, so a saved tree does not pin the whole state in memory.
 */
export class Node {
  /** Node version (hashed): the version at which the node was (re)created. 0 while fresh. */
  version = 0;
  private storedHash: Uint8Array | undefined = undefined;
  /** Storage address once persisted. */
  ref: NodeRef | undefined = undefined;
  left: Node | undefined = undefined;
  right: Node | undefined = undefined;
  leftRef: NodeRef | undefined = undefined;
  rightRef: NodeRef | undefined = undefined;

  constructor(
    public key: Uint8Array,
    /** Leaf value; `undefined` for inner nodes. */
    public value: Uint8Array | undefined,
    public height: number,
    public size: number,
  ) {}

  /** A fresh leaf. */
  static leaf(key: Uint8Array, value: Uint8Array): Node {
    return new Node(key, value, 0, 1);
  }

  /**
   * SHA-256 of the node, set when saved or hashed for a working hash. A persisted leaf computes it
   * on first use: a read from storage (an export, a lookup) mostly never needs it, and two SHA-256
   * per leaf were a large share of decoding.
   */
  get hash(): Uint8Array | undefined {
    const stored = this.storedHash;
    if (stored !== undefined || this.height !== 0 || this.ref === undefined) return stored;
    return (this.storedHash = hashLeaf(this.version, this.key, this.value!));
  }

  set hash(hash: Uint8Array | undefined) {
    this.storedHash = hash;
  }

  get isLeaf(): boolean {
    return this.height === 0;
  }

  /** True once the node was written (or read) from storage. */
  get persisted(): boolean {
    return this.ref !== undefined;
  }

  /**
   * A fresh copy of an inner node for mutation: same key, height, size and children, no ref, no
   * hash, no version (Go `Node.clone`). The caller must have loaded both children.
   */
  cloneInner(left: Node, right: Node): Node {
    const copy = new Node(this.key, undefined, this.height, this.size);
    copy.left = left;
    copy.right = right;
    copy.leftRef = left.ref;
    copy.rightRef = right.ref;
    return copy;
  }
}
