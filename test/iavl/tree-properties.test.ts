import fc from 'fast-check';
import { lastValueFrom, toArray } from 'rxjs';
import { iavlSpec, verifyMembership, verifyNonMembership } from '@confio/ics23';
import { compareBytes, toHex } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import { checkIavlProofRules } from '../../src/iavl/proof-rules.js';

type Op = { kind: 'set'; key: Uint8Array; value: Uint8Array } | { kind: 'remove'; key: Uint8Array };

// Small key space so that updates, removals and rebalancing all happen often.
const keyArb = fc.integer({ min: 0, max: 60 }).map((n) => Uint8Array.of(0x6b, n));
const valueArb = fc.uint8Array({ minLength: 1, maxLength: 8 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), key: keyArb, value: valueArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), key: keyArb }) },
);
const historyArb = fc.array(fc.array(opArb, { maxLength: 25 }), { minLength: 1, maxLength: 6 });

async function build(history: Op[][]): Promise<{ tree: IavlTree; model: Map<string, Uint8Array>; close: () => Promise<void> }> {
  const db = await openDb();
  const tree = await IavlTree.open(db, { prefix: 's/k:bank/' });
  const model = new Map<string, Uint8Array>();
  for (const ops of history) {
    for (const op of ops) {
      if (op.kind === 'set') {
        await tree.set(op.key, op.value);
        model.set(toHex(op.key), op.value);
      } else {
        await tree.remove(op.key);
        model.delete(toHex(op.key));
      }
    }
    await tree.saveVersion();
  }
  return { tree, model, close: () => db.close() };
}

describe('IAVL properties over random histories', () => {
  it('export → import rebuilds the same root hash, node versions and contents', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, async (history) => {
        const source = await build(history);
        const target = await openDb();
        try {
          const version = source.tree.version;
          const nodes = await lastValueFrom(source.tree.export(version, { batchSize: 7 }).pipe(toArray()));
          const tree = await IavlTree.open(target);
          const importer = await tree.importer(version);
          for (const node of nodes) await importer.add(node);
          const saved = await importer.commit();
          expect(toHex(saved.hash)).toBe(toHex(source.tree.hash()));
          const again = await lastValueFrom((await IavlTree.open(target)).export(version).pipe(toArray()));
          expect(again.map((n) => [toHex(n.key), n.version, n.height])).toEqual(nodes.map((n) => [toHex(n.key), n.version, n.height]));
          for (const [key, value] of source.model) expect(toHex((await tree.get(Uint8Array.from(Buffer.from(key, 'hex'))))!)).toBe(toHex(value));
          expect(tree.size).toBe(source.model.size);
        } finally {
          await source.close();
          await target.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('proofs of present and absent keys verify in @confio/ics23 and under Go op rules, and fail when tampered', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, fc.array(keyArb, { minLength: 1, maxLength: 8 }), async (history, probes) => {
        const { tree, model, close } = await build(history);
        try {
          const root = tree.hash();
          for (const key of probes) {
            if (model.size === 0) {
              await expect(tree.getProof(key)).rejects.toMatchObject({ code: 'ERR_KEY_NOT_FOUND' });
              continue;
            }
            const proof = await tree.getProof(key);
            checkIavlProofRules(proof);
            const value = model.get(toHex(key));
            if (value !== undefined) {
              expect(proof.exist).toBeDefined();
              expect(verifyMembership(proof, iavlSpec, root, key, value)).toBe(true);
              expect(verifyMembership(proof, iavlSpec, root, key, Uint8Array.of(...value, 1))).toBe(false);
              const wrongRoot = Uint8Array.from(root);
              wrongRoot[0]! ^= 1;
              expect(verifyMembership(proof, iavlSpec, wrongRoot, key, value)).toBe(false);
            } else {
              expect(proof.nonexist).toBeDefined();
              expect(verifyNonMembership(proof, iavlSpec, root, key)).toBe(true);
              const wrongRoot = Uint8Array.from(root);
              wrongRoot[31]! ^= 0x80;
              expect(verifyNonMembership(proof, iavlSpec, wrongRoot, key)).toBe(false);
            }
          }
        } finally {
          await close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every saved version stays readable and equals the model at that version', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, async (history) => {
        const db = await openDb();
        try {
          const tree = await IavlTree.open(db);
          const model = new Map<string, Uint8Array>();
          const snapshots: { version: number; entries: [string, string][]; hash: string }[] = [];
          for (const ops of history) {
            for (const op of ops) {
              if (op.kind === 'set') {
                await tree.set(op.key, op.value);
                model.set(toHex(op.key), op.value);
              } else {
                await tree.remove(op.key);
                model.delete(toHex(op.key));
              }
            }
            const saved = await tree.saveVersion();
            snapshots.push({
              version: saved.version,
              hash: toHex(saved.hash),
              entries: [...model].map(([k, v]) => [k, toHex(v)] as [string, string]).sort(),
            });
          }
          const reopened = await IavlTree.open(db, { cacheSize: 0 });
          for (const snap of snapshots) {
            const view = await reopened.getImmutable(snap.version);
            expect(toHex(view.hash)).toBe(snap.hash);
            const leaves = (await lastValueFrom(reopened.export(snap.version).pipe(toArray()))).filter((n) => n.height === 0);
            expect(leaves.map((n) => [toHex(n.key), toHex(n.value!)])).toEqual(snap.entries);
            for (let i = 1; i < leaves.length; i++) expect(compareBytes(leaves[i - 1]!.key, leaves[i]!.key)).toBeLessThan(0);
          }
        } finally {
          await db.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
