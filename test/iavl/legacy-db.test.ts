import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { isStoreError } from '../../src/core/errors.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import type { ExportNode } from '../../src/iavl/export-reader.js';
import { openDb } from '../../src/db/level-db.js';
import { openCopy } from '../support/db.js';
import { readVectors, VECTORS_DIR } from '../support/vectors.js';

interface StreamNode {
  key: string;
  value?: string;
  version: number;
  height: number;
}
const streams = readVectors<{ dbs: { name: string; versions: { version: number; expectedRootHash: string; exportNodes: StreamNode[] }[] }[] }>(
  'iavl-legacy-db-export-streams.json',
);

function toJson(nodes: ExportNode[]): StreamNode[] {
  return nodes.map((n) =>
    n.height === 0
      ? { key: toHex(n.key), value: toHex(n.value!), version: n.version, height: 0 }
      : { key: toHex(n.key), version: n.version, height: n.height },
  );
}

describe.each(streams.dbs.map((d) => [d.name, d] as const))('legacy Go IAVL 0.13 database %s (opened from a copy)', (name, vectors) => {
  let handle: Awaited<ReturnType<typeof openCopy>>;
  let tree: IavlTree;

  beforeAll(async () => {
    handle = await openCopy(join(VECTORS_DIR, 'iavl-testdata-goleveldb', name));
    tree = await IavlTree.open(handle.db);
  });
  afterAll(async () => handle.cleanup());

  it('finds the latest legacy version', async () => {
    expect(tree.version).toBeGreaterThanOrEqual(6);
  });

  it.each(vectors.versions.map((v) => [v.version, v] as const))('version %d has the expected root hash', async (version, v) => {
    expect(toHex((await tree.getImmutable(version)).hash)).toBe(v.expectedRootHash);
  });

  it.each(vectors.versions.map((v) => [v.version, v] as const))('version %d exports the expected post-order stream', async (version, v) => {
    const nodes = await lastValueFrom(tree.export(version, { batchSize: 5 }).pipe(toArray()));
    expect(toJson(nodes)).toEqual(v.exportNodes);
  });

  it.each(vectors.versions.map((v) => [v.version, v] as const))(
    'version %d imported from its stream into a fresh tree gives the same hash',
    async (version, v) => {
      const db = await openDb();
      try {
        const target = await IavlTree.open(db);
        const importer = await target.importer(version);
        for (const n of v.exportNodes) {
          await importer.add({
            key: fromHex(n.key),
            ...(n.value === undefined ? {} : { value: fromHex(n.value) }),
            version: n.version,
            height: n.height,
          });
        }
        const saved = await importer.commit();
        expect(toHex(saved.hash)).toBe(v.expectedRootHash);
        const reopened = await IavlTree.open(db);
        expect(reopened.version).toBe(version);
        expect(toHex(reopened.hash())).toBe(v.expectedRootHash);
        // Every leaf reads back from the imported (v1-format) tree.
        for (const n of v.exportNodes.filter((x) => x.height === 0)) {
          expect(toHex((await reopened.get(fromHex(n.key)))!)).toBe(n.value);
        }
      } finally {
        await db.close();
      }
    },
  );

  it('reads keys at historical versions', async () => {
    const leaves = vectors.versions[0]!.exportNodes.filter((n) => n.height === 0);
    const at3 = await tree.getImmutable(3);
    for (const leaf of leaves) expect(toHex((await at3.get(fromHex(leaf.key)))!)).toBe(leaf.value);
  });

  it('is read-only: writing on top of the legacy format is refused with a typed error', async () => {
    await expect(tree.set(fromHex('01'), fromHex('02'))).rejects.toMatchObject({ code: 'ERR_READ_ONLY' });
  });

  it('reports a version that does not exist', async () => {
    const error = await tree.getImmutable(99).catch((e: unknown) => e);
    expect(isStoreError(error, 'ERR_VERSION_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toMatch(/version 99/);
  });
});
