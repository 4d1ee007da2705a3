/**
 * Builds a store/v1 database of N random keys spread over several stores, for the benches that
 * need one to migrate or to commit on top of. Two ways, because building is the slow part of the
 * big benches (our IAVL sets ≈ 1-6k keys/s):
 *
 *   - `commits`: `LegacyStore.commit` of `block` keys per version — a realistic tree (nodes of
 *     many versions, shaped by AVL rotations), but slow at millions of keys;
 *   - `import`: a perfectly balanced tree per store streamed through the snapshot restorer at
 *     version 1 — 10-20× faster, but every node has version 1 and node keys are in post-order,
 *     so a later export reads LevelDB sequentially (throughput looks better than on a real chain;
 *     memory behaves the same, which is what the memory bench measures).
 */
import type { LevelDb } from '../../src/db/level-db.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { MultiTreeRestorer } from '../../src/commitment/snapshot-restore.js';
import { changesetFromPairs, type ChangesetEntry } from '../../src/core/changeset.js';
import type { SnapshotIAVLItem } from '../../src/proto/snapshot-item.js';
import { Prng } from './prng.js';

export type V1BuildMode = 'commits' | 'import';

/** Options of {@link buildV1}. */
export interface V1BuildOptions {
  readonly stores: readonly string[];
  readonly keys: number;
  readonly mode: V1BuildMode;
  /** Keys per committed version (`commits` mode only). */
  readonly block: number;
  readonly seed: number;
  /**
   * Keep up to this many written keys per store (the first ones), so a bench can update and
   * delete existing keys later. Default 0: the keys are not kept.
   */
  readonly keepKeysPerStore?: number;
  /** Called now and then with the number of keys written so far. */
  readonly onProgress?: (done: number) => void;
}

/** What {@link buildV1} produced. */
export interface V1BuildResult {
  /** The latest version of the built store (the migration height). */
  readonly height: number;
  /** Kept keys per store (see `keepKeysPerStore`). */
  readonly keys: ReadonlyMap<string, Uint8Array[]>;
}

const KEY_BYTES = 32;
const VALUE_BYTES = 32;

/** Builds store/v1 in `db` (which must be empty) and closes nothing. */
export async function buildV1(db: LevelDb, options: V1BuildOptions): Promise<V1BuildResult> {
  const kept = new Map<string, Uint8Array[]>(options.stores.map((s) => [s, []]));
  const keep = (store: string, key: Uint8Array): void => {
    const pool = kept.get(store)!;
    if (pool.length < (options.keepKeysPerStore ?? 0)) pool.push(key);
  };
  const v1 = await LegacyStore.open(db, { storeKeys: options.stores });
  if (v1.latestVersion !== 0) throw new Error(`buildV1: the database already holds version ${v1.latestVersion}`);
  const height = options.mode === 'commits' ? await byCommits(v1, options, keep) : await byImport(v1, options, keep);
  return { height, keys: kept };
}

async function byCommits(v1: LegacyStore, options: V1BuildOptions, keep: (store: string, key: Uint8Array) => void): Promise<number> {
  const prng = new Prng(options.seed);
  const { stores } = options;
  for (let done = 0; done < options.keys; ) {
    const entries: ChangesetEntry[] = [];
    const n = Math.min(options.block, options.keys - done);
    for (let i = 0; i < n; i++) {
      const store = stores[(done + i) % stores.length]!;
      const key = prng.bytes(KEY_BYTES);
      keep(store, key);
      entries.push([store, key, prng.bytes(VALUE_BYTES)]);
    }
    await v1.commit(changesetFromPairs(v1.latestVersion + 1, entries).changeset);
    done += n;
    options.onProgress?.(done);
  }
  return v1.latestVersion;
}

async function byImport(v1: LegacyStore, options: V1BuildOptions, keep: (store: string, key: Uint8Array) => void): Promise<number> {
  const prng = new Prng(options.seed);
  const restorer = new MultiTreeRestorer(v1.multi, 1);
  const { stores } = options;
  let done = 0;
  for (let s = 0; s < stores.length; s++) {
    const store = stores[s]!;
    // The same split as `commits` mode: key i goes to store i mod stores.
    const count = Math.floor(options.keys / stores.length) + (s < options.keys % stores.length ? 1 : 0);
    await restorer.add({ kind: 'store', name: store });
    for (const item of balancedTree(count, prng)) {
      await restorer.add(item);
      if (item.height === 0) {
        keep(store, item.key);
        if (++done % 50_000 === 0) options.onProgress?.(done);
      }
    }
  }
  await restorer.finish();
  options.onProgress?.(done);
  return v1.latestVersion;
}

/**
 * The post-order export of a balanced IAVL tree over `count` sorted keys, all at version 1.
 * Keys are sorted without sorting anything: the first 4 bytes spread the index evenly over the
 * 32-bit range, the other 28 are random.
 */
function* balancedTree(count: number, prng: Prng): Generator<SnapshotIAVLItem, void, undefined> {
  const stride = Math.max(1, Math.floor(2 ** 32 / Math.max(count, 1)));
  const keyAt = (index: number): Uint8Array => {
    const key = prng.bytes(KEY_BYTES);
    new DataView(key.buffer).setUint32(0, index * stride);
    return key;
  };
  // Recursion depth is the tree height (≈ log2 count); each subtree returns its first key (the key
  // of the inner node above it when it is a right child) and its height.
  function* subtree(lo: number, hi: number): Generator<SnapshotIAVLItem, { minKey: Uint8Array; height: number }, undefined> {
    if (hi - lo === 1) {
      const key = keyAt(lo);
      yield { kind: 'iavl', key, value: prng.bytes(VALUE_BYTES), version: 1, height: 0 };
      return { minKey: key, height: 0 };
    }
    const mid = lo + Math.ceil((hi - lo) / 2);
    const left = yield* subtree(lo, mid);
    const right = yield* subtree(mid, hi);
    const height = Math.max(left.height, right.height) + 1;
    yield { kind: 'iavl', key: right.minKey, value: new Uint8Array(0), version: 1, height };
    return { minKey: left.minKey, height };
  }
  if (count > 0) yield* subtree(0, count);
}
