import { tendermintSpec, verifyMembership } from '@confio/ics23';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { commitInfoHash, storeInfoProof, type StoreInfo } from '../../src/commitment/commit-info.js';
import { merkleInnerHash, merkleLeafHash, merkleMapProof, merkleMapRoot, merkleRootFromLeafHashes } from '../../src/commitment/simple-merkle.js';
import { readVectors } from '../support/vectors.js';

const vectors = readVectors<{
  merkleMap: { cases: { entries: [string, string][]; expectedRoot: string }[] };
  rfc6962: { cases: { what: string; expected: string }[] };
}>('commitinfo-simple-merkle-vectors.json');

describe('simple Merkle map (cosmos-sdk maps_test.go vectors)', () => {
  it.each(vectors.merkleMap.cases.map((c) => [JSON.stringify(c.entries), c] as const))('%s', (_n, c) => {
    expect(toHex(merkleMapRoot(c.entries.map(([k, v]) => [utf8(k), utf8(v)])))).toBe(c.expectedRoot);
  });
});

describe('RFC-6962 hasher (cometbft vectors)', () => {
  const [empty, emptyLeaf, leaf, inner] = vectors.rfc6962.cases;
  it('empty tree', () => expect(toHex(merkleRootFromLeafHashes([]))).toBe(empty!.expected));
  it('leaf of the empty item', () => expect(toHex(merkleLeafHash(new Uint8Array(0)))).toBe(emptyLeaf!.expected));
  it("leaf of 'L123456'", () => expect(toHex(merkleLeafHash(utf8('L123456')))).toBe(leaf!.expected));
  it("inner of 'N123','N456'", () => expect(toHex(merkleInnerHash(utf8('N123'), utf8('N456')))).toBe(inner!.expected));
});

function infos(n: number): StoreInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `store${String.fromCharCode(97 + ((i * 7) % 26))}${i}`,
    commitId: { version: 5, hash: fromHex(toHex(utf8(`root-${i}`)).padEnd(64, '0')) },
  }));
}

describe('CommitInfo hash and store proofs', () => {
  it('is invariant under permutation of store infos (behaviour 41)', () => {
    const list = infos(7);
    const reversed = [...list].reverse();
    expect(toHex(commitInfoHash(reversed))).toBe(toHex(commitInfoHash(list)));
  });

  it('equals the leaf hash for a single store and is empty for none', () => {
    const [one] = infos(1);
    expect(toHex(commitInfoHash([one!]))).toBe(toHex(merkleMapRoot([[utf8(one!.name), one!.commitId.hash]])));
    expect(commitInfoHash([])).toHaveLength(0);
  });

  it.each([1, 2, 3, 4, 5, 8, 9, 13])('proves every store of %d against the hash (TendermintSpec)', (n) => {
    const list = infos(n);
    const root = commitInfoHash(list);
    for (const info of list) {
      const proof = storeInfoProof(list, info.name)!;
      expect(verifyMembership({ exist: proof }, tendermintSpec, root, utf8(info.name), info.commitId.hash)).toBe(true);
      const wrong = Uint8Array.from(info.commitId.hash);
      wrong[0]! ^= 1;
      expect(verifyMembership({ exist: proof }, tendermintSpec, root, utf8(info.name), wrong)).toBe(false);
    }
    expect(storeInfoProof(list, 'absent')).toBeUndefined();
  });

  it('agrees with the unpaired-last-element view of the tree (3 leaves: no step for the carried leaf)', () => {
    const leaves = [utf8('a'), utf8('b'), utf8('c')].map(merkleLeafHash);
    const bottomUp = merkleInnerHash(merkleInnerHash(leaves[0]!, leaves[1]!), leaves[2]!);
    expect(toHex(merkleRootFromLeafHashes(leaves))).toBe(toHex(bottomUp));
    const proof = merkleMapProof([[utf8('c'), utf8('x')], [utf8('a'), utf8('y')], [utf8('b'), utf8('z')]], utf8('c'))!;
    expect(proof.path).toHaveLength(1);
  });
});
