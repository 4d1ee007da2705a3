import { asBytes, concatBytes, fromUtf8, prefixEnd, toHex, utf8 } from '../core/bytes.js';
import { ByteReader } from '../core/byte-reader.js';
import { encodeUvarint } from '../core/varint.js';
import { StoreError } from '../core/errors.js';

/**
 * The on-disk layout of the State Storage (formats.md §8), relative to the store's namespace
 * prefix:
 *
 * ```
 * m/latest                                   → u64 big-endian   latest version
 * m/earliest                                 → u64 big-endian   earliest readable version
 * m/restoring                                → u64 big-endian   version of an unfinished restore
 * m/restore-checkpoint                       → u64 big-endian   pairs that restore has made durable
 * m/pruning                                  → u64 big-endian   version of an unfinished prune
 * m/clearing                                 → 0x01             present while a clear is unfinished
 * 'd' ‖ esc(storeKey) ‖ esc(key) ‖ ~u64be(v)  → kind ‖ value
 * ```
 *
 * `esc(x)` writes every byte of `x` except 0x00 as itself, writes 0x00 as `00 ff`, and ends with
 * the terminator `00 00`; the store key is escaped as its UTF-8 bytes. `~u64be(v)` is the version
 * as 8 bytes big-endian with every bit inverted (2^64 − 1 − v), so the entries of one key sort
 * newest first and a forward seek to `esc(store) ‖ esc(key) ‖ ~u64be(v)` lands on the newest
 * version ≤ v. `kind` is {@link KIND_VALUE} or {@link KIND_TOMBSTONE}.
 *
 * Every integer of the layout, metadata and key versions alike, is big-endian (the Go pebble SS
 * used little-endian metadata and big-endian key versions, which invites mix-ups).
 *
 * Why the order of encoded keys is the order of (storeKey, key, version descending), including
 * for keys that contain 0x00 or are prefixes of one another. Let a ≠ b and i the first index where
 * they differ or one of them ends; bytes before i encode identically.
 * - a[i] < b[i], both present: if a[i] ≠ 0 the encodings differ in the byte a[i] < b[i]; if
 *   a[i] = 0 then esc(a) has 0x00 there while esc(b) has b[i] > 0 (b[i] = 0 is impossible).
 * - a is a proper prefix of b: esc(a) continues with the terminator `00 00`, esc(b) with either
 *   b[i] > 0 or `00 ff`; both are greater than `00 00`.
 * In both cases esc(a) < esc(b) and the two differ at a byte *inside* both encodings, so esc(a) is
 * never a prefix of esc(b). Hence for any suffixes X and Y, esc(a) ‖ X < esc(b) ‖ Y: what follows an
 * escaped field can never change the comparison, and the concatenation sorts field by field
 * (store key first, then key, then the fixed-width inverted version). The same argument makes
 * `esc(store)` a collision-free store prefix: 'bank' and 'bank2' (or a store key that contains
 * any separator byte) own disjoint, non-nested key ranges.
 */

/** Metadata key of the latest version. */
export const META_LATEST = utf8('m/latest');
/** Metadata key of the earliest readable version (0 or absent: nothing pruned). */
export const META_EARLIEST = utf8('m/earliest');
/** Metadata key present only while a restore is unfinished; its value is the restore version. */
export const META_RESTORING = utf8('m/restoring');
/**
 * Pairs durably written by an unfinished restore, updated in each flush batch: see
 * {@link encodeRestoreCheckpoint}.
 */
export const META_RESTORE_CHECKPOINT = utf8('m/restore-checkpoint');
/** Metadata key present only while a prune is unfinished; its value is the prune version. */
export const META_PRUNING = utf8('m/pruning');
/**
 * Metadata key present only while a clear is unfinished: written with the clear's first batch
 * (which drops latest and earliest), removed after its last data delete. Without it a clear that
 * stopped half-way would leave a store that reads as empty at version 0 but whose leftover entries
 * reappear as soon as commits bring the latest version up to theirs.
 */
export const META_CLEARING = utf8('m/clearing');
/** First byte of every data key; the data section is `[DATA_START, DATA_END)`. */
export const DATA_TAG = 0x64; // 'd'
/** Namespace-relative start of the data section. */
export const DATA_START = Uint8Array.of(DATA_TAG);
/** Namespace-relative (exclusive) end of the data section. */
export const DATA_END = Uint8Array.of(DATA_TAG + 1);

/** Value kind byte of a live value. */
export const KIND_VALUE = 0x01;
/** Value kind byte of a deletion marker; such an entry has no further bytes. */
export const KIND_TOMBSTONE = 0x00;

/** Width of the version suffix of a data key. */
export const VERSION_BYTES = 8;

const TWO_32 = 2 ** 32;

