import { ByteWriter } from '../core/byte-writer.js';
import { asBytes } from '../core/bytes.js';
import { StoreError } from '../core/errors.js';

/**
 * Length-delimited framing (`uvarint(length) ‖ message`), the way Go's `protoio` delimited
 * writer/reader put snapshot items on a byte stream. The decoder is incremental because the
 * stream arrives in arbitrary chunks, and bounded because a forged length prefix must never
 * make us allocate (or wait for) gigabytes.
 */

/**
 * Default maximum frame size: Go's snapshot reader limit (`snapshotMaxItemSize = int(64e6)`),
 * so anything Go can restore, we can too.
 */
export const DEFAULT_MAX_FRAME_SIZE = 64e6;

/** A uvarint is at most 10 bytes for a 64-bit length. */
const MAX_PREFIX_BYTES = 10;

/** Frames each message as `uvarint(length) ‖ message` and concatenates the frames. */
export function encodeDelimitedFrames(messages: Iterable<Uint8Array>): Uint8Array {
  const writer = new ByteWriter(256);
  for (const message of messages) writer.bytes(message);
  return writer.finish();
}

/** Options of {@link DelimitedFrameDecoder}. */
export interface DelimitedFrameDecoderOptions {
  /**
   * Largest accepted frame body in bytes (default {@link DEFAULT_MAX_FRAME_SIZE}). A prefix
   * announcing more fails with `ERR_FRAME_TOO_LARGE` before any byte of the body is buffered.
   */
  readonly maxFrameSize?: number;
  /** Names the stream in error messages, e.g. "snapshot stream". */
  readonly what?: string;
}

/**
 * Incremental decoder of length-delimited frames. Feed chunks with {@link push}; each call
 * returns the frames completed by that chunk, in order. Call {@link end} at end-of-stream: it
 * fails with `ERR_TRUNCATED` if a frame is incomplete.
 *
 * Errors are sticky and never lose data: frames completed before a failure in the same chunk
 * are returned, and the failure is thrown by the next `push`/`end` (immediately when no frame
 * preceded it). A frame that lies within one chunk is returned as a view of that chunk (no
 * copy); a frame spanning chunks is joined once, when its last byte arrives, so memory grows
 * with the bytes actually received and never with a forged length. Chunks must therefore not
 * be modified after being pushed.
 */
export class DelimitedFrameDecoder {
  /** The frame size limit in force. */
  readonly maxFrameSize: number;
  private readonly what: string;

  // Length prefix being read (spans chunks).
  private prefixValue = 0;
  private prefixScale = 1;
  private prefixBytes = 0;
  // Body being read: -1 while reading the prefix.
  private frameLength = -1;
  private parts: Uint8Array[] = [];
  private partsLength = 0;
  // Position, for error messages.
  private streamOffset = 0;
  private frameOffset = 0;
  private frameCount = 0;
  private failure: StoreError | undefined;
  private ended = false;

