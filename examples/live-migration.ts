/**
 * The README's library example, type-checked with the rest of the project and run by
 * `test/examples.test.ts` (`npx jest test/examples`): a chain keeps committing to a RootStore
 * while it migrates to store/v2 in the background, then reads from store/v2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { changesetFromPairs, openDb, RootStore, toHex, utf8, type ChangesetEntry, type RootStoreEvent, type VersionedChangeset } from '../src/index.js';

export async function liveMigration(blocksBefore = 20, keysPerBlock = 50): Promise<{ switchedAt: number; value: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rxsm-example-'));
  const v1db = await openDb(join(dir, 'application.db')); // store/v1: what the node has today
  const v2db = await openDb(join(dir, 'v2.db')); // store/v2: SC + SS, filled by the migration
  const storeKeys = ['bank', 'staking'];
  const block = (version: number): VersionedChangeset => {
    const entries: ChangesetEntry[] = [];
    for (let i = 0; i < keysPerBlock; i++) entries.push([storeKeys[i % 2]!, utf8(`k${version}-${i}`), utf8(`v${version}`)]);
    return changesetFromPairs(version, entries);
  };
  try {
    // A chain that ran on store/v1 for a while.
    let root = await RootStore.open({ v1: { db: v1db, storeKeys }, v2: { db: v2db } });
    for (let v = 1; v <= blocksBefore; v++) await root.commit(block(v));
    await root.close();

    // Restart with migration on: loading the version starts it in the background, exactly once.
    root = await RootStore.open({ v1: { db: v1db, storeKeys }, v2: { db: v2db }, migrate: true });
    let switchedAt = 0;
    const events = root.events$.subscribe((event: RootStoreEvent) => {
      if (event.type === 'switched') switchedAt = event.version;
      if (event.type === 'migrationFailed') console.error('migration failed, store/v1 keeps serving:', event.error);
    });
    await root.loadVersion();
    // Blocks keep coming; each returns the app hash (the same store/v1 would have returned).
    while (root.phase !== 'switched') {
      const appHash = await root.commit(block(root.latestVersion + 1));
      console.log(`block ${root.latestVersion} (${root.phase}): app hash ${toHex(appHash).slice(0, 16)}…`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Served by store/v2 now (SS for values, the new SC for proofs).
    const answer = await root.query('bank', utf8('k3-0'), { prove: true });
    events.unsubscribe();
    await root.close();
    return { switchedAt, value: new TextDecoder().decode(answer.value) };
  } finally {
    await v1db.close();
    await v2db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