/** Writes `version` (a safe integer) as 8 bytes big-endian, every bit inverted when `invert`. */
function writeU64(out: Uint8Array, offset: number, version: number, invert: boolean): void {
  const hi = Math.floor(version / TWO_32);
  const lo = version >>> 0;
  const mask = invert ? 0xff : 0;
  out[offset] = ((hi >>> 24) & 0xff) ^ mask;
  out[offset + 1] = ((hi >>> 16) & 0xff) ^ mask;
  out[offset + 2] = ((hi >>> 8) & 0xff) ^ mask;
  out[offset + 3] = (hi & 0xff) ^ mask;
  out[offset + 4] = ((lo >>> 24) & 0xff) ^ mask;
  out[offset + 5] = ((lo >>> 16) & 0xff) ^ mask;
  out[offset + 6] = ((lo >>> 8) & 0xff) ^ mask;
  out[offset + 7] = (lo & 0xff) ^ mask;
}

function readU64(bytes: Uint8Array, offset: number, invert: boolean): number {
  const mask = invert ? 0xff : 0;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + ((bytes[offset + i]! ^ mask) & 0xff);
  for (let i = 4; i < 8; i++) lo = lo * 256 + ((bytes[offset + i]! ^ mask) & 0xff);
  const value = hi * TWO_32 + lo;
  if (!Number.isSafeInteger(value)) {
    throw corrupt(`version ${hi}·2^32+${lo} is beyond the safe integer range`, bytes);
  }
  return value;
}

/** A metadata value: the version as 8 bytes big-endian. */
export function encodeMetaVersion(version: number): Uint8Array {
  const out = new Uint8Array(VERSION_BYTES);
  writeU64(out, 0, version, false);
  return out;
}

/** Reads a metadata version written by {@link encodeMetaVersion}; `what` names it in errors. */
export function decodeMetaVersion(bytes: Uint8Array, what: string): number {
  if (bytes.length !== VERSION_BYTES) {
    throw corrupt(`metadata ${what} has ${bytes.length} bytes, expected ${VERSION_BYTES}`, bytes);
  }
  return readU64(bytes, 0, false);
}

/** Which pair a restore checkpoint ends at. */
export interface CheckpointPair {
  readonly storeKey: string;
  readonly key: Uint8Array;
}

/** A restore's durable position: how many pairs, and the last of them (absent before any). */
export interface RestoreCheckpoint {
  readonly keys: number;
  readonly last?: CheckpointPair;
}

/**
 * `u64 BE pairs ‖ uvarint(len) ‖ store key (UTF-8) ‖ key` of the last pair; a bare 8-byte count
 * (no last pair) is read too. The last pair lets a resumed restore check that the snapshot it
 * skips into is the one the interrupted restore wrote from.
 */
export function encodeRestoreCheckpoint(checkpoint: RestoreCheckpoint): Uint8Array {
  const count = encodeMetaVersion(checkpoint.keys);
  if (checkpoint.last === undefined) return count;
  const store = utf8(checkpoint.last.storeKey);
  return concatBytes(count, encodeUvarint(store.length), store, checkpoint.last.key);
}

/** Reads {@link encodeRestoreCheckpoint}'s bytes. */
export function decodeRestoreCheckpoint(bytes: Uint8Array): RestoreCheckpoint {
  if (bytes.length === VERSION_BYTES) return { keys: decodeMetaVersion(bytes, 'restore checkpoint') };
  const reader = new ByteReader(bytes, 'state storage restore checkpoint');
  const keys = decodeMetaVersion(reader.raw(VERSION_BYTES, 'pair count'), 'restore checkpoint');
  const storeKey = fromUtf8(reader.bytesField('store key'));
  const key = bytes.slice(reader.offset);
  if (key.length === 0) throw corrupt('restore checkpoint has no key', bytes);
  return { keys, last: { storeKey, key } };
}

/** The inverted big-endian version suffix of a data key. */
export function encodeKeyVersion(version: number): Uint8Array {
  const out = new Uint8Array(VERSION_BYTES);
  writeU64(out, 0, version, true);
  return out;
}

/** `esc(bytes)`: see the module comment for why this keeps order and is prefix-free. */
export function escapeTerminated(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(escapedLength(bytes));
  putEscaped(out, 0, bytes);
  return out;
}

/** Length of `esc(bytes)`, terminator included. */
function escapedLength(bytes: Uint8Array): number {
  let zeros = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0) zeros++;
  return bytes.length + zeros + 2;
}

/**
 * Writes `esc(bytes)` into a zero-filled `out` at `offset` (the terminator `00 00` is already
 * there) and returns the offset after it.
 */
function putEscaped(out: Uint8Array, offset: number, bytes: Uint8Array): number {
  let o = offset;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out[o++] = b;
    if (b === 0) out[o++] = 0xff;
  }
  return o + 2;
}

/**
 * Reads one escaped field starting at `offset`; returns the unescaped bytes (a copy) and the
 * offset just past its terminator. A 0x00 followed by anything but 0xff or 0x00, or a missing
 * terminator, is corruption.
 */
export function unescapeTerminated(bytes: Uint8Array, offset: number): { value: Uint8Array; end: number } {
  const out = new Uint8Array(bytes.length - offset);
  let o = 0;
  let i = offset;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b !== 0) {
      out[o++] = b;
      i++;
      continue;
    }
    const next = bytes[i + 1];
    if (next === 0xff) {
      out[o++] = 0;
      i += 2;
    } else if (next === 0x00) {
      return { value: out.slice(0, o), end: i + 2 };
    } else {
      throw corrupt(`escaped field has 0x00 followed by ${next === undefined ? 'the end' : `0x${next.toString(16)}`}`, bytes);
    }
  }
  throw corrupt('escaped field has no terminator', bytes);
}

