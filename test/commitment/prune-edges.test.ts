import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';

const k = (n: number): Uint8Array => Uint8Array.of(0x6b, n);
const cs = (v: number, stores: string[]) => ({ changes: stores.map((s) => ({ storeKey: s, pairs: [{ key: k(v), value: k(v), remove: false }] })) });

describe('SC prune edges', () => {
  it('a prune below the earliest version does not move it back', async () => {
    const sc = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b'] });
    for (let v = 1; v <= 4; v++) {
      await sc.writeChangeset(cs(v, ['a', 'b']));
      await sc.commit(v);
    }
    await sc.prune(2);
    await sc.prune(1);
    expect(await sc.earliestVersion()).toBe(3);
    await expect(sc.get('a', 2, k(2))).rejects.toMatchObject({ code: 'ERR_VERSION_PRUNED' });
  });

  it('a store added after genesis does not make a prune before its first commit fail', async () => {
    const db = await openDb();
    let sc = await CommitStore.open(db, { storeKeys: ['a'] });
    for (let v = 1; v <= 4; v++) {
      await sc.writeChangeset(cs(v, ['a']));
      await sc.commit(v);
    }
    sc = await CommitStore.open(db, { storeKeys: ['a', 'c'] });
    await sc.prune(2);
    expect(await sc.earliestVersion()).toBe(3);
  });
});

describe('restored SC: prune under an export of a later version', () => {
  it('the export of the pinned version reads every node while older versions go', async () => {
    const { toHex } = await import('../../src/core/bytes.js');
    const src = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b', 'c'] });
    for (let v = 1; v <= 8; v++) {
      await src.writeChangeset({ changes: [{ storeKey: 'a', pairs: [0, 1, 2].map((i) => ({ key: k(v * 3 + i), value: k(v), remove: false })) }, ...(v <= 3 ? [{ storeKey: 'b', pairs: [{ key: k(v), value: k(v), remove: false }] }] : [])] });
      await src.commit(v);
    }
    const dst = await CommitStore.open(await openDb(), { storeKeys: ['a', 'b', 'c'] });
    const reader = await src.snapshotReader(8);
    await dst.restore(8, reader);
    for (let v = 9; v <= 12; v++) {
      const c = { changes: [{ storeKey: 'a', pairs: [{ key: k(v), value: k(v), remove: v % 2 === 0 }].map((p) => (p.remove ? { key: p.key, remove: true } : p)) }] };
      await src.writeChangeset(c);
      await dst.writeChangeset(c);
      await src.commit(v);
      await dst.commit(v);
    }
    const dump = async (sc: CommitStore, v: number) => {
      const r = await sc.snapshotReader(v);
      const out: string[] = [];
      for (let b = await r.read(3); b.length > 0; b = await r.read(3)) {
        out.push(...b.map((i) => (i.kind === 'iavl' ? `${toHex(i.key)}/${i.version}/${i.height}` : i.kind === 'store' ? i.name : '?')));
        if (out.length === 3) {
          // mid-export of version 11: prune everything below it
          await sc.prune(10);
        }
      }
      await r.close();
      return out;
    };
    const expected = await (async () => {
      const r = await src.snapshotReader(11);
      const out: string[] = [];
      for (let b = await r.read(64); b.length > 0; b = await r.read(64)) out.push(...b.map((i) => (i.kind === 'iavl' ? `${toHex(i.key)}/${i.version}/${i.height}` : i.kind === 'store' ? i.name : '?')));
      await r.close();
      return out;
    })();
    expect(await dump(dst, 11)).toEqual(expected);
    expect(await dst.earliestVersion()).toBe(11);
    await expect(dst.prune(11)).resolves.toBeUndefined();
  });
});
