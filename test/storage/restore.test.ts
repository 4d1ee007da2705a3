import { from, lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import type { BatchReader } from '../../src/core/batch-reader.js';
import type { LevelDb } from '../../src/db/level-db.js';
import type { RestorePair } from '../../src/storage/ss-restore.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { BACKENDS } from '../support/db.js';
import { b, cs, drain, dump, errorOf, set } from './ss-support.js';
import { spyOnBatches } from '../support/batch-spy.js';

const pairs = (n: number, storeKey = 'bank'): RestorePair[] =>
  Array.from({ length: n }, (_, i) => ({ storeKey, key: b(`key-${String(i).padStart(4, '0')}`), value: b(`value-${i}`) }));
const bytesOf = (list: RestorePair[]): number => list.reduce((sum, p) => sum + p.key.length + p.value.length, 0);

/** A pull-based source that records how far ahead of the writer it was read. */
function batchSource(list: RestorePair[]): BatchReader<RestorePair> & { reads: number; closed: boolean } {
  let offset = 0;
  const source = {
    reads: 0,
    closed: false,
    read: async (max: number) => {
      source.reads++;
      const batch = list.slice(offset, offset + max);
      offset += batch.length;
      return batch;
    },
    close: async () => {
      source.closed = true;
    },
  };
  return source;
}

describe.each(BACKENDS)('StorageStore restore on $name', ({ open }) => {
  let db: LevelDb;
  let cleanup: () => Promise<void>;
  let ss: StorageStore;
  beforeEach(async () => {
    ({ db, cleanup } = await open());
    ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: ['bank', 'acc'] });
  });
  afterEach(async () => cleanup());

  it('writer: buffers, flushes fresh batches, commits latest = earliest = H atomically', async () => {
    const spy = spyOnBatches(db);
    const writer = await ss.beginRestore(100, { flushBytes: 200 });
    expect(ss.pendingRestoreVersion).toBe(100);
    const list = pairs(50);
    for (const p of list) {
      writer.add(p.storeKey, p.key, p.value);
      if (writer.needsFlush) {
        expect(writer.bufferedBytes).toBeGreaterThanOrEqual(200);
        await writer.flush();
        expect(writer.bufferedBytes).toBe(0);
      }
    }
    writer.add('acc', b('k'), new Uint8Array(0));
    // Flushed but not committed: nothing readable, latest still 0.
    expect(ss.latestVersion).toBe(0);
    expect(await ss.get('bank', 100, list[0]!.key)).toBeUndefined();
    const flushed = writer.progress;
    expect(flushed.keys).toBeGreaterThan(0);
    expect(flushed.keys).toBeLessThan(51);
    await writer.commit();
    expect(writer.progress).toEqual({ keys: 51, bytes: bytesOf(list) + 1 });
    expect(ss.latestVersion).toBe(100);
    expect(ss.earliestVersion).toBe(100);
    expect(ss.pendingRestoreVersion).toBeUndefined();
    // beginRestore's marker, several flushes (each with its checkpoint), then the commit batch
    // with the metadata (latest, earliest, marker and checkpoint removal).
    const batches = spy.calls.map((ops) => ops.length);
    expect(batches.length).toBeGreaterThan(3);
    const flushes = batches.length - 2;
    expect(batches.slice(1).reduce((a, c) => a + c, 0)).toBe(51 + flushes + 4);
    expect(await drain(ss.iterator('bank', 100), 100)).toHaveLength(50);
    expect(await ss.get('acc', 100, b('k'))).toEqual(new Uint8Array(0));
    // The store never held versions below H: reading one is an error, not a wrong "absent".
    const below = await errorOf(ss.get('bank', 99, list[0]!.key));
    expect(below.code).toBe('ERR_VERSION_PRUNED');
    const reopened = await StorageStore.open(db, { prefix: 'ss/' });
    expect([reopened.latestVersion, reopened.earliestVersion, reopened.pendingRestoreVersion]).toEqual([100, 100, undefined]);
    // Catch-up continues at H + 1.
    await ss.applyChangeset(101, cs(['bank', [set('key-0000', 'changed')]]));
    expect(await ss.get('bank', 101, b('key-0000'))).toEqual(b('changed'));
    expect(await ss.get('bank', 100, b('key-0000'))).toEqual(b('value-0'));
  });

  it('writer: rejects version ≤ latest with the behaviour-19 message', async () => {
    await ss.applyChangeset(7, cs());
    for (const version of [7, 3]) {
      const error = await errorOf(ss.beginRestore(version));
      expect(error.code).toBe('ERR_NOT_GREATER');
      expect(error.message).toBe(`snapshot version ${version} is not greater than latest version 7`);
    }
    // An empty store with latest 7 may be restored above it.
    const writer = await ss.beginRestore(8);
    await writer.commit();
    expect(ss.latestVersion).toBe(8);
  });

  it('writer: rejects a target that holds data, and an interrupted restore until clear()', async () => {
    await ss.applyChangeset(1, cs(['bank', [set('k', 'v')]]));
    expect((await errorOf(ss.beginRestore(5))).code).toBe('ERR_IMPORT_NOT_EMPTY');
    await ss.clear();
    const writer = await ss.beginRestore(5);
    writer.add('bank', b('k'), b('v'));
    await writer.flush();
    // The process "stops" here: a new store on the same db sees the unfinished restore.
    const restarted = await StorageStore.open(db, { prefix: 'ss/' });
    expect(restarted.pendingRestoreVersion).toBe(5);
    expect(restarted.latestVersion).toBe(0);
    const error = await errorOf(restarted.beginRestore(5));
    expect(error.code).toBe('ERR_IMPORT_NOT_EMPTY');
    expect(error.message).toMatch(/interrupted restore to version 5.*clear\(\)/);
    expect((await errorOf(restarted.applyChangeset(6, cs()))).code).toBe('ERR_STATE');
    await restarted.clear();
    expect(restarted.pendingRestoreVersion).toBeUndefined();
    expect((await dump(db)).filter(([k]) => k.startsWith(Buffer.from('ss/').toString('hex')))).toEqual([]);
    const again = await restarted.beginRestore(5);
    await again.commit();
    expect(restarted.latestVersion).toBe(5);
  });

  it('writer: unknown stores and missing values are typed errors, nothing buffered', async () => {
    const writer = await ss.beginRestore(3);
    expect((await errorOf(() => writer.add('nope', b('k'), b('v')))).code).toBe('ERR_UNKNOWN_STORE');
    const noValue = await errorOf(() => writer.add('bank', b('k'), undefined as unknown as Uint8Array));
    expect(noValue.code).toBe('ERR_INVALID_ARGUMENT');
    expect(noValue.message).toBe('restore to version 3: key 6b in store bank has no value');
    expect(writer.bufferedBytes).toBe(0);
    await writer.abort();
    await writer.abort();
    expect(await dump(db)).toEqual([]);
  });

  it('Observable form: progress after each flush and after the commit, then completes', async () => {
    const list = [...pairs(300), ...pairs(20, 'acc')];
    const events = await lastValueFrom(ss.restore(42, from(list), { flushBytes: 1024 }).pipe(toArray()));
    // `from` pushes synchronously: the first flush starts at the threshold and everything pushed
    // meanwhile waits in the buffer for the next one (an Observable has no backpressure).
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < events.length; i++) expect(events[i]!.keys).toBeGreaterThanOrEqual(events[i - 1]!.keys);
    expect(events[0]!.keys).toBeGreaterThan(0);
    expect(events.at(-1)).toEqual({ keys: 320, bytes: bytesOf(list) });
    expect(Object.isFrozen(events[0])).toBe(true);
    expect(ss.latestVersion).toBe(42);
    expect(await drain(ss.iterator('bank', 42), 1000)).toHaveLength(300);
    expect(await drain(ss.reverseIterator('acc', 42), 1000)).toHaveLength(20);
  });

  it('Observable form over a BatchReader: pulls the next batch only after writing the previous', async () => {
    const list = pairs(500);
    const source = batchSource(list);
    const events = await lastValueFrom(ss.restore(9, source, { flushBytes: 512, readBatch: 50 }).pipe(toArray()));
    expect(source.reads).toBe(11);
    expect(source.closed).toBe(true);
    expect(events.at(-1)).toEqual({ keys: 500, bytes: bytesOf(list) });
    expect(ss.latestVersion).toBe(9);
    expect(await ss.get('bank', 9, list[499]!.key)).toEqual(list[499]!.value);
  });

  it('Observable form: is cold, and rejects version ≤ latest as an error notification', async () => {
    await ss.applyChangeset(5, cs());
    const restore$ = ss.restore(5, from(pairs(3)));
    expect(ss.pendingRestoreVersion).toBeUndefined();
    const error = await errorOf(lastValueFrom(restore$));
    expect(error.code).toBe('ERR_NOT_GREATER');
    expect(error.message).toBe('snapshot version 5 is not greater than latest version 5');
    const source = batchSource(pairs(3));
    expect((await errorOf(lastValueFrom(ss.restore(4, source)))).code).toBe('ERR_NOT_GREATER');
    expect(source.closed).toBe(true);
  });

  it('Observable form: a source error or a bad pair wipes the partial restore', async () => {
    const failing = new Observable<RestorePair>((subscriber) => {
      for (const p of pairs(100)) subscriber.next(p);
      setTimeout(() => subscriber.error(new Error('exporter failed')), 10);
    });
    const seen: unknown[] = [];
    const error = await lastValueFrom(ss.restore(3, failing, { flushBytes: 256 }).pipe(toArray())).catch((e: unknown) => e);
    expect((error as Error).message).toBe('exporter failed');
    expect(ss.latestVersion).toBe(0);
    expect(ss.pendingRestoreVersion).toBeUndefined();
    expect(await dump(db)).toEqual([]);
    seen.push(error);

    const bad = await errorOf(lastValueFrom(ss.restore(3, from([...pairs(10), { storeKey: 'nope', key: b('k'), value: b('v') }]))));
    expect(bad.code).toBe('ERR_UNKNOWN_STORE');
    expect(await dump(db)).toEqual([]);
    // The store is usable for a new restore right away.
    await lastValueFrom(ss.restore(3, from(pairs(2))));
    expect(ss.latestVersion).toBe(3);
  });

  it('Observable form: unsubscribing before completion aborts and wipes', async () => {
    const source = new Subject<RestorePair>();
    const events: unknown[] = [];
    const subscription = ss.restore(3, source, { flushBytes: 128 }).subscribe({ next: (e) => events.push(e) });
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const p of pairs(50)) source.next(p);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.length).toBeGreaterThan(0);
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    // The wipe runs in the background; a clean store appears once it is done.
    for (let i = 0; i < 100 && ss.pendingRestoreVersion !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ss.pendingRestoreVersion).toBeUndefined();
    expect(await dump(db)).toEqual([]);
    expect(ss.latestVersion).toBe(0);
  });
});

