import { ByteWriter } from '../core/byte-writer.js';
import { StoreError } from '../core/errors.js';
import { checkVersion } from '../core/version.js';
import { DelimitedFrameDecoder, type DelimitedFrameDecoderOptions } from './delimited.js';
import { cosmos } from './generated.js';
import { checkInt32, checkUint32, decodeWith, int64ToVersion, ownBytes, readerInput } from './wire.js';

/**
 * Snapshot stream items (`cosmos.store.snapshots.v2.SnapshotItem`, formats.md §6) as a typed
 * discriminated union, so the restore loop can `switch (item.kind)` instead of probing which
 * oneof member protobufjs happened to set.
 */

const Msg = cosmos.store.snapshots.v2.SnapshotItem;

/** Starts a store: the IAVL items that follow, up to the next store item, belong to it. */
export interface SnapshotStoreItem {
  readonly kind: 'store';
  readonly name: string;
}

/**
 * One exported IAVL node (post-order). Leaves have height 0 and a value; inner nodes have
 * height ≥ 1 and an empty value. `version` is the version the node was last re-created at.
 */
export interface SnapshotIAVLItem {
  readonly kind: 'iavl';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly version: number;
  readonly height: number;
}

/** Starts the payloads of an extension snapshotter (`format` is its own version number). */
export interface SnapshotExtensionItem {
  readonly kind: 'extension';
  readonly name: string;
  readonly format: number;
}

/** One opaque payload of the current extension snapshotter. */
export interface SnapshotExtensionPayloadItem {
  readonly kind: 'extensionPayload';
  readonly payload: Uint8Array;
}

/** One item of a snapshot stream. */
export type SnapshotItem =
  | SnapshotStoreItem
  | SnapshotIAVLItem
  | SnapshotExtensionItem
  | SnapshotExtensionPayloadItem;

function toMessage(item: SnapshotItem): cosmos.store.snapshots.v2.SnapshotItem.$Properties {
  switch (item.kind) {
    case 'store':
      return { store: { name: checkString(item.name, 'snapshot store name') } };
    case 'iavl':
      return {
        iavl: {
          key: checkBytes(item.key, 'snapshot IAVL item key'),
          value: checkBytes(item.value, 'snapshot IAVL item value'),
          version: checkVersion(item.version, 'snapshot IAVL item version'),
          height: checkInt32(item.height, 'snapshot IAVL item height'),
        },
      };
    case 'extension':
      return {
        extension: {
          name: checkString(item.name, 'snapshot extension name'),
          format: checkUint32(item.format, 'snapshot extension format'),
        },
      };
    case 'extensionPayload':
      return { extensionPayload: { payload: checkBytes(item.payload, 'snapshot extension payload') } };
    default:
      throw new StoreError(
        'ERR_INVALID_ARGUMENT',
        `unknown snapshot item kind ${JSON.stringify((item as { kind?: unknown }).kind)}`,
      );
  }
}

/**
 * Encodes one item as a `SnapshotItem` protobuf message (no length prefix). Empty bytes and
 * zero numbers are omitted on the wire, as Go does.
 */
export function encodeSnapshotItem(item: SnapshotItem): Uint8Array {
  return ownBytes(Msg.encode(toMessage(item)).finish());
}

/**
 * Decodes one `SnapshotItem` message. Absent bytes decode as empty arrays (never `undefined`),
 * byte fields are fresh copies, versions beyond 2^53−1 fail with `ERR_VERSION_RANGE`, and
 * malformed input fails with `ERR_TRUNCATED` / `ERR_INVALID_ARGUMENT`, never a bare protobufjs
 * error. A message carrying none of the four known items is rejected. Strings are decoded as
 * protobufjs does (invalid UTF-8 becomes U+FFFD), so such a store name simply matches no store.
 */
