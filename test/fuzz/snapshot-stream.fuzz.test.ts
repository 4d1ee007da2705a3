import fc from 'fast-check';
import { equalBytes } from '../../src/core/bytes.js';
import { StoreError } from '../../src/core/errors.js';
import { DelimitedFrameDecoder, DEFAULT_MAX_FRAME_SIZE } from '../../src/proto/delimited.js';
import {
  decodeSnapshotItem,
  decodeSnapshotItemStream,
  encodeSnapshotItem,
  encodeSnapshotItemFrames,
  SnapshotItemDecoder,
  type SnapshotItem,
} from '../../src/proto/snapshot-item.js';
import {
  asStoreError,
  buildStream,
  check,
  chunked,
  DECODE_CODES,
  decodeChunks,
  encodeFields,
  fcParams,
  forgedSize,
  itemFields,
  mutateStream,
  sourceSnapshot,
  streamCaseArb,
  sameItems,
  Tally,
  typedOutcome,
  uvarint,
  type SourceSnapshot,
} from './support.js';

/**
 * Fuzzing the snapshot frame decoder (behaviour 7 and 49): mutated byte streams built from a real
 * store/v1 snapshot must decode to items or fail with a typed StoreError — never another exception,
 * never a hang, never an allocation driven by a forged length.
 */

const tally = new Tally();
let source: SourceSnapshot;
let encoded: Uint8Array;
let largestFrame = 0;

/** Slowest single case seen (ms): every case is bounded, and this shows by how much. */
let slowest = 0;
const CASE_BOUND_MS = 2000;

beforeAll(async () => {
  source = await sourceSnapshot();
  encoded = encodeSnapshotItemFrames(source.items);
  largestFrame = Math.max(...source.items.map((item) => encodeSnapshotItem(item).length));
});

afterAll(() => {
  if (process.env['FUZZ_REPORT']) console.log(`snapshot-stream fuzz: ${tally} (slowest case ${slowest.toFixed(1)} ms)`);
});

function timed<T>(fn: () => T): T {
  const start = performance.now();
  const out = fn();
  const ms = performance.now() - start;
  slowest = Math.max(slowest, ms);
  if (ms > CASE_BOUND_MS) throw new Error(`case took ${ms.toFixed(0)} ms (bound ${CASE_BOUND_MS} ms)`);
  return out;
}

/** Items are plain data owning their bytes (not views of the stream); plain checks, no matchers. */
function checkItemShape(item: SnapshotItem, stream: Uint8Array): void {
  const bad = (what: string): never => {
    throw new Error(`decoded item ${JSON.stringify(item.kind)}: ${what}`);
  };
  const owned = (b: unknown): void => {
    if (!(b instanceof Uint8Array)) bad('bytes field is not a Uint8Array');
    if ((b as Uint8Array).length > 0 && (b as Uint8Array).buffer === stream.buffer) bad('bytes field aliases the stream');
  };
  switch (item.kind) {
    case 'store':
      if (typeof item.name !== 'string') bad('name');
      break;
    case 'iavl':
      owned(item.key);
      owned(item.value);
      if (!Number.isSafeInteger(item.version) || item.version < 0) bad(`version ${item.version}`);
      if (!Number.isInteger(item.height) || item.height < -(2 ** 31) || item.height >= 2 ** 31) bad(`height ${item.height}`);
      break;
    case 'extension':
      if (typeof item.name !== 'string' || !Number.isInteger(item.format) || item.format < 0) bad('extension fields');
      break;
    case 'extensionPayload':
      owned(item.payload);
      break;
    default:
      bad('unknown kind');
  }
}

