/**
 * Migration throughput against the physical limit (issues 4 and 8). For N keys in 3 stores:
 *
 *   (a) raw copy   — iterate every entry of store/v1's database and batch-write the same bytes
 *                    into a fresh LevelDB: what moving this data costs at the very least;
 *   (b) SC + SS    — MigrationManager.migrate(H): snapshot → SC import + SS restore + verify;
 *   (c) SS only    — the same without an SC;
 *   (d) async loop — the (b) restore hand-written as a plain async loop without RxJS.
 *
 * All in one run on the same store/v1, each into a fresh database. Ratios: (b)/(a) keys/s
 * (target ≥ 0.5), time (b)/(d) (target ≤ 1.05). Peak RSS per phase. Writes
 * bench/results/migration.json.
 *
 *   node .bench-build/bench/migration.bench.js [--keys 100000,1000000] [--repeats 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { openDb, type LevelDb } from '../src/db/level-db.js';
import { LegacyStore } from '../src/v1/legacy-store.js';
import { CommitStore } from '../src/commitment/commit-store.js';
import { MultiTreeRestorer } from '../src/commitment/snapshot-restore.js';
import { StorageStore } from '../src/storage/storage-store.js';
import { SnapshotManager } from '../src/snapshots/snapshot-manager.js';
import { MigrationManager } from '../src/migration/migration-manager.js';
import { verifyRoots } from '../src/migration/restore-effects.js';
import { changesetFromPairs, type ChangesetEntry } from '../src/core/changeset.js';
import { Prng } from './lib/prng.js';
import { median, nowMs, RssSampler } from './lib/stats.js';
import { environment, fmt, fmtMB, printTable, progress, writeJson } from './lib/report.js';

const STORES = ['acc', 'bank', 'staking'];
const BLOCK = 10_000;
const BATCH = 2048;

async function buildV1(db: LevelDb, keys: number): Promise<LegacyStore> {
  const v1 = await LegacyStore.open(db, { storeKeys: STORES });
  const prng = new Prng(42);
  for (let done = 0; done < keys; ) {
    const entries: ChangesetEntry[] = [];
    const n = Math.min(BLOCK, keys - done);
    for (let i = 0; i < n; i++) entries.push([STORES[(done + i) % 3]!, prng.bytes(32), prng.bytes(32)]);
    await v1.commit(changesetFromPairs(v1.latestVersion + 1, entries).changeset);
    done += n;
    if ((done / BLOCK) % 10 === 0) progress(`  built ${fmt(done)} keys`);
  }
  return v1;
}

async function fresh<T>(root: string, name: string, fn: (db: LevelDb) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(root, `${name}-`));
  const db = await openDb(join(dir, 'db'));
  try {
    return await fn(db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** (a) Iterate all of store/v1's entries and batch-write the same bytes elsewhere. */
async function rawCopy(source: LevelDb, target: LevelDb): Promise<number> {
  const iterator = source.iterator();
  let entries = 0;
  try {
    for (;;) {
      const batch = (await iterator.nextv(BATCH)) as [Uint8Array, Uint8Array][];
      if (batch.length === 0) break;
      await target.batch(batch.map(([key, value]) => ({ type: 'put' as const, key, value })));
      entries += batch.length;
    }
  } finally {
    await iterator.close();
  }
  return entries;
}

/** (b)/(c) The library's migration. */
async function migrate(v1: LegacyStore, db: LevelDb, height: number, withSc: boolean): Promise<number> {
  const sc = withSc ? await CommitStore.open(db, { storeKeys: STORES, prefix: 'sc/' }) : null;
  const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: STORES });
  const manager = new MigrationManager({ db, logPrefix: new TextEncoder().encode('log/'), snapshots: new SnapshotManager(v1, { batchSize: BATCH }), ss, sc, batchSize: BATCH });
  const restored = await manager.migrate(height);
  await manager.close();
  await ss.close();
  return restored.keys;
}

/** (d) The same restore as a hand-written async loop: no RxJS anywhere. */
async function asyncLoop(v1: LegacyStore, db: LevelDb, height: number): Promise<number> {
  const sc = await CommitStore.open(db, { storeKeys: STORES, prefix: 'sc/' });
  const ss = await StorageStore.open(db, { prefix: 'ss/', storeKeys: STORES });
  const reader = await v1.snapshotReader(height);
  const restorer = new MultiTreeRestorer(sc.multi, height);
  const writer = await ss.beginRestore(height);
  let keys = 0;
  let store = '';
  for (;;) {
    const batch = await reader.read(BATCH);
    if (batch.length === 0) break;
    const importing = (async () => {
      for (const item of batch) await restorer.add(item);
    })();
    for (const item of batch) {
      if (item.kind === 'store') store = item.name;
      else if (item.kind === 'iavl' && item.height === 0) {
        writer.add(store, item.key, item.value);
        keys++;
      }
    }
    await Promise.all([importing, writer.needsFlush ? writer.flush() : undefined]);
  }
  await Promise.all([restorer.finish(), writer.commit()]);
  await verifyRoots(sc, v1, height);
  await ss.close();
  return keys;
}

