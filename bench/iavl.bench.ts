/**
 * IAVL benchmark (issue "Foundation"): set+save throughput and export/import throughput, each
 * printed next to the raw LevelDB rate measured in the same run on the same machine.
 *
 * For every size N, on fresh classic-level databases in a temp dir (removed afterwards):
 *   (a) raw LevelDB: batch-write N random 32-byte keys with 32-byte values, `block` keys a batch;
 *   (b) IAVL set+save: the same N keys into one tree, saveVersion every `block` keys;
 *   (c) export of the last version from a freshly opened tree (cold node cache), through
 *       ExportReader.read(batch) and through the Observable tree.export();
 *   (d) import of the ExportReader stream into a fresh tree in another database (pipelined, so
 *       memory stays bounded); the imported root hash must equal the source hash, else the bench
 *       aborts;
 *   (e) raw iteration (iterator.nextv(batch)) over the node keys of the imported tree, which are
 *       exactly the exported nodes: the lower bound for an export.
 * Ratios are taken within each run (side by side), then the median over the runs is quoted.
 *
 *   node .bench-build/bench/iavl.bench.js [--keys 100000[,1000000]] [--full] [--repeats 3]
 *        [--block 10000] [--batch 1024] [--seed 1] [--out bench/results/iavl.json] [--no-json]
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { concatBytes, equalBytes, toHex, utf8 } from '../src/core/bytes.js';
import { type LevelDb, openDb } from '../src/db/level-db.js';
import { IavlTree } from '../src/iavl/iavl-tree.js';
import { intOption } from './lib/args.js';
import { Prng } from './lib/prng.js';
import { settled } from './lib/settle.js';
import { environment, fmt, fmtMB, printTable, progress, writeJson } from './lib/report.js';
import { median, nowMs, RssSampler, summarize, type Summary } from './lib/stats.js';

const KEY_BYTES = 32;
const VALUE_BYTES = 32;
/** Store v1 layout: one tree per module under `s/k:<name>/`. */
const PREFIX = 's/k:bench/';
/** IAVL v1 node keys start with 's' inside the tree's prefix. */
const NODE_PREFIX = 0x73;
/** Sizes up to this are repeated `repeats` times; larger ones run once. */
const SMALL_SIZE_MAX = 200_000;
const DEFAULT_OUT = 'bench/results/iavl.json';
/** Passes of the raw iteration (e) per run; the median pass is quoted. */
const RAW_ITER_PASSES = 3;

export interface IavlBenchOptions {
  readonly sizes: readonly number[];
  /** Runs per small size (medians are quoted); large sizes run once. */
  readonly repeats: number;
  /** Keys per LevelDB batch and per saved IAVL version. */
  readonly block: number;
  /** Nodes per export read / entries per nextv. */
  readonly batch: number;
  readonly seed: number;
  /** JSON result path, or undefined for none. */
  readonly out: string | undefined;
}

/** Everything one run of one size measured. Rates are per second; times in milliseconds. */
interface RunResult {
  readonly keys: number;
  readonly versions: number;
  readonly nodes: number;
  readonly rootHash: string;
  readonly rawWriteKeysPerSec: number;
  readonly iavlKeysPerSec: number;
  readonly iavlSetMs: number;
  readonly iavlSaveMs: number;
  /** Per-block (set of `block` keys + saveVersion) latencies. */
  readonly iavlBlockMs: Summary;
  readonly exportReaderNodesPerSec: number;
  readonly exportObservableNodesPerSec: number;
  /** Which export pass ran first (the second finds LevelDB's caches warm). */
  readonly exportOrder: 'reader-first' | 'observable-first';
  /** Export → import pipeline, wall clock. */
  readonly importPipelineNodesPerSec: number;
  /** Time inside importer.add/commit only. */
  readonly importNodesPerSec: number;
  readonly rawIterEntriesPerSec: number;
  readonly rawIterEntries: number;
  readonly ratios: {
    readonly iavlVsRawWrite: number;
    readonly importVsRawWrite: number;
    readonly exportVsRawIter: number;
    readonly observableVsReader: number;
  };
  readonly phaseMs: Record<string, number>;
  readonly peakRssBytes: Record<string, number>;
}

