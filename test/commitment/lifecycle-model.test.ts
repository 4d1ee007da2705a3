import fc from 'fast-check';
import { verifyMembership, verifyNonMembership, iavlSpec, tendermintSpec } from '@confio/ics23';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { CommitStore } from '../../src/commitment/commit-store.js';
import { IavlTree } from '../../src/iavl/iavl-tree.js';
import type { Changeset } from '../../src/core/changeset.js';
import { FaultyLevel } from '../support/faulty-level.js';

const STORES = ['a', 'b'];
type Cmd =
  | { kind: 'write'; pairs: { store: number; key: number; value: number | null }[]; failRead: number }
  | { kind: 'commit'; fail: boolean }
  | { kind: 'rollback' }
  | { kind: 'prune'; pick: number; failAfter: number }
  | { kind: 'reopen' }
  | { kind: 'restore' }
  | { kind: 'read'; pickVersion: number; store: number; key: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), pairs: fc.array(fc.record({ store: fc.integer({ min: 0, max: 1 }), key: fc.integer({ min: 0, max: 30 }), value: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 4 }) }), { minLength: 1, maxLength: 10 }), failRead: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), fail: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rollback' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), pick: fc.nat(), failAfter: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), pickVersion: fc.nat(), store: fc.integer({ min: 0, max: 1 }), key: fc.integer({ min: 0, max: 30 }) }) },
);

const k = (n: number): Uint8Array => Uint8Array.of(0x6b, n);
const v = (n: number): Uint8Array => Uint8Array.of(0x76, n);

