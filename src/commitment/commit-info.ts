import { utf8 } from '../core/bytes.js';
import type { ExistenceProof } from '../iavl/proof.js';
import { merkleMapProof, merkleMapRoot } from './simple-merkle.js';
import type { StoreInfo } from '../proto/commit-info.js';

export type { CommitId, CommitInfo, StoreInfo } from '../proto/commit-info.js';

function entries(storeInfos: readonly StoreInfo[]): [Uint8Array, Uint8Array][] {
  return storeInfos.map((s) => [utf8(s.name), s.commitId.hash]);
}

/**
 * The app hash (formats.md §4): the simple Merkle map of (store name → store root hash), sorted
 * by name. No stores → an empty hash (Go returns nil); store/v1 and store/v2 agree byte for byte,
 * which is why the app hash does not change at the switch.
 */
export function commitInfoHash(storeInfos: readonly StoreInfo[]): Uint8Array {
  if (storeInfos.length === 0) return new Uint8Array(0);
  return merkleMapRoot(entries(storeInfos));
}

/** ICS23 existence proof (TendermintSpec) of a store's root hash in the commit info tree. */
export function storeInfoProof(storeInfos: readonly StoreInfo[], name: string): ExistenceProof | undefined {
  return merkleMapProof(entries(storeInfos), utf8(name));
}
