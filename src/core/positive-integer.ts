import { StoreError } from './errors.js';

/**
 * Checks an optional count option (a batch size, an interval in versions): when given, it must be
 * a whole number ≥ 1, else `ERR_INVALID_ARGUMENT` naming `what`. A 0 or NaN must not fall back to
 * the default, nor a negative size read nothing and look like the end of the data.
 */
export function checkPositiveInteger(value: number | undefined, what: string): void {
  if (value === undefined || (Number.isSafeInteger(value) && value >= 1)) return;
  throw new StoreError('ERR_INVALID_ARGUMENT', `${what} ${String(value)} must be a whole number, at least 1`, { details: { [what]: value } });
}
