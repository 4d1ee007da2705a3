import { join } from 'node:path';
import { iavlSpec, verifyMembership } from '@confio/ics23';
import { concatBytes, toHex, utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { encodeCommitInfoV1 } from '../../src/proto/commit-info.js';
import { encodeInt64Value } from '../../src/proto/int64-value.js';
import { openCopy } from '../support/db.js';
import { readVectors, VECTORS_DIR } from '../support/vectors.js';

const streams = readVectors<{ dbs: { name: string; versions: { version: number; expectedRootHash: string }[] }[] }>(
  'iavl-legacy-db-export-streams.json',
);

/**
 * Builds a store/v1 application.db whose module trees are the real Go IAVL 0.13 databases (legacy
 * `n‖hash` / `r‖version` format), as an old node upgraded to store/v1 would have on disk.
 */
async function applicationDbFromGoTrees() {
  const target = await openDb();
  const sources = await Promise.all(
    streams.dbs.map(async (d, i) => ({ name: ['bank', 'staking'][i]!, handle: await openCopy(join(VECTORS_DIR, 'iavl-testdata-goleveldb', d.name)) })),
  );
  for (const { name, handle } of sources) {
    const ops = [];
    for await (const [key, value] of handle.db.iterator()) {
      ops.push({ type: 'put' as const, key: concatBytes(utf8(`s/k:${name}/`), key), value });
    }
    await target.batch(ops);
    await handle.cleanup();
  }
  const roots = new Map(streams.dbs.map((d, i) => [['bank', 'staking'][i]!, d.versions]));
  for (const version of [3, 6]) {
    const storeInfos = ['bank', 'staking'].map((name) => ({
      name,
      commitId: { version, hash: Buffer.from(roots.get(name)!.find((v) => v.version === version)!.expectedRootHash, 'hex') },
    }));
    await target.put(utf8(`s/${version}`), encodeCommitInfoV1({ version, storeInfos }));
  }
  await target.put(utf8('s/latest'), encodeInt64Value(6));
  return target;
}

describe('store/v1 over legacy-format trees written by Go IAVL 0.13', () => {
  it('opens read-only, answers with proofs, and snapshots into an SC with the same hashes', async () => {
    const db = await applicationDbFromGoTrees();
    try {
      const v1 = await LegacyStore.open(db, { storeKeys: ['bank', 'staking'] });
      expect(v1.latestVersion).toBe(6);
      expect(toHex(await v1.storeRoot('bank', 3))).toBe(streams.dbs[0]!.versions[0]!.expectedRootHash);
      await expect(v1.commit({ changes: [] })).rejects.toMatchObject({ code: 'ERR_READ_ONLY' });

      const proof = await v1.getProof('bank', utf8('add1'), 3);
      expect(proof.value).toBeDefined();
      expect(verifyMembership(proof.ops[0].proof, iavlSpec, proof.storeRoot, utf8('add1'), proof.value!)).toBe(true);

      const sc = await CommitStore.open(db, { storeKeys: ['bank', 'staking'], prefix: 'v2/sc/' });
      const result = await sc.restore(6, await v1.snapshotReader(6), { batchSize: 5 });
      expect(result.storesDone).toBe(2);
      expect(toHex(await sc.appHash(6))).toBe(toHex(await v1.appHash(6)));
      for (const name of ['bank', 'staking']) expect(toHex(await sc.storeRoot(name, 6))).toBe(toHex(await v1.storeRoot(name, 6)));
      // Read-only views of one store's tree, on both sides.
      const [v1Bank, scBank] = await Promise.all([v1.treeAt('bank', 6), sc.treeAt('bank', 6)]);
      expect([toHex(v1Bank.hash), v1Bank.size, await v1Bank.get(utf8('add1'))]).toEqual([toHex(scBank.hash), scBank.size, await scBank.get(utf8('add1'))]);
      expect(v1Bank.size).toBe(9);
      await expect(v1.treeAt('gov', 6)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_STORE' });
      await expect(sc.treeAt('bank', 0)).rejects.toMatchObject({ code: 'ERR_VERSION_RANGE' });
      await expect(sc.treeAt('bank', 7)).rejects.toMatchObject({ code: 'ERR_VERSION_NOT_FOUND' });
      // The migrated SC is writable (v1 format) where the legacy trees were not.
      await sc.writeChangeset({ changes: [{ storeKey: 'bank', pairs: [{ key: utf8('new'), value: utf8('1'), remove: false }] }] });
      expect((await sc.commit(7)).version).toBe(7);
    } finally {
      await db.close();
    }
  });
});