/** Temp dirs of the run in progress, removed on Ctrl-C / SIGTERM as well. */
const liveTempDirs = new Set<string>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const dir of liveTempDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** A block of deterministic keys and values; the same seed gives the same data in (a) and (b). */
function nextBlock(prng: Prng, count: number): { keys: Uint8Array[]; values: Uint8Array[] } {
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    keys.push(prng.bytes(KEY_BYTES));
    values.push(prng.bytes(VALUE_BYTES));
  }
  return { keys, values };
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function rate(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : Number.POSITIVE_INFINITY;
}

async function runOnce(
  n: number,
  label: string,
  options: IavlBenchOptions,
  rss: RssSampler,
  observableFirst: boolean,
): Promise<RunResult> {
  const { block, batch, seed } = options;
  const verbose = n >= 500_000;
  /** Progress every tenth of a phase, for the large sizes only. */
  const ticker = (phase: string, total: number): ((done: number) => void) => {
    const startedMs = nowMs();
    let next = total / 10;
    return (done) => {
      if (!verbose || done < next) return;
      next += total / 10;
      progress(`${label} ${phase} ${fmt(done)}/${fmt(total)} (${fmt((nowMs() - startedMs) / 1000, 1)} s)`);
    };
  };
  const phaseMs: Record<string, number> = {};
  const peakRssBytes: Record<string, number> = {};
  const endPhase = (name: string, ms: number, detail: string): void => {
    phaseMs[name] = ms;
    peakRssBytes[name] = rss.reset();
    progress(`${label} ${name}: ${detail} in ${fmt(ms / 1000, 2)} s, peak RSS ${fmtMB(peakRssBytes[name]!)}`);
    collectGarbage();
    rss.reset();
  };

  const dir = await mkdtemp(join(tmpdir(), 'iavl-bench-'));
  liveTempDirs.add(dir);
  const dbs: LevelDb[] = [];
  const open = async (name: string): Promise<LevelDb> => {
    const db = await openDb(join(dir, name));
    dbs.push(db);
    return db;
  };
  try {
    // (a) raw LevelDB batch writes.
    const rawDb = await open('raw');
    let prng = new Prng(seed);
    let rawMs = 0;
    const rawTick = ticker('(a) raw write', n);
    for (let done = 0; done < n; ) {
      const count = Math.min(block, n - done);
      const { keys, values } = nextBlock(prng, count);
      const ops = keys.map((key, i) => ({ type: 'put' as const, key, value: values[i]! }));
      const t0 = nowMs();
      await rawDb.batch(ops);
      rawMs += nowMs() - t0;
      rss.sample();
      done += count;
      rawTick(done);
    }
    const rawWriteKeysPerSec = rate(n, rawMs);
    endPhase('rawWrite', rawMs, `${fmt(rawWriteKeysPerSec)} keys/s`);

    // (b) IAVL set + saveVersion every `block` keys.
    const srcDb = await open('src');
    let tree: IavlTree | undefined = await IavlTree.open(srcDb, { prefix: PREFIX });
    prng = new Prng(seed);
    let setMs = 0;
    let saveMs = 0;
    const blockMs: number[] = [];
    let version = 0;
    let rootHash: Uint8Array = new Uint8Array(0);
    const iavlTick = ticker('(b) iavl set+save', n);
    for (let done = 0; done < n; ) {
      const count = Math.min(block, n - done);
      const { keys, values } = nextBlock(prng, count);
      const t0 = nowMs();
      for (let i = 0; i < count; i++) await tree.set(keys[i]!, values[i]!);
      const t1 = nowMs();
      const saved = await tree.saveVersion();
      const t2 = nowMs();
      setMs += t1 - t0;
      saveMs += t2 - t1;
      blockMs.push(t2 - t0);
      version = saved.version;
      rootHash = saved.hash;
      rss.sample();
      done += count;
      iavlTick(done);
    }
    if (tree.size !== n) throw new Error(`IAVL tree holds ${tree.size} keys, expected ${n} (duplicate keys?)`);
    tree = undefined; // drop the writer's node cache: exports below start cold
    const iavlKeysPerSec = rate(n, setMs + saveMs);
    endPhase('iavlSetSave', setMs + saveMs, `${fmt(iavlKeysPerSec)} keys/s, ${version} versions`);
    const expectedNodes = 2 * n - 1;
    // The compactions the last saves set off must not run during the export (since 2026-11-27).
    await settled(srcDb);

    // (c) export, each pass from a freshly opened tree (cold node cache). The second pass finds
    // LevelDB's block cache and the OS page cache warm, so the order alternates between runs.
    const exportWithReader = async (): Promise<number> => {
      const t0 = nowMs();
      let exported = 0;
      const exportTick = ticker('(c) export, ExportReader', expectedNodes);
      const source = await IavlTree.open(srcDb, { prefix: PREFIX });
      const reader = await source.exportReader(version);
      try {
        for (;;) {
          const nodes = await reader.read(batch);
          if (nodes.length === 0) break;
          exported += nodes.length;
          rss.sample();
          exportTick(exported);
        }
      } finally {
        await reader.close();
      }
      const ms = nowMs() - t0;
      if (exported !== expectedNodes) throw new Error(`export gave ${exported} nodes, expected ${expectedNodes}`);
      endPhase('exportReader', ms, `${fmt(rate(exported, ms))} nodes/s`);
      return rate(exported, ms);
    };
    const exportWithObservable = async (): Promise<number> => {
      const t0 = nowMs();
      let observed = 0;
      const exportTick = ticker('(c) export, Observable', expectedNodes);
      const source = await IavlTree.open(srcDb, { prefix: PREFIX });
      await new Promise<void>((resolve, reject) => {
        source.export(version, { batchSize: batch }).subscribe({
          next: () => {
            observed++;
            if (observed % batch === 0) {
              rss.sample();
              exportTick(observed);
            }
          },
          error: reject,
          complete: resolve,
        });
      });
      const ms = nowMs() - t0;
      if (observed !== expectedNodes) throw new Error(`Observable export gave ${observed} nodes, expected ${expectedNodes}`);
      endPhase('exportObservable', ms, `${fmt(rate(observed, ms))} nodes/s`);
      return rate(observed, ms);
    };
    let exportReaderNodesPerSec: number;
    let exportObservableNodesPerSec: number;
    if (observableFirst) {
      exportObservableNodesPerSec = await exportWithObservable();
      exportReaderNodesPerSec = await exportWithReader();
    } else {
      exportReaderNodesPerSec = await exportWithReader();
      exportObservableNodesPerSec = await exportWithObservable();
    }

    // (d) import the export stream (pulled batch by batch, so memory stays bounded) into a fresh tree.
    const dstDb = await open('dst');
    let importMs = 0;
    let imported = 0;
    const importTick = ticker('(d) import', expectedNodes);
    let t0 = nowMs();
    {
      const target = await IavlTree.open(dstDb, { prefix: PREFIX });
      const importer = await target.importer(version);
      const source = await IavlTree.open(srcDb, { prefix: PREFIX });
      const reader = await source.exportReader(version);
      try {
        for (;;) {
          const nodes = await reader.read(batch);
          if (nodes.length === 0) break;
          const ti = nowMs();
          for (const node of nodes) await importer.add(node);
          importMs += nowMs() - ti;
          imported += nodes.length;
          rss.sample();
          importTick(imported);
        }
      } finally {
        await reader.close();
      }
      const tc = nowMs();
      const result = await importer.commit();
      importMs += nowMs() - tc;
      if (result.version !== version || !equalBytes(result.hash, rootHash)) {
        throw new Error(
          `import mismatch: imported version ${result.version} root ${toHex(result.hash)}, source version ${version} root ${toHex(rootHash)}`,
        );
      }
      if (!equalBytes(target.hash(), rootHash)) throw new Error(`imported tree reports root ${toHex(target.hash())}, expected ${toHex(rootHash)}`);
    }
    const importPipelineMs = nowMs() - t0;
    // The import must survive a reopen from disk, too.
    const reopened = await IavlTree.open(dstDb, { prefix: PREFIX });
    if (reopened.version !== version || !equalBytes(reopened.hash(), rootHash)) {
      throw new Error(`reopened import has version ${reopened.version} root ${toHex(reopened.hash())}, expected ${version} ${toHex(rootHash)}`);
    }
    const importNodesPerSec = rate(imported, importMs);
    const importPipelineNodesPerSec = rate(imported, importPipelineMs);
    endPhase(
      'import',
      importPipelineMs,
      `${fmt(importPipelineNodesPerSec)} nodes/s pipelined, ${fmt(importNodesPerSec)} nodes/s in the importer, root hash matches`,
    );

    // (e) raw iteration over the imported tree's node keys (exactly the exported nodes). It is
    // short, so a burst of load elsewhere distorts it easily: take the median of a few passes.
    const prefix = utf8(PREFIX);
    const iterate = async (): Promise<{ entries: number; ms: number }> => {
      const start = nowMs();
      let entries = 0;
      const iterator = dstDb.iterator({
        gte: concatBytes(prefix, Uint8Array.of(NODE_PREFIX)),
        lt: concatBytes(prefix, Uint8Array.of(NODE_PREFIX + 1)),
      });
      try {
        for (;;) {
          const got = await iterator.nextv(batch);
          if (got.length === 0) break;
          entries += got.length;
          rss.sample();
        }
      } finally {
        await iterator.close();
      }
      return { entries, ms: nowMs() - start };
    };
    const passes: { entries: number; ms: number }[] = [];
    for (let pass = 0; pass < RAW_ITER_PASSES; pass++) passes.push(await iterate());
    const rawIterEntries = passes[0]!.entries;
    if (rawIterEntries !== imported) {
      progress(`${label} warning: raw iteration saw ${rawIterEntries} node keys, the import wrote ${imported}`);
    }
    const rawIterEntriesPerSec = median(passes.map((p) => rate(p.entries, p.ms)));
    endPhase(
      'rawIter',
      passes.reduce((sum, p) => sum + p.ms, 0),
      `${fmt(rawIterEntriesPerSec)} entries/s (median of ${RAW_ITER_PASSES} passes: ${passes.map((p) => fmt(rate(p.entries, p.ms))).join(', ')})`,
    );

    return {
      keys: n,
      versions: version,
      nodes: expectedNodes,
      rootHash: toHex(rootHash),
      rawWriteKeysPerSec,
      iavlKeysPerSec,
      iavlSetMs: setMs,
      iavlSaveMs: saveMs,
      iavlBlockMs: summarize(blockMs),
      exportReaderNodesPerSec,
      exportObservableNodesPerSec,
      exportOrder: observableFirst ? 'observable-first' : 'reader-first',
      importPipelineNodesPerSec,
      importNodesPerSec,
      rawIterEntriesPerSec,
      rawIterEntries,
      ratios: {
        iavlVsRawWrite: iavlKeysPerSec / rawWriteKeysPerSec,
        importVsRawWrite: importNodesPerSec / rawWriteKeysPerSec,
        exportVsRawIter: exportReaderNodesPerSec / rawIterEntriesPerSec,
        observableVsReader: exportObservableNodesPerSec / exportReaderNodesPerSec,
      },
      phaseMs,
      peakRssBytes,
    };
  } finally {
    for (const db of dbs) await db.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    liveTempDirs.delete(dir);
  }
}

