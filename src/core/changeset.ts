import { ByteWriter } from './byte-writer.js';
import { asBytes, fromUtf8, shortHex, toHex, utf8 } from './bytes.js';
import { StoreError } from './errors.js';
import { readUvarint } from './varint.js';
import { checkVersion } from './version.js';

/**
 * The changeset model and its binary codec (formats.md §7), byte-compatible with the Go
 * reference's migration log:
 *
 * ```
 * uvarint  group count
 * per group: bytes(actor) ‖ uvarint(pair count) ‖
 *            per pair: bytes(key) ‖ uvarint(flag 0=set,1=delete) ‖ [bytes(value) if set]
 * ```
 *
 * Go's "actor" is the store key. We model it as a `string` (store keys are module names,
 * encoded as UTF-8) because raw bytes are awkward for every caller; decoding an actor that is
 * not valid UTF-8 therefore fails with `ERR_INVALID_ARGUMENT` instead of being mangled.
 * Unlike Go, the decoder rejects trailing bytes and forged counts.
 */

/** One write: a set (`remove: false`, `value` present) or a delete (`remove: true`, no value). */
export interface KVPair {
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly remove: boolean;
}

/** The writes to one store, in insertion order. */
export interface StoreChanges {
  /** The store key (Go: actor), e.g. `"bank"`. */
  readonly storeKey: string;
  readonly pairs: readonly KVPair[];
}

/** All writes of one commit, grouped by store in order of first appearance. */
export interface Changeset {
  readonly changes: readonly StoreChanges[];
}

/** A changeset with the version it is committed at. */
export interface VersionedChangeset {
  readonly version: number;
  readonly changeset: Changeset;
}

/** One write as a tuple: `[storeKey, key, value]`, `value === undefined` meaning delete. */
export type ChangesetEntry = readonly [storeKey: string, key: Uint8Array, value: Uint8Array | undefined];

/**
 * Checks the shape of changeset `version` before anything is written: a `changes` array of
 * groups with a `pairs` array each; every key a non-empty `Uint8Array` (`ERR_EMPTY_KEY` when
 * empty); `remove` a boolean, a set with a `Uint8Array` value and a delete without one. Anything
 * else is `ERR_INVALID_ARGUMENT` naming the group, store and pair. Store keys are the stores'
 * to check.
 */
export function checkChangeset(version: number, changeset: Changeset): void {
  if (changeset === null || typeof changeset !== 'object' || !Array.isArray(changeset.changes)) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `changeset ${version} must be an object with a changes array`, {
      details: { version },
    });
  }
  // Indexed loops: a sparse array's holes are checked too, not skipped.
  for (let g = 0; g < changeset.changes.length; g++) {
    const group = changeset.changes[g];
    const storeKey = group?.storeKey;
    if (typeof storeKey !== 'string') {
      throw new StoreError('ERR_INVALID_ARGUMENT', `changeset ${version} group ${g}: storeKey must be a string`, { details: { version } });
    }
    const pairs: readonly KVPair[] = group!.pairs;
    if (!Array.isArray(pairs as unknown)) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `changeset ${version} group ${g} (${storeKey}) has no pairs array`, {
        details: { version, storeKey },
      });
    }
    for (let p = 0; p < pairs.length; p++) {
      const pair = pairs[p];
      const where = `changeset ${version} store ${storeKey} pair ${p}`;
      if (pair === null || typeof pair !== 'object') {
        throw new StoreError('ERR_INVALID_ARGUMENT', `${where} is not a pair`, { details: { version, storeKey } });
      }
      if (!(pair.key instanceof Uint8Array)) {
        throw new StoreError('ERR_INVALID_ARGUMENT', `${where}: key in store ${storeKey} must be a Uint8Array`, { details: { storeKey } });
      }
      if (pair.key.length === 0) {
        throw new StoreError('ERR_EMPTY_KEY', `${where}: key in store ${storeKey} must not be empty`, { details: { storeKey } });
      }
      const details = { version, storeKey, key: toHex(pair.key) };
      if (pair.remove === true) {
        if (pair.value !== undefined) {
          throw new StoreError('ERR_INVALID_ARGUMENT', `${where}: delete of key ${shortHex(pair.key)} must not carry a value`, { details });
        }
      } else if (pair.remove === false) {
        if (!(pair.value instanceof Uint8Array)) {
          throw new StoreError('ERR_INVALID_ARGUMENT', `${where}: set of key ${shortHex(pair.key)} has no value`, { details });
        }
      } else {
        throw new StoreError('ERR_INVALID_ARGUMENT', `${where}: remove must be a boolean`, { details });
      }
    }
  }
}

