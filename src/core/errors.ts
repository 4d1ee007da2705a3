/**
 * Every error this library raises carries a stable, machine-readable `code` (the abstract-level
 * habit: callers branch on `code`, never on the message) and, when it wraps a lower failure, that
 * failure as `cause`.
 */
export type ErrorCode =
  // input decoding
  | 'ERR_VARINT_OVERFLOW'
  | 'ERR_TRUNCATED'
  | 'ERR_TRAILING_BYTES'
  | 'ERR_INVALID_FLAG'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_VERSION_RANGE'
  // IAVL
  | 'ERR_NODE_CORRUPT'
  | 'ERR_NODE_MISSING'
  | 'ERR_VERSION_NOT_FOUND'
  | 'ERR_VERSION_EXISTS'
  | 'ERR_IMPORT_ORDER'
  | 'ERR_IMPORT_HEIGHT'
  | 'ERR_IMPORT_NOT_EMPTY'
  | 'ERR_IMPORT_INCOMPLETE'
  | 'ERR_NIL_VALUE'
  | 'ERR_EMPTY_KEY'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_READ_ONLY'
  | 'ERR_INVALID_PROOF'
  | 'ERR_VERSION_PINNED'
  | 'ERR_CLOSED'
  // stores and migration (later layers)
  | 'ERR_UNKNOWN_STORE'
  | 'ERR_VERSION_MISMATCH'
  | 'ERR_VERSION_PRUNED'
  | 'ERR_NOT_GREATER'
  | 'ERR_SNAPSHOT_CONFLICT'
  | 'ERR_VERSION_GAP'
  | 'ERR_HASH_MISMATCH'
  | 'ERR_STATE'
  | 'ERR_CHECKSUM'
  | 'ERR_IO';

/** Options of {@link StoreError}: the wrapped failure and structured details. */
export interface StoreErrorOptions {
  /** The lower-level failure this error explains. */
  readonly cause?: unknown;
  /** Structured context (versions, store names, hex keys) for logs and tests. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error class of the library. `code` is stable across releases; `details` names the
 * offending version, store or key so callers need not parse the message.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** True when `error` is a {@link StoreError}, optionally with the given code. */
export function isStoreError(error: unknown, code?: ErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}

/** Wraps an unknown failure from the storage engine, keeping a StoreError as it is. */
export function wrapIoError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError('ERR_IO', `${what}: ${reason}`, { cause: error });
}

/**
 * `error` told where it happened: a StoreError becomes one with the same code, the message
 * `rewrite` makes of its own, its details plus `details`, and itself as the cause; anything else
 * is returned as it is.
 */
export function withContext(error: unknown, rewrite: (message: string) => string, details: Readonly<Record<string, unknown>> = {}): unknown {
  if (!(error instanceof StoreError)) return error;
  return new StoreError(error.code, rewrite(error.message), { cause: error, details: { ...error.details, ...details } });
}
