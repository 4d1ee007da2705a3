/**
 * Random blocks of writes on top of an existing state, like a chain's: mostly updates of existing
 * keys, some new keys, a few deletes. Deterministic for a seed, so the runs that a bench compares
 * side by side commit exactly the same blocks.
 */
import { changesetFromPairs, type Changeset, type ChangesetEntry } from '../../src/core/changeset.js';
import { toHex } from '../../src/core/bytes.js';
import { Prng } from './prng.js';

const KEY_BYTES = 32;
const VALUE_BYTES = 32;
/** Shares of each kind of write, in percent: update, insert, the rest delete. */
const UPDATE_PCT = 60;
const INSERT_PCT = 30;

/** Generates blocks of `writes` random writes over per-store pools of existing keys. */
export class BlockWrites {
  private readonly prng: Prng;
  private readonly pools: Map<string, Uint8Array[]>;
  private readonly stores: readonly string[];

  /** `pools`: existing keys per store (copied; deletes and inserts change the copy). */
  constructor(pools: ReadonlyMap<string, readonly Uint8Array[]>, seed: number) {
    this.prng = new Prng(seed);
    this.pools = new Map([...pools].map(([store, keys]) => [store, [...keys]]));
    this.stores = [...pools.keys()];
  }

  /** The next block: `writes` writes, each key at most once (a changeset holds no duplicates). */
  next(writes: number): Changeset {
    const entries: ChangesetEntry[] = [];
    const used = new Set<string>();
    while (entries.length < writes) {
      const store = this.stores[this.prng.next() % this.stores.length]!;
      const pool = this.pools.get(store)!;
      const roll = this.prng.next() % 100;
      if (roll < UPDATE_PCT + INSERT_PCT && (roll >= UPDATE_PCT || pool.length === 0)) {
        const key = this.prng.bytes(KEY_BYTES);
        used.add(`${store}/${toHex(key)}`);
        pool.push(key);
        entries.push([store, key, this.prng.bytes(VALUE_BYTES)]);
        continue;
      }
      if (pool.length === 0) continue;
      const index = this.prng.next() % pool.length;
      const key = pool[index]!;
      const id = `${store}/${toHex(key)}`;
      if (used.has(id)) continue;
      used.add(id);
      if (roll < UPDATE_PCT) {
        entries.push([store, key, this.prng.bytes(VALUE_BYTES)]);
      } else {
        // Swap-remove, so a deleted key is never picked again.
        pool[index] = pool[pool.length - 1]!;
        pool.pop();
        entries.push([store, key, undefined]);
      }
    }
    return changesetFromPairs(1, entries).changeset;
  }
}
