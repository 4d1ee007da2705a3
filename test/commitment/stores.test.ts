import { calculateExistenceRoot, iavlSpec, tendermintSpec, verifyMembership, verifyNonMembership } from '@confio/ics23';
import { lastValueFrom, toArray } from 'rxjs';
import { prefixEnd, toHex, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs, type ChangesetEntry } from '../../src/core/changeset.js';
import { MultiTreeRestorer } from '../../src/commitment/snapshot-restore.js';
import { StoreError } from '../../src/core/errors.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { commitInfoHash } from '../../src/commitment/commit-info.js';
import type { StoreProof } from '../../src/commitment/multi-tree.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import { checkIavlProofRules } from '../../src/iavl/proof-rules.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { decodeInt64Value } from '../../src/proto/int64-value.js';
import { BACKENDS } from '../support/db.js';
import { randomHistory } from '../support/changesets.js';
import { errorOf } from '../support/errors.js';
import { spyOnBatches } from '../support/batch-spy.js';

const STORES = ['bank', 'acc', 'staking'];

function checkProof(proof: StoreProof, store: string, key: Uint8Array, value: Uint8Array | undefined, appHash: Uint8Array): void {
  const [iavlOp, simpleOp] = proof.ops;
  expect(iavlOp.type).toBe('ics23:iavl');
  expect(simpleOp.type).toBe('ics23:simple');
  checkIavlProofRules(iavlOp.proof);
  if (value !== undefined) {
    expect(verifyMembership(iavlOp.proof, iavlSpec, proof.storeRoot, key, value)).toBe(true);
    expect(toHex(calculateExistenceRoot(iavlOp.proof.exist!))).toBe(toHex(proof.storeRoot));
  } else {
    expect(verifyNonMembership(iavlOp.proof, iavlSpec, proof.storeRoot, key)).toBe(true);
  }
  expect(verifyMembership(simpleOp.proof, tendermintSpec, appHash, utf8(store), proof.storeRoot)).toBe(true);
  expect(toHex(proof.appHash)).toBe(toHex(appHash));
}

