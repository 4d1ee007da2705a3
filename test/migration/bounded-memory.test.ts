import { defer, lastValueFrom, type Observable, of, take, toArray } from 'rxjs';
import { fromBatchReader } from '../../src/core/batch-reader.js';
import { PullObservable, pullFromReader } from '../../src/core/pull.js';
import type { BatchReader } from '../../src/core/batch-reader.js';
import { restoreSnapshot } from '../../src/migration/operators/restore-snapshot.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';

const KEYS = 1_000_000;
const BATCH = 2048;

/** A synthetic snapshot of one store with `KEYS` leaves, generated only when read. */
function syntheticSnapshot(counter: { produced: number }): BatchReader<SnapshotItem> {
  let next = -1;
  return {
    read: async (max) => {
      const out: SnapshotItem[] = [];
      while (out.length < max && next < KEYS) {
        out.push(
          next < 0
            ? { kind: 'store', name: 'bank' }
            : { kind: 'iavl', key: Buffer.from(`key-${next}`), value: Buffer.from(`v${next}`), version: 1, height: 0 },
        );
        next++;
      }
      counter.produced += out.length;
      return out;
    },
    close: async () => undefined,
  };
}

/**
 * Restores `source` through a sink that takes an event-loop turn per batch, recording the most
 * items the source had produced beyond what was written when a write started.
 */
async function restoreSlowly(source: Observable<SnapshotItem>, batchSize: number, counter: { produced: number }, maxEvents = Infinity) {
  let written = 0;
  let maxInFlight = 0;
  const slow = () => new Promise<void>((resolve) => setImmediate(resolve));
  const events = await lastValueFrom(
    source.pipe(
      restoreSnapshot({
        batchSize,
        sc: (items) =>
          defer(async () => {
            maxInFlight = Math.max(maxInFlight, counter.produced - written);
            await slow();
            written += items.length;
          }),
        ss: () => defer(slow),
        finish: (totals) => of({ type: 'restored' as const, version: 1, keys: totals.keys, storeRoots: {} }),
      }),
      take(maxEvents),
      toArray(),
    ),
  );
  return { events, written, maxInFlight };
}

describe('bounded memory', () => {
  it(`restoring ${KEYS.toLocaleString('en')} keys through a slow sink keeps at most one batch in flight`, async () => {
    const counter = { produced: 0 };
    const source = new PullObservable(pullFromReader(() => syntheticSnapshot(counter)), BATCH);
    const { events, written, maxInFlight } = await restoreSlowly(source, BATCH, counter);
    expect(events[events.length - 1]).toMatchObject({ type: 'restored', keys: KEYS });
    expect(written).toBe(KEYS + 1);
    // The source never ran ahead of the writes by more than the batch being written.
    expect(maxInFlight).toBeLessThanOrEqual(BATCH);
  });

  it('a snapshot from fromBatchReader (LegacyStore.snapshot, CommitStore.snapshot) is pulled at the pace of the writes too', async () => {
    const counter = { produced: 0 };
    const small = 64;
    const { events, maxInFlight } = await restoreSlowly(fromBatchReader(() => syntheticSnapshot(counter), small), small, counter, 200);
    expect(events).toHaveLength(200);
    // The batch being written and the one read ahead, not the 200 × 64 items read so far.
    expect(maxInFlight).toBeLessThanOrEqual(2 * small);
  });
});
