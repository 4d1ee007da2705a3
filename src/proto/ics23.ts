import { StoreError } from '../core/errors.js';
import { cosmos } from './generated.js';
import { checkInt32, decodeWith, ownBytes, readerInput } from './wire.js';

/**
 * ICS23 commitment proofs (`cosmos.ics23.v1`, formats.md §5) as plain objects in exactly the
 * shape `@confio/ics23` verifies (`ics23.ICommitmentProof`: camelCase fields, enum numbers,
 * `Uint8Array` bytes), so a proof we build or decode goes straight into `verifyMembership`.
 * Decoded objects have every scalar populated (0 / empty bytes when absent): the verifier
 * compares `leaf.prehashKey !== spec.prehashKey`, so `undefined` would not do.
 */

/** The generated `cosmos.ics23.v1` namespace: message classes and enums, for raw protobufjs use. */
export import ics23v1 = cosmos.ics23.v1;

/**
 * ICS23 hash operations (`SHA256 = 1`, ...), numerically identical to upstream, to the generated
 * `cosmos.ics23.v1.HashOp` and to `@confio/ics23` (a test compares them).
 */
export const HashOp = {
  NO_HASH: 0,
  SHA256: 1,
  SHA512: 2,
  KECCAK256: 3,
  RIPEMD160: 4,
  BITCOIN: 5,
  SHA512_256: 6,
  BLAKE2B_512: 7,
  BLAKE2S_256: 8,
  BLAKE3: 9,
} as const;
/** A {@link HashOp} value. */
export type HashOp = (typeof HashOp)[keyof typeof HashOp];
/** ICS23 length prefixes of leaf key/value (`VAR_PROTO = 1`, ...), numerically as upstream. */
export const LengthOp = {
  NO_PREFIX: 0,
  VAR_PROTO: 1,
  VAR_RLP: 2,
  FIXED32_BIG: 3,
  FIXED32_LITTLE: 4,
  FIXED64_BIG: 5,
  FIXED64_LITTLE: 6,
  REQUIRE_32_BYTES: 7,
  REQUIRE_64_BYTES: 8,
} as const;
/** A {@link LengthOp} value. */
export type LengthOp = (typeof LengthOp)[keyof typeof LengthOp];

/** `hash(prefix ‖ length(prehashKey(key)) ‖ key' ‖ length(prehashValue(value)) ‖ value')`. */
export interface LeafOp {
  readonly hash: number;
  readonly prehashKey: number;
  readonly prehashValue: number;
  readonly length: number;
  readonly prefix: Uint8Array;
}

/** `hash(prefix ‖ child ‖ suffix)`: one step up the tree. */
export interface InnerOp {
  readonly hash: number;
  readonly prefix: Uint8Array;
  readonly suffix: Uint8Array;
}

/** Proof that `key` maps to `value`: a leaf op, then inner ops from the leaf up to the root. */
export interface ExistenceProof {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly leaf?: LeafOp;
  /** Mutable array type only because `@confio/ics23` declares it so. */
  readonly path: InnerOp[];
}

/** Proof that `key` is absent: existence proofs of its left and right neighbours. */
export interface NonExistenceProof {
  readonly key: Uint8Array;
  readonly left?: ExistenceProof;
  readonly right?: ExistenceProof;
}

/** One entry of a {@link BatchProof}. */
export interface BatchEntry {
  readonly exist?: ExistenceProof;
  readonly nonexist?: NonExistenceProof;
}

/** Several proofs against one root. */
export interface BatchProof {
  readonly entries: BatchEntry[];
}

/** An existence proof whose path indexes {@link CompressedBatchProof.lookupInners}. */
export interface CompressedExistenceProof {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly leaf?: LeafOp;
  readonly path: number[];
}

/** A non-existence proof made of compressed neighbour proofs. */
export interface CompressedNonExistenceProof {
  readonly key: Uint8Array;
  readonly left?: CompressedExistenceProof;
  readonly right?: CompressedExistenceProof;
}

/** One entry of a {@link CompressedBatchProof}. */
export interface CompressedBatchEntry {
  readonly exist?: CompressedExistenceProof;
  readonly nonexist?: CompressedNonExistenceProof;
}

/** A batch proof with inner ops deduplicated into a lookup table. */
export interface CompressedBatchProof {
  readonly entries: CompressedBatchEntry[];
  readonly lookupInners: InnerOp[];
}

/** `CommitmentProof`: at most one of the four members is set. */
export interface CommitmentProof {
  readonly exist?: ExistenceProof;
  readonly nonexist?: NonExistenceProof;
  readonly batch?: BatchProof;
  readonly compressed?: CompressedBatchProof;
}

