import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The shared test vectors folder (`../shared/vectors` next to the repository). */
export const VECTORS_DIR = resolve(__dirname, '../../../shared/vectors');

/** Parses a JSON vector file from the shared folder. */
export function readVectors<T = any>(relative: string): T {
  return JSON.parse(readFileSync(join(VECTORS_DIR, relative), 'utf8')) as T;
}
