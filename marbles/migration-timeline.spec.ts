import { filter, map, NEVER, of, type Observable } from 'rxjs';
import { PullObservable } from '../src/core/pull.js';
import { StoreError } from '../src/core/errors.js';
import type { VersionedChangeset } from '../src/core/changeset.js';
import type { MigrationEvent, RestoredEvent } from '../src/migration/events.js';
import { migrationPipeline, type PipelineEffects } from '../src/migration/pipeline.js';
import type { SnapshotItem } from '../src/proto/snapshot-item.js';
import { cs, items, marblePullSource, testScheduler } from './support.js';

const batches: SnapshotItem[][] = [
  [items.store('acc'), items.leaf('a'), items.leaf('b')],
  [items.inner('b'), items.store('bank'), items.leaf('c')],
  [items.leaf('d'), items.inner('d')],
];
const restored: RestoredEvent = { type: 'restored', version: 100, keys: 4, storeRoots: {} };

/** One letter per event, so the timeline reads like the architecture diagram. */
function letter(event: MigrationEvent): string {
  const v = 'version' in event ? event.version : 0;
  switch (event.type) {
    case 'logged':
      return 'xyzw'[v - 101]!;
    case 'applied':
      return 'abcd'[v - 101]!;
    case 'caughtUp':
      return 'ABCD'[v - 101]!;
    case 'restored':
      return 'R';
    case 'switch':
      return 'S';
    default:
      return '?';
  }
}

type Cold = <T>(marbles: string, values?: Record<string, T>, error?: unknown) => Observable<T>;

function effects(cold: Cold, overrides: Partial<PipelineEffects> & Pick<PipelineEffects, 'commits$' | 'done$'>): PipelineEffects {
  return {
    height: 100,
    snapshot$: new PullObservable(marblePullSource(batches, (b) => cold('--(b|)', { b })), 3),
    append: () => cold('-|'),
    read: (version: number): Observable<VersionedChangeset | undefined> => of(cs(version)),
    // Sequential reads (no read-ahead) keep the frame arithmetic of the diagrams below simple.
    restore: { batchSize: 3, readAhead: 0, sc: () => cold('--|'), ss: () => cold('-|'), finish: () => cold('-(r|)', { r: restored }) },
    apply: () => cold('-|'),
    verify: () => of(true),
    progressIntervalMs: 1,
    ...overrides,
  };
}

const withoutProgress = (events: Observable<MigrationEvent>) =>
  events.pipe(
    filter((e) => e.type !== 'progress'),
    map(letter),
  );

describe('the migration timeline', () => {
  it('logs commits from the start, restores, replays the log in order, follows live commits, then switches', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      //                      restore: 3 batches × (read 2 + write 2) + empty read 2 + finish 1 = frame 15
      const commits$ = hot('---a---b------------c-------', { a: cs(101), b: cs(102), c: cs(103) });
      const done$ = hot('   ----------------------------d');
      const events = migrationPipeline(effects(cold, { commits$, done$ }));
      expectObservable(withoutProgress(events)).toBe('----x---y------Ra(bB)z(cC)--(S|)');
    });
  });

  it('reports restore progress, then replay lag, at a bounded rate', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const commits$ = hot('----------------a---', { a: cs(101) });
      const done$ = hot('----------------------d');
      const events = migrationPipeline(effects(cold, { commits$, done$, progressIntervalMs: 100 }));
      const progress = events.pipe(
        filter((e) => e.type === 'progress'),
        map((e) => (e.type === 'progress' ? `${e.phase[0]}${e.keys}${e.lag}` : '')),
      );
      // First progress at once (batch 1 written at 4); batch 2 (r30) is superseded by batch 3 (r40),
      // flushed just before `restored` at 15, which starts the interval again; the live progress
      // after applying 101 (18) waits in it, and is flushed before the switch at 22.
      expectObservable(progress).toBe('----a----------b------(c|)', { a: 'r20', b: 'r40', c: 'l40' });
    });
  });

  it('delivers an error in the middle of the snapshot to the subscriber', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      let reads = 0;
      const snapshot$ = new PullObservable<SnapshotItem>(
        (requests) => marblePullSource(batches, (b) => (reads++ === 1 ? cold('-#', {}, new Error('node s(3, 7) missing')) : cold('--(b|)', { b })))(requests),
        3,
      );
      const events = migrationPipeline(effects(cold, { snapshot$, commits$: hot('---a', { a: cs(101) }), done$: NEVER }));
      expectObservable(withoutProgress(events)).toBe('----x#', undefined, new Error('node s(3, 7) missing'));
    });
  });

  it('unsubscribing mid-restore tears everything down (snapshot, writes, commit subscription)', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const read = cold<readonly SnapshotItem[]>('--(b|)', { b: batches[0]! });
      const write = cold('--|');
      const commits$ = hot('---a------', { a: cs(101) });
      const events = migrationPipeline(
        effects(cold, {
          snapshot$: new PullObservable(marblePullSource(batches, () => read), 3),
          restore: { batchSize: 3, readAhead: 0, sc: () => write, ss: () => cold('-|'), finish: () => cold('(r|)', { r: restored }) },
          commits$,
          done$: NEVER,
        }),
      );
      expectObservable(withoutProgress(events), '^-----!').toBe('----x-');
      expectSubscriptions(commits$.subscriptions).toBe('^-----!');
      expectSubscriptions(read.subscriptions).toBe(['^-!', '----^-!']);
      expectSubscriptions(write.subscriptions).toBe('--^-!');
    });
  });

  it.each([
    ['a version gap', { a: cs(101), b: cs(103) }, 'gap: expected 102, received 103', 102, 103],
    ['a duplicate', { a: cs(101), b: cs(101) }, 'duplicate: expected 102, received 101', 102, 101],
    ['an out-of-order commit', { a: cs(102), b: cs(101) }, 'gap: expected 101, received 102', 101, 102],
  ])('fails on %s with a typed error naming both versions', (_what, values, message, expected, received) => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const commits$ = hot('---a---b---', values);
      const events = migrationPipeline(effects(cold, { commits$, done$: NEVER }));
      const error = new StoreError('ERR_VERSION_GAP', `changeset version ${message}`, { details: { expected, received } });
      const marble = expected === 101 ? '---#' : '----x--#';
      expectObservable(withoutProgress(events)).toBe(marble, undefined, error);
    });
  });

  it('fails when done arrives before the restore finished', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const events = migrationPipeline(effects(cold, { commits$: NEVER, done$: hot('------d') }));
      expectObservable(withoutProgress(events)).toBe(
        '------#',
        undefined,
        new StoreError('ERR_STATE', 'done signal before the restore of height 100 finished', { details: { height: 100 } }),
      );
    });
  });

  it('applies a changeset in the very frame its log write completes (no polling delay)', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const commits$ = hot('--------------------a---', { a: cs(101) });
      const done$ = hot('   ----------------------------d');
      const events = migrationPipeline(effects(cold, { commits$, done$, apply: () => of(true) }));
      // logged at 21 and applied + caught up in the same frame 21.
      expectObservable(withoutProgress(events)).toBe('---------------R-----(xaA)--(S|)');
    });
  });

  it('does not switch when stopped while behind: the migration just ends', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const commits$ = hot('---a---b---', { a: cs(101), b: cs(102) });
      const done$ = hot('   -----------------d');
      // Applying takes 5 frames: done arrives after 101 started, so 102 never starts.
      const events = migrationPipeline(effects(cold, { commits$, done$, apply: () => cold('-----|') }));
      expectObservable(withoutProgress(events)).toBe('----x---y------R----(a|)');
    });
  });
});
