/**
 * rx-store-migration: the curated public API. Everything a user may import is re-exported here
 * and nowhere else; each symbol is documented where it is defined.
 */

// core
export { StoreError, isStoreError } from './core/errors.js';
export type { ErrorCode, StoreErrorOptions } from './core/errors.js';
export { toHex, fromHex, compareBytes, equalBytes, utf8 } from './core/bytes.js';
export { type BatchReader, fromBatchReader } from './core/batch-reader.js';

export {
  encodeChangeset,
  decodeChangeset,
  changesetFromPairs,
  checkChangeset,
  type KVPair,
  type StoreChanges,
  type Changeset,
  type VersionedChangeset,
  type ChangesetEntry,
} from './core/changeset.js';
export { changesetLogKey, parseChangesetLogKey } from './core/changeset-log-key.js';

// proto
export {
  encodeSnapshotItem,
  decodeSnapshotItem,
  encodeSnapshotItemFrame,
  encodeSnapshotItemFrames,
  SnapshotItemDecoder,
  decodeSnapshotItemStream,
  type SnapshotItem,
  type SnapshotStoreItem,
  type SnapshotIAVLItem,
  type SnapshotExtensionItem,
  type SnapshotExtensionPayloadItem,
} from './proto/snapshot-item.js';
export { DelimitedFrameDecoder, DEFAULT_MAX_FRAME_SIZE, type DelimitedFrameDecoderOptions } from './proto/delimited.js';
export { encodeCommitInfoV1, decodeCommitInfoV1, encodeCommitInfoV2, decodeCommitInfoV2, type ProtoTimestamp } from './proto/commit-info.js';
export {
  encodeCommitmentProof,
  decodeCommitmentProof,
  type CommitmentProofInput,
  type ProofInput,
  type CommitmentProof as Ics23CommitmentProof,
  type ExistenceProof as Ics23ExistenceProof,
  type NonExistenceProof as Ics23NonExistenceProof,
  type BatchProof,
  type BatchEntry,
  type CompressedBatchProof,
  type CompressedBatchEntry,
  type CompressedExistenceProof,
  type CompressedNonExistenceProof,
} from './proto/ics23.js';

// db
export { openDb, type LevelDb, type OpenDbOptions } from './db/level-db.js';
export type { WriteOp, WriteOptions } from './db/namespace.js';

// iavl
export { IavlTree, type IavlTreeOptions, type SavedVersion, type StagedVersion } from './iavl/iavl-tree.js';
export { ImmutableTree } from './iavl/immutable-tree.js';
export { ExportReader, type ExportNode } from './iavl/export-reader.js';
export { Importer } from './iavl/importer.js';
export { EMPTY_HASH } from './iavl/node-hash.js';
export {
  HashOp,
  LengthOp,
  type CommitmentProof,
  type ExistenceProof,
  type NonExistenceProof,
  type LeafOp,
  type InnerOp,
} from './iavl/proof.js';
export { checkIavlProofRules } from './iavl/proof-rules.js';

// commitment (SC)
export { CommitStore, type CommitStoreOptions } from './commitment/commit-store.js';
export { commitInfoHash, storeInfoProof, type CommitInfo, type CommitId, type StoreInfo } from './commitment/commit-info.js';
export type { ProofOp, StoreProof } from './commitment/multi-tree.js';
export { SnapshotReader } from './commitment/snapshot-reader.js';
export type { LeafSink, RestoreOptions, RestoreProgress, RestoreResult } from './commitment/snapshot-restore.js';

// store/v1
export { LegacyStore, type LegacyStoreOptions } from './v1/legacy-store.js';

// storage (SS)
export { StorageStore, type StorageStoreOptions, type PruneOptions } from './storage/storage-store.js';
export type { SsIterator, SsEntry } from './storage/ss-iterator.js';
export {
  RestoreWriter,
  type RestorePair,
  type RestoreProgress as SsRestoreProgress,
  type RestoreOptions as SsRestoreOptions,
} from './storage/ss-restore.js';
export type { PruneResult } from './storage/ss-prune.js';
export type { CheckpointPair } from './storage/ss-key.js';

// snapshots
export { SnapshotManager, type Snapshotter, type SnapshotManagerOptions } from './snapshots/snapshot-manager.js';
export { PullObservable, pullFromReader, pullThrough, isPullObservable, type PullSource } from './core/pull.js';

// migration
export { MigrationManager, type MigrationManagerOptions, type MigrationLogger } from './migration/migration-manager.js';
export type { RootSource } from './migration/restore-effects.js';
export type {
  MigrationEvent,
  ProgressEvent,
  RestoredEvent,
  LoggedEvent,
  AppliedEvent,
  CaughtUpEvent,
  SwitchEvent,
} from './migration/events.js';
export { ChangesetLog } from './migration/changeset-log.js';
export { migrationPipeline, type PipelineEffects } from './migration/pipeline.js';
export { checkVersionOrder } from './migration/operators/check-version-order.js';
export { logChangesets } from './migration/operators/log-changesets.js';
export { applyLogged, type ApplyLoggedEffects } from './migration/operators/apply-logged.js';
export { restoreSnapshot, type RestoreSinks, type RestoredLeaf, type RestoreTotals } from './migration/operators/restore-snapshot.js';
export { throttleProgress } from './migration/operators/throttle-progress.js';

// root
export { RootStore, type RootStoreOptions, type RootStoreEvent, type RootPhase, type QueryResult } from './root/root-store.js';
export { V2_LAYOUT, V1_MIGRATION_LOG_PREFIX } from './root/v2-layout.js';
