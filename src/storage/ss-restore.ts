import { isObservable, Observable, type Subscription } from 'rxjs';
import type { BatchReader } from '../core/batch-reader.js';
import { toHex } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';
import type { Namespace, WriteOp } from '../db/namespace.js';
import {
  DATA_END,
  DATA_START,
  dataKey,
  encodeMetaVersion,
  encodeRestoreCheckpoint,
  type CheckpointPair,
  encodeValue,
  META_EARLIEST,
  META_LATEST,
  META_RESTORE_CHECKPOINT,
  META_RESTORING,
} from './ss-key.js';
import type { WriteQueue } from './write-queue.js';

/** One leaf of a snapshot, as the migration restores it into the State Storage. */
export interface RestorePair {
  readonly storeKey: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Cumulative restore progress: pairs and bytes (keys plus values) written so far. */
export interface RestoreProgress {
  readonly keys: number;
  readonly bytes: number;
}

/** Options of `StorageStore.beginRestore` and `StorageStore.restore`. */
export interface RestoreOptions {
  /**
   * Buffered bytes (encoded keys and values) after which `needsFlush` turns true; the
   * Observable form flushes there. Default 256 KiB.
   */
  readonly flushBytes?: number;
  /** Pairs read per `read()` call from a {@link BatchReader} source. Default 1024. */
  readonly readBatch?: number;
}

/** What a {@link RestoreWriter} needs from its store (internal wiring, not a public API). */
export interface RestoreHost {
  readonly namespace: Namespace;
  readonly queue: WriteQueue;
  /** Validates `storeKey` (well-formed, known) and returns its data prefix. */
  storePrefix(storeKey: string): Uint8Array;
  /** Throws `ERR_CLOSED` once the store is closed. */
  checkOpen(): void;
  /** The commit batch is durable: latest = earliest = version. */
  committed(version: number): void;
  /** The restore ended without a commit and its data is gone. */
  released(): void;
  /** The writer stopped without a commit; its durable data and checkpoint stay for a resume. */
  suspended(): void;
}

/**
 * Default flush threshold of a restore batch. Small: a multi-MiB batch is a long synchronous
 * stretch in the binding (a block commit waits for it), and its buffered pairs live long enough to
 * reach V8's old generation — at 4 MiB a 100k-key migration peaked at 1.5× this RSS, and was no
 * faster.
 */
export const DEFAULT_FLUSH_BYTES = 256 * 1024;
const DEFAULT_READ_BATCH = 1024;
/** Rough per-operation bookkeeping cost of a LevelDB batch, so many tiny pairs still flush. */
const OP_OVERHEAD = 16;
const WIPE_BATCH = 10_000;

type WriterState = 'open' | 'committing' | 'committed' | 'aborted' | 'suspended' | 'failed';

/**
 * Loads a snapshot into an empty State Storage at one version H (`StorageStore.beginRestore`).
 * `add` only buffers (it is synchronous so a snapshot loop stays cheap); `flush` writes the
 * buffer as one atomic batch, a fresh batch each time (the Go restore reset a batch that `Write`
 * had already closed); `commit` writes the rest together with latest = earliest = H, so the
 * restored data becomes readable all at once and never half. Until then flushed pairs stay
 * invisible, because every read clamps its version to the latest one, which is still below H.
 *
 * A failed flush or commit leaves the writer failed: later calls reject with `ERR_STATE` and
 * `abort()` wipes what was written. Without `abort()` (a crash), the store keeps a restore
 * marker (`StorageStore.pendingRestoreVersion`) and refuses a new restore until `clear()`.
 */
export class RestoreWriter {
  private ops: WriteOp[] = [];
  private pendingBytes = 0;
  private pendingKeys = 0;
  private pendingUserBytes = 0;
  private writtenKeys = 0;
  private writtenUserBytes = 0;
  private state: WriterState = 'open';
  private failure: unknown;
  private committing: Promise<void> | undefined;
  private aborting: Promise<void> | undefined;
  /** The last pair added, for the checkpoint. */
  private lastStoreKey: string | undefined;
  private lastKey: Uint8Array | undefined;