interface SizeResult {
  readonly keys: number;
  readonly runs: number;
  readonly note: string;
  readonly median: Record<string, number>;
  readonly min: Record<string, number>;
  readonly max: Record<string, number>;
  readonly peakRssBytes: number;
  readonly samples: readonly RunResult[];
}

const METRICS: readonly { key: string; get: (r: RunResult) => number }[] = [
  { key: 'rawWriteKeysPerSec', get: (r) => r.rawWriteKeysPerSec },
  { key: 'iavlKeysPerSec', get: (r) => r.iavlKeysPerSec },
  { key: 'iavlSetSharePct', get: (r) => (100 * r.iavlSetMs) / (r.iavlSetMs + r.iavlSaveMs) },
  { key: 'iavlBlockMsMedian', get: (r) => r.iavlBlockMs.median },
  { key: 'iavlBlockMsP99', get: (r) => r.iavlBlockMs.p99 },
  { key: 'exportReaderNodesPerSec', get: (r) => r.exportReaderNodesPerSec },
  { key: 'exportObservableNodesPerSec', get: (r) => r.exportObservableNodesPerSec },
  { key: 'importNodesPerSec', get: (r) => r.importNodesPerSec },
  { key: 'importPipelineNodesPerSec', get: (r) => r.importPipelineNodesPerSec },
  { key: 'rawIterEntriesPerSec', get: (r) => r.rawIterEntriesPerSec },
  { key: 'iavlVsRawWrite', get: (r) => r.ratios.iavlVsRawWrite },
  { key: 'importVsRawWrite', get: (r) => r.ratios.importVsRawWrite },
  { key: 'exportVsRawIter', get: (r) => r.ratios.exportVsRawIter },
  { key: 'observableVsReader', get: (r) => r.ratios.observableVsReader },
];

