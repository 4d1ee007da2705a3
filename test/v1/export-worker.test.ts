import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { changesetFromPairs, type ChangesetEntry } from '../../src/core/changeset.js';
import { concatBytes, utf8 } from '../../src/core/bytes.js';
import type { BatchReader } from '../../src/core/batch-reader.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { packSnapshotItems, unpackSnapshotItems } from '../../src/v1/snapshot-batch-codec.js';
import { WorkerSnapshotReader } from '../../src/v1/worker-snapshot-reader.js';
import { randomHistory } from '../support/changesets.js';
import { errorOf, caughtStoreError } from '../support/errors.js';
import { tempDir } from '../support/db.js';

const STORES = ['acc', 'bank', 'staking'];

async function readAll(reader: BatchReader<SnapshotItem>, sizes: readonly number[] = [64]): Promise<SnapshotItem[]> {
  const out: SnapshotItem[] = [];
  for (let i = 0; ; i++) {
    const batch = await reader.read(sizes[i % sizes.length]!);
    if (batch.length === 0) break;
    expect(batch.length).toBeLessThanOrEqual(sizes[i % sizes.length]!);
    out.push(...batch);
  }
  await reader.close();
  return out;
}

/** Items with their bytes copied out of whatever buffer they view, for comparisons. */
function plain(items: readonly SnapshotItem[]): unknown[] {
  return items.map((item) =>
    item.kind === 'iavl' ? { ...item, key: Buffer.from(item.key).toString('hex'), value: Buffer.from(item.value).toString('hex') } : item,
  );
}

describe('packed snapshot batches', () => {
  const items: SnapshotItem[] = [
    { kind: 'store', name: 'bänk' },
    { kind: 'iavl', key: utf8('a'), value: utf8('1'), version: 7, height: 0 },
    { kind: 'iavl', key: utf8('b'), value: new Uint8Array(0), version: 2 ** 40, height: 3 },
    { kind: 'store', name: '' },
  ];

  it('round-trip store and IAVL items, keys and values as views into the one buffer', () => {
    const buffer = packSnapshotItems(items);
    const back = unpackSnapshotItems(buffer);
    expect(plain(back)).toEqual(plain(items));
    const leaf = back[1] as Extract<SnapshotItem, { kind: 'iavl' }>;
    expect(leaf.key.buffer).toBe(buffer);
    expect(unpackSnapshotItems(packSnapshotItems([]))).toEqual([]);
  });

  it('refuse extension items, truncated buffers, trailing bytes and unknown kinds, naming the offset', () => {
    expect(caughtStoreError(() => packSnapshotItems([{ kind: 'extension', name: 'x', format: 1 }])).code).toBe('ERR_INVALID_ARGUMENT');
    const buffer = packSnapshotItems(items);
    const truncated = caughtStoreError(() => unpackSnapshotItems(buffer.slice(0, buffer.byteLength - 1)));
    expect(truncated.code).toBe('ERR_TRUNCATED');
    expect(truncated.message).toMatch(/ends inside an item at offset \d+/);
    const longer = new Uint8Array(buffer.byteLength + 2);
    longer.set(new Uint8Array(buffer));
    expect(caughtStoreError(() => unpackSnapshotItems(longer.buffer)).code).toBe('ERR_TRAILING_BYTES');
    expect(caughtStoreError(() => unpackSnapshotItems(new ArrayBuffer(2))).code).toBe('ERR_TRUNCATED');
    // A store item whose name length runs past the end.
    const name = new Uint8Array(packSnapshotItems([{ kind: 'store', name: 'bank' }]));
    new DataView(name.buffer).setUint32(5, 5);
    expect(caughtStoreError(() => unpackSnapshotItems(name.buffer)).message).toBe('packed snapshot batch of 13 bytes ends inside an item at offset 9');
    const bad = new Uint8Array(buffer.slice(0));
    bad[4] = 9;
    const unknown = caughtStoreError(() => unpackSnapshotItems(bad.buffer));
    expect(unknown.message).toBe('packed snapshot batch has an item of unknown kind 9 at offset 4');
  });
});

