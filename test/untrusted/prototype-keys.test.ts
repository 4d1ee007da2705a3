import { lastValueFrom } from 'rxjs';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs, decodeChangeset, encodeChangeset, type ChangesetEntry } from '../../src/core/changeset.js';
import { commitInfoHash } from '../../src/commitment/commit-info.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { decodeSnapshotItemStream, encodeSnapshotItemFrames } from '../../src/proto/snapshot-item.js';
import { RootStore, type RootStoreEvent } from '../../src/root/root-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { arrayReader, drainReader, expectNoPollution, HOSTILE_NAMES, hostileValue, prototypeFingerprint, verifyStoreProof, type SnapshotItem } from './support.js';

/**
 * Store names, keys and values that are special on JavaScript objects (`__proto__`,
 * `constructor`, `toString`, ...) must be plain data everywhere: they round-trip through store/v1,
 * the SC, the SS, a snapshot/restore and a full root-store migration, and nothing ever touches
 * `Object.prototype`.
 */

const STORES = [...HOSTILE_NAMES, 'bank'];
/** Keys: the hostile names, plus `polluted` (what a pollution would set). */
const KEYS = [...HOSTILE_NAMES, 'polluted', 'bank'];

let fingerprint: Map<string, string>;
const dbs: LevelDb[] = [];

beforeAll(() => {
  fingerprint = prototypeFingerprint();
});

afterEach(() => {
  expectNoPollution(fingerprint);
});

afterAll(async () => {
  for (const db of dbs) await db.close();
});

async function memDb(): Promise<LevelDb> {
  const db = await openDb();
  dbs.push(db);
  return db;
}

/** Version `v`: every store gets every hostile key (value tagged with v), and one delete from v = 2 on. */
function block(v: number): ChangesetEntry[] {
  const entries: ChangesetEntry[] = [];
  for (const store of STORES) {
    for (const [i, key] of KEYS.entries()) {
      const deleted = v >= 2 && key === 'valueOf';
      entries.push([store, utf8(key), deleted ? undefined : hostileValue(`${store}/${key}@${v}`, i)]);
    }
  }
  return entries;
}

async function buildLegacy(db: LevelDb, versions: number): Promise<LegacyStore> {
  const v1 = await LegacyStore.open(db, { storeKeys: STORES });
  for (let v = 1; v <= versions; v++) await v1.commit(changesetFromPairs(v, block(v)).changeset);
  return v1;
}

function expected(store: string, key: string, version: number): Uint8Array | undefined {
  if (version >= 2 && key === 'valueOf') return undefined;
  return hostileValue(`${store}/${key}@${version}`, KEYS.indexOf(key));
}

