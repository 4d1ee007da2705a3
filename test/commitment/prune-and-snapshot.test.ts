import { lastValueFrom, toArray } from 'rxjs';
import { toHex } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import { FaultyLevel } from '../support/faulty-level.js';

const k = (n: number): Uint8Array => Uint8Array.of(0x6b, n);

async function readAll(reader: { read(max: number): Promise<readonly SnapshotItem[]> }): Promise<SnapshotItem[]> {
  const out: SnapshotItem[] = [];
  for (;;) {
    const batch = await reader.read(64);
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

describe('pruning and snapshots', () => {
  it('a snapshot after an interrupted prune never passes a pruned store off as empty', async () => {
    const faulty = new FaultyLevel(await openDb());
    const sc = await CommitStore.open(faulty.db as LevelDb, { storeKeys: ['a', 'b'] });
    for (let v = 1; v <= 5; v++) {
      await sc.writeChangeset({ changes: ['a', 'b'].map((s) => ({ storeKey: s, pairs: [{ key: k(v), value: k(v), remove: false }] })) });
      await sc.commit(v);
    }
    // prune(3): tree a deletes 1, 2, 3 (three batches), then tree b's first batch fails.
    faulty.arm({ afterWrites: 4 });
    await expect(sc.prune(3)).rejects.toThrow('injected write fault');
    faulty.disarm();
    // Version 3 of store a is gone: the snapshot must fail (typed), not report store a as empty.
    const outcome = await sc
      .snapshotReader(3)
      .then(readAll)
      .then(
        (items) => ({ items: items.filter((i) => i.kind === 'iavl' && i.height === 0).length }),
        (error: { code?: string }) => ({ code: error.code }),
      );
    expect(outcome).toEqual({ code: 'ERR_VERSION_PRUNED' });
  });

  it('a version pinned while a prune runs is not deleted under the export', async () => {
    const raw = await openDb();
    let hook: (() => void) | undefined;
    const db = new Proxy(raw, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'batch') {
          return (...args: unknown[]) => {
            const h = hook;
            hook = undefined;
            h?.();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as LevelDb;
    const tree = await IavlTree.open(db, { cacheSize: 0 });
    for (let v = 1; v <= 6; v++) {
      for (let i = 0; i < 6; i++) await tree.set(k(v * 6 + i), k(v));
      await tree.remove(k(v));
      await tree.saveVersion();
    }
    const expected = await lastValueFrom(tree.export(4).pipe(toArray()));
    // An export of 4 opens (and pins 4) while the prune of 1..4 is writing its first batch.
    let opened: ReturnType<IavlTree['exportReader']> | undefined;
    hook = () => {
      opened = tree.exportReader(4);
    };
    const pruned = await tree.deleteVersionsTo(4).then(() => 'pruned', (e: { code?: string }) => e.code);
    const nodes = await opened!
      .then(async (reader) => {
        const out: unknown[] = [];
        for (let batch = await reader.read(16); batch.length > 0; batch = await reader.read(16)) out.push(...batch);
        return out.length;
      })
      .catch((e: { code?: string }) => e.code);
    // The pin must hold: the prune stops at version 4 and the export reads every node of it.
    expect({ pruned, nodes }).toEqual({ pruned: 'ERR_VERSION_PINNED', nodes: expected.length });
    expect(await tree.versionExists(4)).toBe(true);
  });
});
