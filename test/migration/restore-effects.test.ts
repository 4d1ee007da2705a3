import { from, lastValueFrom, toArray } from 'rxjs';
import { utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { restoreSnapshot } from '../../src/migration/operators/restore-snapshot.js';
import { restoreSinks } from '../../src/migration/restore-effects.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { errorOf } from '../support/errors.js';

/**
 * The restore's checks of the snapshot hold with and without an SC (behaviour 17): an SS-only
 * migration has no importer to refuse a bad tree, so the restore itself refuses it.
 */
const leaf = (key: string): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: utf8(`v-${key}`), version: 1, height: 0 });
const inner = (key: string, height: number): SnapshotItem => ({ kind: 'iavl', key: utf8(key), value: new Uint8Array(0), version: 1, height });

describe.each([
  ['with an SC', true],
  ['SS only', false],
])('restoreSinks + restoreSnapshot (%s)', (_name, withSc) => {
  async function restore(stream: SnapshotItem[]) {
    const db = await openDb();
    const sc = withSc ? await CommitStore.open(db, { storeKeys: ['bank'], prefix: 'sc/' }) : null;
    const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: ['bank'] });
    const sinks = restoreSinks({ height: 1, sc, ss, source: undefined, batchSize: 2 });
    const error = await errorOf(lastValueFrom(from(stream).pipe(restoreSnapshot(sinks), toArray())));
    const latest = { sc: sc?.latestVersion ?? null, ss: ss.latestVersion };
    await db.close();
    return { error, latest };
  }

  it('refuses a node height above 127, naming the item and the store; nothing is recorded', async () => {
    const { error, latest } = await restore([{ kind: 'store', name: 'bank' }, leaf('a'), leaf('b'), inner('b', 200)]);
    expect(error.code).toBe('ERR_IMPORT_HEIGHT');
    expect(error.message).toBe('snapshot item 4 (store bank): height 200 is outside 0..127');
    expect(latest).toEqual({ sc: withSc ? 0 : null, ss: 0 });
  });

  it('refuses a store the targets do not hold, even one without leaves', async () => {
    const { error, latest } = await restore([{ kind: 'store', name: 'bank' }, leaf('a'), { kind: 'store', name: 'gov' }, inner('x', 3)]);
    expect(error.code).toBe('ERR_UNKNOWN_STORE');
    expect(error.message).toBe('store gov not found (known stores: bank)');
    expect(latest).toEqual({ sc: withSc ? 0 : null, ss: 0 });
  });
});

describe('restoreSinks resuming an interrupted SS restore', () => {
  const stream = (stores: string[]): SnapshotItem[] =>
    stores.flatMap((name) => [{ kind: 'store', name } as SnapshotItem, ...['a', 'b', 'c'].map((k) => leaf(`${name}-${k}`))]);

  /** An SS whose restore at height 1 was interrupted after its first 4 pairs (bank a..c, gov a). */
  async function interrupted() {
    const db = await openDb();
    const ss = await StorageStore.open(db, { prefix: 'ss/' });
    const writer = await ss.beginRestore(1);
    for (const item of stream(['bank', 'gov']).filter((i) => i.kind === 'iavl').slice(0, 4)) {
      const name = Buffer.from(item.key).toString().split('-')[0]!;
      writer.add(name, item.key, item.value);
    }
    await writer.flush();
    writer.suspend();
    return { db, ss };
  }

  it('continues after the pairs the checkpoint holds when the snapshot is the same', async () => {
    const { db, ss } = await interrupted();
    try {
      expect(await ss.restoreCheckpoint()).toBe(4);
      const sinks = restoreSinks({ height: 1, sc: null, ss, source: undefined, resumeSs: true, batchSize: 3 });
      await lastValueFrom(from(stream(['bank', 'gov'])).pipe(restoreSnapshot(sinks), toArray()));
      expect(ss.latestVersion).toBe(1);
      for (const key of ['bank-a', 'bank-c', 'gov-a', 'gov-c']) expect(await ss.get(key.split('-')[0]!, 1, utf8(key))).toEqual(utf8(`v-${key}`));
    } finally {
      await db.close();
    }
  });

  it.each([
    ['other stores', ['gov', 'staking'], 'its leaf 4 is staking/7374616b696e672d61, the checkpoint recorded gov/676f762d61'],
    ['fewer keys', ['bank'], 'it has 3 keys, fewer than the 4 the SS already holds'],
  ])('refuses a snapshot with %s (ERR_STATE), and records nothing', async (_name, stores, why) => {
    const { db, ss } = await interrupted();
    try {
      const sinks = restoreSinks({ height: 1, sc: null, ss, source: undefined, resumeSs: true, batchSize: 3 });
      const error = await errorOf(lastValueFrom(from(stream(stores)).pipe(restoreSnapshot(sinks), toArray())));
      expect(error.code).toBe('ERR_STATE');
      expect(error.message).toBe(
        `cannot resume the SS restore at height 1: the snapshot is not the one it began with (${why}; were other stores selected?); clear the SS and restore again`,
      );
      expect(ss.latestVersion).toBe(0);
    } finally {
      await db.close();
    }
  });
});
