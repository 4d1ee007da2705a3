import { encodeUvarint, encodeVarint, readUvarint, readVarint } from '../../src/core/varint.js';
import { ByteReader } from '../../src/core/byte-reader.js';
import { ByteWriter } from '../../src/core/byte-writer.js';
import { fromHex, toHex, compareBytes, prefixEnd } from '../../src/core/bytes.js';
import { isStoreError } from '../../src/core/errors.js';

describe('varint (Go binary.PutVarint, zigzag)', () => {
  it.each([
    [0, '00'],
    [1, '02'],
    [2, '04'],
    [63, '7e'],
    [64, '8001'],
    [-1, '01'],
    [-64, '7f'],
    [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
  ])('encodes %d as %s and decodes it back', (value, hex) => {
    expect(toHex(encodeVarint(value))).toBe(hex);
    expect(readVarint(fromHex(hex), 0)).toEqual({ value, offset: hex.length / 2 });
  });

  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [2 ** 32, '8080808010'],
  ])('uvarint %d is %s', (value, hex) => {
    expect(toHex(encodeUvarint(value))).toBe(hex);
    expect(readUvarint(fromHex(hex), 0).value).toBe(value);
  });

  it('rejects unsafe integers instead of truncating', () => {
    expect(() => encodeVarint(2 ** 53)).toThrow(/not a safe integer/);
    expect(() => encodeUvarint(-1)).toThrow(/negative/);
  });

  it('reports truncation and overflow with typed errors', () => {
    let caught: unknown;
    try {
      readUvarint(fromHex('80'), 0, 'key length');
    } catch (e) {
      caught = e;
    }
    expect(isStoreError(caught, 'ERR_TRUNCATED')).toBe(true);
    expect((caught as Error).message).toMatch(/key length/);
    expect(() => readUvarint(fromHex('ffffffffffffffffffff01'), 0)).toThrow(/longer than 10 bytes/);
    expect(() => readVarint(fromHex('ffffffffffffffff7f'), 0)).toThrow(/is not a safe integer/);
  });

  /** Go's `PutUvarint` of a bigint, to build forms a number cannot hold. */
  const uvarintOf = (value: bigint): Uint8Array => {
    const out: number[] = [];
    for (; value >= 0x80n; value >>= 7n) out.push(Number(value & 0x7fn) | 0x80);
    out.push(Number(value));
    return Uint8Array.from(out);
  };

  it('rejects a uvarint above 2^53 − 1 instead of rounding it', () => {
    for (const value of [2n ** 53n, 2n ** 53n + 3n, 2n ** 54n - 1n, 2n ** 63n]) {
      let caught: unknown;
      try {
        readUvarint(uvarintOf(value), 0, 'nonce');
      } catch (e) {
        caught = e;
      }
      expect(isStoreError(caught, 'ERR_VARINT_OVERFLOW')).toBe(true);
      expect((caught as Error).message).toMatch(/nonce at offset 0 exceeds 2\^53 − 1/);
    }
    expect(readUvarint(uvarintOf(2n ** 53n - 1n), 0).value).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads and writes every safe varint exactly, also where the zigzag form exceeds 2^53', () => {
    const zigzag = (v: bigint): bigint => (v >= 0n ? 2n * v : -2n * v - 1n);
    const edge = [2 ** 52, 2 ** 52 + 1, 2 ** 53 - 2, Number.MAX_SAFE_INTEGER];
    for (const value of [0, 1, -1, 63, 64, -64, -65, ...edge, ...edge.map((v) => -v)]) {
      const bytes = uvarintOf(zigzag(BigInt(value)));
      expect({ value, hex: toHex(encodeVarint(value)) }).toEqual({ value, hex: toHex(bytes) });
      expect(readVarint(bytes, 0)).toEqual({ value, offset: bytes.length });
      expect(new ByteReader(bytes, 'edge').varint('v')).toBe(value);
    }
    // The zigzag forms of ±(2^53) are not safe values.
    expect(() => readVarint(uvarintOf(2n ** 54n), 0)).toThrow(/not a safe integer/);
    expect(() => readVarint(uvarintOf(2n ** 54n - 1n), 0)).toThrow(/not a safe integer/);
  });
});

describe('ByteWriter / ByteReader', () => {
  it('round-trips mixed fields and checks the end', () => {
    const bytes = new ByteWriter(2).varint(3).uvarint(300).bytes(fromHex('abcd')).raw(fromHex('01')).finish();
    const r = new ByteReader(bytes, 'test value');
    expect(r.varint('h')).toBe(3);
    expect(r.uvarint('n')).toBe(300);
    expect(toHex(r.bytesField('key'))).toBe('abcd');
    expect(() => r.expectEnd()).toThrow(/1 trailing bytes/);
    expect(toHex(r.raw(1, 'tail'))).toBe('01');
    r.expectEnd();
  });

  it('names the field whose length prefix runs past the end', () => {
    const r = new ByteReader(fromHex('05aabb'), 'node s…');
    expect(() => r.bytesField('value')).toThrow(/value length 5 exceeds the 2 bytes left.*node s…/);
  });
});

describe('bytes helpers', () => {
  it('compares like Go bytes.Compare', () => {
    expect(compareBytes(fromHex('01'), fromHex('0100'))).toBeLessThan(0);
    expect(compareBytes(fromHex('02'), fromHex('0100'))).toBeGreaterThan(0);
    expect(compareBytes(fromHex(''), fromHex(''))).toBe(0);
  });
  it('computes prefix ends', () => {
    expect(toHex(prefixEnd(fromHex('61ff'))!)).toBe('62');
    expect(prefixEnd(fromHex('ffff'))).toBeUndefined();
  });
  it('rejects bad hex', () => {
    expect(() => fromHex('abc')).toThrow(/odd length/);
    expect(() => fromHex('zz')).toThrow(/invalid hex/);
  });
});
