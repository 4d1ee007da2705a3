import { changesetFromPairs, type ChangesetEntry, type VersionedChangeset } from '../../src/core/changeset.js';
import { utf8 } from '../../src/core/bytes.js';

/** A small deterministic PRNG (mulberry32) so generated histories are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random changesets for versions 1..n over `stores`: sets and deletes on a small key space. */
export function randomHistory(seed: number, versions: number, stores: readonly string[], keysPerVersion = 8): VersionedChangeset[] {
  const rand = prng(seed);
  const out: VersionedChangeset[] = [];
  for (let v = 1; v <= versions; v++) {
    const entries: ChangesetEntry[] = [];
    for (let i = 0; i < keysPerVersion; i++) {
      const store = stores[Math.floor(rand() * stores.length)]!;
      const key = utf8(`k${Math.floor(rand() * 50)}`);
      entries.push([store, key, rand() < 0.2 ? undefined : utf8(`v${v}-${i}-${Math.floor(rand() * 1000)}`)]);
    }
    out.push(changesetFromPairs(v, entries));
  }
  return out;
}

/** The reference scenario's data: `key-<v>-<i>` = `value-<v>-<i>` for every store. */
export function scenarioChangeset(version: number, keysPerVersion: number, stores: readonly string[]): VersionedChangeset {
  const entries: ChangesetEntry[] = [];
  for (const store of stores) {
    for (let i = 0; i < keysPerVersion; i++) entries.push([store, utf8(`key-${version}-${i}`), utf8(`value-${version}-${i}`)]);
  }
  return changesetFromPairs(version, entries);
}
