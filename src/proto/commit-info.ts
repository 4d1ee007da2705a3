import { StoreError } from '../core/errors.js';
import { checkVersion } from '../core/version.js';
import { cosmos, type google } from './generated.js';
import {
  checkInt32,
  checkInt64Input,
  decodeWith,
  int64ToSafeInteger,
  int64ToVersion,
  ownBytes,
  readerInput,
  type Int64Like,
} from './wire.js';

/**
 * Commit info records, the per-version index of store root hashes: store/v1 (rootmulti) writes
 * `cosmos.store.v1beta1.CommitInfo` under `s/<height>`, our store/v2 SC writes
 * `cosmos.store.v2.CommitInfo` under `c/<version>` (formats.md §3). One plain typed model
 * serves both, with versions as checked `number`s; the codec never lets an int64 reach
 * protobufjs as a `bigint` (which it would silently encode as 0).
 */

/** A store's root hash at a version. */
export interface CommitId {
  readonly version: number;
  readonly hash: Uint8Array;
}

/** One store's entry in a {@link CommitInfo}. */
export interface StoreInfo {
  readonly name: string;
  readonly commitId: CommitId;
  /** Commitment structure, e.g. `"iavl"` (store/v2 only; absent when empty). */
  readonly structure?: string;
}

/** `google.protobuf.Timestamp`: seconds since the Unix epoch (may be negative) and nanos. */
export interface ProtoTimestamp {
  readonly seconds: number;
  readonly nanos: number;
}

/** The commit info of one version. */
export interface CommitInfo {
  readonly version: number;
  readonly storeInfos: readonly StoreInfo[];
  /** Block time; absent when not on the wire. Go's v1 writes it always (zero time if unset). */
  readonly timestamp?: ProtoTimestamp;
  /** The app hash (store/v2 only; absent when empty). */
  readonly commitHash?: Uint8Array;
}

interface MessageProps {
  version: number;
  storeInfos: { name: string; commitId: { version: number; hash: Uint8Array }; structure?: string }[];
  timestamp?: google.protobuf.Timestamp.$Properties;
  commitHash?: Uint8Array;
}

/** What both generated CommitInfo classes look like once decoded. */
interface DecodedCommitInfo {
  version?: Int64Like;
  storeInfos?: readonly DecodedStoreInfo[] | null;
  timestamp?: { seconds?: Int64Like; nanos?: number | null } | null;
  commitHash?: Uint8Array | null;
}

interface DecodedStoreInfo {
  name?: string | null;
  commitId?: { version?: Int64Like; hash?: Uint8Array | null } | null;
  structure?: string | null;
}

function toMessage(info: CommitInfo, v2: boolean): MessageProps {
  const props: MessageProps = {
    version: checkVersion(info.version, 'commit info version'),
    storeInfos: info.storeInfos.map((s, i) => {
      if (typeof s.name !== 'string') {
        throw new StoreError('ERR_INVALID_ARGUMENT', `store info ${i}: name must be a string`);
      }
      if (!(s.commitId?.hash instanceof Uint8Array)) {
        throw new StoreError('ERR_INVALID_ARGUMENT', `store info ${i} (${s.name}): commit id hash must be a Uint8Array`);
      }
      return {
        name: s.name,
        commitId: {
          version: checkVersion(s.commitId.version, `store ${s.name} commit id version`),
          hash: s.commitId.hash,
        },
        ...(v2 && s.structure !== undefined ? { structure: s.structure } : {}),
      };
    }),
  };
  if (info.timestamp !== undefined) {
    props.timestamp = {
      seconds: checkInt64Input(info.timestamp.seconds, 'commit info timestamp seconds'),
      nanos: checkInt32(info.timestamp.nanos, 'commit info timestamp nanos'),
    };
  }
  if (v2 && info.commitHash !== undefined) props.commitHash = info.commitHash;
  return props;
}

function fromMessage(m: DecodedCommitInfo, v2: boolean): CommitInfo {
  const storeInfos = (m.storeInfos ?? []).map((s): StoreInfo => {
    const name = s.name ?? '';
    const commitId: CommitId = {
      version: int64ToVersion(s.commitId?.version, `store ${name} commit id version`),
      hash: ownBytes(s.commitId?.hash),
    };
    return v2 && s.structure ? { name, commitId, structure: s.structure } : { name, commitId };
  });
  const info: { -readonly [K in keyof CommitInfo]: CommitInfo[K] } = {
    version: int64ToVersion(m.version, 'commit info version'),
    storeInfos,
  };
  if (m.timestamp !== null && m.timestamp !== undefined) {
    info.timestamp = {
      seconds: int64ToSafeInteger(m.timestamp.seconds, 'commit info timestamp seconds'),
      nanos: m.timestamp.nanos ?? 0,
    };
  }
  if (v2 && m.commitHash && m.commitHash.length > 0) info.commitHash = ownBytes(m.commitHash);
  return info;
}

/**
 * Encodes `cosmos.store.v1beta1.CommitInfo` (store/v1 `s/<height>`). Fields v1beta1 lacks
 * (`structure`, `commitHash`) are not written.
 */
export function encodeCommitInfoV1(info: CommitInfo): Uint8Array {
  return ownBytes(cosmos.store.v1beta1.CommitInfo.encode(toMessage(info, false)).finish());
}

/** Decodes `cosmos.store.v1beta1.CommitInfo`; malformed input fails with a typed error. */
export function decodeCommitInfoV1(bytes: Uint8Array): CommitInfo {
  return decodeWith('v1beta1 CommitInfo', () =>
    fromMessage(cosmos.store.v1beta1.CommitInfo.decode(readerInput(bytes)), false),
  );
}

/** Encodes `cosmos.store.v2.CommitInfo` (store/v2 SC `c/<version>`). */
export function encodeCommitInfoV2(info: CommitInfo): Uint8Array {
  return ownBytes(cosmos.store.v2.CommitInfo.encode(toMessage(info, true)).finish());
}

/** Decodes `cosmos.store.v2.CommitInfo`; malformed input fails with a typed error. */
export function decodeCommitInfoV2(bytes: Uint8Array): CommitInfo {
  return decodeWith('v2 CommitInfo', () => fromMessage(cosmos.store.v2.CommitInfo.decode(readerInput(bytes)), true));
}