  private constructor(
    private readonly host: RestoreHost,
    /** The version every restored pair is written at. */
    readonly version: number,
    private readonly flushBytes: number = DEFAULT_FLUSH_BYTES,
    /** Pairs an interrupted restore already made durable (resume), 0 for a new restore. */
    readonly resumedKeys: number = 0,
    /**
     * The last of those pairs, when the checkpoint records it: the resumed snapshot's leaf number
     * `resumedKeys` must be this one, or it is not the snapshot the restore began with.
     */
    readonly resumedLast?: CheckpointPair,
  ) {
    this.writtenKeys = resumedKeys;
  }

  /** @internal Made by `StorageStore.beginRestore` and `resumeRestore`. */
  static start(
    host: RestoreHost,
    version: number,
    flushBytes?: number,
    resumedKeys?: number,
    resumedLast?: CheckpointPair,
  ): RestoreWriter {
    return new RestoreWriter(host, version, flushBytes, resumedKeys, resumedLast);
  }

  /**
   * Buffers one pair. Throws `ERR_UNKNOWN_STORE`, `ERR_EMPTY_KEY` or `ERR_INVALID_ARGUMENT` (no
   * value) before buffering anything, and `ERR_STATE` once the writer is finished. A key added
   * twice keeps the last value.
   */
  add(storeKey: string, key: Uint8Array, value: Uint8Array): void {
    this.checkWritable('add a pair');
    const prefix = this.host.storePrefix(storeKey);
    if (!(key instanceof Uint8Array)) {
      throw new StoreError(
        'ERR_INVALID_ARGUMENT',
        `restore to version ${this.version}: key in store ${storeKey} must be a Uint8Array`,
        { details: { storeKey, version: this.version } },
      );
    }
    if (key.length === 0) {
      throw new StoreError('ERR_EMPTY_KEY', `restore to version ${this.version}: empty key in store ${storeKey}`, {
        details: { storeKey, version: this.version },
      });
    }
    if (!(value instanceof Uint8Array)) {
      throw new StoreError(
        'ERR_INVALID_ARGUMENT',
        `restore to version ${this.version}: key ${toHex(key)} in store ${storeKey} has no value`,
        { details: { storeKey, key: toHex(key), version: this.version } },
      );
    }
    const namespace = this.host.namespace;
    const op = namespace.putPrefixed(dataKey(prefix, key, this.version, namespace.prefix), encodeValue(value));
    this.ops.push(op);
    this.lastStoreKey = storeKey;
    this.lastKey = key;
    this.pendingBytes += op.key.length + value.length + 1 + OP_OVERHEAD;
    this.pendingKeys++;
    this.pendingUserBytes += key.length + value.length;
  }

  /** True once the buffer reached the flush threshold: call `flush()` before adding much more. */
  get needsFlush(): boolean {
    return this.pendingBytes >= this.flushBytes;
  }

  /** Approximate bytes buffered since the last flush. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Pairs and bytes written to the database so far (flushed or committed). */
  get progress(): RestoreProgress {
    return Object.freeze({ keys: this.writtenKeys, bytes: this.writtenUserBytes });
  }

  /** Writes the buffered pairs as one atomic batch (not yet readable: see `commit`). */
  flush(): Promise<void> {
    try {
      this.checkWritable('flush');
    } catch (error) {
      return Promise.reject(error);
    }
    // The checkpoint lands in the same batch as the pairs it counts, so a resumed restore knows
    // exactly how many leaves of the (deterministic) snapshot stream to skip.
    const last = this.lastKey !== undefined ? { storeKey: this.lastStoreKey!, key: this.lastKey } : this.resumedLast;
    const position = { keys: this.writtenKeys + this.pendingKeys, ...(last ? { last } : {}) };
    const checkpoint = this.host.namespace.put(META_RESTORE_CHECKPOINT, encodeRestoreCheckpoint(position));
    return this.writeBuffered([checkpoint]);
  }

  /**
   * Writes the remaining pairs, latest = earliest = version, and removes the restore marker, in
   * one atomic batch; afterwards reads at `version` see the snapshot. Reads below `version` fail
   * with `ERR_VERSION_PRUNED`: the store never held those versions.
   */
  commit(): Promise<void> {
    try {
      this.checkWritable('commit');
    } catch (error) {
      return Promise.reject(error);
    }
    const ns = this.host.namespace;
    const version = encodeMetaVersion(this.version);
    this.state = 'committing';
    const metadata = [ns.put(META_LATEST, version), ns.put(META_EARLIEST, version), ns.del(META_RESTORING), ns.del(META_RESTORE_CHECKPOINT)];
    this.committing = this.writeBuffered(metadata).then(() => {
      this.state = 'committed';
      this.host.committed(this.version);
    });
    return this.committing;
  }

