import { toHex, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs } from '../../src/core/changeset.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { openDb } from '../../src/db/level-db.js';
import { encodeSnapshotItemFrames } from '../../src/proto/snapshot-item.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { byteStreamReader } from '../fuzz/support.js';
import { drainReader, verifyStoreProof } from './support.js';

/**
 * 10,000 stores: store/v1 and the SC open with 10,000 store keys, a version touching a few of
 * them commits, and its snapshot — as a byte stream — restores into an SC with the same app
 * hash. Each phase is timed (`STORES_REPORT=1` prints the timings). Measured 8–18 s on a shared,
 * loaded 2-core machine; the 60 s ceiling only catches a pathological (e.g. quadratic) regression.
 */

const N = Number(process.env['MANY_STORES'] ?? '10000');
const BUDGET_MS = 60_000;

jest.setTimeout(120_000);

describe(`${N} stores`, () => {
  it('open, commit a few, snapshot to bytes, restore into an SC with the same app hash', async () => {
    const names = Array.from({ length: N }, (_, i) => `m${String(i).padStart(5, '0')}`);
    const touched = [names[0]!, names[1]!, names[N >> 1]!, names[N - 1]!];
    const timings: [string, number][] = [];
    const start = performance.now();
    let t = start;
    const lap = (what: string): void => {
      const now = performance.now();
      timings.push([what, Math.round(now - t)]);
      t = now;
    };
    const v1db = await openDb();
    const scdb = await openDb();
    try {
      const v1 = await LegacyStore.open(v1db, { storeKeys: names });
      lap('LegacyStore.open');
      await v1.commit(changesetFromPairs(1, touched.map((s, i) => [s, utf8(`k${i}`), utf8(`v${i}`)])).changeset);
      lap('commit v1 (4 stores touched)');
      await v1.commit(changesetFromPairs(2, [[touched[1]!, utf8('k1'), undefined], [touched[2]!, utf8('z'), utf8('zz')]]).changeset);
      lap('commit v2 (2 stores touched)');
      const reopened = await LegacyStore.open(v1db, { storeKeys: names });
      expect(reopened.latestVersion).toBe(2);
      lap('LegacyStore reopen');
      const items = await drainReader(await reopened.snapshotReader(2), 1024);
      expect(items.filter((i) => i.kind === 'store')).toHaveLength(N);
      lap(`snapshot (${items.length} items)`);
      const bytes = encodeSnapshotItemFrames(items);
      lap(`encode (${bytes.length} bytes)`);
      const sc = await CommitStore.open(scdb, { storeKeys: names });
      lap('CommitStore.open');
      const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
      let leaves = 0;
      const result = await sc.restore(2, byteStreamReader(chunks), { onLeaf: () => void leaves++ });
      lap('decode + restore');
      expect(leaves).toBe(4);
      expect(result.storesDone).toBe(N);
      const appHash = await v1.appHash(2);
      expect(toHex(await sc.appHash(2))).toBe(toHex(appHash));
      lap('app hashes');
      // Spot checks: values and a verified proof in a touched store, nothing in an untouched one.
      expect(await sc.get(touched[2]!, 2, utf8('z'))).toEqual(utf8('zz'));
      expect(await sc.get(touched[1]!, 2, utf8('k1'))).toBeUndefined();
      expect(await sc.get(names[7]!, 2, utf8('k0'))).toBeUndefined();
      verifyStoreProof(await sc.getProof(touched[3]!, 2, utf8('k3')), touched[3]!, utf8('k3'), appHash);
      // The restored SC keeps committing with the same hashes as store/v1.
      const cs = changesetFromPairs(3, [[names[42]!, utf8('late'), utf8('1')]]).changeset;
      await sc.writeChangeset(cs);
      const info = await sc.commit(3);
      const v1Info = await v1.commit(cs);
      expect(info.storeInfos).toHaveLength(N);
      expect(toHex(await sc.appHash(3))).toBe(toHex(await v1.appHash(3)));
      expect(v1Info.version).toBe(3);
      lap('commit v3 on both');
    } finally {
      await v1db.close();
      await scdb.close();
    }
    const total = performance.now() - start;
    if (process.env['STORES_REPORT']) {
      console.log(`${N} stores: total ${Math.round(total)} ms; ${timings.map(([w, ms]) => `${w} ${ms} ms`).join('; ')}`);
    }
    expect(total).toBeLessThan(BUDGET_MS);
  });
});
