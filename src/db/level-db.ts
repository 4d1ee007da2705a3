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
   * Table files LevelDB keeps open; default 64 (LevelDB's own default is 1000). LevelDB
   * memory-maps every open table it reads, and the pages a read touches count in the process's
   * RSS: with 1000 open files a 1M-key migration's RSS grew by ~480 MiB of mapped table pages
   * (its allocated memory stayed ~160 MiB). Fewer open files bound that, at the cost of reopening
   * tables on random reads. LevelDB raises anything below 74 to 74 (64 tables and 10 other
   * files), so the mapped pages stay below 64 table files (2 MiB each by default) per database.
   */
  readonly maxOpenFiles?: number;
  /** LevelDB's block cache in bytes; default 8 MiB. */
  readonly cacheSize?: number;
}

/** Open table files of a database opened by {@link openDb}, unless told otherwise. */
const DEFAULT_MAX_OPEN_FILES = 64;

/**
 * Opens a LevelDB (classic-level) at `path`, creating it when missing, or an in-memory database
 * (memory-level) when `path` is omitted. Failures (a missing parent folder, a database locked by
 * another process) become a `StoreError` with code `ERR_IO` that names the path.
 */
export async function openDb(path?: string, options: OpenDbOptions = {}): Promise<LevelDb> {
  const tuning = {
    maxOpenFiles: options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES,
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
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