describe('store/v1 snapshots read by a worker thread', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: LevelDb;
  let v1: LegacyStore;

  beforeEach(async () => {
    dir = tempDir('rxsm-export-worker-');
    db = await openDb(join(dir.path, 'application.db'));
    v1 = await LegacyStore.open(db, { storeKeys: STORES });
    // 'staking' stays empty: its store item is followed by no nodes.
    for (const { changeset } of randomHistory(11, 12, ['acc', 'bank'], 40)) await v1.commit(changeset);
  });

  afterEach(async () => {
    await db.close();
    dir.cleanup();
  });

  it('give exactly the items of the same snapshot read on this thread, whatever the batch sizes', async () => {
    const onThread = await LegacyStore.open(db, { storeKeys: STORES, exportWorker: false });
    for (const version of [12, 5]) {
      const expected = plain(await readAll(await onThread.snapshotReader(version)));
      expect(expected.filter((item) => (item as SnapshotItem).kind === 'iavl').length).toBeGreaterThan(100);
      const reader = await v1.snapshotReader(version);
      expect(reader).toBeInstanceOf(WorkerSnapshotReader);
      expect(plain(await readAll(reader, [7, 1, 100, 3]))).toEqual(expected);
    }
  });

  it('pin the version on this thread until closed, also when closed before the end', async () => {
    const reader = await v1.snapshotReader(3);
    expect((await reader.read(5)).length).toBe(5);
    expect((await errorOf(v1.prune(3))).code).toBe('ERR_VERSION_PINNED');
    await reader.close();
    await reader.close();
    expect(await reader.read(5)).toEqual([]);
    await v1.prune(3);
    expect(await v1.earliestVersion()).toBe(4);
  });

  it('are closed first when their database is closed, so the worker ends before LevelDB does', async () => {
    const reader = await v1.snapshotReader(12);
    expect(reader).toBeInstanceOf(WorkerSnapshotReader);
    expect((await reader.read(10)).length).toBe(10);
    const close = jest.spyOn(reader, 'close');
    await db.close();
    expect(close).toHaveBeenCalled();
    await expect(close.mock.results[0]!.value).resolves.toBeUndefined();
    // Not the end of the snapshot: a consumer must not take it for a complete one.
    const failure = await errorOf(reader.read(10));
    expect(failure.code).toBe('ERR_CLOSED');
    expect(failure.message).toBe('the database of this snapshot was closed before the snapshot was read');
  });

  it('serve reads called without waiting in call order, and a read under way when closed gives nothing more', async () => {
    const onThread = await LegacyStore.open(db, { storeKeys: STORES, exportWorker: false });
    const expected = plain(await readAll(await onThread.snapshotReader(12))).slice(0, 15);
    const reader = await v1.snapshotReader(12);
    const three = await Promise.all([reader.read(5), reader.read(5), reader.read(5)]);
    expect(plain(three.flat())).toEqual(expected);
    const underWay = reader.read(10);
    const closing = reader.close();
    expect(await underWay).toEqual([]);
    await closing;
    expect(await reader.read(10)).toEqual([]);
  });

  it('fail, not hang, when the worker dies under a read, and keep failing', async () => {
    const reader = await v1.snapshotReader(12);
    expect((await reader.read(10)).length).toBe(10);
    // A crash of the worker thread, as an out-of-memory kill would end it.
    await (reader as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const failure = await errorOf(readAll(reader, [1000]));
    expect(failure.code).toBe('ERR_IO');
    expect(failure.message).toMatch(/^snapshot export worker exited \(code 1\) before the snapshot was read$/);
    expect((await errorOf(reader.read(10))).code).toBe('ERR_IO');
    await reader.close();
  });

  it('fail with the typed error of the worker (a missing node, named), on this read and every later one', async () => {
    // A fresh tree of one version: every node of version 1 is part of it.
    const single = tempDir('rxsm-export-worker-missing-');
    const sdb = await openDb(join(single.path, 'application.db'));
    try {
      const store = await LegacyStore.open(sdb, { storeKeys: ['bank'] });
      const entries: ChangesetEntry[] = [];
      for (let i = 0; i < 50; i++) entries.push(['bank', utf8(`k${i}`), utf8(`v${i}`)]);
      await store.commit(changesetFromPairs(1, entries).changeset);
      const nodeKey = new Uint8Array(13);
      nodeKey[0] = 0x73;
      new DataView(nodeKey.buffer).setBigUint64(1, 1n);
      new DataView(nodeKey.buffer).setUint32(9, 30);
      await sdb.del(concatBytes(utf8('s/k:bank/'), nodeKey));
      const reader = await store.snapshotReader(1);
      expect(reader).toBeInstanceOf(WorkerSnapshotReader);
      const failure = await errorOf(readAll(reader, [1000]));
      expect(failure.code).toBe('ERR_NODE_MISSING');
      expect(failure.message).toBe('node s(1, 30) of the tree at "s/k:bank/" is missing from the database');
      expect(failure.details).toEqual({ node: 's(1, 30)', tree: '"s/k:bank/"' });
      expect((await errorOf(reader.read(10))).code).toBe('ERR_NODE_MISSING');
      await reader.close();
    } finally {
      await sdb.close();
      single.cleanup();
    }
  });

  it('fall back to this thread with a process warning when the worker cannot open the database', async () => {
    const other = tempDir('rxsm-export-worker-unshared-');
    // Opened without sharing: the worker's open fails on LevelDB's lock.
    const unshared = new ClassicLevel<Uint8Array, Uint8Array>(join(other.path, 'db'), { keyEncoding: 'view', valueEncoding: 'view' });
    await unshared.open();
    // Jest's sandboxed `process` does not relay the event: watch the call itself.
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const guard: BatchReader<SnapshotItem> = { read: async () => [], close: async () => undefined };
      const started = await WorkerSnapshotReader.start({ db: unshared as unknown as LevelDb, location: unshared.location, trees: [], version: 1, guard });
      expect(started).toBeUndefined();
      expect(emitWarning).toHaveBeenCalledTimes(1);
      expect(emitWarning.mock.calls[0]![0]).toMatch(/^the store\/v1 snapshot export runs on the main thread: its worker thread could not start \(.*lock/);
      expect(emitWarning.mock.calls[0]![1]).toEqual({ code: 'RXSM_EXPORT_WORKER' });
    } finally {
      emitWarning.mockRestore();
      await unshared.close();
      other.cleanup();
    }
  });

  it('fall back to this thread when the worker\'s module cannot be loaded', async () => {
    const dir = tempDir('rxsm-export-worker-module-');
    const db = await openDb(join(dir.path, 'db'));
    // The sources run as CommonJS here: the reader looks exportWorkerUrl up on this module object.
    const urls = require('../../src/v1/export-worker-url.js') as { exportWorkerUrl: () => URL };
    const url = jest.spyOn(urls, 'exportWorkerUrl').mockReturnValue(new URL('file:///nonexistent/rxsm/export-worker.js'));
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const guard: BatchReader<SnapshotItem> = { read: async () => [], close: async () => undefined };
      const started = await WorkerSnapshotReader.start({ db, location: join(dir.path, 'db'), trees: [], version: 1, guard });
      expect(url).toHaveBeenCalledTimes(1);
      expect(started).toBeUndefined();
    } finally {
      emitWarning.mockRestore();
      url.mockRestore();
      await db.close();
      dir.cleanup();
    }
  });

  it('read on this thread for an in-memory database or when turned off', async () => {
    const memory = await openDb();
    try {
      const store = await LegacyStore.open(memory, { storeKeys: STORES });
      for (const { changeset } of randomHistory(3, 2, STORES)) await store.commit(changeset);
      expect(await store.snapshotReader(2)).not.toBeInstanceOf(WorkerSnapshotReader);
    } finally {
      await memory.close();
    }
    const off = await LegacyStore.open(db, { storeKeys: STORES, exportWorker: false });
    const reader = await off.snapshotReader(12);
    expect(reader).not.toBeInstanceOf(WorkerSnapshotReader);
    await reader.close();
  });
});
