import fc from 'fast-check';
import { equalBytes, toHex } from '../../src/core/bytes.js';
import { commitInfoHash } from '../../src/commitment/commit-info.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { openDb } from '../../src/db/level-db.js';
import { encodeSnapshotItem, encodeSnapshotItemFrames, type SnapshotItem } from '../../src/proto/snapshot-item.js';
import {
  buildStream,
  byteMutationArb,
  byteStreamReader,
  check,
  chunked,
  decodeChunks,
  encodeFields,
  fcParams,
  itemFields,
  sameItem,
  sameItems,
  serializeFrames,
  SOURCE_STORES,
  SOURCE_VERSION,
  sourceSnapshot,
  streamMutationArb,
  Tally,
  typedOutcomeAsync,
  type SourceSnapshot,
} from './support.js';

/**
 * Mutated snapshot byte streams through the whole restore path — frame decoder, item decoder,
 * `CommitStore.restore` into a fresh SC on memory-level (behaviours 17 and 49). Every case must end
 * as a typed StoreError that leaves the SC looking empty, or as a restore whose state is exactly
 * what the stream described.
 */

const tally = new Tally();
let source: SourceSnapshot;
let encoded: Uint8Array;

beforeAll(async () => {
  source = await sourceSnapshot();
  encoded = encodeSnapshotItemFrames(source.items);
});

afterAll(() => {
  if (process.env['FUZZ_REPORT']) console.log(`snapshot-restore fuzz: ${tally}`);
});

/** Mostly item- and frame-level mutations (they reach the importer); some byte-level ones. */
const restoreCaseArb = fc.record({
  stream: fc.array(streamMutationArb, { minLength: 0, maxLength: 3 }),
  bytes: fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: fc.array(byteMutationArb, { minLength: 1, maxLength: 2 }), weight: 1 }),
  chunks: fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 4 }),
  batchSize: fc.oneof(fc.constant(4096), fc.integer({ min: 1, max: 64 })),
  // Mostly the snapshot's own height; sometimes one that its node versions contradict or undershoot.
  version: fc.oneof({ arbitrary: fc.constant(SOURCE_VERSION), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: SOURCE_VERSION + 2 }), weight: 1 }),
});

/** Per store, the IAVL items the stream gave it (inner values dropped: the importer ignores them). */
function perStore(items: readonly SnapshotItem[]): Map<string, SnapshotItem[]> {
  const out = new Map<string, SnapshotItem[]>();
  let current: SnapshotItem[] | undefined;
  for (const item of items) {
    if (item.kind === 'store') {
      current = [];
      out.set(item.name, current);
    } else if (item.kind === 'iavl') {
      current!.push(item.height === 0 ? item : { ...item, value: new Uint8Array(0) });
    }
  }
  return out;
}

async function exportAll(sc: CommitStore, version: number): Promise<SnapshotItem[]> {
  const reader = await sc.snapshotReader(version);
  const items: SnapshotItem[] = [];
  for (;;) {
    const batch = await reader.read(256);
    if (batch.length === 0) break;
    items.push(...batch);
  }
  await reader.close();
  return items;
}

/** What a restore of `source` into a fresh SC gives: the app hash (sanity baseline). */
async function cleanRestore(sc: CommitStore): Promise<Uint8Array> {
  await sc.restore(SOURCE_VERSION, byteStreamReader([encodeSnapshotItemFrames(source.items)]));
  return sc.appHash(SOURCE_VERSION);
}

