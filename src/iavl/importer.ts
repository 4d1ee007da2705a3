import { compareBytes, toHex } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import type { WriteOp } from '../db/namespace.js';
import { Node } from './node.js';
import { encodedLengthBound, MAX_HEIGHT } from './node-codec.js';
import { EMPTY_HASH, hashInner, hashLeaf } from './node-hash.js';
import type { NodeDb } from './node-db.js';
import type { ExportNode } from './export-reader.js';
import type { SavedVersion } from './iavl-tree.js';

interface Pending {
  readonly node: Node;
  /** Smallest key of the subtree: an inner node's key must equal its right subtree's. */
  readonly minKey: Uint8Array;
  /** Largest leaf key of the subtree, to check that leaves arrive in ascending order. */
  readonly maxKey: Uint8Array;
}

/** Writes are flushed in batches of about this many bytes (small, for the reasons of the SS restore's). */
const FLUSH_BYTES = 256 * 1024;

/**
 * Rebuilds one version of a tree from an export stream (depth-first post-order), giving the same
 * shape, node versions and root hash (Go `Importer`). A leaf is pushed on a stack; an inner node
 * takes the top two entries as its children. The stream is untrusted input: every rule that
 * keeps the hash meaningful is checked, and a violation is a typed error naming the node.
 */
export class Importer {
  private readonly stack: Pending[] = [];
  private readonly nonces = new Map<number, number>();
  /** Nodes complete with their children, waiting for the next flush. */
  private pending: Node[] = [];
  private pendingBytes = 0;
  private lastLeafKey: Uint8Array | undefined;
  private count = 0;
  private done = false;

  private constructor(
    private readonly ndb: NodeDb,
    readonly version: number,
    private readonly onCommit: (root: Node | undefined) => void,
  ) {}

  /** @internal Made by `IavlTree.importer`. */
  static into(ndb: NodeDb, version: number, onCommit: (root: Node | undefined) => void): Importer {
    return new Importer(ndb, version, onCommit);
  }

  /** Number of nodes added so far. */
  get added(): number {
    return this.count;
  }

  /** Adds the next node of the stream; resolves once any batch it filled was written. */
  add(exported: ExportNode): Promise<void> {
    return this.addMany([exported]);
  }

  /**
   * Adds the next nodes of the stream, in order; resolves once every batch they filled was
   * written. The same as `add` for each, without a promise and a microtask per node: it waits only
   * where a batch is due.
   */
  async addMany(nodes: readonly ExportNode[]): Promise<void> {
    this.assertOpen();
    for (const node of nodes) {
      if (this.push(node)) {
        await this.flush();
        // Closed while the batch was written: the rest of `nodes` is not imported or written.
        this.assertOpen();
      }
    }
  }

  /** Builds, numbers and buffers one node; true when the buffer is due to be written. */
  private push(exported: ExportNode): boolean {
    const node = this.build(exported);
    this.count++;
    const nonce = (this.nonces.get(node.version) ?? 0) + 1;
    this.nonces.set(node.version, nonce);
    // Nonce 1 of each version is reserved for a root (Go starts imported nodes at 2).
    node.ref = { kind: 'v1', version: node.version, nonce: nonce + 1 };
    return this.pendingBytes >= FLUSH_BYTES;
  }

  /** Names the node being added in errors (built only for an error: it is a string per node). */
  private get at(): string {
    return `import node #${this.count}`;
  }

