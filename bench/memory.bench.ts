/**
 * Memory of a migration against its size (issue 8, target 3: peak RSS for 4M keys ≤ 1.2× that for
 * 1M keys, and ≤ 300 MiB — the streams are bounded, so memory must not grow with the state).
 *
 * For each size N (3 stores): build a store/v1 database of N keys (in this process, or reuse one
 * from `--store-cache`), then migrate it (SC + SS) in a fresh child process (bench/memory-child.ts)
 * that reports its own kernel peak RSS and a sampled RSS/heapUsed/keys curve. A fresh process per
 * size, because a peak inside one process is polluted by whatever ran before in it (the build,
 * the previous size). The curve of the largest size is drawn to bench/results/migration-plot.svg.
 * Writes bench/results/memory.json.
 *
 *   node .bench-build/bench/memory.bench.js [--keys 1000000,4000000] [--quick]
 *        [--build commits|import] [--build-block 50000] [--store-cache DIR]
 *        [--batch 2048] [--sample-ms 250] [--seed 42] [--no-sc] [--node-cache N]
 *        [--child-flags "--max-old-space-size=128"] [--settings bounded,worker,tables,default]
 *        [--out FILE] [--no-json] [--no-plot]
 *
 * Every size runs once per setting of `--settings` (default all four, see lib/memory-settings.ts);
 * target 3 is read from the first listed:
 *   bounded — what a memory-limited host sets: LevelDB's smallest table cache (64 open tables per
 *             database) and its smallest tables (1 MiB) in store/v2, a V8 heap capped to 48 MiB old space
 *             and 8 MiB semi-spaces (node flags of the child), and the store/v1 walk on the main
 *             thread (`exportWorker: false`);
 *   worker  — the same with the walk on the export worker thread (the library's default);
 *   tables  — the same LevelDB settings with V8's own heap sizing;
 *   default — the library's and LevelDB's defaults (1000 open tables, 2 MiB tables), V8's sizing.
 * LevelDB memory-maps each open table it reads, and those pages count in RSS; V8 sizes its heap
 * from the allocation rate, not from what is live, so RSS holds garbage it has not yet needed to
 * collect. The settings separate the two.
 *
 * `--quick` runs 50k and 200k keys. A 4M-key store/v1 built by commits takes long with our IAVL;
 * `--store-cache DIR` keeps the built stores for the next run, `--build import` builds a balanced
 * tree through the snapshot restorer instead (much faster; see lib/v1-builder.ts for the caveat).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openDb } from '../src/db/level-db.js';
import type { MemoryChildResult } from './memory-child.js';
import { intOption, stringOption } from './lib/args.js';
import { environment, fmt, printTable, progress, writeJson } from './lib/report.js';
import { nowMs } from './lib/stats.js';
import { lineChartSvg } from './lib/svg-chart.js';
import { ratePerSecond } from './lib/timeline.js';
import { buildV1, type V1BuildMode } from './lib/v1-builder.js';
import { describeSetting, SETTINGS, type MemorySetting } from './lib/memory-settings.js';

const STORES = ['acc', 'bank', 'staking'];
const QUICK_SIZES = [50_000, 200_000];
const DEFAULT_OUT = 'bench/results/memory.json';
const PLOT_OUT = 'bench/results/migration-plot.svg';
/** Target 3: the largest size's peak RSS, absolute. */
const LIMIT_MIB = 300;
const MIB = 2 ** 20;

/** Options of {@link runMemoryBench}. */
export interface MemoryBenchOptions {
  readonly sizes: readonly number[];
  readonly build: V1BuildMode;
  readonly buildBlock: number;
  /** Where built stores are kept for later runs; undefined: a temp folder, removed afterwards. */
  readonly storeCache: string | undefined;
  readonly batch: number;
  readonly sampleMs: number;
  readonly seed: number;
  readonly sc: boolean;
  /** IAVL node cache size per tree in the child; undefined: the library's default. */
  readonly nodeCache: number | undefined;
  /** Extra node flags of every child, after the setting's own. */
  readonly childFlags: readonly string[];
  readonly out: string | undefined;
  readonly plot: string | undefined;
  /** The settings to run each size with; target 3 reads the first. */
  readonly settings: readonly MemorySetting[];
}

