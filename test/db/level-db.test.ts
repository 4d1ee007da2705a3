import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.js';
import { openDb, type LevelDb } from '../../src/db/level-db.js';
import { Namespace } from '../../src/db/namespace.js';
import { errorOf } from '../support/errors.js';

/** Writes `batches` × 256 KiB of random (incompressible) keys and values, in no key order. */
async function writeRandom(db: LevelDb, batches: number): Promise<void> {
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
  for (let batch = 0; batch < batches; batch++) {
    const write = db.batch();
    for (let i = 0; i < 512; i++) write.put(random(new Uint8Array(16)), random(new Uint8Array(512)));
    await write.write();
  }
}

function tableFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.ldb') || name.endsWith('.sst'));
}

/** The sizes of a LevelDB folder's table files after writing 20 MiB into it. */
async function tableSizes(dir: string, maxFileSize: number | undefined): Promise<number[]> {
  const db: LevelDb = await openDb(dir, maxFileSize === undefined ? {} : { maxFileSize });
  try {
    // 20 MiB of random keys and values, then a compaction of everything: it merges the tables the
    // memtables were flushed into and cuts its output at the configured size. Keys in order would
    // not do: LevelDB moves a flushed memtable that overlaps nothing down a level, uncut.
    await writeRandom(db, 80);
    await (db as unknown as { compactRange(start: Uint8Array, end: Uint8Array): Promise<void> }).compactRange(new Uint8Array(1), new Uint8Array(17).fill(0xff));
  } finally {
    await db.close();
  }
  return tableFiles(dir).map((name) => statSync(join(dir, name)).size);
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

  it('writeBufferSize reaches LevelDB: 6 MiB stay in memory under 16 MiB, and are flushed to tables under 1 MiB', async () => {
    const written = async (name: string, writeBufferSize: number): Promise<string[]> => {
      const dir = join(root, name);
      const db = await openDb(dir, { writeBufferSize });
      try {
        await writeRandom(db, 24);
        // No wait needed: a write that finds the memtable full waits for the flush before it.
        return tableFiles(dir);
      } finally {
        await db.close();
      }
    };
    // LevelDB's default (4 MiB) would have flushed once; 1 MiB flushes about six times (and
    // compacts four level-0 tables into two of 2 MiB on the way).
    expect(await written('large-buffer', 16 * MIB)).toEqual([]);
    expect((await written('small-buffer', MIB)).length).toBeGreaterThanOrEqual(2);
  });

  it('creates missing parent folders, and names the one it cannot create (a procfs path would hang LevelDB)', async () => {
    const nested = join(root, 'a', 'b', 'c.db');
    const db = await openDb(nested);
    await db.close();
    expect(statSync(nested).isDirectory()).toBe(true);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(openDb(join(file, 'x.db'))).rejects.toMatchObject({ code: 'ERR_IO', message: expect.stringMatching(/^cannot open database at .*a-file\/x\.db: ENOTDIR/) });
    if (existsSync('/proc/self')) {
      await expect(openDb('/proc/rxsm-nope/x.db')).rejects.toMatchObject({
        code: 'ERR_IO',
        message: "cannot open database at /proc/rxsm-nope/x.db: ENOENT: no such file or directory, mkdir '/proc/rxsm-nope'",
      });
    }
  });

  it('a corrupt table is ERR_IO naming the database folder', async () => {
    const dir = join(root, 'corrupt');
    const db = await openDb(dir, { writeBufferSize: 64 * 1024 });
    const ns = new Namespace(db, new Uint8Array(0));
    // Compressible values: a damaged compressed block is detected without checksums.
    for (let batch = 0; batch < 10; batch++) {
      await ns.write(Array.from({ length: 500 }, (_, i) => ns.put(utf8(`key-${batch}-${i}`), utf8('value-'.repeat(20)))));
    }
    await db.close();
    const tables = tableFiles(dir);
    expect(tables.length).toBeGreaterThan(0);
    for (const name of tables) {
      const bytes = readFileSync(join(dir, name));
      for (let at = 1000; at + 16 < bytes.length - 2000; at += 4096) bytes.fill(0xde, at, at + 16);
      writeFileSync(join(dir, name), bytes);
    }
    const reopened = await openDb(dir);
    try {
      const reader = new Namespace(reopened, new Uint8Array(0)).range();
      const error = await errorOf(
        (async () => {
          while ((await reader.next(1000)).length > 0);
        })(),
      );
      expect(error.code).toBe('ERR_IO');
      expect(error.message).toMatch(new RegExp(`^database iteration failed in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (Error: )?Corruption: `));
    } finally {
      await reopened.close();
    }
  });

  it.each([
    ['maxFileSize', 'below 1 MiB, which LevelDB would silently raise', 512 * 1024, '1048576 to 67108864'],
    ['maxFileSize', 'above 64 MiB, where LevelDB 1.20 overflows its compaction limits', 64 * MIB + 1, '1048576 to 67108864'],
    ['maxFileSize', 'not a whole number', 1.5 * MIB + 0.5, '1048576 to 67108864'],
    ['writeBufferSize', 'below 64 KiB, which LevelDB would silently raise', 64 * 1024 - 1, '65536 to 1073741824'],
    ['writeBufferSize', 'above 1 GiB, which LevelDB would silently lower', 1024 * MIB + 1, '65536 to 1073741824'],
    ['writeBufferSize', 'not a whole number', 4 * MIB + 0.5, '65536 to 1073741824'],
  ] as const)('%s %s is rejected, naming the value', async (option, _why, size, range) => {
    await expect(openDb(join(root, 'bad-size'), { [option]: size })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining(`${option} ${size} is not a whole number from ${range}`),
    });
  });
});
