import { ClassicLevel } from 'classic-level';
import { MemoryLevel } from 'memory-level';
import type { AbstractLevel } from 'abstract-level';
import { StoreError } from '../core/errors.js';

/**
 * The database handle every layer works on: any abstract-level database whose keys and values are
 * byte arrays (classic-level on disk, memory-level in tests).
 */
export type LevelDb = AbstractLevel<any, Uint8Array, Uint8Array>;

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/** Options of {@link openDb} for a database on disk. */
export interface OpenDbOptions {
  /**
   * Table files LevelDB keeps open; default LevelDB's own, 1000. Every Get consults one table per
   * LSM level, and in a store/v1 with history an export's reads hop between the tables of many
   * versions, so a table cache smaller than the database reopens a file for nearly every read: at
   * 1M keys over 100 versions (~340 tables), 64 open files made a migration 1.8× slower than
   * 1000 (13.8k vs 25.2k keys/s). What open files cost is RSS, not allocated memory: LevelDB
   * memory-maps each open table it reads, and the pages a read touches count in the process's RSS
   * (at those 1M keys, 700 MiB of mapped table pages next to ~150 MiB allocated). Those pages are
   * clean page cache the kernel can reclaim. For an RSS limit, 64 bounds them to 64 tables (2 MiB
   * each) per database; LevelDB raises anything below 74 to 74 (64 tables and 10 other files).
   */
  readonly maxOpenFiles?: number;
  /** LevelDB's block cache in bytes; default 8 MiB. */
  readonly cacheSize?: number;
  /**
   * Bytes a compaction writes into one table file before it starts the next; default LevelDB's
   * 2 MiB, at least 1 MiB (LevelDB 1.20 raises anything smaller to that, so less is rejected).
   * Together with `maxOpenFiles` it bounds the mapped table pages of a database that is written
   * and read at once: 1 MiB tables halve what 64 open tables can map. It changes only the tables
   * LevelDB writes from then on; the store/v1 source keeps the tables its writer made.
   */
  readonly maxFileSize?: number;
}

/** LevelDB's (1.20, bundled by classic-level) least table file size. */
const MIN_FILE_SIZE = 1024 * 1024;

/**
 * Opens a LevelDB (classic-level) at `path`, creating it when missing, or an in-memory database
 * (memory-level) when `path` is omitted. Failures (a missing parent folder, a database locked by
 * another process) become a `StoreError` with code `ERR_IO` that names the path; a `maxFileSize`
 * below 1 MiB is `ERR_INVALID_ARGUMENT`.
 */
export async function openDb(path?: string, options: OpenDbOptions = {}): Promise<LevelDb> {
  if (options.maxFileSize !== undefined && !(Number.isSafeInteger(options.maxFileSize) && options.maxFileSize >= MIN_FILE_SIZE)) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `cannot open database at ${path ?? '(memory)'}: maxFileSize ${options.maxFileSize} is below ${MIN_FILE_SIZE} or not an integer`, {
      details: { path: path ?? null, maxFileSize: options.maxFileSize },
    });
  }
  const tuning = {
    ...(options.maxOpenFiles === undefined ? {} : { maxOpenFiles: options.maxOpenFiles }),
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
    ...(options.maxFileSize === undefined ? {} : { maxFileSize: options.maxFileSize }),
  };
  const db: LevelDb =
    path === undefined
      ? (new MemoryLevel<Uint8Array, Uint8Array>(VIEW) as unknown as LevelDb)
      : (new ClassicLevel<Uint8Array, Uint8Array>(path, { ...VIEW, ...tuning }) as unknown as LevelDb);
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const locked = cause?.code === 'LEVEL_LOCKED';
    const reason = locked ? 'it is locked by another process' : (cause?.message ?? (error as Error).message);
    throw new StoreError('ERR_IO', `cannot open database at ${path ?? '(memory)'}: ${reason}`, {
      cause: error,
      details: { path: path ?? null, locked },
    });
  }
  return db;
}
