import { lastValueFrom, toArray } from 'rxjs';
import { fromBatchReader } from '../../src/core/batch-reader.js';
import { concatBytes, fromHex, toHex } from '../../src/core/bytes.js';
import type { LevelDb } from '../../src/db/level-db.js';
import { StorageStore, type StorageStoreOptions } from '../../src/storage/storage-store.js';
import { BACKENDS } from '../support/db.js';
import { b, countReads, cs, del, drain, dump, errorOf, set } from './ss-support.js';

const hex = (text: string): string => toHex(b(text));

describe.each(BACKENDS)('StorageStore conformance on $name', ({ open }) => {
  let db: LevelDb;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ db, cleanup } = await open());
  });
  afterEach(async () => cleanup());

  const store = (options: StorageStoreOptions = { storeKeys: ['bank', 'acc'] }) => StorageStore.open(db, options);

  it('starts empty', async () => {
    const ss = await store();
    expect(ss.latestVersion).toBe(0);
    expect(ss.earliestVersion).toBe(0);
    expect(await ss.get('bank', 0, b('k'))).toBeUndefined();
    expect(await ss.get('bank', 100, b('k'))).toBeUndefined();
    expect(await drain(ss.iterator('bank', 5))).toEqual([]);
    expect(await drain(ss.reverseIterator('bank', 5))).toEqual([]);
  });

  it('reads the newest value at or below a version and honours tombstones (behaviour 42)', async () => {
    const ss = await store();
    await ss.applyChangeset(1, cs(['bank', [set('k', 'v1')]]));
    await ss.applyChangeset(2, cs());
    await ss.applyChangeset(3, cs(['bank', [set('k', 'v3')]]));
    await ss.applyChangeset(5, cs(['bank', [del('k')]]));
    await ss.applyChangeset(7, cs(['bank', [set('k', 'v7')]]));
    expect(ss.latestVersion).toBe(7);
    const at = async (v: number) => {
      const value = await ss.get('bank', v, b('k'));
      return value === undefined ? undefined : Buffer.from(value).toString();
    };
    expect(await at(0)).toBeUndefined();
    expect(await at(1)).toBe('v1');
    expect(await at(2)).toBe('v1');
    expect(await at(3)).toBe('v3');
    expect(await at(4)).toBe('v3');
    expect(await at(5)).toBeUndefined();
    expect(await at(6)).toBeUndefined();
    expect(await at(7)).toBe('v7');
    // Above the latest version: the latest state, like Go.
    expect(await at(1_000_000)).toBe('v7');
    expect(await ss.has('bank', 4, b('k'))).toBe(true);
    expect(await ss.has('bank', 6, b('k'))).toBe(false);
    // The same key in another store is another key.
    expect(await ss.get('acc', 7, b('k'))).toBeUndefined();
  });

  it('returns copies: mutating a result does not change the store', async () => {
    const ss = await store();
    await ss.applyChangeset(1, cs(['bank', [set('k', 'value')]]));
    const first = (await ss.get('bank', 1, b('k')))!;
    first.fill(0);
    expect(await ss.get('bank', 1, b('k'))).toEqual(b('value'));
    const [[key, value]] = (await ss.iterator('bank', 1).read(10)) as [[Uint8Array, Uint8Array]];
    key.fill(0);
    value.fill(0);
    expect(await drain(ss.iterator('bank', 1))).toEqual([[hex('k'), hex('value')]]);
  });

  it('a later pair for the same key wins within one changeset', async () => {
    const ss = await store();
    await ss.applyChangeset(1, cs(['bank', [set('k', 'a'), set('k', 'b')]]));
    await ss.applyChangeset(2, cs(['bank', [set('j', 'x'), del('j')]]));
    expect(await ss.get('bank', 1, b('k'))).toEqual(b('b'));
    expect(await ss.get('bank', 2, b('j'))).toBeUndefined();
  });

  describe('iterators (behaviour 43)', () => {
    async function filled(): Promise<StorageStore> {
      const ss = await store();
      await ss.applyChangeset(
        1,
        cs(['bank', [set('a', 'a1'), set('b', 'b1'), set('c', 'c1'), set('d', 'd1')]], ['acc', [set('a', 'other')]]),
      );
      await ss.applyChangeset(2, cs(['bank', [set('b', 'b2'), del('c'), set('e', 'e2')]]));
      await ss.applyChangeset(3, cs(['bank', [set('c', 'c3'), del('a')]]));
      return ss;
    }

    it('yields each live key once, ascending, with its value at the version', async () => {
      const ss = await filled();
      expect(await drain(ss.iterator('bank', 1))).toEqual([
        [hex('a'), hex('a1')],
        [hex('b'), hex('b1')],
        [hex('c'), hex('c1')],
        [hex('d'), hex('d1')],
      ]);
      expect(await drain(ss.iterator('bank', 2))).toEqual([
        [hex('a'), hex('a1')],
        [hex('b'), hex('b2')],
        [hex('d'), hex('d1')],
        [hex('e'), hex('e2')],
      ]);
      expect(await drain(ss.iterator('bank', 3))).toEqual([
        [hex('b'), hex('b2')],
        [hex('c'), hex('c3')],
        [hex('d'), hex('d1')],
        [hex('e'), hex('e2')],
      ]);
      expect(await drain(ss.iterator('bank', 99))).toEqual(await drain(ss.iterator('bank', 3)));
      expect(await drain(ss.iterator('bank', 0))).toEqual([]);
    });

    it('yields the same keys descending in reverse', async () => {
      const ss = await filled();
      for (const v of [0, 1, 2, 3, 4]) {
        expect(await drain(ss.reverseIterator('bank', v))).toEqual((await drain(ss.iterator('bank', v))).reverse());
      }
    });

    it('includes start, excludes end, in both directions', async () => {
      const ss = await filled();
      expect(await drain(ss.iterator('bank', 2, b('b'), b('e')))).toEqual([
        [hex('b'), hex('b2')],
        [hex('d'), hex('d1')],
      ]);
      expect(await drain(ss.reverseIterator('bank', 2, b('b'), b('e')))).toEqual([
        [hex('d'), hex('d1')],
        [hex('b'), hex('b2')],
      ]);
      expect(await drain(ss.iterator('bank', 2, b('bb')))).toEqual([
        [hex('d'), hex('d1')],
        [hex('e'), hex('e2')],
      ]);
      expect(await drain(ss.reverseIterator('bank', 2, undefined, b('b')))).toEqual([[hex('a'), hex('a1')]]);
      expect(await drain(ss.iterator('bank', 2, b('c'), b('c')))).toEqual([]);
      expect(await drain(ss.reverseIterator('bank', 2, b('c'), b('c')))).toEqual([]);
    });

    it('is a BatchReader that fromBatchReader turns into an Observable', async () => {
      const ss = await filled();
      const entries = await lastValueFrom(fromBatchReader(() => ss.iterator('bank', 3), 2).pipe(toArray()));
      expect(entries.map(([k]) => Buffer.from(k).toString())).toEqual(['b', 'c', 'd', 'e']);
    });

    it('is an AsyncIterable; break and throw release the LevelDB iterator', async () => {
      const ss = await filled();
      const reads = countReads(db);
      const keys: string[] = [];
      for await (const [key] of ss.reverseIterator('bank', 3)) keys.push(Buffer.from(key).toString());
      expect(keys).toEqual(['e', 'd', 'c', 'b']);
      expect(reads.open()).toBe(0);

      for await (const [key] of ss.iterator('bank', 3)) {
        if (Buffer.from(key).toString() === 'c') break;
      }
      expect(reads.open()).toBe(0);

      await expect(
        (async () => {
          for await (const _ of ss.reverseIterator('bank', 3)) throw new Error('consumer failed');
        })(),
      ).rejects.toThrow('consumer failed');
      expect(reads.open()).toBe(0);

      const it = ss.iterator('bank', 3);
      expect(await it.read(1)).toHaveLength(1);
      await it.close();
      await it.close();
      expect(reads.open()).toBe(0);
      expect(await it.read(5)).toEqual([]);
    });

    it('closes at the end of the range without an explicit close', async () => {
      const ss = await filled();
      const reads = countReads(db);
      await drain(ss.iterator('bank', 3), 100);
      await drain(ss.reverseIterator('bank', 3), 100);
      expect(reads.open()).toBe(0);
    });

    it('does not see a commit that lands during the iteration', async () => {
      const ss = await filled();
      const it = ss.iterator('bank', 1_000);
      expect(it.version).toBe(3);
      await ss.applyChangeset(4, cs(['bank', [set('aa', 'new'), set('f', 'new')]]));
      expect((await drain(it)).map(([k]) => k)).toEqual([hex('b'), hex('c'), hex('d'), hex('e')]);
    });
  });

  it('keeps store keys apart: bank, bank2 and a store key with a NUL byte', async () => {
    const ss = await store({});
    await ss.applyChangeset(
      1,
      cs(['bank', [set('k', 'bank')]], ['bank2', [set('k', 'bank2')]], ['bank\u0000', [set('k', 'nul')]], ['ban', [set('kk', 'ban')]]),
    );
    expect(await ss.get('bank', 1, b('k'))).toEqual(b('bank'));
    expect(await ss.get('bank2', 1, b('k'))).toEqual(b('bank2'));
    expect(await ss.get('bank\u0000', 1, b('k'))).toEqual(b('nul'));
    expect(await ss.get('ban', 1, b('k'))).toBeUndefined();
    for (const name of ['bank', 'bank2', 'bank\u0000', 'ban']) {
      expect(await drain(ss.iterator(name, 1))).toHaveLength(1);
      expect(await drain(ss.reverseIterator(name, 1))).toHaveLength(1);
    }
  });

  it('orders keys with 0x00 and 0xff bytes and keys that prefix each other', async () => {
    const ss = await store();
    const keys = ['00', '0000', '00ff', '0001', '01', 'ff', 'ff00', 'ffff', '61', '6100', '610000', '6162'].map(fromHex);
    await ss.applyChangeset(1, cs(['bank', keys.map((k) => set(k, concatBytes(b('v'), k)))]));
    await ss.applyChangeset(2, cs(['bank', [del(Uint8Array.of(0x00)), set(Uint8Array.of(0x61, 0x00), 'two')]]));
    const sorted = keys.map(toHex).sort();
    expect((await drain(ss.iterator('bank', 1))).map(([k]) => k)).toEqual(sorted);
    expect((await drain(ss.reverseIterator('bank', 1))).map(([k]) => k)).toEqual([...sorted].reverse());
    expect((await drain(ss.iterator('bank', 2))).map(([k]) => k)).toEqual(sorted.filter((k) => k !== '00'));
    for (const k of keys) expect(await ss.get('bank', 1, k)).toEqual(concatBytes(b('v'), k));
    expect(await ss.get('bank', 2, Uint8Array.of(0x61, 0x00))).toEqual(b('two'));
    expect(await ss.get('bank', 2, Uint8Array.of(0x61, 0x00, 0x00))).toEqual(concatBytes(b('v'), Uint8Array.of(0x61, 0, 0)));
    // Bounds that are prefixes of stored keys.
    expect((await drain(ss.iterator('bank', 1, Uint8Array.of(0x00), Uint8Array.of(0x00, 0xff)))).map(([k]) => k)).toEqual([
      '00',
      '0000',
      '0001',
    ]);
    expect((await drain(ss.reverseIterator('bank', 1, Uint8Array.of(0x61), Uint8Array.of(0x61, 0x00, 0x00)))).map(([k]) => k)).toEqual([
      '6100',
      '61',
    ]);
  });

  it('persists latest and earliest versions, big-endian, under its namespace only', async () => {
    const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: ['bank'] });
    const other = await StorageStore.open(db, { prefix: b('other/'), storeKeys: ['bank'] });
    await ss.applyChangeset(258, cs(['bank', [set('k', 'v')]]));
    await ss.applyChangeset(300, cs(['bank', [set('k', 'w')]]));
    await ss.prune(299);
    await other.applyChangeset(1, cs(['bank', [set('k', 'other')]]));
    const reopened = await StorageStore.open(db, { prefix: 'ss/' });
    expect(reopened.latestVersion).toBe(300);
    expect(reopened.earliestVersion).toBe(299);
    expect(toHex((await db.get(b('ss/m/latest')))!)).toBe('000000000000012c');
    expect(toHex((await db.get(b('ss/m/earliest')))!)).toBe('000000000000012b');
    expect(await reopened.get('bank', 299, b('k'))).toEqual(b('v'));
    expect(await reopened.get('bank', 300, b('k'))).toEqual(b('w'));
    expect((await StorageStore.open(db, { prefix: 'other/' })).latestVersion).toBe(1);
    for (const [key] of await dump(db)) expect(key.startsWith(hex('ss/')) || key.startsWith(hex('other/'))).toBe(true);
  });

  it('prunes: reads below fail, reads at and above are unchanged (behaviour 44)', async () => {
    const ss = await store();
    await ss.applyChangeset(1, cs(['bank', [set('a', 'a1'), set('b', 'b1'), set('c', 'c1')]]));
    await ss.applyChangeset(2, cs(['bank', [set('a', 'a2'), del('b')]]));
    await ss.applyChangeset(3, cs(['bank', [set('a', 'a3'), set('d', 'd3')]]));
    await ss.applyChangeset(4, cs(['bank', [del('a')]]));
    const before = [];
    for (const v of [2, 3, 4]) before.push(await drain(ss.iterator('bank', v)), await drain(ss.reverseIterator('bank', v)));
    const dataEntries = async () => (await dump(db)).filter(([k]) => k.startsWith(hex('d'))).length;
    const entriesBefore = await dataEntries();
    const result = await ss.prune(2);
    expect(result.deleted).toBe(3); // a@1, and b's tombstone@2 with b@1
    expect(await dataEntries()).toBe(entriesBefore - 3);
    expect(ss.earliestVersion).toBe(2);
    const after = [];
    for (const v of [2, 3, 4]) after.push(await drain(ss.iterator('bank', v)), await drain(ss.reverseIterator('bank', v)));
    expect(after).toEqual(before);
    const pruned = await errorOf(ss.get('bank', 1, b('a')));
    expect(pruned.code).toBe('ERR_VERSION_PRUNED');
    expect(pruned.details).toMatchObject({ earliestVersion: 2, requestedVersion: 1 });
    expect(pruned.message).toMatch(/version 1\b.*earliest available version is 2/);
    expect((await errorOf(() => ss.iterator('bank', 1))).code).toBe('ERR_VERSION_PRUNED');
    // Pruning to the latest version keeps exactly the live keys; an older prune is a no-op.
    await ss.prune(4);
    expect(await drain(ss.iterator('bank', 4))).toEqual([
      [hex('c'), hex('c1')],
      [hex('d'), hex('d3')],
    ]);
    expect(await dataEntries()).toBe(2);
    expect(await ss.prune(3)).toEqual({ scanned: 0, deleted: 0 });
    expect(ss.earliestVersion).toBe(4);
  });

  it('skips a long history with seeks instead of reading it', async () => {
    const ss = await store();
    const versions = 2_000;
    await ss.applyChangeset(1, cs(['bank', [set('a', 'a'), set('m', 'm0'), set('z', 'z')]]));
    for (let v = 2; v <= versions; v++) await ss.applyChangeset(v, cs(['bank', [set('m', `m${v}`)]]));
    const reads = countReads(db);
    for (const v of [1, 1_000, versions]) {
      const expected = [
        [hex('a'), hex('a')],
        [hex('m'), hex(v === 1 ? 'm0' : `m${v}`)],
        [hex('z'), hex('z')],
      ];
      expect(await drain(ss.iterator('bank', v), 10)).toEqual(expected);
      expect(await drain(ss.reverseIterator('bank', v), 10)).toEqual(expected.reverse());
    }
    // Six scans over a key with 2000 versions: reading them would be 12 000 entries.
    expect(reads.entries).toBeLessThan(600);
  });

  it('restores a snapshot with the writer and the Observable form', async () => {
    const ss = await store();
    const writer = await ss.beginRestore(10, { flushBytes: 64 });
    for (let i = 0; i < 20; i++) {
      writer.add('bank', b(`k${i}`), b(`v${i}`));
      if (writer.needsFlush) await writer.flush();
    }
    writer.add('acc', b('x'), b('y'));
    await writer.commit();
    expect(ss.latestVersion).toBe(10);
    expect(await drain(ss.iterator('bank', 10))).toHaveLength(20);
    expect(await ss.get('acc', 10, b('x'))).toEqual(b('y'));
    await ss.applyChangeset(11, cs(['bank', [del('k0')]]));
    expect(await ss.get('bank', 11, b('k0'))).toBeUndefined();
    expect(await ss.get('bank', 10, b('k0'))).toEqual(b('v0'));

    await ss.clear();
    expect(ss.latestVersion).toBe(0);
    expect(await dump(db)).toEqual([]);
    const { from } = await import('rxjs');
    const events = await lastValueFrom(
      ss.restore(5, from([{ storeKey: 'bank', key: b('k'), value: b('v') }])).pipe(toArray()),
    );
    expect(events).toEqual([{ keys: 1, bytes: 2 }]);
    expect(await ss.get('bank', 5, b('k'))).toEqual(b('v'));
  });
});
