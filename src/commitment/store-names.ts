import { StoreError } from '../core/errors.js';

/**
 * Validates the store keys of a multi-store: non-empty, unique, no `/` (the separator that keeps
 * one store's tree prefix from being a prefix of another's: `bank/` vs `banks/`), no NUL.
 * Returns them sorted bytewise (UTF-16 order equals UTF-8 byte order for these names only when
 * they are ASCII, so the sort is done on UTF-8 bytes).
 */
export function checkStoreNames(names: readonly string[]): string[] {
  if (!Array.isArray(names)) throw new StoreError('ERR_INVALID_ARGUMENT', 'storeKeys must be an array of names');
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `store key ${JSON.stringify(name)} must be a non-empty string`);
    }
    if (name.includes('/') || name.includes('\u0000')) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `store key ${JSON.stringify(name)} must not contain "/" or NUL`);
    }
    if (seen.has(name)) throw new StoreError('ERR_INVALID_ARGUMENT', `store key ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
  return sortStoreNames(names);
}

/** Sorts store names by their UTF-8 bytes (Go's `sort.Strings` order). */
export function sortStoreNames(names: readonly string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
