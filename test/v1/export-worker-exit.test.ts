import { join, resolve } from 'node:path';
import { openDb } from '../../src/db/level-db.js';
import { LegacyStore } from '../../src/v1/legacy-store.js';
import { utf8 } from '../../src/core/bytes.js';
import { changesetFromPairs, type ChangesetEntry } from '../../src/core/changeset.js';
import { tempDir } from '../support/db.js';
import { runNode, type NodeProcessResult } from '../support/node-process.js';

const STORES = ['acc', 'bank', 'staking'];
const VERSION = 6;
const DIST = resolve(__dirname, '../../dist');

/**
 * A process that reads a few batches through the export worker, never closes the reader (nor the
 * database), and exits with `process.exit(0)` while the worker still reads ahead inside LevelDB.
 * The exit must stop the worker before the database goes away: a crash (as a SIGSEGV once was, in
 * the CLI, before closing the database closed its readers first) would show as a signal or another
 * exit code. It runs as `node --input-type=module -e …`, with V8 options beside it: a worker
 * inherits all of them, and node refuses to load a worker's file under `--input-type` and to take
 * V8 options given to a worker explicitly; the reader must still be the worker's (see
 * `startExportWorker`), not the fallback.
 */
const DROPPED_READER = `
const { openDb } = await import(${JSON.stringify(`${DIST}/db/level-db.js`)});
const { LegacyStore } = await import(${JSON.stringify(`${DIST}/v1/legacy-store.js`)});
const [path, batches] = process.argv.slice(-2);
const db = await openDb(path);
const store = await LegacyStore.open(db, { storeKeys: ${JSON.stringify(STORES)} });
const reader = await store.snapshotReader(${VERSION});
let items = 0;
for (let i = 0; i < Number(batches); i++) items += (await reader.read(64)).length;
process.stdout.write(JSON.stringify({ items, worker: reader.constructor.name }));
// The next read is under way in the worker (it reads one batch ahead) when the process exits.
void reader.read(64);
process.exit(0);
`;

/** `--input-type` on the command line, or in NODE_OPTIONS, which a worker reads as well. */
function run(path: string, batches: number, inputType: 'argv' | 'NODE_OPTIONS' = 'argv'): Promise<NodeProcessResult> {
  const v8 = ['--expose-gc', '--max-old-space-size=64', '--max-semi-space-size=8'];
  return inputType === 'argv'
    ? runNode([...v8, '--input-type=module', '-e', DROPPED_READER, path, String(batches)])
    : runNode([...v8, '-e', DROPPED_READER, path, String(batches)], { env: { ...process.env, NODE_OPTIONS: '--input-type=module' } });
}

describe('a process that exits while an unclosed export worker reads', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;

  beforeAll(async () => {
    dir = tempDir('rxsm-export-worker-exit-');
    path = join(dir.path, 'application.db');
    const db = await openDb(path);
    try {
      const writer = await LegacyStore.open(db, { storeKeys: STORES });
      // 3,000 keys over the versions: ~6,000 snapshot items, far more than any run reads.
      for (let version = 1; version <= VERSION; version++) {
        const entries: ChangesetEntry[] = [];
        for (let i = 0; i < 500; i++) entries.push([STORES[i % STORES.length]!, utf8(`key-${version}-${i}`), utf8(`value-${version}-${i}`)]);
        await writer.commit(changesetFromPairs(version, entries).changeset);
      }
    } finally {
      await db.close();
    }
  });

  afterAll(() => dir.cleanup());

  it.each([
    [0, 'argv'],
    [1, 'argv'],
    [2, 'argv'],
    [5, 'argv'],
    [13, 'argv'],
    [3, 'NODE_OPTIONS'],
  ] as const)('exits cleanly after %i batches, with the next read under way (--input-type in %s)', async (batches, inputType) => {
    const result = await run(path, batches, inputType);
    expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const seen = JSON.parse(result.stdout) as { items: number; worker: string };
    // The walk ran on the worker, and each batch was full.
    expect(seen).toEqual({ items: 64 * batches, worker: 'WorkerSnapshotReader' });
  });
});

