import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The short crash run of the default suite (the long one is `npm run test:crash`): a migrating
 * node is killed with SIGKILL at 12 moments, restarted each time, and must end with exactly the
 * store/v2 an uninterrupted run produces (same SC app hash at every version, same SS contents).
 */
describe('crash safety (SIGKILL, restart, compare)', () => {
  it('survives 12 kills across the phases with zero divergences', () => {
    const run = spawnSync(process.execPath, [join(__dirname, 'run.mjs')], {
      env: { ...process.env, CRASH_KILLS: '12', CRASH_PER_TRIAL: '6', CRASH_SEED: '7', CRASH_QUIET: '1' },
      encoding: 'utf8',
      timeout: 230_000,
    });
    const report = JSON.parse(run.stdout.split('\n').find((line) => line.startsWith('{'))!) as {
      total: number;
      divergences: string[];
      kills: Record<string, number>;
    };
    expect(report.divergences).toEqual([]);
    expect(report.total).toBeGreaterThanOrEqual(12);
    expect(run.status).toBe(0);
  }, 240_000);
});
