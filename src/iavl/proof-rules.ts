import { StoreError } from '../core/errors.js';
import { readVarint } from '../core/varint.js';
import { HashOp, type CommitmentProof, type ExistenceProof } from './proof.js';

function reject(message: string): never {
  throw new StoreError('ERR_INVALID_PROOF', message);
}

/**
 * Checks one op prefix the way Go ics23 `validateIavlOps` does: three non-negative varints
 * (height, size, version), a height of at least the layer number, nothing after them in a leaf,
 * and exactly the child length byte (1) or a length-prefixed sibling plus length byte (34) after
 * them in an inner op. `@confio/ics23` skips these checks; Go nodes do not.
 */
function checkPrefix(prefix: Uint8Array, layer: number, hash: number): void {
  let offset = 0;
  const values: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = readVarint(prefix, offset, ['height', 'size', 'version'][i]);
    if (r.value < 0) reject(`layer ${layer}: negative ${['height', 'size', 'version'][i]} ${r.value}`);
    values.push(r.value);
    offset = r.offset;
  }
  if (values[0]! < layer) reject(`layer ${layer}: height ${values[0]} is below the layer number`);
  const remaining = prefix.length - offset;
  if (layer === 0) {
    if (remaining !== 0) reject(`leaf prefix has ${remaining} bytes after height, size and version`);
    return;
  }
  if (remaining !== 1 && remaining !== 34) reject(`layer ${layer}: inner prefix has ${remaining} bytes after its varints, expected 1 or 34`);
  if (hash !== HashOp.SHA256) reject(`layer ${layer}: inner hash op ${hash} is not SHA256`);
}

/** Applies Go's IAVL op rules to an existence proof (leaf is layer 0, path[i] is layer i+1). */
export function checkIavlExistenceRules(proof: ExistenceProof): void {
  if ((proof as { leaf?: unknown }).leaf === undefined) reject('existence proof has no leaf op');
  if (proof.key.length === 0) reject('proof key is empty');
  if (proof.value.length === 0) reject('proof value is empty');
  checkPrefix(proof.leaf.prefix, 0, proof.leaf.hash);
  proof.path.forEach((op, i) => checkPrefix(op.prefix, i + 1, op.hash));
}

/** Applies Go's IAVL op rules to every existence proof inside a commitment proof. */
export function checkIavlProofRules(proof: CommitmentProof): void {
  if (proof.exist) checkIavlExistenceRules(proof.exist);
  if (proof.nonexist) {
    if (proof.nonexist.left) checkIavlExistenceRules(proof.nonexist.left);
    if (proof.nonexist.right) checkIavlExistenceRules(proof.nonexist.right);
    if (!proof.nonexist.left && !proof.nonexist.right) reject('non-existence proof has no neighbour');
  }
  if (!proof.exist && !proof.nonexist) reject('commitment proof is empty');
}
