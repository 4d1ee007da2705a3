import type { AbstractBatchOperation } from 'abstract-level';
import { asBytes, concatBytes, prefixEnd } from '../core/bytes.js';
import { wrapIoError } from '../core/errors.js';
import type { LevelDb } from './level-db.js';
import { syncFirstReader } from './sync-first-reader.js';

/** One write of an atomic batch, with the full (prefixed) key. */
export type WriteOp = AbstractBatchOperation<LevelDb, Uint8Array, Uint8Array>;

/** A LevelDB failure as `ERR_IO`, naming the database's folder when it has one (corruption, I/O). */
function ioError(db: LevelDb, error: unknown, what: string) {
  const location = (db as { location?: unknown }).location;
  return wrapIoError(error, typeof location === 'string' ? `${what} in ${location}` : what);
}

/** Options of {@link Namespace.write}. */
export interface WriteOptions {
  /**
   * Makes the batch durable against an OS crash or power loss before the write resolves (LevelDB
   * `sync`: the journal is flushed to disk, with every earlier write of the database). Needed
   * where a write in another database relies on this one: without it, an OS crash may keep the
   * other write and lose this one.
   */
  readonly sync?: boolean;
}

/** A key range inside a namespace; bounds are namespace-relative. */
export interface KeyRange {
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/**
 * A raw byte prefix inside one database. Stores share a LevelDB only through disjoint
 * namespaces, so no two components can ever read or overwrite each other's metadata
 * (a flaw of the Go wiring, formats.md §3).
 */
export class Namespace {
  constructor(
    readonly db: LevelDb,
    readonly prefix: Uint8Array,
  ) {}

  /** A nested namespace: this prefix followed by `suffix`. */
  child(suffix: Uint8Array): Namespace {
    return new Namespace(this.db, concatBytes(this.prefix, suffix));
  }

  /** The full database key of a namespace-relative key. */
  key(relative: Uint8Array): Uint8Array {
    return this.prefix.length === 0 ? relative : concatBytes(this.prefix, relative);
  }

  /** Reads one value; `undefined` when absent. */
  async get(relative: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const value = await this.db.get(this.key(relative));
      return value === undefined ? undefined : asBytes(value);
    } catch (error) {
      throw ioError(this.db, error, 'database read failed');
    }
  }

  /** Reads several values in one round trip; `undefined` for each absent key. */
  async getMany(relative: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    try {
      const values = await this.db.getMany(relative.map((k) => this.key(k)));
      return values.map((v) => (v === undefined ? undefined : asBytes(v)));
    } catch (error) {
      throw ioError(this.db, error, 'database read failed');
    }
  }

  /**
   * Like {@link getMany}, for keys that already carry the namespace prefix (bulk readers build
   * them in place, without a concatenation per key) and whose values are never overwritten: the
   * keys are not read from one snapshot, see {@link SyncFirstReader}.
   */
  async getManyPrefixed(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    try {
      const values = await syncFirstReader(this.db).getMany(keys);
      return values.map((v) => (v === undefined ? undefined : asBytes(v)));
    } catch (error) {
      throw ioError(this.db, error, 'database read failed');
    }
  }

  /** Like {@link put}, for a key that already carries the namespace prefix. */
  putPrefixed(key: Uint8Array, value: Uint8Array): WriteOp {
    return { type: 'put', key, value };
  }

  /** A put operation for an atomic batch. */
  put(relative: Uint8Array, value: Uint8Array): WriteOp {
    return { type: 'put', key: this.key(relative), value };
  }

  /** A delete operation for an atomic batch. */
  del(relative: Uint8Array): WriteOp {
    return { type: 'del', key: this.key(relative) };
  }

  /**
   * Writes `ops` (from any namespaces of the same database) as one atomic batch. Built as a
   * chained batch: classic-level's array form reads every operation's fields through the native
   * binding, which made a 200k-op write ~1.5× slower on the main thread.
   */
  async write(ops: WriteOp[], options: WriteOptions = {}): Promise<void> {
    if (ops.length === 0) return;
    let batch: ReturnType<LevelDb['batch']> | undefined;
    try {
      batch = this.db.batch();
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
      await (options.sync === true ? batch.write({ sync: true } as object) : batch.write());
    } catch (error) {
      await batch?.close().catch(() => undefined);
      throw ioError(this.db, error, 'database batch write failed');
    }
  }

  /**
   * An iterator over a namespace-relative range that yields namespace-relative keys. Reading
   * happens in batches (`nextv`), so a caller controls how much is in memory; `close()` must be
   * called (the returned reader does so at the end of the range).
   */
  range(range: KeyRange = {}): RangeReader {
    const gte = range.gte === undefined ? this.prefix : this.key(range.gte);
    const lt = range.lt === undefined ? prefixEnd(this.prefix) : this.key(range.lt);
    const options: { gte: Uint8Array; lt?: Uint8Array; reverse: boolean; limit: number } = {
      gte,
      reverse: range.reverse ?? false,
      limit: range.limit ?? -1,
    };
    if (lt !== undefined) options.lt = lt;
    return new RangeReader(this.db.iterator(options), this.prefix.length, this.db);
  }

  /** Deletes every key of the namespace in batches of `batchSize` (each batch atomic). */
  async clear(batchSize = 10_000): Promise<void> {
    const reader = this.range();
    try {
      for (;;) {
        const entries = await reader.next(batchSize);
        if (entries.length === 0) break;
        await this.write(entries.map(([k]) => this.del(k)));
      }
    } finally {
      await reader.close();
    }
  }
}

/** Batched reads from a LevelDB iterator, stripping the namespace prefix. */
export class RangeReader {
  private closed = false;

  constructor(
    private readonly iterator: ReturnType<LevelDb['iterator']>,
    private readonly prefixLength: number,
    /** The database, for errors. */
    private readonly db: LevelDb,
  ) {}

  /** Up to `max` entries; an empty array at the end of the range (the iterator is then closed). */
  async next(max: number): Promise<[Uint8Array, Uint8Array][]> {
    if (this.closed) return [];
    let entries: [Uint8Array, Uint8Array][];
    try {
      entries = (await this.iterator.nextv(max)) as [Uint8Array, Uint8Array][];
    } catch (error) {
      await this.close();
      throw ioError(this.db, error, 'database iteration failed');
    }
    if (entries.length === 0) {
      await this.close();
      return entries;
    }
    for (const entry of entries) {
      entry[0] = asBytes(entry[0]).subarray(this.prefixLength);
      entry[1] = asBytes(entry[1]);
    }
    return entries;
  }

  /** Releases the iterator; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.iterator.close();
  }
}
