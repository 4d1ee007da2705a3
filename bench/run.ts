/**
 * Runs every benchmark in this folder (`npm run bench`). Benchmarks are programs, not tests: each
 * prints ratios measured side by side in one run (the machine is shared and noisy: repeated small
 * sizes, medians quoted) and writes a JSON result under bench/results/.
 *
 *   node .bench-build/bench/run.js [--only iavl,migration] [--quick] [...options of the benches]
 *
 * By default every bench runs every size (e.g. IAVL: 100k keys 3×, then 1M keys once); `--quick`
 * keeps the small sizes only. A bench module exports `main(argv, defaultSizes)` and ignores the
 * options it does not know; register it below.
 */
import { main as iavl } from './iavl.bench.js';
import { main as migration } from './migration.bench.js';
import { progress } from './lib/report.js';

const BENCHES: readonly { name: string; run: (argv: readonly string[]) => Promise<void> }[] = [
  { name: 'iavl', run: (argv) => iavl(argv, [100_000, 1_000_000]) },
  { name: 'migration', run: (argv) => migration(argv, [100_000, 1_000_000]) },
];

async function runAll(argv: readonly string[]): Promise<void> {
  const rest = [...argv];
  let only: string[] | undefined;
  const at = rest.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (at >= 0) {
    const arg = rest[at]!;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : rest[at + 1];
    rest.splice(at, arg.includes('=') ? 1 : 2);
    only = (value ?? '').split(',').filter((s) => s.length > 0);
    const unknown = only.filter((name) => !BENCHES.some((b) => b.name === name));
    if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  }
  for (const bench of BENCHES) {
    if (only !== undefined && !only.includes(bench.name)) continue;
    progress(`=== bench ${bench.name} ===`);
    await bench.run(rest);
  }
}

runAll(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
