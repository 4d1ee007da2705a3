/**
 * The six performance targets of issue 8 and how each is read off the benches' JSON results
 * (bench/results/<bench>.json). Kept apart from the benches so that the summary can be rebuilt
 * from results written by separate runs (`run.js --summary-only`), and so that a result missing or
 * measured at other sizes than the target's shows as such instead of as a pass.
 */
import { describeSetting, type MemorySetting } from './memory-settings.js';

export type TargetStatus = 'PASS' | 'FAIL' | 'not measured';

/** One row of the summary table (and of bench/results.json). */
export interface TargetRow {
  readonly id: number;
  readonly target: string;
  readonly threshold: string;
  /** The measured value, human-readable (with the numbers it derives from). */
  readonly measured: string;
  /** The number compared with the threshold, or null. */
  readonly value: number | null;
  readonly status: TargetStatus;
  /** Caveats, e.g. measured at quick sizes rather than the target's. */
  readonly note: string;
  /** The result file the row was read from, or null. */
  readonly source: string | null;
}

/** The parsed result files by bench name (`iavl`, `migration`, `latency`, `memory`). */
export type BenchResults = ReadonlyMap<string, { readonly path: string; readonly json: unknown }>;

interface TargetDef {
  readonly id: number;
  readonly target: string;
  readonly threshold: string;
  readonly bench: string;
  /** Reads the row from the bench's JSON; throws when the JSON lacks what it needs. */
  evaluate(json: unknown): Omit<TargetRow, 'id' | 'target' | 'threshold' | 'source'>;
}

/** A property path of untyped JSON, or undefined. */
function at(json: unknown, ...path: (string | number)[]): unknown {
  let v = json;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

function num(json: unknown, ...path: (string | number)[]): number {
  const v = at(json, ...path);
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`result has no number at ${path.join('.')}`);
  return v;
}

const fixed = (value: number, digits = 2): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const keysLabel = (keys: number): string => (keys >= 1e6 ? `${fixed(keys / 1e6, keys % 1e6 === 0 ? 0 : 1)}M` : `${fixed(keys / 1e3, 0)}k`);
const status = (pass: boolean): TargetStatus => (pass ? 'PASS' : 'FAIL');
const sizeNote = (measured: number, target: number): string => (measured === target ? '' : `at ${keysLabel(measured)} keys, not the target's ${keysLabel(target)}`);

/** The row of the largest size in an array of rows that have `keys`. */
function largest(rows: unknown): { keys: number } & Record<string, unknown> {
  if (!Array.isArray(rows) || rows.length === 0) throw new Error('result has no rows');
  return rows.reduce((a: { keys: number }, b: { keys: number }) => (b.keys > a.keys ? b : a)) as { keys: number } & Record<string, unknown>;
}

