import { StoreError } from '../core/errors.js';
import type { SnapshotItem } from '../proto/snapshot-item.js';

const STORE = 1;
const IAVL = 2;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Packs a batch of store and IAVL snapshot items into one buffer that a worker thread can transfer
 * (not copy) to another thread. Layout: `u32 count`, then per item `u8 kind` and, for a store,
 * `u32 length ‖ utf-8 name`; for an IAVL node, `u32 height ‖ f64 version ‖ u32 length ‖ key ‖
 * u32 length ‖ value`, big-endian. It is an in-process format between our own threads, never
 * stored: the snapshot stream format stays the protobuf one (formats.md §6).
 */
export function packSnapshotItems(items: readonly SnapshotItem[]): ArrayBuffer {
  const names: Uint8Array[] = [];
  let size = 4;
  for (const item of items) {
    if (item.kind === 'store') {
      const name = utf8.encode(item.name);
      names.push(name);
      size += 5 + name.length;
    } else if (item.kind === 'iavl') {
      size += 21 + item.key.length + item.value.length;
    } else {
      throw new StoreError('ERR_INVALID_ARGUMENT', `cannot pack a snapshot item of kind ${item.kind}: only store and IAVL items are`);
    }
  }
  const buffer = new ArrayBuffer(size);
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  view.setUint32(0, items.length);
  let at = 4;
  let nameIndex = 0;
  for (const item of items) {
    if (item.kind === 'store') {
      const name = names[nameIndex++]!;
      bytes[at] = STORE;
      view.setUint32(at + 1, name.length);
      bytes.set(name, at + 5);
      at += 5 + name.length;
    } else if (item.kind === 'iavl') {
      bytes[at] = IAVL;
      view.setUint32(at + 1, item.height);
      view.setFloat64(at + 5, item.version);
      view.setUint32(at + 13, item.key.length);
      bytes.set(item.key, at + 17);
      at += 17 + item.key.length;
      view.setUint32(at, item.value.length);
      bytes.set(item.value, at + 4);
      at += 4 + item.value.length;
    }
  }
  return buffer;
}

/**
 * The items of a buffer made by {@link packSnapshotItems}. Keys and values are views into the
 * buffer, not copies: the buffer lives as long as any of them does. A buffer that does not hold
 * exactly what its header announces is `ERR_TRUNCATED` or `ERR_TRAILING_BYTES`.
 */
export function unpackSnapshotItems(buffer: ArrayBuffer): SnapshotItem[] {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  const need = (at: number, length: number): void => {
    if (at + length > bytes.length) {
      throw new StoreError('ERR_TRUNCATED', `packed snapshot batch of ${bytes.length} bytes ends inside an item at offset ${at}`, {
        details: { offset: at, length: bytes.length },
      });
    }
  };
  need(0, 4);
  const count = view.getUint32(0);
  const out: SnapshotItem[] = new Array(count);
  let at = 4;
  for (let i = 0; i < count; i++) {
    need(at, 1);
    const kind = bytes[at];
    if (kind === STORE) {
      need(at + 1, 4);
      const length = view.getUint32(at + 1);
      need(at + 5, length);
      out[i] = { kind: 'store', name: fromUtf8.decode(bytes.subarray(at + 5, at + 5 + length)) };
      at += 5 + length;
    } else if (kind === IAVL) {
      need(at + 1, 16);
      const height = view.getUint32(at + 1);
      const version = view.getFloat64(at + 5);
      const keyLength = view.getUint32(at + 13);
      need(at + 17, keyLength + 4);
      const key = bytes.subarray(at + 17, at + 17 + keyLength);
      at += 17 + keyLength;
      const valueLength = view.getUint32(at);
      need(at + 4, valueLength);
      const value = valueLength === 0 ? EMPTY : bytes.subarray(at + 4, at + 4 + valueLength);
      at += 4 + valueLength;
      out[i] = { kind: 'iavl', key, value, version, height };
    } else {
      throw new StoreError('ERR_NODE_CORRUPT', `packed snapshot batch has an item of unknown kind ${kind} at offset ${at}`, {
        details: { offset: at, kind: kind ?? null },
      });
    }
  }
  if (at !== bytes.length) {
    throw new StoreError('ERR_TRAILING_BYTES', `packed snapshot batch has ${bytes.length - at} bytes after its ${count} items`, {
      details: { trailing: bytes.length - at },
    });
  }
  return out;
}
