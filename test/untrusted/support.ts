import { iavlSpec, tendermintSpec, verifyMembership, verifyNonMembership } from '@confio/ics23';
import { utf8 } from '../../src/core/bytes.js';
import type { StoreProof } from '../../src/commitment/multi-tree.js';
import type { SnapshotItem } from '../../src/proto/snapshot-item.js';
import type { BatchReader } from '../../src/core/batch-reader.js';

/** Names that are special on JavaScript objects: as store names, keys and values they must stay plain data. */
export const HOSTILE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf'] as const;

const PROTOTYPES: ReadonlyArray<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['Uint8Array.prototype', Uint8Array.prototype],
  ['Map.prototype', Map.prototype],
];

/** Own property names of the built-in prototypes, to compare before/after. */
export function prototypeFingerprint(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, proto] of PROTOTYPES) {
    const props = Reflect.ownKeys(proto).map((k) => {
      const d = Object.getOwnPropertyDescriptor(proto, k)!;
      return `${String(k)}:${typeof d.value}:${typeof d.get}:${typeof d.set}`;
    });
    out.set(name, props.sort().join(','));
  }
  return out;
}

/** Asserts nothing polluted the built-in prototypes. */
export function expectNoPollution(before: Map<string, string>): void {
  const probe = {} as Record<string, unknown>;
  expect(probe['polluted']).toBeUndefined();
  expect((probe as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
  expect(typeof probe.toString).toBe('function');
  expect(typeof probe.hasOwnProperty).toBe('function');
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  expect(([] as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(prototypeFingerprint()).toEqual(before);
}

/** Values that would pollute if someone parsed or merged them. */
export function hostileValue(name: string, i = 0): Uint8Array {
  return utf8(`{"__proto__":{"polluted":"${name}-${i}"},"constructor":{"prototype":{"polluted":true}}}`);
}

/** Verifies a two-op store proof (key in store tree, store root in app hash) with @confio/ics23. */
export function verifyStoreProof(proof: StoreProof, store: string, key: Uint8Array, appHash: Uint8Array): void {
  if (proof.value !== undefined) expect(verifyMembership(proof.ops[0].proof, iavlSpec, proof.storeRoot, key, proof.value)).toBe(true);
  else expect(verifyNonMembership(proof.ops[0].proof, iavlSpec, proof.storeRoot, key)).toBe(true);
  expect(verifyMembership(proof.ops[1].proof, tendermintSpec, appHash, utf8(store), proof.storeRoot)).toBe(true);
  expect(proof.appHash).toEqual(appHash);
}

/** Drains a batch reader. */
export async function drainReader<T>(reader: BatchReader<T>, batch = 512): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const items = await reader.read(batch);
    if (items.length === 0) break;
    for (const item of items) out.push(item);
  }
  await reader.close();
  return out;
}

/** A batch reader over items already in memory. */
export function arrayReader<T>(items: readonly T[]): BatchReader<T> {
  let at = 0;
  return {
    read: async (max: number) => {
      const out = items.slice(at, at + max);
      at += out.length;
      return out;
    },
    close: async () => undefined,
  };
}

export type { SnapshotItem };
