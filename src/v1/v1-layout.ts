import { utf8 } from '../core/bytes.js';
import type { MultiTreeLayout } from '../commitment/multi-tree.js';
import { decodeCommitInfoV1, encodeCommitInfoV1 } from '../proto/commit-info.js';
import { decodeInt64Value, encodeInt64Value } from '../proto/int64-value.js';

/**
 * The cosmos-sdk rootmulti layout of `application.db` (formats.md §3): each module's tree under
 * `s/k:<store name>/`, `s/latest` → protobuf `Int64Value`, `s/<decimal height>` →
 * `cosmos.store.v1beta1.CommitInfo`.
 */
export const v1Layout: MultiTreeLayout = {
  name: 'store/v1',
  treePrefix: (storeName) => utf8(`s/k:${storeName}/`),
  commitInfoKey: (version) => utf8(`s/${version}`),
  latestKey: utf8('s/latest'),
  encodeCommitInfo: encodeCommitInfoV1,
  decodeCommitInfo: decodeCommitInfoV1,
  encodeLatest: encodeInt64Value,
  decodeLatest: decodeInt64Value,
};
