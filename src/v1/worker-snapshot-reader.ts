import { Worker } from 'node:worker_threads';
import type { BatchReader } from '../core/batch-reader.js';
import type { LevelDb } from '../db/level-db.js';
import { StoreError } from '../core/errors.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';
import { deserializeError, type ExportWorkerData, type ExportWorkerReply, type ExportWorkerRequest } from './export-worker-protocol.js';
import { exportWorkerUrl } from './export-worker-url.js';
import { unpackSnapshotItems } from './snapshot-batch-codec.js';

/**
 * How long a closing worker may take to finish the read it is doing (one batch, well under a
 * second) before it is terminated; terminating it inside a LevelDB read is the last resort.
 */
const CLOSE_GRACE_MS = 60_000;

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
 * reads one batch ahead: while the caller restores a batch, it walks the next. So besides the
 * batch the caller holds, at most two packed batches are in memory (the one being served and the
 * one read ahead); the items are views into them, not copies. Reads are served one after the
 * other, in call order.
 */
export class WorkerSnapshotReader implements BatchReader<SnapshotItem> {
  /** Replies come in the order of the requests. */
  private readonly waiting: Waiting[] = [];
  private pending: Promise<SnapshotItem[]> | undefined;
  private leftover: SnapshotItem[] = [];
  private served = 0;
  private ended = false;
  private failure: { readonly error: unknown } | undefined;
  private exited = false;
  private closeRequested = false;
  private closing: Promise<void> | undefined;
  private reads: Promise<unknown> = Promise.resolve();
  /** What closing the database closes: then a later read fails instead of looking like the end. */
  private readonly resource = {
    close: (): Promise<void> => {
      if (!this.ended) this.failure ??= { error: new StoreError('ERR_CLOSED', 'the database of this snapshot was closed before the snapshot was read') };
      return this.close();
    },
    [Symbol.asyncDispose]: (): Promise<void> => this.resource.close(),
  };

  private constructor(
    private readonly worker: Worker,
    private readonly guard: BatchReader<SnapshotItem>,
    private readonly db: LevelDb,
  ) {
    db.attachResource(this.resource);
    // The worker keeps the process alive only while a reply is awaited: a reader its caller
    // dropped without closing must not hold the process open.
    worker.unref();
    worker.on('message', (reply: ExportWorkerReply) => {
      const waiting = this.waiting.shift();
      if (this.waiting.length === 0) worker.unref();
      waiting?.resolve(reply);
    });
    worker.on('messageerror', (error) => this.stopped(new StoreError('ERR_IO', `snapshot export worker sent a reply that could not be read: ${error.message}`, { cause: error })));
    worker.on('error', (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.stopped(new StoreError('ERR_IO', `snapshot export worker failed: ${message}`, { cause: error }));
    });
    worker.on('exit', (code) => {
      this.exited = true;
      this.stopped(new StoreError('ERR_IO', `snapshot export worker exited (code ${code}) before the snapshot was read`, { details: { exitCode: code } }));
    });
  }

  /**
   * Starts the worker on `options.location` and waits until it opened the snapshot. When it
   * cannot (the worker file is missing, the database cannot be shared), it emits a process warning
   * naming the reason and returns `undefined`: the caller reads on its own thread instead. When
   * the database was closed meanwhile, it fails with `ERR_CLOSED`.
   */
  static async start(options: WorkerSnapshotReaderOptions): Promise<WorkerSnapshotReader | undefined> {
    const data: ExportWorkerData = { location: options.location, trees: options.trees, version: options.version };
    let reader: WorkerSnapshotReader;
    try {
      reader = new WorkerSnapshotReader(startExportWorker(data), options.guard, options.db);
    } catch (error) {
      warnFallback(error);
      return undefined;
    }
    try {
      const reply = await reader.next();
      if (reply.type === 'ready') return reader;
      throw reply.type === 'error' ? deserializeError(reply.error) : new StoreError('ERR_STATE', `snapshot export worker sent ${reply.type} before ready`);
    } catch (error) {
      if (reader.closing !== undefined) {
        // Closed meanwhile (with its database): the guard is closed too, nothing to fall back to.
        await reader.closing;
        throw reader.closedError('while its worker started');
      }
      await reader.stopWorker();
      options.db.detachResource(reader.resource);
      warnFallback(error);
      return undefined;
    }
  }

