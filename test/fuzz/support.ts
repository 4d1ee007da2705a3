import fc from 'fast-check';
import { concatBytes, equalBytes, utf8 } from '../../src/core/bytes.js';
import type { BatchReader } from '../../src/core/batch-reader.js';
import { StoreError } from '../../src/core/errors.js';
import { openDb } from '../../src/db/level-db.js';
import { SnapshotItemDecoder, type SnapshotItem } from '../../src/proto/snapshot-item.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { changesetFromPairs, type ChangesetEntry } from '../../src/core/changeset.js';
import { prng } from '../support/changesets.js';

/**
 * Shared machinery of the fuzz suites: a real snapshot to mutate, a tiny protobuf writer that can
 * encode what the library's encoder refuses (wrong wire types, out-of-range int64, unknown
 * fields), the mutation arbitraries, and the "typed error or correct result" oracle.
 */

// ------------------------------------------------------------------------------------ settings

/** Seed for every fuzz property (`FUZZ_SEED=<n>` reproduces a reported failure). */
export const FUZZ_SEED: number | undefined = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);

/** `FUZZ_SCALE=<k>` multiplies every run count (e.g. 10 for a long local session). */
export const FUZZ_SCALE = Number(process.env['FUZZ_SCALE'] ?? '1');

/** fast-check parameters for `runs` cases (scaled), with the seed when one is forced. */
export function fcParams(runs: number, extra: fc.Parameters<unknown> = {}): fc.Parameters<unknown> {
  return { numRuns: Math.ceil(runs * FUZZ_SCALE), ...(FUZZ_SEED === undefined ? {} : { seed: FUZZ_SEED }), ...extra };
}

// ------------------------------------------------------------------------------------ oracle

/**
 * Runs `fn`; returns its result or the StoreError it threw. Any other exception (a TypeError, a
 * bare protobufjs Error, a RangeError) is rethrown so the property fails and fast-check shrinks it.
 */
export function typedOutcome<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: StoreError } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error: asStoreError(error) };
  }
}

/** Async {@link typedOutcome}. */
export async function typedOutcomeAsync<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: StoreError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: asStoreError(error) };
  }
}

/** `error` if it is a well-formed StoreError (string code, string message), else a test failure. */
export function asStoreError(error: unknown): StoreError {
  if (!(error instanceof StoreError)) {
    const what = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
    throw new Error(`expected a StoreError, got ${what}`, { cause: error });
  }
  if (typeof error.code !== 'string' || error.code.length === 0 || typeof error.message !== 'string') {
    throw new Error(`malformed StoreError ${String(error.code)}`, { cause: error });
  }
  return error;
}

/** Tallies fuzz cases per target, printed once at the end of a suite. */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  total(prefix = ''): number {
    let sum = 0;
    for (const [k, v] of this.counts) if (k.startsWith(prefix)) sum += v;
    return sum;
  }
  toString(): string {
    return [...this.counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(' ');
  }
}

// ------------------------------------------------------------------------------------ protobuf writer

/** Unsigned LEB128 of a non-negative bigint (any size: a 2^70 "uvarint" is a valid test input). */
export function uvarint(value: bigint | number): Uint8Array {
  if (typeof value === 'number' ? value <= Number.MAX_SAFE_INTEGER : value >= 0n && value <= 0x7fffffffn) {
    // Fast path (the common case): plain numbers.
    let n = Number(value);
    const out: number[] = [];
    while (n >= 128) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Uint8Array.from(out);
  }
  let v = BigInt(value);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Uint8Array.from(out);
}

/** A protobuf field before serialization; `wireType` in the tag may lie about the payload. */
export interface PbField {
  readonly no: number;
  /** Wire type written in the tag. */
  readonly wireType: number;
  /** How the payload is written: a varint, a length-delimited blob, a sub-message, fixed 4/8 bytes. */
  readonly payload:
    | { readonly kind: 'varint'; readonly value: bigint }
    | { readonly kind: 'bytes'; readonly value: Uint8Array }
    | { readonly kind: 'message'; readonly fields: readonly PbField[] }
    | { readonly kind: 'fixed'; readonly value: Uint8Array };
}