  private build(exported: ExportNode): Node {
    if (exported === null || typeof exported !== 'object') {
      throw new StoreError('ERR_INVALID_ARGUMENT', `${this.at}: node cannot be nil`);
    }
    const { key, version, height } = exported;
    if (!Number.isInteger(height) || height < 0 || height > MAX_HEIGHT) {
      throw new StoreError('ERR_IMPORT_HEIGHT', `${this.at}: height ${height} is outside 0..${MAX_HEIGHT}`, {
        details: { index: this.count, height },
      });
    }
    if (!(key instanceof Uint8Array)) throw new StoreError('ERR_INVALID_ARGUMENT', `${this.at}: key must be bytes`);
    if (!Number.isSafeInteger(version) || version < 1 || version > this.version) {
      throw new StoreError('ERR_IMPORT_ORDER', `${this.at}: node version ${version} is outside 1..${this.version}`, {
        details: { index: this.count, version },
      });
    }
    if (height === 0) {
      if (!(exported.value instanceof Uint8Array)) {
        throw new StoreError('ERR_NIL_VALUE', `${this.at}: leaf ${toHex(key)} has no value`, { details: { key: toHex(key) } });
      }
      if (this.lastLeafKey !== undefined && compareBytes(key, this.lastLeafKey) <= 0) {
        throw new StoreError('ERR_IMPORT_ORDER', `${this.at}: leaf ${toHex(key)} is not after ${toHex(this.lastLeafKey)}`, {
          details: { index: this.count, key: toHex(key) },
        });
      }
      this.lastLeafKey = key;
      const node = new Node(key.slice(), exported.value.slice(), 0, 1);
      node.version = version;
      node.hash = hashLeaf(version, node.key, node.value!);
      this.stack.push({ node, minKey: node.key, maxKey: node.key });
      return node;
    }
    if (exported.value !== undefined && exported.value.length > 0) {
      throw new StoreError('ERR_IMPORT_ORDER', `${this.at}: inner node ${toHex(key)} carries a value`);
    }
    const right = this.stack[this.stack.length - 1];
    const left = this.stack[this.stack.length - 2];
    if (left === undefined || right === undefined || left.node.height >= height || right.node.height >= height) {
      throw new StoreError(
        'ERR_IMPORT_ORDER',
        `${this.at}: inner node ${toHex(key)} of height ${height} does not follow two lower subtrees (post-order expected)`,
        { details: { index: this.count, height } },
      );
    }
    if (height !== Math.max(left.node.height, right.node.height) + 1) {
      throw new StoreError('ERR_IMPORT_HEIGHT', `${this.at}: inner height ${height} does not match its children (${left.node.height}, ${right.node.height})`);
    }
    if (compareBytes(key, right.minKey) !== 0) {
      throw new StoreError('ERR_IMPORT_ORDER', `${this.at}: inner key ${toHex(key)} is not the smallest key of its right subtree`);
    }
    const node = new Node(key.slice(), undefined, height, left.node.size + right.node.size);
    node.version = version;
    node.leftRef = left.node.ref;
    node.rightRef = right.node.ref;
    node.hash = hashInner(height, node.size, version, left.node.hash!, right.node.hash!);
    this.stack.length -= 2;
    this.write(left.node);
    this.write(right.node);
    this.stack.push({ node, minKey: left.minKey, maxKey: right.maxKey });
    return node;
  }

  private write(node: Node): void {
    this.pending.push(node);
    this.pendingBytes += encodedLengthBound(node);
  }

  private async flush(extra: WriteOp[] = []): Promise<void> {
    const ops = this.ndb.saveNodeOps(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    await this.ndb.ns.write(extra.length === 0 ? ops : ops.concat(extra));
  }

  /**
   * Writes the root and the remaining nodes. Exactly one subtree must be left (or none: an empty
   * tree). Returns the imported version and its root hash.
   */
  async commit(): Promise<SavedVersion> {
    this.assertOpen();
    if (this.stack.length > 1) {
      throw new StoreError(
        'ERR_IMPORT_INCOMPLETE',
        `import of version ${this.version} ended with ${this.stack.length} unjoined subtrees (truncated stream?)`,
        { details: { version: this.version, subtrees: this.stack.length } },
      );
    }
    const top = this.stack.pop();
    let root: Node | undefined;
    const rootOps: WriteOp[] = [];
    if (top === undefined) {
      rootOps.push(this.ndb.emptyRootOp(this.version));
    } else {
      root = top.node;
      root.ref = { kind: 'v1', version: root.version, nonce: 1 };
      this.write(root);
      if (root.version < this.version) rootOps.push(this.ndb.referenceRootOp(this.version, root.ref));
    }
    await this.flush(rootOps);
    this.done = true;
    if (root !== undefined) this.ndb.remember(root);
    this.onCommit(root);
    return { version: this.version, hash: root?.hash ?? EMPTY_HASH };
  }

  /** Abandons the import (nodes already flushed stay; the version has no root, so it does not exist). */
  close(): void {
    this.done = true;
    this.stack.length = 0;
    this.pending = [];
  }

  private assertOpen(): void {
    if (this.done) throw new StoreError('ERR_CLOSED', `importer of version ${this.version} is already closed`);
  }
}