function aggregate(samples: readonly RunResult[], keys: number): SizeResult {
  const pick = (f: (values: number[]) => number): Record<string, number> =>
    Object.fromEntries(METRICS.map((m) => [m.key, f(samples.map(m.get))]));
  const runs = samples.length;
  return {
    keys,
    runs,
    note: runs === 1 ? 'single run (no median)' : `median of ${runs} runs`,
    median: pick(median),
    min: pick((v) => Math.min(...v)),
    max: pick((v) => Math.max(...v)),
    peakRssBytes: Math.max(...samples.flatMap((s) => Object.values(s.peakRssBytes))),
    samples,
  };
}

function printSize(size: SizeResult, block: number): void {
  const m = size.median;
  const range = (key: string, digits = 0): string =>
    size.runs === 1 ? '' : `${fmt(size.min[key]!, digits)} – ${fmt(size.max[key]!, digits)}`;
  const times = (ratio: number): string => (ratio >= 1 ? `${fmt(ratio, 2)}×` : `${fmt(ratio, 3)} (${fmt(1 / ratio, 1)}× slower)`);
  const row = (phase: string, key: string, unit: string, vs: string): string[] => [phase, fmt(m[key]!), range(key), unit, vs];
  const first = size.samples[0]!;
  printTable(
    `IAVL, ${fmt(size.keys)} keys (${fmt(first.nodes)} nodes, ${first.versions} saved versions): ${size.note}`,
    ['phase', 'rate', size.runs === 1 ? '' : 'min – max', 'unit', 'ratio (same run, median)'],
    [
      row('(a) raw LevelDB batch write', 'rawWriteKeysPerSec', 'keys/s', 'baseline (write)'),
      row('(b) IAVL set+saveVersion', 'iavlKeysPerSec', 'keys/s', `${times(m.iavlVsRawWrite!)} vs (a)`),
      row('(c) export, ExportReader', 'exportReaderNodesPerSec', 'nodes/s', `${times(m.exportVsRawIter!)} vs (e)`),
      row('(c) export, Observable', 'exportObservableNodesPerSec', 'nodes/s', `${times(m.observableVsReader!)} vs reader`),
      row('(d) import (in importer)', 'importNodesPerSec', 'nodes/s', `${times(m.importVsRawWrite!)} vs (a)`),
      row('(d) export→import pipeline', 'importPipelineNodesPerSec', 'nodes/s', ''),
      row('(e) raw LevelDB nextv iteration', 'rawIterEntriesPerSec', 'entries/s', 'baseline (read)'),
    ],
  );
  console.log(
    `  (b) split: set ${fmt(m.iavlSetSharePct!, 0)}% / saveVersion ${fmt(100 - m.iavlSetSharePct!, 0)}% of the time; ` +
      `per ${fmt(Math.min(block, size.keys))}-key block: median ${fmt(m.iavlBlockMsMedian!, 1)} ms, p99 ${fmt(m.iavlBlockMsP99!, 1)} ms`,
  );
  console.log(`  root hash ${first.rootHash} (import verified, same in every run: ${size.samples.every((s) => s.rootHash === first.rootHash)})`);
  console.log(`  peak RSS (sampled) ${fmtMB(size.peakRssBytes)}`);
  console.log(
    '  (c) each export pass starts with a cold node cache; reader/Observable order alternates between runs. ' +
      '(d) "in importer" = time inside add()/commit(), the pipeline includes the export reads. ' +
      `(e) iterates the imported tree's node keys (= the exported nodes), median of ${RAW_ITER_PASSES} passes per run.`,
  );
}