export function encodeFields(fields: readonly PbField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(uvarint((BigInt(f.no) << 3n) | BigInt(f.wireType & 7)));
    const p = f.payload;
    if (p.kind === 'varint') parts.push(uvarint(p.value));
    else if (p.kind === 'fixed') parts.push(p.value);
    else {
      const body = p.kind === 'bytes' ? p.value : encodeFields(p.fields);
      parts.push(uvarint(body.length), body);
    }
  }
  return concatBytes(...parts);
}

const varintField = (no: number, value: bigint): PbField => ({ no, wireType: 0, payload: { kind: 'varint', value } });
const bytesField = (no: number, value: Uint8Array): PbField => ({ no, wireType: 2, payload: { kind: 'bytes', value } });
const messageField = (no: number, fields: readonly PbField[]): PbField => ({ no, wireType: 2, payload: { kind: 'message', fields } });

/** A raw IAVL item whose numbers are bigints (so out-of-range versions and heights can be written). */
export interface RawIavl {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly version: bigint;
  readonly height: bigint;
}

/** `SnapshotItem` fields (formats.md §6) as the Go encoder writes them: zero values omitted. */
export function itemFields(item: SnapshotItem | { kind: 'rawIavl'; raw: RawIavl }): PbField[] {
  switch (item.kind) {
    case 'store':
      return [messageField(1, item.name === '' ? [] : [bytesField(1, utf8(item.name))])];
    case 'iavl':
      return itemFields({ kind: 'rawIavl', raw: { key: item.key, value: item.value, version: BigInt(item.version), height: BigInt(item.height) } });
    case 'rawIavl': {
      const { key, value, version, height } = item.raw;
      const sub: PbField[] = [];
      if (key.length > 0) sub.push(bytesField(1, key));
      if (value.length > 0) sub.push(bytesField(2, value));
      // int64 / int32 negatives are 10-byte two's complement varints.
      if (version !== 0n) sub.push(varintField(3, BigInt.asUintN(64, version)));
      if (height !== 0n) sub.push(varintField(4, BigInt.asUintN(64, height)));
      return [messageField(2, sub)];
    }
    case 'extension': {
      const sub: PbField[] = [];
      if (item.name !== '') sub.push(bytesField(1, utf8(item.name)));
      if (item.format !== 0) sub.push(varintField(2, BigInt(item.format)));
      return [messageField(3, sub)];
    }
    case 'extensionPayload':
      return [messageField(4, item.payload.length === 0 ? [] : [bytesField(1, item.payload)])];
  }
}

/** Frames as the snapshot stream carries them: `uvarint(len) ‖ body`, with an optional forged prefix. */
export interface Frame {
  readonly body: Uint8Array;
  readonly prefix?: Uint8Array;
}

export function serializeFrames(frames: readonly Frame[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of frames) parts.push(f.prefix ?? uvarint(f.body.length), f.body);
  return concatBytes(...parts);
}

// ------------------------------------------------------------------------------------ the source snapshot

export const SOURCE_STORES = ['acc', 'bank', 'staking'] as const;
export const SOURCE_VERSION = 3;

export interface SourceSnapshot {
  readonly items: readonly SnapshotItem[];
  readonly appHash: Uint8Array;
  readonly storeRoots: ReadonlyMap<string, Uint8Array>;
}

/**
 * A real, small store/v1 snapshot: 3 stores, 3 versions of sets and deletes (so node versions
 * differ), snapshotted at version 3. About a hundred items, a few KiB encoded.
 */
