import fc from 'fast-check';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { isStoreError, StoreError } from '../../src/core/errors.js';
import { DelimitedFrameDecoder } from '../../src/proto/delimited.js';
import {
  decodeSnapshotItem,
  decodeSnapshotItemStream,
  encodeSnapshotItem,
  encodeSnapshotItemFrame,
  encodeSnapshotItemFrames,
  SnapshotItemDecoder,
  type SnapshotItem,
} from '../../src/proto/snapshot-item.js';
import { caught } from '../support/errors.js';

const bytes = (hex: string) => fromHex(hex);

/** Hex of a uvarint of any 64-bit value (two's complement for negatives, like protobuf int64). */
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

/** An IAVL item holding only a version field: `12 len 18 varint`. */
function iavlVersionItem(version: bigint): Uint8Array {
  const body = '18' + varintHex(version);
  return fromHex('12' + (body.length / 2).toString(16).padStart(2, '0') + body);
}

/** Hand-built SnapshotItem bytes (formats.md §6 field numbers) and the items they carry. */
const HAND_BUILT: [string, SnapshotItem][] = [
  // item.store(1){ name(1) = "bank" }
  ['0a060a0462616e6b', { kind: 'store', name: 'bank' }],
  // item.iavl(2){ key(1)="k", value(2)="v", version(3)=5 }  (height 0 omitted)
  ['12080a016b1201761805', { kind: 'iavl', key: bytes('6b'), value: bytes('76'), version: 5, height: 0 }],
  // item.iavl(2){ key(1)="k", version(3)=300, height(4)=2 }  (inner node: no value)
  ['12080a016b18ac022002', { kind: 'iavl', key: bytes('6b'), value: new Uint8Array(0), version: 300, height: 2 }],
  // item.extension(3){ name(1)="ext", format(2)=1 }
  ['1a070a036578741001', { kind: 'extension', name: 'ext', format: 1 }],
  // item.extension_payload(4){ payload(1)="p" }
  ['22030a0170', { kind: 'extensionPayload', payload: bytes('70') }],
];

describe('snapshot item field numbers (cosmos.store.snapshots.v2)', () => {
  it.each(HAND_BUILT)('%s', (hex, item) => {
    expect(toHex(encodeSnapshotItem(item))).toBe(hex);
    expect(decodeSnapshotItem(fromHex(hex))).toEqual(item);
  });

  it('frames an item as uvarint(length) ‖ message', () => {
    expect(toHex(encodeSnapshotItemFrame({ kind: 'store', name: 'bank' }))).toBe('080a060a0462616e6b');
  });
});

