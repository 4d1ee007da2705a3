import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ics23 as confio, iavlSpec, tendermintSpec, verifyMembership, verifyNonMembership } from '@confio/ics23';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { isStoreError } from '../../src/core/errors.js';
import {
  decodeCommitmentProof,
  encodeCommitmentProof,
  HashOp,
  LengthOp,
  type CommitmentProof,
  type ExistenceProof,
} from '../../src/proto/ics23.js';
import { readVectors, VECTORS_DIR } from '../support/vectors.js';

/** One upstream proof file: hex root, key, value ('' for non-existence) and protobuf proof. */
interface ProofVector {
  readonly root: string;
  readonly key: string;
  readonly value: string;
  readonly proof: string;
}

function vectorFiles(dir: string): [string, ProofVector][] {
  return readdirSync(join(VECTORS_DIR, 'ics23-testdata', dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [`${dir}/${f}`, readVectors<ProofVector>(`ics23-testdata/${dir}/${f}`)]);
}

function flipLastByte(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1] = out[out.length - 1]! ^ 0x01;
  return out;
}

const specs = { iavl: iavlSpec, tendermint: tendermintSpec } as const;

describe.each(Object.entries(specs))('ICS23 %s proof vectors through our generated cosmos.ics23.v1 types', (dir, spec) => {
  const files = vectorFiles(dir);

  it('has the six upstream cases', () => {
    expect(files.map(([name]) => name.split('/')[1])).toEqual([
      'exist_left.json',
      'exist_middle.json',
      'exist_right.json',
      'nonexist_left.json',
      'nonexist_middle.json',
      'nonexist_right.json',
    ]);
  });

  describe.each(files)('%s', (_name, v) => {
    const bytes = fromHex(v.proof);
    const root = fromHex(v.root);
    const key = fromHex(v.key);
    const value = fromHex(v.value);
    const exists = v.value !== '';

    it('decodes and re-encodes to the same bytes', () => {
      const proof = decodeCommitmentProof(bytes);
      expect(toHex(encodeCommitmentProof(proof))).toBe(v.proof);
    });

    it('decodes to exactly one member with populated scalars and plain Uint8Array bytes', () => {
      const proof = decodeCommitmentProof(bytes);
      expect(Object.keys(proof)).toEqual([exists ? 'exist' : 'nonexist']);
      const leaf = exists ? proof.exist!.leaf! : (proof.nonexist!.left ?? proof.nonexist!.right)!.leaf!;
      expect(leaf).toEqual({
        hash: HashOp.SHA256,
        prehashKey: HashOp.NO_HASH,
        prehashValue: HashOp.SHA256,
        length: LengthOp.VAR_PROTO,
        prefix: expect.any(Uint8Array),
      });
      expect(leaf.prefix.constructor).toBe(Uint8Array);
      if (exists) {
        expect(toHex(proof.exist!.key)).toBe(v.key);
        expect(toHex(proof.exist!.value)).toBe(v.value);
      } else {
        expect(toHex(proof.nonexist!.key)).toBe(v.key);
      }
    });

    it('verifies with @confio/ics23', () => {
      const proof = decodeCommitmentProof(bytes);
      if (exists) expect(verifyMembership(proof, spec, root, key, value)).toBe(true);
      else expect(verifyNonMembership(proof, spec, root, key)).toBe(true);
    });

    it('fails verification with a tampered value or root', () => {
      const proof = decodeCommitmentProof(bytes);
      if (exists) {
        expect(verifyMembership(proof, spec, root, key, flipLastByte(value))).toBe(false);
        expect(verifyMembership(proof, spec, flipLastByte(root), key, value)).toBe(false);
      } else {
        expect(verifyNonMembership(proof, spec, flipLastByte(root), key)).toBe(false);
        // A non-existence proof never proves membership.
        expect(verifyMembership(proof, spec, root, key, new Uint8Array([1]))).toBe(false);
      }
    });

    it('fails verification when an inner op of the proof is tampered with', () => {
      const proof = decodeCommitmentProof(bytes);
      const tamper = (e: ExistenceProof): ExistenceProof => ({
        ...e,
        path: e.path.map((op, i) => (i === 0 ? { ...op, prefix: flipLastByte(op.prefix) } : op)),
      });
      if (exists) {
        expect(verifyMembership({ exist: tamper(proof.exist!) }, spec, root, key, value)).toBe(false);
      } else {
        const n = proof.nonexist!;
        const tampered: CommitmentProof = {
          nonexist: n.left ? { ...n, left: tamper(n.left) } : { ...n, right: tamper(n.right!) },
        };
        expect(verifyNonMembership(tampered, spec, root, key)).toBe(false);
      }
    });

    it('agrees with the decoder bundled in @confio/ics23 (its objects encode to the same bytes)', () => {
      const theirs = confio.CommitmentProof.decode(bytes);
      expect(toHex(encodeCommitmentProof(theirs))).toBe(v.proof);
    });
  });
});

