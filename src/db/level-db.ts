import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';
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
   * 2 MiB. From 1 MiB to 64 MiB: LevelDB 1.20 (bundled by classic-level) silently raises anything
   * below 1 MiB, and above ~80 MiB its compaction limits (multiples of this size in a 32-bit
   * `int`) overflow (past ~205 MiB it writes a table per key); both are rejected. Smaller tables make the
   * mapped pages of a database's open tables smaller (see `maxOpenFiles`): at 4M keys, 1 MiB
   * instead of 2 MiB took store/v2's from 46 to 20 MiB. Tables flushed from the memtable are not
   * cut (they are up to `writeBufferSize`), and it changes only the tables LevelDB writes from then
   * on: the store/v1 source keeps the tables its writer made.
   */
  readonly maxFileSize?: number;
  /**
   * Bytes LevelDB collects in memory (its memtable) before it writes them out as a new level-0
   * table; default LevelDB's 4 MiB. From 64 KiB to 1 GiB (LevelDB silently clips anything outside;
   * it is rejected instead). A bulk write that is not in key order gains from more: a migration
   * writes every SC tree's nodes as one ascending run of keys per node version and the SS pairs as
   * another, so every flushed table spans nearly the whole database and compaction rewrites what
   * lies below it again and again. At 1M keys in 3 stores (100 versions), 16 MiB instead of 4 MiB
   * took a migration from 16.6 s to 15.0 s of wall time and from 27.5 to 25.5 CPU-seconds (medians
   * of eight runs each, alternating; single runs spread by ±10 %; 64 MiB: 14.5 s, three runs).
   * What it costs is memory: up to twice the size (the memtable being filled and the one being
   * written out).
   */
  readonly writeBufferSize?: number;
  /** Fail with `ERR_IO` instead of creating the database when `path` holds none; default false. */
  readonly mustExist?: boolean;
}

/**
 * The folder of a database on disk that {@link openDb} opened (classic-level, shared with worker
 * threads); `undefined` for an in-memory database or any other handle.
 */
export function diskLocation(db: LevelDb): string | undefined {
  return db instanceof ClassicLevel && sharedWithWorkers.has(db) ? db.location : undefined;
}

const sharedWithWorkers = new WeakSet<object>();

/** The least table file size {@link OpenDbOptions.maxFileSize} accepts. */
export const MIN_FILE_SIZE = 1024 * 1024;
/** The largest table file size {@link OpenDbOptions.maxFileSize} accepts. */
export const MAX_FILE_SIZE = 64 * 1024 * 1024;
/** The least write buffer {@link OpenDbOptions.writeBufferSize} accepts (LevelDB's own least). */
export const MIN_WRITE_BUFFER_SIZE = 64 * 1024;
/** The largest write buffer {@link OpenDbOptions.writeBufferSize} accepts (LevelDB's own largest). */
export const MAX_WRITE_BUFFER_SIZE = 1024 * 1024 * 1024;

function checkSize(path: string | undefined, name: 'maxFileSize' | 'writeBufferSize', size: number | undefined, min: number, max: number): void {
  if (size === undefined || (Number.isSafeInteger(size) && size >= min && size <= max)) return;
  throw new StoreError('ERR_INVALID_ARGUMENT', `cannot open database at ${path ?? '(memory)'}: ${name} ${size} is not a whole number from ${min} to ${max}`, {
    details: { path: path ?? null, [name]: size },
  });
}

/**
 * Opens a LevelDB (classic-level) at `path`, creating it (and missing parent folders) when
 * missing, or an in-memory database (memory-level) when `path` is omitted. Failures (a path that
 * cannot be a folder, a database locked by another process) become a `StoreError` with code
 * `ERR_IO` that names the path; a `maxFileSize`
 * outside 1–64 MiB or a `writeBufferSize` outside 64 KiB–1 GiB is `ERR_INVALID_ARGUMENT`. A
 * database on disk is opened shareable with worker threads of this process (classic-level's
 * `multithreading`), so that a snapshot export can read it on a thread of its own (see
 * `LegacyStoreOptions.exportWorker`). So within one process, opening
 * a path that is already open shares that database (its first opening's tuning applies, and it
 * stays open until every handle is closed) instead of failing on LevelDB's lock; another process
 * is still kept out.
 */
/**
 * Creates the missing folders of `path` one at a time, so a path that cannot be made fails with
 * the reason (LevelDB's own recursive `mkdir` loops forever under procfs, for one).
 */
function makeFolders(path: string): void {
  const missing: string[] = [];
  for (let folder = resolve(path); !existsSync(folder); folder = dirname(folder)) {
    missing.push(folder);
    if (dirname(folder) === folder) break;
  }
  for (const folder of missing.reverse()) mkdirSync(folder);
}

export async function openDb(path?: string, options: OpenDbOptions = {}): Promise<LevelDb> {
  const fileSize = options.maxFileSize;
  checkSize(path, 'maxFileSize', fileSize, MIN_FILE_SIZE, MAX_FILE_SIZE);
  checkSize(path, 'writeBufferSize', options.writeBufferSize, MIN_WRITE_BUFFER_SIZE, MAX_WRITE_BUFFER_SIZE);
  const tuning = {
    // Lets a worker thread of this process open the same database (the snapshot export worker);
    // another process is still kept out by LevelDB's lock file.
    multithreading: true,
    ...(options.maxOpenFiles === undefined ? {} : { maxOpenFiles: options.maxOpenFiles }),
    ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
    ...(fileSize === undefined ? {} : { maxFileSize: fileSize }),
    ...(options.writeBufferSize === undefined ? {} : { writeBufferSize: options.writeBufferSize }),
    ...(options.mustExist === true ? { createIfMissing: false } : {}),
  };
  // Before the ClassicLevel exists: it starts opening (and making its folder) at once.
  if (path !== undefined && options.mustExist !== true) {
    try {
      makeFolders(path);
    } catch (error) {
      throw new StoreError('ERR_IO', `cannot open database at ${path}: ${(error as Error).message}`, {
        cause: error,
        details: { path, locked: false },
      });
    }
  }
  const db: LevelDb =
    path === undefined
      ? // Loaded only when used: the snapshot export worker opens databases on disk only.
        (new (await import('memory-level')).MemoryLevel<Uint8Array, Uint8Array>(VIEW) as unknown as LevelDb)
      : (new ClassicLevel<Uint8Array, Uint8Array>(path, { ...VIEW, ...tuning }) as unknown as LevelDb);
  if (path !== undefined) sharedWithWorkers.add(db);
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
