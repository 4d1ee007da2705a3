import { putUvarint, putVarint, uvarintLength, varintLength } from './varint.js';
import { StoreError } from './errors.js';

/** A growable output buffer for the Go-compatible binary encodings. */
export class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(initialCapacity = 64) {
    this.buffer = new Uint8Array(initialCapacity);
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  /** Unsigned LEB128. */
  uvarint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new StoreError('ERR_VERSION_RANGE', `uvarint ${value} is not a non-negative safe integer`);
    }
    this.ensure(uvarintLength(value));
    this.length = putUvarint(this.buffer, this.length, value);
    return this;
  }

  /** Zigzag signed LEB128 (Go `PutVarint`). */
  varint(value: number): this {
    if (!Number.isSafeInteger(value)) {
      throw new StoreError('ERR_VERSION_RANGE', `varint ${value} is not a safe integer`);
    }
    this.ensure(varintLength(value));
    this.length = putVarint(this.buffer, this.length, value);
    return this;
  }

  /** `uvarint(len) ‖ bytes`. */
  bytes(bytes: Uint8Array): this {
    this.uvarint(bytes.length);
    return this.raw(bytes);
  }

  /** Raw bytes, no prefix. */
  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** One byte. */
  byte(value: number): this {
    this.ensure(1);
    this.buffer[this.length++] = value;
    return this;
  }

  /** The written bytes (a copy, so the writer may be reused). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}
