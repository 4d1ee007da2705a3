import { toHex } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import { checkVersion } from '../core/version.js';
import type { BatchReader } from '../core/batch-reader.js';
import type { Node } from './node.js';
import { checkChild, type NodeDb } from './node-db.js';
import type { NodeRef } from './node-key.js';

/**
 * Subtrees up to this height are read ahead whole when the walk reaches them: at most 2^13 − 1
 * nodes, read one level per batch, each batch in key order.
 */
const WHOLE_SUBTREE_HEIGHT = 12;

/**
 * One node of an export stream (Go `ExportNode`): leaves carry a value, inner nodes do not; the
 * version is the node's own (the version it was last re-created at), which the hash depends on.
 */
export interface ExportNode {
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly version: number;
  readonly height: number;
}

interface Frame {
  readonly node: Node;
  expanded: boolean;
  /** Both children once read ahead, until the frame is expanded. */
  left: Frame | undefined;
  right: Frame | undefined;
}

function frame(node: Node): Frame {
  return { node, expanded: false, left: undefined, right: undefined };
}

/**
 * Walks a saved version depth-first in post-order (left, right, node) with an explicit stack, so
 * it can stop after any node and resume on the next `read`. The version is pinned against pruning
 * until the reader is closed.
 */
export class ExportReader implements BatchReader<ExportNode> {
  private readonly stack: Frame[] = [];
  private release: (() => void) | undefined;
  /** The read failure, once one happened: the walk cannot go past it, so every later read fails too. */
  private failure: { readonly error: unknown } | undefined;

  private constructor(
    private readonly ndb: NodeDb,
    root: Node | undefined,
    release: () => void,
  ) {
    if (root !== undefined) this.stack.push(frame(root));
    this.release = release;
  }

  /** @internal Opens an export of `version` (see `IavlTree.exportReader`); `ERR_VERSION_NOT_FOUND` when it does not exist. */
  static async open(ndb: NodeDb, version: number): Promise<ExportReader> {
    checkVersion(version, 'export version', 1);
    const release = ndb.pin(version);
    try {
      if (ndb.isPruned(version)) {
        throw new StoreError('ERR_VERSION_NOT_FOUND', `cannot export version ${version}: it was pruned`, {
          details: { version },
        });
      }
      const entry = await ndb.getRoot(version);
      if (entry === undefined) {
        throw new StoreError('ERR_VERSION_NOT_FOUND', `cannot export version ${version}: it does not exist`, {
          details: { version },
        });
      }
      const root = entry.kind === 'empty' ? undefined : await ndb.getNode(entry.ref);
      return new ExportReader(ndb, root, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * The next at most `max` nodes; an empty array once the walk is done. When a node cannot be read,
   * the nodes walked before it are returned first, and this read (or the next) rejects with the
   * failure, as does every read after it.
   */
  async read(max: number): Promise<ExportNode[]> {
    if (this.failure !== undefined) throw this.failure.error;
    const out: ExportNode[] = [];
    while (out.length < max && this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1]!;
      const node = top.node;
      if (node.isLeaf || top.expanded) {
        this.stack.pop();
        out.push(
          node.isLeaf
            ? { key: node.key, value: node.value!, version: node.version, height: 0 }
            : { key: node.key, version: node.version, height: node.height },
        );
        continue;
      }
      if (top.left === undefined) {
        try {
          await this.readAhead(top);
        } catch (error) {
          this.failure = { error };
          if (out.length > 0) return out;
          throw error;
        }
      }
      top.expanded = true;
      this.stack.push(top.right!, top.left!);
      // Consumed subtrees must not stay reachable from their open ancestors.
      top.left = undefined;
      top.right = undefined;
    }
    if (this.stack.length === 0) await this.close();
    return out;
  }

  /**
   * Loads the children of `top` and reads ahead below them, level by level, each level in key order
   * (see `NodeDb.getNodes`). A subtree of height ≤ WHOLE_SUBTREE_HEIGHT is read whole; above
   * that, the read stops at the subtrees of that height, each read whole when the walk reaches it.
   * So a walk costs about one database round trip per few hundred nodes, and the levels are large
   * enough that reading them in key order finds most nodes of one version next to each other (in
   * a tree with history, the walk's order hops between the versions' key ranges). The read-ahead
   * hangs off the frames: at most one whole subtree (2^13 − 1 nodes) being walked, plus the nodes
   * above height WHOLE_SUBTREE_HEIGHT and their children, which the first read loads (about
   * 2^(h − 11) for a tree of height h) and which are released as the walk passes them. Loaded nodes
   * bypass the node cache.
   */
  private async readAhead(top: Frame): Promise<void> {
    const whole = top.node.height <= WHOLE_SUBTREE_HEIGHT;
    let level: Frame[] = [top];
    while (level.length > 0) {
      const parents: Frame[] = [];
      const refs: NodeRef[] = [];
      for (const f of level) {
        if (f.node.isLeaf || f.left !== undefined) continue;
        if (!whole && f !== top && f.node.height <= WHOLE_SUBTREE_HEIGHT) continue;
        parents.push(f);
        refs.push(childRef(f.node, 'left'), childRef(f.node, 'right'));
      }
      if (refs.length === 0) break;
      // One call per level: getNodes reads the whole level in key order, in chunks.
      const loaded = await this.ndb.getNodes(refs, false);
      level = [];
      for (let i = 0; i < parents.length; i++) {
        const parent = parents[i]!;
        parent.left = frame(checkChild(parent.node, loaded[2 * i]!, 'left'));
        parent.right = frame(checkChild(parent.node, loaded[2 * i + 1]!, 'right'));
        level.push(parent.left, parent.right);
      }
    }
  }

  async close(): Promise<void> {
    this.stack.length = 0;
    this.release?.();
    this.release = undefined;
  }
}

function childRef(node: Node, side: 'left' | 'right'): NodeRef {
  const ref = side === 'left' ? node.leftRef : node.rightRef;
  if (ref === undefined) throw new StoreError('ERR_NODE_CORRUPT', `inner node ${toHex(node.key)} has no ${side} child`);
  return ref;
}
