import fc from 'fast-check';
import { compareBytes, fromHex, toHex } from '../../src/core/bytes.js';
import type { KVPair } from '../../src/core/changeset.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import type { SsIterator } from '../../src/storage/ss-iterator.js';
import { BACKENDS } from '../support/db.js';
import { drain } from './ss-support.js';

const STORES = ['bank', 'bank2'];
const KEYS = ['00', '0000', '00ff', '01', 'ff', 'ff00', '61', '6100', '610000', '62'];
type Model = Map<string, Map<string, { version: number; value: string | null }[]>>;
const mget = (m: Model, s: string, k: string, v: number) => {
  let f: string | null | undefined;
  for (const e of m.get(s)?.get(k) ?? []) if (e.version <= v) f = e.value;
  return f ?? undefined;
};
const mrange = (m: Model, s: string, v: number, a?: string, c?: string) => {
  const keys = [...KEYS].sort((x, y) => compareBytes(fromHex(x), fromHex(y)));
  const out: [string, string][] = [];
  for (const k of keys) {
    if (a !== undefined && compareBytes(fromHex(k), fromHex(a)) < 0) continue;
    if (c !== undefined && compareBytes(fromHex(k), fromHex(c)) >= 0) continue;
    const val = mget(m, s, k, v);
    if (val !== undefined) out.push([k, val]);
  }
  return out;
};
const pairArb = fc.record({ store: fc.nat(STORES.length - 1), key: fc.nat(KEYS.length - 1), value: fc.option(fc.nat(300), { freq: 3 }) });
const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('apply' as const), pairs: fc.array(pairArb, { minLength: 3, maxLength: 8 }), skip: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('prune' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), batch: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('iter' as const), store: fc.nat(1), at: fc.double({ min: 0, max: 1.2, noNaN: true }), a: fc.option(fc.nat(KEYS.length - 1)), c: fc.option(fc.nat(KEYS.length - 1)), reverse: fc.boolean(), max: fc.integer({ min: 1, max: 3 }) }) },
);
const scenario = fc.record({
  restore: fc.option(fc.record({ h: fc.integer({ min: 1, max: 5 }), pairs: fc.array(fc.record({ store: fc.nat(1), key: fc.nat(KEYS.length - 1), value: fc.nat(300) }), { maxLength: 15 }), flushBytes: fc.integer({ min: 1, max: 200 }) })),
  steps: fc.array(step, { minLength: 50, maxLength: 250 }),
});

describe.each(BACKENDS)('StorageStore vs a model with a restore, concurrent prunes and open iterators on $name', ({ name, open }) => {
  it('model with restore, concurrent prunes and open iterators', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ restore, steps }) => {
        const { db, cleanup } = await open();
        try {
          const ss = await StorageStore.open(db, { prefix: 'p/', storeKeys: STORES });
          const model: Model = new Map(STORES.map((s) => [s, new Map()]));
          let version = 0;
          let earliest = 0;
          const record = (s: string, k: string, v: number, value: string | null) => {
            const h = model.get(s)!.get(k) ?? [];
            model.get(s)!.set(k, h);
            if (h.at(-1)?.version === v) h[h.length - 1] = { version: v, value };
            else h.push({ version: v, value });
          };
          if (restore) {
            const w = await ss.beginRestore(restore.h, { flushBytes: restore.flushBytes });
            for (const p of restore.pairs) {
              const val = p.value.toString(16).padStart(4, '0');
              w.add(STORES[p.store]!, fromHex(KEYS[p.key]!), fromHex(val));
              record(STORES[p.store]!, KEYS[p.key]!, restore.h, val);
              if (w.needsFlush) await w.flush();
            }
            await w.commit();
            version = earliest = restore.h;
          }
          let pruning: Promise<unknown> = Promise.resolve();
          const pending: { first: [string, string][]; it: SsIterator; want: [string, string][]; max: number; desc: string }[] = [];
          for (const s of steps) {
            if (s.t === 'apply') {
              version += s.skip ? 2 : 1;
              const groups = new Map<string, KVPair[]>();
              for (const p of s.pairs) {
                const st = STORES[p.store]!;
                const list = groups.get(st) ?? [];
                groups.set(st, list);
                const val = p.value === null ? null : p.value.toString(16).padStart(4, '0');
                list.push(val === null ? { key: fromHex(KEYS[p.key]!), remove: true } : { key: fromHex(KEYS[p.key]!), value: fromHex(val), remove: false });
                record(st, KEYS[p.key]!, version, val);
              }
              await ss.applyChangeset(version, { changes: [...groups].map(([storeKey, pairs]) => ({ storeKey, pairs })) });
            } else if (s.t === 'prune') {
              await pruning;
              const at = Math.floor(earliest + s.at * (version - earliest));
              earliest = Math.max(earliest, at);
              pruning = ss.prune(at, { batchSize: s.batch });
            } else {
              const v = Math.max(earliest, Math.floor(s.at * version));
              let a = s.a === null ? undefined : KEYS[s.a]!;
              let c = s.c === null ? undefined : KEYS[s.c]!;
              if (a !== undefined && c !== undefined && compareBytes(fromHex(a), fromHex(c)) > 0) [a, c] = [c, a];
              const bounds = [a === undefined ? undefined : fromHex(a), c === undefined ? undefined : fromHex(c)] as const;
              const it = s.reverse ? ss.reverseIterator(STORES[s.store]!, v, ...bounds) : ss.iterator(STORES[s.store]!, v, ...bounds);
              const want = mrange(model, STORES[s.store]!, v, a, c);
              const first: [string, string][] = (await it.read(s.max)).map(([k, v]) => [toHex(k), toHex(v)]);
              pending.push({ first, it, want: s.reverse ? [...want].reverse() : want, max: s.max, desc: `${STORES[s.store]} v${v} [${a},${c}) rev=${s.reverse}` });
            }
          }
          // reads at every retained version while the last prune may still run
          const mism: string[] = [];
          for (const st of STORES) for (const k of KEYS) for (let v = Math.max(earliest, ss.earliestVersion); v <= version + 1; v++) {
            const got = await ss.get(st, v, fromHex(k));
            const want = mget(model, st, k, v);
            if ((got === undefined ? undefined : toHex(got)) !== want) mism.push(`${st}/${k}@${v} got ${got && toHex(got)} want ${want}`);
          }
          await pruning;
          for (const p of pending) {
            const got = [...p.first, ...(await drain(p.it, p.max))];
            if (JSON.stringify(got) !== JSON.stringify(p.want)) mism.push(`iter ${p.desc}: got ${JSON.stringify(got)} want ${JSON.stringify(p.want)}`);
          }
          for (const st of STORES) for (const k of KEYS) for (let v = earliest; v <= version + 1; v++) {
            const got = await ss.get(st, v, fromHex(k));
            const want = mget(model, st, k, v);
            if ((got === undefined ? undefined : toHex(got)) !== want) mism.push(`after ${st}/${k}@${v} got ${got && toHex(got)} want ${want}`);
          }
          expect(mism).toEqual([]);
        } finally {
          await cleanup();
        }
      }),
      { numRuns: name === 'memory-level' ? 40 : 10 },
    );
  }, 300_000);
});