describe('CommitStore lifecycle against a model', () => {
  it.each([4, 100000])('keeps values, hashes and proofs right (cache %d)', async (cacheSize) => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { minLength: 5, maxLength: 60 }), async (cmds) => {
        let raw = await openDb();
        let faulty = new FaultyLevel(raw);
        let db = faulty.db as LevelDb;
        const dbs = [raw];
        const refDb = await openDb();
        try {
          let sc = await CommitStore.open(db, { storeKeys: STORES, cacheSize });
          const refs = await Promise.all(STORES.map((s) => IavlTree.open(refDb, { prefix: s + '/' })));
          const committed: Map<string, Uint8Array>[][] = []; // version-1 -> per store
          const hashes: string[][] = [];
          let state = STORES.map(() => new Map<string, Uint8Array>());
          let staged: Changeset['changes'][number][] = [];
          let earliest = 1;
          for (const cmd of cmds) {
            if (cmd.kind === 'write') {
              const changes = STORES.map((s, i) => ({ storeKey: s, pairs: cmd.pairs.filter((p) => p.store === i).map((p) => (p.value === null ? { key: k(p.key), remove: true } : { key: k(p.key), value: v(p.value), remove: false })) })).filter((c) => c.pairs.length > 0);
              if (cmd.failRead > 3) faulty.arm({ afterReads: cmd.failRead - 3 });
              try {
                await sc.writeChangeset({ changes });
                staged.push(...changes);
              } catch (e) {
                if (cmd.failRead <= 3) throw e;
                staged = []; // a failed changeset drops every staged change
              }
              faulty.disarm();
            } else if (cmd.kind === 'commit') {
              const version = sc.latestVersion + 1;
              if (cmd.fail) faulty.arm({ afterWrites: 1 });
              let ok = true;
              try {
                await sc.commit(version);
              } catch (e) {
                if (!cmd.fail) throw e;
                ok = false;
              }
              faulty.disarm();
              if (ok) {
                for (const c of staged) {
                  const t = refs[STORES.indexOf(c.storeKey)]!;
                  for (const p of c.pairs) {
                    if (p.remove) await t.remove(p.key);
                    else await t.set(p.key, p.value!);
                  }
                }
                const hs: string[] = [];
                for (const t of refs) hs.push(toHex((await t.saveVersion()).hash));
                hashes.push(hs);
                state = STORES.map((_, i) => {
                  const m = new Map(committed.length ? committed[committed.length - 1]![i]! : []);
                  for (const c of staged.filter((c) => c.storeKey === STORES[i])) for (const p of c.pairs) {
                    if (p.remove) m.delete(toHex(p.key));
                    else m.set(toHex(p.key), p.value!);
                  }
                  return m;
                });
                committed.push(state);
                for (let i = 0; i < STORES.length; i++) expect(toHex(await sc.storeRoot(STORES[i]!, version))).toBe(hs[i]);
              }
              staged = [];
            } else if (cmd.kind === 'rollback') {
              sc.rollback();
              staged = [];
            } else if (cmd.kind === 'prune') {
              const latest = sc.latestVersion;
              if (latest - earliest < 1) continue;
              const to = earliest + (cmd.pick % (latest - earliest));
              if (cmd.failAfter > 0) faulty.arm({ afterWrites: cmd.failAfter });
              try {
                await sc.prune(to);
                earliest = to + 1;
              } catch (e) {
                if (cmd.failAfter === 0) throw e;
                faulty.disarm();
                await sc.prune(to); // retry completes it
                earliest = to + 1;
              }
              faulty.disarm();
            } else if (cmd.kind === 'restore') {
              // State sync: a snapshot of the latest version restored into a new database.
              if (sc.latestVersion === 0) continue;
              const height = sc.latestVersion;
              raw = await openDb();
              dbs.push(raw);
              faulty = new FaultyLevel(raw);
              db = faulty.db as LevelDb;
              const target = await CommitStore.open(db, { storeKeys: STORES, cacheSize });
              const reader = await sc.snapshotReader(height);
              await target.restore(height, reader);
              await reader.close();
              sc = target;
              staged = [];
              earliest = height;
              expect(await sc.earliestVersion()).toBe(height);
            } else if (cmd.kind === 'reopen') {
              sc = await CommitStore.open(db, { storeKeys: STORES, cacheSize });
              staged = [];
            } else {
              const latest = sc.latestVersion;
              if (latest === 0) continue;
              const version = earliest + (cmd.pickVersion % (latest - earliest + 1));
              const store = STORES[cmd.store]!;
              const want = committed[version - 1]![cmd.store]!.get(toHex(k(cmd.key)));
              const got = await sc.get(store, version, k(cmd.key));
              expect(got && toHex(got)).toBe(want && toHex(want));
              if (committed[version - 1]![cmd.store]!.size === 0) continue;
              const proof = await sc.getProof(store, version, k(cmd.key));
              expect(toHex(proof.storeRoot)).toBe(hashes[version - 1]![cmd.store]);
              if (want) expect(verifyMembership(proof.ops[0].proof, iavlSpec, proof.storeRoot, k(cmd.key), want)).toBe(true);
              else expect(verifyNonMembership(proof.ops[0].proof, iavlSpec, proof.storeRoot, k(cmd.key))).toBe(true);
              expect(verifyMembership(proof.ops[1].proof, tendermintSpec, proof.appHash, utf8(store), proof.storeRoot)).toBe(true);
            }
          }
          // every retained version intact
          for (let version = earliest; version <= sc.latestVersion; version++) {
            for (let i = 0; i < STORES.length; i++) {
              const view = await sc.treeAt(STORES[i]!, version);
              expect(toHex(view.hash)).toBe(hashes[version - 1]![i]);
              for (let key = 0; key <= 30; key++) {
                const want = committed[version - 1]![i]!.get(toHex(k(key)));
                const got = await view.get(k(key));
                expect(got && toHex(got)).toBe(want && toHex(want));
              }
            }
          }
          expect(await sc.earliestVersion()).toBe(sc.latestVersion === 0 ? 0 : earliest);
        } finally {
          for (const d of dbs) await d.close();
          await refDb.close();
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 150) },
    );
  });
});
