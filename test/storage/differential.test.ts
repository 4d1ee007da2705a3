import fc from 'fast-check';
import { compareBytes, fromHex, toHex } from '../../src/core/bytes.js';
import type { KVPair } from '../../src/core/changeset.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { BACKENDS } from '../support/db.js';
import { drain, errorOf } from './ss-support.js';

/**
 * Randomized differential test: random sets and deletes over 50 versions, then every key at every
 * version, iterations with random bounds at random versions in both directions, then a prune at a
 * random version and the same checks again, all against a plain in-memory model.
 */

const STORES = ['bank', 'bank2', 'ba\u0000nk'];
/** Keys with 0x00 and 0xff bytes, and keys that are prefixes of one another. */
const KEYS = ['00', '0000', '00ff', '0001', '01', 'ff', 'ff00', 'ffff', '61', '6100', '610000', '6100ff', '62'];
const VERSIONS = 50;

type Op = { store: number; key: number; value: number | null };
type Model = Map<string, Map<string, { version: number; value: string | null }[]>>;

function modelGet(model: Model, store: string, key: string, version: number): string | undefined {
  const history = model.get(store)?.get(key) ?? [];
  let found: string | null | undefined;
  for (const entry of history) if (entry.version <= version) found = entry.value;
  return found ?? undefined;
}

function modelRange(model: Model, store: string, version: number, start?: string, end?: string): [string, string][] {
  const out: [string, string][] = [];
  const keys = [...KEYS].sort((a, c) => compareBytes(fromHex(a), fromHex(c)));
  for (const key of keys) {
    if (start !== undefined && compareBytes(fromHex(key), fromHex(start)) < 0) continue;
    if (end !== undefined && compareBytes(fromHex(key), fromHex(end)) >= 0) continue;
    const value = modelGet(model, store, key, version);
    if (value !== undefined) out.push([key, value]);
  }
  return out;
}

const op: fc.Arbitrary<Op> = fc.record({
  store: fc.integer({ min: 0, max: STORES.length - 1 }),
  key: fc.integer({ min: 0, max: KEYS.length - 1 }),
  // Mostly sets, some deletes; values short so they collide across versions too.
  value: fc.option(fc.integer({ min: 0, max: 1000 }), { freq: 3 }),
});

const scenario = fc.record({
  // Some versions are empty changesets; some versions are skipped entirely.
  changesets: fc.array(fc.array(op, { maxLength: 8 }), { minLength: VERSIONS, maxLength: VERSIONS }),
  skips: fc.array(fc.boolean(), { minLength: VERSIONS, maxLength: VERSIONS }),
  ranges: fc.array(
    fc.record({
      store: fc.integer({ min: 0, max: STORES.length - 1 }),
      version: fc.integer({ min: 0, max: VERSIONS * 2 + 2 }),
      a: fc.option(fc.integer({ min: 0, max: KEYS.length - 1 })),
      c: fc.option(fc.integer({ min: 0, max: KEYS.length - 1 })),
      max: fc.integer({ min: 1, max: 6 }),
    }),
    { minLength: 20, maxLength: 20 },
  ),
  prunePoint: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe.each(BACKENDS)('StorageStore vs an in-memory model on $name', ({ name, open }) => {
  it('agrees on every read before and after a prune', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ changesets, skips, ranges, prunePoint }) => {
        const { db, cleanup } = await open();
        try {
          const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: STORES });
          const model: Model = new Map(STORES.map((s) => [s, new Map()]));
          const versions: number[] = [];
          let version = 0;
          for (let i = 0; i < VERSIONS; i++) {
            version += skips[i] ? 2 : 1;
            versions.push(version);
            const groups = new Map<string, KVPair[]>();
            for (const { store, key, value } of changesets[i]!) {
              const storeKey = STORES[store]!;
              const pairs = groups.get(storeKey) ?? [];
              groups.set(storeKey, pairs);
              const keyBytes = fromHex(KEYS[key]!);
              pairs.push(
                value === null
                  ? { key: keyBytes, remove: true }
                  : { key: keyBytes, value: fromHex(value.toString(16).padStart(4, '0')), remove: false },
              );
              const history = model.get(storeKey)!.get(KEYS[key]!) ?? [];
              model.get(storeKey)!.set(KEYS[key]!, history);
              const entry = { version, value: value === null ? null : value.toString(16).padStart(4, '0') };
              if (history.at(-1)?.version === version) history[history.length - 1] = entry;
              else history.push(entry);
            }
            await ss.applyChangeset(version, { changes: [...groups].map(([storeKey, pairs]) => ({ storeKey, pairs })) });
          }
          expect(ss.latestVersion).toBe(version);

          const check = async (earliest: number): Promise<void> => {
            // Mismatches are collected and compared once: a jest `expect` per read would cost
            // more than the read itself.
            const mismatches: string[] = [];
            for (const storeKey of STORES) {
              for (const key of KEYS) {
                for (let v = earliest; v <= version + 1; v++) {
                  const got = await ss.get(storeKey, v, fromHex(key));
                  const hex = got === undefined ? undefined : toHex(got);
                  const want = modelGet(model, storeKey, key, v);
                  if (hex !== want) mismatches.push(`${storeKey}/${key}@${v}: got ${hex}, want ${want}`);
                  if (v % 5 === 0 && (await ss.has(storeKey, v, fromHex(key))) !== (want !== undefined)) {
                    mismatches.push(`has ${storeKey}/${key}@${v}`);
                  }
                }
              }
            }
            expect(mismatches).toEqual([]);
            for (const r of ranges) {
              const storeKey = STORES[r.store]!;
              let start = r.a === null ? undefined : KEYS[r.a]!;
              let end = r.c === null ? undefined : KEYS[r.c]!;
              if (start !== undefined && end !== undefined && compareBytes(fromHex(start), fromHex(end)) > 0) [start, end] = [end, start];
              const v = Math.max(r.version, earliest);
              const expected = modelRange(model, storeKey, v, start, end);
              const bounds = [start === undefined ? undefined : fromHex(start), end === undefined ? undefined : fromHex(end)] as const;
              expect(await drain(ss.iterator(storeKey, v, ...bounds), r.max)).toEqual(expected);
              expect(await drain(ss.reverseIterator(storeKey, v, ...bounds), r.max)).toEqual([...expected].reverse());
            }
          };
          await check(0);

          const pruneAt = versions[Math.min(versions.length - 1, Math.floor(prunePoint * versions.length))]!;
          await ss.prune(pruneAt, { batchSize: 7 });
          expect(ss.earliestVersion).toBe(pruneAt);
          await check(pruneAt);
          for (const v of [0, pruneAt - 1]) {
            if (v < 0 || v >= pruneAt) continue;
            const error = await errorOf(ss.get(STORES[0]!, v, fromHex(KEYS[0]!)));
            expect(error.code).toBe('ERR_VERSION_PRUNED');
            expect(error.details).toMatchObject({ earliestVersion: pruneAt, requestedVersion: v });
            expect((await errorOf(() => ss.reverseIterator(STORES[1]!, v))).code).toBe('ERR_VERSION_PRUNED');
          }
          // The pruned state survives a reopen.
          const reopened = await StorageStore.open(db, { prefix: 'ss/', storeKeys: STORES });
          expect([reopened.latestVersion, reopened.earliestVersion]).toEqual([version, pruneAt]);
        } finally {
          await cleanup();
        }
      }),
      { numRuns: name === 'memory-level' ? 10 : 3, seed: 20240611 + (name === 'memory-level' ? 0 : 1) },
    );
  });
});
