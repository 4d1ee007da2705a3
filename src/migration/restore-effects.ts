import { defer, type Observable } from 'rxjs';
import { equalBytes, toHex } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import { InFlight } from '../core/in-flight.js';
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
  // Built from pairs: assigning roots['__proto__'] would hit the prototype setter and vanish.
  const pairs: [string, string][] = [];
  for (const store of sc.storeKeys) {
    const [mine, theirs] = await Promise.all([sc.storeRoot(store, version), source.storeRoot(store, version)]);
    if (toHex(mine) !== toHex(theirs)) {
      throw new StoreError(
        'ERR_HASH_MISMATCH',
        `store ${store} at version ${version}: new SC root ${toHex(mine)} differs from store/v1 root ${toHex(theirs)}`,
        { details: { store, version, sc: toHex(mine), v1: toHex(theirs) } },
      );
    }
    pairs.push([store, toHex(mine)]);
  }
  return Object.fromEntries(pairs);
}

function resumeMismatch(height: number, why: string): StoreError {
  return new StoreError(
    'ERR_STATE',
    `cannot resume the SS restore at height ${height}: the snapshot is not the one it began with (${why}; were other stores selected?); clear the SS and restore again`,
    { details: { height } },
  );
}

/** The last leaf a resumed restore skipped must be the last pair its checkpoint recorded. */
function checkResumedAt(writer: RestoreWriter, leaf: RestoredLeaf): void {
  const last = writer.resumedLast;
  if (last === undefined) return;
  if (last.storeKey !== leaf.storeKey || !equalBytes(last.key, leaf.key)) {
    throw resumeMismatch(
      writer.version,
      `its leaf ${writer.resumedKeys} is ${leaf.storeKey}/${toHex(leaf.key)}, the checkpoint recorded ${last.storeKey}/${toHex(last.key)}`,
    );
  }
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
  /** False when the SC already holds the restored height (a resumed migration): only verify it. */
  readonly importSc?: boolean;
  /** Continue the SS restore an earlier run left unfinished, skipping the pairs it made durable. */
  readonly resumeSs?: boolean;
  /** False when the SS already holds the restored height (a resumed migration). */
  readonly importSs?: boolean;
  /** See {@link RestoreSinks.busy$}. */
  readonly busy$?: Observable<boolean>;
}): RestoreSinks & { settled(): Promise<void> } {
  const { height, sc, ss } = options;
  // Sink work still under way: an unsubscribed restore does not cancel a write already issued
  // (an import batch, a flush, the commit infos), and the targets must not be wiped before it landed.
  const inFlight = new InFlight();
  const importSc = sc !== null && (options.importSc ?? true);
  let restorer: MultiTreeRestorer | undefined;
  let writer: Promise<RestoreWriter> | undefined;
  let skip: number | undefined;
  const getWriter = (): Promise<RestoreWriter> =>
    (writer ??= (options.resumeSs ? ss.resumeRestore(height) : ss.beginRestore(height)).then((w) => {
      skip = w.resumedKeys;
      return w;
    }));
  const getRestorer = (): MultiTreeRestorer => (restorer ??= new MultiTreeRestorer(sc!.multi, height));

  const importIntoSc = (items: readonly SnapshotItem[]): Observable<unknown> =>
    defer(() => inFlight.track(getRestorer().addAll(items)));
  const importSs = options.importSs ?? true;
  const writeSs = (leaves: readonly RestoredLeaf[]): Observable<unknown> =>
    defer(() => inFlight.track(writeLeaves(leaves)));
  const writeLeaves = async (leaves: readonly RestoredLeaf[]): Promise<void> => {
    if (!importSs) return;
    const w = await getWriter();
    let start = 0;
    // The snapshot order is deterministic, so the first `skip` leaves are exactly the pairs the
    // interrupted run already made durable — if it is the same snapshot (the same stores).
    if (skip! > 0) {
      start = Math.min(skip!, leaves.length);
      skip! -= start;
      if (skip === 0 && start > 0) checkResumedAt(w, leaves[start - 1]!);
    }
    for (let i = start; i < leaves.length; i++) w.add(leaves[i]!.storeKey, leaves[i]!.key, leaves[i]!.value);
    if (w.needsFlush) await w.flush();
  };
  const finish = (totals: RestoreTotals): Observable<RestoredEvent> => defer(() => inFlight.track(finishNow(totals)));
  const finishNow = async (totals: RestoreTotals): Promise<RestoredEvent> => {
    // The writer is opened here when no batch opened it (a snapshot with no items at all): a
    // resumed restore must still learn how many leaves its checkpoint holds, or an empty
    // snapshot would commit the earlier run's partial SS as complete.
    const w = importSs ? await getWriter() : undefined;
    if (w !== undefined && skip! > 0) {
      throw resumeMismatch(height, `it has ${totals.keys} keys, fewer than the ${skip! + totals.keys} the SS already holds`);
    }
    // SC and SS are recorded in parallel; each writes its latest version last.
    await Promise.all([importSc ? getRestorer().finish() : undefined, w?.commit()]);
    const storeRoots = sc && options.source ? await verifyRoots(sc, options.source, height) : {};
    return migrationEvent({ type: 'restored', version: height, keys: totals.keys, storeRoots });
  };
  const abandon = (): void => {
    // Leave what is durable for a resume: the SS keeps its checkpoint, the SC is re-imported.
    restorer?.abort();
    if (writer) void inFlight.track(writer.then((w) => w.suspend())).catch(() => undefined);
  };
  const checkStore = (name: string): void => {
    ss.checkStore(name);
    sc?.tree(name);
  };
  return {
    ...(importSc ? { sc: importIntoSc } : {}),
    ss: writeSs,
    checkStore,
    finish,
    abandon,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.busy$ ? { busy$: options.busy$ } : {}),
    /** Resolves once every sink call made so far (and the writer's suspension) has settled. */
    settled: () => inFlight.drained(),
  };
}