export async function sourceSnapshot(): Promise<SourceSnapshot> {
  const db = await openDb();
  try {
    const v1 = await LegacyStore.open(db, { storeKeys: [...SOURCE_STORES] });
    const rand = prng(0x5eed);
    for (let v = 1; v <= SOURCE_VERSION; v++) {
      const entries: ChangesetEntry[] = [];
      for (const store of SOURCE_STORES) {
        const n = store === 'staking' ? 2 : 6;
        for (let i = 0; i < n; i++) {
          const key = utf8(`${store}/k${String(Math.floor(rand() * 12)).padStart(2, '0')}`);
          entries.push([store, key, v > 1 && rand() < 0.15 ? undefined : utf8(`v${v}-${i}-${Math.floor(rand() * 1e6)}`)]);
        }
      }
      await v1.commit(changesetFromPairs(v, entries).changeset);
    }
    const reader = await v1.snapshotReader(SOURCE_VERSION);
    const items: SnapshotItem[] = [];
    for (;;) {
      const batch = await reader.read(64);
      if (batch.length === 0) break;
      // Copies: the reader may share arrays with the tree cache.
      for (const item of batch) items.push(item.kind === 'iavl' ? { ...item, key: item.key.slice(), value: item.value.slice() } : item);
    }
    await reader.close();
    const storeRoots = new Map<string, Uint8Array>();
    for (const store of SOURCE_STORES) storeRoots.set(store, await v1.storeRoot(store, SOURCE_VERSION));
    return { items, appHash: await v1.appHash(SOURCE_VERSION), storeRoots };
  } finally {
    await db.close();
  }
}

// ------------------------------------------------------------------------------------ mutations

/** A mutation of one item's protobuf fields (wrong wire types, field numbers, unknown fields...). */
export type FieldMutation =
  | { readonly t: 'wireType'; readonly path: readonly number[]; readonly wireType: number }
  | { readonly t: 'fieldNo'; readonly path: readonly number[]; readonly no: number }
  | { readonly t: 'drop'; readonly path: readonly number[] }
  | { readonly t: 'duplicate'; readonly path: readonly number[] }
  | { readonly t: 'unknown'; readonly path: readonly number[]; readonly field: PbField };

/** A mutation of one IAVL item's values (heights > 127, bad versions, empty keys...). */
export type ValueMutation =
  | { readonly t: 'height'; readonly value: bigint }
  | { readonly t: 'version'; readonly value: bigint }
  | { readonly t: 'key'; readonly value: Uint8Array }
  | { readonly t: 'value'; readonly value: Uint8Array };

/** Frame-level and byte-level mutations of a whole stream. */
export type StreamMutation =
  | { readonly t: 'swap'; readonly i: number; readonly j: number }
  | { readonly t: 'move'; readonly i: number; readonly j: number }
  | { readonly t: 'dupFrame'; readonly i: number }
  | { readonly t: 'dropFrame'; readonly i: number }
  | { readonly t: 'reverse'; readonly i: number; readonly len: number }
  | { readonly t: 'forgedPrefix'; readonly i: number; readonly size: bigint }
  | { readonly t: 'longPrefix'; readonly i: number; readonly extra: number }
  | { readonly t: 'garbageFrame'; readonly i: number; readonly body: Uint8Array }
  | { readonly t: 'renameStore'; readonly i: number; readonly name: string }
  | { readonly t: 'kind'; readonly i: number; readonly to: 'extension' | 'extensionPayload' | 'store' }
  | { readonly t: 'fields'; readonly i: number; readonly m: FieldMutation }
  | { readonly t: 'values'; readonly i: number; readonly m: ValueMutation };

export type ByteMutation =
  | { readonly t: 'flip'; readonly at: number; readonly bit: number }
  | { readonly t: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly t: 'delete'; readonly at: number; readonly len: number }
  | { readonly t: 'truncate'; readonly at: number }
  | { readonly t: 'overwrite'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly t: 'insertVarint'; readonly at: number; readonly value: bigint };

const idx = fc.nat({ max: 1 << 20 });
const path = fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 2 });

/** Interesting int64 values for versions and heights: boundaries around every check. */
export const interestingInt64 = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 3n, 4n, 126n, 127n, 128n, 255n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, -1n, -2n, -(2n ** 31n), -(2n ** 63n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 0n, max: 300n }),
);

