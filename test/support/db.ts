import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import type { VersionedChangeset } from '../../src/core/changeset.js';
import { scenarioChangeset } from './changesets.js';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'rxsm-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Opens a copy of a LevelDB folder (LevelDB rewrites its journal on open: never open the original). */
export async function openCopy(source: string): Promise<{ db: LevelDb; cleanup: () => Promise<void> }> {
  const dir = tempDir('rxsm-copy-');
  const target = join(dir.path, 'db');
  cpSync(source, target, { recursive: true });
  // The shared vectors are read-only; LevelDB must write its journal and lock file in the copy.
  chmodSync(target, 0o755);
  for (const file of readdirSync(target)) chmodSync(join(target, file), 0o644);
  const db = await openDb(target);
  return {
    db,
    cleanup: async () => {
      await db.close();
      dir.cleanup();
    },
  };
}

/** The backends every storage test runs against: memory-level and classic-level on disk. */
export const BACKENDS: ReadonlyArray<{ name: string; open: () => Promise<{ db: LevelDb; cleanup: () => Promise<void> }> }> = [
  {
    name: 'memory-level',
    open: async () => {
      const db = await openDb();
      return { db, cleanup: () => db.close() };
    },
  },
  {
    name: 'classic-level',
    open: async () => {
      const dir = tempDir();
      const db = await openDb(join(dir.path, 'db'));
      return {
        db,
        cleanup: async () => {
          await db.close();
          dir.cleanup();
        },
      };
    },
  },
];

/**
 * A block time that adapts to the machine: waits until the migration has applied every committed
 * version (or stopped migrating), so tests that commit until the switch do not depend on how fast
 * a loaded CI machine applies changesets.
 */
export async function blockTime(root: { phase: string; migratedVersion: number; latestVersion: number }): Promise<void> {
  for (let i = 0; i < 2000 && root.phase === 'migrating' && root.migratedVersion < root.latestVersion; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Commits scenario blocks from `from` on until the root store has switched, and one block after
 * the switch; returns the first commit failure's text, if any (the loop stops there).
 */
export async function commitPastSwitch(
  root: { phase: string; migratedVersion: number; latestVersion: number; commit(changeset: VersionedChangeset): Promise<unknown> },
  from: number,
  stores: readonly string[],
): Promise<string | undefined> {
  let commitError: string | undefined;
  for (let v = from; v <= from + 31 && commitError === undefined; v++) {
    const switched = root.phase === 'switched';
    await root.commit(scenarioChangeset(v, 8, stores)).catch((error: unknown) => void (commitError = String(error)));
    if (switched) break;
    await blockTime(root);
  }
  return commitError;
}
