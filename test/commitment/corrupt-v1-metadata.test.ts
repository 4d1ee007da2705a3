import { concatBytes, utf8 } from '../../src/core/bytes.js';
import type { StoreError } from '../../src/core/errors.js';
import { nodeDbKey } from '../../src/iavl/node-db.js';
import { changesetFromPairs } from '../../src/core/changeset.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { decodeCommitInfoV1, encodeCommitInfoV1, type CommitInfo } from '../../src/proto/commit-info.js';
import { encodeInt64Value } from '../../src/proto/int64-value.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { errorOf } from '../support/errors.js';

const STORES = ['bank', 'staking'];

/** A store/v1 with three versions; its database, to corrupt and reopen. */
async function built(): Promise<LevelDb> {
  const db = await openDb();
  const v1 = await LegacyStore.open(db, { storeKeys: STORES });
  for (let v = 1; v <= 3; v++) {
    await v1.commit(changesetFromPairs(v, STORES.map((store): [string, Uint8Array, Uint8Array] => [store, utf8(`key-${v}`), utf8(`value-${v}`)])).changeset);
  }
  return db;
}

async function rewriteCommitInfo(db: LevelDb, version: number, change: (info: CommitInfo) => CommitInfo): Promise<void> {
  const key = utf8(`s/${version}`);
  await db.put(key, encodeCommitInfoV1(change(decodeCommitInfoV1((await db.get(key))!))));
}

describe('corrupt store/v1 metadata and nodes', () => {
  it('a proof whose store hash in the commit info is not the tree root is ERR_HASH_MISMATCH, never a proof that fails to verify', async () => {
    const db = await built();
    await rewriteCommitInfo(db, 3, (info) => ({
      ...info,
      storeInfos: info.storeInfos.map((store) =>
        store.name === 'bank' ? { ...store, commitId: { ...store.commitId, hash: store.commitId.hash.map((b, i) => (i === 0 ? b ^ 1 : b)) } } : store,
      ),
    }));
    const v1 = await LegacyStore.open(db, { storeKeys: STORES });
    const error = await errorOf(v1.getProof('bank', utf8('key-3'), 3));
    expect(error.code).toBe('ERR_HASH_MISMATCH');
    expect(error.message).toMatch(/the commit info of version 3 in store\/v1 records [0-9a-f]{64} for store bank, but its tree's root is [0-9a-f]{64}/);
    // The other store's hash is intact: its proof is served.
    expect((await v1.getProof('staking', utf8('key-3'), 3)).value).toEqual(utf8('value-3'));
  });

  it('a commit info that claims another version than its key, or a store committed later, is ERR_VERSION_MISMATCH', async () => {
    const db = await built();
    await rewriteCommitInfo(db, 3, (info) => ({ ...info, version: 7 }));
    await rewriteCommitInfo(db, 2, (info) => ({ ...info, storeInfos: info.storeInfos.map((store) => ({ ...store, commitId: { ...store.commitId, version: 9 } })) }));
    const v1 = await LegacyStore.open(db, { storeKeys: STORES });
    const claimed = await errorOf(v1.appHash(3));
    expect(claimed.code).toBe('ERR_VERSION_MISMATCH');
    expect(claimed.message).toMatch(/the commit info of store\/v1 at s\/3 records version 7/);
    const later = await errorOf(v1.appHash(2));
    expect(later.code).toBe('ERR_VERSION_MISMATCH');
    expect(later.message).toMatch(/at s\/2 records store bank at version 9/);
    expect((await v1.appHash(1)).length).toBe(32);
  });

  it('a negative latest version is ERR_VERSION_RANGE naming s/latest; an undecodable one says where it is', async () => {
    const db = await built();
    await db.put(utf8('s/latest'), encodeInt64Value(-1));
    const negative = await errorOf(LegacyStore.open(db, { storeKeys: STORES }));
    expect(negative.code).toBe('ERR_VERSION_RANGE');
    expect(negative.message).toMatch(/the latest version of store\/v1 at s\/latest is -1: it must be a version, or 0/);
    await db.put(utf8('s/latest'), Uint8Array.of(0x08));
    const truncated = await errorOf(LegacyStore.open(db, { storeKeys: STORES }));
    expect(truncated.message).toMatch(/^the latest version of store\/v1 at s\/latest: /);
  });

  it('with no store at all, the earliest version is the latest, not 2^53 − 1', async () => {
    const db = await openDb();
    await db.put(utf8('s/latest'), encodeInt64Value(5));
    await db.put(utf8('s/5'), encodeCommitInfoV1({ version: 5, storeInfos: [] }));
    const v1 = await LegacyStore.open(db, { storeKeys: [] });
    expect(await v1.earliestVersion()).toBe(5);
  });

  it('a corrupt node of a store names the tree of that store', async () => {
    const db = await built();
    // The root of bank's tree at version 3, truncated.
    const key = concatBytes(utf8('s/k:bank/'), nodeDbKey({ kind: 'v1', version: 3, nonce: 1 }));
    await db.put(key, (await db.get(key))!.subarray(0, 3));
    const v1 = await LegacyStore.open(db, { storeKeys: STORES }).catch((error: unknown) => error as StoreError);
    const error = v1 instanceof LegacyStore ? await errorOf(v1.get('bank', utf8('key-3'), 3)) : v1;
    expect(error.code).toBe('ERR_NODE_CORRUPT');
    expect(error.message).toMatch(/^corrupt node s\(3, 1\): .* \(in the tree at "s\/k:bank\/"\)$/);
    expect(error.details).toMatchObject({ tree: '"s/k:bank/"' });
  });
});
