import { toHex } from '../core/bytes.js';
import type { LevelDb } from '../db/level-db.js';
import { commitInfoHash } from '../commitment/commit-info.js';
import { CommitStore } from '../commitment/commit-store.js';
import { LegacyStore } from '../v1/legacy-store.js';
import { StorageStore } from '../storage/storage-store.js';
import { compareKeys, type KeyComparison } from './compare-keys.js';
import { closeAll, openExisting, readV1CommitInfo, readV1Head, readV2Head, storeKeysOf } from './databases.js';
import { V2_LAYOUT } from '../root/v2-layout.js';
import { CliError, EXIT } from './errors.js';
import { table, type Output } from './output.js';

/** Options of `rx-store-migration verify`. */
export interface VerifyOptions {
  readonly v1: string;
  readonly v2: string;
  /** Version to compare; default the latest version of the store/v2 SC. */
  readonly height?: number;
  /** Also compare every key of every store in the store/v2 SS with store/v1 (a full walk of both). */
  readonly keys?: boolean;
}

/** One store's comparison. */
export interface StoreComparison {
  readonly store: string;
  readonly v1: string | null;
  readonly v2: string | null;
  readonly match: boolean;
}

/** {@link compareKeys} for each store, after checking that the SS holds `height`. */
async function compareAllKeys(v1: LegacyStore, v2db: LevelDb, path: string, stores: readonly string[], height: number, output: Output): Promise<Record<string, KeyComparison>> {
  const ss = await StorageStore.open(v2db, { prefix: V2_LAYOUT.ss });
  try {
    if (height > ss.latestVersion || height < ss.earliestVersion) {
      throw new CliError(`version ${height} not found: the store/v2 SS in ${path} holds versions ${ss.earliestVersion}..${ss.latestVersion}`);
    }
    const pairs: [string, KeyComparison][] = [];
    for (const store of stores) {
      const comparison = await compareKeys(v1.tree(store), ss, store, height);
      output.event('keys', { height, store, ...comparison });
      pairs.push([store, comparison]);
    }
    return Object.fromEntries(pairs);
  } finally {
    await ss.close();
  }
}

/**
 * Compares a store/v1 database with a store/v2 database (root store layout) at one version: every
 * store's root hash (store/v1's tree against the new SC's tree) and the app hash, and with `keys`
 * every key of the SS against store/v1's tree. Exit 0 when everything matches, 1 on any
 * difference (a store missing on one side included).
 */