/** One size: how its store was built and what the migrating child reported. */
interface SizeResult {
  readonly keys: number;
  /** The setting's name (see lib/memory-settings.ts). */
  readonly setting: string;
  readonly build: { readonly mode: V1BuildMode; readonly block: number; readonly reused: boolean; readonly ms: number };
  readonly migrateMs: number;
  readonly keysPerSec: number;
  readonly baselineRssMiB: number;
  readonly peakRssMiB: number;
  readonly sampledPeakRssMiB: number;
  readonly peakHeapUsedMiB: number;
  readonly peakExternalMiB: number;
  /** Sampled peaks of RSS's two parts: allocated memory, and mapped files (LevelDB's tables). */
  readonly peakRssAnonMiB: number;
  readonly peakRssFileMiB: number;
  readonly child: MemoryChildResult;
}

/** What a finished build leaves next to the database, so a cached store is reused only if it fits. */
interface StoreMeta {
  readonly keys: number;
  readonly stores: readonly string[];
  readonly mode: V1BuildMode;
  readonly block: number;
  readonly seed: number;
}

function sameMeta(a: StoreMeta, b: StoreMeta): boolean {
  return a.keys === b.keys && a.mode === b.mode && a.seed === b.seed && a.stores.join() === b.stores.join() && (a.mode === 'import' || a.block === b.block);
}

/** A built store/v1 of `keys` keys: reused from the cache, or built now. */
async function prepareStore(root: string, keys: number, options: MemoryBenchOptions): Promise<{ dir: string; reused: boolean; ms: number }> {
  const meta: StoreMeta = { keys, stores: STORES, mode: options.build, block: options.buildBlock, seed: options.seed };
  const dir = join(root, `v1-${options.build}-${keys}-seed${options.seed}`);
  const metaPath = join(dir, 'bench-meta.json');
  if (existsSync(metaPath) && sameMeta(JSON.parse(readFileSync(metaPath, 'utf8')) as StoreMeta, meta)) {
    progress(`  reusing store/v1 of ${fmt(keys)} keys in ${dir}`);
    return { dir, reused: true, ms: 0 };
  }
  // A half-built store (an interrupted earlier run) is not reusable: start over.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  progress(`  building store/v1 of ${fmt(keys)} keys (${options.build}${options.build === 'commits' ? `, ${fmt(options.buildBlock)} keys a version` : ''})`);
  const t0 = nowMs();
  const db = await openDb(join(dir, 'application.db'));
  let reported = 0;
  try {
    await buildV1(db, {
      stores: STORES,
      keys,
      mode: options.build,
      block: options.buildBlock,
      seed: options.seed,
      onProgress: (done) => {
        if (done - reported >= keys / 10 || done === keys) {
          reported = done;
          progress(`    built ${fmt(done)} keys (${fmt(done / ((nowMs() - t0) / 1000))} keys/s)`);
        }
      },
    });
  } finally {
    await db.close();
  }
  writeFileSync(metaPath, `${JSON.stringify(meta)}\n`);
  return { dir, reused: false, ms: nowMs() - t0 };
}

