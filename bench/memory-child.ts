/**
 * One migration in a process of its own, for the memory bench (bench/memory.bench.ts spawns it
 * with `node --expose-gc`): the kernel's peak RSS of a process counts everything the process ever
 * did, so a fair peak for one size needs a process that did nothing but this migration.
 *
 * Opens an existing store/v1 database, restores its latest version into a fresh store/v2 (SC + SS,
 * or SS only) with MigrationManager — as the migration bench does — and samples RSS, heapUsed,
 * external memory and the keys restored (from the progress events) every `--sample-ms`. Prints one JSON object
 * ({@link MemoryChildResult}) on stdout; progress goes to stderr.
 *
 *   node --expose-gc .bench-build/bench/memory-child.js --v1 DIR --stores acc,bank,staking
 *        [--batch 2048] [--sample-ms 250] [--no-sc] [--no-export-worker] [--node-cache N] [--max-open-files N]
 *        [--max-file-size BYTES]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { filter, firstValueFrom, NEVER, tap } from 'rxjs';
import { openDb } from '../src/db/level-db.js';
import { LegacyStore } from '../src/v1/legacy-store.js';
import { CommitStore } from '../src/commitment/commit-store.js';
import { StorageStore } from '../src/storage/storage-store.js';
import { SnapshotManager } from '../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../src/migration/migration-manager.js';
import type { RestoredEvent } from '../src/migration/events.js';
import { intOption } from './lib/args.js';
import { nowMs } from './lib/stats.js';
import { ownPeakRssBytes, TimelineSampler, type TimelineSample } from './lib/timeline.js';

/** What the child reports. Bytes and milliseconds. */
export interface MemoryChildResult {
  readonly height: number;
  readonly keys: number;
  readonly migrateMs: number;
  /** RSS after opening the stores and a full GC, before the migration started. */
  readonly baselineRssBytes: number;
  /** The kernel's peak RSS of this process's address space (`VmHWM`, see `ownPeakRssBytes`). */
  readonly maxRssBytes: number;
  readonly sampledPeakRssBytes: number;
  readonly peakHeapUsedBytes: number;
  readonly peakExternalBytes: number;
  /** Peak of the anonymous part of RSS (allocated memory), sampled. */
  readonly peakRssAnonBytes: number;
  /** Peak of the file-backed part of RSS (mapped files, LevelDB tables among them), sampled. */
  readonly peakRssFileBytes: number;
  readonly samples: readonly TimelineSample[];
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function run(argv: readonly string[]): Promise<MemoryChildResult> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      v1: { type: 'string' },
      stores: { type: 'string' },
      batch: { type: 'string', default: '2048' },
      'sample-ms': { type: 'string', default: '250' },
      'no-sc': { type: 'boolean', default: false },
      'no-export-worker': { type: 'boolean', default: false },
      'node-cache': { type: 'string' },
      'max-open-files': { type: 'string' },
      'max-file-size': { type: 'string' },
    },
    strict: true,
  });
  if (values.v1 === undefined || values.stores === undefined) throw new Error('usage: memory-child --v1 DIR --stores a,b,c');
  const stores = values.stores.split(',');
  const batchSize = Number(values.batch);
  const sampleMs = Number(values['sample-ms']);
  // The IAVL node cache size of store/v1 and the new SC (default: the library's), to see how much
  // of the peak is cache.
  const cache = values['node-cache'] === undefined ? {} : { cacheSize: Number(values['node-cache']) };
  // LevelDB's open table files (default: openDb's); each open table it reads is memory-mapped.
  const dbOptions = values['max-open-files'] === undefined ? {} : { maxOpenFiles: intOption(values['max-open-files'], 'max-open-files') };
  const v1db = await openDb(values.v1, dbOptions);
  const v2dir = mkdtempSync(join(tmpdir(), 'rxsm-bench-mem-v2-'));
  const v2db = await openDb(join(v2dir, 'db'), {
    ...dbOptions,
    ...(values['max-file-size'] === undefined ? {} : { maxFileSize: intOption(values['max-file-size'], 'max-file-size') }),
  });
  try {
    const v1 = await LegacyStore.open(v1db, { storeKeys: stores, exportWorker: !values['no-export-worker'], ...cache });
    const height = v1.latestVersion;
    const sc = values['no-sc'] ? null : await CommitStore.open(v2db, { storeKeys: stores, prefix: 'sc/', ...cache });
    const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: stores });
    const manager = new MigrationManager({
      db: v2db,
      logPrefix: new TextEncoder().encode('log/'),
      snapshots: new SnapshotManager(v1, { batchSize }),
      ss,
      sc,
      batchSize,
      // Progress as often as the curve is sampled, so the keys counter is never a step behind.
      progressIntervalMs: sampleMs,
    });
    collectGarbage();
    const baselineRssBytes = process.memoryUsage.rss();
    const sampler = new TimelineSampler(sampleMs);
    sampler.start();
    const t0 = nowMs();
    const restored = await firstValueFrom(
      manager.start(height, NEVER, NEVER).pipe(
        tap((event) => {
          if (event.type === 'progress') sampler.count = event.keys;
        }),
        filter((event): event is RestoredEvent => event.type === 'restored'),
      ),
    );
    const migrateMs = nowMs() - t0;
    sampler.count = restored.keys;
    const samples = sampler.stop();
    await manager.close();
    await ss.close();
    return {
      height,
      keys: restored.keys,
      migrateMs,
      baselineRssBytes,
      maxRssBytes: ownPeakRssBytes(),
      sampledPeakRssBytes: Math.max(...samples.map((s) => s.rssBytes)),
      peakHeapUsedBytes: Math.max(...samples.map((s) => s.heapUsedBytes)),
      peakExternalBytes: Math.max(...samples.map((s) => s.externalBytes)),
      peakRssAnonBytes: Math.max(...samples.map((s) => s.rssAnonBytes)),
      peakRssFileBytes: Math.max(...samples.map((s) => s.rssFileBytes)),
      samples,
    };
  } finally {
    await v1db.close();
    await v2db.close();
    rmSync(v2dir, { recursive: true, force: true });
  }
}

run(process.argv.slice(2)).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
