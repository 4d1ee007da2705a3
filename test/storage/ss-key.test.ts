import fc from 'fast-check';
import { compareBytes, concatBytes, fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import {
  afterKey,
  dataKey,
  decodeDataKey,
  decodeMetaVersion,
  decodeRestoreCheckpoint,
  decodeValue,
  encodeKeyVersion,
  encodeMetaVersion,
  encodeRestoreCheckpoint,
  encodeValue,
  escapeTerminated,
  keyPrefix,
  storeDataPrefix,
  unescapeTerminated,
} from '../../src/storage/ss-key.js';
import { MAX_VERSION } from '../../src/core/version.js';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Bytes biased towards the troublesome values 0x00, 0x01, 0xfe, 0xff. */
const adversarialBytes = fc.array(fc.oneof(fc.constantFrom(0x00, 0x01, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })), {
  maxLength: 5,
});
const adversarialKey = adversarialBytes.map((a) => Uint8Array.from(a));
const storeKey = fc.oneof(
  fc.constantFrom('bank', 'bank2', 'ban', 'bank\u0000', 'bank\u0000\u0000', '\u0000', 'ÿ', 'a\u00ffb'),
  fc.string({ minLength: 1, maxLength: 4 }),
);
const version = fc.oneof(fc.constantFrom(0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, MAX_VERSION), fc.integer({ min: 0, max: MAX_VERSION }));

/** The order the encoding must reproduce: store (UTF-8 bytes), then key, then version descending. */
function tupleOrder(a: [string, Uint8Array, number], c: [string, Uint8Array, number]): number {
  return sign(compareBytes(utf8(a[0]), utf8(c[0]))) || sign(compareBytes(a[1], c[1])) || sign(c[2] - a[2]);
}