/** Runs the benchmark for every size and prints one table per size; returns the JSON result. */
export async function runIavlBench(options: IavlBenchOptions): Promise<Record<string, unknown>> {
  const rss = new RssSampler();
  rss.start();
  const started = new Date().toISOString();
  const env = environment(); // at the start: the git state of the code that runs
  const sizes: SizeResult[] = [];
  /** Live heap after each run (with --expose-gc): flat when nothing leaks between runs. */
  const heapAfterRuns: number[] = [];
  try {
    for (const n of options.sizes) {
      const runs = n <= SMALL_SIZE_MAX ? options.repeats : 1;
      const samples: RunResult[] = [];
      for (let r = 1; r <= runs; r++) {
        const label = `[iavl ${fmt(n)} keys, run ${r}/${runs}]`;
        progress(`${label} start`);
        const t0 = nowMs();
        samples.push(await runOnce(n, label, options, rss, r % 2 === 0));
        collectGarbage();
        const heap = process.memoryUsage().heapUsed;
        heapAfterRuns.push(heap);
        progress(`${label} done in ${fmt((nowMs() - t0) / 1000, 1)} s; heap after GC ${fmtMB(heap)}, RSS ${fmtMB(rss.sample())}`);
      }
      const size = aggregate(samples, n);
      sizes.push(size);
      printSize(size, options.block);
    }
  } finally {
    rss.stop();
  }
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(`\nprocess peak RSS: ${fmtMB(maxRssBytes)} (kernel maxRSS), ${fmtMB(rss.peak)} (sampled)`);
  const result = {
    bench: 'iavl',
    startedAt: started,
    finishedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
    environment: { ...env, loadAvgAtEnd: environment().loadAvgAtEnd },
    options: { ...options, keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, prefix: PREFIX, nodeCacheSize: 'default' },
    peakRssBytes: { kernelMaxRss: maxRssBytes, sampled: rss.peak },
    heapAfterRunsBytes: heapAfterRuns,
    sizes,
  };
  if (options.out !== undefined) writeJson(options.out, result);
  return result;
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  return value === undefined ? fallback : intOption(value, name);
}

