import { liveMigration } from '../examples/live-migration.js';

describe('the README example (examples/live-migration.ts)', () => {
  it('commits through the migration, switches to store/v2, and reads an old key from it', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const { switchedAt, value } = await liveMigration(20, 50);
      expect(switchedAt).toBeGreaterThan(20);
      expect(value).toBe('v3');
      expect(log.mock.calls.length).toBeGreaterThanOrEqual(switchedAt - 20);
    } finally {
      log.mockRestore();
    }
  });
});
