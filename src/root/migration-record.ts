import { fromUtf8, utf8 } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import type { Namespace } from '../db/namespace.js';

/** Where a node stands in its move to store/v2, as recorded durably in the v2 database. */
export type MigrationRecord =
  /** `stores`: the stores being migrated, when the writer chose a subset (the CLI's `--stores`). */
  | { readonly status: 'migrating'; readonly height: number; readonly stores?: readonly string[] }
  | { readonly status: 'switched'; readonly height: number; readonly switchedAt: number }
  /**
   * Given up (see `RootStore.abandonMigration`): store/v1 serves alone and logs nothing; the
   * store/v2 targets still hold the partial migration from `height`, wiped before the next start.
   */
  | { readonly status: 'abandoned'; readonly height: number };

const KEY = utf8('migration');

/**
 * Reads the migration record: absent means no migration was ever started. The record makes a
 * restart know whether a migration is in progress (and at which height) or done — Go decided
 * this from configuration alone and migrated again on every restart.
 */
export async function readMigrationRecord(ns: Namespace): Promise<MigrationRecord | undefined> {
  const bytes = await ns.get(KEY);
  if (bytes === undefined) return undefined;
  try {
    const record = JSON.parse(fromUtf8(bytes)) as MigrationRecord;
    const known = record.status === 'migrating' || record.status === 'switched' || record.status === 'abandoned';
    const stores = (record as { stores?: unknown }).stores;
    const storesValid = stores === undefined || (Array.isArray(stores) && stores.every((s) => typeof s === 'string'));
    if (known && Number.isSafeInteger(record.height) && storesValid) return record;
  } catch (error) {
    throw new StoreError('ERR_IO', 'the migration record is corrupt', { cause: error });
  }
  throw new StoreError('ERR_IO', 'the migration record is corrupt');
}

/** The write that stores `record` (put it in the same batch as the data it describes). */
export function migrationRecordOp(ns: Namespace, record: MigrationRecord) {
  return ns.put(KEY, utf8(JSON.stringify(record)));
}

/** The write that removes the record (after wiping an interrupted migration). */
export function clearMigrationRecordOp(ns: Namespace) {
  return ns.del(KEY);
}
