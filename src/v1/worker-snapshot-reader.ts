import { Worker } from 'node:worker_threads';
import type { BatchReader } from '../core/batch-reader.js';
import type { LevelDb } from '../db/level-db.js';
import { StoreError } from '../core/errors.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import { deserializeError, type ExportWorkerData, type ExportWorkerReply, type ExportWorkerRequest } from './export-worker-protocol.js';
import { exportWorkerUrl } from './export-worker-url.js';
import { unpackSnapshotItems } from './snapshot-batch-codec.js';

/** How long a closing worker may take to finish its current read before it is terminated. */
const CLOSE_GRACE_MS = 10_000;

/** Options of {@link WorkerSnapshotReader.start}. */
export interface WorkerSnapshotReaderOptions extends ExportWorkerData {
  /**
   * This thread's handle of the database at `location`. Closing it first closes this reader and
   * waits until the worker has closed its own handle of the shared database: a process that exits
   * while the worker still reads from it can crash in LevelDB.
   */
  readonly db: LevelDb;
  /**
   * The same snapshot opened on this thread: it checked the version and pins it against pruning
   * until this reader is closed. It is never read; it is returned when the worker cannot start.
   */
  readonly guard: BatchReader<SnapshotItem>;
}

interface Waiting {
  readonly resolve: (reply: ExportWorkerReply) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A store/v1 snapshot read by a worker thread. Walking the trees (a LevelDB read per node, the
 * decoding of every node) is most of the CPU time of a migration's read side; on a thread of its
 * own it runs beside the restore, which hashes, encodes and writes on the main thread. The worker
 * reads one batch ahead: while a batch is restored, it walks the next. So at most two batches are
 * in memory, as packed buffers; the items are views into them, not copies.
 */
export class WorkerSnapshotReader implements BatchReader<SnapshotItem> {
  private waiting: Waiting | undefined;
  private pending: Promise<SnapshotItem[]> | undefined;
  private leftover: SnapshotItem[] = [];
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private exited = false;
  private closeRequested = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly guard: BatchReader<SnapshotItem>,
    private readonly db: LevelDb,
  ) {
    db.attachResource(this);
    // The worker keeps the process alive only while a read waits for it: a reader its caller
    // dropped without closing must not hold the process open.
    worker.unref();
    worker.on('message', (reply: ExportWorkerReply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      worker.unref();
      waiting?.resolve(reply);
    });
    worker.on('error', (error) => this.stopped(new StoreError('ERR_IO', `snapshot export worker failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      this.exited = true;
      this.stopped(new StoreError('ERR_IO', `snapshot export worker exited (code ${code}) before the snapshot was read`, { details: { exitCode: code } }));
    });
  }

  /**
   * Starts the worker on `options.location` and waits until it opened the snapshot. When it
   * cannot (the worker file is missing, the database cannot be shared), it emits a process warning
   * naming the reason and returns `undefined`: the caller reads on its own thread instead.
   */
  static async start(options: WorkerSnapshotReaderOptions): Promise<WorkerSnapshotReader | undefined> {
    const data: ExportWorkerData = { location: options.location, storeKeys: [...options.storeKeys], version: options.version };
    let reader: WorkerSnapshotReader;
    try {
      reader = new WorkerSnapshotReader(new Worker(exportWorkerUrl(), { workerData: data }), options.guard, options.db);
    } catch (error) {
      warnFallback(error);
      return undefined;
    }
    try {
      const reply = await reader.next();
      if (reply.type === 'ready') return reader;
      throw reply.type === 'error' ? deserializeError(reply.error) : new StoreError('ERR_STATE', `snapshot export worker sent ${reply.type} before ready`);
    } catch (error) {
      await reader.stopWorker();
      options.db.detachResource(reader);
      warnFallback(error);
      return undefined;
    }
  }

  async read(max: number): Promise<SnapshotItem[]> {
    if (this.failure !== undefined) throw this.failure.error;
    if (this.leftover.length === 0) {
      if (this.ended || this.closing !== undefined) return [];
      const pending = this.pending ?? this.request(max);
      this.pending = undefined;
      let items: SnapshotItem[];
      try {
        items = await pending;
      } catch (error) {
        this.failure = { error };
        throw error;
      }
      if (items.length === 0) {
        this.ended = true;
        await this.close();
        return [];
      }
      this.leftover = items;
      // The worker walks on while the caller restores this batch.
      this.pending = this.request(max);
      this.pending.catch(() => undefined);
    }
    if (this.leftover.length <= max) {
      const out = this.leftover;
      this.leftover = [];
      return out;
    }
    const out = this.leftover.slice(0, max);
    this.leftover = this.leftover.slice(max);
    return out;
  }

  /** Stops the worker (after the read it is doing) and releases the snapshot's pin. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.leftover = [];
      try {
        await this.stopWorker();
      } finally {
        this.db.detachResource(this);
        await this.guard.close();
      }
    })();
    return this.closing;
  }

  /** The same as {@link close} (`await using`, and closing the database close the reader first). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async request(max: number): Promise<SnapshotItem[]> {
    this.post({ type: 'read', max });
    const reply = await this.next();
    if (reply.type === 'batch') return unpackSnapshotItems(reply.buffer);
    throw reply.type === 'error' ? deserializeError(reply.error) : new StoreError('ERR_STATE', 'snapshot export worker sent ready twice');
  }

  private next(): Promise<ExportWorkerReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error);
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private post(request: ExportWorkerRequest): void {
    this.worker.postMessage(request);
  }

  private stopped(error: StoreError): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (this.closeRequested) {
      // The end we asked for: nobody reads any more.
      waiting?.reject(new StoreError('ERR_CLOSED', 'the snapshot reader was closed'));
      return;
    }
    this.failure ??= { error };
    waiting?.reject(error);
  }

  private async stopWorker(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.ref();
    this.closeRequested = true;
    this.post({ type: 'close' });
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
    try {
      await exit;
    } finally {
      clearTimeout(timer);
    }
  }
}

let warned = false;

function warnFallback(error: unknown): void {
  if (warned) return;
  warned = true;
  const reason = error instanceof Error ? error.message : String(error);
  process.emitWarning(`the store/v1 snapshot export runs on the main thread: its worker thread could not start (${reason})`, {
    code: 'RXSM_EXPORT_WORKER',
  });
}
