import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type LevelDb } from '../../src/db/level-db.js';

/** The sizes of a LevelDB folder's table files after writing 20 MiB into it. */
async function tableSizes(dir: string, maxFileSize: number | undefined): Promise<number[]> {
  const db: LevelDb = await openDb(dir, maxFileSize === undefined ? {} : { maxFileSize });
  try {
    // 20 MiB of random keys and values, then a compaction of everything: it merges the tables the
    // memtables were flushed into and cuts its output at the configured size. Keys in order would
    // not do: LevelDB moves a flushed memtable that overlaps nothing down a level, uncut.
    let state = 0x2545f491;
    const random = (bytes: Uint8Array): Uint8Array => {
      for (let j = 0; j < bytes.length; j++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        bytes[j] = state & 0xff;
      }
      return bytes;
    };
    for (let batch = 0; batch < 80; batch++) {
      const write = db.batch();
      for (let i = 0; i < 512; i++) write.put(random(new Uint8Array(16)), random(new Uint8Array(512)));
      await write.write();
    }
    await (db as unknown as { compactRange(start: Uint8Array, end: Uint8Array): Promise<void> }).compactRange(new Uint8Array(1), new Uint8Array(17).fill(0xff));
  } finally {
    await db.close();
  }
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ldb') || name.endsWith('.sst'))
    .map((name) => statSync(join(dir, name)).size);
}

const MIB = 1024 * 1024;

describe('openDb on disk', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rxsm-level-db-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('maxFileSize reaches LevelDB: a compaction cuts tables at that size instead of 2 MiB', async () => {
    const small = await tableSizes(join(root, 'small'), MIB);
    const large = await tableSizes(join(root, 'large'), undefined);
    const total = (sizes: number[]): number => sizes.reduce((a, b) => a + b, 0);
    // The same 20 MiB in both.
    expect(total(small)).toBeGreaterThan(20 * 1024 * 1024);
    expect(Math.abs(total(small) - total(large))).toBeLessThan(total(large) * 0.05);
    // LevelDB closes a table once it reaches the size, so it overshoots by about a block (4 KiB)
    // and the table's index and filter; by default tables reach 2 MiB.
    for (const size of small) expect(size).toBeLessThan(MIB + 32 * 1024);
    expect(Math.max(...large)).toBeGreaterThan(1.5 * MIB);
    for (const size of large) expect(size).toBeLessThan(2 * MIB + 32 * 1024);
  });

  it.each([
    ['below 1 MiB, which LevelDB would silently raise', 512 * 1024],
    ['above 64 MiB, where LevelDB 1.20 overflows its compaction limits', 64 * MIB + 1],
    ['not a whole number', 1.5 * MIB + 0.5],
  ])('maxFileSize %s is rejected, naming the value', async (_why, maxFileSize) => {
    await expect(openDb(join(root, 'bad-size'), { maxFileSize })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining(`maxFileSize ${maxFileSize} is not a whole number from 1048576 to 67108864`),
    });
  });
});