const FLAG_SET = 0;
const FLAG_DELETE = 1;
/** Smallest possible encoding of a group: empty actor (1 byte) and a pair count (1 byte). */
const MIN_GROUP_BYTES = 2;
/** Smallest possible encoding of a pair: empty key (1 byte) and a flag (1 byte). */
const MIN_PAIR_BYTES = 2;

/**
 * Builds a versioned changeset from writes in commit order, grouping them by store in order of
 * first appearance (the order Go's root store produces and the encoding preserves).
 */
export function changesetFromPairs(version: number, entries: Iterable<ChangesetEntry>): VersionedChangeset {
  checkVersion(version, 'changeset version', 1);
  const groups = new Map<string, KVPair[]>();
  for (const [storeKey, key, value] of entries) {
    let pairs = groups.get(storeKey);
    if (pairs === undefined) {
      pairs = [];
      groups.set(storeKey, pairs);
    }
    pairs.push(value === undefined ? { key, remove: true } : { key, value, remove: false });
  }
  const changes = [...groups].map(([storeKey, pairs]): StoreChanges => ({ storeKey, pairs }));
  return { version, changeset: { changes } };
}

/**
 * Encodes a changeset (formats.md §7). A set must carry a value and a delete must not, so a
 * confused pair fails here with `ERR_INVALID_ARGUMENT` rather than round-tripping wrongly.
 */
export function encodeChangeset(changeset: Changeset): Uint8Array {
  const w = new ByteWriter(256);
  w.uvarint(changeset.changes.length);
  changeset.changes.forEach((group, g) => {
    if (typeof group.storeKey !== 'string') {
      throw new StoreError('ERR_INVALID_ARGUMENT', `changeset group ${g}: storeKey must be a string`);
    }
    w.bytes(utf8(group.storeKey));
    w.uvarint(group.pairs.length);
    group.pairs.forEach((pair, p) => {
      const where = `changeset group ${g} (${group.storeKey}) pair ${p}`;
      if (!(pair.key instanceof Uint8Array)) {
        throw new StoreError('ERR_INVALID_ARGUMENT', `${where}: key must be a Uint8Array`);
      }
      w.bytes(pair.key);
      if (pair.remove) {
        if (pair.value !== undefined) {
          throw new StoreError('ERR_INVALID_ARGUMENT', `${where}: a delete must not carry a value`, {
            details: { storeKey: group.storeKey, key: toHex(pair.key) },
          });
        }
        w.uvarint(FLAG_DELETE);
      } else {
        if (!(pair.value instanceof Uint8Array)) {
          throw new StoreError('ERR_INVALID_ARGUMENT', `${where}: a set needs a Uint8Array value`, {
            details: { storeKey: group.storeKey, key: toHex(pair.key) },
          });
        }
        w.uvarint(FLAG_SET).bytes(pair.value);
      }
    });
  });
  return w.finish();
}

/**
 * Decodes a changeset. Every failure is a `StoreError` naming the offset and what was being
 * read: `ERR_TRUNCATED` (the input ends inside a length or field, naming the missing length),
 * `ERR_INVALID_FLAG` (a flag other than 0/1, naming it), `ERR_TRAILING_BYTES`,
 * `ERR_INVALID_ARGUMENT` (a store key that is not UTF-8) or `ERR_VARINT_OVERFLOW`. A count
 * that the remaining bytes could not possibly hold is rejected up front, so a forged count
 * cannot make the decoder loop or allocate. Keys and values are copies, not views of `bytes`.
 */