  read(max: number): Promise<SnapshotItem[]> {
    const read = this.reads.then(() => this.readNext(max));
    this.reads = read.catch(() => undefined);
    return read;
  }

  private async readNext(max: number): Promise<SnapshotItem[]> {
    if (this.served === this.leftover.length) {
      this.throwIfFailed();
      if (this.ended || this.closing !== undefined) return [];
      const pending = this.pending ?? this.request(max);
      this.pending = undefined;
      let items: SnapshotItem[];
      try {
        items = await pending;
      } catch (error) {
        this.failure ??= { error };
        throw this.failure.error;
      }
      // The database was closed while this batch was on its way.
      this.throwIfFailed();
      // Closed while this batch was on its way: the caller does not want it any more.
      if (this.closing !== undefined) return [];
      if (items.length === 0) {
        this.ended = true;
        await this.close();
        return [];
      }
      this.leftover = items;
      this.served = 0;
      // The worker walks on while the caller restores this batch.
      this.pending = this.request(max);
      this.pending.catch(() => undefined);
    }
    const from = this.served;
    this.served = Math.min(this.leftover.length, from + max);
    const out = from === 0 && this.served === this.leftover.length ? this.leftover : this.leftover.slice(from, this.served);
    if (this.served === this.leftover.length) {
      this.leftover = [];
      this.served = 0;
    }
    return out;
  }

  /** Stops the worker (after the read it is doing) and releases the snapshot's pin. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.leftover = [];
      this.served = 0;
      try {
        await this.stopWorker();
      } finally {
        this.db.detachResource(this.resource);
        await this.guard.close();
      }
    })();
    return this.closing;
  }

  /** The same as {@link close} (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async request(max: number): Promise<SnapshotItem[]> {
    this.post({ type: 'read', max });
    const reply = await this.next();
    if (reply.type === 'batch') return unpackSnapshotItems(reply.buffer);
    throw reply.type === 'error' ? deserializeError(reply.error) : new StoreError('ERR_STATE', 'snapshot export worker sent ready twice');
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }

  private closedError(when: string): unknown {
    return this.failure?.error ?? new StoreError('ERR_CLOSED', `the snapshot reader was closed ${when}`);
  }

  private next(): Promise<ExportWorkerReply> {
    if (this.exited) return Promise.reject(this.closedError('before this read'));
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
    });
  }

  private post(request: ExportWorkerRequest): void {
    this.worker.postMessage(request);
  }

  private stopped(error: StoreError): void {
    const waiting = this.waiting.splice(0);
    if (this.closeRequested) {
      // The end we asked for: nobody reads any more.
      for (const w of waiting) w.reject(new StoreError('ERR_CLOSED', 'the snapshot reader was closed'));
      return;
    }
    this.failure ??= { error };
    for (const w of waiting) w.reject(this.failure.error);
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

/**
 * Starts the worker from a one-line script that imports the export worker's module, not from the
 * module's file. A worker gets the main program's node options, `--input-type` among them (from the
 * command line or `NODE_OPTIONS`: a program run as `node --input-type=module -e …`), and node
 * refuses to load a worker's file under it ("--input-type can only be used with string input"),
 * which cost such programs the worker. Handing the worker a cleaned `execArgv` is no way out: node
 * rejects V8 and process-wide options (`--expose-gc`, `--max-old-space-size`) given explicitly, and
 * rereads `NODE_OPTIONS` anyway. A module that fails to load still rejects in the worker, which
 * ends it with an `error` event, as a failing file did.
 */
function startExportWorker(data: ExportWorkerData): Worker {
  return new Worker(`import(${JSON.stringify(exportWorkerUrl().href)});`, { eval: true, workerData: data });
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
