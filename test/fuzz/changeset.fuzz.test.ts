import fc from 'fast-check';
import { equalBytes } from '../../src/core/bytes.js';
import { decodeChangeset, encodeChangeset, type Changeset, type KVPair } from '../../src/core/changeset.js';
import { applyByteMutation, byteMutationArb, check, fcParams, Tally, typedOutcome, uvarint, type ByteMutation } from './support.js';

/**
 * Fuzzing the changeset codec (formats.md §7, behaviours 5 and 49): mutated encodings of random
 * changesets must decode to a changeset or fail with a typed StoreError of a decoding code — never
 * another exception, never an allocation or a loop driven by a forged count.
 */

const tally = new Tally();

afterAll(() => {
  if (process.env['FUZZ_REPORT']) console.log(`changeset fuzz: ${tally}`);
});

const CODES = new Set(['ERR_TRUNCATED', 'ERR_INVALID_FLAG', 'ERR_TRAILING_BYTES', 'ERR_INVALID_ARGUMENT', 'ERR_VARINT_OVERFLOW']);

const pairArb: fc.Arbitrary<KVPair> = fc.oneof(
  fc.record({ key: fc.uint8Array({ maxLength: 8 }), value: fc.uint8Array({ maxLength: 12 }), remove: fc.constant(false) }),
  fc.record({ key: fc.uint8Array({ maxLength: 8 }), remove: fc.constant(true) }),
);

const changesetArb: fc.Arbitrary<Changeset> = fc.record({
  changes: fc.array(
    fc.record({
      storeKey: fc.oneof(fc.constantFrom('bank', 'acc', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''), fc.string({ unit: 'grapheme', maxLength: 6 })),
      pairs: fc.array(pairArb, { maxLength: 5 }),
    }),
    { maxLength: 4 },
  ),
});

/** Mutations specific to the format: a flag other than 0/1, a forged count or length. */
const formatMutationArb = fc.oneof(
  fc.record({ t: fc.constant('setByte' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 3, 0x7f, 0x80, 0xff) }),
  fc.record({ t: fc.constant('forgeVarint' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(2n ** 32n, 2n ** 40n, 2n ** 53n, 2n ** 54n, 2n ** 54n + 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 70n), fc.bigInt({ min: 0n, max: 1000n })) }),
);

function mutate(bytes: Uint8Array, byteMs: readonly ByteMutation[], formatMs: readonly { t: string; at: number; value: number | bigint }[]): Uint8Array {
  let out = bytes;
  for (const m of byteMs) out = applyByteMutation(out, m);
  for (const m of formatMs) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.t === 'setByte') {
      out = out.slice();
      out[at] = Number(m.value);
    } else {
      // Replace the varint starting at `at` (up to its last byte) by a forged one.
      let end = at;
      while (end < out.length - 1 && out[end]! >= 0x80) end++;
      const forged = uvarint(m.value as bigint);
      const next = new Uint8Array(out.length - (end + 1 - at) + forged.length);
      next.set(out.subarray(0, at));
      next.set(forged, at);
      next.set(out.subarray(end + 1), at + forged.length);
      out = next;
    }
  }
  return out;
}

describe('changeset codec fuzz', () => {
  it('mutated changeset encodings decode or fail typed; what decodes re-encodes to itself', () => {
    fc.assert(
      fc.property(
        changesetArb,
        fc.array(byteMutationArb, { maxLength: 3 }),
        fc.array(formatMutationArb, { maxLength: 2 }),
        (changeset, byteMs, formatMs) => {
          tally.add('changeset.cases');
          const original = encodeChangeset(changeset);
          const bytes = mutate(original, byteMs, formatMs);
          const start = performance.now();
          const r = typedOutcome(() => decodeChangeset(bytes));
          const ms = performance.now() - start;
          check(ms < 1000, () => `decode took ${ms} ms`);
          if (!r.ok) {
            tally.add(`outcome.${r.error.code}`);
            check(CODES.has(r.error.code), () => `unexpected code ${r.error.code}: ${r.error.message}`);
            check(typeof r.error.details['offset'] === 'number', () => `${r.error.code} does not name the offset`);
            if (r.error.code === 'ERR_INVALID_FLAG') {
              const flag = r.error.details['flag'];
              check(typeof flag === 'number' && flag !== 0 && flag !== 1 && r.error.message.includes(String(flag)), () => 'the flag error does not name the flag');
            }
            return;
          }
          tally.add('outcome.decoded');
          const decoded = r.value;
          for (const group of decoded.changes) {
            check(typeof group.storeKey === 'string', () => 'store key is not a string');
            for (const pair of group.pairs) {
              check(pair.key instanceof Uint8Array && (pair.key.length === 0 || pair.key.buffer !== bytes.buffer), () => 'key is not an own copy');
              if (pair.remove) check(pair.value === undefined, () => 'a delete carries a value');
              else check(pair.value instanceof Uint8Array && (pair.value.length === 0 || pair.value.buffer !== bytes.buffer), () => 'value is not an own copy');
            }
          }
          // Lossless: re-encoding gives the input back, unless the input used a non-minimal varint.
          const again = encodeChangeset(decoded);
          check(again.length <= bytes.length, () => 're-encoding grew the changeset');
          if (again.length === bytes.length) check(equalBytes(again, bytes), () => 'same length but different bytes after a round trip');
          check(JSON.stringify(decodeChangeset(again)) === JSON.stringify(decoded), () => 'decode(encode(decode(x))) differs');
          if (equalBytes(bytes, original)) {
            check(decoded.changes.length === changeset.changes.length, () => 'unmutated bytes decoded differently');
          }
        },
      ),
      fcParams(10_500),
    );
  });

  it('random bytes never escape as untyped errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        tally.add('changeset.random');
        const r = typedOutcome(() => decodeChangeset(bytes));
        if (!r.ok) check(CODES.has(r.error.code), () => `unexpected code ${r.error.code}`);
      }),
      fcParams(1500),
    );
  });

  it('forged group/pair counts and lengths fail before allocating or looping', () => {
    const before = process.memoryUsage().arrayBuffers;
    for (const count of [2n ** 20n, 2n ** 32n, 2n ** 40n, 2n ** 53n, 2n ** 54n]) {
      // Group count, then one real group whose pair count and key length are forged.
      for (const bytes of [
        uvarint(count),
        new Uint8Array([1, 1, 0x61, ...uvarint(count)]),
        new Uint8Array([1, 1, 0x61, 1, ...uvarint(count), 0x6b]),
        new Uint8Array([1, 1, 0x61, 1, 1, 0x6b, 0, ...uvarint(count), 0x76]),
      ]) {
        const start = performance.now();
        const r = typedOutcome(() => decodeChangeset(bytes));
        expect(performance.now() - start).toBeLessThan(100);
        expect(!r.ok && ['ERR_TRUNCATED', 'ERR_VARINT_OVERFLOW']).toContain(r.ok ? 'ok' : r.error.code);
      }
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('covers at least 10,000 mutated changeset byte arrays', () => {
    expect(tally.get('changeset.cases')).toBeGreaterThanOrEqual(10_000);
  });
});
