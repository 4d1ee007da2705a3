/**
 * The ways the memory bench (bench/memory.bench.ts) runs its migrating child: LevelDB's options
 * and node's flags. Shared with the target summary, which describes the setting a result was
 * measured with.
 */

/** How the migrating child is run: LevelDB's options and node's flags. */
export interface MemorySetting {
  readonly name: string;
  /** LevelDB's table cache of both databases (null: LevelDB's 1000). */
  readonly maxOpenFiles: number | null;
  /** LevelDB's table file size of the store/v2 database (null: LevelDB's 2 MiB). */
  readonly maxFileSize: number | null;
  readonly nodeFlags: readonly string[];
  /** `LegacyStoreOptions.exportWorker`: the store/v1 walk on a worker thread (the library's default). */
  readonly exportWorker: boolean;
}

const MIB = 1024 * 1024;

/** The settings `--settings` picks from, by name. */
export const SETTINGS: Readonly<Record<string, MemorySetting>> = {
  // 64 is the least LevelDB keeps open (it raises less to 74 files, 64 of them tables). 1 MiB, the
  // least table size LevelDB accepts, makes store/v2's compacted tables, and so the pages its open
  // tables map, smaller; store/v1's tables are as its writer made them. The heap cap: a migration
  // keeps ~14 MiB live (a heap snapshot at 1M keys), so 48 MiB of old space leaves room while V8
  // collects before its heap grows to 90+ MiB. The walk of store/v1 stays on the main thread: the
  // export worker's isolate, heap and malloc arena add 35–40 MiB (setting `worker`), which 300 MiB at
  // 4M keys has no room for (64 mapped store/v1 tables of 2 MiB and the node binary alone take
  // ~160 MiB of it).
  bounded: { name: 'bounded', maxOpenFiles: 64, maxFileSize: MIB, nodeFlags: ['--max-old-space-size=48', '--max-semi-space-size=8'], exportWorker: false },
  worker: { name: 'worker', maxOpenFiles: 64, maxFileSize: MIB, nodeFlags: ['--max-old-space-size=48', '--max-semi-space-size=8'], exportWorker: true },
  tables: { name: 'tables', maxOpenFiles: 64, maxFileSize: MIB, nodeFlags: [], exportWorker: true },
  default: { name: 'default', maxOpenFiles: null, maxFileSize: null, nodeFlags: [], exportWorker: true },
};

/** A setting in one line, for tables and notes. */
export function describeSetting(setting: MemorySetting): string {
  const open = setting.maxOpenFiles === null ? 'maxOpenFiles LevelDB default (1000)' : `maxOpenFiles ${setting.maxOpenFiles}`;
  const size = setting.maxFileSize === null ? '2 MiB tables' : `store/v2 tables ${setting.maxFileSize / MIB} MiB`;
  const flags = setting.nodeFlags.length === 0 ? 'V8 default heap' : `node ${setting.nodeFlags.join(' ')}`;
  // Results written before the field existed ran with the worker (the library's default then too).
  const walk = setting.exportWorker !== false ? 'store/v1 walk on a worker thread' : 'store/v1 walk on the main thread (exportWorker: false)';
  return `${open}, ${size}, ${flags}, ${walk}`;
}
