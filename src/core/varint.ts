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

/** Writes unsigned LEB128 of a non-negative number ≤ 2^54 into `out` at `offset`; returns the new offset. */
export function putUvarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= TWO_POW_7) {
    out[offset++] = (value % TWO_POW_7) | 0x80;
    value = Math.floor(value / TWO_POW_7);
  }
  out[offset++] = value;
  return offset;
}

/** Zigzag mapping of a signed safe integer to its unsigned form (exact up to 2^54). */
export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
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
  const u = zigzag(value);
  const out = new Uint8Array(uvarintLength(u));
  putUvarint(out, 0, u);
  return out;
}

/** Result of decoding a variable-length integer: the value and the offset just past it. */
export interface Decoded {
  readonly value: number;
  readonly offset: number;
}

/**
 * Reads a uvarint at `offset`. Fails with `ERR_TRUNCATED` when the input ends inside it and
 * `ERR_VARINT_OVERFLOW` when it is longer than 10 bytes or exceeds 2^54 (zigzag of the safe range).
 */
export function readUvarint(bytes: Uint8Array, offset: number, what = 'uvarint'): Decoded {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const at = offset + i;
    if (at >= bytes.length) {
      throw new StoreError('ERR_TRUNCATED', `input ends inside ${what} at offset ${offset}`, {
        details: { offset, what },
      });
    }
    const b = bytes[at]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (result > 2 ** 54) {
        throw new StoreError('ERR_VARINT_OVERFLOW', `${what} at offset ${offset} exceeds 2^54`, {
          details: { offset, what },
        });
      }
      return { value: result, offset: at + 1 };
    }
    scale *= TWO_POW_7;
  }
  throw new StoreError('ERR_VARINT_OVERFLOW', `${what} at offset ${offset} is longer than 10 bytes`, {
    details: { offset, what },
  });
}

/** Reads a zigzag varint at `offset`; the value must be a safe integer. */
export function readVarint(bytes: Uint8Array, offset: number, what = 'varint'): Decoded {
  const u = readUvarint(bytes, offset, what);
  const value = u.value % 2 === 0 ? u.value / 2 : -(u.value + 1) / 2;
  if (!Number.isSafeInteger(value)) {
    throw new StoreError('ERR_VARINT_OVERFLOW', `${what} at offset ${offset} is not a safe integer`, {
      details: { offset, what },
    });
  }
  return { value, offset: u.offset };
}