const fieldArb: fc.Arbitrary<PbField> = fc.oneof(
  fc.record({ no: fc.integer({ min: 1, max: 40 }), wireType: fc.constant(0), payload: fc.record({ kind: fc.constant('varint' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }) }),
  fc.record({ no: fc.integer({ min: 1, max: 40 }), wireType: fc.constant(2), payload: fc.record({ kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 12 }) }) }),
  fc.record({ no: fc.integer({ min: 1, max: 40 }), wireType: fc.constantFrom(1, 5), payload: fc.record({ kind: fc.constant('fixed' as const), value: fc.uint8Array({ minLength: 4, maxLength: 8 }) }) }),
  // Group start/end and the invalid wire types 6 and 7, with whatever follows.
  fc.record({ no: fc.integer({ min: 0, max: 40 }), wireType: fc.constantFrom(3, 4, 6, 7), payload: fc.record({ kind: fc.constant('fixed' as const), value: fc.uint8Array({ maxLength: 4 }) }) }),
);

export const fieldMutationArb: fc.Arbitrary<FieldMutation> = fc.oneof(
  fc.record({ t: fc.constant('wireType' as const), path, wireType: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ t: fc.constant('fieldNo' as const), path, no: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 2 ** 29 - 1 })) }),
  fc.record({ t: fc.constant('drop' as const), path }),
  fc.record({ t: fc.constant('duplicate' as const), path }),
  fc.record({ t: fc.constant('unknown' as const), path, field: fieldArb }),
);

export const valueMutationArb: fc.Arbitrary<ValueMutation> = fc.oneof(
  fc.record({ t: fc.constant('height' as const), value: interestingInt64 }),
  fc.record({ t: fc.constant('version' as const), value: interestingInt64 }),
  fc.record({ t: fc.constant('key' as const), value: fc.uint8Array({ maxLength: 10 }) }),
  fc.record({ t: fc.constant('value' as const), value: fc.uint8Array({ maxLength: 10 }) }),
);

/** Lengths a forged prefix may announce: 2^40 and friends, the limit ± 1, small lies. */
export const forgedSize = fc.oneof(
  fc.constantFrom(2n ** 40n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 64_000_000n, 64_000_001n, 2n ** 31n, 2n ** 32n, 0n, 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: 0n, max: 400n }),
);

export const streamMutationArb: fc.Arbitrary<StreamMutation> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('swap' as const), i: idx, j: idx }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('move' as const), i: idx, j: idx }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('dupFrame' as const), i: idx }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('dropFrame' as const), i: idx }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('reverse' as const), i: idx, len: fc.integer({ min: 2, max: 6 }) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('forgedPrefix' as const), i: idx, size: forgedSize }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('longPrefix' as const), i: idx, extra: fc.integer({ min: 1, max: 12 }) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('garbageFrame' as const), i: idx, body: fc.uint8Array({ maxLength: 24 }) }), weight: 1 },
  {
    arbitrary: fc.record({
      t: fc.constant('renameStore' as const),
      i: idx,
      name: fc.oneof(fc.constantFrom('', 'acc', 'bank', 'staking', 'unknown', '__proto__', 'constructor', 'bank\u0000', 'bank/'), fc.string({ maxLength: 8 })),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ t: fc.constant('kind' as const), i: idx, to: fc.constantFrom('extension' as const, 'extensionPayload' as const, 'store' as const) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('fields' as const), i: idx, m: fieldMutationArb }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant('values' as const), i: idx, m: valueMutationArb }), weight: 5 },
);

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('flip' as const), at: idx, bit: fc.integer({ min: 0, max: 7 }) }), weight: 4 },
  { arbitrary: fc.record({ t: fc.constant('insert' as const), at: idx, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('delete' as const), at: idx, len: fc.integer({ min: 1, max: 16 }) }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('truncate' as const), at: idx }), weight: 2 },
  { arbitrary: fc.record({ t: fc.constant('overwrite' as const), at: idx, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('insertVarint' as const), at: idx, value: forgedSize }), weight: 1 },
);

