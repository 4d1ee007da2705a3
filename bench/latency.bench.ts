/**
 * Root-store commit latency while a migration runs, and the switch latency (issue 8, targets 4
 * and 5). On a store/v1 of N keys in 3 stores (built once, copied for every run so every run starts
 * from the same bytes), through the public RootStore:
 *
 *   (a) none      — `--blocks` blocks of `--writes` random writes (updates, inserts, deletes),
 *                   one every `--interval` ms after the previous commit returned, no migration:
 *                   the per-commit latency of store/v1 alone;
 *   (b) migrating — the same blocks with `migrate: true`: the migration starts at open and runs
 *                   in the background; blocks are committed until the root store switched (plus
 *                   `--after` blocks on store/v2). Latency of every commit before the switch is
 *                   the "during migration" sample; the switching commit is reported on its own.
 *   (c) switch    — from RootStore.events$: the version of the last `caughtUp` before `switched`,
 *                   the version the switch happened at, the commits in between that still went to
 *                   store/v1 (target: 0), and the wall time from `caughtUp` to `switched`.
 *
 * (a) and (b) alternate order over `--repeats` repeats with the same blocks; the medians of the
 * per-run p50/p99 are quoted. Target 4 (≤ 1.5) is p99(b)/p99(a) per repeat, (a) taken over the
 * same blocks (versions) that (b) measured: the first few commits after opening are slow in both
 * modes (cold caches and code), and (b), which measures only the ~50 commits until its switch,
 * would otherwise weigh them about four times as much as (a)'s 200. The ratio against all of (a)'s
 * commits is reported next to it.
 * Writes bench/results/latency.json.
 *
 *   node --expose-gc .bench-build/bench/latency.bench.js [--keys 100000] [--blocks 200]
 *        [--writes 100] [--interval 50] [--repeats 5] [--after 20] [--max-blocks 3000]
 *        [--batch 2048] [--seed 42] [--no-sc] [--quick] [--out FILE] [--no-json]
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openDb } from '../src/db/level-db.js';
import { RootStore, type RootPhase, type RootStoreEvent } from '../src/root/root-store.js';
import { intOption, stringOption } from './lib/args.js';
import { BlockWrites } from './lib/block-writes.js';
import { environment, fmt, printTable, progress, writeJson } from './lib/report.js';
import { median, nowMs, percentile } from './lib/stats.js';
import { buildV1 } from './lib/v1-builder.js';

const STORES = ['acc', 'bank', 'staking'];
const DEFAULT_OUT = 'bench/results/latency.json';
/** Keys per version while building store/v1 (as the migration bench does). */
const BUILD_BLOCK = 10_000;
/** Existing keys per store the random blocks update and delete. */
const POOL_PER_STORE = 20_000;
const QUICK = { keys: 50_000, blocks: 100 };

/** Options of {@link runLatencyBench}. */
export interface LatencyBenchOptions {
  readonly keys: number;
  readonly blocks: number;
  readonly writes: number;
  readonly intervalMs: number;
  readonly repeats: number;
  readonly after: number;
  readonly maxBlocks: number;
  /** Snapshot items per batch of the migration; undefined: the root store's default. */
  readonly batch: number | undefined;
  readonly seed: number;
  readonly sc: boolean;
  readonly out: string | undefined;
}

type Mode = 'none' | 'migrating';

/** One commit: its version, when it was called (ms since the run began) and how long it took. */
interface CommitSample {
  readonly version: number;
  readonly tCall: number;
  readonly ms: number;
  /** none / restore (before `restored`) / catchUp / switch (the switching commit) / switched. */
  readonly stage: 'none' | 'restore' | 'catchUp' | 'switch' | 'switched';
}

/** A root-store event with when it arrived (ms since the run began); progress/log noise dropped. */
interface TimedEvent {
  readonly t: number;
  readonly type: RootStoreEvent['type'];
  readonly version?: number;
}