export function decodeChangeset(bytes: Uint8Array): Changeset {
  if (!(bytes instanceof Uint8Array)) {
    throw new StoreError('ERR_INVALID_ARGUMENT', 'a changeset must be decoded from a Uint8Array');
  }
  // A plain view: `slice()` on a Node Buffer (what LevelDB returns) would not copy.
  const input = asBytes(bytes);
  const r = new Cursor(input);
  const groupCount = r.count('group count', MIN_GROUP_BYTES);
  const changes: StoreChanges[] = [];
  for (let g = 0; g < groupCount; g++) {
    const actorOffset = r.offset;
    const actor = r.bytes(`store key of group ${g}`);
    let storeKey: string;
    try {
      storeKey = fromUtf8(actor);
    } catch (error) {
      throw new StoreError(
        'ERR_INVALID_ARGUMENT',
        `changeset store key of group ${g} at offset ${actorOffset} is not valid UTF-8 (${toHex(actor)})`,
        { cause: error, details: { offset: actorOffset, storeKey: toHex(actor) } },
      );
    }
    const pairCount = r.count(`pair count of group ${g} (${storeKey})`, MIN_PAIR_BYTES);
    const pairs: KVPair[] = [];
    for (let p = 0; p < pairCount; p++) {
      const where = `group ${g} (${storeKey}) pair ${p}`;
      const key = r.bytes(`key of ${where}`).slice();
      const flagOffset = r.offset;
      const flag = r.uvarint(`remove flag of ${where}`);
      if (flag === FLAG_DELETE) {
        pairs.push({ key, remove: true });
      } else if (flag === FLAG_SET) {
        pairs.push({ key, value: r.bytes(`value of ${where}`).slice(), remove: false });
      } else {
        throw new StoreError(
          'ERR_INVALID_FLAG',
          `changeset remove flag ${flag} of ${where} at offset ${flagOffset} is neither 0 (set) nor 1 (delete)`,
          { details: { flag, offset: flagOffset, storeKey, key: toHex(key) } },
        );
      }
    }
    changes.push({ storeKey, pairs });
  }
  if (r.offset !== input.length) {
    throw new StoreError(
      'ERR_TRAILING_BYTES',
      `changeset has ${input.length - r.offset} trailing bytes after offset ${r.offset}`,
      { details: { offset: r.offset, trailing: input.length - r.offset } },
    );
  }
  return { changes };
}

/** A read cursor whose every failure names what it was reading and where. */
class Cursor {
  offset = 0;

  constructor(private readonly input: Uint8Array) {}

  uvarint(what: string): number {
    const r = readUvarint(this.input, this.offset, `changeset ${what}`);
    this.offset = r.offset;
    return r.value;
  }

  /** A count of items that each need at least `minItemBytes`; checked against what is left. */
  count(what: string, minItemBytes: number): number {
    const at = this.offset;
    const n = this.uvarint(what);
    const left = this.input.length - this.offset;
    if (n > Math.floor(left / minItemBytes)) {
      throw new StoreError(
        'ERR_TRUNCATED',
        `changeset ${what} ${n} at offset ${at} needs at least ${n * minItemBytes} more bytes, only ${left} left`,
        { details: { offset: at, count: n, needed: n * minItemBytes, left } },
      );
    }
    return n;
  }

  /** `uvarint(len) ‖ bytes`, returned as a view; the length must fit in what is left. */
  bytes(what: string): Uint8Array {
    const at = this.offset;
    const length = this.uvarint(`${what} length`);
    const left = this.input.length - this.offset;
    if (length > left) {
      throw new StoreError(
        'ERR_TRUNCATED',
        `changeset ${what} at offset ${at} has length ${length} but only ${left} bytes are left (${length - left} missing)`,
        { details: { offset: at, length, left, missing: length - left } },
      );
    }
    const out = this.input.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}
