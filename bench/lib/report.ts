/** Printing benchmark tables and writing JSON results with the facts needed to compare runs. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';

/** A number with thousands separators and at most `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function fmtMB(bytes: number): string {
  return `${fmt(bytes / (1024 * 1024), 0)} MB`;
}

/**
 * Prints a table with a title line. By default the first column is left-aligned and the others
 * right-aligned (they hold numbers); `leftColumns` names further text columns.
 */
export function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[], leftColumns: readonly number[] = []): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const left = (i: number): boolean => i === 0 || leftColumns.includes(i);
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (left(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(title);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** The same kind of table as GitHub-flavoured markdown (pipes in cells escaped), for the README. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (c: string): string => c.replaceAll('|', '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Where and on what a result was measured. */
export function environment(): Record<string, unknown> {
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    totalMemMB: Math.round(totalmem() / (1024 * 1024)),
    loadAvgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    git: gitState(),
  };
}

function gitState(): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return null;
  }
}

/** Writes `result` as pretty JSON, creating the folder. */
export function writeJson(path: string, result: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nresult written to ${path}`);
}

/** Progress lines go to stderr so stdout holds only the tables. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