  /**
   * Stops using this writer without committing or wiping — what a crash would leave, on purpose:
   * unflushed pairs are dropped, the flushed ones and their checkpoint stay, and the store accepts
   * `resumeRestore` again. For a failed migration that will be retried.
   */
  suspend(): void {
    if (this.state === 'committed' || this.state === 'aborted' || this.state === 'suspended') return;
    this.state = 'suspended';
    this.ops = [];
    this.pendingBytes = 0;
    this.pendingKeys = 0;
    this.pendingUserBytes = 0;
    this.host.suspended();
  }

  /**
   * Abandons the restore: drops the buffer and deletes everything already flushed (the whole data
   * section, which was empty when the restore began), then the restore marker. Idempotent. Called
   * during a commit it waits for the commit's outcome; a committed restore cannot be aborted
   * (`ERR_STATE`), and neither can a suspended writer's (`ERR_STATE`): once suspended, the
   * restore belongs to whoever resumes it, and the store may have been cleared and reused since —
   * wipe it with `StorageStore.clear()` instead.
   */
  async abort(): Promise<void> {
    if (this.aborting !== undefined) return this.aborting;
    this.host.checkOpen();
    if (this.committing !== undefined) await this.committing.catch(() => undefined);
    if (this.state === 'committed' || this.state === 'suspended') {
      throw new StoreError('ERR_STATE', `restore to version ${this.version} is already ${this.state}; it cannot be aborted through this writer`, {
        details: { version: this.version, state: this.state },
      });
    }
    if (this.aborting === undefined) this.aborting = this.wipe();
    return this.aborting;
  }

  private async wipe(): Promise<void> {
    this.state = 'aborted';
    this.ops = [];
    this.pendingBytes = 0;
    const ns = this.host.namespace;
    // Flushes queued before the abort either ran or will refuse to write (state 'aborted'):
    // only after them does a scan see everything that has to go.
    await this.host.queue.idle();
    const reader = ns.range({ gte: DATA_START, lt: DATA_END });
    try {
      for (;;) {
        const entries = await reader.next(WIPE_BATCH);
        if (entries.length === 0) break;
        await this.host.queue.run(() => ns.write(entries.map(([key]) => ns.del(key))));
      }
      await this.host.queue.run(() => ns.write([ns.del(META_RESTORING), ns.del(META_RESTORE_CHECKPOINT)]));
    } finally {
      await reader.close();
    }
    this.host.released();
  }

  private async writeBuffered(extra: WriteOp[]): Promise<void> {
    const ops = this.ops;
    const keys = this.pendingKeys;
    const bytes = this.pendingUserBytes;
    this.ops = [];
    this.pendingBytes = 0;
    this.pendingKeys = 0;
    this.pendingUserBytes = 0;
    ops.push(...extra);
    try {
      await this.host.queue.run(async () => {
        // A batch queued behind a failed one must not land: the commit would otherwise mark
        // an incomplete restore as done.
        if (this.state === 'failed') throw this.failedError();
        if (this.state === 'aborted' || this.state === 'suspended') throw this.stateError('write');
        await this.host.namespace.write(ops);
      });
    } catch (error) {
      if (this.state === 'open' || this.state === 'committing') {
        this.state = 'failed';
        this.failure = error;
      }
      throw error;
    }
    this.writtenKeys += keys;
    this.writtenUserBytes += bytes;
  }

  private checkWritable(what: string): void {
    this.host.checkOpen();
    if (this.state === 'open') return;
    if (this.state === 'failed') throw this.failedError();
    throw this.stateError(what);
  }

  private stateError(what: string): StoreError {
    return new StoreError('ERR_STATE', `cannot ${what}: the restore to version ${this.version} is ${this.state}`, {
      details: { version: this.version, state: this.state },
    });
  }

