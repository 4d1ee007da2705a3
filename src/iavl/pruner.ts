import { StoreError } from '../core/errors.js';
import type { WriteOp } from '../db/namespace.js';
import type { Node } from './node.js';
import { leftOf, nodeDbKey, type NodeDb, rightOf } from './node-db.js';
import { refId, rootRef } from './node-key.js';

async function rootNode(ndb: NodeDb, version: number): Promise<{ node: Node | undefined; isReference: boolean }> {
  const entry = await ndb.getRoot(version);
  if (entry === undefined) {
    throw new StoreError('ERR_VERSION_NOT_FOUND', `cannot prune: version ${version} does not exist`, { details: { version } });
  }
  if (entry.kind === 'empty') return { node: undefined, isReference: false };
  const isReference = entry.ref.kind === 'v1' && entry.ref.version !== version;
  return { node: await ndb.getNode(entry.ref), isReference };
}

/**
 * Deletes version `version` of a tree whose earlier versions are already gone, keeping every node
 * that version `version + 1` still uses. Nodes are immutable and never come back once dropped
 * from a tree, so the orphans of `version` are exactly the nodes of its tree that are not in the
 * next one: walk the next tree down to its first node of version ≤ `version` (a shared subtree),
 * then walk this tree, skipping shared subtrees. A root that the next version still uses moves
 * from `(version, 1)` to `(version, 0)` (as Go does), so `version` itself stops existing.
 */
export async function deleteVersion(ndb: NodeDb, version: number, nextVersion: number = version + 1): Promise<void> {
  const current = await rootNode(ndb, version);
  // The next version that exists: `version + 1`, except after the lone root of an imported tree.
  const next = await rootNode(ndb, nextVersion);
  const shared = new Set<string>();
  const markShared = async (node: Node): Promise<void> => {
    if (node.version <= version) {
      shared.add(refId(node.ref!));
      return;
    }
    if (!node.isLeaf) {
      await markShared(await leftOf(ndb, node));
      await markShared(await rightOf(ndb, node));
    }
  };
  if (next.node !== undefined) await markShared(next.node);

  const ops: WriteOp[] = [];
  const rootKey = rootRef(version);
  const dropOrphans = async (node: Node): Promise<void> => {
    const ref = node.ref!;
    if (shared.has(refId(ref))) return;
    if (!node.isLeaf) {
      await dropOrphans(await leftOf(ndb, node));
      await dropOrphans(await rightOf(ndb, node));
    }
    ops.push(ndb.ns.del(nodeDbKey(ref)));
    // A former root may have moved to nonce 0 (see below); its node is known by its (v, 1) ref.
    if (ref.kind === 'v1' && ref.nonce === 1) ops.push(ndb.ns.del(nodeDbKey({ kind: 'v1', version: ref.version, nonce: 0 })));
  };
  if (current.node !== undefined) await dropOrphans(current.node);

  const root = current.node;
  const ownRootShared = root !== undefined && !current.isReference && shared.has(refId(root.ref!));
  if (ownRootShared) {
    ops.push(ndb.ns.put(nodeDbKey({ kind: 'v1', version, nonce: 0 }), (await ndb.ns.get(nodeDbKey(rootKey)))!));
  }
  // The root key is either an orphaned root (already dropped above), a reference, an empty root,
  // or a root that moved to nonce 0: in every case the key itself goes.
  ops.push(ndb.ns.del(nodeDbKey(rootKey)));
  // Checked again here, in the same synchronous step as the write: an export may have pinned the
  // version while this one was being read; one that pins it from now on sees it marked pruned.
  if (ndb.pinCount(version) > 0) throw pinned(version);
  const unmark = ndb.markPruned(version);
  try {
    await ndb.ns.write(ops);
  } catch (error) {
    unmark();
    throw error;
  }
}

function pinned(version: number): StoreError {
  return new StoreError('ERR_VERSION_PINNED', `cannot prune version ${version}: an export of it is in progress`, {
    details: { version },
  });
}

/**
 * Deletes every version from the first retained one up to `toVersion` inclusive, one atomic batch
 * per version. The latest version can never be pruned, nor a version an export has pinned.
 */
export async function deleteVersionsTo(ndb: NodeDb, toVersion: number, latest: number): Promise<void> {
  if (toVersion >= latest) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `cannot prune up to ${toVersion}: the latest version ${latest} must stay`, {
      details: { toVersion, latest },
    });
  }
  const first = await ndb.firstVersion();
  for (let v = first; v <= toVersion; v++) {
    if (ndb.pinCount(v) > 0) throw pinned(v);
  }
  // Versions run from `first` up to `latest`, except for the lone root of an imported tree, which
  // is followed by the imported version: each version is pruned against the next one that exists.
  let v: number | undefined = first;
  while (v !== undefined && v <= toVersion) {
    // A pin taken while earlier versions were being deleted stops the prune at that version, in
    // `deleteVersion`, right before its write.
    const next = await ndb.nextVersion(v, latest);
    if (next === undefined) break;
    await deleteVersion(ndb, v, next);
    v = next;
  }
}
