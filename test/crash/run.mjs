// `npm run test:crash`: the long crash run (at least 100 SIGKILLs across every phase). The default
// jest suite runs a short one through the same script (CRASH_KILLS=12).
import { runCrashHarness } from './harness.mjs';

const targetKills = Number(process.env.CRASH_KILLS ?? 100);
const killsPerTrial = Number(process.env.CRASH_PER_TRIAL ?? 10);
const seed = Number(process.env.CRASH_SEED ?? 1);
const quiet = process.env.CRASH_QUIET === '1';
const started = Date.now();
const report = await runCrashHarness({ targetKills, killsPerTrial, seed, log: (line) => quiet || console.log(line) });
const seconds = Math.round((Date.now() - started) / 1000);
console.log(JSON.stringify({ ...report, seconds }));
console.log(
  `kill points: ${report.total} (${Object.entries(report.kills).map(([p, n]) => `${p} ${n}`).join(', ')}); ` +
    `divergences: ${report.divergences.length}`,
);
const ok = report.divergences.length === 0 && report.total >= targetKills;
process.exit(ok ? 0 : 1);
