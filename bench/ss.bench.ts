/**
 * Why the State Storage exists: point reads and range iteration of the same 100k keys through the
 * SS and through store/v1's IAVL tree, side by side in one run (issue 3). Medians of 3 runs.
 * Writes bench/results/ss.json.
 *
 *   node .bench-build/bench/ss.bench.js [--keys 100000] [--reads 20000] [--repeats 3] [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { openDb } from '../src/db/level-db.js';
import { LegacyStore } from '../src/v1/legacy-store.js';
import { StorageStore } from '../src/storage/storage-store.js';
import { changesetFromPairs, type ChangesetEntry } from '../src/core/changeset.js';
import { compareBytes } from '../src/core/bytes.js';
import { Prng } from './lib/prng.js';
import { median, nowMs } from './lib/stats.js';
import { environment, fmt, printTable, progress, writeJson } from './lib/report.js';

const BLOCK = 10_000;

/** Command line of this bench; `--quick` (from `run.js --quick`) uses 20k keys instead of `defaultSizes[0]`. */
export async function main(argv: readonly string[], defaultSizes: readonly number[] = [100_000]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { keys: { type: 'string' }, reads: { type: 'string' }, repeats: { type: 'string' }, quick: { type: 'boolean' } },
    strict: false,
  });
  // One size only: run.ts may hand over the other benches' list of sizes.
  const keys = typeof values.keys === 'string' ? Number(values.keys.split(',')[0]) : values.quick === true ? 20_000 : (defaultSizes[0] ?? 100_000);
  const reads = Number(values.reads ?? 20_000);
  const repeats = Number(values.repeats ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'rxsm-bench-ss-'));
  const v1db = await openDb(join(dir, 'v1'));
  const ssdb = await openDb(join(dir, 'ss'));
  try {
    const v1 = await LegacyStore.open(v1db, { storeKeys: ['bank'], cacheSize: 10_000 });
    const ss = await StorageStore.open(ssdb, { storeKeys: ['bank'] });
    const prng = new Prng(7);
    const all: Uint8Array[] = [];
    progress(`ss bench: writing ${fmt(keys)} keys to store/v1 and SS`);
    for (let done = 0; done < keys; done += BLOCK) {
      const entries: ChangesetEntry[] = [];
      for (let i = 0; i < Math.min(BLOCK, keys - done); i++) {
        const key = prng.bytes(32);
        all.push(key);
        entries.push(['bank', key, prng.bytes(32)]);
      }
      const { version, changeset } = changesetFromPairs(v1.latestVersion + 1, entries);
      await v1.commit(changeset);
      await ss.applyChangeset(version, changeset);
    }
    const version = v1.latestVersion;
    const sample = Array.from({ length: reads }, () => all[prng.next() % all.length]!);
    const sorted = [...all].sort(compareBytes);
    const start = sorted[Math.floor(sorted.length / 4)]!;
    const end = sorted[Math.floor((3 * sorted.length) / 4)]!;
    const t = { ssGet: [] as number[], v1Get: [] as number[], ssIter: [] as number[], v1Iter: [] as number[] };
    let iterated = 0;
    for (let r = 0; r < repeats; r++) {
      let s = nowMs();
      for (const key of sample) await ss.get('bank', version, key);
      t.ssGet.push(nowMs() - s);
      s = nowMs();
      for (const key of sample) await v1.get('bank', key, version);
      t.v1Get.push(nowMs() - s);
      s = nowMs();
      iterated = 0;
      for await (const _entry of ss.iterator('bank', version, start, end)) iterated++;
      t.ssIter.push(nowMs() - s);
      // store/v1 has no range iterator: the IAVL way is to walk leaves by index.
      s = nowMs();
      const view = await v1.multi.tree('bank').getImmutable(version);
      const first = (await view.getWithIndex(start)).index;
      const last = (await view.getWithIndex(end)).index;
      for (let i = first; i < last; i++) await view.getByIndex(i);
      t.v1Iter.push(nowMs() - s);
      progress(`  run ${r + 1}: get SS ${fmt(t.ssGet[r]!)} ms / IAVL ${fmt(t.v1Get[r]!)} ms; iterate SS ${fmt(t.ssIter[r]!)} ms / IAVL ${fmt(t.v1Iter[r]!)} ms`);
    }
    await ss.close();
    const row = {
      keys,
      reads,
      iterated,
      ssGetsPerSec: reads / (median(t.ssGet) / 1000),
      iavlGetsPerSec: reads / (median(t.v1Get) / 1000),
      ssIterPerSec: iterated / (median(t.ssIter) / 1000),
      iavlIterPerSec: iterated / (median(t.v1Iter) / 1000),
    };
    printTable(
      'SS vs store/v1 IAVL (medians)',
      ['keys', 'SS gets/s', 'IAVL gets/s', 'SS/IAVL get', 'SS iter/s', 'IAVL iter/s', 'SS/IAVL iter'],
      [[fmt(keys), fmt(row.ssGetsPerSec), fmt(row.iavlGetsPerSec), fmt(row.ssGetsPerSec / row.iavlGetsPerSec, 2), fmt(row.ssIterPerSec), fmt(row.iavlIterPerSec), fmt(row.ssIterPerSec / row.iavlIterPerSec, 2)]],
    );
    writeJson('bench/results/ss.json', { bench: 'ss', environment: environment(), row });
  } finally {
    await v1db.close();
    await ssdb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), [100_000]).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
