import { utf8 } from '../core/bytes.js';
import { encodeUvarint, readUvarint } from '../core/varint.js';
import { StoreError } from '../core/errors.js';
import { decodeCommitInfoV2, encodeCommitInfoV2 } from '../proto/commit-info.js';
import type { MultiTreeLayout } from './multi-tree.js';

/**
 * The State Commitment layout (store/v2): `c/<decimal version>` → `cosmos.store.v2.CommitInfo`,
 * `c/latest` → uvarint version, and each store's tree under `t/<store key>/`.
 *
 * Go puts each tree directly under the raw store-key bytes. We add a tag and a separator because a
 * raw prefix is ambiguous: `bank` is a prefix of `banks`, so a range scan of one tree (latest
 * version, pruning, wiping a partial restore) would read the other's nodes, and a store named `c`
 * would share its prefix with the metadata. Store keys may not contain `/`.
 */
export const scLayout: MultiTreeLayout = {
  name: 'SC',
  treePrefix: (storeName) => utf8(`t/${storeName}/`),
  commitInfoKey: (version) => utf8(`c/${version}`),
  latestKey: utf8('c/latest'),
  encodeCommitInfo: encodeCommitInfoV2,
  decodeCommitInfo: decodeCommitInfoV2,
  encodeLatest: encodeUvarint,
  decodeLatest: (bytes) => {
    const { value, offset } = readUvarint(bytes, 0, 'SC latest version');
    if (offset !== bytes.length) throw new StoreError('ERR_TRAILING_BYTES', 'SC latest version has trailing bytes');
    return value;
  },
};
