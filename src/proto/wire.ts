import type { Long } from 'protobufjs';
import { StoreError } from '../core/errors.js';
import { asBytes } from '../core/bytes.js';
import { versionFromBigInt } from '../core/version.js';

/**
 * The boundary between the generated protobufjs code and our typed wrappers. protobufjs has
 * three habits we must not leak: it throws bare `RangeError`/`Error`, it hands out Node
 * Buffers and shared prototype defaults for bytes fields, and it represents int64 as `Long`
 * (and silently encodes a `bigint` as 0). Everything here exists to contain those.
 */

/** An int64 field as the generated decoders return it (`Long` while `long` is loaded). */
export type Int64Like = number | Long | null | undefined;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;

/**
 * Runs a generated decoder and turns its failures into typed errors: reads past the end
 * become `ERR_TRUNCATED`, anything else malformed `ERR_INVALID_ARGUMENT`. Our own
 * `StoreError`s (range checks inside `fn`) pass through unchanged.
 */
export function decodeWith<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    const truncated = error instanceof RangeError || /index out of range/.test(reason);
    throw new StoreError(
      truncated ? 'ERR_TRUNCATED' : 'ERR_INVALID_ARGUMENT',
      `malformed ${what}: ${truncated ? `input ends early (${reason})` : reason}`,
      { cause: error, details: { what } },
    );
  }
}

/**
 * A fresh, plain `Uint8Array` copy. Decoded byte fields would otherwise alias the input (or a
 * pooled slab, or the shared prototype default of an absent field), and a 16-byte key must
 * not keep a 64 KiB stream chunk alive.
 */
export function ownBytes(bytes: Uint8Array | null | undefined): Uint8Array {
  if (bytes === null || bytes === undefined || bytes.length === 0) return new Uint8Array(0);
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** The input as a plain `Uint8Array`, so protobufjs uses its array reader, not the Buffer one. */
export function readerInput(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new StoreError('ERR_INVALID_ARGUMENT', 'protobuf input must be a Uint8Array');
  }
  return asBytes(bytes);
}

/** Exact signed 64-bit value of a decoded int64 field (absent = 0). */
export function int64ToBigInt(value: Int64Like): bigint {
  if (value === null || value === undefined) return 0n;
  if (typeof value === 'number') {
    // Only reachable when protobufjs runs without `long`; the number may already be rounded.
    if (!Number.isSafeInteger(value)) {
      throw new StoreError('ERR_VERSION_RANGE', `int64 ${value} is not a safe integer`, {
        details: { value },
      });
    }
    return BigInt(value);
  }
  const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
  return value.unsigned ? bits : BigInt.asIntN(64, bits);
}

/** A decoded int64 version as a checked `number` (0..2^53−1), else `ERR_VERSION_RANGE`. */
export function int64ToVersion(value: Int64Like, what: string): number {
  return versionFromBigInt(int64ToBigInt(value), what);
}

/** A decoded int64 as a safe (possibly negative) integer, else `ERR_VERSION_RANGE`. */
export function int64ToSafeInteger(value: Int64Like, what: string): number {
  const big = int64ToBigInt(value);
  if (big < BigInt(Number.MIN_SAFE_INTEGER) || big > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new StoreError('ERR_VERSION_RANGE', `${what} ${big} is not a safe integer`, {
      details: { value: big.toString() },
    });
  }
  return Number(big);
}

/**
 * Checks a value bound for an int64 field. Only safe-integer `number`s reach protobufjs: it
 * would encode a `bigint` as 0 and round an unsafe number.
 */
export function checkInt64Input(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new StoreError('ERR_VERSION_RANGE', `${what} ${String(value)} is not a safe integer`, {
      details: { value: String(value) },
    });
  }
  return value;
}

/** Checks a value bound for an int32 field (protobufjs would wrap it silently). */
export function checkInt32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `${what} ${String(value)} is not an int32`, {
      details: { value: String(value) },
    });
  }
  return value;
}

/** Checks a value bound for a uint32 field (protobufjs would wrap it silently). */
export function checkUint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `${what} ${String(value)} is not a uint32`, {
      details: { value: String(value) },
    });
  }
  return value;
}