describe('JavaScript-special store names, keys and values', () => {
  it('are plain data in the changeset codec (group order and contents preserved)', () => {
    const cs = changesetFromPairs(1, block(1)).changeset;
    const decoded = decodeChangeset(encodeChangeset(cs));
    expect(decoded.changes.map((g) => g.storeKey)).toEqual(STORES);
    expect(decoded).toEqual(cs);
    for (const g of decoded.changes) expect(Object.getPrototypeOf(g)).toBe(Object.prototype);
  });

  it('LegacyStore: commit, get, proofs verified with @confio/ics23, across versions', async () => {
    const v1 = await buildLegacy(await memDb(), 2);
    expect(v1.storeKeys).toEqual([...STORES].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    const appHash = await v1.appHash(2);
    for (const store of STORES) {
      for (const key of KEYS) {
        for (const version of [1, 2]) {
          expect(await v1.get(store, utf8(key), version)).toEqual(expected(store, key, version));
        }
        const proof = await v1.getProof(store, utf8(key), 2);
        expect(proof.value).toEqual(expected(store, key, 2));
        verifyStoreProof(proof, store, utf8(key), appHash);
      }
    }
    // Names that are not mounted stay unknown, even when they exist on Object.prototype.
    for (const name of ['__lookupGetter__', 'propertyIsEnumerable', 'toLocaleString']) {
      await expect(v1.get(name, utf8('k'))).rejects.toMatchObject({ code: 'ERR_UNKNOWN_STORE' });
    }
  });

  it('CommitStore: snapshot bytes of store/v1 restore to the same app hash, values and proofs', async () => {
    const v1 = await buildLegacy(await memDb(), 2);
    const items = await drainReader(await v1.snapshotReader(2));
    expect(items.filter((i) => i.kind === 'store').map((i) => (i as { name: string }).name)).toEqual(v1.storeKeys);
    // Through the byte stream: encode, decode in small chunks, restore.
    const bytes = encodeSnapshotItemFrames(items);
    const decoded: SnapshotItem[] = [];
    const chunks = Array.from({ length: Math.ceil(bytes.length / 97) }, (_, i) => bytes.slice(i * 97, i * 97 + 97));
    for await (const item of decodeSnapshotItemStream(chunks)) decoded.push(item);
    expect(decoded).toEqual(items);

    const sc = await CommitStore.open(await memDb(), { storeKeys: STORES });
    const leaves = new Map<string, number>();
    const result = await sc.restore(2, arrayReader(decoded), { onLeaf: (store) => void leaves.set(store, (leaves.get(store) ?? 0) + 1) });
    expect(toHex(commitInfoHash(result.commitInfo.storeInfos))).toBe(toHex(await v1.appHash(2)));
    for (const store of STORES) {
      expect(leaves.get(store)).toBe(KEYS.length - 1);
      expect(toHex(await sc.storeRoot(store, 2))).toBe(toHex(await v1.storeRoot(store, 2)));
      for (const key of KEYS) {
        expect(await sc.get(store, 2, utf8(key))).toEqual(expected(store, key, 2));
        const proof = await sc.getProof(store, 2, utf8(key));
        verifyStoreProof(proof, store, utf8(key), await v1.appHash(2));
      }
    }
    // And the SC commits on top with hostile names (same hash as store/v1 for the same block).
    await sc.writeChangeset(changesetFromPairs(3, block(3)).changeset);
    const info = await sc.commit(3);
    const v1Info = await v1.commit(changesetFromPairs(3, block(3)).changeset);
    expect(toHex(commitInfoHash(info.storeInfos))).toBe(toHex(commitInfoHash(v1Info.storeInfos)));
  });

  it('StorageStore: apply, get, iterate, and restore with hostile store names and keys', async () => {
    const ss = await StorageStore.open(await memDb(), { prefix: 'ss/', storeKeys: STORES });
    for (let v = 1; v <= 2; v++) await ss.applyChangeset(v, changesetFromPairs(v, block(v)).changeset);
    for (const store of STORES) {
      for (const key of KEYS) {
        for (const version of [1, 2]) expect(await ss.get(store, version, utf8(key))).toEqual(expected(store, key, version));
      }
      const seen: string[] = [];
      for await (const [key, value] of ss.iterator(store, 2)) {
        seen.push(new TextDecoder().decode(key));
        expect(value).toEqual(expected(store, new TextDecoder().decode(key), 2));
      }
      expect(seen).toEqual(KEYS.filter((k) => k !== 'valueOf').sort());
    }
    await ss.close();

    // The same through a snapshot restore into a fresh SS (the migration's path).
    const restored = await StorageStore.open(await memDb(), { storeKeys: STORES });
    const pairs = STORES.flatMap((storeKey) => KEYS.map((k) => ({ storeKey, key: utf8(k), value: expected(storeKey, k, 1)! })));
    await lastValueFrom(restored.restore(1, arrayReader(pairs)));
    for (const store of STORES) for (const key of KEYS) expect(await restored.get(store, 1, utf8(key))).toEqual(expected(store, key, 1));
    // Without a store list, any hostile name is accepted as data and stays separate.
    const open = await StorageStore.open(await memDb());
    await open.applyChangeset(1, changesetFromPairs(1, [['__proto__', utf8('a'), utf8('1')], ['constructor', utf8('a'), utf8('2')]]).changeset);
    expect(await open.get('__proto__', 1, utf8('a'))).toEqual(utf8('1'));
    expect(await open.get('constructor', 1, utf8('a'))).toEqual(utf8('2'));
    expect(await open.get('toString', 1, utf8('a'))).toBeUndefined();
    await restored.close();
    await open.close();
  });

  it.each([
    ['with SC', true],
    ['SS only', false],
  ])('RootStore: a full migration (%s) keeps every value and proof, before and after the switch', async (_name, sc) => {
    const v1db = await memDb();
    const v2db = await memDb();
    await buildLegacy(v1db, 3);
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db, sc }, migrate: true, batchSize: 16, progressIntervalMs: 0 });
    const events: RootStoreEvent[] = [];
    root.events$.subscribe((e) => events.push(e));
    expect(root.isMigrating).toBe(true);
    const hashes = new Map<number, Uint8Array>();
    let v = 3;
    while (root.phase === 'migrating' && v < 60) {
      v++;
      hashes.set(v, await root.commit(changesetFromPairs(v, block(v))));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(root.phase).toBe('switched');
    const restored = events.find((e) => e.type === 'restored');
    expect(restored).toBeDefined();
    // Two more commits in store/v2, then every key of every store at the latest version, with proofs.
    for (let i = 0; i < 2; i++) {
      v++;
      hashes.set(v, await root.commit(changesetFromPairs(v, block(v))));
    }
    for (const store of STORES) {
      for (const key of KEYS) {
        const plain = await root.query(store, utf8(key));
        expect(plain.value).toEqual(expected(store, key, v));
        const proved = await root.query(store, utf8(key), { version: v, prove: true });
        expect(proved.value).toEqual(expected(store, key, v));
        verifyStoreProof(proved.proof!, store, utf8(key), hashes.get(v)!);
        // Below the migration height: answered by the retained store/v1.
        expect((await root.query(store, utf8(key), { version: 1 })).value).toEqual(expected(store, key, 1));
      }
    }
    await root.close();
  });
});