describe('snapshot stream decoder fuzz', () => {
  it('the unmutated stream decodes to the snapshot, and our raw protobuf writer agrees with the encoder', () => {
    expect(decodeChunks([encoded]).error).toBeUndefined();
    expect(decodeChunks([encoded]).items).toEqual(source.items);
    for (const item of source.items) expect(equalBytes(encodeFields(itemFields(item)), encodeSnapshotItem(item))).toBe(true);
    expect(equalBytes(mutateStream(source.items, []), encoded)).toBe(true);
  });

  it('mutated streams (frames, fields, values, bytes): typed error or items, chunking-invariant', () => {
    fc.assert(
      fc.property(streamCaseArb, (c) => {
        tally.add('decoder.mutated');
        const bytes = buildStream(source.items, c);
        const whole = timed(() => decodeChunks([bytes]));
        const pieces = timed(() => decodeChunks(chunked(bytes, c.chunks)));
        // Chunk boundaries change nothing: the same items, then the same failure.
        check(sameItems(pieces.items, whole.items), () => 'chunked decoding gave other items');
        check(pieces.error?.code === whole.error?.code, () => `chunked: ${pieces.error?.code}, whole: ${whole.error?.code}`);
        if (whole.error !== undefined) {
          check(DECODE_CODES.has(whole.error.code), () => `unexpected code ${whole.error!.code}: ${whole.error!.message}`);
          tally.add(`outcome.${whole.error.code}`);
        } else {
          tally.add('outcome.decoded');
        }
        for (const item of whole.items) checkItemShape(item, bytes);
        // Whatever decodes re-encodes and decodes to the same items (no lossy acceptance).
        if (whole.error === undefined) {
          const again = decodeChunks([encodeSnapshotItemFrames(whole.items)]);
          check(again.error === undefined && sameItems(again.items, whole.items), () => 're-encoded items differ');
        }
      }),
      fcParams(8400),
    );
  });

  it('single item bodies: random bytes and mutated fields never escape as untyped errors', () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 6 }), fc.nat()).map(([i, ins, at]) => {
        const item = source.items[i % source.items.length]!;
        const b = encodeSnapshotItem(item);
        const pos = at % (b.length + 1);
        const out = new Uint8Array(b.length + ins.length);
        out.set(b.subarray(0, pos));
        out.set(ins, pos);
        out.set(b.subarray(pos), pos + ins.length);
        return out;
      }),
    );
    fc.assert(
      fc.property(body, (b) => {
        tally.add('item.body');
        const r = timed(() => typedOutcome(() => decodeSnapshotItem(b)));
        if (!r.ok) check(DECODE_CODES.has(r.error.code), () => `unexpected code ${r.error.code}`);
        else checkItemShape(r.value, b);
      }),
      fcParams(2000),
    );
  });

  it('a forged length prefix fails with ERR_FRAME_TOO_LARGE at that frame, before any body byte is buffered', () => {
    fc.assert(
      fc.property(fc.nat(), forgedSize, fc.integer({ min: 0, max: 4096 }), (i, size, slack) => {
        tally.add('decoder.forgedPrefix');
        const at = i % source.items.length;
        // The default limit, or a small one that every genuine frame still fits.
        const limit = slack % 2 === 0 ? DEFAULT_MAX_FRAME_SIZE : largestFrame + slack;
        const bytes = mutateStream(source.items, [{ t: 'forgedPrefix', i: at, size }]);
        const r = timed(() => decodeChunks([bytes], limit));
        if (size > BigInt(limit)) {
          check(r.error?.code === 'ERR_FRAME_TOO_LARGE', () => `code ${r.error?.code}`);
          check(r.error!.details['frameIndex'] === at, () => `frameIndex ${String(r.error!.details['frameIndex'])}, expected ${at}`);
          check(sameItems(r.items, source.items.slice(0, at)), () => 'items before the forged frame were lost');
        } else if (r.error !== undefined) {
          check(DECODE_CODES.has(r.error.code), () => `unexpected code ${r.error!.code}`);
        }
      }),
      fcParams(1200),
    );
  });

  it('memory stays flat under forged lengths: no allocation of the announced size, buffering bounded by bytes received', () => {
    const before = process.memoryUsage().arrayBuffers;
    let peakBuffered = 0;
    let received = 0;
    const sizes = [2 ** 40, 2 ** 53, DEFAULT_MAX_FRAME_SIZE + 1, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE - 1, 48e6, 2 ** 31 - 1];
    for (let round = 0; round < 200; round++) {
      for (const size of sizes) {
        tally.add('memory.forgedFrames');
        // Default limit: prefix, then a trickle of body bytes, then end-of-stream.
        const frames = new DelimitedFrameDecoder({ what: 'snapshot stream' });
        const prefix = uvarint(BigInt(size));
        const outcome = typedOutcome(() => {
          frames.push(prefix);
          for (let k = 0; k < 4; k++) {
            frames.push(new Uint8Array(256));
            received += 256;
            peakBuffered = Math.max(peakBuffered, frames.bufferedBytes);
          }
          frames.end();
        });
        expect(outcome.ok).toBe(false);
        if (!outcome.ok) expect(outcome.error.code).toBe(size > DEFAULT_MAX_FRAME_SIZE ? 'ERR_FRAME_TOO_LARGE' : 'ERR_TRUNCATED');
        expect(frames.bufferedBytes).toBeLessThanOrEqual(1024);
      }
      // A limit raised to 2^50: a 2^40 announcement is accepted and must still not be allocated.
      const lax = new SnapshotItemDecoder({ maxFrameSize: 2 ** 50 });
      expect(lax.push(uvarint(2n ** 40n))).toEqual([]);
      expect(lax.push(new Uint8Array(1024))).toEqual([]);
      const end = typedOutcome(() => lax.end());
      expect(!end.ok && end.error.code).toBe('ERR_TRUNCATED');
    }
    const growth = process.memoryUsage().arrayBuffers - before;
    expect(peakBuffered).toBeLessThanOrEqual(1024);
    // Generous: garbage from the trickled chunks may not be collected yet (received bytes in total).
    expect(growth).toBeLessThan(received + 32 * 1024 * 1024);
  });

  it('decodeSnapshotItemStream (async) agrees with the incremental decoder on mutated streams', async () => {
    await fc.assert(
      fc.asyncProperty(streamCaseArb, async (c) => {
        tally.add('decoder.asyncStream');
        const bytes = buildStream(source.items, c);
        const sync = decodeChunks(chunked(bytes, c.chunks));
        const items: SnapshotItem[] = [];
        let error: StoreError | undefined;
        try {
          for await (const item of decodeSnapshotItemStream(chunked(bytes, c.chunks))) items.push(item);
        } catch (e) {
          error = asStoreError(e);
        }
        check(sameItems(items, sync.items), () => 'async stream gave other items');
        check(error?.code === sync.error?.code, () => `async: ${error?.code}, sync: ${sync.error?.code}`);
      }),
      fcParams(400, { timeout: 5000 }),
    );
  });

  it('covers at least 10,000 mutated snapshot byte streams through the frame decoder', () => {
    expect(tally.total('decoder.')).toBeGreaterThanOrEqual(10_000);
  });
});
