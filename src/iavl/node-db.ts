import { toHex } from '../core/bytes.js';
import { StoreError, withContext } from '../core/errors.js';
import type { Namespace, WriteOp } from '../db/namespace.js';
import { ByteSlab } from './byte-slab.js';
import { Node } from './node.js';
import { decodeLegacyNode, decodeNode, encodedLengthBound, writeNode } from './node-codec.js';
import { cacheKey, compareNodeRefs, decodeNodeKey, NODE_KEY_LENGTH, type NodeRef, putNodeKey, rootRef } from './node-key.js';

const NODE_PREFIX = 0x73; // 's'
const LEGACY_NODE_PREFIX = 0x6e; // 'n'
const LEGACY_ROOT_PREFIX = 0x72; // 'r'

function nodeKeyLength(ref: NodeRef): number {
  return 1 + (ref.kind === 'v1' ? NODE_KEY_LENGTH : ref.hash.length);
}

/** Writes the namespace-relative database key of `ref` into `out` at `offset`; returns the end. */
function putNodeDbKey(out: Uint8Array, offset: number, ref: NodeRef): number {
  if (ref.kind === 'v1') {
    out[offset] = NODE_PREFIX;
    putNodeKey(out, offset + 1, ref.version, ref.nonce);
    return offset + 1 + NODE_KEY_LENGTH;
  }
  out[offset] = LEGACY_NODE_PREFIX;
  out.set(ref.hash, offset + 1);
  return offset + 1 + ref.hash.length;
}

/** Database key (namespace-relative) of a node. */
export function nodeDbKey(ref: NodeRef): Uint8Array {
  const out = new Uint8Array(nodeKeyLength(ref));
  putNodeDbKey(out, 0, ref);
  return out;
}

/** Keys per database read of {@link NodeDb.getNodes}. */
const READ_CHUNK = 512;

/**
 * Sorts `refs` into database key order and moves `positions` (where each result goes) along. A
 * batch read in key order stays on the same LevelDB table files; read in walk order, the nodes of
 * a tree with history hop between versions (tables), and a table cache smaller than the database
 * reopens a table file for nearly every read.
 */
function sortByRef(refs: NodeRef[], positions: number[]): void {
  let sorted = true;
  for (let i = 1; i < refs.length && sorted; i++) sorted = compareNodeRefs(refs[i - 1]!, refs[i]!) <= 0;
  if (sorted) return;
  const order = refs.map((_, i) => i).sort((a, b) => compareNodeRefs(refs[a]!, refs[b]!));
  const byRef = order.map((i) => refs[i]!);
  const byPosition = order.map((i) => positions[i]!);
  for (let i = 0; i < order.length; i++) {
    refs[i] = byRef[i]!;
    positions[i] = byPosition[i]!;
  }
}

function legacyRootKey(version: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = LEGACY_ROOT_PREFIX;
  new DataView(out.buffer).setBigUint64(1, BigInt(version));
  return out;
}

function versionPrefix(prefix: number, version: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = prefix;
  new DataView(out.buffer).setBigUint64(1, BigInt(version));
  return out;
}

/**
 * A bounded cache of decoded nodes with two generations: new entries go to the young map; when it
 * is full it becomes the old map and the previous old map is dropped; a hit in the old map is
 * promoted. No entry is ever deleted one by one — V8's Map leaves a hole per delete that later
 * iteration and eviction scan over, which made a classic delete-and-reinsert LRU dominate the
 * profile of bulk writes.
 */
class NodeCache {
  private young = new Map<number | string, Node>();
  private old = new Map<number | string, Node>();
  private readonly generation: number;

  constructor(capacity: number) {
    this.generation = Math.max(0, Math.floor(capacity / 2));
  }

  /** About how many entries can be added before the first of them may be evicted: one generation. */
  get keeps(): number {
    return this.generation;
  }

  get(id: number | string): Node | undefined {
    const hit = this.young.get(id);
    if (hit !== undefined) return hit;
    const old = this.old.get(id);
    if (old !== undefined) this.add(id, old);
    return old;
  }

  add(id: number | string, node: Node): void {
    if (this.generation === 0) return;
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(id, node);
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }
}

/** What is stored at a version's root key. */
export type RootEntry = { readonly kind: 'empty' } | { readonly kind: 'node'; readonly ref: NodeRef };

/**
 * Node storage of one IAVL tree inside a namespace: IAVL v1 nodes (`s ‖ version ‖ nonce`),
 * reference roots for versions without changes, and read access to the legacy format
 * (`n ‖ hash` nodes, `r ‖ version` roots) so databases written by old Go nodes open.
 */
export class NodeDb {
  private readonly cache: NodeCache;
  private readonly pins = new Map<number, number>();

