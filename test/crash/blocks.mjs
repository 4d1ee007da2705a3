// Deterministic blocks shared by the crash worker and the harness (plain ESM over dist/, so a
// child process can run it without a TypeScript loader).
import { changesetFromPairs } from '../../dist/index.js';

export const STORES = ['bank', 'gov', 'staking'];

/** A small seeded PRNG (mulberry32): deterministic blocks and kill plans. */
export function rand32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();

/** The changeset of block `version`: sets in every store, and deletes of earlier keys. */
export function block(version, keysPerStore = 20) {
  const rand = rand32(version * 7919);
  const entries = [];
  for (const store of STORES) {
    for (let i = 0; i < keysPerStore; i++) entries.push([store, enc.encode(`k${version}-${i}`), enc.encode(`v${version}-${i}-${store}`)]);
    if (version > 3) {
      const old = 1 + Math.floor(rand() * (version - 1));
      entries.push([store, enc.encode(`k${old}-${Math.floor(rand() * keysPerStore)}`), undefined]);
    }
  }
  return changesetFromPairs(version, entries).changeset;
}
