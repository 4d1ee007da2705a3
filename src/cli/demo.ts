import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Subscription } from 'rxjs';
import { equalBytes, fromUtf8, toHex, utf8 } from '../core/bytes.js';
import { changesetFromPairs, type ChangesetEntry, type VersionedChangeset } from '../core/changeset.js';
import { openDb, type LevelDb } from '../db/level-db.js';
import { commitInfoHash } from '../commitment/commit-info.js';
import { LegacyStore } from '../v1/legacy-store.js';
import { RootStore, type RootStoreEvent } from '../root/root-store.js';
import { closeAll } from './databases.js';
import { CliError, EXIT, InterruptedError } from './errors.js';
import type { Output } from './output.js';
import { MigrationProgress, ProgressView } from './progress.js';
import { sleep } from './signals.js';
import { TimelineRecorder } from './timeline.js';

/** Options of `rx-store-migration demo`. */
export interface DemoOptions {
  /** Keys in store/v1 before the migration starts (default 200 000). */
  readonly keys: number;
  /** Number of stores (modules), default 3. */
  readonly stores: number;
  /** Time between two simulated blocks while migrating, in ms (default 50). */
  readonly blockMs: number;
  /** Work folder (kept); default a temporary folder removed at the end. */
  readonly dir?: string;
  /** Where to write the SVG timeline. */
  readonly timeline?: string;
  /** Seed of the pseudo-random data (default 42). */
  readonly seed?: number;
  /** Blocks committed after the switching block (default 5). */
  readonly afterBlocks?: number;
  /** Random sets/deletes per simulated block (default 8). */
  readonly opsPerBlock?: number;
}

const MARKER = '.rx-store-migration-demo';
const KEYS_PER_BUILD_BLOCK = 1000;
const MODULES = ['bank', 'staking', 'gov', 'auth', 'mint', 'distribution', 'slashing', 'params', 'upgrade', 'evidence'];
const VERIFY_CONCURRENCY = 256;
/**
 * Decoded IAVL nodes cached per store/v1 tree (the built one and the shadow): the library default
 * (200 000 per tree) would keep every node of every tree in memory twice over.
 */
const NODE_CACHE = 20_000;
/** Blocks the replay may go without reaching a new lowest lag before the demo gives up. */
const CATCH_UP_PATIENCE = 500;

/** Store names for `count` stores: cosmos module names, then `store<N>`. */
export function demoStoreNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => MODULES[i] ?? `store${i}`);
}

/** mulberry32: a small deterministic PRNG, so a demo run is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the chain holds: per store, every key ever written and its value (`null` once deleted). */
class Model {
  readonly values: Map<string, string | null>[];
  readonly keyLists: string[][];
  private live = 0;

  constructor(readonly stores: readonly string[]) {
    this.values = stores.map(() => new Map());
    this.keyLists = stores.map(() => []);
  }

  get liveKeys(): number {
    return this.live;
  }

  get allKeys(): number {
    return this.keyLists.reduce((n, list) => n + list.length, 0);
  }

  apply(store: number, key: string, value: string | null): void {
    const map = this.values[store]!;
    const before = map.get(key);
    if (before === undefined) this.keyLists[store]!.push(key);
    if ((before === undefined || before === null) && value !== null) this.live++;
    if (before !== undefined && before !== null && value === null) this.live--;
    map.set(key, value);
  }
}

/** The demo's work folder: a given one (made fresh) or a temporary one (removed at the end). */
function prepareFolder(dir: string | undefined): { path: string; temporary: boolean } {
  if (dir === undefined) return { path: mkdtempSync(join(tmpdir(), 'rx-store-migration-demo-')), temporary: true };
  const path = resolve(dir);
  if (existsSync(path)) {
    const entries = readdirSync(path);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new CliError(`--dir ${dir} is not empty and was not made by the demo: choose a new or empty folder`);
    }
  }
  mkdirSync(path, { recursive: true });
  for (const name of ['application.db', 'shadow.db', 'v2.db']) rmSync(join(path, name), { recursive: true, force: true });
  writeFileSync(join(path, MARKER), 'work folder of `rx-store-migration demo`; a rerun wipes it\n');
  return { path, temporary: false };
}

/**
 * The main job, on an embedded default: builds a store/v1 `application.db` with `keys` keys in
 * `stores` stores (blocks of 1000 keys), opens a root store on it with `migrate: true`, and keeps
 * committing simulated blocks (random sets and deletes) every `blockMs` while the migration
 * restores and replays, until the root store switches to store/v2 — and a few blocks more. Every
 * block is also committed to a shadow store/v1 (a copy of the built database): each app hash the
 * root store returns must equal the shadow's. At the end every key ever written is read back
 * through the root store (now answered by store/v2) and compared with the model of the chain.
 */
