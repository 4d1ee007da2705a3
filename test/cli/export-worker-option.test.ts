import { join } from 'node:path';
import { runMigrate, type MigrateOptions } from '../../src/cli/migrate.js';
import { Output } from '../../src/cli/output.js';
import { tempDir } from '../support/db.js';
import { watchExportWorkers } from '../support/export-workers.js';
import { runNode } from '../support/node-process.js';
import { MAIN, REPO, summaryOf, writeV1, type CliResult } from './cli-support.js';

const STORES = ['bank', 'staking'];
const KEYS = 300;

/** A stream that keeps what is written to it (not a terminal: JSON mode). */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY: false, write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe('migrate: the export worker option', () => {
  let dir: ReturnType<typeof tempDir>;
  let from: string;

  beforeAll(async () => {
    dir = tempDir('rxsm-cli-export-worker-');
    from = join(dir.path, 'application.db');
    await writeV1(from, STORES, KEYS);
  });

  afterAll(() => dir.cleanup());

  describe('runMigrate in this process', () => {
    async function migrate(name: string, options: Pick<MigrateOptions, 'exportWorker'>): Promise<{ starts: number; running: number; threads: string[] }> {
      const stdout = sink();
      const stderr = sink();
      const watch = watchExportWorkers();
      try {
        const code = await runMigrate({ from, to: join(dir.path, name), ...options }, new Output({ stdout: stdout.stream, stderr: stderr.stream }), new AbortController().signal);
        expect(code).toBe(0);
        const lines = stdout.text().trim().split('\n');
        expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ command: 'migrate', status: 'migrated', keys: KEYS, verified: true });
        return { starts: watch.starts.mock.calls.length, running: await watch.running(), threads: watch.threads() };
      } finally {
        watch.restore();
      }
    }

    it('by default, walks store/v1 on exactly one export worker thread', async () => {
      const seen = await migrate('default-v2', {});
      expect(seen.starts).toBe(1);
      expect(seen.running).toBe(1);
      expect(seen.threads).toHaveLength(1);
      expect(seen.threads[0]).toMatch(/\/v1\/export-worker\.js\b/);
    });

    it('with exportWorker: false, starts no worker thread', async () => {
      const seen = await migrate('on-thread-v2', { exportWorker: false });
      expect(seen.starts).toBe(0);
      expect(seen.threads).toEqual([]);
    });
  });

  describe('the built command (child process)', () => {
    // main.ts parses process.argv when loaded (top-level await): it only runs as a process. Node
    // itself reports every Worker it constructs on stderr under NODE_DEBUG=worker.
    function cliWithWorkerDebug(args: readonly string[]): Promise<CliResult> {
      return runNode([MAIN, ...args], { cwd: REPO, env: { ...process.env, NODE_DEBUG: 'worker' } });
    }

    /** The Worker constructions Node reported (`WORKER <pid>: [0] created Worker with ID <n>`). */
    function workersCreated(stderr: string): string[] {
      return stderr.split('\n').filter((line) => /^WORKER \d+: \[0\] created Worker with ID \d+$/.test(line));
    }

    it('without the flag, starts exactly one worker thread', async () => {
      const result = await cliWithWorkerDebug(['migrate', '--from', from, '--to', join(dir.path, 'cli-default-v2')]);
      expect(result.code).toBe(0);
      expect(summaryOf(result)).toMatchObject({ status: 'migrated', keys: KEYS, verified: true });
      // The export worker starts from a one-line script that imports its module (see
      // startExportWorker), so node's line names no file (`url: null doEval: classic`); which worker
      // it is, the runMigrate tests above tell.
      expect(workersCreated(result.stderr)).toHaveLength(1);
      expect(result.stderr).toMatch(/^WORKER \d+: instantiating Worker\. url: null doEval: classic$/m);
    });

    it('with --no-export-worker, starts no worker thread', async () => {
      const result = await cliWithWorkerDebug(['migrate', '--from', from, '--to', join(dir.path, 'cli-no-worker-v2'), '--no-export-worker']);
      expect(result.code).toBe(0);
      expect(summaryOf(result)).toMatchObject({ status: 'migrated', keys: KEYS, verified: true });
      expect(workersCreated(result.stderr)).toEqual([]);
      expect(result.stderr).not.toMatch(/^WORKER /m);
    });
  });
});