  private failedError(): StoreError {
    const reason = this.failure instanceof Error ? this.failure.message : String(this.failure);
    return new StoreError('ERR_STATE', `the restore to version ${this.version} failed earlier (${reason}); abort() it`, {
      cause: this.failure,
      details: { version: this.version, state: 'failed' },
    });
  }
}

/**
 * The Observable form of a restore (`StorageStore.restore`): subscribing begins the restore,
 * feeds every pair of `source` to a {@link RestoreWriter}, flushes whenever the buffer reaches the
 * threshold, emits cumulative progress after every flush and after the commit, and completes once
 * the commit is durable. An error (from the source or a write) aborts the restore, wiping what was
 * written, and is delivered after the wipe; unsubscribing early aborts it as well.
 *
 * Memory is bounded only when the source is pull-based. A {@link BatchReader} is read one batch
 * at a time, the next batch only after the previous one is buffered and, if due, flushed. An
 * Observable has no backpressure: when it emits faster than LevelDB writes, its pairs wait in the
 * writer's buffer, which then grows beyond the flush threshold.
 */
export function restoreFrom(
  begin: () => Promise<RestoreWriter>,
  source: Observable<RestorePair> | BatchReader<RestorePair>,
  readBatch: number = DEFAULT_READ_BATCH,
): Observable<RestoreProgress> {
  return new Observable<RestoreProgress>((subscriber) => {
    let writer: RestoreWriter | undefined;
    let stopped = false;
    let finished = false;
    let inner: Subscription | undefined;
    // A pull source is closed once, and never during its own read: by the read loop once the read
    // under way settled, or, before the loop started, by whoever stops the restore.
    let pulling = false;
    let sourceClosing: Promise<void> | undefined;
    const closeSource = (): Promise<void> => (isObservable(source) ? Promise.resolve() : (sourceClosing ??= source.close()));

    const fail = (error: unknown): void => {
      if (stopped) return;
      stopped = true;
      inner?.unsubscribe();
      if (!pulling) void closeSource().catch(() => undefined);
      const aborted = writer?.abort() ?? Promise.resolve();
      void aborted.catch(() => undefined).then(() => {
        finished = true;
        subscriber.error(error);
      });
    };
    const completed = (): void => {
      if (stopped) return;
      stopped = true;
      finished = true;
      subscriber.next(writer!.progress);
      subscriber.complete();
    };

    const pullFrom = async (w: RestoreWriter, reader: BatchReader<RestorePair>): Promise<void> => {
      try {
        for (;;) {
          const batch = await reader.read(readBatch);
          if (stopped) return;
          if (batch.length === 0) break;
          for (const pair of batch) w.add(pair.storeKey, pair.key, pair.value);
          if (w.needsFlush) {
            await w.flush();
            if (stopped) return;
            subscriber.next(w.progress);
          }
        }
      } finally {
        await closeSource();
      }
      await w.commit();
      completed();
    };

    const pushFrom = (w: RestoreWriter, pairs$: Observable<RestorePair>): void => {
      let writing = false;
      let sourceDone = false;
      const pump = (): void => {
        if (writing || stopped) return;
        if (w.needsFlush) {
          writing = true;
          w.flush().then(() => {
            writing = false;
            if (stopped) return;
            subscriber.next(w.progress);
            pump();
          }, fail);
        } else if (sourceDone) {
          writing = true;
          w.commit().then(completed, fail);
        }
      };
      inner = pairs$.subscribe({
        next: (pair) => {
          if (stopped) return;
          try {
            w.add(pair.storeKey, pair.key, pair.value);
          } catch (error) {
            fail(error);
            return;
          }
          pump();
        },
        error: fail,
        complete: () => {
          sourceDone = true;
          pump();
        },
      });
    };

    begin().then((w) => {
      writer = w;
      if (stopped) {
        void w.abort().catch(() => undefined);
        return;
      }
      if (isObservable(source)) pushFrom(w, source);
      else {
        pulling = true;
        pullFrom(w, source).catch(fail);
      }
    }, fail);

    return () => {
      if (finished) return;
      const wasStopped = stopped;
      stopped = true;
      inner?.unsubscribe();
      if (wasStopped) return; // failing already: the wipe is under way
      if (!pulling) void closeSource().catch(() => undefined);
      void writer?.abort().catch(() => undefined);
    };
  });
}
