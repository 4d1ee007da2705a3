/**
 * Runs every benchmark in this folder (`npm run bench`). Benchmarks are programs, not tests: each
 * prints ratios measured side by side in one run (the machine is shared and noisy: repeated small
 * sizes, medians quoted) and writes a JSON result under bench/results/. At the end the six targets
 * of issue 8 are read off the results written in this run and printed as a table, which is also
 * written to bench/results.json and, as markdown for the README, to bench/results.md.
 *
 *   node --expose-gc .bench-build/bench/run.js [--only iavl,migration,ss,latency,memory] [--quick]
 *        [--markdown] [--summary-only] [...options of the benches]
 *
 * By default every bench runs every size (e.g. IAVL: 100k keys 3×, then 1M keys once); `--quick`
 * keeps the small sizes only. `--summary-only` runs nothing and summarizes whatever results
 * bench/results/ holds (e.g. of benches run one by one). A bench module exports
 * `main(argv, defaultSizes)` and ignores the options it does not know; register it below.
 */
import { main as iavl } from './iavl.bench.js';
import { main as latency } from './latency.bench.js';
import { main as memory } from './memory.bench.js';
import { main as migration } from './migration.bench.js';
import { main as ss } from './ss.bench.js';
import { progress } from './lib/report.js';
import { writeSummary } from './lib/summary.js';

const BENCHES: readonly { name: string; run: (argv: readonly string[]) => Promise<void> }[] = [
  { name: 'iavl', run: (argv) => iavl(argv, [100_000, 1_000_000]) },
  { name: 'migration', run: (argv) => migration(argv, [100_000, 1_000_000]) },
  { name: 'ss', run: (argv) => ss(argv, [100_000]) },
  { name: 'latency', run: (argv) => latency(argv, [100_000]) },
  { name: 'memory', run: (argv) => memory(argv, [1_000_000, 4_000_000]) },
];

/** Removes `--name value` / `--name=value` from `rest` and returns the value. */
function takeOption(rest: string[], name: string): string | undefined {
  const at = rest.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return undefined;
  const arg = rest[at]!;
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : rest[at + 1];
  rest.splice(at, arg.includes('=') ? 1 : 2);
  return value ?? '';
}

/** Removes the flag `--name` from `rest`; true when it was there. */
function takeFlag(rest: string[], name: string): boolean {
  const at = rest.indexOf(`--${name}`);
  if (at >= 0) rest.splice(at, 1);
  return at >= 0;
}

async function runAll(argv: readonly string[]): Promise<void> {
  const rest = [...argv];
  const onlyArg = takeOption(rest, 'only');
  const markdown = takeFlag(rest, 'markdown');
  const summaryOnly = takeFlag(rest, 'summary-only');
  const only = onlyArg?.split(',').filter((s) => s.length > 0);
  const unknown = (only ?? []).filter((name) => !BENCHES.some((b) => b.name === name));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  if (summaryOnly) {
    writeSummary({ since: undefined, markdown });
    return;
  }
  // Result files are only trusted when written after this moment (mtime has ~ms resolution; a
  // small margin keeps a result written in the same millisecond).
  const started = Date.now() - 1;
  const failed: string[] = [];
  for (const bench of BENCHES) {
    if (only !== undefined && !only.includes(bench.name)) continue;
    progress(`=== bench ${bench.name} ===`);
    try {
      await bench.run(rest);
    } catch (error) {
      // One failing bench must not cost the results of the others in a run that takes an hour.
      console.error(`bench ${bench.name} failed:`, error);
      failed.push(bench.name);
    }
  }
  writeSummary({ since: started, markdown, failed });
  if (failed.length > 0) process.exitCode = 1;
}

runAll(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