describe('snapshot item decoding', () => {
  it('decodes absent or empty key/value as empty plain Uint8Arrays, never undefined (behaviour 7)', () => {
    const empty: SnapshotItem = { kind: 'iavl', key: new Uint8Array(0), value: new Uint8Array(0), version: 1, height: 0 };
    expect(toHex(encodeSnapshotItem(empty))).toBe('12021801');
    for (const hex of ['12021801', '1200', '12060a0012001801']) {
      const item = decodeSnapshotItem(fromHex(hex));
      if (item.kind !== 'iavl') throw new Error('expected an IAVL item');
      expect(item.key).toBeInstanceOf(Uint8Array);
      expect(item.key.constructor).toBe(Uint8Array);
      expect(item.key.length).toBe(0);
      expect(item.value.constructor).toBe(Uint8Array);
      expect(item.value.length).toBe(0);
    }
    // Absent fields must not share one mutable default between items.
    const a = decodeSnapshotItem(fromHex('1200')) as { key: Uint8Array };
    const b = decodeSnapshotItem(fromHex('1200')) as { key: Uint8Array };
    expect(a.key).not.toBe(b.key);
  });

  it('returns byte fields that do not alias the input', () => {
    const input = fromHex('12080a016b1201761805');
    const item = decodeSnapshotItem(input) as { key: Uint8Array };
    input.fill(0);
    expect(toHex(item.key)).toBe('6b');
  });

  it('accepts Node Buffers and still returns plain Uint8Arrays', () => {
    const item = decodeSnapshotItem(Buffer.from('12080a016b1201761805', 'hex')) as { key: Uint8Array };
    expect(item.key.constructor).toBe(Uint8Array);
  });

  it('reads the largest safe version exactly and rejects larger ones with ERR_VERSION_RANGE', () => {
    expect(varintHex(2n ** 53n - 1n)).toBe('ffffffffffffff0f');
    const max = decodeSnapshotItem(iavlVersionItem(2n ** 53n - 1n));
    expect(max).toEqual({ kind: 'iavl', key: new Uint8Array(0), value: new Uint8Array(0), version: 2 ** 53 - 1, height: 0 });
    const tooBig = caught(() => decodeSnapshotItem(iavlVersionItem(2n ** 53n)));
    expect(isStoreError(tooBig, 'ERR_VERSION_RANGE')).toBe(true);
    expect((tooBig as Error).message).toMatch(/9007199254740992/);
    for (const v of [2n ** 63n - 1n, -1n, -(2n ** 63n)]) {
      expect(isStoreError(caught(() => decodeSnapshotItem(iavlVersionItem(v))), 'ERR_VERSION_RANGE')).toBe(true);
    }
  });

  it('rejects unsafe or non-number versions on encode instead of writing 0', () => {
    const item = (version: unknown) =>
      ({ kind: 'iavl', key: bytes('6b'), value: bytes('76'), version, height: 0 }) as SnapshotItem;
    expect(isStoreError(caught(() => encodeSnapshotItem(item(2 ** 53))), 'ERR_VERSION_RANGE')).toBe(true);
    expect(isStoreError(caught(() => encodeSnapshotItem(item(2n ** 40n))), 'ERR_VERSION_RANGE')).toBe(true);
    expect(isStoreError(caught(() => encodeSnapshotItem(item(-1))), 'ERR_VERSION_RANGE')).toBe(true);
    const badHeight = { kind: 'iavl', key: bytes('6b'), value: bytes('76'), version: 1, height: 2 ** 31 } as const;
    expect(isStoreError(caught(() => encodeSnapshotItem(badHeight)), 'ERR_INVALID_ARGUMENT')).toBe(true);
    const badFormat = { kind: 'extension', name: 'x', format: -1 } as const;
    expect(isStoreError(caught(() => encodeSnapshotItem(badFormat)), 'ERR_INVALID_ARGUMENT')).toBe(true);
  });

  it('turns malformed protobuf into typed errors', () => {
    expect(isStoreError(caught(() => decodeSnapshotItem(fromHex('12080a016b'))), 'ERR_TRUNCATED')).toBe(true);
    expect(isStoreError(caught(() => decodeSnapshotItem(fromHex('0f'))), 'ERR_INVALID_ARGUMENT')).toBe(true);
    // No known item (empty message, or only an unknown field 5).
    expect(isStoreError(caught(() => decodeSnapshotItem(new Uint8Array(0))), 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(isStoreError(caught(() => decodeSnapshotItem(fromHex('2a00'))), 'ERR_INVALID_ARGUMENT')).toBe(true);
  });

  it('ignores unknown fields inside a known item, as Go does', () => {
    expect(decodeSnapshotItem(fromHex('0a080a0462616e6b4801'))).toEqual({ kind: 'store', name: 'bank' });
  });

  it('takes the last oneof member on the wire, as Go does', () => {
    expect(decodeSnapshotItem(fromHex('0a060a0462616e6b' + '22030a0170'))).toEqual({
      kind: 'extensionPayload',
      payload: bytes('70'),
    });
  });

  it('never throws anything but a StoreError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        try {
          decodeSnapshotItem(input);
        } catch (e) {
          if (!(e instanceof StoreError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const itemArb: fc.Arbitrary<SnapshotItem> = fc.oneof(
  fc.record({ kind: fc.constant('store' as const), name: fc.string() }),
  fc.record({
    kind: fc.constant('iavl' as const),
    key: fc.uint8Array({ maxLength: 40 }),
    value: fc.uint8Array({ maxLength: 40 }),
    version: fc.oneof(fc.nat(), fc.maxSafeNat()),
    height: fc.integer({ min: 0, max: 127 }),
  }),
  fc.record({ kind: fc.constant('extension' as const), name: fc.string(), format: fc.nat({ max: 2 ** 32 - 1 }) }),
  fc.record({ kind: fc.constant('extensionPayload' as const), payload: fc.uint8Array({ maxLength: 40 }) }),
);

describe('snapshot item round trip', () => {
  it('decode(encode(item)) deep-equals item for every kind', () => {
    fc.assert(
      fc.property(itemArb, (item) => {
        expect(decodeSnapshotItem(encodeSnapshotItem(item))).toEqual(item);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('snapshot stream framing', () => {
  const items: SnapshotItem[] = [
    { kind: 'store', name: 'acc' },
    { kind: 'iavl', key: utf8('a'), value: utf8('1'), version: 1, height: 0 },
    { kind: 'iavl', key: utf8('b'), value: utf8('2'), version: 2 ** 40, height: 0 },
    { kind: 'iavl', key: utf8('b'), value: new Uint8Array(0), version: 3, height: 1 },
    { kind: 'store', name: 'bank' },
    { kind: 'iavl', key: new Uint8Array(0), value: new Uint8Array(0), version: 7, height: 0 },
    { kind: 'extension', name: 'wasm', format: 1 },
    { kind: 'extensionPayload', payload: new Uint8Array(300).fill(7) }, // two-byte length prefix
  ];
  const stream = encodeSnapshotItemFrames(items);

  function decodeChunks(chunks: Uint8Array[]): SnapshotItem[] {
    const decoder = new SnapshotItemDecoder();
    const out = chunks.flatMap((c) => decoder.push(c));
    decoder.end();
    return out;
  }

  it('decodes the whole stream in one chunk', () => {
    expect(decodeChunks([stream])).toEqual(items);
  });

  it('handles a split at every byte boundary', () => {
    for (let k = 0; k <= stream.length; k++) {
      expect(decodeChunks([stream.subarray(0, k), stream.subarray(k)])).toEqual(items);
    }
  });

  it('handles one-byte chunks and two splits everywhere in the first frames', () => {
    expect(decodeChunks(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(items);
    const head = 40;
    for (let i = 0; i <= head; i++) {
      for (let j = i; j <= head; j++) {
        expect(decodeChunks([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])).toEqual(items);
      }
    }
  });

  it('returns items that do not alias the pushed chunks', () => {
    const copy = stream.slice();
    const decoder = new SnapshotItemDecoder();
    const out = decoder.push(copy);
    copy.fill(0);
    expect(out).toEqual(items);
  });

  it('rejects an oversized length prefix with ERR_FRAME_TOO_LARGE before buffering the body', () => {
    const frames = new DelimitedFrameDecoder({ maxFrameSize: 1000 });
    expect(frames.push(fromHex('e807'))).toEqual([]); // 1000: at the limit, accepted
    expect(frames.bufferedBytes).toBe(0);
    const over = new DelimitedFrameDecoder({ maxFrameSize: 1000 });
    const e = caught(() => over.push(fromHex('e907'))) as StoreError; // 1001
    expect(isStoreError(e, 'ERR_FRAME_TOO_LARGE')).toBe(true);
    expect(e.message).toMatch(/1001 bytes/);
    expect(e.message).toMatch(/limit of 1000 bytes/);
    expect(e.details).toMatchObject({ size: 1001, limit: 1000, frameIndex: 0, offset: 0 });
    expect(over.bufferedBytes).toBe(0);
    // The failure is sticky.
    expect(isStoreError(caught(() => over.push(new Uint8Array(1))), 'ERR_FRAME_TOO_LARGE')).toBe(true);
  });

  it('rejects a forged 2^50-byte frame with the default limit without allocating it', () => {
    // Allocating 2^50 bytes would throw a RangeError; a typed error proves we never tried.
    const decoder = new SnapshotItemDecoder();
    const prefix = fromHex(varintHex(2n ** 50n));
    const e = caught(() => decoder.push(prefix)) as StoreError;
    expect(isStoreError(e, 'ERR_FRAME_TOO_LARGE')).toBe(true);
    expect(e.details).toMatchObject({ size: 2 ** 50, limit: 64e6 });
  });

  it('delivers the items before a bad frame, then throws on the next call', () => {
    const good = encodeSnapshotItemFrames(items.slice(0, 2));
    const decoder = new SnapshotItemDecoder({ maxFrameSize: 100 });
    const out = decoder.push(new Uint8Array([...good, 0xe9, 0x07]));
    expect(out).toEqual(items.slice(0, 2));
    expect(isStoreError(caught(() => decoder.end()), 'ERR_FRAME_TOO_LARGE')).toBe(true);
  });

  it('reports a frame truncated at end-of-stream as ERR_TRUNCATED naming the missing bytes', () => {
    const frame = encodeSnapshotItemFrame(items[2]!);
    const decoder = new SnapshotItemDecoder();
    expect(decoder.push(frame.subarray(0, 5))).toEqual([]);
    const e = caught(() => decoder.end()) as StoreError;
    expect(isStoreError(e, 'ERR_TRUNCATED')).toBe(true);
    const length = frame[0]!;
    expect(e.message).toMatch(new RegExp(`announces ${length} bytes, 4 arrived, ${length - 4} missing`));
    expect(e.details).toMatchObject({ expected: length, received: 4, missing: length - 4 });
  });

  it('reports a stream ending inside a length prefix as ERR_TRUNCATED', () => {
    const decoder = new SnapshotItemDecoder();
    decoder.push(fromHex('ac'));
    expect(isStoreError(caught(() => decoder.end()), 'ERR_TRUNCATED')).toBe(true);
  });

  it('rejects a length prefix longer than ten bytes', () => {
    const decoder = new DelimitedFrameDecoder({ maxFrameSize: Number.MAX_SAFE_INTEGER });
    expect(isStoreError(caught(() => decoder.push(new Uint8Array(11).fill(0x80))), 'ERR_INVALID_ARGUMENT')).toBe(true);
  });

  it('names the item index when a frame holds a malformed item', () => {
    const bad = new Uint8Array([...encodeSnapshotItemFrame(items[0]!), 0x02, 0x0f, 0x00]);
    const decoder = new SnapshotItemDecoder();
    expect(decoder.push(bad)).toEqual([items[0]]);
    const e = caught(() => decoder.push(new Uint8Array(0))) as StoreError;
    expect(isStoreError(e, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect(e.message).toMatch(/snapshot stream item 1/);
  });

  it('passes empty frames to the item decoder (which rejects them)', () => {
    expect(new DelimitedFrameDecoder().push(fromHex('00'))).toEqual([new Uint8Array(0)]);
    expect(isStoreError(caught(() => new SnapshotItemDecoder().push(fromHex('00'))), 'ERR_INVALID_ARGUMENT')).toBe(true);
  });

  it('decodes an async chunk stream and surfaces a truncation after every complete item', async () => {
    async function* chunks(data: Uint8Array, size: number) {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    }
    const all: SnapshotItem[] = [];
    for await (const item of decodeSnapshotItemStream(chunks(stream, 7))) all.push(item);
    expect(all).toEqual(items);

    const partial: SnapshotItem[] = [];
    const truncated = stream.subarray(0, stream.length - 1);
    await expect(
      (async () => {
        for await (const item of decodeSnapshotItemStream(chunks(truncated, 5))) partial.push(item);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_TRUNCATED' });
    expect(partial).toEqual(items.slice(0, -1));
  });

  it('property: any chunking of any item stream decodes to the items', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), (list, cuts) => {
        const data = encodeSnapshotItemFrames(list);
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let last = 0;
        for (const p of points) {
          chunks.push(data.subarray(last, p));
          last = p;
        }
        chunks.push(data.subarray(last));
        expect(decodeChunks(chunks)).toEqual(list);
      }),
      { numRuns: 300 },
    );
  });
});
