import { openDb } from '../../src/db/level-db.js';
import { SnapshotReader } from '../../src/commitment/snapshot-reader.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs } from '../../src/core/changeset.js';

const STORES = ['a', 'b'];
const HEIGHT = 3;

async function legacyStore(): Promise<LegacyStore> {
  const v1 = await LegacyStore.open(await openDb(), { storeKeys: STORES });
  for (let v = 1; v <= 5; v++) {
    const writes = STORES.flatMap((store) => Array.from({ length: 4 }, (_, i): [string, Uint8Array, Uint8Array] => [store, utf8(`k${v}-${i}`), utf8(`v${v}-${i}`)]));
    await v1.commit(changesetFromPairs(v, writes).changeset);
  }
  return v1;
}

const pins = (v1: LegacyStore): number[] => STORES.map((store) => v1.multi.tree(store).ndb.pinCount(HEIGHT));

describe('SnapshotReader', () => {
  it('releases every pin when closed while a read opens the next store', async () => {
    const v1 = await legacyStore();
    const probe = await SnapshotReader.open(v1.multi, HEIGHT);
    const all = await probe.read(100_000);
    await probe.close();
    // The store item of "a" and its nodes: a read of that many stops right before store "b".
    const firstStore = all.findIndex((item, i) => i > 0 && item.kind === 'store');
    expect(firstStore).toBeGreaterThan(1);
    const crossed: number[] = [];
    // close() lands at each point of the in-flight read: before, during and after store b's export opens.
    for (let hops = 0; hops < 30; hops++) {
      const reader = await SnapshotReader.open(v1.multi, HEIGHT);
      await reader.read(firstStore);
      const inFlight = reader.read(firstStore);
      for (let i = 0; i < hops; i++) await Promise.resolve();
      await reader.close();
      const items = await inFlight;
      if (items.length > 0) crossed.push(hops);
      expect({ hops, pins: pins(v1) }).toEqual({ hops, pins: [0, 0] });
    }
    // The read got as far as store b's item in some of the runs: the window was hit.
    expect(crossed.length).toBeGreaterThan(0);
    await v1.prune(HEIGHT);
  });
});
