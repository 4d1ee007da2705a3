/**
 * The summary of a bench run: the six targets of issue 8 read off the per-bench JSON results,
 * printed as a table, written to bench/results.json, and as markdown to bench/results.md (the
 * table the README shows — paste it after a full run).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environment, markdownTable, printTable } from './report.js';
import { evaluateTargets, TARGETS, type BenchResults, type TargetRow } from './targets.js';

const RESULTS_DIR = 'bench/results';
const SUMMARY_JSON = 'bench/results.json';
const SUMMARY_MD = 'bench/results.md';

/** Options of {@link writeSummary}. */
export interface SummaryOptions {
  /** Only results written at or after this time (ms since the epoch) count; undefined: any. */
  readonly since: number | undefined;
  /** Also print the markdown table on stdout. */
  readonly markdown: boolean;
  /** Names of the benches that failed in this run (shown in the notes). */
  readonly failed?: readonly string[];
}

/** Reads bench/results/<bench>.json of every bench a target needs, if recent enough. */
function readResults(since: number | undefined): BenchResults {
  const results = new Map<string, { path: string; json: unknown }>();
  for (const bench of new Set(TARGETS.map((t) => t.bench))) {
    const path = join(RESULTS_DIR, `${bench}.json`);
    if (!existsSync(path)) continue;
    // A result left by an earlier run must not pass for this run's measurement.
    if (since !== undefined && statSync(path).mtimeMs < since) continue;
    try {
      results.set(bench, { path, json: JSON.parse(readFileSync(path, 'utf8')) as unknown });
    } catch {
      // Unreadable: the targets that need it show "not measured".
    }
  }
  return results;
}

/** The modification date of a result file, for the markdown table (results may come from several runs). */
function measuredOn(path: string | null): string {
  return path === null ? '' : new Date(statSync(path).mtimeMs).toISOString().slice(0, 10);
}

/** Evaluates the targets, prints the table, writes bench/results.json and bench/results.md. */
export function writeSummary(options: SummaryOptions): TargetRow[] {
  const rows = evaluateTargets(readResults(options.since)).map((row) =>
    options.failed?.some((name) => row.note === `no ${name} result`) ? { ...row, note: `${row.note} (the bench failed)` } : row,
  );
  printTable(
    'issue 8 targets',
    ['#', 'target', 'threshold', 'measured', 'status', 'note'],
    rows.map((r) => [String(r.id), r.target, r.threshold, r.measured, r.status, r.note]),
    [1, 2, 3, 4, 5],
  );
  writeFileSync(
    SUMMARY_JSON,
    `${JSON.stringify({ generatedAt: new Date().toISOString(), environment: environment(), onlyResultsSince: options.since === undefined ? null : new Date(options.since).toISOString(), rows }, null, 2)}\n`,
  );
  const markdown = markdownTable(
    ['#', 'target', 'threshold', 'measured', 'status', 'note', 'measured on'],
    rows.map((r) => [String(r.id), r.target, r.threshold, r.measured, r.status === 'PASS' ? '✅ PASS' : r.status === 'FAIL' ? '❌ FAIL' : r.status, r.note, measuredOn(r.source)]),
  );
  writeFileSync(SUMMARY_MD, `${markdown}\n`);
  console.log(`\nsummary written to ${SUMMARY_JSON} and ${SUMMARY_MD}`);
  if (options.markdown) console.log(`\n${markdown}`);
  return rows;
}
