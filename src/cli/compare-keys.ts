import { compareBytes, equalBytes, toHex } from '../core/bytes.js';
import type { BatchReader } from '../core/batch-reader.js';
import type { ExportNode } from '../iavl/export-reader.js';
import type { IavlTree } from '../iavl/iavl-tree.js';
import type { SsEntry } from '../storage/ss-iterator.js';
import type { StorageStore } from '../storage/storage-store.js';

/** Entries read per batch from each side. */
const BATCH = 1024;
/** Differences named per store; the counts go on. */
const EXAMPLES = 3;

/** How one store's keys in the store/v2 SS compare with store/v1's tree at one version. */
export interface KeyComparison {
  readonly compared: number;
  /** In store/v1, not in the SS. */
  readonly missing: number;
  /** In the SS, not in store/v1. */
  readonly extra: number;
  /** In both with other values. */
  readonly differing: number;
  /** The first few differences: `missing <hex key>`, `extra <hex key>`, `differs <hex key>`. */
  readonly examples: readonly string[];
}

/** Yields the entries of a batch reader in order, a batch at a time, and closes it at the end. */
async function* entries<T, E>(reader: BatchReader<T>, pick: (item: T) => E | undefined): AsyncGenerator<E> {
  try {
    for (;;) {
      const batch = await reader.read(BATCH);
      if (batch.length === 0) return;
      for (const item of batch) {
        const entry = pick(item);
        if (entry !== undefined) yield entry;
      }
    }
  } finally {
    await reader.close();
  }
}

/**
 * Walks `store`'s leaves in store/v1's tree at `version` and the SS's keys at `version` side by
 * side, both in key order, and counts what differs: a full read of both, in bounded memory.
 */
export async function compareKeys(tree: IavlTree, ss: StorageStore, store: string, version: number): Promise<KeyComparison> {
  const leaves = entries<ExportNode, SsEntry>(await tree.exportReader(version), (node) =>
    node.height === 0 ? [node.key, node.value!] : undefined,
  );
  const stored = entries<SsEntry, SsEntry>(ss.iterator(store, version), (entry) => entry);
  let compared = 0;
  let missing = 0;
  let extra = 0;
  let differing = 0;
  const examples: string[] = [];
  const note = (what: string, key: Uint8Array) => {
    if (examples.length < EXAMPLES) examples.push(`${what} ${toHex(key)}`);
  };
  try {
    let a = await leaves.next();
    let b = await stored.next();
    while (!a.done || !b.done) {
      const order = a.done ? 1 : b.done ? -1 : compareBytes(a.value[0], b.value[0]);
      if (order < 0) {
        missing++;
        note('missing', a.value![0]);
        a = await leaves.next();
      } else if (order > 0) {
        extra++;
        note('extra', b.value![0]);
        b = await stored.next();
      } else {
        compared++;
        if (!equalBytes(a.value![1], b.value![1])) {
          differing++;
          note('differs', a.value![0]);
        }
        a = await leaves.next();
        b = await stored.next();
      }
    }
  } finally {
    await Promise.all([leaves.return(undefined), stored.return(undefined)]);
  }
  return { compared, missing, extra, differing, examples };
}