export async function runVerify(options: VerifyOptions, output: Output): Promise<number> {
  const started = performance.now();
  let v1db: LevelDb | undefined;
  let v2db: LevelDb | undefined;
  try {
    v1db = await openExisting(options.v1, 'store/v1 database');
    const v1head = await readV1Head(v1db, options.v1);
    v2db = await openExisting(options.v2, 'store/v2 database');
    const v2head = await readV2Head(v2db);
    if (v2head.scLatest === 0 || v2head.scCommitInfo === undefined) {
      const unfinished = v2head.record?.status === 'migrating' ? `: its migration at height ${v2head.record.height} is unfinished (rerun migrate to finish it)` : '';
      throw new CliError(`${options.v2} has no store/v2 State Commitment (no ${V2_LAYOUT.sc}c/latest)${unfinished}: nothing to verify`);
    }
    const height = options.height ?? v2head.scLatest;
    if (height > v2head.scLatest) {
      throw new CliError(`version ${height} not found: it is above the latest version ${v2head.scLatest} of the store/v2 SC in ${options.v2}`);
    }
    if (height > v1head.latest) {
      throw new CliError(`version ${height} not found: it is above the latest version ${v1head.latest} of ${options.v1}`);
    }
    const v1Info = await readV1CommitInfo(v1db, height);
    if (v1Info === undefined) throw new CliError(`version ${height} not found: ${options.v1} has no commit info s/${height}`);
    const v1Stores = storeKeysOf(v1Info);
    const v2Stores = storeKeysOf(v2head.scCommitInfo);
    const sc = await CommitStore.open(v2db, { storeKeys: v2Stores, prefix: V2_LAYOUT.sc });
    const scEarliest = await sc.earliestVersion();
    if (height < scEarliest) {
      throw new CliError(`version ${height} not found: the store/v2 SC in ${options.v2} begins at version ${scEarliest}`);
    }
    const v1 = await LegacyStore.open(v1db, { storeKeys: v1Stores });
    const names = [...new Set([...v1Stores, ...v2Stores])].sort();
    const rows: StoreComparison[] = [];
    for (const store of names) {
      const a = v1Stores.includes(store) ? toHex(await v1.storeRoot(store, height)) : null;
      const b = v2Stores.includes(store) ? toHex(await sc.storeRoot(store, height)) : null;
      const row = { store, v1: a, v2: b, match: a !== null && a === b };
      rows.push(row);
      output.event('store', { height, ...row });
    }
    const v1App = toHex(commitInfoHash(v1Info.storeInfos));
    const v2App = toHex(await sc.appHash(height));
    const appMatch = v1App === v2App;
    output.event('appHash', { height, v1: v1App, v2: v2App, match: appMatch });
    const keys = options.keys ? await compareAllKeys(v1, v2db, options.v2, v1Stores.filter((store) => v2Stores.includes(store)), height, output) : undefined;
    const keysMatch = keys === undefined || Object.values(keys).every((k) => k.missing + k.extra + k.differing === 0);
    const verified = appMatch && rows.every((r) => r.match) && keysMatch;

    output.text(`verify store/v1 ${options.v1} against store/v2 ${options.v2} at version ${height}`);
    output.text('');
    output.text(
      table(
        ['store', 'store/v1 root', 'store/v2 SC root', 'match'],
        [
          ...rows.map((r) => [r.store, r.v1 ?? '(missing)', r.v2 ?? '(missing)', r.match ? 'yes' : 'NO']),
          ['app hash', v1App, v2App, appMatch ? 'yes' : 'NO'],
        ],
      ),
    );
    output.text('');
    if (keys !== undefined) {
      output.text(
        table(
          ['store', 'SS keys compared', 'missing in SS', 'extra in SS', 'other value'],
          Object.entries(keys).map(([store, k]) => [store, k.compared, k.missing, k.extra, k.differing].map((n) => n.toLocaleString('en-US'))),
        ),
      );
      output.text('');
    }
    if (!verified) {
      const stores = (which: (r: StoreComparison) => boolean) => rows.filter(which).map((r) => r.store);
      const missingInV1 = stores((r) => r.v1 === null);
      const missingInV2 = stores((r) => r.v2 === null);
      const differing = stores((r) => r.v1 !== null && r.v2 !== null && !r.match);
      const say = (names: string[], one: string, many: string) =>
        names.length === 0 ? [] : [names.length === 1 ? `store ${names[0]} ${one}` : `stores ${names.join(', ')} ${many}`];
      const causes = [
        ...say(missingInV2, 'is missing in store/v2', 'are missing in store/v2'),
        ...say(missingInV1, 'is missing in store/v1', 'are missing in store/v1'),
        ...say(differing, 'root differs', 'roots differ'),
      ];
      const count = (n: number) => `${n.toLocaleString('en-US')} key${n === 1 ? '' : 's'}`;
      for (const [store, k] of Object.entries(keys ?? {})) {
        const counts: [number, string][] = [[k.missing, 'missing'], [k.extra, 'extra'], [k.differing, 'with another value']];
        const wrong = counts.filter(([n]) => n > 0).map(([n, what]) => `${count(n)} ${what}`);
        if (wrong.length > 0) causes.push(`the SS of store ${store} has ${wrong.join(', ')} (${k.examples.join(', ')})`);
      }
      if (causes.length === 0) causes.push('the app hash differs');
      output.info(`verification failed at version ${height}: ${causes.join('; ')}`);
    }
    output.summary({
      command: 'verify',
      height,
      verified,
      appHash: { v1: v1App, v2: v2App, match: appMatch },
      stores: rows,
      ...(keys === undefined ? {} : { keys }),
      durationMs: Math.round(performance.now() - started),
    });
    return verified ? EXIT.ok : EXIT.mismatch;
  } finally {
    await closeAll(v1db, v2db);
  }
}