/**
 * What the encoder accepts: any member may be absent or `null` and arrays may be readonly, so
 * our decoded proofs, proofs built by the IAVL tree and `@confio/ics23`'s own
 * `ICommitmentProof` objects all encode without conversion.
 */
export type ProofInput<T> = T extends Uint8Array
  ? Uint8Array
  : T extends readonly (infer U)[]
    ? readonly ProofInput<U>[]
    : T extends object
      ? { readonly [K in keyof T]?: ProofInput<T[K]> | null }
      : T;

/** Any {@link CommitmentProof}-shaped object the encoder accepts. */
export type CommitmentProofInput = ProofInput<CommitmentProof>;

type Maybe<T> = T | null | undefined;
type Props = Record<string, unknown>;

// ---------------------------------------------------------------- encode: plain → message props

function enumIn(value: Maybe<number>, what: string): number | undefined {
  return value === null || value === undefined ? undefined : checkInt32(value, what);
}

function bytesIn(value: Maybe<Uint8Array>, what: string): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  if (!(value instanceof Uint8Array)) throw new StoreError('ERR_INVALID_ARGUMENT', `${what} must be a Uint8Array`);
  return value;
}

/** Drops `undefined` members so protobufjs's `hasOwnProperty` checks see only real fields. */
function compact(props: Props): Props {
  for (const k of Object.keys(props)) if (props[k] === undefined) delete props[k];
  return props;
}

function leafIn(l: Maybe<ProofInput<LeafOp>>): Props | undefined {
  if (l === null || l === undefined) return undefined;
  return compact({
    hash: enumIn(l.hash, 'leaf hash'),
    prehashKey: enumIn(l.prehashKey, 'leaf prehashKey'),
    prehashValue: enumIn(l.prehashValue, 'leaf prehashValue'),
    length: enumIn(l.length, 'leaf length'),
    prefix: bytesIn(l.prefix, 'leaf prefix'),
  });
}

function innerIn(op: ProofInput<InnerOp>): Props {
  return compact({
    hash: enumIn(op.hash, 'inner hash'),
    prefix: bytesIn(op.prefix, 'inner prefix'),
    suffix: bytesIn(op.suffix, 'inner suffix'),
  });
}

function existIn(p: Maybe<ProofInput<ExistenceProof>>): Props | undefined {
  if (p === null || p === undefined) return undefined;
  return compact({
    key: bytesIn(p.key, 'proof key'),
    value: bytesIn(p.value, 'proof value'),
    leaf: leafIn(p.leaf),
    path: p.path?.map(innerIn),
  });
}

function nonexistIn(p: Maybe<ProofInput<NonExistenceProof>>): Props | undefined {
  if (p === null || p === undefined) return undefined;
  return compact({ key: bytesIn(p.key, 'proof key'), left: existIn(p.left), right: existIn(p.right) });
}

function compressedExistIn(p: Maybe<ProofInput<CompressedExistenceProof>>): Props | undefined {
  if (p === null || p === undefined) return undefined;
  return compact({
    key: bytesIn(p.key, 'proof key'),
    value: bytesIn(p.value, 'proof value'),
    leaf: leafIn(p.leaf),
    path: p.path?.map((i) => checkInt32(i, 'compressed path index')),
  });
}

function compressedNonexistIn(p: Maybe<ProofInput<CompressedNonExistenceProof>>): Props | undefined {
  if (p === null || p === undefined) return undefined;
  return compact({
    key: bytesIn(p.key, 'proof key'),
    left: compressedExistIn(p.left),
    right: compressedExistIn(p.right),
  });
}

function oneOf(props: Props, what: string): Props {
  const set = Object.keys(compact(props));
  if (set.length > 1) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `${what} sets ${set.join(' and ')}; at most one is allowed`);
  }
  return props;
}

function commitmentIn(p: CommitmentProofInput): Props {
  return oneOf(
    {
      exist: existIn(p.exist),
      nonexist: nonexistIn(p.nonexist),
      batch:
        p.batch === null || p.batch === undefined
          ? undefined
          : {
              entries: (p.batch.entries ?? []).map((e) =>
                oneOf({ exist: existIn(e.exist), nonexist: nonexistIn(e.nonexist) }, 'batch entry'),
              ),
            },
      compressed:
        p.compressed === null || p.compressed === undefined
          ? undefined
          : {
              entries: (p.compressed.entries ?? []).map((e) =>
                oneOf(
                  { exist: compressedExistIn(e.exist), nonexist: compressedNonexistIn(e.nonexist) },
                  'compressed batch entry',
                ),
              ),
              lookupInners: (p.compressed.lookupInners ?? []).map(innerIn),
            },
    },
    'commitment proof',
  );
}

/**
 * Encodes a `CommitmentProof` with Go's byte layout (zero scalars and empty bytes omitted).
 * Fails with `ERR_INVALID_ARGUMENT` when more than one oneof member is set or a field has the
 * wrong type.
 */