/** What (c) derives from the events of one migrating run. */
interface SwitchAnalysis {
  readonly height: number;
  readonly restoredAtMs: number | null;
  readonly caughtUpVersion: number;
  readonly caughtUpAtMs: number;
  readonly switchedVersion: number;
  readonly switchedAtMs: number;
  /** Commits that went to store/v1 although v2 already held every committed version. */
  readonly extraCommits: number;
  readonly caughtUpToSwitchedMs: number;
  /** From `caughtUp` to the call of the switching commit: waiting for the next block, not the store. */
  readonly caughtUpToNextCommitMs: number;
  /** Latency of the switching commit (ends catch-up, verifies, records the switch, commits to v2). */
  readonly switchCommitMs: number;
}

interface RunResult {
  readonly mode: Mode;
  readonly repeat: number;
  readonly commits: readonly CommitSample[];
  /** Latencies of the sample the target compares: every commit (none) / every commit before the switch (migrating). */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
  readonly switch: SwitchAnalysis | null;
  readonly failed: string | null;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const TRACKED = new Set<RootStoreEvent['type']>(['migrationStarted', 'restored', 'caughtUp', 'switch', 'switched', 'migrationFailed']);

/** One run on a fresh copy of the template store/v1. */
async function runOnce(template: string, mode: Mode, repeat: number, writes: BlockWrites, options: LatencyBenchOptions): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `rxsm-bench-lat-${mode}-`));
  cpSync(template, join(dir, 'application.db'), { recursive: true });
  const v1db = await openDb(join(dir, 'application.db'));
  const v2db = await openDb(join(dir, 'v2.db'));
  const commits: CommitSample[] = [];
  const events: TimedEvent[] = [];
  let failed: string | null = null;
  try {
    collectGarbage();
    const t0 = nowMs();
    const root = await RootStore.open({
      v1: { db: v1db, storeKeys: STORES },
      v2: { db: v2db, sc: options.sc },
      migrate: mode === 'migrating',
      ...(options.batch === undefined ? {} : { batchSize: options.batch }),
    });
    const height = root.latestVersion;
    // Subscribed right after open: events$ replays what happened during it (migrationStarted).
    const subscription = root.events$.subscribe((event) => {
      if (!TRACKED.has(event.type)) return;
      events.push({ t: nowMs() - t0, type: event.type, ...('version' in event ? { version: event.version } : {}) });
      if (event.type === 'migrationFailed') failed = String(event.error);
    });
    let restored = false;
    let afterSwitch = 0;
    for (let i = 0; ; i++) {
      if (mode === 'none' && i >= options.blocks) break;
      if (mode === 'migrating' && ((root.phase === 'switched' && afterSwitch >= options.after) || i >= options.maxBlocks || root.phase === 'failed')) break;
      const changeset = writes.next(options.writes);
      restored ||= events.some((e) => e.type === 'restored');
      const before: RootPhase = root.phase;
      const tCall = nowMs() - t0;
      await root.commit(changeset);
      const ms = nowMs() - t0 - tCall;
      const after: RootPhase = root.phase;
      const stage: CommitSample['stage'] =
        mode === 'none' ? 'none' : before === 'switched' ? 'switched' : after === 'switched' ? 'switch' : restored ? 'catchUp' : 'restore';
      if (stage === 'switched') afterSwitch++;
      commits.push({ version: root.latestVersion, tCall, ms, stage });
      // The block time: the migration gets the event loop to itself until the next block.
      await sleep(options.intervalMs);
    }
    subscription.unsubscribe();
    await root.close();
    const sample = measuredLatencies(commits);
    return {
      mode,
      repeat,
      commits,
      p50: sample.length > 0 ? percentile(sample, 50) : NaN,
      p99: sample.length > 0 ? percentile(sample, 99) : NaN,
      max: sample.length > 0 ? Math.max(...sample) : NaN,
      n: sample.length,
      switch: mode === 'migrating' ? analyseSwitch(height, events, commits) : null,
      failed,
    };
  } finally {
    await v1db.close();
    await v2db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commits a run's p50/p99 are taken over: all of a run without migration, the ones before the switch of a migrating run. */
function measuredLatencies(commits: readonly CommitSample[]): number[] {
  return commits.filter((c) => measuredStage(c.stage)).map((c) => c.ms);
}

function measuredStage(stage: CommitSample['stage']): boolean {
  return stage === 'none' || stage === 'restore' || stage === 'catchUp';
}

/**
 * The latencies of a run without migration at the versions its migrating twin (same repeat, same
 * blocks) measured: the commits target 4 compares, block for block.
 */
function sameBlocks(none: RunResult, migrating: RunResult): number[] {
  const versions = new Set(migrating.commits.filter((c) => measuredStage(c.stage)).map((c) => c.version));
  return none.commits.filter((c) => versions.has(c.version)).map((c) => c.ms);
}

/** A repeat's two runs. */
interface Repeat {
  readonly none: RunResult;
  readonly migrating: RunResult;
}

/**
 * p99 of every measured commit of all repeats of each mode, and their ratio: (a) over the blocks
 * (b) measured (`sameBlocks`), or over all its commits. With ~50 commits a migrating run, a run's
 * p99 is nearly its maximum, so the per-repeat ratios spread widely; pooled, the p99 is taken over
 * all repeats' commits at once. A second view of target 4, next to the median of the per-repeat
 * ratios.
 */
function pooledP99(repeats: readonly Repeat[], of: 'sameBlocks' | 'allBlocks'): { none: number; migrating: number; ratio: number } {
  const p99 = (all: number[]): number => (all.length === 0 ? NaN : percentile(all, 99));
  const none = p99(repeats.flatMap((r) => (of === 'sameBlocks' ? sameBlocks(r.none, r.migrating) : measuredLatencies(r.none.commits))));
  const migrating = p99(repeats.flatMap((r) => measuredLatencies(r.migrating.commits)));
  return { none, migrating, ratio: migrating / none };
}

/**
 * Target 5 from the events: the switch must come with the first commit after the last catch-up,
 * i.e. `switched.version === caughtUp.version + 1`. Any commit in between went to store/v1 although
 * store/v2 held everything — a polling delay.
 */
function analyseSwitch(height: number, events: readonly TimedEvent[], commits: readonly CommitSample[]): SwitchAnalysis | null {
  const switched = events.find((e) => e.type === 'switched');
  if (switched === undefined || switched.version === undefined) return null;
  const caughtUp = events.filter((e) => e.type === 'caughtUp' && e.t <= switched.t).at(-1);
  if (caughtUp === undefined || caughtUp.version === undefined) return null;
  const switching = commits.find((c) => c.version === switched.version);
  return {
    height,
    restoredAtMs: events.find((e) => e.type === 'restored')?.t ?? null,
    caughtUpVersion: caughtUp.version,
    caughtUpAtMs: caughtUp.t,
    switchedVersion: switched.version,
    switchedAtMs: switched.t,
    extraCommits: switched.version - caughtUp.version - 1,
    caughtUpToSwitchedMs: switched.t - caughtUp.t,
    caughtUpToNextCommitMs: switching === undefined ? NaN : switching.tCall - caughtUp.t,
    switchCommitMs: switching?.ms ?? NaN,
  };
}

/** Runs every repeat, prints the tables, writes the JSON result; returns the result. */
export async function runLatencyBench(options: LatencyBenchOptions): Promise<Record<string, unknown>> {
  const env = environment();
  const started = new Date().toISOString();
  const root = mkdtempSync(join(tmpdir(), 'rxsm-bench-lat-'));
  const runs: RunResult[] = [];
  try {
    progress(`latency bench: building store/v1 of ${fmt(options.keys)} keys in ${STORES.length} stores`);
    const template = join(root, 'application.db');
    const db = await openDb(template);
    let pools: ReadonlyMap<string, Uint8Array[]>;
    try {
      const built = await buildV1(db, { stores: STORES, keys: options.keys, mode: 'commits', block: BUILD_BLOCK, seed: options.seed, keepKeysPerStore: POOL_PER_STORE });
      pools = built.keys;
    } finally {
      await db.close();
    }
    for (let r = 0; r < options.repeats; r++) {
      // Alternating order, so a drift in machine load hits both modes alike.
      const order: Mode[] = r % 2 === 0 ? ['none', 'migrating'] : ['migrating', 'none'];
      for (const mode of order) {
        // The same blocks in both modes of a repeat.
        const run = await runOnce(template, mode, r + 1, new BlockWrites(pools, options.seed * 1000 + r), options);
        runs.push(run);
        const s = run.switch;
        progress(
          `  repeat ${r + 1} ${mode.padEnd(9)}: ${run.n} commits, p50 ${fmt(run.p50, 1)} ms, p99 ${fmt(run.p99, 1)} ms, max ${fmt(run.max, 1)} ms` +
            (mode === 'migrating'
              ? s === null
                ? ` — no switch within ${run.commits.length} blocks${run.failed ? ` (failed: ${run.failed})` : ''}`
                : `; restored at ${fmt((s.restoredAtMs ?? NaN) / 1000, 1)} s, caught up at v${s.caughtUpVersion}, switched at v${s.switchedVersion} (+${s.extraCommits}), switch commit ${fmt(s.switchCommitMs, 1)} ms`
              : ''),
        );
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const none = runs.filter((r) => r.mode === 'none');
  const migrating = runs.filter((r) => r.mode === 'migrating');
  const repeats: Repeat[] = none.map((n) => ({ none: n, migrating: migrating.find((x) => x.repeat === n.repeat)! }));
  const noneSameBlocksP99 = repeats.map((r) => {
    const sample = sameBlocks(r.none, r.migrating);
    return sample.length > 0 ? percentile(sample, 99) : NaN;
  });
  const ratios = repeats.map((r, i) => r.migrating.p99 / noneSameBlocksP99[i]!);
  const ratiosAllBlocks = repeats.map((r) => r.migrating.p99 / r.none.p99);
  const switches = migrating.map((r) => r.switch).filter((s): s is SwitchAnalysis => s !== null);
  const allSwitched = switches.length === migrating.length;
  const stageP99 = (stage: CommitSample['stage']): number => {
    const per = migrating.map((r) => r.commits.filter((c) => c.stage === stage).map((c) => c.ms)).filter((l) => l.length > 0);
    return per.length === 0 ? NaN : median(per.map((l) => percentile(l, 99)));
  };
  const summary = {
    none: {
      p50: median(none.map((r) => r.p50)),
      p99: median(none.map((r) => r.p99)),
      n: median(none.map((r) => r.n)),
      /** p99 over the blocks the migrating run of the same repeat measured (target 4's baseline). */
      p99SameBlocks: median(noneSameBlocksP99),
    },
    migrating: {
      p50: median(migrating.map((r) => r.p50)),
      p99: median(migrating.map((r) => r.p99)),
      n: median(migrating.map((r) => r.n)),
      restoreP99: stageP99('restore'),
      catchUpP99: stageP99('catchUp'),
      switchedP99: stageP99('switched'),
    },
    /** Target 4: median over the repeats of p99(migrating)/p99(none over the same blocks) in the same repeat. */
    p99Ratio: median(ratios),
    p99Ratios: ratios,
    pooledP99: pooledP99(repeats, 'sameBlocks'),
    /** As `p99Ratio`, (a) over all its commits (target 4 until 2026-11-27). */
    p99RatioAllBlocks: median(ratiosAllBlocks),
    p99RatiosAllBlocks: ratiosAllBlocks,
    pooledP99AllBlocks: pooledP99(repeats, 'allBlocks'),
    switch: {
      switchedInEveryRun: allSwitched,
      /** Target 5: the worst run. */
      extraCommitsMax: allSwitched ? Math.max(...switches.map((s) => s.extraCommits)) : null,
      caughtUpToSwitchedMs: switches.length > 0 ? median(switches.map((s) => s.caughtUpToSwitchedMs)) : null,
      caughtUpToNextCommitMs: switches.length > 0 ? median(switches.map((s) => s.caughtUpToNextCommitMs)) : null,
      switchCommitMs: switches.length > 0 ? median(switches.map((s) => s.switchCommitMs)) : null,
      restoreMs: switches.length > 0 ? median(switches.map((s) => s.restoredAtMs ?? NaN)) : null,
    },
  };
  printTable(
    `commit latency, ${fmt(options.keys)} keys, blocks of ${options.writes} writes every ${options.intervalMs} ms (medians of ${options.repeats} repeats, ms)`,
    ['run', 'commits', 'p50', 'p99', 'p99 / none'],
    [
      ['(a) no migration', fmt(summary.none.n), fmt(summary.none.p50, 1), fmt(summary.none.p99, 1), ''],
      ['    over the blocks (b) measured', fmt(summary.migrating.n), '', fmt(summary.none.p99SameBlocks, 1), ''],
      ['(b) migrating (until the switch)', fmt(summary.migrating.n), fmt(summary.migrating.p50, 1), fmt(summary.migrating.p99, 1), `${fmt(summary.p99Ratio, 2)}× (all of (a): ${fmt(summary.p99RatioAllBlocks, 2)}×)`],
      ['    of which during the restore', '', '', fmt(summary.migrating.restoreP99, 1), ''],
      ['    of which during catch-up', '', '', fmt(summary.migrating.catchUpP99, 1), ''],
      ['    after the switch (store/v2)', '', '', fmt(summary.migrating.switchedP99, 1), ''],
    ],
  );
  console.log(`  target 4: p99(b) / p99(a over the same blocks) ≤ 1.5 — per repeat ${ratios.map((r) => fmt(r, 2)).join(', ')}`);
  console.log(`  against all of (a)'s commits — per repeat ${ratiosAllBlocks.map((r) => fmt(r, 2)).join(', ')}`);
  printTable(
    '(c) switch (per migrating run)',
    ['repeat', 'restored (s)', 'caught up at', 'switched at', 'extra commits', 'caughtUp→switched (ms)', 'caughtUp→next commit (ms)', 'switch commit (ms)'],
    migrating.map((r) =>
      r.switch === null
        ? [String(r.repeat), '', '', 'no switch', '', '', '', '']
        : [
            String(r.repeat),
            fmt((r.switch.restoredAtMs ?? NaN) / 1000, 1),
            `v${r.switch.caughtUpVersion}`,
            `v${r.switch.switchedVersion}`,
            String(r.switch.extraCommits),
            fmt(r.switch.caughtUpToSwitchedMs, 1),
            fmt(r.switch.caughtUpToNextCommitMs, 1),
            fmt(r.switch.switchCommitMs, 1),
          ],
    ),
  );
  console.log('  target 5: 0 extra commits (the switch comes with the first commit after catch-up); caughtUp→next commit is the block time, not a store delay');
  const result = {
    bench: 'latency',
    startedAt: started,
    finishedAt: new Date().toISOString(),
    environment: { ...env, loadAvgAtEnd: environment().loadAvgAtEnd },
    options: { ...options, stores: STORES, buildBlock: BUILD_BLOCK },
    summary,
    runs,
  };
  if (options.out !== undefined) writeJson(options.out, result);
  return result;
}

/** Command line of this bench; `defaultSizes[0]` is the store size without `--keys`. */
export async function main(argv: readonly string[], defaultSizes: readonly number[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      keys: { type: 'string' },
      blocks: { type: 'string' },
      writes: { type: 'string', default: '100' },
      interval: { type: 'string', default: '50' },
      repeats: { type: 'string', default: '5' },
      after: { type: 'string', default: '20' },
      'max-blocks': { type: 'string', default: '3000' },
      batch: { type: 'string' },
      seed: { type: 'string', default: '42' },
      'no-sc': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-json': { type: 'boolean', default: false },
    },
    // bench/run.ts hands every bench the same argv: other benches' options are not errors here.
    strict: false,
  });
  const int = intOption;
  const str = stringOption;
  const quick = values.quick === true;
  // Several sizes make no sense here (run.ts may pass the migration bench's list): take the first.
  const keys = str(values.keys)?.split(',')[0];
  const blocks = str(values.blocks);
  await runLatencyBench({
    keys: keys !== undefined ? int(keys, 'keys') : quick ? QUICK.keys : (defaultSizes[0] ?? 100_000),
    blocks: blocks !== undefined ? int(blocks, 'blocks') : quick ? QUICK.blocks : 200,
    writes: int(values.writes, 'writes'),
    intervalMs: int(values.interval, 'interval', 0),
    repeats: int(values.repeats, 'repeats'),
    after: int(values.after, 'after', 0),
    maxBlocks: int(values['max-blocks'], 'max-blocks'),
    batch: str(values.batch) === undefined ? undefined : int(values.batch, 'batch'),
    seed: int(values.seed, 'seed'),
    sc: values['no-sc'] !== true,
    out: values['no-json'] === true ? undefined : (str(values.out) ?? DEFAULT_OUT),
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), [100_000]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
