import type { AbstractSnapshot } from 'abstract-level';
import type { BatchReader } from '../core/batch-reader.js';
import { asBytes, concatBytes, equalBytes } from '../core/bytes.js';
import { StoreError, wrapIoError } from '../core/errors.js';
import type { LevelDb } from '../db/level-db.js';
import { afterKey, decodeValue, encodeKeyVersion, unescapeTerminated, VERSION_BYTES, versionOfDataKey } from './ss-key.js';

/** One live entry of an SS iteration: `[key, value]`. */
export type SsEntry = [key: Uint8Array, value: Uint8Array];

/** What {@link SsIterator} needs; built by `StorageStore.iterator`, which validates it. */
export interface SsIteratorInit {
  readonly db: LevelDb;
  /** Full database key where this store's data starts (`namespace ‖ 'd' ‖ esc(store)`). */
  readonly storeStart: Uint8Array;
  /** Full database keys bounding the scan: `gte`, and `lt` (exclusive). */
  readonly gte: Uint8Array;
  readonly lt: Uint8Array;
  /** The version to read at, already clamped to the latest version. */
  readonly version: number;
  readonly reverse: boolean;
  /** Called once when the iterator is closed (the store forgets it). */
  readonly onClose?: () => void;
}

type RawEntry = [Uint8Array, Uint8Array];

const MIN_READ_AHEAD = 8;
const MAX_READ_AHEAD = 1024;
const ITERATION_BATCH = 128;

/**
 * An iteration over one store at one version: every key live at that version exactly once, in
 * ascending (or, for a reverse iterator, descending) key order. It is both a
 * {@link BatchReader} (`read(max)` / `close()`, for `fromBatchReader`) and an `AsyncIterable`
 * (`for await (const [key, value] of it)`); leaving a `for await` loop early (break, throw,
 * return) closes it. Reaching the end closes it too; a closed iterator reads as empty.
 *
 * Memory is bounded by the read-ahead (at most 1024 raw entries), whatever the size of the range
 * or the number of versions per key. Entries of one key sort newest first (ss-key.ts), so:
 * - forward, the first entry of a key at or below the read version decides it; the key's older
 *   versions are skipped in memory, and when a read-ahead batch ends inside a key the LevelDB
 *   iterator `seek`s past the key (or straight to its newest version ≤ v) instead of reading
 *   the rest of its history;
 * - in reverse, a key's entries arrive oldest first, so the decision is the last entry ≤ v
 *   before a newer one or the next key; when a batch ends inside a key, one point lookup
 *   resolves it and the iterator seeks below the key.
 * The read-ahead adapts: it halves when batches are mostly other versions of the same keys
 * (so a long history costs a seek, not a scan) and doubles when they are mostly distinct keys.
 */
export class SsIterator implements BatchReader<SsEntry>, AsyncIterable<SsEntry> {
  private readonly iterator: ReturnType<LevelDb['iterator']>;
  private readonly snapshot: AbstractSnapshot | undefined;
  private buffer: RawEntry[] = [];
  private index = 0;
  private readAhead = 64;
  /** Distinct keys met in the current buffer, to adapt the read-ahead. */
  private keysInBuffer = 0;
  /** The key (full data key without its version) being resolved, if any. */
  private current: Uint8Array | undefined;
  /** Forward: the current key is decided (emitted or deleted at the read version). */
  private resolved = false;
  /** Reverse: the newest entry ≤ version seen so far for the current key. */
  private candidate: RawEntry | undefined;
  /** Reverse: a version above the read version was seen, so the candidate is final. */
  private done = false;
  private ended = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Why the iteration was cut short from outside (the store closed): later reads reject with it. */
  private failure: StoreError | undefined;
  private reading: Promise<unknown> = Promise.resolve();

  /** @internal Made by `StorageStore.iterator` / `reverseIterator`, which validate `init`. */
  static open(init: SsIteratorInit): SsIterator {
    return new SsIterator(init);
  }

  private constructor(private readonly init: SsIteratorInit) {
    // A reverse iteration opens point lookups besides the main iterator; one explicit snapshot
    // makes them see the same database state as the main iterator (which snapshots implicitly).
    let snapshot: AbstractSnapshot | undefined;
    try {
      snapshot = init.reverse && init.db.supports.explicitSnapshots ? init.db.snapshot() : undefined;
      this.snapshot = snapshot;
      this.iterator = init.db.iterator({
        gte: init.gte,
        lt: init.lt,
        reverse: init.reverse,
        ...(this.snapshot === undefined ? {} : { snapshot: this.snapshot }),
      });
    } catch (error) {
      void snapshot?.close().catch(() => undefined);
      throw wrapIoError(error, 'cannot open a state storage iterator');
    }
  }

  /** The version this iteration reads at (the requested one, clamped to the latest version). */
  get version(): number {
    return this.init.version;
  }

  /**
   * The next live entries, at most `max` (≥ 1); an empty array at the end of the range or after
   * `close()`, `ERR_CLOSED` once the store was closed during the iteration. Calls are served one
   * after another, never interleaved.
   */
  read(max: number): Promise<SsEntry[]> {
    if (!Number.isSafeInteger(max) || max < 1) {
      return Promise.reject(
        new StoreError('ERR_INVALID_ARGUMENT', `read size must be a positive integer, got ${String(max)}`, {
          details: { max },
        }),
      );
    }
    const result = this.reading.then(async () => {
      const out = await this.readNow(max);
      if (this.failure !== undefined) throw this.failure;
      return out;
    });
    this.reading = result.catch(() => undefined);
    return result;
  }

  /**
   * @internal Closes the iterator on behalf of its store: unlike `close()`, the read under way and every
   * later read reject with `reason`, so a consumer cannot mistake the cut for the end of the range.
   */
  abort(reason: StoreError): Promise<void> {
    if (this.closing === undefined) this.failure ??= reason;
    return this.close();
  }

