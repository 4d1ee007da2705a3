import { InvalidArgumentError } from 'commander';

/** Commander parser of a whole number from `min` to `max` (rejects `1.5`, `1e3`, `-2`, `abc`). */
export function integerBetween(min: number, max: number = Infinity): (value: string) => number {
  const expected = max === Infinity ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected ${expected}, got "${value}"`);
    return n;
  };
}

/** Commander parser of a whole number ≥ `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return integerBetween(min);
}

/** Commander parser of a block height (a version ≥ 1). */
export const height = integerAtLeast(1);

/** Commander parser of a comma-separated list of store keys (`bank,staking`), without duplicates. */
export function storeList(value: string): string[] {
  const stores = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (stores.length === 0) throw new InvalidArgumentError('expected at least one store key, e.g. --stores bank,staking');
  const seen = new Set<string>();
  for (const store of stores) {
    if (seen.has(store)) throw new InvalidArgumentError(`store key "${store}" is listed twice`);
    seen.add(store);
  }
  return stores;
}
