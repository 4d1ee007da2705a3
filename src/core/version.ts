import { StoreError } from './errors.js';

/** Largest version we accept: versions are `number`s and must stay exact. */
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;

/**
 * Checks that `version` is an integer in `[min, MAX_VERSION]`; `what` names it in the error.
 * Go versions are int64/uint64; we never silently truncate a larger one.
 */
export function checkVersion(version: number, what = 'version', min = 0): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < min) {
    throw new StoreError(
      'ERR_VERSION_RANGE',
      `${what} ${String(version)} must be an integer between ${min} and ${MAX_VERSION}`,
      { details: { version, min } },
    );
  }
  return version;
}

/** Converts a protobuf/int64 `bigint` or Long-like to a checked `number` version. */
export function versionFromBigInt(value: bigint, what = 'version'): number {
  if (value < 0n || value > BigInt(MAX_VERSION)) {
    throw new StoreError('ERR_VERSION_RANGE', `${what} ${value} is outside 0..${MAX_VERSION}`, {
      details: { version: value.toString() },
    });
  }
  return Number(value);
}