/** Runs bench/memory-child.js on the store in `dir` and parses its report. */
function migrateInChild(dir: string, options: MemoryBenchOptions, setting: MemorySetting): Promise<MemoryChildResult> {
  const script = fileURLToPath(new URL('./memory-child.js', import.meta.url));
  const args = ['--expose-gc', ...setting.nodeFlags, ...options.childFlags, script, '--v1', join(dir, 'application.db'), '--stores', STORES.join(','), '--batch', String(options.batch), '--sample-ms', String(options.sampleMs)];
  if (!options.sc) args.push('--no-sc');
  if (!setting.exportWorker) args.push('--no-export-worker');
  if (options.nodeCache !== undefined) args.push('--node-cache', String(options.nodeCache));
  if (setting.maxOpenFiles !== null) args.push('--max-open-files', String(setting.maxOpenFiles));
  if (setting.maxFileSize !== null) args.push('--max-file-size', String(setting.maxFileSize));
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, args, { maxBuffer: 256 * MIB }, (error, stdout) => {
      if (error) return reject(new Error(`memory child failed: ${error.message}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as MemoryChildResult);
      } catch (parseError) {
        reject(new Error(`memory child printed no JSON result: ${String(parseError)}`));
      }
    });
    // The child's progress and errors go straight to our stderr.
    child.stderr?.pipe(process.stderr);
  });
}

/** The plot of the README: restore throughput and memory over time during one migration. */
function plotSvg(size: SizeResult, setting: MemorySetting, options: MemoryBenchOptions): string {
  const samples = size.child.samples;
  const seconds = (ms: number): number => ms / 1000;
  const rate = ratePerSecond(samples, 1000);
  return lineChartSvg({
    title: `Migration of ${fmt(size.keys)} keys (${options.sc ? 'SC + SS' : 'SS only'}, ${STORES.length} stores): throughput and memory`,
    subtitle:
      `fresh process, ${describeSetting(setting)}, sampled every ${options.sampleMs} ms; ${fmt(size.keysPerSec)} keys/s overall, peak RSS ${fmt(size.peakRssMiB)} MiB (kernel); ` +
      `store/v1 built by ${options.build}; node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    xLabel: 'time since the migration started (s)',
    panels: [
      {
        yLabel: 'keys restored per second',
        series: [{ name: 'throughput (1 s window)', color: '#1f77b4', points: rate.map((r) => [seconds(r.tMs), r.rate] as const) }],
      },
      {
        yLabel: 'memory (MiB)',
        reference: { y: LIMIT_MIB, label: `target 3: ${LIMIT_MIB} MiB` },
        series: [
          { name: 'RSS', color: '#d62728', points: samples.map((s) => [seconds(s.tMs), s.rssBytes / MIB] as const) },
          // RSS without the mapped files (LevelDB's tables, the node binary): what the process allocated.
          { name: 'RSS allocated (RssAnon)', color: '#8c564b', points: samples.map((s) => [seconds(s.tMs), s.rssAnonBytes / MIB] as const) },
          { name: 'V8 heap total', color: '#ff7f0e', points: samples.map((s) => [seconds(s.tMs), s.heapTotalBytes / MIB] as const) },
          { name: 'V8 heap used', color: '#2ca02c', dashed: true, points: samples.map((s) => [seconds(s.tMs), s.heapUsedBytes / MIB] as const) },
          // Buffers live outside the V8 heap: RSS minus heap minus this is native (LevelDB, allocator).
          { name: 'external (Buffers)', color: '#9467bd', dashed: true, points: samples.map((s) => [seconds(s.tMs), s.externalBytes / MIB] as const) },
        ],
      },
    ],
  });
}

/** Runs every size, prints the table, writes the JSON result and the plot; returns the result. */
export async function runMemoryBench(options: MemoryBenchOptions): Promise<Record<string, unknown>> {
  const env = environment();
  const started = new Date().toISOString();
  const root = options.storeCache ?? mkdtempSync(join(tmpdir(), 'rxsm-bench-mem-'));
  mkdirSync(root, { recursive: true });
  const sizes: SizeResult[] = [];
  try {
    for (const keys of [...options.sizes].sort((a, b) => a - b)) {
      progress(`memory bench: ${fmt(keys)} keys in ${STORES.length} stores`);
      const store = await prepareStore(root, keys, options);
      for (const setting of options.settings) {
        const child = await migrateInChild(store.dir, options, setting);
        const size: SizeResult = {
          keys,
          setting: setting.name,
          build: { mode: options.build, block: options.buildBlock, reused: store.reused, ms: store.ms },
          migrateMs: child.migrateMs,
          keysPerSec: child.keys / (child.migrateMs / 1000),
          baselineRssMiB: child.baselineRssBytes / MIB,
          peakRssMiB: child.maxRssBytes / MIB,
          sampledPeakRssMiB: child.sampledPeakRssBytes / MIB,
          peakHeapUsedMiB: child.peakHeapUsedBytes / MIB,
          peakExternalMiB: child.peakExternalBytes / MIB,
          peakRssAnonMiB: child.peakRssAnonBytes / MIB,
          peakRssFileMiB: child.peakRssFileBytes / MIB,
          child,
        };
        progress(`  ${setting.name} (${describeSetting(setting)}): migrated ${fmt(child.keys)} keys in ${fmt(child.migrateMs / 1000, 1)} s; peak RSS ${fmt(size.peakRssMiB)} MiB`);
        sizes.push(size);
      }
    }
  } finally {
    if (options.storeCache === undefined) rmSync(root, { recursive: true, force: true });
  }
  // One summary per setting; the first setting's is target 3's.
  const bySetting = options.settings.map((setting) => {
    const runs = sizes.filter((s) => s.setting === setting.name);
    const smallest = runs[0]!;
    const largest = runs[runs.length - 1]!;
    return {
      setting,
      smallest,
      largest,
      peakRatio: runs.length > 1 ? largest.peakRssMiB / smallest.peakRssMiB : undefined,
      peakAnonRatio: runs.length > 1 && smallest.peakRssAnonMiB > 0 ? largest.peakRssAnonMiB / smallest.peakRssAnonMiB : null,
    };
  });
  const { smallest, largest, peakRatio, peakAnonRatio } = bySetting[0]!;
  const firstOf = (s: SizeResult): SizeResult => sizes.find((r) => r.setting === s.setting)!;
  printTable(
    `memory: one migration per fresh process (${options.sc ? 'SC + SS' : 'SS only'}, batch ${options.batch})`,
    ['keys', 'setting', 'keys/s', 'RSS before', 'peak RSS (kernel)', 'peak RSS (sampled)', 'of it allocated', 'of it mapped files', 'peak heap used', 'peak external', 'vs smallest size'],
    sizes.map((s) => [
      fmt(s.keys),
      s.setting,
      fmt(s.keysPerSec),
      `${fmt(s.baselineRssMiB)} MiB`,
      `${fmt(s.peakRssMiB)} MiB`,
      `${fmt(s.sampledPeakRssMiB)} MiB`,
      `${fmt(s.peakRssAnonMiB)} MiB`,
      `${fmt(s.peakRssFileMiB)} MiB`,
      `${fmt(s.peakHeapUsedMiB)} MiB`,
      `${fmt(s.peakExternalMiB)} MiB`,
      `${fmt(s.peakRssMiB / firstOf(s).peakRssMiB, 2)}×`,
    ]),
  );
  if (peakRatio !== undefined) {
    console.log(
      `  target 3 (${bySetting[0]!.setting.name}): peak(${fmt(largest.keys)}) / peak(${fmt(smallest.keys)}) ≤ 1.2 and peak(${fmt(largest.keys)}) ≤ ${LIMIT_MIB} MiB`,
    );
  }
  for (const { setting } of bySetting) console.log(`  ${setting.name}: ${describeSetting(setting)}`);
  console.log('  "allocated" = RssAnon (V8 heap, malloc); "mapped files" = RssFile (the node binary and LevelDB\'s memory-mapped table files: page cache, reclaimable), sampled peaks from /proc/self/status');
  if (options.plot !== undefined) {
    mkdirSync(dirname(options.plot), { recursive: true });
    // The plot shows what a user gets without tuning: the largest size with the defaults, if they ran.
    const shown = bySetting.find((b) => b.setting.name === 'default') ?? bySetting[0]!;
    writeFileSync(options.plot, plotSvg(shown.largest, shown.setting, options));
    console.log(`plot written to ${options.plot}`);
  }
  const result = {
    bench: 'memory',
    startedAt: started,
    finishedAt: new Date().toISOString(),
    environment: { ...env, loadAvgAtEnd: environment().loadAvgAtEnd },
    options: { ...options, stores: STORES },
    limitMiB: LIMIT_MIB,
    setting: bySetting[0]!.setting,
    peakRatio: peakRatio ?? null,
    smallestKeys: smallest.keys,
    largestKeys: largest.keys,
    largestPeakRssMiB: largest.peakRssMiB,
    largestPeakRssAnonMiB: largest.peakRssAnonMiB,
    largestKeysPerSec: largest.keysPerSec,
    peakAnonRatio,
    settings: bySetting.map((b) => ({
      setting: b.setting,
      peakRatio: b.peakRatio ?? null,
      peakAnonRatio: b.peakAnonRatio,
      largestPeakRssMiB: b.largest.peakRssMiB,
      largestPeakRssAnonMiB: b.largest.peakRssAnonMiB,
      largestKeysPerSec: b.largest.keysPerSec,
    })),
    plot: options.plot ?? null,
    sizes,
  };
  if (options.out !== undefined) writeJson(options.out, result);
  return result;
}

/** Command line of this bench; `defaultSizes` is what `npm run bench` runs without `--keys`. */
export async function main(argv: readonly string[], defaultSizes: readonly number[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      keys: { type: 'string' },
      quick: { type: 'boolean', default: false },
      build: { type: 'string', default: 'commits' },
      'build-block': { type: 'string', default: '50000' },
      'store-cache': { type: 'string' },
      batch: { type: 'string', default: '2048' },
      'sample-ms': { type: 'string', default: '250' },
      seed: { type: 'string', default: '42' },
      'no-sc': { type: 'boolean', default: false },
      'node-cache': { type: 'string' },
      'child-flags': { type: 'string' },
      settings: { type: 'string', default: 'bounded,worker,tables,default' },
      out: { type: 'string' },
      'no-json': { type: 'boolean', default: false },
      'no-plot': { type: 'boolean', default: false },
    },
    // bench/run.ts hands every bench the same argv: other benches' options are not errors here.
    strict: false,
  });
  const str = stringOption;
  const int = intOption;
  const keys = str(values.keys);
  const sizes = keys !== undefined ? keys.split(',').map((k) => int(k, 'keys')) : values.quick ? QUICK_SIZES : [...defaultSizes];
  const build = str(values.build);
  if (build !== 'commits' && build !== 'import') throw new Error(`--build must be commits or import, got ${String(build)}`);
  await runMemoryBench({
    sizes,
    build,
    buildBlock: int(values['build-block'], 'build-block'),
    storeCache: str(values['store-cache']),
    batch: int(values.batch, 'batch'),
    sampleMs: int(values['sample-ms'], 'sample-ms'),
    seed: int(values.seed, 'seed'),
    sc: values['no-sc'] !== true,
    childFlags: (str(values['child-flags']) ?? '').split(' ').filter((f) => f.length > 0),
    nodeCache: str(values['node-cache']) === undefined ? undefined : int(values['node-cache'], 'node-cache'),
    out: values['no-json'] === true ? undefined : (str(values.out) ?? DEFAULT_OUT),
    plot: values['no-plot'] === true ? undefined : PLOT_OUT,
    settings: (str(values.settings) ?? 'bounded,worker,tables,default').split(',').map((name, index, names) => {
      if (!Object.hasOwn(SETTINGS, name)) throw new Error(`--settings: unknown setting "${name}" (known: ${Object.keys(SETTINGS).join(', ')})`);
      if (names.indexOf(name) !== index) throw new Error(`--settings: "${name}" is listed twice`);
      return SETTINGS[name]!;
    }),
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), [1_000_000, 4_000_000]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