  constructor(options: DelimitedFrameDecoderOptions = {}) {
    const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `maxFrameSize ${String(max)} must be a non-negative safe integer`);
    }
    this.maxFrameSize = max;
    this.what = options.what ?? 'delimited stream';
  }

  /** Number of frames completed so far. */
  get framesDecoded(): number {
    return this.frameCount;
  }

  /** Bytes held for an incomplete frame (at most `maxFrameSize`). */
  get bufferedBytes(): number {
    return this.partsLength;
  }

  /** Total bytes consumed from the stream so far. */
  get offset(): number {
    return this.streamOffset;
  }

  /** Consumes `chunk` and returns the frames it completes (possibly none). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.assertUsable();
    if (!(chunk instanceof Uint8Array)) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `stream chunk must be a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
    }
    const bytes = asBytes(chunk);
    const frames: Uint8Array[] = [];
    let pos = 0;
    try {
      while (pos < bytes.length) {
        if (this.frameLength < 0) {
          pos = this.readPrefix(bytes, pos);
          if (this.frameLength === 0) frames.push(this.completeFrame(new Uint8Array(0)));
          continue;
        }
        const need = this.frameLength - this.partsLength;
        const take = Math.min(need, bytes.length - pos);
        const piece = bytes.subarray(pos, pos + take);
        pos += take;
        this.streamOffset += take;
        if (take === need && this.partsLength === 0) {
          frames.push(this.completeFrame(piece));
        } else {
          this.parts.push(piece);
          this.partsLength += take;
          if (this.partsLength === this.frameLength) frames.push(this.completeFrame(joinParts(this.parts, this.partsLength)));
        }
      }
    } catch (error) {
      this.failure = error as StoreError;
      if (frames.length === 0) throw error;
    }
    return frames;
  }

  /** Declares end-of-stream; fails with `ERR_TRUNCATED` if a frame is incomplete. */
  end(): void {
    this.assertUsable();
    this.ended = true;
    if (this.frameLength >= 0) {
      const missing = this.frameLength - this.partsLength;
      this.failure = new StoreError(
        'ERR_TRUNCATED',
        `${this.what} ended inside frame ${this.frameCount} (at offset ${this.frameOffset}): ` +
          `its length prefix announces ${this.frameLength} bytes, ${this.partsLength} arrived, ${missing} missing`,
        {
          details: {
            frameIndex: this.frameCount,
            offset: this.frameOffset,
            expected: this.frameLength,
            received: this.partsLength,
            missing,
          },
        },
      );
      throw this.failure;
    }
    if (this.prefixBytes > 0) {
      this.failure = new StoreError(
        'ERR_TRUNCATED',
        `${this.what} ended inside the length prefix of frame ${this.frameCount} (at offset ${this.frameOffset})`,
        { details: { frameIndex: this.frameCount, offset: this.frameOffset } },
      );
      throw this.failure;
    }
  }

  private assertUsable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.ended) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `${this.what} decoder used after end()`);
    }
  }

  /** Reads prefix bytes from `pos`; sets `frameLength` once the prefix is complete. */
  private readPrefix(bytes: Uint8Array, pos: number): number {
    if (this.prefixBytes === 0) this.frameOffset = this.streamOffset;
    while (pos < bytes.length) {
      const b = bytes[pos++]!;
      this.streamOffset++;
      this.prefixBytes++;
      this.prefixValue += (b & 0x7f) * this.prefixScale;
      this.prefixScale *= 128;
      if (b < 0x80) {
        const length = this.prefixValue;
        this.prefixValue = 0;
        this.prefixScale = 1;
        this.prefixBytes = 0;
        if (length > this.maxFrameSize) {
          const size = Number.isSafeInteger(length) ? String(length) : `about ${length.toExponential(3)}`;
          throw new StoreError(
            'ERR_FRAME_TOO_LARGE',
            `${this.what}: frame ${this.frameCount} (at offset ${this.frameOffset}) announces ${size} bytes, ` +
              `over the limit of ${this.maxFrameSize} bytes`,
            {
              details: {
                size: length,
                limit: this.maxFrameSize,
                frameIndex: this.frameCount,
                offset: this.frameOffset,
              },
            },
          );
        }
        this.frameLength = length;
        return pos;
      }
      if (this.prefixBytes >= MAX_PREFIX_BYTES) {
        throw new StoreError(
          'ERR_INVALID_ARGUMENT',
          `${this.what}: length prefix of frame ${this.frameCount} (at offset ${this.frameOffset}) is longer than ${MAX_PREFIX_BYTES} bytes`,
          { details: { frameIndex: this.frameCount, offset: this.frameOffset } },
        );
      }
    }
    return pos;
  }

  private completeFrame(frame: Uint8Array): Uint8Array {
    this.frameLength = -1;
    this.parts = [];
    this.partsLength = 0;
    this.frameCount++;
    return frame;
  }
}

/** Joins the pieces of a frame without spreading them as arguments (a frame may have millions). */
function joinParts(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
