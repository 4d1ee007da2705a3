import type { Observable } from 'rxjs';
import { StoreError } from '../core/errors.js';
import { checkVersion } from '../core/version.js';
import { type BatchReader, fromBatchReader } from '../core/batch-reader.js';
import type { Node } from './node.js';
import { childrenOf, type NodeDb } from './node-db.js';
import { type NodeRef, refId } from './node-key.js';

/** Levels read ahead below a node whose children are not loaded yet (up to 2^8 nodes). */
const PREFETCH_DEPTH = 8;

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
}

/**
 * Walks a saved version depth-first in post-order (left, right, node) with an explicit stack, so
 * it can stop after any node and resume on the next `read`. The version is pinned against pruning
 * until the reader is closed.
 */
export class ExportReader implements BatchReader<ExportNode> {
  private readonly stack: Frame[] = [];
  private release: (() => void) | undefined;
  /** Nodes read ahead, by ref id; each is taken out when its parent is expanded. */
  private readonly prefetched = new Map<string, Node>();

  private constructor(
    private readonly ndb: NodeDb,
    root: Node | undefined,
    release: () => void,
  ) {
    if (root !== undefined) this.stack.push({ node: root, expanded: false });
    this.release = release;
  }

  /** Opens an export of `version`; `ERR_VERSION_NOT_FOUND` when it does not exist. */
  static async open(ndb: NodeDb, version: number): Promise<ExportReader> {
    checkVersion(version, 'export version', 1);
    const release = ndb.pin(version);
    try {
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

  async read(max: number): Promise<ExportNode[]> {
    const out: ExportNode[] = [];
    while (out.length < max && this.stack.length > 0) {
      const frame = this.stack[this.stack.length - 1]!;
      const node = frame.node;
      if (node.isLeaf || frame.expanded) {
        this.stack.pop();
        out.push(
          node.isLeaf
            ? { key: node.key, value: node.value!, version: node.version, height: 0 }
            : { key: node.key, version: node.version, height: node.height },
        );
        continue;
      }
      frame.expanded = true;
      const [left, right] = await this.children(node);
      this.stack.push({ node: right, expanded: false }, { node: left, expanded: false });
    }
    if (this.stack.length === 0) await this.close();
    return out;
  }

  private take(ref: NodeRef | undefined): Node | undefined {
    if (ref === undefined) return undefined;
    const id = refId(ref);
    const node = this.prefetched.get(id);
    if (node !== undefined) this.prefetched.delete(id);
    return node;
  }

  /**
   * The children of `node`, read ahead: on a miss, the subtree below `node` is loaded level by
   * level down to PREFETCH_DEPTH with one `getMany` per level, so a walk costs about one database
   * round trip per 2^PREFETCH_DEPTH nodes instead of one per node. The read-ahead is bounded by
   * the open subtrees along the current path.
   */
  private async children(node: Node): Promise<[Node, Node]> {
    const left = node.left ?? this.take(node.leftRef);
    const right = node.right ?? this.take(node.rightRef);
    if (left !== undefined && right !== undefined) return [left, right];
    if (left !== undefined || right !== undefined) return childrenOf(this.ndb, node);
    let level: Node[] = [node];
    let first: [Node, Node] | undefined;
    for (let depth = 0; depth < PREFETCH_DEPTH && level.length > 0; depth++) {
      const refs: NodeRef[] = [];
      for (const n of level) if (!n.isLeaf) refs.push(n.leftRef!, n.rightRef!);
      if (refs.length === 0) break;
      const loaded = await this.ndb.getNodes(refs);
      if (first === undefined) first = [loaded[0]!, loaded[1]!];
      else loaded.forEach((n, i) => this.prefetched.set(refId(refs[i]!), n));
      level = loaded;
    }
    return first!;
  }

  async close(): Promise<void> {
    this.prefetched.clear();
    this.stack.length = 0;
    this.release?.();
    this.release = undefined;
  }
}

/**
 * The nodes of `version` in depth-first post-order as a cold Observable: reading starts on
 * subscribe, proceeds in batches of `batchSize` nodes only as the subscriber takes them, and
 * unsubscribing stops the walk and releases the version pin. For an asynchronous consumer, pull
 * batches from {@link ExportReader} directly.
 */
export function exportTree(ndb: NodeDb, version: number, options: { batchSize?: number } = {}): Observable<ExportNode> {
  return fromBatchReader(() => ExportReader.open(ndb, version), options.batchSize ?? 1024);
}
