import { StoreError } from './errors.js';

/**
 * Go's `encoding/binary` variable-length integers. `uvarint` is plain unsigned LEB128; `varint`
 * is zigzag-signed LEB128 (`PutVarint`). JS numbers are used, limited to safe integers: every
 * version, height, size and nonce we handle fits, and anything larger is rejected, never
 * truncated.
 */

const TWO_POW_7 = 128;

function assertSafe(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new StoreError('ERR_VERSION_RANGE', `${what} ${value} is not a safe integer`, {
      details: { value },
    });
  }
}

/** Number of bytes of `uvarint(value)`. */
export function uvarintLength(value: number): number {
  let n = 1;
  while (value >= TWO_POW_7) {
    value = Math.floor(value / TWO_POW_7);
    n++;
  }
  return n;
}

/** Writes unsigned LEB128 of a non-negative safe integer into `out` at `offset`; returns the new offset. */
export function putUvarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= TWO_POW_7) {
    out[offset++] = (value % TWO_POW_7) | 0x80;
    value = Math.floor(value / TWO_POW_7);
  }
  out[offset++] = value;
  return offset;
}

/**
 * Writes the zigzag varint of a safe integer (Go `binary.PutVarint`) into `out` at `offset`;
 * returns the new offset. The unsigned form, 2v or 2|v| − 1, can exceed 2^53, where a number
 * rounds odd integers, so it is never formed: its first byte holds the low six bits of the
 * magnitude and the sign, and the rest is the magnitude shifted right by six bits.
 */
export function putVarint(out: Uint8Array, offset: number, value: number): number {
  const m = value >= 0 ? value : -value - 1;
  const first = (m % 64) * 2 + (value >= 0 ? 0 : 1);
  const rest = Math.floor(m / 64);
  if (rest === 0) {
    out[offset] = first;
    return offset + 1;
  }
  out[offset] = first | 0x80;
  return putUvarint(out, offset + 1, rest);
}

/** Number of bytes of the zigzag varint of a safe integer. */
export function varintLength(value: number): number {
  const rest = Math.floor((value >= 0 ? value : -value - 1) / 64);
  return rest === 0 ? 1 : 1 + uvarintLength(rest);
}

/** `uvarint` bytes of a non-negative safe integer. */
export function encodeUvarint(value: number): Uint8Array {
  assertSafe(value, 'uvarint');
  if (value < 0) throw new StoreError('ERR_INVALID_ARGUMENT', `uvarint of negative ${value}`);
  const out = new Uint8Array(uvarintLength(value));
  putUvarint(out, 0, value);
  return out;
}

/** Zigzag `varint` bytes of a safe integer (Go `binary.PutVarint`). */
export function encodeVarint(value: number): Uint8Array {
  assertSafe(value, 'varint');
  const out = new Uint8Array(varintLength(value));
  putVarint(out, 0, value);
  return out;
}

/** Result of decoding a variable-length integer: the value and the offset just past it. */
export interface Decoded {
  readonly value: number;
  readonly offset: number;
}

/**
 * Reads a uvarint at `offset`. Fails with `ERR_TRUNCATED` when the input ends inside it and
 * `ERR_VARINT_OVERFLOW` when it is longer than 10 bytes or not a safe integer (above 2^53 − 1 a
 * number can no longer hold every integer, so the value would be rounded).
 */
export function readUvarint(bytes: Uint8Array, offset: number, what = 'uvarint'): Decoded {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = byteAt(bytes, offset, i, what);
    // Exact while the sum stays a safe integer: every partial sum is at most the final value.
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) {
        throw new StoreError('ERR_VARINT_OVERFLOW', `${what} at offset ${offset} exceeds 2^53 − 1`, {
          details: { offset, what },
        });
      }
      return { value: result, offset: offset + i + 1 };
    }
    scale *= TWO_POW_7;
  }
  throw tooLong(offset, what);
}

/**
 * Reads a zigzag varint at `offset`; the value must be a safe integer. The zigzag form of a safe
 * integer may itself exceed 2^53, so the magnitude is summed directly (the form shifted right by
 * one bit, the sign from its lowest bit), which is exact for every safe value.
 */
export function readVarint(bytes: Uint8Array, offset: number, what = 'varint'): Decoded {
  let negative = false;
  let half = 0;
  let scale = 64;
  for (let i = 0; i < 10; i++) {
    const b = byteAt(bytes, offset, i, what);
    if (i === 0) {
      negative = (b & 1) === 1;
      half = (b & 0x7f) >>> 1;
    } else {
      half += (b & 0x7f) * scale;
      scale *= TWO_POW_7;
    }
    if (b < 0x80) {
      const value = negative ? -(half + 1) : half;
      if (!Number.isSafeInteger(value)) {
        throw new StoreError('ERR_VARINT_OVERFLOW', `${what} at offset ${offset} is not a safe integer`, {
          details: { offset, what },
        });
      }
      return { value, offset: offset + i + 1 };
    }
  }
  throw tooLong(offset, what);
}

function byteAt(bytes: Uint8Array, offset: number, i: number, what: string): number {
  const at = offset + i;
  if (at >= bytes.length) {
    throw new StoreError('ERR_TRUNCATED', `input ends inside ${what} at offset ${offset}`, {
      details: { offset, what },
    });
  }
  return bytes[at]!;
}

function tooLong(offset: number, what: string): StoreError {
  return new StoreError('ERR_VARINT_OVERFLOW', `${what} at offset ${offset} is longer than 10 bytes`, {
    details: { offset, what },
  });
}
