import { google } from './generated.js';
import { checkInt64Input, decodeWith, int64ToSafeInteger, ownBytes, readerInput } from './wire.js';

/**
 * `google.protobuf.Int64Value`, the encoding rootmulti (store/v1) uses for `s/latest`. Zero
 * encodes as empty bytes, as in Go, and empty bytes decode as 0.
 */

/** Encodes a safe integer as `Int64Value`; anything else fails with `ERR_VERSION_RANGE`. */
export function encodeInt64Value(value: number): Uint8Array {
  const v = checkInt64Input(value, 'Int64Value');
  return ownBytes(google.protobuf.Int64Value.encode({ value: v }).finish());
}

/**
 * Decodes an `Int64Value`; a value outside the safe-integer range fails with
 * `ERR_VERSION_RANGE` (never rounded), malformed input with `ERR_TRUNCATED` /
 * `ERR_INVALID_ARGUMENT`.
 */
export function decodeInt64Value(bytes: Uint8Array): number {
  return decodeWith('Int64Value', () =>
    int64ToSafeInteger(google.protobuf.Int64Value.decode(readerInput(bytes)).value, 'Int64Value'),
  );
}
