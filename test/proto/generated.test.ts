/**
 * The committed static code: it must load under plain Node ESM (the published runtime), not only
 * under jest's CommonJS transform, and it must be exactly what `npm run proto` generates.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmos, google } from '../../src/proto/generated.js';

const ROOT = resolve(__dirname, '../..');

describe('generated protobuf code', () => {
  it('exposes the packages under jest (CommonJS transform)', () => {
    expect(typeof cosmos.store.snapshots.v2.SnapshotItem.encode).toBe('function');
    expect(typeof cosmos.ics23.v1.CommitmentProof.decode).toBe('function');
    expect(typeof cosmos.store.v1beta1.CommitInfo.encode).toBe('function');
    expect(typeof cosmos.store.v2.CommitInfo.encode).toBe('function');
    expect(typeof google.protobuf.Int64Value.encode).toBe('function');
    expect(typeof google.protobuf.Timestamp.encode).toBe('function');
  });

  it('loads under Node ESM with a working runtime (Reader/Writer/util and Long for int64)', () => {
    const url = pathToFileURL(join(ROOT, 'src/proto/generated.js')).href;
    const script = `
      const { cosmos } = await import(${JSON.stringify(url)});
      const T = cosmos.store.snapshots.v2.SnapshotItem;
      const bytes = T.encode({ iavl: { key: new Uint8Array([1]), version: 2 ** 40, height: 1 } }).finish();
      const item = T.decode(new Uint8Array(bytes)).iavl;
      const v = item.version;
      console.log(Buffer.from(bytes).toString('hex'), typeof v, v.high, v.low);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
    expect(out).toBe('120c0a0101188080808080202001 object 256 0');
  });

  it('is up to date with the .proto sources (deterministic regeneration)', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts/gen-proto.mjs'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out).toMatch(/up to date/);
  });
});
