import { toHex, utf8 } from '../../src/core/bytes.js';
import type { Changeset, KVPair, StoreChanges } from '../../src/core/changeset.js';
import { StoreError } from '../../src/core/errors.js';
import type { LevelDb } from '../../src/db/level-db.js';
import type { SsEntry, SsIterator } from '../../src/storage/ss-iterator.js';

/** UTF-8 bytes. */
export const b = (text: string): Uint8Array => utf8(text);

/** A set pair. */
export const set = (key: Uint8Array | string, value: Uint8Array | string): KVPair => ({
  key: typeof key === 'string' ? b(key) : key,
  value: typeof value === 'string' ? b(value) : value,
  remove: false,
});

/** A delete pair. */
export const del = (key: Uint8Array | string): KVPair => ({ key: typeof key === 'string' ? b(key) : key, remove: true });

/** A changeset from `[storeKey, pairs]` groups. */
export function cs(...groups: [string, KVPair[]][]): Changeset {
  return { changes: groups.map(([storeKey, pairs]): StoreChanges => ({ storeKey, pairs })) };
}

/** Reads an iterator to the end through `read(max)`, as `[hexKey, hexValue]` pairs. */
export async function drain(iterator: SsIterator, max = 3): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (;;) {
    const batch: SsEntry[] = await iterator.read(max);
    if (batch.length === 0) return out;
    expect(batch.length).toBeLessThanOrEqual(max);
    for (const [k, v] of batch) out.push([toHex(k), toHex(v)]);
  }
}

/** Every raw key/value of the database, hex-encoded, in key order. */
export async function dump(db: LevelDb): Promise<[string, string][]> {
  const entries = (await db.iterator().all()) as [Uint8Array, Uint8Array][];
  return entries.map(([k, v]) => [toHex(k), toHex(v)]);
}

/** The StoreError a promise rejects with (or a function throws); fails the test otherwise. */
export async function errorOf(action: Promise<unknown> | (() => unknown)): Promise<StoreError> {
  let error: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

/**
 * Counts what the store reads from LevelDB: raw entries delivered by iterators, iterators opened
 * and seeks, by wrapping `db.iterator` on this instance.
 */
export function countReads(db: LevelDb): { entries: number; iterators: number; seeks: number; open: () => number } {
  const stats = { entries: 0, iterators: 0, seeks: 0, open: () => live.size };
  const live = new Set<object>();
  const original = db.iterator.bind(db);
  (db as { iterator: unknown }).iterator = (options?: object) => {
    const it = original(options as never);
    stats.iterators++;
    live.add(it);
    const nextv = it.nextv.bind(it);
    const all = it.all.bind(it);
    const seek = it.seek.bind(it);
    const close = it.close.bind(it);
    Object.assign(it, {
      nextv: async (size: number) => {
        const r = await nextv(size);
        stats.entries += r.length;
        return r;
      },
      all: async () => {
        const r = await all();
        stats.entries += r.length;
        live.delete(it);
        return r;
      },
      seek: (target: Uint8Array) => {
        stats.seeks++;
        seek(target);
      },
      close: async () => {
        live.delete(it);
        return close();
      },
    });
    return it;
  };
  return stats;
}