describe('StorageStore restore resume after a crash', () => {
  it('a reopened store resumes from the last durable flush and finishes with every pair', async () => {
    const { openDb } = await import('../../src/db/level-db.js');
    const { StorageStore } = await import('../../src/storage/storage-store.js');
    const db = await openDb();
    try {
      const first = await StorageStore.open(db, { storeKeys: ['bank'] });
      const writer = await first.beginRestore(10, { flushBytes: 200 });
      const key = (i: number) => new TextEncoder().encode(`key-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < 30; i++) {
        writer.add('bank', key(i), new TextEncoder().encode(`v${i}`));
        if (writer.needsFlush) await writer.flush();
      }
      const durable = writer.progress.keys;
      expect(durable).toBeGreaterThan(0);
      // "Crash": the writer is dropped; a new process opens the same database.
      const second = await StorageStore.open(db, { storeKeys: ['bank'] });
      expect(second.pendingRestoreVersion).toBe(10);
      expect(await second.restoreCheckpoint()).toBe(durable);
      await expect(second.beginRestore(10)).rejects.toMatchObject({ code: 'ERR_IMPORT_NOT_EMPTY' });
      const resumed = await second.resumeRestore(10);
      expect(resumed.resumedKeys).toBe(durable);
      for (let i = durable; i < 40; i++) resumed.add('bank', key(i), new TextEncoder().encode(`v${i}`));
      await resumed.commit();
      expect(second.latestVersion).toBe(10);
      expect(await second.restoreCheckpoint()).toBe(0);
      for (let i = 0; i < 40; i++) expect(await second.get('bank', 10, key(i))).toEqual(new TextEncoder().encode(`v${i}`));
      await expect(second.resumeRestore(10)).rejects.toMatchObject({ code: 'ERR_STATE' });
    } finally {
      await db.close();
    }
  });
});
