// One life of a node that is migrating: builds store/v1 up to HEIGHT (continuing after a crash),
// opens the root store with migration (which resumes what a killed predecessor left), commits
// blocks up to FINAL, and waits until store/v2 holds FINAL. Prints its phase as JSON lines so the
// harness knows where each SIGKILL landed. Usage: worker.mjs <dir> <height> <final> <keysPerStore>
import { join } from 'node:path';
import { openDb, LegacyStore, RootStore } from '../../dist/index.js';
import { block, STORES } from './blocks.mjs';

const [dir, heightArg, finalArg, keysArg] = process.argv.slice(2);
const HEIGHT = Number(heightArg);
const FINAL = Number(finalArg);
const KEYS = Number(keysArg);
const say = (phase, extra = {}) => process.stdout.write(`${JSON.stringify({ phase, ...extra })}\n`);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const v1db = await openDb(join(dir, 'application.db'));
const v2db = await openDb(join(dir, 'v2.db'));
const v1 = await LegacyStore.open(v1db, { storeKeys: STORES });
if (v1.latestVersion < HEIGHT) {
  say('build');
  while (v1.latestVersion < HEIGHT) await v1.commit(block(v1.latestVersion + 1, KEYS));
}
const root = await RootStore.open({
  v1: { db: v1db, storeKeys: STORES },
  v2: { db: v2db },
  migrate: true,
  batchSize: 128,
  progressIntervalMs: 0,
});
let phase = '';
const enter = (next) => {
  if (next !== phase) say((phase = next));
};
root.events$.subscribe((event) => {
  if (event.type === 'progress') enter(event.phase === 'restore' ? 'restore' : event.phase === 'replay' ? 'replay' : 'live');
  if (event.type === 'switched') enter('switch');
  if (event.type === 'migrationFailed') {
    say('failed', { error: String(event.error) });
    process.exit(3);
  }
});
while (root.latestVersion < FINAL) {
  await root.commit(block(root.latestVersion + 1, KEYS));
  if (root.phase === 'switched') enter('switch');
  // Fast blocks while restoring build up a backlog to replay; slower ones after let the
  // migration catch up, so the switch and post-switch commits happen before FINAL.
  await pause(phase === 'restore' || phase === '' ? 2 : 30);
}
while (root.phase === 'migrating' && root.migratedVersion < FINAL) await pause(5);
await root.close();
await v1db.close();
await v2db.close();
say('done');
