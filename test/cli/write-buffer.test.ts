import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/db.js';
import { cli, summaryOf, writeV1 } from './cli-support.js';

const STORES = ['bank', 'staking'];
/** About 4 MiB of SS pairs and as much again of SC leaves: between LevelDB's 4 MiB and the default 16 MiB. */
const KEYS = 4000;
const VALUE_BYTES = 1024;

/** The table files of a LevelDB folder: what its write buffer has flushed (and compacted) so far. */
function tables(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.ldb') || name.endsWith('.sst'));
}

describe('migrate --write-buffer-size: the store/v2 target\'s memtable', () => {
  let dir: ReturnType<typeof tempDir>;
  let from: string;

  beforeAll(async () => {
    dir = tempDir('rxsm-cli-write-buffer-');
    from = join(dir.path, 'application.db');
    await writeV1(from, STORES, KEYS, VALUE_BYTES);
  }, 60_000);

  afterAll(() => dir.cleanup());

  it('by default (16 MiB) the whole migration stays in the memtable and its log: no table is written', async () => {
    const to = join(dir.path, 'default-v2');
    const result = await cli('migrate', '--from', from, '--to', to);
    expect(result.code).toBe(0);
    expect(summaryOf(result)).toMatchObject({ status: 'migrated', keys: KEYS, verified: true });
    // LevelDB's own 4 MiB would have flushed at least once.
    expect(tables(to)).toEqual([]);
  });

  it('with LevelDB\'s 4 MiB given back, the memtable is flushed to tables', async () => {
    const to = join(dir.path, 'small-buffer-v2');
    const result = await cli('migrate', '--from', from, '--to', to, '--write-buffer-size', '4194304');
    expect(result.code).toBe(0);
    expect(summaryOf(result)).toMatchObject({ status: 'migrated', keys: KEYS, verified: true });
    expect(tables(to).length).toBeGreaterThanOrEqual(1);
  });

  it.each(['65535', '1073741825', '4.5'])('rejects %s, naming the range', async (size) => {
    const result = await cli('migrate', '--from', from, '--to', join(dir.path, 'bad-v2'), '--write-buffer-size', size);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`option '--write-buffer-size <bytes>' argument '${size.replace('.', '\\.')}' is invalid. expected a whole number from 65536 to 1073741824`)),
    ]);
  });
});
