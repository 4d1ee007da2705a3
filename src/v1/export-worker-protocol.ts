import { StoreError, type ErrorCode } from '../core/errors.js';

/** What the snapshot export worker is started with (`workerData`). */
export interface ExportWorkerData {
  /** The store/v1 database folder, opened shared with the thread that started the worker. */
  readonly location: string;
  /**
   * The stores in snapshot order, each with its tree's key prefix in the database and whether the
   * tree has the version, both as the starting thread's store found them: the worker derives no
   * layout of its own, and refuses to start when it sees the trees otherwise.
   */
  readonly trees: readonly ExportWorkerTree[];
  readonly version: number;
}

/** One store's tree as the export worker is told of it. */
export interface ExportWorkerTree {
  readonly storeKey: string;
  readonly prefix: Uint8Array;
  readonly hasVersion: boolean;
}

/** Requests to the worker, answered one at a time in order. */
export type ExportWorkerRequest = { readonly type: 'read'; readonly max: number } | { readonly type: 'close' };

/** A failure as it crosses the thread boundary (errors lose their class on the way). */
export interface SerializedError {
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
  readonly details?: Record<string, unknown>;
}

/** Replies of the worker: `ready` once, then one `batch` or `error` per read. */
export type ExportWorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'batch'; readonly buffer: ArrayBuffer }
  | { readonly type: 'error'; readonly error: SerializedError };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof StoreError) {
    return { code: error.code, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }), details: { ...error.details } };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) };
}

/**
 * The worker's failure as a `StoreError` of this thread: a `StoreError` keeps its code, message
 * and details; anything else (a LevelDB failure) is `ERR_IO`. The worker's stack is the cause.
 */
export function deserializeError(error: SerializedError): StoreError {
  const cause = Object.assign(new Error(error.message), error.stack === undefined ? {} : { stack: error.stack });
  if (error.code !== undefined && error.code.startsWith('ERR_')) {
    return new StoreError(error.code as ErrorCode, error.message, { cause, ...(error.details === undefined ? {} : { details: error.details }) });
  }
  return new StoreError('ERR_IO', `snapshot export worker failed: ${error.message}`, { cause });
}