/**
 * The namespace-relative prefix of one store's data, `'d' ‖ esc(utf8(storeKey))`. Callers must
 * have checked that `storeKey` is well-formed (see {@link checkStoreKeyText}).
 */
export function storeDataPrefix(storeKey: string): Uint8Array {
  return concatBytes(DATA_START, escapeTerminated(utf8(storeKey)));
}

/** `storePrefix ‖ esc(key)`: every version of one key starts with this. */
export function keyPrefix(storePrefix: Uint8Array, key: Uint8Array): Uint8Array {
  return concatBytes(storePrefix, escapeTerminated(key));
}

const NO_PREFIX = new Uint8Array(0);

/**
 * The full namespace-relative data key of `key` at `version`; with `outerPrefix` (the
 * namespace's own prefix) the full database key. Built in one allocation: bulk writes build one
 * per pair.
 */
export function dataKey(storePrefix: Uint8Array, key: Uint8Array, version: number, outerPrefix: Uint8Array = NO_PREFIX): Uint8Array {
  const out = new Uint8Array(outerPrefix.length + storePrefix.length + escapedLength(key) + VERSION_BYTES);
  out.set(outerPrefix, 0);
  out.set(storePrefix, outerPrefix.length);
  const o = putEscaped(out, outerPrefix.length + storePrefix.length, key);
  writeU64(out, o, version, true);
  return out;
}

/**
 * The smallest byte string above every version of the key whose {@link keyPrefix} is given:
 * where a forward scan continues with the next key. It always exists because a key prefix ends
 * with the terminator `00 00`.
 */
export function afterKey(prefixOfKey: Uint8Array): Uint8Array {
  return prefixEnd(prefixOfKey)!;
}

/** The version of a full data key (its last 8 bytes). */
export function versionOfDataKey(raw: Uint8Array): number {
  if (raw.length < VERSION_BYTES) throw corrupt('data key is shorter than its version', raw);
  return readU64(raw, raw.length - VERSION_BYTES, true);
}

/** Decodes a full namespace-relative data key into its store key bytes, key and version. */
export function decodeDataKey(raw: Uint8Array): { storeKey: Uint8Array; key: Uint8Array; version: number } {
  const bytes = asBytes(raw);
  if (bytes[0] !== DATA_TAG) throw corrupt('data key does not start with the data tag', bytes);
  const store = unescapeTerminated(bytes, 1);
  const key = unescapeTerminated(bytes, store.end);
  if (key.end + VERSION_BYTES !== bytes.length) {
    throw corrupt(`data key has ${bytes.length - key.end} bytes after its key, expected ${VERSION_BYTES}`, bytes);
  }
  return { storeKey: store.value, key: key.value, version: versionOfDataKey(bytes) };
}

/** A data value: the kind byte, then the value bytes (nothing for a tombstone). */
export function encodeValue(value: Uint8Array | undefined): Uint8Array {
  if (value === undefined) return Uint8Array.of(KIND_TOMBSTONE);
  const out = new Uint8Array(value.length + 1);
  out[0] = KIND_VALUE;
  out.set(value, 1);
  return out;
}

/** Decodes a data value: the value bytes, or `undefined` for a tombstone. */
export function decodeValue(raw: Uint8Array, rawKey: Uint8Array): Uint8Array | undefined {
  const kind = raw[0];
  if (kind === KIND_VALUE) return asBytes(raw).subarray(1);
  if (kind === KIND_TOMBSTONE && raw.length === 1) return undefined;
  throw corrupt(
    kind === undefined
      ? 'empty data value (no kind byte)'
      : `data value with kind 0x${kind.toString(16)} and ${raw.length} bytes`,
    rawKey,
  );
}

/**
 * Checks that a store key survives UTF-8 encoding unchanged: a lone surrogate would be replaced
 * by U+FFFD and two different strings would then share one key range.
 */
export function checkStoreKeyText(storeKey: unknown): asserts storeKey is string {
  if (typeof storeKey !== 'string' || storeKey.length === 0) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `store key must be a non-empty string, got ${describe(storeKey)}`, {
      details: { storeKey: typeof storeKey === 'string' ? storeKey : String(storeKey) },
    });
  }
  if (/\p{Surrogate}/u.test(storeKey)) {
    throw new StoreError(
      'ERR_INVALID_ARGUMENT',
      `store key ${JSON.stringify(storeKey)} contains a lone surrogate (not valid UTF-8)`,
      { details: { storeKey } },
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? '""' : value === null ? 'null' : typeof value;
}

function corrupt(reason: string, bytes: Uint8Array): StoreError {
  return new StoreError('ERR_IO', `corrupt state storage entry ${toHex(bytes)}: ${reason}`, {
    details: { corrupt: true, key: toHex(bytes) },
  });
}
