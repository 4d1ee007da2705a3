import { migrateDbOptions } from '../../src/cli/migrate.js';

describe('migrate: LevelDB options of the two databases', () => {
  it('the table cache goes to both, the table size to the store/v2 target only', () => {
    expect(migrateDbOptions({ maxOpenFiles: 74, maxFileSize: 1024 * 1024 })).toEqual({
      source: { maxOpenFiles: 74 },
      target: { maxOpenFiles: 74, maxFileSize: 1024 * 1024 },
    });
    expect(migrateDbOptions({ maxFileSize: 4 * 1024 * 1024 })).toEqual({ source: {}, target: { maxFileSize: 4 * 1024 * 1024 } });
    expect(migrateDbOptions({})).toEqual({ source: {}, target: {} });
  });
});
