import { StoreError } from './errors.js';
import { readUvarint, readVarint } from './varint.js';

/**
 * A cursor over an encoded value. Every read names what it was reading, so a truncated or
 * corrupt input yields an error such as "input ends inside key length at offset 12 (node s…)".
 */
export class ByteReader {
  offset = 0;

  constructor(
    readonly bytes: Uint8Array,
    private readonly context: string,
  ) {}

  private fail(code: 'ERR_TRUNCATED' | 'ERR_NODE_CORRUPT', message: string, cause?: unknown): never {
    throw new StoreError(code, `${message} (${this.context})`, {
      cause,
      details: { offset: this.offset, context: this.context },
    });
  }

  /** Unsigned LEB128. */
  uvarint(what: string): number {
    try {
      const r = readUvarint(this.bytes, this.offset, what);
      this.offset = r.offset;
      return r.value;
    } catch (error) {
      const e = error as StoreError;
      return this.fail(e.code === 'ERR_TRUNCATED' ? 'ERR_TRUNCATED' : 'ERR_NODE_CORRUPT', e.message, e);
    }
  }

  /** Zigzag signed LEB128. */
  varint(what: string): number {
    try {
      const r = readVarint(this.bytes, this.offset, what);
      this.offset = r.offset;
      return r.value;
    } catch (error) {
      const e = error as StoreError;
      return this.fail(e.code === 'ERR_TRUNCATED' ? 'ERR_TRUNCATED' : 'ERR_NODE_CORRUPT', e.message, e);
    }
  }

  /** `uvarint(len) ‖ bytes`; the length must fit in what is left. Returns a view, not a copy. */
  bytesField(what: string): Uint8Array {
    const start = this.offset;
    const length = this.uvarint(`${what} length`);
    const left = this.bytes.length - this.offset;
    if (length > left) {
      this.offset = start;
      this.fail('ERR_TRUNCATED', `${what} length ${length} exceeds the ${left} bytes left at offset ${start}`);
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** Exactly `length` raw bytes. */
  raw(length: number, what: string): Uint8Array {
    if (length > this.bytes.length - this.offset) {
      this.fail('ERR_TRUNCATED', `input ends inside ${what} at offset ${this.offset}`);
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** True when every byte was consumed. */
  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  /** Fails with `ERR_TRAILING_BYTES` unless every byte was consumed. */
  expectEnd(): void {
    if (!this.done) {
      throw new StoreError(
        'ERR_TRAILING_BYTES',
        `${this.bytes.length - this.offset} trailing bytes after offset ${this.offset} (${this.context})`,
        { details: { offset: this.offset, context: this.context } },
      );
    }
  }
}
