import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { sha256Short } from '../../src/iavl/sha256.js';
import { sha256 } from '../../src/iavl/node-hash.js';

function openssl(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('SHA-256 in JavaScript (tree hashing of short preimages)', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(toHex(sha256Short(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(sha256Short(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(sha256Short(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('matches OpenSSL at every length around the block and padding edges (0..300 bytes)', () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
      expect([length, toHex(sha256Short(bytes))]).toEqual([length, openssl(bytes)]);
      expect([length, toHex(sha256(bytes))]).toEqual([length, openssl(bytes)]);
    }
  });

  it('matches OpenSSL on random inputs, and a digest is a fresh array each call', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const first = sha256Short(bytes);
        const second = sha256Short(bytes);
        expect(first).not.toBe(second);
        expect(toHex(first)).toBe(openssl(bytes));
        expect(toHex(second)).toBe(openssl(bytes));
      }),
      { numRuns: 500 },
    );
  });
});