/** The targets in the order, each with the bench whose result it is read from. */
export const TARGETS: readonly TargetDef[] = [
  {
    id: 1,
    target: 'Full migration (SC + SS, 3 stores) vs raw LevelDB copy of the same leaves, keys/s',
    threshold: '≥ 0.5×',
    bench: 'migration',
    evaluate(json) {
      const row = largest(at(json, 'rows'));
      const value = num(row, 'migrationVsRaw');
      // The two halves every migration must do, each alone: walking the trees and writing SC + SS.
      const walk = row['walkVsRaw'];
      const write = row['outWriteVsRaw'];
      const outCopy = row['outCopyVsRaw'];
      const halvesNote =
        typeof walk === 'number' && typeof write === 'number'
          ? `alone, the read side (walking the trees) runs at ${fixed(walk)}× the leaf copy and the write side (SC nodes + SS pairs from memory) at ${fixed(write)}×; a migration does both`
          : typeof outCopy === 'number'
            ? `copying what a migration writes (SC nodes + SS pairs) runs at ${fixed(outCopy)}× the leaf copy; the migration at ${fixed(num(row, 'migrationVsOutCopy'))}× that copy`
            : '';
      return {
        value,
        measured: `${fixed(value)}× (${fixed(num(row, 'scSsKeysPerSec'), 0)} vs ${fixed(num(row, 'rawKeysPerSec'), 0)} keys/s)`,
        status: status(value >= 0.5),
        note: [sizeNote(row.keys, 1_000_000), halvesNote].filter((part) => part !== '').join('; '),
      };
    },
  },
  {
    id: 2,
    target: 'RxJS pipeline vs hand-written async loop, time',
    threshold: '≤ 1.05×',
    bench: 'migration',
    evaluate(json) {
      const row = largest(at(json, 'rows'));
      const value = num(row, 'rxjsVsAsyncLoop');
      const cpu = row['rxjsVsAsyncLoopCpu'];
      const cpuNote = typeof cpu === 'number' ? ` (CPU time ${fixed(cpu, 3)}×)` : '';
      const pairs = row['rxjsPairs'];
      const pairsNote = Array.isArray(pairs)
        ? `median over ${Math.floor(pairs.length / 2)} double pairs ((b) first, then (d) first; geometric mean of the two) of the ${pairs.length} pair ratios ${(pairs as number[]).map((p) => fixed(p, 3)).join(', ')}`
        : '';
      // The smaller sizes of the same run, so a size where the pipeline does worse is not hidden.
      const rows = at(json, 'rows') as ({ keys: number } & Record<string, unknown>)[];
      const others = rows
        .filter((r) => r !== row && typeof r['rxjsVsAsyncLoop'] === 'number')
        .map((r) => `at ${keysLabel(r.keys)} keys ${fixed(r['rxjsVsAsyncLoop'] as number, 3)}×`);
      return {
        value,
        measured: `${fixed(value, 3)}×${cpuNote}`,
        status: status(value <= 1.05),
        note: [sizeNote(row.keys, 1_000_000), pairsNote, ...others].filter((part) => part !== '').join('; '),
      };
    },
  },
  {
    id: 3,
    target: 'Peak RSS of a migration: 4M keys vs 1M keys, and absolute',
    threshold: '≤ 1.2× and ≤ 300 MiB',
    bench: 'memory',
    evaluate(json) {
      const small = num(json, 'smallestKeys');
      const big = num(json, 'largestKeys');
      const peak = num(json, 'largestPeakRssMiB');
      const ratio = at(json, 'peakRatio');
      if (typeof ratio !== 'number') {
        return { value: null, measured: `${fixed(peak, 0)} MiB at ${keysLabel(big)} (one size only)`, status: 'not measured', note: 'needs two sizes' };
      }
      const anon = at(json, 'largestPeakRssAnonMiB');
      const speed = at(json, 'largestKeysPerSec');
      const speedNote = (keysPerSec: unknown): string => (typeof keysPerSec === 'number' ? `, ${fixed(keysPerSec, 0)} keys/s` : '');
      const anonNote =
        typeof anon === 'number' && anon > 0 ? `allocated (RssAnon) ${fixed(anon, 0)} MiB, the rest mapped LevelDB tables and the node binary${speedNote(speed)}` : '';
      const sizes = small === 1_000_000 && big === 4_000_000 ? '' : `at ${keysLabel(small)} / ${keysLabel(big)} keys, not 1M / 4M`;
      // The setting measured (LevelDB options and node flags of the migrating process), and how the
      // other settings fared.
      const settingOf = (value: unknown): string => {
        const setting = value as MemorySetting | undefined;
        return typeof setting?.name === 'string' && Array.isArray(setting.nodeFlags) ? `"${setting.name}" (${describeSetting(setting)})` : 'unknown setting';
      };
      const measuredSetting = at(json, 'setting') as { name?: unknown } | undefined;
      const others = Array.isArray(at(json, 'settings'))
        ? (at(json, 'settings') as Record<string, unknown>[])
            .filter((o) => (o.setting as { name?: unknown } | undefined)?.name !== measuredSetting?.name && typeof o.peakRatio === 'number')
            .map(
              (o) =>
                `with ${settingOf(o.setting)}: ${fixed(o.peakRatio as number)}×, ${fixed(o.largestPeakRssMiB as number, 0)} MiB (${fixed(o.largestPeakRssAnonMiB as number, 0)} allocated)${speedNote(o.largestKeysPerSec)}`,
            )
        : [];
      // `--child-flags` come after a setting's own node flags and win over them.
      const childFlags = (at(json, 'options') as { childFlags?: unknown } | undefined)?.childFlags;
      const extraFlags = Array.isArray(childFlags) && childFlags.length > 0 ? ` plus --child-flags ${childFlags.join(' ')}` : '';
      return {
        value: ratio,
        measured: `${fixed(ratio)}× (${fixed(peak, 0)} MiB at ${keysLabel(big)} vs ${fixed(peak / ratio, 0)} MiB at ${keysLabel(small)}), setting ${settingOf(measuredSetting)}${extraFlags}`,
        status: status(ratio <= 1.2 && peak <= 300),
        note: [sizes, anonNote, ...others].filter((part) => part !== '').join('; '),
      };
    },
  },
  {
    id: 4,
    target: 'Root-store commit latency p99 during migration vs no migration',
    threshold: '≤ 1.5×',
    bench: 'latency',
    evaluate(json) {
      const value = num(json, 'summary', 'p99Ratio');
      const keys = num(json, 'options', 'keys');
      const perRepeat = at(json, 'summary', 'p99Ratios');
      const repeatsNote = Array.isArray(perRepeat) ? `median of the per-repeat ratios ${perRepeat.map((r) => fixed(r as number)).join(', ')}` : '';
      const pooled = at(json, 'summary', 'pooledP99') as { none?: unknown; migrating?: unknown; ratio?: unknown } | undefined;
      const pooledNote =
        typeof pooled?.ratio === 'number'
          ? `p99 of all repeats' commits pooled: ${fixed(pooled.ratio)}× (${fixed(pooled.migrating as number, 1)} vs ${fixed(pooled.none as number, 1)} ms)`
          : '';
      // Results before 2026-11-27 compared against all of (a)'s commits and have no same-blocks baseline.
      const sameBlocks = at(json, 'summary', 'none', 'p99SameBlocks');
      const baseline = typeof sameBlocks === 'number' ? sameBlocks : num(json, 'summary', 'none', 'p99');
      const allBlocks = at(json, 'summary', 'p99RatioAllBlocks');
      const allBlocksNote =
        typeof allBlocks === 'number'
          ? `without migration over the same blocks (versions) as the migrating run; against all its ${fixed(num(json, 'summary', 'none', 'n'), 0)} commits ${fixed(allBlocks)}×`
          : '';
      return {
        value,
        measured: `${fixed(value)}× (p99 ${fixed(num(json, 'summary', 'migrating', 'p99'), 1)} vs ${fixed(baseline, 1)} ms)`,
        status: status(value <= 1.5),
        note: [sizeNote(keys, 100_000), allBlocksNote, repeatsNote, pooledNote].filter((part) => part !== '').join('; '),
      };
    },
  },
  {
    id: 5,
    target: 'Switch latency: commits between catch-up and the switch',
    threshold: '0 extra commits',
    bench: 'latency',
    evaluate(json) {
      const extra = at(json, 'summary', 'switch', 'extraCommitsMax');
      if (typeof extra !== 'number') return { value: null, measured: 'no switch in some run', status: 'FAIL', note: 'the migration never switched' };
      const ms = at(json, 'summary', 'switch', 'caughtUpToSwitchedMs');
      return {
        value: extra,
        measured: `${extra} (worst run); caughtUp→switched ${typeof ms === 'number' ? fixed(ms, 1) : '?'} ms`,
        status: status(extra === 0),
        note: '',
      };
    },
  },
  {
    id: 6,
    target: 'Export of v1 (tree walk) vs raw iteration of the same node keys',
    threshold: '≥ 0.5×',
    bench: 'iavl',
    evaluate(json) {
      const size = largest(at(json, 'sizes'));
      const value = num(size, 'median', 'exportVsRawIter');
      return {
        value,
        measured: `${fixed(value)}× (${fixed(num(size, 'median', 'exportReaderNodesPerSec'), 0)} vs ${fixed(num(size, 'median', 'rawIterEntriesPerSec'), 0)} nodes/s)`,
        status: status(value >= 0.5),
        note: sizeNote(size.keys, 1_000_000),
      };
    },
  },
];

/** Evaluates every target against `results`; a missing or unreadable result is "not measured". */
export function evaluateTargets(results: BenchResults): TargetRow[] {
  return TARGETS.map((def) => {
    const base = { id: def.id, target: def.target, threshold: def.threshold };
    const result = results.get(def.bench);
    if (result === undefined) {
      return { ...base, measured: '—', value: null, status: 'not measured', note: `no ${def.bench} result`, source: null };
    }
    try {
      return { ...base, ...def.evaluate(result.json), source: result.path };
    } catch (error) {
      return { ...base, measured: '—', value: null, status: 'not measured', note: (error as Error).message, source: result.path };
    }
  });
}
