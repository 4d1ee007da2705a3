import fc from 'fast-check';
import { compareBytes, fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { isStoreError, StoreError } from '../../src/core/errors.js';
import {
  changesetFromPairs,
  decodeChangeset,
  encodeChangeset,
  type Changeset,
  type KVPair,
} from '../../src/core/changeset.js';
import { changesetLogKey, changesetLogPrefix, parseChangesetLogKey } from '../../src/core/changeset-log-key.js';
import { caughtStoreError as caught } from '../support/errors.js';

const set = (key: string, value: string): KVPair => ({ key: utf8(key), value: utf8(value), remove: false });
const del = (key: string): KVPair => ({ key: utf8(key), remove: true });

describe('changeset encoding (formats.md §7, behaviours 1–4)', () => {
  it('1: the empty changeset is 00', () => {
    expect(toHex(encodeChangeset({ changes: [] }))).toBe('00');
    expect(decodeChangeset(fromHex('00'))).toEqual({ changes: [] });
  });

  it('2: one group "storekey", set key=value → 22 bytes', () => {
    const cs: Changeset = { changes: [{ storeKey: 'storekey', pairs: [set('key', 'value')] }] };
    const bytes = encodeChangeset(cs);
    expect(toHex(bytes)).toBe('01' + '08' + '73746f72656b6579' + '01' + '03' + '6b6579' + '00' + '05' + '76616c7565');
    expect(bytes.length).toBe(22);
    expect(decodeChangeset(bytes)).toStrictEqual(cs);
  });

  it('3: the same with delete → 16 bytes, no value bytes', () => {
    const cs: Changeset = { changes: [{ storeKey: 'storekey', pairs: [del('key')] }] };
    const bytes = encodeChangeset(cs);
    expect(toHex(bytes)).toBe('01' + '08' + '73746f72656b6579' + '01' + '03' + '6b6579' + '01');
    expect(bytes.length).toBe(16);
    const decoded = decodeChangeset(bytes);
    expect(decoded).toStrictEqual(cs);
    expect('value' in decoded.changes[0]!.pairs[0]!).toBe(false);
  });

  it('4: two groups → 55 bytes, round trip keeps group and pair order', () => {
    const { changeset } = changesetFromPairs(1, [
      ['storekey1', utf8('key1'), utf8('value1')],
      ['storekey2', utf8('key2'), utf8('value2')],
      ['storekey2', utf8('key1'), undefined],
    ]);
    expect(changeset).toStrictEqual({
      changes: [
        { storeKey: 'storekey1', pairs: [set('key1', 'value1')] },
        { storeKey: 'storekey2', pairs: [set('key2', 'value2'), del('key1')] },
      ],
    });
    const bytes = encodeChangeset(changeset);
    expect(bytes.length).toBe(55);
    expect(toHex(bytes)).toBe(
      '02' +
        '09' + toHex(utf8('storekey1')) + '01' + '04' + toHex(utf8('key1')) + '00' + '06' + toHex(utf8('value1')) +
        '09' + toHex(utf8('storekey2')) + '02' +
        '04' + toHex(utf8('key2')) + '00' + '06' + toHex(utf8('value2')) +
        '04' + toHex(utf8('key1')) + '01',
    );
    expect(decodeChangeset(bytes)).toStrictEqual(changeset);
  });

  it('changesetFromPairs groups by first appearance, even when stores interleave', () => {
    const { version, changeset } = changesetFromPairs(7, [
      ['b', utf8('1'), utf8('x')],
      ['a', utf8('2'), utf8('y')],
      ['b', utf8('3'), undefined],
      ['a', utf8('4'), utf8('z')],
    ]);
    expect(version).toBe(7);
    expect(changeset.changes.map((g) => [g.storeKey, g.pairs.map((p) => toHex(p.key))])).toEqual([
      ['b', ['31', '33']],
      ['a', ['32', '34']],
    ]);
    expect(isStoreError(caught(() => changesetFromPairs(0, [])), 'ERR_VERSION_RANGE')).toBe(true);
    expect(isStoreError(caught(() => changesetFromPairs(2 ** 53, [])), 'ERR_VERSION_RANGE')).toBe(true);
  });

  it('encodes UTF-8 store keys and keeps empty keys and values distinct from deletes', () => {
    const cs: Changeset = {
      changes: [
        { storeKey: 'état', pairs: [{ key: new Uint8Array(0), value: new Uint8Array(0), remove: false }, del('')] },
        { storeKey: '', pairs: [] },
      ],
    };
    expect(toHex(encodeChangeset(cs))).toBe('02' + '05' + 'c3a974617402' + '0000' + '00' + '0001' + '0000');
    expect(decodeChangeset(encodeChangeset(cs))).toStrictEqual(cs);
  });

  it('rejects inconsistent pairs on encode', () => {
    const badSet = { changes: [{ storeKey: 's', pairs: [{ key: utf8('k'), remove: false }] }] };
    const badDel = { changes: [{ storeKey: 's', pairs: [{ key: utf8('k'), value: utf8('v'), remove: true }] }] };
    expect(caught(() => encodeChangeset(badSet)).code).toBe('ERR_INVALID_ARGUMENT');
    expect(caught(() => encodeChangeset(badDel)).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('returns keys and values that do not alias the input (Buffers included)', () => {
    const input = Buffer.from(encodeChangeset({ changes: [{ storeKey: 's', pairs: [set('k', 'v')] }] }));
    const decoded = decodeChangeset(input);
    input.fill(0);
    expect(decoded.changes[0]!.pairs[0]).toStrictEqual(set('k', 'v'));
    expect(decoded.changes[0]!.pairs[0]!.key.constructor).toBe(Uint8Array);
  });
});

describe('changeset decoding errors (behaviour 5)', () => {
  const valid = '01' + '08' + '73746f72656b6579' + '01' + '03' + '6b6579' + '00' + '05' + '76616c7565';

  it('rejects a remove flag other than 0/1, naming the flag and its offset', () => {
    const e = caught(() => decodeChangeset(fromHex('01' + '08' + '73746f72656b6579' + '01' + '03' + '6b6579' + '02')));
    expect(e.code).toBe('ERR_INVALID_FLAG');
    expect(e.message).toMatch(/remove flag 2 /);
    expect(e.message).toMatch(/offset 15/);
    expect(e.details).toMatchObject({ flag: 2, offset: 15, storeKey: 'storekey', key: '6b6579' });
    // A multi-byte flag is still just a wrong flag.
    expect(caught(() => decodeChangeset(fromHex('01' + '0173' + '01' + '016b' + '8001'))).details).toMatchObject({ flag: 128 });
  });

  it('rejects every truncation with ERR_TRUNCATED naming what is missing', () => {
    const bytes = fromHex(valid);
    for (let cut = 0; cut < bytes.length; cut++) {
      const e = caught(() => decodeChangeset(bytes.subarray(0, cut)));
      expect(e.code).toBe('ERR_TRUNCATED');
    }
    const value = caught(() => decodeChangeset(bytes.subarray(0, bytes.length - 2)));
    expect(value.message).toMatch(/value of group 0 \(storekey\) pair 0 at offset 16 has length 5 but only 3 bytes are left \(2 missing\)/);
    expect(value.details).toMatchObject({ length: 5, left: 3, missing: 2 });
    const storeKey = caught(() => decodeChangeset(fromHex('01' + '08' + '7374')));
    expect(storeKey.message).toMatch(/store key of group 0 at offset 1 has length 8/);
    const flag = caught(() => decodeChangeset(fromHex('01' + '0173' + '01' + '016b')));
    expect(flag.message).toMatch(/remove flag of group 0 \(s\) pair 0/);
  });

  it('rejects trailing bytes', () => {
    const e = caught(() => decodeChangeset(fromHex(valid + 'ff')));
    expect(e.code).toBe('ERR_TRAILING_BYTES');
    expect(e.details).toMatchObject({ offset: 22, trailing: 1 });
    expect(caught(() => decodeChangeset(fromHex('0000'))).code).toBe('ERR_TRAILING_BYTES');
  });

  it('rejects forged counts before looping or allocating', () => {
    // 2^53 − 1 groups announced in an 8-byte input (2^53 is no safe count: ERR_VARINT_OVERFLOW).
    const groups = caught(() => decodeChangeset(fromHex('ffffffffffffff0f')));
    expect(groups.code).toBe('ERR_TRUNCATED');
    expect(groups.message).toMatch(/group count 9007199254740991 at offset 0 needs at least/);
    expect(caught(() => decodeChangeset(fromHex('8080808080808010'))).code).toBe('ERR_VARINT_OVERFLOW');
    // A group announcing a million pairs with 2 bytes left.
    const pairs = caught(() => decodeChangeset(fromHex('01' + '0173' + 'c0843d' + '0000')));
    expect(pairs.code).toBe('ERR_TRUNCATED');
    expect(pairs.details).toMatchObject({ count: 1_000_000, left: 2 });
    // Just enough bytes for the announced count is fine.
    expect(decodeChangeset(fromHex('01' + '0173' + '02' + '0001' + '0001')).changes[0]!.pairs).toHaveLength(2);
  });

  it('rejects a store key that is not UTF-8', () => {
    const e = caught(() => decodeChangeset(fromHex('01' + '02c328' + '00')));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toMatch(/not valid UTF-8 \(c328\)/);
  });
});

const pairArb: fc.Arbitrary<KVPair> = fc.oneof(
  fc.record({ key: fc.uint8Array({ maxLength: 24 }), value: fc.uint8Array({ maxLength: 40 }), remove: fc.constant(false) }),
  fc.record({ key: fc.uint8Array({ maxLength: 24 }), remove: fc.constant(true) }),
);
const changesetArb: fc.Arbitrary<Changeset> = fc.record({
  changes: fc.array(fc.record({ storeKey: fc.string({ maxLength: 12, unit: 'grapheme' }), pairs: fc.array(pairArb, { maxLength: 8 }) }), {
    maxLength: 6,
  }),
});

describe('changeset properties', () => {
  it('decode(encode(x)) deep-equals x', () => {
    fc.assert(
      fc.property(changesetArb, (cs) => {
        // toEqual: fast-check records have a null prototype, which toStrictEqual would flag.
        expect(decodeChangeset(encodeChangeset(cs))).toEqual(cs);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes either decode or throw a StoreError, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeChangeset(bytes);
        } catch (e) {
          if (!(e instanceof StoreError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid encodings either decode or throw a StoreError, never another error', () => {
    fc.assert(
      fc.property(
        changesetArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (cs, edits, cut) => {
          const bytes = encodeChangeset(cs);
          for (const [at, b] of edits) bytes[at % bytes.length] = b;
          const input = bytes.subarray(0, bytes.length - (cut % 3 === 0 ? cut % bytes.length : 0));
          try {
            const decoded = decodeChangeset(input);
            // Whatever decodes must re-encode to the same bytes (canonical uvarints aside).
            expect(decodeChangeset(encodeChangeset(decoded))).toStrictEqual(decoded);
          } catch (e) {
            if (!(e instanceof StoreError)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('changeset log key (behaviour 6)', () => {
  const ascii = (key: Uint8Array) => new TextDecoder().decode(key);

  it.each([
    [1, 'm/cs_0000000000000001'],
    [100, 'm/cs_0000000000000064'],
    [0, 'm/cs_0000000000000000'],
    [Number.MAX_SAFE_INTEGER, 'm/cs_001fffffffffffff'],
    [2n ** 64n - 1n, 'm/cs_ffffffffffffffff'],
    [2n ** 53n, 'm/cs_0020000000000000'],
  ])('%s → %s, and back', (version, key) => {
    const bytes = changesetLogKey(version);
    expect(ascii(bytes)).toBe(key);
    expect(parseChangesetLogKey(bytes)).toBe(BigInt(version));
  });

  it('rejects negative, fractional, unsafe and > 2^64−1 versions with ERR_VERSION_RANGE', () => {
    for (const v of [-1, -1n, 1.5, 2 ** 53, 2n ** 64n, Number.NaN, Infinity]) {
      expect(caught(() => changesetLogKey(v)).code).toBe('ERR_VERSION_RANGE');
    }
  });

  it('sorts keys in version order (lexicographic = numeric)', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 2, maxLength: 50 }), (versions) => {
        const byVersion = [...versions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const byKey = versions.map(changesetLogKey).sort(compareBytes).map(parseChangesetLogKey);
        expect(byKey).toEqual(byVersion);
      }),
      { numRuns: 300 },
    );
    const small = [1, 2, 9, 10, 15, 16, 99, 100, 255, 256, 4096].map((v) => changesetLogKey(v));
    for (let i = 1; i < small.length; i++) expect(compareBytes(small[i - 1]!, small[i]!)).toBeLessThan(0);
  });

  it('exposes the m/cs_ prefix as a fresh copy', () => {
    const prefix = changesetLogPrefix();
    expect(ascii(prefix)).toBe('m/cs_');
    prefix[0] = 0;
    expect(ascii(changesetLogPrefix())).toBe('m/cs_');
    expect(toHex(changesetLogKey(1).subarray(0, 5))).toBe(toHex(changesetLogPrefix()));
  });

  it('refuses to parse anything but m/cs_ + 16 lowercase hex digits', () => {
    for (const key of ['m/cs_000000000000001', 'm/cs_00000000000000001', 'm/cs_000000000000000A', 'm/cx_0000000000000001', 'm/cs_000000000000000g']) {
      expect(caught(() => parseChangesetLogKey(utf8(key))).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});
