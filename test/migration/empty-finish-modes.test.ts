import { from, lastValueFrom, toArray } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { restoreSnapshot } from '../../src/migration/operators/restore-snapshot.js';
import { restoreSinks } from '../../src/migration/restore-effects.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';

const STORES = ['bank', 'gov'];
const leaf = (key: string): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: utf8(`v-${key}`), version: 1, height: 0 });

describe('finish with an empty snapshot, other modes', () => {
  it('importSs false (SS already restored): the SS is not opened, the SC is imported empty', async () => {
    const db = await openDb();
    try {
      const sc = await CommitStore.open(db, { storeKeys: STORES, prefix: 'sc/' });
      const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: STORES });
      const begin = jest.spyOn(ss, 'beginRestore');
      const resume = jest.spyOn(ss, 'resumeRestore');
      const sinks = restoreSinks({ height: 1, sc, ss, source: undefined, importSs: false });
      const events = await lastValueFrom(from([] as SnapshotItem[]).pipe(restoreSnapshot(sinks), toArray()));
      expect(events.at(-1)).toMatchObject({ type: 'restored', keys: 0 });
      expect({ sc: sc.latestVersion, ss: ss.latestVersion, begin: begin.mock.calls.length, resume: resume.mock.calls.length }).toEqual({ sc: 1, ss: 0, begin: 0, resume: 0 });
    } finally {
      await db.close();
    }
  });

  it('fresh SS + SC, no items: both committed at the height', async () => {
    const db = await openDb();
    try {
      const sc = await CommitStore.open(db, { storeKeys: STORES, prefix: 'sc/' });
      const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: STORES });
      const sinks = restoreSinks({ height: 2, sc, ss, source: undefined });
      const events = await lastValueFrom(from([] as SnapshotItem[]).pipe(restoreSnapshot(sinks), toArray()));
      expect(events.at(-1)).toMatchObject({ type: 'restored', version: 2, keys: 0 });
      expect([sc.latestVersion, ss.latestVersion]).toEqual([2, 2]);
    } finally {
      await db.close();
    }
  });

  it('resumed, writer opened by a batch that skipped all it held: commits; checkpoint with 0 keys and no items: commits', async () => {
    const db = await openDb();
    try {
      const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: STORES });
      const w = await ss.beginRestore(1);
      for (const k of ['a', 'b']) w.add('bank', utf8(k), utf8(`v-${k}`));
      await w.flush();
      w.suspend();
      const resume = jest.spyOn(ss, 'resumeRestore');
      const sinks = restoreSinks({ height: 1, sc: null, ss, source: undefined, resumeSs: true, batchSize: 2 });
      const stream: SnapshotItem[] = [{ kind: 'store', name: 'bank' }, leaf('a'), leaf('b'), leaf('c')];
      const events = await lastValueFrom(from(stream).pipe(restoreSnapshot(sinks), toArray()));
      expect(events.at(-1)).toMatchObject({ type: 'restored', keys: 3 });
      expect(resume).toHaveBeenCalledTimes(1);
      expect(ss.latestVersion).toBe(1);
      expect(await ss.get('bank', 1, utf8('c'))).toEqual(utf8('v-c'));

      const db2 = await openDb();
      try {
        const ss2 = await StorageStore.open(db2, { prefix: 'ss/', storeKeys: STORES });
        (await ss2.beginRestore(1)).suspend();
        const sinks2 = restoreSinks({ height: 1, sc: null, ss: ss2, source: undefined, resumeSs: true });
        const ev2 = await lastValueFrom(from([] as SnapshotItem[]).pipe(restoreSnapshot(sinks2), toArray()));
        expect(ev2.at(-1)).toMatchObject({ type: 'restored', keys: 0 });
        expect(ss2.latestVersion).toBe(1);
      } finally {
        await db2.close();
      }
    } finally {
      await db.close();
    }
  });
});