  constructor(
    readonly ns: Namespace,
    cacheSize = 200_000,
  ) {
    this.cache = new NodeCache(cacheSize);
  }

  /** About how many nodes can be loaded in a row before the first of them may be evicted. */
  get cacheKeeps(): number {
    return this.cache.keeps;
  }

  /** A cached node, without touching the disk. */
  cached(ref: NodeRef): Node | undefined {
    return this.cache.get(cacheKey(ref));
  }

  /** Full database keys of `refs`, written as views into one array. */
  private prefixedKeys(refs: readonly NodeRef[]): Uint8Array[] {
    const prefix = this.ns.prefix;
    let total = 0;
    for (const ref of refs) total += prefix.length + nodeKeyLength(ref);
    const slab = new ByteSlab(total);
    const keys: Uint8Array[] = new Array(refs.length);
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      const out = slab.room(prefix.length + nodeKeyLength(ref));
      out.set(prefix, slab.offset);
      keys[i] = slab.take(putNodeDbKey(out, slab.offset + prefix.length, ref));
    }
    return keys;
  }

  /** Loads a node (cache first); a missing node is `ERR_NODE_MISSING` naming its key. */
  async getNode(ref: NodeRef): Promise<Node> {
    const id = cacheKey(ref);
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit;
    let bytes = await this.ns.get(nodeDbKey(ref));
    if (bytes === undefined && ref.kind === 'v1' && ref.nonce === 1) {
      // Pruning moves a root that later versions still use from (v, 1) to (v, 0), so that
      // version v itself no longer exists while its root node lives on.
      bytes = await this.ns.get(nodeDbKey({ kind: 'v1', version: ref.version, nonce: 0 }));
    }
    if (bytes === undefined) {
      throw new StoreError('ERR_NODE_MISSING', `node ${describeRef(ref)} of the tree at ${this.location} is missing from the database`, {
        details: { node: describeRef(ref), tree: this.location },
      });
    }
    const node = this.decode(ref, bytes);
    this.cache.add(id, node);
    return node;
  }

  /** The tree's key prefix, for errors: it names the store (`"s/k:bank/"`). */
  get location(): string {
    const prefix = this.ns.prefix;
    const printable = prefix.every((b) => b >= 0x20 && b < 0x7f);
    return printable ? JSON.stringify(String.fromCharCode(...prefix)) : `0x${toHex(prefix)}`;
  }

  private decode(ref: NodeRef, bytes: Uint8Array): Node {
    try {
      return ref.kind === 'v1' ? decodeNode(ref, bytes) : decodeLegacyNode(ref.hash, bytes);
    } catch (error) {
      throw withContext(error, (message) => `${message} (in the tree at ${this.location})`, { tree: this.location });
    }
  }

  /**
   * Loads several nodes at once: cache hits directly, the misses in database key order, in
   * `getMany` round trips of at most READ_CHUNK keys (what makes exports and deep mutations fast
   * on classic-level, where every read is a native call; the chunks keep each synchronous
   * decoding stretch short). With `remember` false, loaded nodes bypass the cache: a walk that
   * visits each node once (an export) would only evict the nodes worth keeping and make them
   * outlive young garbage collections.
   */
  async getNodes(refs: readonly NodeRef[], remember = true): Promise<Node[]> {
    const out: Node[] = new Array(refs.length);
    const missing: NodeRef[] = [];
    const at: number[] = [];
    for (let i = 0; i < refs.length; i++) {
      const hit = this.cache.get(cacheKey(refs[i]!));
      if (hit !== undefined) {
        out[i] = hit;
      } else {
        missing.push(refs[i]!);
        at.push(i);
      }
    }
    if (missing.length === 0) return out;
    sortByRef(missing, at);
    for (let start = 0; start < missing.length; start += READ_CHUNK) {
      const end = Math.min(start + READ_CHUNK, missing.length);
      const values = await this.ns.getManyPrefixed(this.prefixedKeys(missing.slice(start, end)));
      for (let j = start; j < end; j++) {
        const ref = missing[j]!;
        const bytes = values[j - start];
        // Misses (and roots moved to nonce 0 by pruning) go the single-read way with its fallbacks.
        if (bytes === undefined) {
          out[at[j]!] = await this.getNode(ref);
          continue;
        }
        const node = this.decode(ref, bytes);
        if (remember) this.cache.add(cacheKey(ref), node);
        out[at[j]!] = node;
      }
    }
    return out;
  }

  /** Adds a freshly saved node to the cache. */
  remember(node: Node): void {
    if (node.ref !== undefined) this.cache.add(cacheKey(node.ref), node);
  }

  /** The writes that store saved nodes (each must have its ref), keys and values in shared chunks. */
  saveNodeOps(nodes: readonly Node[]): WriteOp[] {
    const prefix = this.ns.prefix;
    const slab = new ByteSlab();
    const ops: WriteOp[] = new Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const ref = node.ref!;
      let out = slab.room(prefix.length + nodeKeyLength(ref));
      out.set(prefix, slab.offset);
      const key = slab.take(putNodeDbKey(out, slab.offset + prefix.length, ref));
      out = slab.room(encodedLengthBound(node));
      ops[i] = this.ns.putPrefixed(key, slab.take(writeNode(node, out, slab.offset)));
    }
    return ops;
  }

  /** Root entry of `version` (v1 or legacy), or `undefined` when the version does not exist. */
  async getRoot(version: number): Promise<RootEntry | undefined> {
    const value = await this.ns.get(nodeDbKey(rootRef(version)));
    if (value === undefined) {
      const legacy = await this.ns.get(legacyRootKey(version));
      if (legacy === undefined) return undefined;
      if (legacy.length === 0) return { kind: 'empty' };
      if (legacy.length !== 32) {
        throw new StoreError('ERR_NODE_CORRUPT', `legacy root of version ${version} has ${legacy.length} bytes, expected 32`);
      }
      return { kind: 'node', ref: { kind: 'legacy', hash: legacy.slice() } };
    }
    if (value.length === 0) return { kind: 'empty' };
    // A reference root: the version had no changes and points to an earlier root node.
    if (value[0] === NODE_PREFIX && value.length === 1 + NODE_KEY_LENGTH) {
      const { version: v, nonce } = decodeNodeKey(value.subarray(1));
      return { kind: 'node', ref: { kind: 'v1', version: v, nonce } };
    }
    if (value[0] === NODE_PREFIX && value.length === 9) {
      // (prefix, version) references written before lazy pruning point to that version's root.
      const v = Number(new DataView(value.buffer, value.byteOffset + 1, 8).getBigUint64(0));
      return { kind: 'node', ref: rootRef(v) };
    }
    return { kind: 'node', ref: rootRef(version) };
  }

  /** The write that stores an empty root for `version`. */
  emptyRootOp(version: number): WriteOp {
    return this.ns.put(nodeDbKey(rootRef(version)), new Uint8Array(0));
  }

  /** The write that makes `version` reuse an earlier root (no changes in that version). */
  referenceRootOp(version: number, target: NodeRef): WriteOp {
    if (target.kind !== 'v1') {
      throw new StoreError('ERR_READ_ONLY', 'cannot reference a legacy root from a new version');
    }
    return this.ns.put(nodeDbKey(rootRef(version)), nodeDbKey(target));
  }

  /** Latest saved version: the highest v1 node key, else the highest legacy root; 0 when empty. */
  async latestVersion(): Promise<number> {
    const v1 = await this.edgeVersion(NODE_PREFIX, true);
    if (v1 > 0) return v1;
    return this.edgeVersion(LEGACY_ROOT_PREFIX, true);
  }

  /** Earliest saved version (legacy roots first); 0 when empty. */
  async firstVersion(): Promise<number> {
    const legacy = await this.edgeVersion(LEGACY_ROOT_PREFIX, false);
    if (legacy > 0) return legacy;
    const first = await this.edgeVersion(NODE_PREFIX, false);
    if (first === 0) return 0;
    // Pruning can leave nodes of older versions without their root: search for the first root.
    const latest = await this.latestVersion();
    let found = await this.searchFirstRoot(first, latest);
    // An imported tree stores its root at (u, 1), u being the root node's own version, below the
    // imported version H when the root did not change from u to H (as Go's importer does): a lone
    // root key with no version u + 1 after it. The versions of the tree start after it.
    while (found < latest && !(await this.hasVersion(found + 1))) {
      const after = await this.searchFirstRoot(found + 1, latest);
      if (!(await this.hasVersion(after))) break; // nothing above: `found` is the last version
      found = after;
    }
    return found;
  }

  /** Binary search of the first version in `lo..hi` with a root (the roots are a run up to `hi`). */
  private async searchFirstRoot(lo: number, hi: number): Promise<number> {
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.hasVersion(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * The next version after `version` that has a root, up to `latest`; `undefined` when none. Versions
   * are a run, except for the lone root of an imported tree (see {@link firstVersion}).
   */
  async nextVersion(version: number, latest: number): Promise<number | undefined> {
    if (version >= latest) return undefined;
    if (await this.hasVersion(version + 1)) return version + 1;
    const after = await this.searchFirstRoot(version + 1, latest);
    return (await this.hasVersion(after)) ? after : undefined;
  }

  /** True when `version` has a root (v1 or legacy). */
  async hasVersion(version: number): Promise<boolean> {
    if ((await this.ns.get(nodeDbKey(rootRef(version)))) !== undefined) return true;
    return (await this.ns.get(legacyRootKey(version))) !== undefined;
  }

  /** True when the database holds legacy-format roots. */
  async hasLegacyVersions(): Promise<boolean> {
    return (await this.edgeVersion(LEGACY_ROOT_PREFIX, true)) > 0;
  }

  private async edgeVersion(prefix: number, reverse: boolean): Promise<number> {
    const reader = this.ns.range({
      gte: versionPrefix(prefix, 1),
      lt: versionPrefix(prefix + 1, 0).subarray(0, 1),
      reverse,
      limit: 1,
    });
    try {
      const [entry] = await reader.next(1);
      if (entry === undefined) return 0;
      const version = new DataView(entry[0].buffer, entry[0].byteOffset + 1, 8).getBigUint64(0);
      if (version > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new StoreError('ERR_VERSION_RANGE', `stored version ${version} is not a safe integer`);
      }
      return Number(version);
    } finally {
      await reader.close();
    }
  }

  /** Keeps `version` from being pruned until the returned function is called (export in progress). */
  pin(version: number): () => void {
    this.pins.set(version, (this.pins.get(version) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.pins.get(version) ?? 1) - 1;
      if (n <= 0) this.pins.delete(version);
      else this.pins.set(version, n);
    };
  }

  /** Number of active pins on `version`. */
  pinCount(version: number): number {
    return this.pins.get(version) ?? 0;
  }

  /**
   * Records that the deletion of every version up to `version` was issued. Called by the pruner
   * right after it checked the pins and in the same synchronous step as its write (returning an undo
   * for a failed write), so that an
   * export pinning such a version afterwards sees it (see {@link isPruned}) instead of reading nodes
   * that are being deleted.
   */
  markPruned(version: number): () => void {
    const before = this.prunedTo;
    if (version > before) this.prunedTo = version;
    // Undone when the deletion could not be written: the version is still there.
    return () => {
      if (this.prunedTo === version) this.prunedTo = before;
    };
  }

  /** True when the deletion of `version` was issued (this process). */
  isPruned(version: number): boolean {
    return version <= this.prunedTo;
  }

  private prunedTo = 0;

  /** Drops every cached node (after the namespace was rewritten underneath). */
  clearCache(): void {
    this.cache.clear();
  }
}

/** Human-readable node address for errors: `s(version, nonce)` or `n<hash>`. */
export function describeRef(ref: NodeRef): string {
  return ref.kind === 'v1' ? `s(${ref.version}, ${ref.nonce})` : `n${toHex(ref.hash)}`;
}

/** The left child of an inner node: in memory when fresh, else from the node db (checked, see {@link checkChild}). */
export function leftOf(ndb: NodeDb, node: Node): Node | Promise<Node> {
  if (node.left !== undefined) return node.left;
  const ref = node.leftRef;
  if (ref === undefined) throw missingChild(node, 'left');
  const cached = ndb.cached(ref);
  return cached !== undefined ? checkChild(node, cached, 'left') : ndb.getNode(ref).then((child) => checkChild(node, child, 'left'));
}

/** The right child of an inner node. */
export function rightOf(ndb: NodeDb, node: Node): Node | Promise<Node> {
  if (node.right !== undefined) return node.right;
  const ref = node.rightRef;
  if (ref === undefined) throw missingChild(node, 'right');
  const cached = ndb.cached(ref);
  return cached !== undefined ? checkChild(node, cached, 'right') : ndb.getNode(ref).then((child) => checkChild(node, child, 'right'));
}

/**
 * `child` as read for `parent`'s `side`; `ERR_NODE_CORRUPT` unless it is lower than its parent. A
 * stored reference is untrusted: one that points back up the tree (to the parent itself, or to
 * an ancestor) would make every descent loop forever, and a child lower than its parent bounds
 * any descent by the root's height.
 */
export function checkChild(parent: Node, child: Node, side: 'left' | 'right'): Node {
  if (child.height < parent.height) return child;
  const where = parent.ref === undefined ? toHex(parent.key) : describeRef(parent.ref);
  throw new StoreError('ERR_NODE_CORRUPT', `inner node ${where} (height ${parent.height}) has a ${side} child of height ${child.height}: a child must be lower than its parent`, {
    details: { node: where, height: parent.height, side, childHeight: child.height, child: child.ref === undefined ? null : describeRef(child.ref) },
  });
}

function missingChild(node: Node, side: string): StoreError {
  return new StoreError('ERR_NODE_CORRUPT', `inner node ${toHex(node.key)} has no ${side} child`);
}
