import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { concatBytes, utf8 } from '../../src/core/bytes.js';
import { openDb } from '../../src/db/level-db.js';
import { RootStore } from '../../src/root/root-store.js';
import { StorageStore } from '../../src/storage/storage-store.js';
import { TIMELINE_LANES, TimelineRecorder } from '../../src/cli/timeline.js';
import { jsonLine } from '../../src/cli/output.js';
import { tempDir } from '../support/db.js';
import {
  buildOnce,
  cli,
  errorLines,
  expectedRoot,
  goLeafCount,
  goDbPath,
  jsonLines,
  startCli,
  summaryOf,
  writeGoApplicationDb,
  writeV1,
} from './cli-support.js';

/**
 * The `rx-store-migration` command, run as a child process from the compiled dist/ (built once
 * here): demo, migrate, verify, inspect, their JSON output and every error case.
 */
const dir = tempDir('rxsm-cli-');
afterAll(() => dir.cleanup());

beforeAll(() => buildOnce(), 240_000);

function path(...parts: string[]): string {
  return join(dir.path, ...parts);
}

describe('rx-store-migration demo', () => {
  it('migrates while committing, switches, verifies every key and the app-hash chain; JSON events line by line; SVG timeline', async () => {
    const svgPath = path('timeline', 'demo.svg');
    const result = await cli('demo', '--keys', '3000', '--stores', '2', '--block-ms', '5', '--timeline', svgPath);
    expect(errorLines(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    const summary = lines[lines.length - 1];
    expect(summary).toMatchObject({ command: 'demo', verified: true, keys: 3000, stores: ['bank', 'staking'], appHashMismatches: 0, valueMismatches: 0 });
    expect(summary.switchedAt).toBeGreaterThan(summary.height);
    expect(summary.latestVersion).toBe(summary.switchedAt + 5);
    expect(summary.blocks).toBe(summary.latestVersion - summary.height);
    expect(summary.appHashesChecked).toBe(summary.blocks);
    expect(summary.keysVerified).toBeGreaterThanOrEqual(3000);
    expect(summary.keysPerSecond).toBeGreaterThan(0);
    expect(summary.durationMs).toBeGreaterThan(0);
    const types = new Set(lines.slice(0, -1).map((l) => l.type));
    for (const type of ['progress', 'built', 'migrationStarted', 'restored', 'logged', 'applied', 'caughtUp', 'switch', 'switched', 'block', 'verified']) {
      expect(types).toContain(type);
    }
    for (const line of lines.slice(0, -1)) expect(typeof line.t).toBe('number');
    // Byte arrays are hex strings.
    const block = lines.find((l) => l.type === 'block');
    expect(block.appHash).toMatch(/^[0-9a-f]{64}$/);
    expect(block.matchesShadow).toBe(true);
    const switched = lines.find((l) => l.type === 'switched');
    expect(switched).toMatchObject({ version: summary.switchedAt, height: summary.height });

    const svg = readFileSync(svgPath, 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    for (const lane of TIMELINE_LANES) expect(svg).toContain(`>${lane}<`);
    for (const phase of ['snapshot restore: 3,000 keys', 'logged: versions', 'replay', 'live', `switch: version ${summary.switchedAt}`]) {
      expect(svg).toContain(phase);
    }
  });

  it('stops cleanly on Ctrl-C (exit 130) and a rerun in the same folder starts fresh', async () => {
    const work = path('demo-work');
    const run = startCli(['demo', '--keys', '3000', '--stores', '2', '--block-ms', '100', '--dir', work]);
    await run.waitForLine((l) => l.type === 'migrationStarted');
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(errorLines(stopped.stderr)).toEqual([expect.stringMatching(/^rx-store-migration: interrupted: .*a rerun starts fresh$/)]);
    expect(existsSync(join(work, 'application.db'))).toBe(true);

    const again = await cli('demo', '--keys', '3000', '--stores', '2', '--block-ms', '5', '--dir', work);
    expect(again.code).toBe(0);
    expect(summaryOf(again)).toMatchObject({ verified: true, height: 3, dir: work });
  });

  it('refuses a --dir that holds something else', async () => {
    const foreign = path('foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'precious.txt'), 'keep me');
    const result = await cli('demo', '--keys', '10', '--dir', foreign);
    expect(result.code).toBe(2);
    expect(errorLines(result.stderr)).toEqual([expect.stringContaining('is not empty and was not made by the demo')]);
    expect(readFileSync(join(foreign, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('refuses a --timeline it cannot write before running anything', async () => {
    const file = path('not-a-folder');
    writeFileSync(file, 'x');
    const result = await cli('demo', '--keys', '10', '--timeline', join(file, 't.svg'));
    expect(result.code).toBe(2);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/^rx-store-migration: --timeline .*not-a-folder\/t\.svg: cannot write .*\(EEXIST/)]);
    expect(jsonLines(result.stdout).map((l) => l.type ?? l.status)).toEqual(['failed']);
    const folder = await cli('demo', '--keys', '10', '--timeline', dir.path);
    expect(errorLines(folder.stderr)).toEqual([`rx-store-migration: --timeline ${dir.path}: ${dir.path} is a folder, not a file`]);
  });
});

describe('rx-store-migration migrate / verify / inspect on the Go IAVL 0.13 test databases', () => {
  const app = path('go', 'application.db');
  const v2 = path('go', 'v2');

  beforeAll(async () => {
    mkdirSync(path('go'), { recursive: true });
    await writeGoApplicationDb(app, [
      { name: 'bank', goDb: 0 },
      { name: 'staking', goDb: 1 },
    ]);
  });

  it('migrates both trees (stores discovered from the latest CommitInfo), verifies, and RootStore opens the target as switched', async () => {
    const result = await cli('migrate', '--from', app, '--to', v2);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('warning: LevelDB rewrites its journal');
    const lines = jsonLines(result.stdout);
    expect(lines.map((l) => l.type)).toEqual(expect.arrayContaining(['source', 'migrationStarted', 'restored']));
    const summary = lines[lines.length - 1];
    expect(summary).toMatchObject({
      command: 'migrate',
      status: 'migrated',
      height: 6,
      switchedAt: 7,
      stores: ['bank', 'staking'],
      verified: true,
      appHashCompared: true,
      restarted: false,
      storeRoots: { bank: expectedRoot(0, 6), staking: expectedRoot(1, 6) },
    });

    const verify = await cli('verify', '--v1', app, '--v2', v2);
    expect(verify.code).toBe(0);
    const report = summaryOf(verify);
    expect(report).toMatchObject({ command: 'verify', height: 6, verified: true, appHash: { match: true } });
    expect(report.stores).toEqual([
      { store: 'bank', v1: expectedRoot(0, 6), v2: expectedRoot(0, 6), match: true },
      { store: 'staking', v1: expectedRoot(1, 6), v2: expectedRoot(1, 6), match: true },
    ]);

    // The root store serves the migrated target from store/v2 at once and commits on top of it.
    const v1db = await openDb(app);
    const v2db = await openDb(v2);
    try {
      const root = await RootStore.open({ v1: { db: v1db, storeKeys: ['bank', 'staking'] }, v2: { db: v2db } });
      expect(root.phase).toBe('switched');
      expect(root.latestVersion).toBe(6);
      expect(root.migrationHeight).toBe(6);
      const answer = await root.query('bank', utf8('add1'), { prove: true });
      expect(answer.proof!.appHash).toEqual(Buffer.from(report.appHash.v1, 'hex'));
      await root.commit({ changes: [{ storeKey: 'bank', pairs: [{ key: utf8('new'), value: utf8('1'), remove: false }] }] });
      expect(root.latestVersion).toBe(7);
      await root.close();
    } finally {
      await v1db.close();
      await v2db.close();
    }

    // A finished target is reported and left alone.
    const again = await cli('migrate', '--from', app, '--to', v2);
    expect(again.code).toBe(0);
    expect(summaryOf(again)).toMatchObject({ status: 'already-migrated', height: 6, switchedAt: 7 });
    expect(again.stderr).toContain('already migrated');
  });

  it('migrates each Go database alone at --height 3 (--stores) and verifies it', async () => {
    for (const goDb of [0, 1]) {
      const single = path('go', `single-${goDb}.db`);
      const target = path('go', `single-${goDb}-v2`);
      await writeGoApplicationDb(single, [{ name: 'bank', goDb }]);
      // The memory-limited recipe on one of the two: the smallest table cache and table size LevelDB
      // accepts (it raises anything below 74 files and 1 MiB), and the walk on the main thread.
      const tableCache = goDb === 1 ? ['--max-open-files', '74', '--max-file-size', '1048576', '--no-export-worker'] : [];
      const result = await cli('migrate', '--from', single, '--to', target, '--height', '3', '--stores', 'bank', ...tableCache);
      expect(result.code).toBe(0);
      expect(summaryOf(result)).toMatchObject({ height: 3, switchedAt: 4, storeRoots: { bank: expectedRoot(goDb, 3) }, appHashCompared: true });
      expect(result.stderr).toContain('store/v1 has versions above 3');
      const verify = await cli('verify', '--v1', single, '--v2', target);
      expect(verify.code).toBe(0);
      expect(summaryOf(verify)).toMatchObject({ height: 3, verified: true });
      // Asked again for the latest state, the target that stops at 3 is refused; at --height 3 it is the answer.
      const latest = await cli('migrate', '--from', single, '--to', target);
      expect(latest.code).toBe(2);
      expect(errorLines(latest.stderr)).toEqual([
        `rx-store-migration: target ${target} was migrated at height 3, but ${single} is at version 6: the target lacks versions 4..6; migrate into a new folder (or pass --height 3)`,
      ]);
      expect(summaryOf(await cli('migrate', '--from', single, '--to', target, '--height', '3'))).toMatchObject({ status: 'already-migrated', height: 3 });
      // A root store over the two would serve version 3 as the latest and lose 4..6: refused.
      const [v1db, v2db] = [await openDb(single), await openDb(target)];
      try {
        const refused = await RootStore.open({ v1: { db: v1db, storeKeys: ['bank'] }, v2: { db: v2db } }).then(
          () => undefined,
          (error: unknown) => error as { code: string; message: string },
        );
        expect(refused).toMatchObject({
          code: 'ERR_STATE',
          message: 'store/v1 holds versions 4..6, committed after the switch to store/v2 at version 4 (migration height 3): store/v2 does not have them; migrate again into an empty store/v2',
        });
      } finally {
        await v1db.close();
        await v2db.close();
      }
    }
  });

  it('verify exits 1 on a difference and names it', async () => {
    const partial = path('go', 'bank-only-v2');
    expect((await cli('migrate', '--from', app, '--to', partial, '--stores', 'bank')).code).toBe(0);
    const verify = await cli('verify', '--v1', app, '--v2', partial);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('verification failed at version 6: store staking is missing in store/v2');
    const report = summaryOf(verify);
    expect(report.verified).toBe(false);
    expect(report.stores).toContainEqual({ store: 'staking', v1: expectedRoot(1, 6), v2: null, match: false });
  });

  it('inspect describes the store/v1 and the store/v2 databases', async () => {
    const expectedStores = [
      { name: 'bank', keys: goLeafCount(0, 6), rootHash: expectedRoot(0, 6) },
      { name: 'staking', keys: goLeafCount(1, 6), rootHash: expectedRoot(1, 6) },
    ];
    for (const countKeys of [[], ['--count-keys']]) {
      const v1 = summaryOf(await cli('inspect', app, ...countKeys));
      expect(v1).toMatchObject({ command: 'inspect', kind: 'store/v1', latestVersion: 6, keysCounted: countKeys.length > 0 });
      expect(v1.stores).toEqual(expectedStores);
      const target = summaryOf(await cli('inspect', v2, ...countKeys));
      expect(target).toMatchObject({
        kind: 'store/v2',
        keysCounted: countKeys.length > 0,
        migration: { status: 'switched', height: 6, switchedAt: 7 },
        sc: { latestVersion: 7 },
        ss: { latestVersion: 7, earliestVersion: 6 },
      });
      // Version 7 is the first test's root-store commit: one key more in bank.
      expect(target.stores).toEqual([
        { name: 'bank', keys: goLeafCount(0, 6) + 1, rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
        expectedStores[1],
      ]);
    }
  });

  it('inspect --count-keys walks the trees and exits 1 when a root records another key count', async () => {
    const corrupt = path('go', 'root-size.db');
    await writeV1(corrupt, ['bank'], 20);
    const db = await openDb(corrupt);
    // Version 1's root (nonce 1): zigzag varints height 5, then size 20.
    const rootKey = concatBytes(utf8('s/k:bank/s'), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1));
    const root = (await db.get(rootKey))!;
    expect([...root.subarray(0, 2)]).toEqual([5 * 2, 20 * 2]);
    root[1] = 21 * 2;
    await db.put(rootKey, root);
    await db.close();

    // Without walking, inspect reports what the root records, and says so.
    const recorded = await cli('inspect', corrupt);
    expect(recorded.code).toBe(0);
    expect(summaryOf(recorded)).toMatchObject({ keysCounted: false, stores: [{ name: 'bank', keys: 21 }] });
    const text = await cli('inspect', corrupt, '--count-keys');
    expect(text.code).toBe(1);
    expect(errorLines(text.stderr)).toEqual([
      'rx-store-migration: store bank at version 1: its root records 21 keys but the walk found 20 (the node sizes are corrupt)',
    ]);
    expect(summaryOf(text)).toMatchObject({ command: 'inspect', status: 'failed', exitCode: 1 });
  });

  describe('errors: one line on stderr naming the cause, exit 2', () => {
    async function expectError(args: string[], pattern: RegExp): Promise<void> {
      const result = await cli(...args);
      expect(result.code).toBe(2);
      const errors = errorLines(result.stderr);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(pattern);
      // The last stdout line is still a JSON summary, saying what failed.
      expect(summaryOf(result)).toMatchObject({ command: args[0], status: 'failed', error: errors[0]!.slice('rx-store-migration: '.length), exitCode: 2 });
    }

    it('a missing folder', async () => {
      await Promise.all([
        expectError(['migrate', '--from', path('nope'), '--to', path('nope-v2')], /store\/v1 database .*nope does not exist/),
        expectError(['inspect', path('nope')], /does not exist/),
        expectError(['verify', '--v1', app, '--v2', path('nope')], /store\/v2 database .*nope does not exist/),
      ]);
      expect(existsSync(path('nope-v2'))).toBe(false);
    });

    it('a database locked by another process', async () => {
      const held = await openDb(app);
      try {
        await Promise.all([
          expectError(['inspect', app], /database at .*application\.db is locked by another process/),
          expectError(['migrate', '--from', app, '--to', path('locked-v2')], /is locked by another process/),
        ]);
      } finally {
        await held.close();
      }
    });

    it('not a store/v1 database', async () => {
      const raw = path('raw-go-tree');
      await writeRawCopy(goDbPath(0), raw);
      await expectError(['migrate', '--from', raw, '--to', path('raw-v2')], /raw-go-tree is not a store\/v1 application\.db \(no s\/latest key\)/);
      await Promise.all([
        expectError(['migrate', '--from', v2, '--to', path('v2-v2')], /is not a store\/v1 application\.db \(it is a store\/v2 database\)/),
        expectError(['inspect', raw], /is neither a store\/v1 application\.db .* nor a store\/v2 database/),
        expectError(['inspect', dir.path], /is not a LevelDB database \(no CURRENT file/),
      ]);
    });

    it('a version not found: above the latest', async () => {
      // One after the other: both open the same application.db, and LevelDB allows one process at a time.
      await expectError(['migrate', '--from', app, '--to', path('high-v2'), '--height', '99'], /version 99 not found: it is above the latest version 6 of /);
      // (the RootStore test above committed version 7 on top of the migrated target)
      await expectError(['verify', '--v1', app, '--v2', v2, '--height', '99'], /version 99 not found: it is above the latest version \d+ of the store\/v2 SC/);
      await expectError(['migrate', '--from', app, '--to', path('high-v2'), '--stores', 'bank,nosuch'], /store "nosuch" is not in the store\/v1 commit info/);
    });

    it('bad arguments', async () => {
      const [result, missing, noFiles, smallTables, largeTables] = await Promise.all([
        cli('demo', '--keys', 'many'),
        cli('migrate', '--from', app),
        cli('migrate', '--from', app, '--to', path('no-files-v2'), '--max-open-files', '0'),
        cli('migrate', '--from', app, '--to', path('small-tables-v2'), '--max-file-size', '524288'),
        cli('migrate', '--from', app, '--to', path('large-tables-v2'), '--max-file-size', '67108865'),
      ]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining("argument 'many' is invalid")]);
      expect(summaryOf(result)).toEqual({ command: 'demo', status: 'usage', error: expect.stringContaining("argument 'many' is invalid"), exitCode: 2 });
      expect(noFiles.code).toBe(2);
      expect(noFiles.stderr.trim().split('\n')).toEqual([expect.stringMatching(/option '--max-open-files <n>' argument '0' is invalid/)]);
      for (const [tables, size] of [
        [smallTables, '524288'],
        [largeTables, '67108865'],
      ] as const) {
        expect(tables.code).toBe(2);
        expect(tables.stderr.trim().split('\n')).toEqual([
          expect.stringMatching(new RegExp(`option '--max-file-size <bytes>' argument '${size}' is invalid. expected a whole number from 1048576 to 67108864`)),
        ]);
      }
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("required option '--to <dir>' not specified");
    });
  });
});

describe('rx-store-migration migrate: interrupted, then resumed', () => {
  it('Ctrl-C leaves a marked partial target (exit 130); the rerun resumes it from the SS checkpoint', async () => {
    const app = path('big', 'application.db');
    const v2 = path('big', 'v2');
    mkdirSync(path('big'), { recursive: true });
    // 1 KiB values: the SS restore flushes (and checkpoints) every 256 KiB, so a stop after 6,000
    // keys leaves a durable checkpoint to resume from.
    await writeV1(app, ['bank', 'staking', 'gov'], 12_000, 1024);

    const run = startCli(['migrate', '--from', app, '--to', v2, '--batch-size', '64']);
    await run.waitForLine((l) => l.type === 'progress' && Number(l.keys) >= 6_000);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(errorLines(stopped.stderr)).toEqual([expect.stringMatching(/interrupted: the target keeps an unfinished migration at height 12; rerun the same command to resume it/)]);
    expect(summaryOf(stopped)).toMatchObject({ command: 'migrate', status: 'interrupted', exitCode: 130 });
    const partial = summaryOf(await cli('inspect', v2));
    expect(partial.migration).toEqual({ status: 'migrating', height: 12, stores: ['bank', 'gov', 'staking'] });

    const resumed = await cli('migrate', '--from', app, '--to', v2);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/holds an unfinished migration at height 12: resuming \(store\/v2 SS has [\d,]+ of 12,000 keys/);
    const resumeEvent = jsonLines(resumed.stdout).find((l) => l.type === 'resume');
    expect(resumeEvent).toMatchObject({ height: 12 });
    expect(Number(resumeEvent!.ssKeys)).toBeGreaterThan(0);
    expect(jsonLines(resumed.stdout).some((l) => l.type === 'wipe')).toBe(false);
    expect(summaryOf(resumed)).toMatchObject({ status: 'migrated', height: 12, resumed: true, restarted: false, verified: true });
    expect(summaryOf(resumed).resumedSsKeys).toBe(resumeEvent!.ssKeys);
    expect((await cli('verify', '--v1', app, '--v2', v2)).code).toBe(0);
  });

  it('a rerun at another height wipes the unfinished target and starts over', async () => {
    const app = path('big', 'application.db');
    const v2 = path('big', 'v2-other');
    const run = startCli(['migrate', '--from', app, '--to', v2, '--batch-size', '64']);
    await run.waitForLine((l) => l.type === 'progress');
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);

    const again = await cli('migrate', '--from', app, '--to', v2, '--height', '11');
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('holds an unfinished migration at height 12, not 11: wiping it and starting over');
    expect(jsonLines(again.stdout).some((l) => l.type === 'wipe')).toBe(true);
    expect(summaryOf(again)).toMatchObject({ status: 'migrated', height: 11, keys: 11_000, restarted: true, resumed: false, verified: true });
    expect((await cli('verify', '--v1', app, '--v2', v2, '--height', '11')).code).toBe(0);

    // A migration a root store abandoned is never resumed, even at the same height.
    const db = await openDb(v2);
    await db.put(utf8('root/migration'), utf8(JSON.stringify({ status: 'abandoned', height: 11 })));
    await db.close();
    expect(summaryOf(await cli('inspect', v2)).migration).toEqual({ status: 'abandoned', height: 11 });
    const fresh = await cli('migrate', '--from', app, '--to', v2, '--height', '11');
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).toContain('holds an abandoned migration at height 11: wiping it and starting over');
    expect(summaryOf(fresh)).toMatchObject({ status: 'migrated', height: 11, restarted: true, resumed: false, verified: true });

    // A wipe of the SS that stopped half-way (its marker still on disk) is named.
    const clearing = await openDb(v2);
    await clearing.put(utf8('ss/m/clearing'), Uint8Array.of(1));
    await clearing.close();
    const wiping = await cli('inspect', v2);
    expect(summaryOf(wiping).ss).toEqual({ latestVersion: 11, earliestVersion: 11, pendingClear: true });
  });
});

describe('rx-store-migration migrate: resumed with other stores', () => {
  it('a rerun with another store set wipes the unfinished target instead of resuming it, and the SS holds every store', async () => {
    const app = path('big', 'application.db');
    const v2 = path('big', 'v2-stores');
    const run = startCli(['migrate', '--from', app, '--to', v2, '--batch-size', '64', '--stores', 'gov,staking']);
    await run.waitForLine((l) => l.type === 'progress' && Number(l.keys) >= 4_000);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    expect(summaryOf(await cli('inspect', v2)).migration).toEqual({ status: 'migrating', height: 12, stores: ['gov', 'staking'] });
    const unfinished = await cli('verify', '--v1', app, '--v2', v2);
    expect(errorLines(unfinished.stderr)).toEqual([
      `rx-store-migration: ${v2} has no store/v2 State Commitment (no sc/c/latest): its migration at height 12 is unfinished (rerun migrate to finish it): nothing to verify`,
    ]);

    const all = await cli('migrate', '--from', app, '--to', v2);
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('holds an unfinished migration at height 12 of stores gov, staking, not bank, gov, staking: wiping it and starting over');
    expect(summaryOf(all)).toMatchObject({ status: 'migrated', height: 12, keys: 12_000, resumed: false, restarted: true, verified: true });
    const db = await openDb(v2);
    try {
      const ss = await StorageStore.open(db, { prefix: 'ss/' });
      for (let n = 0; n < 12_000; n += 997) {
        const store = ['bank', 'staking', 'gov'][n % 3]!;
        expect((await ss.get(store, 12, utf8(`key-${String(n).padStart(8, '0')}`)))?.subarray(0, 6)).toEqual(utf8('value-'));
      }
      await ss.close();
    } finally {
      await db.close();
    }

    // A subset migration verifies as missing every store it left out.
    const bankOnly = path('big', 'v2-bank-only');
    expect((await cli('migrate', '--from', app, '--to', bankOnly, '--stores', 'bank')).code).toBe(0);
    const verify = await cli('verify', '--v1', app, '--v2', bankOnly);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('verification failed at version 12: stores gov, staking are missing in store/v2');

    // verify --keys reads every key of the SS: one deleted and one changed behind its back are named.
    const keysOk = summaryOf(await cli('verify', '--v1', app, '--v2', bankOnly, '--keys'));
    expect(keysOk.keys).toEqual({ bank: { compared: 4_000, missing: 0, extra: 0, differing: 0, examples: [] } });
    const tamper = await openDb(bankOnly);
    const [first, second] = await tamper.iterator({ gt: utf8('ss/d'), lt: utf8('ss/e'), limit: 2 }).all();
    await tamper.del(first![0]);
    await tamper.put(second![0], concatBytes(second![1].subarray(0, 1), utf8('tampered')));
    await tamper.close();
    const tampered = await cli('verify', '--v1', app, '--v2', bankOnly, '--keys');
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/the SS of store bank has 1 key missing, 1 key with another value \(missing [0-9a-f]+, differs [0-9a-f]+\)/);
    expect(summaryOf(tampered).keys.bank).toMatchObject({ compared: 3_999, missing: 1, extra: 0, differing: 1 });
    const again = await cli('migrate', '--from', app, '--to', bankOnly, '--stores', 'gov');
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("warning: --stores gov differs from the finished migration's stores bank; nothing was changed");
    expect(summaryOf(again)).toMatchObject({ status: 'already-migrated', stores: ['bank'] });
  });
});

describe('rx-store-migration migrate: a wipe cut short', () => {
  it('leaves a target marked abandoned, which the rerun wipes again instead of resuming from a checkpoint whose data is gone', async () => {
    const app = path('big', 'application.db');
    const v2 = path('big', 'v2-cut-wipe');
    const run = startCli(['migrate', '--from', app, '--to', v2, '--batch-size', '64']);
    await run.waitForLine((l) => l.type === 'progress' && Number(l.keys) >= 2_000);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    // What a wipe leaves when killed early: first the record, then part of the SS data, while the
    // SS restore marker and checkpoint (sorted after the data) are still there.
    const db = await openDb(v2);
    try {
      await db.put(utf8('root/migration'), utf8(JSON.stringify({ status: 'abandoned', height: 12 })));
      const some = await db.keys({ gt: utf8('ss/d'), lt: utf8('ss/e'), limit: 100 }).all();
      await db.batch(some.map((key) => ({ type: 'del' as const, key })));
      expect(await db.get(utf8('ss/m/restore-checkpoint'))).toBeDefined();
    } finally {
      await db.close();
    }
    const rerun = await cli('migrate', '--from', app, '--to', v2, '--batch-size', '64');
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toContain('holds an abandoned migration at height 12: wiping it and starting over');
    expect(summaryOf(rerun)).toMatchObject({ status: 'migrated', resumed: false, restarted: true, verified: true });
    const verify = await cli('verify', '--v1', app, '--v2', v2, '--keys');
    expect(verify.code).toBe(0);
    expect(Object.values(summaryOf(verify).keys).map((k: any) => k.missing + k.extra + k.differing)).toEqual([0, 0, 0]);
  });
});

describe('timeline picture and JSON encoding (in process)', () => {
  it('draws every lane, escapes text, and stays valid XML even without a switch', () => {
    let now = 0;
    const timeline = new TimelineRecorder(() => now);
    timeline.record({ type: 'migrationStarted', height: 10 });
    now = 100;
    timeline.record({ type: 'progress', phase: 'restore', items: 4, keys: 2, bytes: 10, storesDone: 0, lag: 0 });
    now = 150;
    timeline.record({ type: 'logged', version: 11 });
    now = 200;
    timeline.record({ type: 'migrationFailed', error: new Error('disk <full> & "gone"') });
    const svg = timeline.toSvg();
    expect(XMLValidator.validate(svg)).toBe(true);
    for (const lane of TIMELINE_LANES) expect(svg).toContain(lane);
    expect(svg).toContain('no switch: migration failed (disk &lt;full&gt; &amp; &quot;gone&quot;)');
  });

  it('encodes bigint and byte arrays as hex', () => {
    expect(JSON.parse(jsonLine({ a: 255n, b: Uint8Array.of(1, 171), c: [undefined], d: Buffer.from([2]) }))).toEqual({ a: '0xff', b: '01ab', c: [null], d: '02' });
  });
});

async function writeRawCopy(source: string, target: string): Promise<void> {
  // A plain LevelDB copy of a Go IAVL tree (no rootmulti keys): openable, but not a store/v1.
  const { cpSync, chmodSync, readdirSync } = await import('node:fs');
  cpSync(source, target, { recursive: true });
  chmodSync(target, 0o755);
  for (const file of readdirSync(target)) chmodSync(join(target, file), 0o644);
}
