import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { concatBytes, utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs, type ChangesetEntry } from '../../src/core/changeset.js';
import { openDb } from '../../src/db/level-db.js';
import { encodeCommitInfoV1 } from '../../src/proto/commit-info.js';
import { encodeInt64Value } from '../../src/proto/int64-value.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { openCopy } from '../support/db.js';
import { readVectors, VECTORS_DIR } from '../support/vectors.js';

/** The repository root and the built command. */
export const REPO = resolve(__dirname, '../..');
export const MAIN = join(REPO, 'dist/cli/main.js');

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/ (`npm run build`) unless it is newer than every source file and the package
 * manifest; the CLI tests run the compiled command as a child process.
 */
export function buildOnce(): void {
  const built = existsSync(MAIN) ? statSync(MAIN).mtimeMs : 0;
  const sources = Math.max(newestMtime(join(REPO, 'src')), statSync(join(REPO, 'package.json')).mtimeMs, statSync(join(REPO, 'tsconfig.build.json')).mtimeMs);
  if (built > sources) return;
  const result = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `rx-store-migration` (stdout/stderr are pipes: not a terminal, so JSON output). */
export interface CliRun {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  /** Resolves with the first stdout JSON line that satisfies `test`. */
  waitForLine(test: (line: any) => boolean): Promise<any>;
}

export function startCli(args: readonly string[]): CliRun {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { test: (line: any) => boolean; resolve: (line: any) => void }[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliResult>((resolvePromise) => {
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  return {
    child,
    done,
    waitForLine: (test) =>
      new Promise((resolvePromise, reject) => {
        waiters.push({ test, resolve: resolvePromise });
        void done.then(() => reject(new Error(`the command ended before the expected line; stdout:\n${stdout}\nstderr:\n${stderr}`)));
      }),
  };
}

/** Runs `rx-store-migration args…` to its end. */
export function cli(...args: string[]): Promise<CliResult> {
  return startCli(args).done;
}

/** Every stdout line parsed as JSON (fails on a line that is not). */
export function jsonLines(stdout: string): any[] {
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

/** The last stdout line: the summary. */
export function summaryOf(result: CliResult): any {
  const lines = jsonLines(result.stdout);
  return lines[lines.length - 1];
}

/** The lines of stderr that report a failure (the CLI prints exactly one). */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('rx-store-migration: '));
}

export const GO_STREAMS = readVectors<{
  dbs: { name: string; versions: { version: number; expectedRootHash: string; exportNodes: { height: number }[] }[] }[];
}>(
  'iavl-legacy-db-export-streams.json',
);

/** A copy of a Go IAVL 0.13 test database (the originals are read-only), for a raw-tree case. */
export function goDbPath(index: number): string {
  return join(VECTORS_DIR, 'iavl-testdata-goleveldb', GO_STREAMS.dbs[index]!.name);
}

/**
 * Writes a store/v1 application.db at `path` whose module trees are the Go IAVL 0.13 test
 * databases (`stores[i]` ← Go database i), with CommitInfos at versions 3 and 6 and s/latest = 6,
 * as test/v1/legacy-format-application-db.test.ts builds it in memory.
 */
export async function writeGoApplicationDb(path: string, stores: readonly { name: string; goDb: number }[]): Promise<void> {
  const target = await openDb(path);
  try {
    for (const { name, goDb } of stores) {
      const source = await openCopy(goDbPath(goDb));
      const ops = [];
      for await (const [key, value] of source.db.iterator()) {
        ops.push({ type: 'put' as const, key: concatBytes(utf8(`s/k:${name}/`), key), value });
      }
      await target.batch(ops);
      await source.cleanup();
    }
    for (const version of [3, 6]) {
      const storeInfos = stores.map(({ name, goDb }) => ({
        name,
        commitId: { version, hash: Buffer.from(expectedRoot(goDb, version), 'hex') },
      }));
      await target.put(utf8(`s/${version}`), encodeCommitInfoV1({ version, storeInfos }));
    }
    await target.put(utf8('s/latest'), encodeInt64Value(6));
  } finally {
    await target.close();
  }
}

/** The Go root hash of test database `goDb` at `version` (hex). */
export function expectedRoot(goDb: number, version: number): string {
  return GO_STREAMS.dbs[goDb]!.versions.find((v) => v.version === version)!.expectedRootHash;
}

/** The number of keys (leaves of Go's export stream) of test database `goDb` at `version`. */
export function goLeafCount(goDb: number, version: number): number {
  const stream = GO_STREAMS.dbs[goDb]!.versions.find((v) => v.version === version)!.exportNodes;
  return stream.filter((node) => node.height === 0).length;
}

/** A store/v1 application.db at `path` with `keys` keys over `stores`, committed in blocks of 1000. */
export async function writeV1(path: string, stores: readonly string[], keys: number, valueBytes = 0): Promise<void> {
  const padding = 'x'.repeat(valueBytes);
  const db = await openDb(path);
  try {
    const v1 = await LegacyStore.open(db, { storeKeys: stores });
    for (let start = 0, version = 1; start < keys; start += 1000, version++) {
      const entries: ChangesetEntry[] = [];
      for (let n = start; n < Math.min(start + 1000, keys); n++) {
        entries.push([stores[n % stores.length]!, utf8(`key-${String(n).padStart(8, '0')}`), utf8(`value-${n}${padding}`.slice(0, Math.max(valueBytes, `value-${n}`.length)))]);
      }
      await v1.commit(changesetFromPairs(version, entries).changeset);
    }
  } finally {
    await db.close();
  }
}