describe('ICS23 smt proof vectors (round trip only; the SMT spec is out of scope)', () => {
  it.each(vectorFiles('smt'))('%s re-encodes to the same bytes', (_name, v) => {
    expect(toHex(encodeCommitmentProof(decodeCommitmentProof(fromHex(v.proof))))).toBe(v.proof);
  });
});

/** A short length-delimited field body: one length byte, then the bytes. */
function ld(hex: string): string {
  return (hex.length / 2).toString(16).padStart(2, '0') + hex;
}

describe('ICS23 codec edges', () => {
  it('uses the upstream field numbers (hand-built bytes)', () => {
    // CommitmentProof.exist(1){ key(1)="k", value(2)="v", leaf(3){hash(1)=1, prehash_value(3)=1,
    // length(4)=1, prefix(5)=00}, path(4)[{hash(1)=1, prefix(2)=01, suffix(3)=02}] }
    const leaf = '0801' + '1801' + '2001' + '2a0100';
    const inner = '0801' + '120101' + '1a0102';
    const exist = '0a016b' + '120176' + '1a' + ld(leaf) + '22' + ld(inner);
    const hex = '0a' + ld(exist);
    expect(hex).toBe('0a1b0a016b1201761a090801180120012a0100220808011201011a0102');
    const proof: CommitmentProof = {
      exist: {
        key: fromHex('6b'),
        value: fromHex('76'),
        leaf: { hash: 1, prehashKey: 0, prehashValue: 1, length: 1, prefix: fromHex('00') },
        path: [{ hash: 1, prefix: fromHex('01'), suffix: fromHex('02') }],
      },
    };
    expect(toHex(encodeCommitmentProof(proof))).toBe(hex);
    expect(decodeCommitmentProof(fromHex(hex))).toEqual(proof);
    // nonexist is field 2, its key field 1, left 2, right 3.
    expect(toHex(encodeCommitmentProof({ nonexist: { key: fromHex('6b'), left: { key: fromHex('6a') } } }))).toBe(
      '12' + ld('0a016b' + '12' + ld('0a016a')),
    );
  });

  it('round-trips batch and compressed proofs', () => {
    const exist = {
      key: fromHex('01'),
      value: fromHex('02'),
      leaf: { hash: 1, prehashKey: 0, prehashValue: 1, length: 1, prefix: fromHex('00') },
      path: [{ hash: 1, prefix: fromHex('0102'), suffix: new Uint8Array(0) }],
    };
    const batch: CommitmentProof = { batch: { entries: [{ exist }, { nonexist: { key: fromHex('03'), left: exist } }] } };
    expect(decodeCommitmentProof(encodeCommitmentProof(batch))).toEqual(batch);
    const compressed: CommitmentProof = {
      compressed: {
        entries: [{ exist: { key: fromHex('01'), value: fromHex('02'), leaf: exist.leaf, path: [0, 0] } }],
        lookupInners: exist.path,
      },
    };
    expect(decodeCommitmentProof(encodeCommitmentProof(compressed))).toEqual(compressed);
  });

  it('rejects more than one oneof member', () => {
    let caught: unknown;
    try {
      encodeCommitmentProof({ exist: { key: fromHex('01') }, nonexist: { key: fromHex('01') } });
    } catch (e) {
      caught = e;
    }
    expect(isStoreError(caught, 'ERR_INVALID_ARGUMENT')).toBe(true);
  });

  it('turns malformed input into typed errors', () => {
    const valid = fromHex(readVectors<ProofVector>('ics23-testdata/iavl/exist_left.json').proof);
    for (let cut = 1; cut < valid.length; cut += 7) {
      let caught: unknown;
      try {
        decodeCommitmentProof(valid.subarray(0, cut));
      } catch (e) {
        caught = e;
      }
      expect(isStoreError(caught, 'ERR_TRUNCATED')).toBe(true);
    }
    expect(() => decodeCommitmentProof(fromHex('0f'))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(decodeCommitmentProof(new Uint8Array(0))).toEqual({});
  });
});
