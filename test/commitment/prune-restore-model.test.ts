import fc from 'fast-check';
import { toHex } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';

const STORES = ['a', 'b', 'c'];
const k = (n: number): Uint8Array => Uint8Array.of(0x6b, n);

async function items(sc: CommitStore, version: number): Promise<string[]> {
  const reader = await sc.snapshotReader(version);
  const out: SnapshotItem[] = [];
  for (let batch = await reader.read(50); batch.length > 0; batch = await reader.read(50)) out.push(...batch);
  await reader.close();
  return out.map((i) => (i.kind === 'iavl' ? `${toHex(i.key)}:${toHex(i.value)}:${i.version}:${i.height}` : i.kind === 'store' ? `store:${i.name}` : 'x'));
}

describe('restored SC: prune, snapshot, restore again', () => {
  it('matches the source', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 12 }), fc.boolean()), { maxLength: 4 }), { minLength: 3, maxLength: 14 }),
        fc.nat(), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), fc.boolean(),
        async (blocks, hPick, prunes, reopen, again) => {
          const srcDb = await openDb();
          let src = await CommitStore.open(srcDb, { storeKeys: STORES });
          const writeBlock = async (sc: CommitStore, b: [number, number, boolean][], v: number) => {
            const changes = STORES.map((s, i) => ({ storeKey: s, pairs: b.filter((p) => p[0] === i).map((p) => (p[2] ? { key: k(p[1]), value: k(v), remove: false } : { key: k(p[1]), remove: true })) })).filter((c) => c.pairs.length > 0);
            await sc.writeChangeset({ changes });
            await sc.commit(v);
          };
          const H = 1 + (hPick % (blocks.length - 1));
          for (let v = 1; v <= H; v++) await writeBlock(src, blocks[v - 1]!, v);
          const dbs = [srcDb];
          const restoreFrom = async (from: CommitStore, h: number) => {
            const db = await openDb();
            dbs.push(db);
            const dst = await CommitStore.open(db, { storeKeys: STORES });
            const reader = await from.snapshotReader(h);
            await dst.restore(h, reader);
            await reader.close();
            return { dst, db };
          };
          let { dst, db } = await restoreFrom(src, H);
          try {
            let earliest = H;
            for (let v = H + 1; v <= blocks.length; v++) {
              await writeBlock(src, blocks[v - 1]!, v);
              await writeBlock(dst, blocks[v - 1]!, v);
              expect(toHex(await dst.appHash(v))).toBe(toHex(await src.appHash(v)));
            }
            const latest = blocks.length;
            for (const p of prunes) {
              if (reopen) dst = await CommitStore.open(db, { storeKeys: STORES });
              const to = H - 1 + (p % (latest - H + 1)); // H-1 .. latest-1
              if (to < 1 || to >= latest) continue;
              await dst.prune(to);
              earliest = Math.max(earliest, to + 1);
              expect(await dst.earliestVersion()).toBe(earliest);
            }
            if (reopen) dst = await CommitStore.open(db, { storeKeys: STORES });
            expect(await dst.earliestVersion()).toBe(earliest);
            for (let v = earliest; v <= latest; v++) {
              expect(await items(dst, v)).toEqual(await items(src, v));
              for (const s of STORES) expect(toHex(await dst.storeRoot(s, v))).toBe(toHex(await src.storeRoot(s, v)));
            }
            if (earliest > 1) await expect(dst.snapshotReader(earliest - 1)).rejects.toMatchObject({ code: 'ERR_VERSION_PRUNED' });
            if (again) {
              const second = await restoreFrom(dst, latest);
              expect(toHex(await second.dst.appHash(latest))).toBe(toHex(await src.appHash(latest)));
              await writeBlock(second.dst, [[0, 1, true], [1, 2, true]], latest + 1);
              await writeBlock(src, [[0, 1, true], [1, 2, true]], latest + 1);
              await second.dst.prune(latest);
              expect(await second.dst.earliestVersion()).toBe(latest + 1);
              expect(await items(second.dst, latest + 1)).toEqual(await items(src, latest + 1));
            }
          } finally {
            for (const d of dbs) await d.close();
          }
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 200) },
    );
  });
});