describe('snapshot restore fuzz (decoder + CommitStore.restore)', () => {
  it('the unmutated stream restores to the source app hash and store roots', async () => {
    const db = await openDb();
    try {
      const sc = await CommitStore.open(db, { storeKeys: [...SOURCE_STORES] });
      expect(toHex(await cleanRestore(sc))).toBe(toHex(source.appHash));
      for (const store of SOURCE_STORES) expect(toHex(await sc.storeRoot(store))).toBe(toHex(source.storeRoots.get(store)!));
    } finally {
      await db.close();
    }
  });

  it('mutated streams restore exactly what they describe, or fail typed and leave the SC empty', async () => {
    await fc.assert(
      fc.asyncProperty(restoreCaseArb, async (c) => {
        const bytes = buildStream(source.items, c);
        // No-op mutations (a swap of a frame with itself...) are skipped, not counted.
        fc.pre(c.version !== SOURCE_VERSION || !equalBytes(bytes, encoded));
        tally.add('restore.cases');
        const db = await openDb();
        try {
          const sc = await CommitStore.open(db, { storeKeys: [...SOURCE_STORES] });
          const leaves: [string, Uint8Array, Uint8Array][] = [];
          const reader = byteStreamReader(chunked(bytes, c.chunks));
          const outcome = await typedOutcomeAsync(() =>
            sc.restore(c.version, reader, { batchSize: c.batchSize, onLeaf: (store, key, value) => void leaves.push([store, key, value]) }),
          );
          if (!outcome.ok) {
            tally.add(`restore.error.${outcome.error.code}`);
            // Nothing looks committed, now or after reopening, and a wipe makes the SC usable again.
            check(sc.latestVersion === 0, () => `failed restore left latest ${sc.latestVersion}`);
            const reopened = await CommitStore.open(db, { storeKeys: [...SOURCE_STORES] });
            check(reopened.latestVersion === 0, () => `reopened after a failed restore: latest ${reopened.latestVersion}`);
            check((await reopened.getCommitInfo(c.version)) === undefined, () => 'a failed restore wrote a CommitInfo');
            await reopened.clear();
            check(equalBytes(await cleanRestore(reopened), source.appHash), () => 'restore after wiping a failed one differs');
            return;
          }
          const result = outcome.value;
          tally.add(result.next === undefined ? 'restore.ok' : 'restore.okStoppedAtExtension');
          // What the restore consumed: every item, or those up to the first non-store/IAVL item.
          const decoded = decodeChunks([bytes]);
          let consumed: SnapshotItem[];
          if (result.next === undefined) {
            check(decoded.error === undefined, () => `restore succeeded on a stream that fails decoding (${decoded.error?.code})`);
            consumed = decoded.items;
          } else {
            const at = decoded.items.findIndex((item) => item.kind !== 'store' && item.kind !== 'iavl');
            check(at >= 0 && sameItem(decoded.items[at]!, result.next), () => 'returned `next` is not the first extension item');
            consumed = decoded.items.slice(0, at);
          }
          check(result.commitInfo.version === c.version && sc.latestVersion === c.version, () => 'restored version');
          check(equalBytes(await sc.appHash(c.version), commitInfoHash(result.commitInfo.storeInfos)), () => 'app hash vs commit info');
          // Every leaf was forwarded once, in stream order, with its store.
          const expectedLeaves: [string, Uint8Array, Uint8Array][] = [];
          let store = '';
          for (const item of consumed) {
            if (item.kind === 'store') store = item.name;
            else if (item.kind === 'iavl' && item.height === 0) expectedLeaves.push([store, item.key, item.value]);
          }
          check(
            leaves.length === expectedLeaves.length &&
              leaves.every(([s, k, v], i) => s === expectedLeaves[i]![0] && equalBytes(k, expectedLeaves[i]![1]) && equalBytes(v, expectedLeaves[i]![2])),
            () => 'onLeaf calls differ from the stream leaves',
          );
          // The SC holds exactly the trees the stream described: exporting them gives the stream back.
          const given = perStore(consumed);
          const exported = perStore(await exportAll(sc, c.version));
          for (const name of SOURCE_STORES) {
            check(sameItems(exported.get(name) ?? [], given.get(name) ?? []), () => `store ${name}: exported nodes differ from the restored stream`);
          }
          for (const [s, k, v] of expectedLeaves) {
            const got = await sc.get(s, c.version, k);
            check(got !== undefined && equalBytes(got, v), () => `leaf ${s}/${toHex(k)} does not read back`);
          }
          if (c.version === SOURCE_VERSION && sameItems(consumed, source.items)) {
            tally.add('restore.okIdentical');
            check(equalBytes(await sc.appHash(), source.appHash), () => 'an unchanged snapshot restored to another app hash');
          }
        } finally {
          await db.close();
        }
      }),
      fcParams(400, { timeout: 10_000 }),
    );
  });

  it('covers at least a few hundred mutated streams through CommitStore.restore', () => {
    expect(tally.get('restore.cases')).toBeGreaterThanOrEqual(400);
  });
});

