import { StoreError } from './errors.js';
import { toHex, utf8 } from './bytes.js';

/**
 * Keys of the migration's changeset log (formats.md §7): ASCII `m/cs_` followed by the version
 * as 16 lowercase hex digits, big-endian, exactly as the Go reference writes them. Fixed-width
 * big-endian hex makes lexicographic key order equal version order, so a range scan from
 * `changesetLogKey(h + 1)` replays the log in commit order. Versions are uint64 in Go; we take
 * `bigint` for the full range or a safe-integer `number`, and reject anything else.
 */

const PREFIX = utf8('m/cs_');

/** The ASCII prefix shared by every changeset log key, `m/cs_`, as a fresh copy (for prefix scans). */
export function changesetLogPrefix(): Uint8Array {
  return PREFIX.slice();
}

const MAX_UINT64 = (1n << 64n) - 1n;
const HEX_DIGITS = 16;
const KEY_LENGTH = PREFIX.length + HEX_DIGITS;

function toUint64(version: number | bigint): bigint {
  if (typeof version === 'bigint') {
    if (version >= 0n && version <= MAX_UINT64) return version;
  } else if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 0) {
    return BigInt(version);
  }
  throw new StoreError(
    'ERR_VERSION_RANGE',
    `changeset log version ${String(version)} must be an integer between 0 and 2^64-1` +
      (typeof version === 'number' ? ' (numbers must also be safe integers)' : ''),
    { details: { version: String(version) } },
  );
}

/** The log key of `version`: `m/cs_` ‖ 16 lowercase hex digits (1 → `m/cs_0000000000000001`). */
export function changesetLogKey(version: number | bigint): Uint8Array {
  const hex = toUint64(version).toString(16).padStart(HEX_DIGITS, '0');
  return utf8(`m/cs_${hex}`);
}

/**
 * The version a changeset log key names. Anything but `m/cs_` followed by exactly 16 lowercase
 * hex digits fails with `ERR_INVALID_ARGUMENT`, so a foreign key in the log namespace is
 * noticed instead of being misread.
 */
export function parseChangesetLogKey(key: Uint8Array): bigint {
  const fail = (): never => {
    throw new StoreError('ERR_INVALID_ARGUMENT', `not a changeset log key: ${toHex(key)}`, {
      details: { key: toHex(key) },
    });
  };
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) return fail();
  for (let i = 0; i < PREFIX.length; i++) if (key[i] !== PREFIX[i]) return fail();
  let value = 0n;
  for (let i = PREFIX.length; i < KEY_LENGTH; i++) {
    const c = key[i]!;
    let digit: number;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) digit = c - 0x61 + 10;
    else return fail();
    value = (value << 4n) | BigInt(digit);
  }
  return value;
}
