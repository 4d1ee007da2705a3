import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { utf8 } from '../core/bytes.js';
import { openDb, type LevelDb } from '../db/level-db.js';
import { Namespace } from '../db/namespace.js';
import type { CommitInfo } from '../commitment/commit-info.js';
import { decodeCommitInfoV1, decodeCommitInfoV2 } from '../proto/commit-info.js';
import { decodeInt64Value } from '../proto/int64-value.js';
import { scLayout } from '../commitment/sc-layout.js';
import { decodeMetaVersion } from '../storage/ss-key.js';
import { readMigrationRecord, type MigrationRecord } from '../root/migration-record.js';
import { CliError } from './errors.js';
import { V2_LAYOUT } from '../root/v2-layout.js';

/** store/v1 (rootmulti) keys of `application.db`. */
const V1_LATEST = utf8('s/latest');
const v1CommitInfoKey = (version: number): Uint8Array => utf8(`s/${version}`);
/** SC keys inside its namespace. */
const SC_LATEST = utf8('c/latest');
const scCommitInfoKey = (version: number): Uint8Array => utf8(`c/${version}`);
/** SS metadata keys inside its namespace (u64 big-endian values). */
const SS_LATEST = utf8('m/latest');

/**
 * Checks that `path` is a LevelDB folder (exists, is a folder, has `CURRENT`) before anything
 * opens it: opening creates a database where there is none, which must never happen to an input.
 */
export function requireLevelDbFolder(path: string, what: string): string {
  const full = resolve(path);
  if (!existsSync(full)) throw new CliError(`${what} ${path} does not exist`);
  if (!statSync(full).isDirectory()) throw new CliError(`${what} ${path} is not a folder`);
  if (!existsSync(resolve(full, 'CURRENT'))) throw new CliError(`${what} ${path} is not a LevelDB database (no CURRENT file in the folder)`);
  return full;
}

/** Opens an existing LevelDB folder (see {@link requireLevelDbFolder}); a locked one is a one-line error. */
export async function openExisting(path: string, what: string): Promise<LevelDb> {
  return openDb(requireLevelDbFolder(path, what));
}

/** True when `path` is missing or an empty folder. */
export function isEmptyOrMissing(path: string): boolean {
  if (!existsSync(path)) return true;
  return statSync(path).isDirectory() && readdirSync(path).length === 0;
}

/** What a database holds, judged by its metadata keys. */
export type DbKind = 'store/v1' | 'store/v2' | 'unknown';

/** store/v1 if it has `s/latest`; store/v2 if it has a migration record, `sc/c/latest` or `ss/m/latest`. */
export async function detectKind(db: LevelDb): Promise<DbKind> {
  if ((await db.get(V1_LATEST)) !== undefined) return 'store/v1';
  for (const key of [`${V2_LAYOUT.root}migration`, `${V2_LAYOUT.sc}c/latest`, `${V2_LAYOUT.ss}m/latest`]) {
    if ((await db.get(utf8(key))) !== undefined) return 'store/v2';
  }
  return 'unknown';
}

/** The latest version and its CommitInfo of a store/v1 `application.db`. */
export interface V1Head {
  readonly latest: number;
  readonly commitInfo: CommitInfo;
}

/** Reads `s/latest` and `s/<latest>`; anything else than a store/v1 database is a one-line error. */
export async function readV1Head(db: LevelDb, path: string): Promise<V1Head> {
  const latestBytes = await db.get(V1_LATEST);
  if (latestBytes === undefined) {
    const kind = await detectKind(db);
    const what = kind === 'store/v2' ? 'it is a store/v2 database' : 'no s/latest key';
    throw new CliError(`${path} is not a store/v1 application.db (${what})`);
  }
  const latest = decodeInt64Value(latestBytes);
  if (latest === 0) throw new CliError(`${path} is an empty store/v1 application.db (latest version 0)`);
  const commitInfo = await readV1CommitInfo(db, latest);
  if (commitInfo === undefined) throw new CliError(`${path} has s/latest = ${latest} but no commit info s/${latest}`);
  return { latest, commitInfo };
}

/** The store/v1 CommitInfo of `version`, if stored. */
export async function readV1CommitInfo(db: LevelDb, version: number): Promise<CommitInfo | undefined> {
  const bytes = await db.get(v1CommitInfoKey(version));
  return bytes === undefined ? undefined : decodeCommitInfoV1(bytes);
}

/** Store keys of a store/v1 database: the stores of its latest CommitInfo, sorted. */
export function storeKeysOf(info: CommitInfo): string[] {
  return info.storeInfos.map((s) => s.name).sort();
}

/** What a store/v2 database (root store layout) says about itself without opening the stores. */
export interface V2Head {
  readonly record: MigrationRecord | undefined;
  /** SC latest version (0 when there is no SC). */
  readonly scLatest: number;
  readonly scCommitInfo: CommitInfo | undefined;
  /** SS latest version (0 when empty). */
  readonly ssLatest: number;
}

/** Reads the migration record, the SC's latest CommitInfo and the SS latest version. */
export async function readV2Head(db: LevelDb): Promise<V2Head> {
  const record = await readMigrationRecord(new Namespace(db, utf8(V2_LAYOUT.root)));
  const sc = new Namespace(db, utf8(V2_LAYOUT.sc));
  const latestBytes = await sc.get(SC_LATEST);
  const scLatest = latestBytes === undefined ? 0 : scLayout.decodeLatest(latestBytes);
  const infoBytes = scLatest === 0 ? undefined : await sc.get(scCommitInfoKey(scLatest));
  const ssBytes = await new Namespace(db, utf8(V2_LAYOUT.ss)).get(SS_LATEST);
  return {
    record,
    scLatest,
    scCommitInfo: infoBytes === undefined ? undefined : decodeCommitInfoV2(infoBytes),
    ssLatest: ssBytes === undefined ? 0 : decodeMetaVersion(ssBytes, 'latest version'),
  };
}

/** The migration record as text for people. */
export function describeRecord(record: MigrationRecord | undefined): string {
  if (record === undefined) return 'none';
  switch (record.status) {
    case 'switched':
      return `switched (snapshot height ${record.height}, store/v2 from version ${record.switchedAt})`;
    case 'migrating':
      return `migrating (height ${record.height}${record.stores ? ` of stores ${record.stores.join(', ')}` : ''}, unfinished)`;
    case 'abandoned':
      return `abandoned (height ${record.height}; the partial store/v2 is wiped before the next migration)`;
  }
}

/** Safely closes databases, ignoring close errors (used on the way out of a failure). */
export async function closeAll(...dbs: (LevelDb | undefined)[]): Promise<void> {
  await Promise.all(dbs.map((db) => db?.close().catch(() => undefined)));
}
