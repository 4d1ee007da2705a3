import { BehaviorSubject } from 'rxjs';
import { PullObservable } from '../src/core/pull.js';
import { StoreError } from '../src/core/errors.js';
import { restoreSnapshot, type RestoredLeaf } from '../src/migration/operators/restore-snapshot.js';
import type { MigrationEvent, RestoredEvent } from '../src/migration/events.js';
import type { SnapshotItem } from '../src/proto/snapshot-item.js';
import { items, marblePullSource, testScheduler } from './support.js';

const batches: SnapshotItem[][] = [
  [items.store('acc'), items.leaf('a'), items.leaf('b')],
  [items.inner('b'), items.store('bank'), items.leaf('c')],
];
const restored: RestoredEvent = { type: 'restored', version: 7, keys: 3, storeRoots: {} };
const progress = (items: number, keys: number, storesDone: number): MigrationEvent => ({
  type: 'progress',
  phase: 'restore',
  items,
  keys,
  bytes: keys * 4 + (items > 3 ? 1 : 0),
  storesDone,
  lag: 0,
});
const ev = { p: progress(3, 2, 0), q: progress(6, 3, 1), d: progress(6, 3, 2), r: restored };

describe('restoreSnapshot', () => {
  it('fans each batch out to SC and SS in parallel and pulls the next batch only when both are done', () => {
    const ssLeaves: string[][] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const source = new PullObservable(marblePullSource(batches, (b) => cold('-(b|)', { b })), 3);
      const result = source.pipe(
        restoreSnapshot({
          batchSize: 3,
          readAhead: 0,
          sc: () => cold('---|'),
          ss: (leaves: readonly RestoredLeaf[]) => {
            ssLeaves.push(leaves.map((l) => `${l.storeKey}/${Buffer.from(l.key).toString()}`));
            return cold('--|');
          },
          finish: () => cold('--(r|)', { r: restored }),
        }),
      );
      // read 1 + max(sc 3, ss 2) per batch; the empty read ends the stream: every store is done
      // (d), then finish.
      expectObservable(result).toBe('----p---qd-(r|)', ev);
    });
    expect(ssLeaves).toEqual([['acc/a', 'acc/b'], ['bank/c']]);
  });

  it('with busy$, starts no read and no batch while the host is busy; a batch being written is not interrupted', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const busy$ = new BehaviorSubject(false);
      hot('---t----f', { t: true, f: false }).subscribe(busy$);
      const source = new PullObservable(marblePullSource(batches, (b) => cold('-(b|)', { b })), 3);
      const result = source.pipe(
        restoreSnapshot({ batchSize: 3, readAhead: 0, busy$, sc: () => cold('---|'), ss: () => cold('--|'), finish: () => cold('--(r|)', { r: restored }) }),
      );
      // busy at 3, during batch 1's write (it finishes at 4); batch 2 is requested then but read
      // only once the host is idle at 8 (1 frame), then written (3 frames).
      expectObservable(result).toBe('----p-------qd-(r|)', ev);
    });
  });

  it('by default reads the next batch while the previous one is written (readAhead 1)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = new PullObservable(marblePullSource(batches, (b) => cold('-(b|)', { b })), 3);
      const result = source.pipe(restoreSnapshot({ batchSize: 3, sc: () => cold('---|'), ss: () => cold('--|'), finish: () => cold('----(r|)', { r: restored }) }));
      // Batch 2 and the end of the stream are read during the writes, so write 2 starts right
      // after write 1 and the restore ends with it: q and d come 1 frame earlier than without.
      expectObservable(result).toBe('----p--(qd)(r|)', ev);
    });
  });

  it('runs SS only when there is no SC (SS-only migration)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = new PullObservable(marblePullSource(batches, (b) => cold('-(b|)', { b })), 3);
      const result = source.pipe(restoreSnapshot({ batchSize: 3, readAhead: 0, ss: () => cold('-|'), finish: () => cold('(r|)', { r: restored }) }));
      expectObservable(result).toBe('--p-q(dr|)', ev);
    });
  });

  it('delivers the error of a failing snapshot after every batch before it was written', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      let reads = 0;
      const source = new PullObservable<SnapshotItem>(
        (requests) =>
          marblePullSource(batches, (b) => (reads++ === 1 ? cold('-#', {}, new Error('export failed')) : cold('-(b|)', { b })))(requests),
        3,
      );
      const result = source.pipe(restoreSnapshot({ batchSize: 3, ss: () => cold('-|'), finish: () => cold('(r|)', { r: restored }) }));
      // The failing read ran ahead during the first write; its error still follows that write.
      expectObservable(result).toBe('--(p#)', ev, new Error('export failed'));
    });
  });

  it('rejects an IAVL item before any store item with a typed error', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const result = cold('-a|', { a: items.leaf('x') }).pipe(restoreSnapshot({ batchSize: 1, ss: () => cold('-|'), finish: () => cold('(r|)', { r: restored }) }));
      expectObservable(result).toBe(
        '-#',
        {},
        new StoreError('ERR_IMPORT_ORDER', 'snapshot item 1: IAVL node before any store item', { details: { item: 1 } }),
      );
    });
  });

  it('rejects a node height above 127 and a store the targets refuse, before the batch is written', () => {
    const written: number[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const sinks = {
        batchSize: 2,
        ss: (leaves: readonly RestoredLeaf[]) => {
          written.push(leaves.length);
          return cold('-|');
        },
        finish: () => cold('(r|)', { r: restored }),
        checkStore: (name: string) => {
          if (name !== 'acc') throw new StoreError('ERR_UNKNOWN_STORE', `store ${name} not found`);
        },
      };
      // A push source: the last batch (c alone) goes out when the source completes.
      const tooHigh = cold('-(ab)-c|', { a: items.store('acc'), b: items.leaf('a'), c: items.inner('z', 1, 128) });
      expectObservable(tooHigh.pipe(restoreSnapshot(sinks))).toBe(
        '                   --p----#',
        { p: { ...progress(2, 1, 0), bytes: 4 } },
        new StoreError('ERR_IMPORT_HEIGHT', 'snapshot item 3 (store acc): height 128 is outside 0..127', {
          details: { item: 3, store: 'acc', height: 128 },
        }),
      );
      const unknown = cold('-a|', { a: items.store('gov') });
      expectObservable(unknown.pipe(restoreSnapshot({ ...sinks, batchSize: 1 }))).toBe(
        '                   -#',
        {},
        new StoreError('ERR_UNKNOWN_STORE', 'store gov not found'),
      );
    });
    expect(written).toEqual([1]);
  });

  it('unsubscribing mid-restore tears down the snapshot and the sinks', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const read = cold<readonly SnapshotItem[]>('-(b|)', { b: batches[0]! });
      const write = cold('------|');
      const source = new PullObservable(marblePullSource(batches, () => read), 3);
      const result = source.pipe(restoreSnapshot({ batchSize: 3, ss: () => write, finish: () => cold('(r|)', { r: restored }) }));
      expectObservable(result, '^---!').toBe('----');
      expectSubscriptions(write.subscriptions).toBe('-^--!');
    });
  });

  it('accepts a plain (push) Observable source, batching as it pushes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-abc|', { a: items.store('acc'), b: items.leaf('a'), c: items.leaf('b') });
      const result = source.pipe(restoreSnapshot({ batchSize: 2, ss: () => cold('|'), finish: () => cold('(r|)', { r: restored }) }));
      expectObservable(result).toBe('--x-(ydr|)', {
        x: { ...progress(2, 1, 0), bytes: 4 },
        y: { ...progress(3, 2, 0), bytes: 8 },
        d: { ...progress(3, 2, 1), bytes: 8 },
        r: restored,
      });
    });
  });
});
