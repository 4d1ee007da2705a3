/**
 * rx-store-migration: the curated public API. Everything a user may import is re-exported here
 * and nowhere else; each symbol is documented where it is defined.
 */

// core
export { StoreError, isStoreError } from './core/errors.js';
export type { ErrorCode, StoreErrorOptions } from './core/errors.js';
export { toHex, fromHex, compareBytes, equalBytes, utf8 } from './core/bytes.js';
export { type BatchReader, fromBatchReader } from './core/batch-reader.js';

// db
export { openDb, type LevelDb } from './db/level-db.js';

// iavl
export { IavlTree, type IavlTreeOptions, type SavedVersion, type StagedVersion } from './iavl/iavl-tree.js';
export { ImmutableTree } from './iavl/immutable-tree.js';
export { ExportReader, type ExportNode } from './iavl/exporter.js';
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