export function decodeSnapshotItem(bytes: Uint8Array): SnapshotItem {
  return decodeWith('snapshot item', () => {
    const m = Msg.decode(readerInput(bytes));
    switch (m.item) {
      case 'store':
        return { kind: 'store', name: m.store?.name ?? '' };
      case 'iavl': {
        const n = m.iavl!;
        return {
          kind: 'iavl',
          key: ownBytes(n.key),
          value: ownBytes(n.value),
          version: int64ToVersion(n.version, 'snapshot IAVL item version'),
          height: n.height ?? 0,
        };
      }
      case 'extension':
        return { kind: 'extension', name: m.extension?.name ?? '', format: m.extension?.format ?? 0 };
      case 'extensionPayload':
        return { kind: 'extensionPayload', payload: ownBytes(m.extensionPayload?.payload) };
      default:
        throw new StoreError(
          'ERR_INVALID_ARGUMENT',
          'snapshot item carries none of store (1), iavl (2), extension (3), extension_payload (4)',
        );
    }
  });
}

/** One item as a stream frame: `uvarint(length) ‖ SnapshotItem`. */
export function encodeSnapshotItemFrame(item: SnapshotItem): Uint8Array {
  return new ByteWriter(64).bytes(encodeSnapshotItem(item)).finish();
}

/** Items as consecutive length-delimited frames, the byte stream Go's snapshot writer produces. */
export function encodeSnapshotItemFrames(items: Iterable<SnapshotItem>): Uint8Array {
  const writer = new ByteWriter(256);
  for (const item of items) writer.bytes(encodeSnapshotItem(item));
  return writer.finish();
}

/**
 * Incremental decoder of a length-delimited snapshot item stream: {@link push} chunks of any
 * size and get the items they complete; {@link end} at end-of-stream fails with
 * `ERR_TRUNCATED` on a partial frame. Frames over `maxFrameSize` (default Go's 64 MB) fail
 * with `ERR_FRAME_TOO_LARGE` before their body is buffered.
 *
 * Like {@link DelimitedFrameDecoder}, errors are sticky and never hide earlier items: items
 * decoded before a failure are returned and the failure is thrown by the next call. Decoded
 * items own their bytes (they do not alias the chunks).
 */
export class SnapshotItemDecoder {
  private readonly frames: DelimitedFrameDecoder;
  private failure: StoreError | undefined;

  constructor(options: DelimitedFrameDecoderOptions = {}) {
    this.frames = new DelimitedFrameDecoder({ what: 'snapshot stream', ...options });
  }

  /** Number of items decoded so far. */
  get itemsDecoded(): number {
    return this.frames.framesDecoded;
  }

  /** Total stream bytes consumed so far. */
  get offset(): number {
    return this.frames.offset;
  }

  /** Consumes `chunk` and returns the items it completes (possibly none). */
  push(chunk: Uint8Array): SnapshotItem[] {
    if (this.failure !== undefined) throw this.failure;
    const frames = this.frames.push(chunk);
    const first = this.frames.framesDecoded - frames.length;
    const items: SnapshotItem[] = [];
    for (let i = 0; i < frames.length; i++) {
      try {
        items.push(decodeSnapshotItem(frames[i]!));
      } catch (error) {
        const e = error as StoreError;
        this.failure = new StoreError(e.code, `snapshot stream item ${first + i}: ${e.message}`, {
          cause: e,
          details: { ...e.details, itemIndex: first + i },
        });
        if (items.length === 0) throw this.failure;
        break;
      }
    }
    return items;
  }

  /** Declares end-of-stream; fails with `ERR_TRUNCATED` if an item is incomplete. */
  end(): void {
    if (this.failure !== undefined) throw this.failure;
    this.frames.end();
  }
}

/**
 * Decodes a chunked snapshot stream (e.g. a Node readable or a `fetch` body) into items, in
 * order; any failure is thrown after every item before it has been yielded.
 */
export async function* decodeSnapshotItemStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: DelimitedFrameDecoderOptions = {},
): AsyncGenerator<SnapshotItem, void, undefined> {
  const decoder = new SnapshotItemDecoder(options);
  for await (const chunk of chunks) yield* decoder.push(chunk);
  decoder.end();
}

function checkString(value: string, what: string): string {
  if (typeof value !== 'string') {
    throw new StoreError('ERR_INVALID_ARGUMENT', `${what} must be a string`);
  }
  return value;
}

function checkBytes(value: Uint8Array, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `${what} must be a Uint8Array`);
  }
  return value;
}