describe('SS key encoding (formats.md §8)', () => {
  it('escapes 0x00 as 00 ff and terminates with 00 00', () => {
    expect(toHex(escapeTerminated(new Uint8Array(0)))).toBe('0000');
    expect(toHex(escapeTerminated(fromHex('00')))).toBe('00ff0000');
    expect(toHex(escapeTerminated(fromHex('6100ff00')))).toBe('6100ffff00ff0000');
    expect(toHex(storeDataPrefix('bank'))).toBe(`64${toHex(utf8('bank'))}0000`);
  });

  it('writes versions big-endian: plain in metadata, inverted in keys (newest first)', () => {
    expect(toHex(encodeMetaVersion(1))).toBe('0000000000000001');
    expect(toHex(encodeMetaVersion(0x0102030405))).toBe('0000000102030405');
    expect(toHex(encodeKeyVersion(0))).toBe('ffffffffffffffff');
    expect(toHex(encodeKeyVersion(1))).toBe('fffffffffffffffe');
    expect(toHex(encodeKeyVersion(2 ** 32))).toBe('fffffffeffffffff');
    expect(decodeMetaVersion(encodeMetaVersion(MAX_VERSION), 'latest')).toBe(MAX_VERSION);
    expect(() => decodeMetaVersion(fromHex('01'), 'latest')).toThrow(/metadata latest has 1 bytes/);
  });

  it('encoded order equals (store, key, version descending) order for adversarial tuples', () => {
    const tuple = fc.tuple(storeKey, adversarialKey, version);
    fc.assert(
      fc.property(tuple, tuple, (a, c) => {
        const ea = dataKey(storeDataPrefix(a[0]), a[1], a[2]);
        const ec = dataKey(storeDataPrefix(c[0]), c[1], c[2]);
        expect(sign(compareBytes(ea, ec))).toBe(tupleOrder(a, c));
      }),
      { numRuns: 3000 },
    );
  });

  it('builds a data key as store prefix, escaped key and inverted version, behind an optional outer prefix', () => {
    expect(toHex(dataKey(storeDataPrefix('b'), fromHex('6100'), 1, utf8('ss/')))).toBe(`${toHex(utf8('ss/'))}64620000${'6100ff0000'}fffffffffffffffe`);
    fc.assert(
      fc.property(storeKey, adversarialKey, version, adversarialKey, (store, key, v, outer) => {
        const plain = dataKey(storeDataPrefix(store), key, v);
        expect(toHex(plain)).toBe(toHex(concatBytes(storeDataPrefix(store), escapeTerminated(key), encodeKeyVersion(v))));
        expect(toHex(dataKey(storeDataPrefix(store), key, v, outer))).toBe(toHex(concatBytes(outer, plain)));
      }),
      { numRuns: 1000 },
    );
  });

  it('sorts an adversarial set of keys exactly like the tuples', () => {
    const stores = ['bank', 'bank2', 'bank\u0000', 'ban'];
    const keys = ['', '00', '0000', '00ff', '0001', '01', 'ff', 'ff00', 'ffff', '61', '6100', '610000', '6100ff', '62'].map(fromHex);
    const tuples: [string, Uint8Array, number][] = [];
    for (const s of stores) for (const k of keys) for (const v of [0, 1, 2, 256, MAX_VERSION]) tuples.push([s, k, v]);
    const encode = (t: [string, Uint8Array, number]): Uint8Array => dataKey(storeDataPrefix(t[0]), t[1], t[2]);
    const byEncoding = [...tuples].sort((a, c) => compareBytes(encode(a), encode(c)));
    const byTuple = [...tuples].sort(tupleOrder);
    expect(byEncoding).toEqual(byTuple);
  });

  it('is prefix-free: no escaped key is a prefix of another, and ranges nest correctly', () => {
    fc.assert(
      fc.property(adversarialKey, adversarialKey, (a, c) => {
        fc.pre(compareBytes(a, c) !== 0);
        const ea = escapeTerminated(a);
        const ec = escapeTerminated(c);
        const isPrefix = ea.length <= ec.length && compareBytes(ec.subarray(0, ea.length), ea) === 0;
        expect(isPrefix).toBe(false);
        // Every version of `c` lies outside [keyPrefix(a), afterKey(keyPrefix(a))).
        const prefix = keyPrefix(storeDataPrefix('s'), a);
        const entry = dataKey(storeDataPrefix('s'), c, 7);
        const inside = compareBytes(entry, prefix) >= 0 && compareBytes(entry, afterKey(prefix)) < 0;
        expect(inside).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('store prefixes do not overlap: bank vs bank2, a separator inside a store key', () => {
    const bank = storeDataPrefix('bank');
    const end = afterKey(bank);
    for (const other of ['bank2', 'bank\u0000', 'bank\u0000\u0000x', 'ban', 'bankz']) {
      const entry = dataKey(storeDataPrefix(other), utf8('k'), 1);
      expect(compareBytes(entry, bank) >= 0 && compareBytes(entry, end) < 0).toBe(false);
    }
  });

  it('round-trips data keys and values', () => {
    fc.assert(
      fc.property(storeKey, adversarialKey, version, (s, k, v) => {
        const decoded = decodeDataKey(dataKey(storeDataPrefix(s), k, v));
        expect(decoded.storeKey).toEqual(utf8(s));
        expect(decoded.key).toEqual(k);
        expect(decoded.version).toBe(v);
      }),
      { numRuns: 1000 },
    );
    expect(decodeValue(encodeValue(utf8('v')), new Uint8Array(0))).toEqual(utf8('v'));
    expect(decodeValue(encodeValue(new Uint8Array(0)), new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(decodeValue(encodeValue(undefined), new Uint8Array(0))).toBeUndefined();
    expect(toHex(encodeValue(undefined))).toBe('00');
    expect(toHex(encodeValue(utf8('v')))).toBe('0176');
  });

  it('rejects corrupt encodings with ERR_IO naming the entry', () => {
    expect(() => unescapeTerminated(fromHex('610001'), 0)).toThrow(/corrupt state storage entry 610001: .*0x00 followed by 0x1/);
    expect(() => unescapeTerminated(fromHex('6100'), 0)).toThrow(/followed by the end/);
    expect(() => unescapeTerminated(fromHex('61'), 0)).toThrow(/no terminator/);
    expect(() => decodeValue(fromHex('02'), fromHex('aa'))).toThrow(/kind 0x2/);
    expect(() => decodeValue(fromHex('0001'), fromHex('aa'))).toThrow(/kind 0x0 and 2 bytes/);
    expect(() => decodeDataKey(concatBytes(storeDataPrefix('s'), escapeTerminated(utf8('k')), fromHex('01')))).toThrow(/expected 8/);
  });
});

describe('restore checkpoint', () => {
  it('round-trips the pair count and the last pair; reads a bare count; refuses a missing key', () => {
    const last = { storeKey: 'bänk', key: Uint8Array.of(0, 0xff, 7) };
    const bytes = encodeRestoreCheckpoint({ keys: 2 ** 40 + 3, last });
    expect(toHex(bytes)).toBe(`0000010000000003${'05'}${toHex(utf8('bänk'))}00ff07`);
    expect(decodeRestoreCheckpoint(bytes)).toEqual({ keys: 2 ** 40 + 3, last });
    expect(decodeRestoreCheckpoint(encodeRestoreCheckpoint({ keys: 9 }))).toEqual({ keys: 9 });
    expect(() => decodeRestoreCheckpoint(bytes.subarray(0, 8 + 1 + 5))).toThrow(/restore checkpoint has no key/);
    expect(() => decodeRestoreCheckpoint(bytes.subarray(0, 8 + 1 + 2))).toThrow(/store key length 5 exceeds the 2 bytes left/);
  });
});