  /** Releases the LevelDB iterator (and snapshot); safe to call more than once. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.buffer = [];
      this.closing = (async () => {
        try {
          await this.iterator.close();
          await this.snapshot?.close();
        } catch (error) {
          throw wrapIoError(error, 'cannot close a state storage iterator');
        } finally {
          this.init.onClose?.();
        }
      })();
    }
    return this.closing;
  }

  /** Iterates entry by entry (reading in batches); `break`/`return`/`throw` close the iterator. */
  [Symbol.asyncIterator](): AsyncIterator<SsEntry> {
    let batch: SsEntry[] = [];
    let i = 0;
    return {
      next: async (): Promise<IteratorResult<SsEntry>> => {
        if (i >= batch.length) {
          batch = await this.read(ITERATION_BATCH);
          i = 0;
          if (batch.length === 0) return { done: true, value: undefined };
        }
        return { done: false, value: batch[i++]! };
      },
      return: async (): Promise<IteratorResult<SsEntry>> => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  private async readNow(max: number): Promise<SsEntry[]> {
    const out: SsEntry[] = [];
    try {
      while (out.length < max && !this.closed) {
        if (this.index < this.buffer.length) {
          const entry = this.buffer[this.index++]!;
          if (this.init.reverse) this.stepReverse(entry, out);
          else this.stepForward(entry, out);
        } else if (this.ended) {
          break;
        } else {
          await this.refill(out);
        }
      }
    } catch (error) {
      await this.close().catch(() => undefined);
      throw wrapIoError(error, 'state storage iteration failed');
    }
    if (this.ended && this.index >= this.buffer.length) await this.close();
    return out;
  }

  private stepForward(entry: RawEntry, out: SsEntry[]): void {
    const rawKey = entry[0];
    const keyPart = rawKey.subarray(0, rawKey.length - VERSION_BYTES);
    if (this.current === undefined || !equalBytes(keyPart, this.current)) {
      this.current = keyPart;
      this.resolved = false;
      this.keysInBuffer++;
    } else if (this.resolved) {
      return; // an older version of a key already decided
    }
    if (versionOfDataKey(rawKey) <= this.init.version) {
      this.resolved = true;
      this.emit(entry, out);
    }
  }

  private stepReverse(entry: RawEntry, out: SsEntry[]): void {
    const keyPart = entry[0].subarray(0, entry[0].length - VERSION_BYTES);
    if (this.current === undefined || !equalBytes(keyPart, this.current)) {
      this.finishReverseKey(out);
      this.current = keyPart;
      this.keysInBuffer++;
    }
    if (this.done) return;
    if (versionOfDataKey(entry[0]) <= this.init.version) this.candidate = entry;
    else this.done = true;
  }

  private finishReverseKey(out: SsEntry[]): void {
    if (this.candidate !== undefined) this.emit(this.candidate, out);
    this.current = undefined;
    this.candidate = undefined;
    this.done = false;
  }

  private emit([rawKey, rawValue]: RawEntry, out: SsEntry[]): void {
    const value = decodeValue(rawValue, rawKey);
    if (value === undefined) return; // a tombstone: the key is deleted at this version
    const { value: key } = unescapeTerminated(rawKey, this.init.storeStart.length);
    // A copy: memory-level may hand out the very array it stores.
    out.push([key, value.slice()]);
  }

  /** Reads the next batch, first seeking past (or deciding) a key the last batch ended in. */
  private async refill(out: SsEntry[]): Promise<void> {
    this.adaptReadAhead();
    const current = this.current;
    if (current !== undefined) {
      if (!this.init.reverse) {
        if (this.resolved) {
          this.current = undefined;
          this.iterator.seek(afterKey(current));
        } else {
          // Only versions above the read version were seen: jump to the newest one ≤ version.
          this.iterator.seek(concatBytes(current, encodeKeyVersion(this.init.version)));
        }
      } else {
        if (!this.done) this.candidate = await this.lookup(current);
        if (this.closed) return;
        this.finishReverseKey(out);
        // Every version of `current` sorts after `current` itself: a reverse seek to it lands
        // on the previous key.
        this.iterator.seek(current);
      }
    }
    const entries = (await this.iterator.nextv(this.readAhead)) as RawEntry[];
    if (this.closed) return;
    for (const entry of entries) {
      entry[0] = asBytes(entry[0]);
      entry[1] = asBytes(entry[1]);
    }
    this.buffer = entries;
    this.index = 0;
    this.keysInBuffer = 0;
    if (entries.length === 0) {
      this.ended = true;
      if (this.init.reverse) this.finishReverseKey(out);
    }
  }

  /** The newest entry of `keyPart` at or below the read version (a reverse-mode point lookup). */
  private async lookup(keyPart: Uint8Array): Promise<RawEntry | undefined> {
    const found = (await this.init.db
      .iterator({
        gte: concatBytes(keyPart, encodeKeyVersion(this.init.version)),
        lt: afterKey(keyPart),
        limit: 1,
        ...(this.snapshot === undefined ? {} : { snapshot: this.snapshot }),
      })
      .all()) as RawEntry[];
    const first = found[0];
    return first === undefined ? undefined : [asBytes(first[0]), asBytes(first[1])];
  }

  private adaptReadAhead(): void {
    const seen = this.buffer.length;
    if (seen < MIN_READ_AHEAD) return;
    if (this.keysInBuffer * 4 < seen) this.readAhead = Math.max(MIN_READ_AHEAD, this.readAhead >> 1);
    else if (this.keysInBuffer * 2 >= seen) this.readAhead = Math.min(MAX_READ_AHEAD, this.readAhead * 2);
  }
}
