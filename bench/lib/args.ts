/**
 * Option values of the benches' command lines (`node:util` parseArgs with `strict: false`, since
 * bench/run.ts hands every bench the same argv).
 */

/** An integer option ≥ `min` (underscores allowed: `1_000_000`); a clear error naming `--name` otherwise. */
export function intOption(value: unknown, name: string, min = 1): number {
  const n = Number(String(value).replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${name} must be ${min === 1 ? 'a positive integer' : `an integer ≥ ${min}`}, got ${String(value)}`);
  }
  return n;
}

/** A string option's value, or `undefined` when it was not given (or given as a bare flag). */
export function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
