import { concatBytes, utf8 } from '../../src/core/bytes.js';
import { encodeUvarint } from '../../src/core/varint.js';
import { openDb } from '../../src/db/level-db.js';
import { describeRecord, readV2Head } from '../../src/cli/databases.js';
import { errorOf } from '../support/errors.js';

describe('readV2Head', () => {
  it('reads the SC and SS latest versions as the stores themselves decode them: trailing or missing bytes are errors', async () => {
    const db = await openDb();
    try {
      expect(await readV2Head(db)).toMatchObject({ scLatest: 0, ssLatest: 0, record: undefined });
      await db.put(utf8('sc/c/latest'), concatBytes(encodeUvarint(5), Uint8Array.of(0)));
      expect((await errorOf(readV2Head(db))).code).toBe('ERR_TRAILING_BYTES');
      await db.del(utf8('sc/c/latest'));
      await db.put(utf8('ss/m/latest'), new Uint8Array(9).fill(0xff));
      const ss = await errorOf(readV2Head(db));
      expect(ss.message).toMatch(/metadata latest version has 9 bytes, expected 8/);
    } finally {
      await db.close();
    }
  });
});

describe('describeRecord', () => {
  it('names each migration record status with its height', () => {
    expect(describeRecord(undefined)).toBe('none');
    expect(describeRecord({ status: 'migrating', height: 6 })).toBe('migrating (height 6, unfinished)');
    expect(describeRecord({ status: 'migrating', height: 6, stores: ['bank', 'gov'] })).toBe('migrating (height 6 of stores bank, gov, unfinished)');
    expect(describeRecord({ status: 'switched', height: 6, switchedAt: 7 })).toBe('switched (snapshot height 6, store/v2 from version 7)');
    expect(describeRecord({ status: 'abandoned', height: 6 })).toBe('abandoned (height 6; the partial store/v2 is wiped before the next migration)');
  });

  it('reads an abandoned record back, and refuses an unknown status', async () => {
    const db = await openDb();
    try {
      await db.put(utf8('root/migration'), utf8(JSON.stringify({ status: 'abandoned', height: 9 })));
      expect((await readV2Head(db)).record).toEqual({ status: 'abandoned', height: 9 });
      for (const corrupt of [{ status: 'paused', height: 9 }, { status: 'migrating', height: 9, stores: 'bank' }]) {
        await db.put(utf8('root/migration'), utf8(JSON.stringify(corrupt)));
        expect((await errorOf(readV2Head(db))).message).toBe('the migration record is corrupt');
      }
    } finally {
      await db.close();
    }
  });
});
