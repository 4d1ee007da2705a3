import { Readable } from 'node:stream';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs } from '../../src/core/changeset.js';
import { StoreError } from '../../src/core/errors.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { checkIavlProofRules } from '../../src/iavl/proof-rules.js';
import { DelimitedFrameDecoder } from '../../src/proto/delimited.js';
import { decodeCommitmentProof } from '../../src/proto/ics23.js';
import { decodeSnapshotItemStream, encodeSnapshotItemFrames, SnapshotItemDecoder, type SnapshotItem } from '../../src/proto/snapshot-item.js';
import { RootStore, type RootStoreEvent } from '../../src/root/root-store.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';

/**
 * Bugs found by the fuzz and untrusted-input suites, each as a minimal reproduction. These tests
 * FAIL until the bug is fixed in src/ (this suite does not touch src/); each names the suggested
 * fix. Once fixed they are ordinary regression tests.
 */

/** The StoreError `fn` throws (sync or async); any other outcome fails with a clear message. */
async function storeErrorOf(fn: () => unknown): Promise<StoreError> {
  let outcome: unknown;
  try {
    await fn();
    outcome = 'no error';
  } catch (error) {
    if (error instanceof StoreError) return error;
    outcome = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
  }
  throw new Error(`expected a StoreError, got ${String(outcome)}`);
}

const dbs: LevelDb[] = [];
afterAll(async () => {
  for (const db of dbs) await db.close();
});
async function memDb(): Promise<LevelDb> {
  const db = await openDb();
  dbs.push(db);
  return db;
}

describe('BUG 1: checkIavlProofRules crashes on a decoded existence proof without a leaf op', () => {
  // CommitmentProof{ exist: ExistenceProof{ key: "k", value: "v" } } — no leaf (field 3).
  const leafless = fromHex('0a060a016b120176');
  // CommitmentProof{ nonexist: NonExistenceProof{ key: "k", left: ExistenceProof{ key: "j", value: "v" } } }
  const leaflessNeighbour = fromHex('120b0a016b12060a016a120176');

  it.each([
    ['exist', leafless],
    ['nonexist.left', leaflessNeighbour],
  ])('%s without leaf: ERR_INVALID_PROOF, not a TypeError', async (_name, bytes) => {
    const proof = decodeCommitmentProof(bytes);
    const error = await storeErrorOf(() => checkIavlProofRules(proof as Parameters<typeof checkIavlProofRules>[0]));
    expect(error.code).toBe('ERR_INVALID_PROOF');
  });
});

describe('BUG 2: the snapshot frame decoder accepts non-Uint8Array chunks (silent data loss or TypeError)', () => {
  const bytes = encodeSnapshotItemFrames([
    { kind: 'store', name: 'bank' },
    { kind: 'iavl', key: utf8('k'), value: utf8('v'), version: 1, height: 0 },
  ]);

  it('a Node stream with an encoding set (string chunks) fails typed instead of decoding to zero items', async () => {
    const stream = Readable.from([Buffer.from(bytes)]).setEncoding('latin1');
    const items: SnapshotItem[] = [];
    const error = await storeErrorOf(async () => {
      for await (const item of decodeSnapshotItemStream(stream)) items.push(item);
    });
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
  });

  it.each([
    ['a string', 'abc'],
    ['null', null],
    ['undefined', undefined],
    ['a number[]', [8, 1]],
  ])('push(%s) is ERR_INVALID_ARGUMENT on both decoders', async (_name, chunk) => {
    expect((await storeErrorOf(() => new SnapshotItemDecoder().push(chunk as unknown as Uint8Array))).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await storeErrorOf(() => new DelimitedFrameDecoder().push(chunk as unknown as Uint8Array))).code).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('BUG 3: RootStore.query with an empty key answers "absent" before the switch and throws after it', () => {
  it('is ERR_EMPTY_KEY in every phase and at every version', async () => {
    const v1db = await memDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: ['bank'] });
    for (let v = 1; v <= 3; v++) await v1.commit(changesetFromPairs(v, [['bank', utf8(`k${v}`), utf8(`v${v}`)]]).changeset);
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: ['bank'] }, v2: { db: await memDb() }, migrate: true, progressIntervalMs: 0 });
    const codes: Record<string, string> = {};
    const probe = async (label: string, version?: number): Promise<void> => {
      try {
        const r = await root.query('bank', new Uint8Array(0), version === undefined ? {} : { version });
        codes[label] = `resolved ${String(r.value)}`;
      } catch (error) {
        codes[label] = error instanceof StoreError ? error.code : String(error);
      }
    };
    await probe('migrating, latest');
    let v = 3;
    while (root.phase === 'migrating' && v < 50) {
      v++;
      await root.commit(changesetFromPairs(v, [['bank', utf8(`k${v}`), utf8(`v${v}`)]]));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(root.phase).toBe('switched');
    await probe('switched, latest');
    await probe('switched, below the migration height', 1);
    await root.close();
    expect(codes).toEqual({
      'migrating, latest': 'ERR_EMPTY_KEY',
      'switched, latest': 'ERR_EMPTY_KEY',
      'switched, below the migration height': 'ERR_EMPTY_KEY',
    });
  });
});

describe('BUG 4: the "restored" event loses the root of a store named __proto__', () => {
  it('storeRoots has an own entry for every store', async () => {
    const stores = ['__proto__', 'bank'];
    const v1db = await memDb();
    const v1 = await LegacyStore.open(v1db, { storeKeys: stores });
    for (let v = 1; v <= 3; v++) {
      await v1.commit(changesetFromPairs(v, stores.map((s) => [s, utf8(`k${v}`), utf8(`v${v}`)])).changeset);
    }
    const root = await RootStore.open({ v1: { db: v1db, storeKeys: stores }, v2: { db: await memDb() }, migrate: true, progressIntervalMs: 0 });
    const events: RootStoreEvent[] = [];
    root.events$.subscribe((e) => events.push(e));
    let v = 3;
    while (root.phase === 'migrating' && v < 50) {
      v++;
      await root.commit(changesetFromPairs(v, [['bank', utf8(`k${v}`), utf8(`v${v}`)]]));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await root.close();
    const restored = events.find((e) => e.type === 'restored') as { storeRoots: Record<string, string> } | undefined;
    expect(restored).toBeDefined();
    expect(Object.keys(restored!.storeRoots).sort()).toEqual(stores);
    expect(Object.getOwnPropertyDescriptor(restored!.storeRoots, '__proto__')?.value).toBe(toHex(await v1.storeRoot('__proto__', 3)));
  });
});
