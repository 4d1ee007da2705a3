import { count, lastValueFrom, type Observable } from 'rxjs';
import { toHex, utf8 } from '../core/bytes.js';
import type { ExportNode } from '../iavl/export-reader.js';
import type { LevelDb } from '../db/level-db.js';
import { Namespace } from '../db/namespace.js';
import { CommitStore } from '../commitment/commit-store.js';
import { StorageStore } from '../storage/storage-store.js';
import { LegacyStore } from '../v1/legacy-store.js';
import { ChangesetLog } from '../migration/changeset-log.js';
import { closeAll, describeRecord, detectKind, openExisting, readV1Head, readV2Head, storeKeysOf } from './databases.js';
import { V2_LAYOUT } from '../root/v2-layout.js';
import { CliError, EXIT } from './errors.js';
import { table, type Output } from './output.js';

interface StoreRow {
  readonly name: string;
  /** The key count the tree's root records, or with `--count-keys` the leaves walked. */
  readonly keys: number;
  readonly rootHash: string;
}

/** Options of `rx-store-migration inspect`. */
export interface InspectOptions {
  /**
   * Walk every tree and count its leaves instead of reading the count its root records; the
   * inspection fails when the two differ (sizes in the tree's nodes are corrupt).
   */
  readonly countKeys?: boolean;
}

/**
 * Describes a database: a store/v1 `application.db` (stores, latest and earliest versions, key
 * counts, root hashes, app hash) or a store/v2 database in the root store layout (migration record,
 * SC versions and roots, SS versions and any unfinished restore, changeset log).
 */
export async function runInspect(path: string, output: Output, options: InspectOptions = {}): Promise<number> {
  let db: LevelDb | undefined;
  try {
    db = await openExisting(path, 'database');
    const kind = await detectKind(db);
    if (kind === 'store/v1') await inspectV1(db, path, output, options);
    else if (kind === 'store/v2') await inspectV2(db, path, output, options);
    else {
      throw new CliError(
        `${path} is neither a store/v1 application.db (no s/latest) nor a store/v2 database (no root/migration, sc/c/latest or ss/m/latest)`,
      );
    }
    return EXIT.ok;
  } finally {
    await closeAll(db);
  }
}

async function storeRows(
  multi: LegacyStore | CommitStore,
  stores: readonly string[],
  version: number,
  { countKeys = false }: InspectOptions,
): Promise<StoreRow[]> {
  const rows: StoreRow[] = [];
  for (const name of stores) {
    const tree = multi.tree(name);
    const { size, hash } = await tree.getImmutable(version);
    const keys = countKeys ? await countLeaves(tree.export(version)) : size;
    if (keys !== size) {
      throw new CliError(
        `store ${name} at version ${version}: its root records ${size.toLocaleString('en-US')} keys but the walk found ${keys.toLocaleString('en-US')} (the node sizes are corrupt)`,
        EXIT.mismatch,
      );
    }
    rows.push({ name, keys, rootHash: toHex(hash) });
  }
  return rows;
}

function countLeaves(nodes: Observable<ExportNode>): Promise<number> {
  return lastValueFrom(nodes.pipe(count((node) => node.height === 0)));
}

function storeTable(rows: readonly StoreRow[], { countKeys = false }: InspectOptions): string {
  return table(
    ['store', countKeys ? 'keys (walked)' : 'keys (root size)', 'root hash'],
    rows.map((r) => [r.name, r.keys.toLocaleString('en-US'), r.rootHash]),
  );
}

async function inspectV1(db: LevelDb, path: string, output: Output, options: InspectOptions): Promise<void> {
  const head = await readV1Head(db, path);
  const stores = storeKeysOf(head.commitInfo);
  const v1 = await LegacyStore.open(db, { storeKeys: stores });
  const earliest = await v1.earliestVersion();
  const rows = await storeRows(v1, stores, head.latest, options);
  const appHash = toHex(await v1.appHash(head.latest));
  output.text(`${path}: store/v1 application.db`);
  output.text(`  latest version   ${head.latest}`);
  output.text(`  earliest version ${earliest}`);
  output.text(`  app hash         ${appHash}`);
  output.text('');
  output.text(storeTable(rows, options));
  output.summary({ command: 'inspect', path, kind: 'store/v1', keysCounted: options.countKeys === true, latestVersion: head.latest, earliestVersion: earliest, appHash, stores: rows });
}

async function inspectV2(db: LevelDb, path: string, output: Output, options: InspectOptions): Promise<void> {
  const head = await readV2Head(db);
  let sc: { latestVersion: number; earliestVersion: number; appHash: string; stores: StoreRow[] } | undefined;
  if (head.scLatest > 0 && head.scCommitInfo !== undefined) {
    const stores = storeKeysOf(head.scCommitInfo);
    const store = await CommitStore.open(db, { storeKeys: stores, prefix: V2_LAYOUT.sc });
    sc = {
      latestVersion: head.scLatest,
      earliestVersion: await store.earliestVersion(),
      appHash: toHex(await store.appHash(head.scLatest)),
      stores: await storeRows(store, stores, head.scLatest, options),
    };
  }
  const ssStore = await StorageStore.open(db, { prefix: V2_LAYOUT.ss });
  const ss = {
    latestVersion: ssStore.latestVersion,
    earliestVersion: ssStore.earliestVersion,
    ...(ssStore.pendingRestoreVersion === undefined ? {} : { pendingRestoreVersion: ssStore.pendingRestoreVersion }),
    // A wipe that stopped half-way: the SS reads as empty but still holds data (see `pendingClear`).
    ...(ssStore.pendingClear ? { pendingClear: true } : {}),
  };
  await ssStore.close();
  const log = ChangesetLog.in(new Namespace(db, utf8(V2_LAYOUT.log)));
  const logLatest = await log.latest();
  const logFirst = await log.first();
  const changesetLog = logLatest === 0 ? { entries: false } : { entries: true, first: logFirst, latest: logLatest };

  output.text(`${path}: store/v2 database (root store layout)`);
  output.text(`  migration record ${describeRecord(head.record)}`);
  if (sc) {
    output.text(`  SC               versions ${sc.earliestVersion}..${sc.latestVersion}, app hash ${sc.appHash}`);
  } else output.text('  SC               none');
  const pending =
    (ss.pendingRestoreVersion === undefined ? '' : `, unfinished restore at ${ss.pendingRestoreVersion}`) +
    (ss.pendingClear ? ', unfinished wipe (leftover data: migrate again to finish it)' : '');
  output.text(`  SS               latest ${ss.latestVersion}, earliest ${ss.earliestVersion}${pending}`);
  output.text(`  changeset log    ${changesetLog.entries ? `versions ${logFirst}..${logLatest}` : 'empty'}`);
  if (sc) {
    output.text('');
    output.text(storeTable(sc.stores, options));
  }
  output.summary({
    command: 'inspect',
    path,
    kind: 'store/v2',
    keysCounted: options.countKeys === true,
    migration: head.record ?? null,
    ...(sc ? { latestVersion: sc.latestVersion, earliestVersion: sc.earliestVersion, appHash: sc.appHash, stores: sc.stores } : {}),
    sc: sc ? { latestVersion: sc.latestVersion, earliestVersion: sc.earliestVersion } : null,
    ss,
    changesetLog,
  });
}