export function encodeCommitmentProof(proof: CommitmentProofInput): Uint8Array {
  const props = commitmentIn(proof) as cosmos.ics23.v1.CommitmentProof.$Properties;
  return ownBytes(cosmos.ics23.v1.CommitmentProof.encode(props).finish());
}

// ---------------------------------------------------------------- decode: message → plain

interface LeafMsg {
  hash?: Maybe<number>;
  prehashKey?: Maybe<number>;
  prehashValue?: Maybe<number>;
  length?: Maybe<number>;
  prefix?: Maybe<Uint8Array>;
}
interface InnerMsg {
  hash?: Maybe<number>;
  prefix?: Maybe<Uint8Array>;
  suffix?: Maybe<Uint8Array>;
}
interface ExistMsg {
  key?: Maybe<Uint8Array>;
  value?: Maybe<Uint8Array>;
  leaf?: Maybe<LeafMsg>;
  path?: Maybe<readonly InnerMsg[]>;
}
interface NonexistMsg {
  key?: Maybe<Uint8Array>;
  left?: Maybe<ExistMsg>;
  right?: Maybe<ExistMsg>;
}
interface CompressedExistMsg {
  key?: Maybe<Uint8Array>;
  value?: Maybe<Uint8Array>;
  leaf?: Maybe<LeafMsg>;
  path?: Maybe<readonly number[]>;
}
interface CompressedNonexistMsg {
  key?: Maybe<Uint8Array>;
  left?: Maybe<CompressedExistMsg>;
  right?: Maybe<CompressedExistMsg>;
}

function leafOut(l: LeafMsg): LeafOp {
  return {
    hash: l.hash ?? 0,
    prehashKey: l.prehashKey ?? 0,
    prehashValue: l.prehashValue ?? 0,
    length: l.length ?? 0,
    prefix: ownBytes(l.prefix),
  };
}

function innerOut(op: InnerMsg): InnerOp {
  return { hash: op.hash ?? 0, prefix: ownBytes(op.prefix), suffix: ownBytes(op.suffix) };
}

function existOut(p: ExistMsg): ExistenceProof {
  const base = { key: ownBytes(p.key), value: ownBytes(p.value), path: (p.path ?? []).map(innerOut) };
  return p.leaf ? { ...base, leaf: leafOut(p.leaf) } : base;
}

function nonexistOut(p: NonexistMsg): NonExistenceProof {
  return {
    key: ownBytes(p.key),
    ...(p.left ? { left: existOut(p.left) } : {}),
    ...(p.right ? { right: existOut(p.right) } : {}),
  };
}

function compressedExistOut(p: CompressedExistMsg): CompressedExistenceProof {
  const base = { key: ownBytes(p.key), value: ownBytes(p.value), path: [...(p.path ?? [])] };
  return p.leaf ? { ...base, leaf: leafOut(p.leaf) } : base;
}

function compressedNonexistOut(p: CompressedNonexistMsg): CompressedNonExistenceProof {
  return {
    key: ownBytes(p.key),
    ...(p.left ? { left: compressedExistOut(p.left) } : {}),
    ...(p.right ? { right: compressedExistOut(p.right) } : {}),
  };
}

/**
 * Decodes a `CommitmentProof` into the plain shape above (directly usable with
 * `@confio/ics23`). Malformed input fails with `ERR_TRUNCATED` / `ERR_INVALID_ARGUMENT`;
 * empty input decodes to `{}` (no member set), which every verifier rejects.
 */
export function decodeCommitmentProof(bytes: Uint8Array): CommitmentProof {
  return decodeWith('ICS23 CommitmentProof', (): CommitmentProof => {
    const m = cosmos.ics23.v1.CommitmentProof.decode(readerInput(bytes));
    switch (m.proof) {
      case 'exist':
        return { exist: existOut(m.exist!) };
      case 'nonexist':
        return { nonexist: nonexistOut(m.nonexist!) };
      case 'batch':
        return {
          batch: {
            entries: (m.batch!.entries ?? []).map((e): BatchEntry => {
              if (e.exist) return { exist: existOut(e.exist) };
              if (e.nonexist) return { nonexist: nonexistOut(e.nonexist) };
              return {};
            }),
          },
        };
      case 'compressed':
        return {
          compressed: {
            entries: (m.compressed!.entries ?? []).map((e): CompressedBatchEntry => {
              if (e.exist) return { exist: compressedExistOut(e.exist) };
              if (e.nonexist) return { nonexist: compressedNonexistOut(e.nonexist) };
              return {};
            }),
            lookupInners: (m.compressed!.lookupInners ?? []).map(innerOut),
          },
        };
      default:
        return {};
    }
  });
}