/** Applies a byte-level mutation (positions are taken modulo the length). */
export function applyByteMutation(bytes: Uint8Array, m: ByteMutation): Uint8Array {
  const n = bytes.length;
  const at = n === 0 ? 0 : m.at % (n + (m.t === 'insert' || m.t === 'insertVarint' ? 1 : 0));
  switch (m.t) {
    case 'flip': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'insert':
      return concatBytes(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
    case 'insertVarint':
      return concatBytes(bytes.subarray(0, at), uvarint(m.value), bytes.subarray(at));
    case 'delete':
      return concatBytes(bytes.subarray(0, at), bytes.subarray(at + m.len));
    case 'truncate':
      return bytes.slice(0, at);
    case 'overwrite': {
      const out = bytes.slice();
      out.set(m.bytes.subarray(0, Math.max(0, n - at)), at);
      return out;
    }
  }
}

/** Finds the field at `path` (indices taken modulo each level's length) and replaces it. */
function editField(fields: readonly PbField[], p: readonly number[], edit: (f: PbField, list: PbField[], i: number) => void): PbField[] {
  const list = [...fields];
  if (list.length === 0) return list;
  const i = p[0]! % list.length;
  const f = list[i]!;
  if (p.length > 1 && f.payload.kind === 'message') {
    list[i] = { ...f, payload: { kind: 'message', fields: editField(f.payload.fields, p.slice(1), edit) } };
  } else {
    edit(f, list, i);
  }
  return list;
}

export function applyFieldMutation(fields: readonly PbField[], m: FieldMutation): PbField[] {
  return editField(fields, m.path, (f, list, i) => {
    switch (m.t) {
      case 'wireType':
        list[i] = { ...f, wireType: m.wireType };
        break;
      case 'fieldNo':
        list[i] = { ...f, no: m.no };
        break;
      case 'drop':
        list.splice(i, 1);
        break;
      case 'duplicate':
        list.splice(i, 0, f);
        break;
      case 'unknown':
        list.splice(i, 0, m.field);
        break;
    }
  });
}

function rawOf(item: SnapshotItem): RawIavl | undefined {
  return item.kind === 'iavl' ? { key: item.key, value: item.value, version: BigInt(item.version), height: BigInt(item.height) } : undefined;
}

/** Working form of a stream under mutation: one entry per frame. */
interface WorkFrame {
  item: SnapshotItem | { kind: 'rawIavl'; raw: RawIavl } | undefined;
  fields: PbField[] | undefined;
  body: Uint8Array | undefined;
  prefix: Uint8Array | undefined;
}

/** Applies stream mutations to `items` and serializes the frames. */
export function mutateStream(items: readonly SnapshotItem[], mutations: readonly StreamMutation[]): Uint8Array {
  const frames: WorkFrame[] = items.map((item) => ({ item, fields: undefined, body: undefined, prefix: undefined }));
  const pick = (i: number): number => i % frames.length;
  for (const m of mutations) {
    if (frames.length === 0) break;
    switch (m.t) {
      case 'swap': {
        const a = pick(m.i);
        const b = pick(m.j);
        [frames[a], frames[b]] = [frames[b]!, frames[a]!];
        break;
      }
      case 'move': {
        const [f] = frames.splice(pick(m.i), 1);
        frames.splice(m.j % (frames.length + 1), 0, f!);
        break;
      }
      case 'dupFrame': {
        const a = pick(m.i);
        frames.splice(a, 0, { ...frames[a]! });
        break;
      }
      case 'dropFrame':
        frames.splice(pick(m.i), 1);
        break;
      case 'reverse': {
        const a = pick(m.i);
        frames.splice(a, m.len, ...frames.slice(a, a + m.len).reverse());
        break;
      }
      case 'forgedPrefix':
        frames[pick(m.i)]!.prefix = uvarint(m.size);
        break;
      case 'longPrefix': {
        // A non-minimal prefix: continuation bytes of zero before the real last byte.
        const f = frames[pick(m.i)]!;
        const len = f.body?.length ?? bodyOf(f).length;
        const real = uvarint(len);
        const pre = new Uint8Array(real.length + m.extra);
        pre.set(real);
        pre[real.length - 1]! |= 0x80;
        for (let k = real.length; k < pre.length - 1; k++) pre[k] = 0x80;
        pre[pre.length - 1] = 0;
        f.prefix = pre;
        break;
      }
      case 'garbageFrame':
        frames.splice(m.i % (frames.length + 1), 0, { item: undefined, fields: undefined, body: m.body, prefix: undefined });
        break;
      case 'renameStore': {
        const f = frames[pick(m.i)]!;
        if (f.item?.kind === 'store') frames[pick(m.i)] = { item: { kind: 'store', name: m.name }, fields: undefined, body: undefined, prefix: f.prefix };
        break;
      }
      case 'kind': {
        const f = frames[pick(m.i)]!;
        const name = f.item?.kind === 'store' ? f.item.name : 'ext';
        const item: SnapshotItem =
          m.to === 'extension'
            ? { kind: 'extension', name, format: 1 }
            : m.to === 'extensionPayload'
              ? { kind: 'extensionPayload', payload: utf8(name) }
              : { kind: 'store', name };
        frames[pick(m.i)] = { item, fields: undefined, body: undefined, prefix: f.prefix };
        break;
      }
      case 'fields': {
        const f = frames[pick(m.i)]!;
        f.fields = applyFieldMutation(fieldsOf(f), m.m);
        f.body = undefined;
        break;
      }
      case 'values': {
        const f = frames[pick(m.i)]!;
        const raw = f.item === undefined ? undefined : f.item.kind === 'rawIavl' ? f.item.raw : rawOf(f.item);
        if (raw === undefined) break;
        const next: RawIavl =
          m.m.t === 'height'
            ? { ...raw, height: m.m.value }
            : m.m.t === 'version'
              ? { ...raw, version: m.m.value }
              : m.m.t === 'key'
                ? { ...raw, key: m.m.value }
                : { ...raw, value: m.m.value };
        frames[pick(m.i)] = { item: { kind: 'rawIavl', raw: next }, fields: undefined, body: undefined, prefix: f.prefix };
        break;
      }
    }
  }
  return serializeFrames(frames.map((f) => ({ body: bodyOf(f), ...(f.prefix === undefined ? {} : { prefix: f.prefix }) })));
}

function fieldsOf(f: WorkFrame): PbField[] {
  if (f.fields !== undefined) return f.fields;
  if (f.item !== undefined) return itemFields(f.item);
  return [bytesField(9, f.body ?? new Uint8Array(0))];
}

/** Encoded bodies of unmutated items (the same objects recur in every case). */
const bodyCache = new WeakMap<object, Uint8Array>();

function bodyOf(f: WorkFrame): Uint8Array {
  if (f.body !== undefined) return f.body;
  if (f.fields === undefined && f.item !== undefined) {
    let body = bodyCache.get(f.item);
    if (body === undefined) {
      body = encodeFields(itemFields(f.item));
      bodyCache.set(f.item, body);
    }
    f.body = body;
    return body;
  }
  f.body = encodeFields(fieldsOf(f));
  return f.body;
}

/** Mutations of a whole stream: frame/item level first, then byte level. At least one in total. */
export const streamCaseArb = fc
  .record({
    stream: fc.array(streamMutationArb, { maxLength: 3 }),
    bytes: fc.array(byteMutationArb, { maxLength: 3 }),
    chunks: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
  })
  .filter((c) => c.stream.length + c.bytes.length > 0);

export function buildStream(items: readonly SnapshotItem[], c: { stream: readonly StreamMutation[]; bytes: readonly ByteMutation[] }): Uint8Array {
  let bytes = mutateStream(items, c.stream);
  for (const m of c.bytes) bytes = applyByteMutation(bytes, m);
  return bytes;
}

/** Splits `bytes` into chunks of the given sizes (cycled), so frames straddle chunk borders. */
export function chunked(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  let k = 0;
  while (pos < bytes.length) {
    const size = sizes[k++ % sizes.length]!;
    // Fresh copies: the decoder may keep views of pushed chunks.
    out.push(bytes.slice(pos, pos + size));
    pos += size;
  }
  return out;
}

/** What decoding a whole stream gave: the items before any failure, and the failure. */
export interface DecodeResult {
  readonly items: SnapshotItem[];
  readonly error: StoreError | undefined;
}

/** Decodes `chunks` through a fresh {@link SnapshotItemDecoder}, collecting items until it fails. */
export function decodeChunks(chunks: readonly Uint8Array[], maxFrameSize?: number): DecodeResult {
  const decoder = new SnapshotItemDecoder(maxFrameSize === undefined ? {} : { maxFrameSize });
  const items: SnapshotItem[] = [];
  try {
    for (const chunk of chunks) items.push(...decoder.push(chunk));
    // The sticky failure of a chunk that also completed items surfaces here.
    decoder.end();
    return { items, error: undefined };
  } catch (error) {
    // After a failure every call fails the same way (sticky), never with another type.
    const e = asStoreError(error);
    const again = typedOutcome(() => decoder.push(new Uint8Array(1)));
    if (again.ok || again.error !== e) throw new Error(`decoder failure is not sticky: ${e.code} then ${again.ok ? 'ok' : again.error.code}`);
    return { items, error: e };
  }
}

/**
 * A {@link BatchReader} over a byte stream, decoding it lazily chunk by chunk: what a restore from
 * a network or file stream sees. Decoder failures surface from `read`, after the items before them.
 */
export function byteStreamReader(chunks: readonly Uint8Array[], maxFrameSize?: number): BatchReader<SnapshotItem> & { closed: boolean } {
  const decoder = new SnapshotItemDecoder(maxFrameSize === undefined ? {} : { maxFrameSize });
  const pending: SnapshotItem[] = [];
  let next = 0;
  let ended = false;
  const reader = {
    closed: false,
    async read(max: number): Promise<readonly SnapshotItem[]> {
      while (pending.length < max && !ended) {
        if (next < chunks.length) {
          const items = decoder.push(chunks[next++]!);
          for (const item of items) pending.push(item);
          if (pending.length > 0) break;
        } else {
          ended = true;
          decoder.end();
        }
      }
      return pending.splice(0, max);
    },
    async close(): Promise<void> {
      reader.closed = true;
    },
  };
  return reader;
}

/** Fast deep equality of item lists (jest's `toEqual` is too slow for thousands of cases). */
export function sameItems(a: readonly SnapshotItem[], b: readonly SnapshotItem[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameItem(a[i]!, b[i]!)) return false;
  return true;
}

export function sameItem(x: SnapshotItem, y: SnapshotItem): boolean {
  switch (x.kind) {
    case 'store':
      return y.kind === 'store' && x.name === y.name;
    case 'iavl':
      return y.kind === 'iavl' && x.version === y.version && x.height === y.height && equalBytes(x.key, y.key) && equalBytes(x.value, y.value);
    case 'extension':
      return y.kind === 'extension' && x.name === y.name && x.format === y.format;
    case 'extensionPayload':
      return y.kind === 'extensionPayload' && equalBytes(x.payload, y.payload);
  }
}

/** Fails (plain throw, no jest matcher cost) unless `condition`. */
export function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

/** Error codes a snapshot byte stream may legitimately fail decoding with. */
export const DECODE_CODES = new Set(['ERR_TRUNCATED', 'ERR_INVALID_ARGUMENT', 'ERR_FRAME_TOO_LARGE', 'ERR_VERSION_RANGE']);