describe.each(BACKENDS)('store/v1 and SC conformance ($name)', ({ open }) => {
  let handle: Awaited<ReturnType<(typeof BACKENDS)[number]['open']>>;
  beforeEach(async () => {
    handle = await open();
  });
  afterEach(async () => handle.cleanup());

  it('give identical CommitInfo hashes for the same writes, equal to the hash over the tree roots', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES });
    const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'v2/sc/' });
    for (const { version, changeset } of randomHistory(7, 30, STORES)) {
      const a = await v1.commit(changeset);
      await sc.writeChangeset(changeset);
      const b = await sc.commit(version);
      expect(a.version).toBe(version);
      expect(toHex(commitInfoHash(a.storeInfos))).toBe(toHex(commitInfoHash(b.storeInfos)));
      const roots = await Promise.all(STORES.map(async (s) => ({ name: s, commitId: { version, hash: await v1.storeRoot(s) } })));
      expect(toHex(await v1.appHash())).toBe(toHex(commitInfoHash(roots)));
      expect(toHex(await sc.appHash(version))).toBe(toHex(await v1.appHash(version)));
    }
    // store/v1 metadata is the rootmulti layout.
    expect(decodeInt64Value((await handle.db.get(utf8('s/latest')))!)).toBe(30);
    expect(await handle.db.get(utf8('s/30'))).toBeDefined();
    expect(await handle.db.get(utf8('v2/sc/c/30'))).toBeDefined();
  });

  it('answers every key at every version with proofs that verify in @confio/ics23', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES });
    const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'v2/sc/' });
    const model = new Map<string, Map<string, Uint8Array>>(STORES.map((s) => [s, new Map()]));
    const history: Map<string, Map<string, Uint8Array>>[] = [];
    for (const { version, changeset } of randomHistory(11, 12, STORES)) {
      await v1.commit(changeset);
      await sc.writeChangeset(changeset);
      await sc.commit(version);
      for (const group of changeset.changes) {
        for (const pair of group.pairs) {
          if (pair.remove) model.get(group.storeKey)!.delete(toHex(pair.key));
          else model.get(group.storeKey)!.set(toHex(pair.key), pair.value!);
        }
      }
      history.push(new Map([...model].map(([s, m]) => [s, new Map(m)])));
    }
    for (let version = 1; version <= 12; version++) {
      const snapshot = history[version - 1]!;
      const appHash = await v1.appHash(version);
      for (const store of STORES) {
        for (let k = 0; k < 50; k += 7) {
          const key = utf8(`k${k}`);
          const expected = snapshot.get(store)!.get(toHex(key));
          expect(await v1.get(store, key, version)).toEqual(expected);
          expect(await sc.get(store, version, key)).toEqual(expected);
          if (snapshot.get(store)!.size === 0) continue;
          checkProof(await v1.getProof(store, key, version), store, key, expected, appHash);
          checkProof(await sc.getProof(store, version, key), store, key, expected, appHash);
        }
      }
    }
  });

  it('persists: a reopened store continues at the latest version with the same hashes', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES });
    const history = randomHistory(3, 6, STORES);
    for (const { changeset } of history.slice(0, 5)) await v1.commit(changeset);
    const hash5 = toHex(await v1.appHash());
    const reopened = await LegacyStore.open(handle.db, { storeKeys: STORES });
    expect(reopened.latestVersion).toBe(5);
    expect(toHex(await reopened.appHash())).toBe(hash5);
    const info = await reopened.commit(history[5]!.changeset);
    expect(info.version).toBe(6);
  });

  it('an import interrupted after a flush leaves no version: the SC reopens at its committed version, and clear() empties it', async () => {
    const source = await IavlTree.open(handle.db, { prefix: 'source/' });
    const big = new Uint8Array(1024).fill(7);
    for (let n = 0; n < 6000; n++) await source.set(utf8(`key-${String(n).padStart(5, '0')}`), big);
    await source.saveVersion();
    const nodes = await lastValueFrom(source.export(1).pipe(toArray()));
    const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'sc/' });
    const importer = await sc.multi.tree('bank').importer(1);
    // More than the importer's flush threshold, but not the whole tree: no root is written.
    for (const node of nodes.slice(0, 10_000)) await importer.add(node);
    importer.close();
    expect((await handle.db.keys({ gte: utf8('sc/'), lt: utf8('sc0') }).all()).length).toBeGreaterThan(1000);
    const reopened = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'sc/' });
    expect(reopened.latestVersion).toBe(0);
    expect(reopened.multi.tree('bank').version).toBe(0);
    expect(await reopened.multi.tree('bank').get(utf8('key-00000'))).toBeUndefined();
    await reopened.clear();
    expect(await handle.db.keys({ gte: utf8('sc/'), lt: utf8('sc0') }).all()).toEqual([]);
    const bank = (await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'sc/' })).multi.tree('bank');
    const restarted = await bank.importer(1);
    for (const node of nodes) await restarted.add(node);
    await restarted.commit();
    expect(toHex(bank.hash())).toBe(toHex(source.hash()));
  });

  it('snapshots v1 in sorted store order and post-order, and restores it into SC with equal hashes', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: ['staking', 'bank', 'acc'] });
    for (const { changeset } of randomHistory(5, 10, STORES)) await v1.commit(changeset);
    const items = await lastValueFrom(v1.snapshot(8, 16).pipe(toArray()));
    const storeItems = items.filter((i): i is Extract<SnapshotItem, { kind: 'store' }> => i.kind === 'store').map((i) => i.name);
    expect(storeItems).toEqual(['acc', 'bank', 'staking']);
    expect(items[0]).toEqual({ kind: 'store', name: 'acc' });
    for (const item of items) {
      if (item.kind !== 'iavl') continue;
      if (item.height === 0) expect(item.value.length).toBeGreaterThan(0);
      else expect(item.value).toHaveLength(0);
    }
    const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'v2/sc/' });
    const leaves: string[] = [];
    const result = await sc.restore(8, await v1.snapshotReader(8), {
      batchSize: 7,
      onLeaf: (store, key, value) => {
        leaves.push(`${store}/${toHex(key)}=${toHex(value)}`);
      },
    });
    expect(result.next).toBeUndefined();
    expect(result.storesDone).toBe(3);
    expect(sc.latestVersion).toBe(8);
    expect(toHex(await sc.appHash(8))).toBe(toHex(await v1.appHash(8)));
    for (const store of STORES) expect(toHex(await sc.storeRoot(store, 8))).toBe(toHex(await v1.storeRoot(store, 8)));
    const expectedLeaves = items
      .reduce<{ store: string; out: string[] }>(
        (acc, item) => {
          if (item.kind === 'store') acc.store = item.name;
          else if (item.kind === 'iavl' && item.height === 0) acc.out.push(`${acc.store}/${toHex(item.key)}=${toHex(item.value)}`);
          return acc;
        },
        { store: '', out: [] },
      )
      .out;
    expect(leaves).toEqual(expectedLeaves);
    // The restored SC keeps committing from H + 1 with the same hashes as v1 would.
    const next = randomHistory(99, 1, STORES)[0]!.changeset;
    await sc.writeChangeset(next);
    const info = await sc.commit(9);
    expect(info.version).toBe(9);
  });

  it('snapshots give the same items for every batch size, also when a store item ends a batch', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES, exportWorker: false });
    for (const { changeset } of randomHistory(8, 4, STORES, 5)) await v1.commit(changeset);
    const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'v2/sc/' });
    await sc.restore(4, await v1.snapshotReader(4));
    for (const source of [v1, sc]) {
      const readAll = async (max: number): Promise<string[]> => {
        const reader = await source.snapshotReader(4);
        const out: string[] = [];
        for (let batch = await reader.read(max); batch.length > 0; batch = await reader.read(max)) {
          for (const item of batch) out.push(item.kind === 'store' ? item.name : item.kind === 'iavl' ? `${item.height}/${toHex(item.key)}` : item.kind);
        }
        await reader.close();
        return out;
      };
      const whole = await readAll(10_000);
      expect(whole.filter((item) => STORES.includes(item))).toEqual(['acc', 'bank', 'staking']);
      // Up to the length of the stream, so that each store item ends some batch for some size.
      for (let max = 1; max <= whole.length; max++) expect(await readAll(max)).toEqual(whole);
    }
  });

  it('MultiTreeRestorer.addAll writes exactly what add does item by item, and fails at the same item', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES });
    // Several times the importer's 256 KiB of nodes per store, so it writes batches in the middle
    // of a run: they must be the same batches as with `add`.
    const entries: ChangesetEntry[] = [];
    for (let i = 0; i < 3000; i++) entries.push([STORES[i % 3]!, utf8(`key-${(i * 7919) % 3000}`), new Uint8Array(600).fill(i % 251)]);
    await v1.commit(changesetFromPairs(1, entries).changeset);
    for (const { changeset } of randomHistory(7, 3, STORES)) await v1.commit(changeset);
    const items = await lastValueFrom(v1.snapshot(4, 64).pipe(toArray()));
    const restore = async (prefix: string, feed: (r: MultiTreeRestorer) => Promise<void>) => {
      const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix });
      const restorer = new MultiTreeRestorer(sc.multi, 4);
      const spy = spyOnBatches(handle.db);
      try {
        await feed(restorer);
      } finally {
        spy.restore();
      }
      const progress = restorer.progress;
      await restorer.finish();
      return { sc, progress, writes: spy.calls.map((ops) => ops.length), entries: await entriesUnder(utf8(prefix)) };
    };
    const entriesUnder = async (prefix: Uint8Array): Promise<string[]> => {
      const out: string[] = [];
      for await (const [key, value] of handle.db.iterator({ gte: prefix, lt: prefixEnd(prefix)! })) out.push(`${toHex(key.subarray(prefix.length))}=${toHex(value)}`);
      return out;
    };
    const one = await restore('one/', async (r) => {
      for (const item of items) await r.add(item);
    });
    const many = await restore('many/', async (r) => {
      // Batches that start and end inside stores and span store items.
      for (let i = 0; i < items.length; i += 997) await r.addAll(items.slice(i, i + 997));
    });
    expect(many.progress).toEqual(one.progress);
    expect(many.progress.leaves).toBeGreaterThan(3000);
    // The same writes of the same sizes, several per store before `finish`.
    expect(one.writes.length).toBeGreaterThan(3 * STORES.length);
    expect(many.writes).toEqual(one.writes);
    expect(many.entries.length).toBe(one.entries.length);
    expect(many.entries).toEqual(one.entries);
    expect(toHex(await many.sc.appHash(4))).toBe(toHex(await v1.appHash(4)));

    // A bad batch fed item by item and as a whole: the error and the totals at that point.
    const failBoth = async (bad: SnapshotItem[], name: string) => {
      const outcomes: { code: string; message: string; progress: unknown }[] = [];
      for (const feed of [
        async (r: MultiTreeRestorer) => {
          for (const item of bad) await r.add(item);
        },
        (r: MultiTreeRestorer) => r.addAll(bad),
      ]) {
        const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: `${name}${outcomes.length}/` });
        const restorer = new MultiTreeRestorer(sc.multi, 4);
        const error = await errorOf(feed(restorer));
        outcomes.push({ code: error.code, message: error.message, progress: restorer.progress });
      }
      expect(outcomes[1]).toEqual(outcomes[0]);
      return outcomes[0]!;
    };

    // An extension item in a batch: the nodes before it are imported, then the error names the item.
    const extension = items.slice(0, 40);
    extension.splice(25, 0, { kind: 'extension', name: 'wasm', format: 1 });
    const unexpected = await failBoth(extension, 'ext');
    expect(unexpected.code).toBe('ERR_INVALID_ARGUMENT');
    expect(unexpected.message).toMatch(/snapshot item 26: extension item/);
    expect(unexpected.progress).toMatchObject({ items: 26, nodes: 24 });

    // A node the importer rejects inside a run (a leaf repeated).
    const repeated = items.slice(0, 40);
    const leafAt = repeated.findIndex((item, i) => i > 10 && item.kind === 'iavl' && item.height === 0);
    repeated.splice(leafAt + 1, 0, repeated[leafAt]!);
    const rejected = await failBoth(repeated, 'rep');
    expect(rejected.code).toBe('ERR_IMPORT_ORDER');
    expect(rejected.progress).toMatchObject({ items: leafAt + 2, nodes: leafAt });
  });

  it('snapshot(0) and a version above the latest are errors naming the versions', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES });
    for (const { changeset } of randomHistory(1, 3, STORES)) await v1.commit(changeset);
    expect((await errorOf(v1.snapshotReader(0))).code).toBe('ERR_VERSION_RANGE');
    const above = await errorOf(v1.snapshotReader(9));
    expect(above.message).toMatch(/version 9.*latest version is 3/);
    await expect(lastValueFrom(v1.snapshot(0))).rejects.toMatchObject({ code: 'ERR_VERSION_RANGE' });
  });

  it('restore rejects bad streams: IAVL item first, unknown store, height > 127; returns an extension item', async () => {
    const sc = () => CommitStore.open(handle.db, { storeKeys: STORES, prefix: `v2/sc${Math.random()}/` });
    const reader = (items: SnapshotItem[]) => {
      let done = false;
      return {
        read: async () => {
          if (done) return [];
          done = true;
          return items;
        },
        close: async () => undefined,
      };
    };
    const leaf = { kind: 'iavl' as const, key: utf8('a'), value: utf8('1'), version: 1, height: 0 };
    const first = await errorOf((await sc()).restore(1, reader([leaf])));
    expect(first.code).toBe('ERR_IMPORT_ORDER');
    expect(first.message).toMatch(/before any store item/);
    const unknown = await errorOf((await sc()).restore(1, reader([{ kind: 'store', name: 'gov' }, leaf])));
    expect(unknown.code).toBe('ERR_UNKNOWN_STORE');
    expect(unknown.message).toMatch(/store "gov" not found/);
    const high = await errorOf((await sc()).restore(1, reader([{ kind: 'store', name: 'bank' }, { ...leaf, height: 128 }])));
    expect(high.code).toBe('ERR_IMPORT_HEIGHT');
    const ext = { kind: 'extension' as const, name: 'wasm', format: 1 };
    const payload = { kind: 'extensionPayload' as const, payload: utf8('x') };
    const target = await sc();
    const result = await target.restore(1, reader([{ kind: 'store', name: 'bank' }, leaf, ext, payload]));
    expect(result.next).toEqual(ext);
    expect(result.remaining).toEqual([payload]);
    expect(await target.get('bank', 1, utf8('a'))).toEqual(utf8('1'));
  });

  it('rejects bad input with typed errors and writes nothing', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES });
    const sc = await CommitStore.open(handle.db, { storeKeys: STORES, prefix: 'v2/sc/' });
    await v1.commit({ changes: [{ storeKey: 'bank', pairs: [{ key: utf8('a'), value: utf8('1'), remove: false }] }] });
    const unknown = await errorOf(
      v1.commit({
        changes: [
          { storeKey: 'bank', pairs: [{ key: utf8('b'), value: utf8('2'), remove: false }] },
          { storeKey: 'gov', pairs: [{ key: utf8('c'), value: utf8('3'), remove: false }] },
        ],
      }),
    );
    expect(unknown.code).toBe('ERR_UNKNOWN_STORE');
    expect(v1.latestVersion).toBe(1);
    expect(await v1.get('bank', utf8('b'))).toBeUndefined();
    const empty = await errorOf(v1.commit({ changes: [{ storeKey: 'bank', pairs: [{ key: new Uint8Array(0), value: utf8('2'), remove: false }] }] }));
    expect(empty.code).toBe('ERR_EMPTY_KEY');
    // The next commit is unaffected by the refused ones.
    expect((await v1.commit({ changes: [] })).version).toBe(2);

    await sc.writeChangeset({ changes: [{ storeKey: 'acc', pairs: [{ key: utf8('x'), value: utf8('1'), remove: false }] }] });
    const mismatch = await errorOf(sc.commit(5));
    expect(mismatch.code).toBe('ERR_VERSION_MISMATCH');
    expect(mismatch.message).toMatch(/expected 1, got 5/);
    expect((await sc.commit(1)).version).toBe(1);
    const notEmpty = await errorOf(sc.restore(3, await v1.snapshotReader(2)));
    expect(notEmpty.code).toBe('ERR_IMPORT_NOT_EMPTY');
    expect(await errorOf(LegacyStore.open(handle.db, { storeKeys: ['a/b'] })).then((e) => e.code)).toBe('ERR_INVALID_ARGUMENT');
  });

  it('prunes: reads below fail with ERR_VERSION_PRUNED, a snapshot pins its version', async () => {
    const v1 = await LegacyStore.open(handle.db, { storeKeys: STORES });
    for (const { changeset } of randomHistory(2, 10, STORES)) await v1.commit(changeset);
    const reader = await v1.snapshotReader(4);
    const pinned = await errorOf(v1.prune(6));
    expect(pinned.code).toBe('ERR_VERSION_PINNED');
    await reader.close();
    const hash8 = toHex(await v1.appHash(8));
    await v1.prune(6);
    const pruned = await errorOf(v1.get('bank', utf8('k1'), 5));
    expect(pruned.code).toBe('ERR_VERSION_PRUNED');
    expect(pruned.details).toMatchObject({ earliestVersion: 7, requestedVersion: 5 });
    expect(toHex(await v1.appHash(8))).toBe(hash8);
    expect(await v1.getCommitInfo(6)).toBeUndefined();
    expect((await errorOf(v1.snapshotReader(3))).code).toBe('ERR_VERSION_PRUNED');
    const reopened = await LegacyStore.open(handle.db, { storeKeys: STORES });
    expect(await reopened.earliestVersion()).toBe(7);
  });
});