describe('restore rules on hand-made streams (behaviour 17)', () => {
  const leaf = (key: string, version = 1): SnapshotItem => ({ kind: 'iavl', key: new TextEncoder().encode(key), value: new TextEncoder().encode('v'), version, height: 0 });

  async function restoreBytes(bytes: Uint8Array, version = 1) {
    const db = await openDb();
    try {
      const sc = await CommitStore.open(db, { storeKeys: ['acc', 'bank'] });
      return await typedOutcomeAsync(() => sc.restore(version, byteStreamReader([bytes])));
    } finally {
      await db.close();
    }
  }

  it('an IAVL item before any store item is ERR_IMPORT_ORDER', async () => {
    const r = await restoreBytes(encodeSnapshotItemFrames([leaf('a'), { kind: 'store', name: 'acc' }]));
    expect(!r.ok && r.error.code).toBe('ERR_IMPORT_ORDER');
  });

  it('an unknown store is ERR_UNKNOWN_STORE naming it', async () => {
    for (const name of ['nope', '__proto__', 'constructor', 'toString', '']) {
      const r = await restoreBytes(encodeSnapshotItemFrames([{ kind: 'store', name }, leaf('a')]));
      expect(!r.ok && r.error.code).toBe('ERR_UNKNOWN_STORE');
      if (!r.ok) expect(r.error.message).toContain(`store ${JSON.stringify(name)} not found`);
    }
  });

  it.each([128n, 255n, 2n ** 31n - 1n, -1n, -(2n ** 31n)])('height %p is ERR_IMPORT_HEIGHT, even on the wire as a 10-byte int32', async (height) => {
    const bytes = serializeFrames([
      { body: encodeSnapshotItem({ kind: 'store', name: 'acc' }) },
      { body: encodeFields(itemFields({ kind: 'rawIavl', raw: { key: new Uint8Array([1]), value: new Uint8Array([1]), version: 1n, height } })) },
    ]);
    const r = await restoreBytes(bytes);
    expect(!r.ok && r.error.code).toBe('ERR_IMPORT_HEIGHT');
  });

  it.each([
    [0n, 'ERR_IMPORT_ORDER'],
    [2n, 'ERR_IMPORT_ORDER'],
    [-1n, 'ERR_VERSION_RANGE'],
    [2n ** 53n, 'ERR_VERSION_RANGE'],
    [2n ** 63n - 1n, 'ERR_VERSION_RANGE'],
  ])('node version %p in a restore at version 1 is %s', async (version, code) => {
    const bytes = serializeFrames([
      { body: encodeSnapshotItem({ kind: 'store', name: 'acc' }) },
      { body: encodeFields(itemFields({ kind: 'rawIavl', raw: { key: new Uint8Array([1]), value: new Uint8Array([1]), version, height: 0n } })) },
    ]);
    const r = await restoreBytes(bytes);
    expect(!r.ok && r.error.code).toBe(code);
  });

  it('leaves out of order, a duplicate store and a truncated tree are typed errors', async () => {
    const dupLeaf = await restoreBytes(encodeSnapshotItemFrames([{ kind: 'store', name: 'acc' }, leaf('b'), leaf('a')]));
    expect(!dupLeaf.ok && dupLeaf.error.code).toBe('ERR_IMPORT_ORDER');
    const dupStore = await restoreBytes(encodeSnapshotItemFrames([{ kind: 'store', name: 'acc' }, { kind: 'store', name: 'acc' }]));
    expect(!dupStore.ok && dupStore.error.code).toBe('ERR_IMPORT_ORDER');
    const unjoined = await restoreBytes(encodeSnapshotItemFrames([{ kind: 'store', name: 'acc' }, leaf('a'), leaf('b')]));
    expect(!unjoined.ok && unjoined.error.code).toBe('ERR_IMPORT_INCOMPLETE');
  });

  it('an inner node that carries a value is ERR_IMPORT_ORDER; with an empty one (the protobuf default) it is imported', async () => {
    const inner = (value: string): SnapshotItem => ({ kind: 'iavl', key: new TextEncoder().encode('b'), value: new TextEncoder().encode(value), version: 1, height: 1 });
    const valued = await restoreBytes(encodeSnapshotItemFrames([{ kind: 'store', name: 'acc' }, leaf('a'), leaf('b'), inner('x')]));
    expect(!valued.ok && valued.error.code).toBe('ERR_IMPORT_ORDER');
    if (!valued.ok) expect(valued.error.message).toMatch(/inner node 62 carries a value/);
    const plain = await restoreBytes(encodeSnapshotItemFrames([{ kind: 'store', name: 'acc' }, leaf('a'), leaf('b'), inner('')]));
    expect(plain.ok).toBe(true);
  });

  it('a non-store/non-IAVL item stops the restore and is returned with the rest of its batch', async () => {
    const db = await openDb();
    try {
      const sc = await CommitStore.open(db, { storeKeys: ['acc', 'bank'] });
      const ext: SnapshotItem = { kind: 'extension', name: 'wasm', format: 1 };
      const payload: SnapshotItem = { kind: 'extensionPayload', payload: new Uint8Array([9]) };
      const r = await sc.restore(1, byteStreamReader([encodeSnapshotItemFrames([{ kind: 'store', name: 'acc' }, leaf('a'), ext, payload])]));
      expect(r.next).toEqual(ext);
      expect(r.remaining).toEqual([payload]);
      expect(await sc.get('acc', 1, new TextEncoder().encode('a'))).toEqual(new TextEncoder().encode('v'));
    } finally {
      await db.close();
    }
  });
});