interface Row {
  keys: number;
  rawEntriesPerSec: number;
  rawKeysPerSec: number;
  scSsKeysPerSec: number;
  ssOnlyKeysPerSec: number;
  asyncLoopKeysPerSec: number;
  migrationVsRaw: number;
  rxjsVsAsyncLoop: number;
  peakRssMB: { build: number; raw: number; scSs: number; ssOnly: number; asyncLoop: number };
}

export async function main(argv: readonly string[], defaultSizes: readonly number[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { keys: { type: 'string' }, repeats: { type: 'string' }, quick: { type: 'boolean' }, full: { type: 'boolean' } },
    strict: false,
  });
  const sizes = typeof values.keys === 'string' ? values.keys.split(',').map(Number) : values.quick ? [defaultSizes[0]!] : defaultSizes;
  const repeatsArg = typeof values.repeats === 'string' ? Number(values.repeats) : 3;
  const root = mkdtempSync(join(tmpdir(), 'rxsm-bench-mig-'));
  const rss = new RssSampler();
  rss.start();
  const rows: Row[] = [];
  try {
    for (const keys of sizes) {
      const repeats = keys > 200_000 ? 1 : repeatsArg;
      progress(`migration bench: ${fmt(keys)} keys in ${STORES.length} stores, ${repeats} run(s)`);
      const v1dir = mkdtempSync(join(root, 'v1-'));
      const v1db = await openDb(join(v1dir, 'application.db'));
      rss.reset();
      const v1 = await buildV1(v1db, keys);
      const height = v1.latestVersion;
      const peaks = { build: rss.reset(), raw: 0, scSs: 0, ssOnly: 0, asyncLoop: 0 };
      const times = { raw: [] as number[], scSs: [] as number[], ssOnly: [] as number[], asyncLoop: [] as number[] };
      let entries = 0;
      for (let r = 0; r < repeats; r++) {
        // Interleaved, so drift in machine load hits every variant alike.
        let t = nowMs();
        entries = await fresh(root, 'raw', (db) => rawCopy(v1db, db));
        times.raw.push(nowMs() - t);
        peaks.raw = Math.max(peaks.raw, rss.reset());
        t = nowMs();
        await fresh(root, 'scss', (db) => migrate(v1, db, height, true));
        times.scSs.push(nowMs() - t);
        peaks.scSs = Math.max(peaks.scSs, rss.reset());
        t = nowMs();
        await fresh(root, 'ss', (db) => migrate(v1, db, height, false));
        times.ssOnly.push(nowMs() - t);
        peaks.ssOnly = Math.max(peaks.ssOnly, rss.reset());
        t = nowMs();
        await fresh(root, 'loop', (db) => asyncLoop(v1, db, height));
        times.asyncLoop.push(nowMs() - t);
        peaks.asyncLoop = Math.max(peaks.asyncLoop, rss.reset());
        progress(`  run ${r + 1}: raw ${fmt(times.raw[r]!)} ms, SC+SS ${fmt(times.scSs[r]!)} ms, SS ${fmt(times.ssOnly[r]!)} ms, loop ${fmt(times.asyncLoop[r]!)} ms`);
      }
      await v1db.close();
      rmSync(v1dir, { recursive: true, force: true });
      const perSec = (ms: number[]) => keys / (median(ms) / 1000);
      rows.push({
        keys,
        rawEntriesPerSec: entries / (median(times.raw) / 1000),
        rawKeysPerSec: perSec(times.raw),
        scSsKeysPerSec: perSec(times.scSs),
        ssOnlyKeysPerSec: perSec(times.ssOnly),
        asyncLoopKeysPerSec: perSec(times.asyncLoop),
        migrationVsRaw: median(times.raw) / median(times.scSs),
        rxjsVsAsyncLoop: median(times.scSs) / median(times.asyncLoop),
        peakRssMB: {
          build: peaks.build / 2 ** 20,
          raw: peaks.raw / 2 ** 20,
          scSs: peaks.scSs / 2 ** 20,
          ssOnly: peaks.ssOnly / 2 ** 20,
          asyncLoop: peaks.asyncLoop / 2 ** 20,
        },
      });
    }
  } finally {
    rss.stop();
    rmSync(root, { recursive: true, force: true });
  }
  printTable(
    'migration (medians; keys/s of each variant, ratios side by side)',
    ['keys', 'raw copy keys/s', 'SC+SS keys/s', 'SS-only keys/s', 'async loop keys/s', 'SC+SS / raw', 'RxJS / loop (time)', 'peak RSS SC+SS'],
    rows.map((r) => [
      fmt(r.keys),
      fmt(r.rawKeysPerSec),
      fmt(r.scSsKeysPerSec),
      fmt(r.ssOnlyKeysPerSec),
      fmt(r.asyncLoopKeysPerSec),
      fmt(r.migrationVsRaw, 2),
      fmt(r.rxjsVsAsyncLoop, 3),
      fmtMB(r.peakRssMB.scSs * 2 ** 20),
    ]),
  );
  writeJson('bench/results/migration.json', { bench: 'migration', environment: environment(), stores: STORES, batch: BATCH, rows });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), [100_000]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
