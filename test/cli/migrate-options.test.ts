import { MIGRATE_WRITE_BUFFER_SIZE, migrateDbOptions } from '../../src/cli/migrate.js';

describe('migrate: LevelDB options of the two databases', () => {
  it('the table cache goes to both, the table size and the write buffer to the store/v2 target only', () => {
    expect(migrateDbOptions({ maxOpenFiles: 74, maxFileSize: 1024 * 1024, writeBufferSize: 4 * 1024 * 1024 })).toEqual({
      source: { maxOpenFiles: 74 },
      target: { maxOpenFiles: 74, maxFileSize: 1024 * 1024, writeBufferSize: 4 * 1024 * 1024 },
    });
    expect(migrateDbOptions({ maxFileSize: 4 * 1024 * 1024 })).toEqual({ source: {}, target: { maxFileSize: 4 * 1024 * 1024, writeBufferSize: 16 * 1024 * 1024 } });
  });

  it('the target\'s write buffer is 16 MiB unless given (LevelDB\'s own is 4 MiB)', () => {
    expect(MIGRATE_WRITE_BUFFER_SIZE).toBe(16 * 1024 * 1024);
    expect(migrateDbOptions({})).toEqual({ source: {}, target: { writeBufferSize: MIGRATE_WRITE_BUFFER_SIZE } });
  });
});