/**
 * The `--timeline` file, checked before the demo runs (not after it): its folder is made, and the
 * file must be writable there.
 */
function timelineFile(option: string | undefined): string | undefined {
  if (option === undefined) return undefined;
  const path = resolve(option);
  try {
    mkdirSync(dirname(path), { recursive: true });
    accessSync(dirname(path), constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.W_OK);
  } catch (error) {
    throw new CliError(`--timeline ${option}: cannot write ${path} (${(error as Error).message})`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) throw new CliError(`--timeline ${option}: ${path} is a folder, not a file`);
  return path;
}

export async function runDemo(options: DemoOptions, output: Output, signal: AbortSignal): Promise<number> {
  const started = performance.now();
  const timelinePath = timelineFile(options.timeline);
  const stores = demoStoreNames(options.stores);
  const afterBlocks = options.afterBlocks ?? 5;
  const opsPerBlock = options.opsPerBlock ?? 8;
  const rand = prng(options.seed ?? 42);
  const folder = prepareFolder(options.dir);
  const appPath = join(folder.path, 'application.db');
  const shadowPath = join(folder.path, 'shadow.db');
  const v2Path = join(folder.path, 'v2.db');
  const model = new Model(stores);
  const view = new ProgressView(output);
  let v1db: LevelDb | undefined;
  let shadowDb: LevelDb | undefined;
  let v2db: LevelDb | undefined;
  let root: RootStore | undefined;
  let subscription: Subscription | undefined;
  try {
    output.info(`demo: ${options.keys.toLocaleString('en-US')} keys in ${stores.length} stores (${stores.join(', ')}) in ${folder.path}`);
    output.event('demo', { dir: folder.path, keys: options.keys, stores, blockMs: options.blockMs, seed: options.seed ?? 42 });

    // 1. Build store/v1: blocks of up to 1000 new keys, each store's keys in ascending order.
    const buildStarted = performance.now();
    v1db = await openDb(appPath);
    const building = await LegacyStore.open(v1db, { storeKeys: stores, cacheSize: NODE_CACHE });
    const buildBlocks = Math.max(1, Math.ceil(options.keys / KEYS_PER_BUILD_BLOCK));
    view.start('build', options.keys);
    let written = 0;
    let lastEvent = 0;
    for (let block = 1; block <= buildBlocks; block++) {
      if (signal.aborted) throw new InterruptedError('the demo stopped while building store/v1; a rerun starts fresh');
      const end = Math.round((options.keys * block) / buildBlocks);
      const entries: ChangesetEntry[] = [];
      const applied: [number, string, string][] = [];
      for (let n = written; n < end; n++) {
        const s = n % stores.length;
        const key = `acct/${String(Math.floor(n / stores.length)).padStart(9, '0')}`;
        const value = `balance:${Math.floor(rand() * 1e9)}:${n}`;
        entries.push([stores[s]!, utf8(key), utf8(value)]);
        applied.push([s, key, value]);
      }
      await building.commit(changesetFromPairs(block, entries).changeset);
      for (const [s, key, value] of applied) model.apply(s, key, value);
      written = end;
      view.update(written);
      if (performance.now() - lastEvent > 250 || block === buildBlocks) {
        lastEvent = performance.now();
        output.event('progress', { phase: 'build', keys: written, total: options.keys, version: block });
      }
    }
    const height = building.latestVersion;
    const builtHash = toHex(await building.appHash(height));
    await v1db.close();
    v1db = undefined;
    const buildMs = performance.now() - buildStarted;
    view.finish();
    output.info(`built store/v1: ${written.toLocaleString('en-US')} keys in ${buildBlocks} blocks (height ${height}) in ${(buildMs / 1000).toFixed(1)} s`);
    output.event('built', { height, keys: written, blocks: buildBlocks, appHash: builtHash, ms: Math.round(buildMs) });

    // 2. The shadow store/v1: a copy that receives the same blocks and never migrates.
    cpSync(appPath, shadowPath, { recursive: true });
    v1db = await openDb(appPath);
    shadowDb = await openDb(shadowPath);
    v2db = await openDb(v2Path);
    const shadow = await LegacyStore.open(shadowDb, { storeKeys: stores, cacheSize: NODE_CACHE });

    // 3. The root store migrates in the background while blocks keep coming.
    const timeline = new TimelineRecorder();
    const progress = new MigrationProgress(view, output, written);
    let failure: unknown;
    let restored: { at: number; keys: number } | undefined;
    let switched: { version: number; at: number } | undefined;
    const migrationStarted = performance.now();
    const handle = (event: RootStoreEvent): void => {
      output.event(event.type, event);
      progress.next(event);
      timeline.record(event);
      if (event.type === 'restored') restored = { at: performance.now(), keys: event.keys };
      if (event.type === 'switched') switched = { version: event.version, at: performance.now() };
      if (event.type === 'migrationFailed') failure = event.error;
      if (event.type === 'logged') lastLogged = Math.max(lastLogged, event.version);
      if (event.type === 'applied') lastApplied = event.version;
    };
    let lastLogged = 0;
    let lastApplied = 0;
    // Catch-up watchdog: once restored, the lag (logged − applied) must keep reaching new lows.
    let bestLag = Number.POSITIVE_INFINITY;
    let blocksSinceBest = 0;
    root = await RootStore.open({
      v1: { db: v1db, storeKeys: stores, cacheSize: NODE_CACHE },
      v2: { db: v2db },
      migrate: true,
      progressIntervalMs: 200,
    });
    let sawStart = false;
    subscription = root.events$.subscribe((event) => {
      if (event.type === 'migrationStarted') sawStart = true;
      handle(event);
    });
    // `open` started the migration: if `events$` did not replay its start, note it here.
    if (!sawStart) handle({ type: 'migrationStarted', height: root.migrationHeight ?? height });

    let version = height;
    let blocksWhileMigrating = 0;
    let blocksAfterSwitch = -1;
    let appHashesChecked = 0;
    const appHashMismatches: number[] = [];
    let lastAppHash: Uint8Array = new Uint8Array(0);
    let ops = 0;
    while (blocksAfterSwitch < afterBlocks) {
      if (signal.aborted) throw new InterruptedError('the demo stopped during the migration; a rerun starts fresh');
      if (failure !== undefined) throw failure;
      version++;
      const block = randomBlock(version, model, rand, opsPerBlock);
      const [appHash, info] = await Promise.all([root.commit(block.changeset), shadow.commit(block.changeset.changeset)]);
      for (const [s, key, value] of block.applied) model.apply(s, key, value);
      ops += block.applied.length;
      appHashesChecked++;
      const expected = commitInfoHash(info.storeInfos);
      if (!equalBytes(appHash, expected)) appHashMismatches.push(version);
      lastAppHash = appHash;
      if (root.phase === 'switched') blocksAfterSwitch++;
      else blocksWhileMigrating++;
      if (restored !== undefined && root.phase === 'migrating') {
        const lag = Math.max(lastLogged - Math.max(lastApplied, height), 0);
        if (lag < bestLag) {
          bestLag = lag;
          blocksSinceBest = 0;
        } else if (++blocksSinceBest >= CATCH_UP_PATIENCE) {
          throw new CliError(
            `the migration cannot catch up: blocks every ${options.blockMs} ms arrive faster than store/v2 applies them (lag ${lag} blocks after ${CATCH_UP_PATIENCE} more blocks); use a larger --block-ms`,
          );
        }
      }
      output.event('block', { version, phase: root.phase, ops: block.applied.length, appHash, matchesShadow: equalBytes(appHash, expected) });
      if (blocksAfterSwitch < afterBlocks && options.blockMs > 0) await sleep(options.blockMs, signal);
    }
    if (failure !== undefined) throw failure;
    const migrationMs = (switched?.at ?? performance.now()) - migrationStarted;
    const restoreMs = (restored?.at ?? performance.now()) - migrationStarted;

    // 4. Verify every key ever written through the root store (store/v2 answers now).
    const verifyStarted = performance.now();
    const total = model.allKeys;
    view.start('verify', total);
    output.info(`verifying ${total.toLocaleString('en-US')} keys through the root store at version ${version}`);
    let checked = 0;
    const valueMismatches: { store: string; key: string; expected: string | null; actual: string | null }[] = [];
    let valueMismatchCount = 0;
    for (let s = 0; s < stores.length; s++) {
      const store = stores[s]!;
      const keys = model.keyLists[s]!;
      for (let i = 0; i < keys.length; i += VERIFY_CONCURRENCY) {
        if (signal.aborted) throw new InterruptedError('the demo stopped while verifying; a rerun starts fresh');
        const chunk = keys.slice(i, i + VERIFY_CONCURRENCY);
        const results = await Promise.all(chunk.map((key) => root!.query(store, utf8(key))));
        results.forEach((result, j) => {
          const key = chunk[j]!;
          const expected = model.values[s]!.get(key) ?? null;
          const actual = result.value === undefined ? null : fromUtf8(result.value);
          if (expected !== actual) {
            valueMismatchCount++;
            if (valueMismatches.length < 5) valueMismatches.push({ store, key, expected, actual });
          }
        });
        checked += chunk.length;
        view.update(checked);
      }
    }
    // A sample of proofs: each must carry the latest app hash and the model's value.
    let proofsChecked = 0;
    let proofMismatches = 0;
    for (let i = 0; i < 32; i++) {
      const s = Math.floor(rand() * stores.length);
      const keys = model.keyLists[s]!;
      const key = keys[Math.floor(rand() * keys.length)]!;
      const result = await root.query(stores[s]!, utf8(key), { prove: true });
      const expected = model.values[s]!.get(key) ?? null;
      const actual = result.value === undefined ? null : fromUtf8(result.value);
      proofsChecked++;
      if (!result.proof || !equalBytes(result.proof.appHash, lastAppHash) || actual !== expected) proofMismatches++;
    }
    const shadowLatest = toHex(await shadow.appHash());
    const chainOk = appHashMismatches.length === 0 && shadowLatest === toHex(lastAppHash) && root.latestVersion === shadow.latestVersion;
    const verified = switched !== undefined && chainOk && valueMismatchCount === 0 && proofMismatches === 0;
    const verifyMs = performance.now() - verifyStarted;
    view.finish();
    view.stop();
    output.event('verified', { verified, keysVerified: checked, valueMismatches: valueMismatchCount, appHashesChecked, appHashMismatches, proofsChecked });
    if (!verified) {
      const cause =
        switched === undefined
          ? 'the root store never switched'
          : appHashMismatches.length > 0
            ? `app hash differs from the shadow store/v1 at version ${appHashMismatches[0]}`
            : valueMismatchCount > 0
              ? `${valueMismatchCount} keys differ from the model (first: ${JSON.stringify(valueMismatches[0])})`
              : proofMismatches > 0
                ? `${proofMismatches} proofs do not match the latest app hash`
                : 'the latest version or app hash differs from the shadow store/v1';
      output.info(`verification failed: ${cause}`);
    } else {
      output.info(
        `verified: ${checked.toLocaleString('en-US')} keys equal the model; ${appHashesChecked} app hashes equal the shadow store/v1's; ${proofsChecked} proofs carry the latest app hash`,
      );
    }

    if (timelinePath !== undefined) {
      writeFileSync(timelinePath, timeline.toSvg());
      output.info(`timeline written to ${timelinePath}`);
    }

    const keysRestored = restored?.keys ?? written;
    output.summary({
      command: 'demo',
      verified,
      height,
      switchedAt: switched?.version ?? null,
      latestVersion: version,
      stores,
      keys: keysRestored,
      keysPerSecond: Math.round(keysRestored / Math.max(restoreMs / 1000, 0.001)),
      keysVerified: checked,
      liveKeys: model.liveKeys,
      blocks: version - height,
      blocksWhileMigrating,
      blocksAfterSwitch: Math.max(blocksAfterSwitch, 0),
      ops,
      appHashesChecked,
      appHashMismatches: appHashMismatches.length,
      valueMismatches: valueMismatchCount,
      proofsChecked,
      appHash: lastAppHash,
      buildMs: Math.round(buildMs),
      restoreMs: Math.round(restoreMs),
      migrationMs: Math.round(migrationMs),
      verifyMs: Math.round(verifyMs),
      durationMs: Math.round(performance.now() - started),
      ...(folder.temporary ? {} : { dir: folder.path }),
      ...(timelinePath ? { timeline: timelinePath } : {}),
    });
    return verified ? EXIT.ok : EXIT.mismatch;
  } finally {
    view.stop();
    subscription?.unsubscribe();
    await root?.close().catch(() => undefined);
    await closeAll(v1db, shadowDb, v2db);
    if (folder.temporary) rmSync(folder.path, { recursive: true, force: true });
  }
}

/**
 * One simulated block: `ops` random writes — mostly updates of existing keys, some new keys, some
 * deletes of live keys — each key at most once per block.
 */
function randomBlock(version: number, model: Model, rand: () => number, ops: number): { changeset: VersionedChangeset; applied: [number, string, string | null][] } {
  const entries: ChangesetEntry[] = [];
  const applied: [number, string, string | null][] = [];
  const touched = new Set<string>();
  const stores = model.stores;
  for (let i = 0; i < ops; i++) {
    const s = Math.floor(rand() * stores.length);
    const keys = model.keyLists[s]!;
    const r = rand();
    let key: string;
    let value: string | null;
    if (r < 0.15 || keys.length === 0) {
      key = `acct/new-${String(version).padStart(9, '0')}-${i}`;
      value = `balance:${Math.floor(rand() * 1e9)}:b${version}`;
    } else {
      key = keys[Math.floor(rand() * keys.length)]!;
      const live = model.values[s]!.get(key) !== null;
      value = r < 0.3 && live ? null : `balance:${Math.floor(rand() * 1e9)}:b${version}`;
    }
    const id = `${s}\u0000${key}`;
    if (touched.has(id)) continue;
    touched.add(id);
    entries.push([stores[s]!, utf8(key), value === null ? undefined : utf8(value)]);
    applied.push([s, key, value]);
  }
  return { changeset: changesetFromPairs(version, entries), applied };
}
