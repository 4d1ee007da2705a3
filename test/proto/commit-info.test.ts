import fc from 'fast-check';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { isStoreError, StoreError } from '../../src/core/errors.js';
import {
  decodeCommitInfoV1,
  decodeCommitInfoV2,
  encodeCommitInfoV1,
  encodeCommitInfoV2,
  type CommitInfo,
} from '../../src/proto/commit-info.js';
import { cosmos } from '../../src/proto/generated.js';
import { decodeInt64Value, encodeInt64Value } from '../../src/proto/int64-value.js';
import { caught } from '../support/errors.js';

/** One length byte, then the bytes (short fields only). */
function ld(hex: string): string {
  return (hex.length / 2).toString(16).padStart(2, '0') + hex;
}

function varintHex(value: bigint): string {
  let v = BigInt.asUintN(64, value);
  let out = '';
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out += (v > 0n ? low | 0x80 : low).toString(16).padStart(2, '0');
  } while (v > 0n);
  return out;
}

const BIG = 2 ** 40 + 5; // > 2^32: a 32-bit or bigint slip would lose it

describe('CommitInfo v1beta1 (store/v1 s/<height>)', () => {
  it('uses the v1beta1 field numbers (hand-built bytes)', () => {
    // version(1)=1, store_infos(2)[{ name(1)="a", commit_id(2){ version(1)=1, hash(2)=ab } }],
    // timestamp(3){ seconds(1)=2, nanos(2)=3 }
    const hex = '0801' + '12' + ld('0a0161' + '12' + ld('0801' + '1201ab')) + '1a' + ld('0802' + '1003');
    const info: CommitInfo = {
      version: 1,
      storeInfos: [{ name: 'a', commitId: { version: 1, hash: fromHex('ab') } }],
      timestamp: { seconds: 2, nanos: 3 },
    };
    expect(toHex(encodeCommitInfoV1(info))).toBe(hex);
    expect(decodeCommitInfoV1(fromHex(hex))).toEqual(info);
  });

  it('round-trips a version above 2^32 (int64 is not truncated)', () => {
    const info: CommitInfo = {
      version: BIG,
      storeInfos: [
        { name: 'bank', commitId: { version: BIG, hash: new Uint8Array(32).fill(1) } },
        { name: 'acc', commitId: { version: BIG - 1, hash: new Uint8Array(32).fill(2) } },
      ],
    };
    const bytes = encodeCommitInfoV1(info);
    expect(toHex(bytes).startsWith('08' + varintHex(BigInt(BIG)))).toBe(true);
    expect(decodeCommitInfoV1(bytes)).toEqual(info);
  });

  it('documents the protobufjs pitfall our encoder avoids: a raw bigint int64 is written as 0', () => {
    const raw = cosmos.store.v1beta1.CommitInfo.encode({ version: 2n ** 40n } as never).finish();
    expect(toHex(raw)).toBe('0800');
    const e = caught(() => encodeCommitInfoV1({ version: 2n ** 40n as unknown as number, storeInfos: [] }));
    expect(isStoreError(e, 'ERR_VERSION_RANGE')).toBe(true);
  });

  it('keeps Go zero-time timestamps (negative seconds) and omits an absent one', () => {
    const zeroTime: CommitInfo = { version: 3, storeInfos: [], timestamp: { seconds: -62135596800, nanos: 0 } };
    expect(decodeCommitInfoV1(encodeCommitInfoV1(zeroTime))).toEqual(zeroTime);
    const none = decodeCommitInfoV1(encodeCommitInfoV1({ version: 3, storeInfos: [] }));
    expect('timestamp' in none).toBe(false);
    // A present but empty timestamp survives as {0, 0}.
    expect(decodeCommitInfoV1(fromHex('08031a00')).timestamp).toEqual({ seconds: 0, nanos: 0 });
  });

  it('always writes the commit id, and decodes an empty hash as an empty array', () => {
    const info: CommitInfo = { version: 0, storeInfos: [{ name: 'x', commitId: { version: 0, hash: new Uint8Array(0) } }] };
    expect(toHex(encodeCommitInfoV1(info))).toBe('12' + ld('0a0178' + '1200'));
    const decoded = decodeCommitInfoV1(encodeCommitInfoV1(info));
    expect(decoded.storeInfos[0]!.commitId.hash.constructor).toBe(Uint8Array);
    expect(decoded).toEqual(info);
  });

  it('does not write v2-only fields', () => {
    const info: CommitInfo = {
      version: 1,
      storeInfos: [{ name: 'a', commitId: { version: 1, hash: fromHex('ab') }, structure: 'iavl' }],
      commitHash: fromHex('cd'),
    };
    expect(decodeCommitInfoV1(encodeCommitInfoV1(info))).toEqual({
      version: 1,
      storeInfos: [{ name: 'a', commitId: { version: 1, hash: fromHex('ab') } }],
    });
  });

  it('rejects versions beyond 2^53−1 on the wire with ERR_VERSION_RANGE', () => {
    expect(isStoreError(caught(() => decodeCommitInfoV1(fromHex('08' + varintHex(2n ** 53n)))), 'ERR_VERSION_RANGE')).toBe(
      true,
    );
    const inner = '12' + ld('0a0161' + '12' + ld('08' + varintHex(-1n)));
    expect(isStoreError(caught(() => decodeCommitInfoV1(fromHex(inner))), 'ERR_VERSION_RANGE')).toBe(true);
  });

  it('turns malformed input into typed errors, never raw protobufjs errors', () => {
    expect(isStoreError(caught(() => decodeCommitInfoV1(fromHex('1205'))), 'ERR_TRUNCATED')).toBe(true);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (input) => {
        for (const decode of [decodeCommitInfoV1, decodeCommitInfoV2]) {
          try {
            decode(input);
          } catch (e) {
            if (!(e instanceof StoreError)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('CommitInfo v2 (store/v2 SC c/<version>)', () => {
  it('uses the v2 field numbers: structure = 3, commit_hash = 4 (hand-built bytes)', () => {
    const hex =
      '0801' +
      '12' +
      ld('0a0161' + '12' + ld('0801' + '1201ab') + '1a' + ld('6961766c')) +
      '1a' +
      ld('0802' + '1003') +
      '2201cd';
    const info: CommitInfo = {
      version: 1,
      storeInfos: [{ name: 'a', commitId: { version: 1, hash: fromHex('ab') }, structure: 'iavl' }],
      timestamp: { seconds: 2, nanos: 3 },
      commitHash: fromHex('cd'),
    };
    expect(toHex(encodeCommitInfoV2(info))).toBe(hex);
    expect(decodeCommitInfoV2(fromHex(hex))).toEqual(info);
  });

  it('round-trips a version above 2^32 (int64 is not truncated)', () => {
    const info: CommitInfo = {
      version: BIG,
      storeInfos: [{ name: 'bank', commitId: { version: BIG, hash: new Uint8Array(32).fill(9) }, structure: 'iavl' }],
      commitHash: new Uint8Array(32).fill(3),
    };
    const bytes = encodeCommitInfoV2(info);
    expect(toHex(bytes).startsWith('08' + varintHex(BigInt(BIG)))).toBe(true);
    expect(decodeCommitInfoV2(bytes)).toEqual(info);
  });

  it('reads a v1beta1 record as v2 (same field numbers, extra fields absent)', () => {
    const info: CommitInfo = { version: 9, storeInfos: [{ name: 'a', commitId: { version: 9, hash: fromHex('01') } }] };
    expect(decodeCommitInfoV2(encodeCommitInfoV1(info))).toEqual(info);
  });

  it('property: decode(encode(x)) deep-equals x', () => {
    const hash = fc.uint8Array({ minLength: 0, maxLength: 32 });
    const info = fc.record({
      version: fc.maxSafeNat(),
      storeInfos: fc.array(
        fc.record({
          name: fc.string({ maxLength: 12 }),
          commitId: fc.record({ version: fc.maxSafeNat(), hash }),
          structure: fc.constantFrom('iavl', 'smt'),
        }),
        { maxLength: 5 },
      ),
      timestamp: fc.record({
        seconds: fc.integer({ min: -62135596800, max: 253402300799 }),
        nanos: fc.integer({ min: 0, max: 999_999_999 }),
      }),
      commitHash: fc.uint8Array({ minLength: 1, maxLength: 32 }),
    });
    fc.assert(
      fc.property(info, (x) => {
        expect(decodeCommitInfoV2(encodeCommitInfoV2(x))).toEqual(x);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Int64Value (store/v1 s/latest)', () => {
  it.each([
    [0, ''],
    [5, '0805'],
    [BIG, '08' + varintHex(BigInt(BIG))],
    [-1, '08' + varintHex(-1n)],
  ])('%d ⇄ %s', (value, hex) => {
    expect(toHex(encodeInt64Value(value))).toBe(hex);
    expect(decodeInt64Value(fromHex(hex))).toBe(value);
  });

  it('rejects unsafe values both ways and malformed input with typed errors', () => {
    expect(isStoreError(caught(() => encodeInt64Value(2 ** 53)), 'ERR_VERSION_RANGE')).toBe(true);
    expect(isStoreError(caught(() => decodeInt64Value(fromHex('08' + varintHex(2n ** 53n)))), 'ERR_VERSION_RANGE')).toBe(true);
    expect(isStoreError(caught(() => decodeInt64Value(fromHex('0880'))), 'ERR_TRUNCATED')).toBe(true);
  });
});
