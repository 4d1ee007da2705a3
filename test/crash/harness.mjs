// The crash harness: runs the migrating worker as a child process, kills it with SIGKILL at
// random moments, restarts it, and in the end compares store/v2 with a reference computed
// without any crash: same SC app hash at every version from the height on, same SS contents.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDb, LegacyStore, CommitStore, StorageStore, commitInfoHash, toHex } from '../../dist/index.js';
import { block, rand32, STORES } from './blocks.mjs';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));


/** App hash of every version and the final contents, from an in-memory store/v1 without crashes. */
async function reference(final, keys) {
  const db = await openDb();
  const v1 = await LegacyStore.open(db, { storeKeys: STORES });
  const hashes = [];
  for (let v = 1; v <= final; v++) hashes[v] = toHex(commitInfoHash((await v1.commit(block(v, keys))).storeInfos));
  const contents = {};
  for (const store of STORES) {
    const tree = v1.multi.tree(store);
    const leaves = [];
    const reader = await tree.getImmutable(final);
    for (let i = 0; i < reader.size; i++) {
      const { key, value } = await reader.getByIndex(i);
      leaves.push([toHex(key), toHex(value)]);
    }
    contents[store] = leaves;
  }
  await db.close();
  return { hashes, contents };
}

/**
 * Runs one worker life. `plan` = { phase, delayMs }: SIGKILL `delayMs` after the worker reports
 * `phase` (or after the spawn when `phase` is undefined); `plan` undefined lets it finish.
 */
function runWorker(dir, o, plan) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, dir, String(o.height), String(o.final), String(o.keys)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let phase = 'start';
    let stderr = '';
    let killed = false;
    let timer;
    const arm = () => {
      timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, plan.delayMs);
    };
    if (plan && plan.phase === undefined) arm();
    child.stdout.on('data', (chunk) => {
      for (const line of String(chunk).split('\n')) {
        if (!line.trim()) continue;
        phase = JSON.parse(line).phase;
        if (plan && plan.phase === phase && timer === undefined) arm();
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, phase, killed: killed && code !== 0, stderr });
    });
  });
}

async function verify(dir, o, ref) {
  const problems = [];
  const v2db = await openDb(join(dir, 'v2.db'));
  try {
    const sc = await CommitStore.open(v2db, { storeKeys: STORES, prefix: 'sc/' });
    const ss = await StorageStore.open(v2db, { prefix: 'ss/', storeKeys: STORES });
    if (sc.latestVersion !== o.final) problems.push(`SC latest ${sc.latestVersion}, expected ${o.final}`);
    if (ss.latestVersion !== o.final) problems.push(`SS latest ${ss.latestVersion}, expected ${o.final}`);
    for (let v = o.height; v <= Math.min(o.final, sc.latestVersion); v++) {
      const hash = toHex(await sc.appHash(v));
      if (hash !== ref.hashes[v]) problems.push(`SC app hash at ${v} is ${hash}, expected ${ref.hashes[v]}`);
    }
    for (const store of STORES) {
      const got = [];
      for await (const [key, value] of ss.iterator(store, o.final)) got.push([toHex(key), toHex(value)]);
      if (JSON.stringify(got) !== JSON.stringify(ref.contents[store])) problems.push(`SS contents of ${store} at ${o.final} differ (${got.length} vs ${ref.contents[store].length} keys)`);
    }
    await ss.close();
  } finally {
    await v2db.close();
  }
  return problems;
}

/** The phases a kill is aimed at, in turn; every other kill lands at a uniformly random moment. */
const TARGETS = ['restore', 'replay', 'live', 'switch'];

/**
 * Runs independent migrations until `targetKills` SIGKILLs landed: each trial kills its worker up
 * to `killsPerTrial` times — alternately at a random moment after the spawn and a few random
 * milliseconds after the worker entered a target phase (restore, replay, live, switch) — then
 * lets it finish and compares store/v2 with the crash-free reference. Returns the kills per
 * phase they actually landed in, and every divergence found.
 */
export async function runCrashHarness({ targetKills = 100, killsPerTrial = 10, height = 30, final = 120, keys = 20, maxDelayMs = 4000, seed = 1, log = () => {} } = {}) {
  const o = { height, final, keys };
  const ref = await reference(final, keys);
  const rand = rand32(seed);
  const kills = {};
  const divergences = [];
  let restarts = 0;
  let total = 0;
  let trials = 0;
  while (total < targetKills && trials < targetKills * 2) {
    const dir = mkdtempSync(join(tmpdir(), 'rxsm-crash-'));
    trials++;
    try {
      for (let attempt = 0; ; attempt++) {
        const plan =
          attempt >= killsPerTrial || total >= targetKills
            ? undefined
            : attempt % 2 === 0
              ? { phase: undefined, delayMs: Math.floor(rand() * maxDelayMs) }
              : (() => {
                  const phase = TARGETS[Math.floor(attempt / 2) % TARGETS.length];
                  // `live` lasts until the next commit switches (a few ms): aim early in it.
                  return { phase, delayMs: Math.floor(rand() * (phase === 'live' ? 8 : 40)) };
                })();
        const result = await runWorker(dir, o, plan);
        restarts++;
        if (result.killed) {
          kills[result.phase] = (kills[result.phase] ?? 0) + 1;
          total++;
          continue;
        }
        if (result.code !== 0) divergences.push(`trial ${trials}: worker exited with ${result.code} in phase ${result.phase}: ${result.stderr.slice(0, 500)}`);
        break;
      }
      for (const problem of await verify(dir, o, ref)) divergences.push(`trial ${trials}: ${problem}`);
      log(`trial ${trials}: ${total} kills so far ${JSON.stringify(kills)}, divergences ${divergences.length}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { kills, total, trials, restarts, divergences };
}
