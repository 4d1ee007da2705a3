import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { equalBytes, toHex, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs, decodeChangeset, encodeChangeset, type ChangesetEntry } from '../../src/core/changeset.js';
import { StoreError } from '../../src/core/errors.js';
import { openDb } from '../../src/db/level-db.js';
import { encodeSnapshotItemFrames, SnapshotItemDecoder } from '../../src/proto/snapshot-item.js';
import { RootStore, type RootStoreEvent } from '../../src/root/root-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { blockTime, tempDir } from '../support/db.js';
import { drainReader, verifyStoreProof } from './support.js';

/**
 * 1 MiB values end to end: committed to store/v1 (classic-level on disk), migrated to store/v2
 * (SC + SS), read back from the SS, proved from the new SC and verified with @confio/ics23, and
 * carried by the snapshot byte stream and the changeset codec.
 */

const MiB = 1024 * 1024;
const STORES = ['acc', 'bank'];

/** Deterministic per (tag) so expectations can be recomputed; random-looking so nothing compresses. */
const bigValues = new Map<string, Uint8Array>();
function big(tag: string): Uint8Array {
  let v = bigValues.get(tag);
  if (v === undefined) {
    v = new Uint8Array(randomBytes(MiB));
    bigValues.set(tag, v);
  }
  return v;
}

function expectSame(actual: Uint8Array | undefined, expected: Uint8Array | undefined, what: string): void {
  if (expected === undefined) {
    expect(actual).toBeUndefined();
    return;
  }
  // toEqual on 1 MiB arrays is slow and its diff unreadable: compare bytes, report sizes.
  if (actual === undefined || !equalBytes(actual, expected)) {
    throw new Error(`${what}: got ${actual === undefined ? 'nothing' : `${actual.length} bytes`}, expected ${expected.length} bytes`);
  }
}

jest.setTimeout(120_000);

describe('1 MiB values', () => {
  it('round-trip through a v1 commit, the migration, SS reads and verified SC proofs', async () => {
    const dir = tempDir('rxsm-big-');
    const v1db = await openDb(join(dir.path, 'application.db'));
    const v2db = await openDb(join(dir.path, 'v2.db'));
    try {
      // store/v1: big values at versions 1..3 (one overwritten, one deleted), small ones around them.
      const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
      const truth = new Map<string, Uint8Array | undefined>();
      const commit = async (v: number, entries: ChangesetEntry[]): Promise<void> => {
        for (const [store, key, value] of entries) truth.set(`${store}/${new TextDecoder().decode(key)}`, value);
        await v1.commit(changesetFromPairs(v, entries).changeset);
      };
      await commit(1, [
        ['acc', utf8('big-1'), big('acc-1@1')],
        ['bank', utf8('big-1'), big('bank-1@1')],
        ['bank', utf8('small'), utf8('s')],
      ]);
      await commit(2, [
        ['acc', utf8('big-1'), big('acc-1@2')],
        ['acc', utf8('big-2'), big('acc-2@2')],
      ]);
      await commit(3, [
        ['bank', utf8('big-1'), undefined],
        ['bank', utf8('big-3'), big('bank-3@3')],
      ]);
      expectSame(await v1.get('acc', utf8('big-1'), 1), big('acc-1@1'), 'v1 acc/big-1@1');
      const v1Hash = await v1.appHash(3);
      for (const [path, value] of truth) {
        const [store, key] = path.split('/') as [string, string];
        const proof = await v1.getProof(store, utf8(key), 3);
        expectSame(proof.value, value, `v1 proof ${path}`);
        verifyStoreProof(proof, store, utf8(key), v1Hash);
      }

      // The snapshot as a byte stream: 1 MiB frames pass the default limit and fail a smaller one.
      const items = await drainReader(await v1.snapshotReader(3));
      const bytes = encodeSnapshotItemFrames(items);
      const decoder = new SnapshotItemDecoder();
      const decoded = [...decoder.push(bytes.subarray(0, 300_000)), ...decoder.push(bytes.subarray(300_000))];
      decoder.end();
      expect(decoded).toHaveLength(items.length);
      const tight = new SnapshotItemDecoder({ maxFrameSize: MiB });
      let error: unknown;
      try {
        tight.push(bytes);
        tight.end();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('ERR_FRAME_TOO_LARGE');

      // The changeset codec (the migration log) carries them too.
      const cs = changesetFromPairs(9, [['acc', utf8('x'), big('acc-1@1')]]).changeset;
      expectSame(decodeChangeset(encodeChangeset(cs)).changes[0]!.pairs[0]!.value, big('acc-1@1'), 'changeset codec');

      // Migrate: commit small blocks until the switch, then one more big value in store/v2.
      const root = await RootStore.open({ v1: { db: v1db, storeKeys: STORES }, v2: { db: v2db }, migrate: true, batchSize: 2, progressIntervalMs: 0 });
      const events: RootStoreEvent[] = [];
      root.events$.subscribe((e) => events.push(e));
      const hashes = new Map<number, Uint8Array>();
      let v = 3;
      while (root.phase === 'migrating' && v < 80) {
        v++;
        hashes.set(v, await root.commit(changesetFromPairs(v, [['acc', utf8(`tick-${v}`), utf8(`${v}`)]])));
        await blockTime(root);
      }
      expect(root.phase).toBe('switched');
      const restored = events.find((e) => e.type === 'restored') as { keys: number; storeRoots: Record<string, string> } | undefined;
      expect(restored?.storeRoots).toEqual({ acc: toHex(await v1.storeRoot('acc', 3)), bank: toHex(await v1.storeRoot('bank', 3)) });
      v++;
      hashes.set(v, await root.commit(changesetFromPairs(v, [['bank', utf8('big-4'), big('bank-4@post')]])));
      truth.set('bank/big-4', big('bank-4@post'));

      for (const [path, value] of truth) {
        const [store, key] = path.split('/') as [string, string];
        // Without a proof the SS answers; with one, the new SC.
        expectSame((await root.query(store, utf8(key))).value, value, `SS ${path}`);
        const proved = await root.query(store, utf8(key), { version: v, prove: true });
        expectSame(proved.value, value, `SC proof ${path}`);
        verifyStoreProof(proved.proof!, store, utf8(key), hashes.get(v)!);
      }
      // History below the migration height still comes from the retained store/v1.
      expectSame((await root.query('acc', utf8('big-1'), { version: 1 })).value, big('acc-1@1'), 'v1 history');
      await root.close();
    } finally {
      await v1db.close();
      await v2db.close();
      dir.cleanup();
    }
  });
});