/** Command line of this bench; `defaultSizes` differs between `bench:iavl` (quick) and `bench` (all). */
export async function main(argv: readonly string[], defaultSizes: readonly number[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      keys: { type: 'string' },
      full: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      repeats: { type: 'string' },
      block: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      'no-json': { type: 'boolean', default: false },
    },
    // bench/run.ts hands every bench the same argv: other benches' options are not errors here.
    strict: false,
  });
  const known = new Set(['keys', 'full', 'quick', 'repeats', 'block', 'batch', 'seed', 'out', 'no-json']);
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  if (unknown.length > 0) progress(`iavl bench: ignoring option(s) ${unknown.map((k) => `--${k}`).join(', ')}`);
  const str = (name: string): string | undefined => {
    const v = (values as Record<string, unknown>)[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new Error(`--${name} needs a value`);
    return v;
  };
  const flag = (name: string): boolean => (values as Record<string, unknown>)[name] === true;
  const keys = str('keys');
  let sizes: number[] = keys === undefined ? [...defaultSizes] : keys.split(',').map((s) => positiveInt(s, 'keys', 0));
  if (flag('quick')) sizes = sizes.filter((n) => n <= SMALL_SIZE_MAX);
  if (flag('full') && !sizes.includes(1_000_000)) sizes.push(1_000_000);
  if (sizes.length === 0) throw new Error('no sizes to run');
  await runIavlBench({
    sizes,
    repeats: positiveInt(str('repeats'), 'repeats', 3),
    block: positiveInt(str('block'), 'block', 10_000),
    batch: positiveInt(str('batch'), 'batch', 1024),
    seed: positiveInt(str('seed'), 'seed', 1),
    out: flag('no-json') ? undefined : (str('out') ?? DEFAULT_OUT),
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), [100_000]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
