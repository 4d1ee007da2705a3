/**
 * rx-store-migration: the curated public API. Everything a user may import is re-exported here
 * and nowhere else.
 */
export { StoreError, isStoreError } from './core/errors.js';
export type { ErrorCode, StoreErrorOptions } from './core/errors.js';
export { toHex, fromHex, compareBytes, equalBytes } from './core/bytes.js';
