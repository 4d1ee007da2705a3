import { from, lastValueFrom, toArray } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { restoreSnapshot } from '../../src/migration/operators/restore-snapshot.js';
import { restoreSinks } from '../../src/migration/restore-effects.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { errorOf } from '../support/errors.js';
import { scenarioChangeset } from '../support/changesets.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { SnapshotManager } from '../../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../../src/migration/migration-manager.js';

const leaf = (key: string): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: utf8(`v-${key}`), version: 1, height: 0 });

describe('resumed SS restore fed an empty snapshot', () => {
  async function interrupted() {
    const db = await openDb();
    const ss = await StorageStore.open(db, { prefix: 'ss/' });
    const writer = await ss.beginRestore(1);
    for (const k of ['bank-a', 'bank-b', 'bank-c', 'gov-a']) writer.add(k.split('-')[0]!, utf8(k), utf8(`v-${k}`));
    await writer.flush();
    writer.suspend();
    return { db, ss };
  }

  it.each([
    ['no items at all', [] as SnapshotItem[], 'it has 0 keys, fewer than the 4 the SS already holds'],
    ['store items but no leaves', [{ kind: 'store', name: 'bank' }, { kind: 'store', name: 'gov' }] as SnapshotItem[], 'it has 0 keys, fewer than the 4 the SS already holds'],
  ])('refuses a snapshot with %s (ERR_STATE), and commits nothing', async (_name, stream, why) => {
    const { db, ss } = await interrupted();
    try {
      const sinks = restoreSinks({ height: 1, sc: null, ss, source: undefined, resumeSs: true, batchSize: 3 });
      const error = await errorOf(lastValueFrom(from(stream).pipe(restoreSnapshot(sinks), toArray())));
      expect(error.code).toBe('ERR_STATE');
      expect(error.message).toContain(why);
      expect(ss.latestVersion).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('a fresh restore of an empty snapshot still commits (an empty store/v1 is a legitimate snapshot)', async () => {
    const db = await openDb();
    try {
      const ss = await StorageStore.open(db, { prefix: 'ss/' });
      const sinks = restoreSinks({ height: 1, sc: null, ss, source: undefined, batchSize: 3 });
      const events = await lastValueFrom(from([] as SnapshotItem[]).pipe(restoreSnapshot(sinks), toArray()));
      expect(events.at(-1)).toMatchObject({ type: 'restored', version: 1, keys: 0 });
      expect(ss.latestVersion).toBe(1);
    } finally {
      await db.close();
    }
  });
});

describe('MigrationManager resuming an SS-only migration over an empty snapshot', () => {
  it('refuses it (ERR_STATE) instead of reporting restored with the earlier run\'s partial SS', async () => {
    const v1db = await openDb();
    const v2db = await openDb();
    try {
      const v1 = await LegacyStore.open(v1db, { storeKeys: ['bank', 'gov'] });
      for (let v = 1; v <= 3; v++) await v1.commit(scenarioChangeset(v, 2, ['bank', 'gov']).changeset);
      // An earlier run at height 3 made its first 4 pairs durable, then the process stopped.
      const ss = await StorageStore.open(v2db, { prefix: 'ss/' });
      const writer = await ss.beginRestore(3);
      for (const k of ['key-1-0', 'key-1-1', 'key-2-0', 'key-2-1']) writer.add('bank', utf8(k), utf8(k.replace('key', 'value')));
      await writer.flush();
      writer.suspend();
      // The restart selects no stores (a misconfiguration): the snapshot at 3 has no items.
      const none = await LegacyStore.open(v1db, { storeKeys: [] });
      const manager = new MigrationManager({ db: v1db, snapshots: new SnapshotManager(none), ss, sc: null });
      const error = await errorOf(manager.migrate(3));
      expect(error.code).toBe('ERR_STATE');
      expect(error.message).toContain('it has 0 keys, fewer than the 4 the SS already holds');
      expect(ss.latestVersion).toBe(0);
      await manager.close();
    } finally {
      await v1db.close();
      await v2db.close();
    }
  });
});
