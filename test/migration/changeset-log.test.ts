import { utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs } from '../../src/core/changeset.js';
import { changesetLogKey } from '../../src/core/changeset-log-key.js';
import { Namespace } from '../../src/db/namespace.js';
import { ChangesetLog } from '../../src/migration/changeset-log.js';
import { BACKENDS } from '../support/db.js';
import { caughtStoreError } from '../support/errors.js';

const entry = (v: number) => changesetFromPairs(v, [['bank', utf8(`k${v}`), utf8(`v${v}`)], ['acc', utf8('gone'), undefined]]);

describe.each(BACKENDS)('ChangesetLog ($name)', ({ open }) => {
  it('stores entries under m/cs_<16 hex>, reads them back, reports first/latest and trims', async () => {
    const { db, cleanup } = await open();
    try {
      const log = ChangesetLog.in(new Namespace(db, utf8('log/')));
      expect(await log.latest()).toBe(0);
      for (let v = 5; v <= 12; v++) await log.append(entry(v));
      expect(await db.get(Buffer.concat([Buffer.from('log/'), changesetLogKey(10)]))).toBeDefined();
      expect(Buffer.from(changesetLogKey(10)).toString()).toBe('m/cs_000000000000000a');
      expect(await log.first()).toBe(5);
      expect(await log.latest()).toBe(12);
      expect(await log.read(7)).toEqual(entry(7));
      expect(await log.read(13)).toBeUndefined();
      expect(await log.trim(9)).toBe(5);
      expect(await log.first()).toBe(10);
      expect(await log.read(9)).toBeUndefined();
    } finally {
      await cleanup();
    }
  });
});

describe('ChangesetLog entry integrity', () => {
  const value = ChangesetLog.encodeEntry(entry(3));

  it('round-trips and carries version and CRC-32', () => {
    expect(ChangesetLog.decodeEntry(3, value)).toEqual(entry(3));
    expect(Buffer.from(value.subarray(0, 8)).readBigUInt64BE()).toBe(3n);
  });

  it('detects a flipped byte, a misplaced entry and a truncated one', () => {
    const flipped = Uint8Array.from(value);
    flipped[flipped.length - 1]! ^= 1;
    expect(caughtStoreError(() => ChangesetLog.decodeEntry(3, flipped)).code).toBe('ERR_CHECKSUM');
    const misplaced = caughtStoreError(() => ChangesetLog.decodeEntry(4, value));
    expect(misplaced.code).toBe('ERR_CHECKSUM');
    expect(misplaced.message).toMatch(/under version 4 says version 3/);
    expect(caughtStoreError(() => ChangesetLog.decodeEntry(3, value.subarray(0, 8))).code).toBe('ERR_CHECKSUM');
  });
});
