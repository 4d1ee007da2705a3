import { defer, type Observable } from 'rxjs';
import { toHex } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import type { CommitStore } from '../commitment/commit-store.js';
import { MultiTreeRestorer } from '../commitment/snapshot-restore.js';
import type { StorageStore } from '../storage/storage-store.js';
import type { RestoreWriter } from '../storage/ss-restore.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import { migrationEvent, type RestoredEvent } from './events.js';
import type { RestoredLeaf, RestoreSinks, RestoreTotals } from './operators/restore-snapshot.js';

/** Where the verification reads the source's store roots (store/v1). */
export interface RootSource {
  storeRoot(storeKey: string, version: number): Promise<Uint8Array>;
}

/**
 * Compares every store root of the new SC with the source at `version`; a difference is
 * `ERR_HASH_MISMATCH` naming the store and both hashes, and the migration stops before any switch.
 */
export async function verifyRoots(sc: CommitStore, source: RootSource, version: number): Promise<Record<string, string>> {
  const roots: Record<string, string> = {};
  for (const store of sc.storeKeys) {
    const [mine, theirs] = await Promise.all([sc.storeRoot(store, version), source.storeRoot(store, version)]);
    if (toHex(mine) !== toHex(theirs)) {
      throw new StoreError(
        'ERR_HASH_MISMATCH',
        `store ${store} at version ${version}: new SC root ${toHex(mine)} differs from store/v1 root ${toHex(theirs)}`,
        { details: { store, version, sc: toHex(mine), v1: toHex(theirs) } },
      );
    }
    roots[store] = toHex(mine);
  }
  return roots;
}

/**
 * The real effects of `restoreSnapshot`: SC import through a {@link MultiTreeRestorer}, SS
 * through a {@link RestoreWriter} flushed by size, and a finish that records both and verifies
 * the SC against store/v1. Created per migration; both targets are opened lazily.
 */
export function restoreSinks(options: {
  readonly height: number;
  readonly sc: CommitStore | null;
  readonly ss: StorageStore;
  readonly source: RootSource | undefined;
  readonly batchSize?: number;
}): RestoreSinks {
  const { height, sc, ss } = options;
  let restorer: MultiTreeRestorer | undefined;
  let writer: Promise<RestoreWriter> | undefined;
  const getWriter = (): Promise<RestoreWriter> => (writer ??= ss.beginRestore(height));
  const getRestorer = (): MultiTreeRestorer => (restorer ??= new MultiTreeRestorer(sc!.multi, height));

  const importSc = (items: readonly SnapshotItem[]): Observable<unknown> =>
    defer(async () => {
      const target = getRestorer();
      for (const item of items) await target.add(item);
    });
  const writeSs = (leaves: readonly RestoredLeaf[]): Observable<unknown> =>
    defer(async () => {
      const w = await getWriter();
      for (const leaf of leaves) w.add(leaf.storeKey, leaf.key, leaf.value);
      if (w.needsFlush) await w.flush();
    });
  const finish = (totals: RestoreTotals): Observable<RestoredEvent> =>
    defer(async () => {
      // SC and SS are recorded in parallel; each writes its latest version last.
      await Promise.all([sc ? getRestorer().finish() : undefined, getWriter().then((w) => w.commit())]);
      const storeRoots = sc && options.source ? await verifyRoots(sc, options.source, height) : {};
      return migrationEvent({ type: 'restored', version: height, keys: totals.keys, storeRoots });
    });
  return { ...(sc ? { sc: importSc } : {}), ss: writeSs, finish, ...(options.batchSize ? { batchSize: options.batchSize } : {}) };
}
