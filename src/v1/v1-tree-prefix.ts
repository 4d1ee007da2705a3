import { utf8 } from '../core/bytes.js';

/**
 * Where one module's IAVL tree lies in a store/v1 `application.db`: under `s/k:<store name>/`
 * (formats.md §3). Apart from the layout so that the snapshot export worker finds the trees
 * without loading the protobuf code of the metadata.
 */
export function v1TreePrefix(storeName: string): Uint8Array {
  return utf8(`s/k:${storeName}/`);
}
