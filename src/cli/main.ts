#!/usr/bin/env node
/**
 * `rx-store-migration`: the command line. One command per file (demo, migrate, verify, inspect);
 * this file only parses arguments (commander), installs the Ctrl-C handling and turns failures into
 * one line on stderr and an exit code (see `errors.ts`).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { MAX_FILE_SIZE, MAX_WRITE_BUFFER_SIZE, MIN_FILE_SIZE, MIN_WRITE_BUFFER_SIZE } from '../db/level-db.js';
import { height, integerAtLeast, integerBetween, storeList } from './args.js';
import { runDemo } from './demo.js';
import { isStoreError } from '../core/errors.js';
import { describeError, EXIT, exitCodeOf, InterruptedError } from './errors.js';
import { runInspect } from './inspect.js';
import { runMigrate } from './migrate.js';
import { jsonLine, Output } from './output.js';
import { interruptSignal } from './signals.js';
import { runVerify } from './verify.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * Runs one command with an Output and a Ctrl-C signal; sets the process exit code. A failure is one
 * line on stderr and, as the last stdout line, a JSON summary saying so.
 */
async function run(name: string, json: boolean | undefined, command: (output: Output, signal: AbortSignal) => Promise<number>): Promise<void> {
  const output = new Output({ json: json === true });
  const interrupt = interruptSignal(() => output.info('\nCtrl-C: stopping cleanly (press again to stop at once)'));
  try {
    process.exitCode = await command(output, interrupt.signal);
  } catch (error) {
    const message = describeError(error);
    process.stderr.write(`rx-store-migration: ${message}\n`);
    if (process.env['RX_STORE_MIGRATION_DEBUG'] && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeOf(error);
    output.summary({
      command: name,
      status: error instanceof InterruptedError ? 'interrupted' : 'failed',
      error: message,
      ...(isStoreError(error) ? { code: error.code } : {}),
      exitCode: process.exitCode,
      durationMs: output.elapsedMs,
    });
  } finally {
    interrupt.dispose();
  }
}

const program = new Command();
program
  .name('rx-store-migration')
  .description('Migrate a node state from store/v1 (IAVL in application.db) to store/v2 (SC + SS), live or offline.')
  .version(version)
  .exitOverride();

program
  .command('demo')
  .description(
    'the main job: build a store/v1, migrate it while a simulated chain keeps committing, switch, then verify every key and the app-hash chain',
  )
  .addOption(new Option('--keys <n>', 'keys in store/v1 before the migration').argParser(integerAtLeast(1)).default(200_000))
  .addOption(new Option('--stores <s>', 'number of stores (modules)').argParser(integerAtLeast(1)).default(3))
  .addOption(new Option('--block-ms <t>', 'time between simulated blocks while migrating (ms)').argParser(integerAtLeast(0)).default(50))
  .option('--dir <d>', 'work folder, kept afterwards (default: a temporary folder, removed)')
  .option('--json', 'newline-delimited JSON events on stdout even on a terminal')
  .option('--timeline <file>', 'write an SVG picture of the migration timeline')
  .addOption(new Option('--seed <n>', 'seed of the pseudo-random data').argParser(integerAtLeast(0)).default(42))
  .addOption(new Option('--ops-per-block <n>', 'random sets/deletes per simulated block').argParser(integerAtLeast(1)).default(8))
  .addOption(new Option('--after-blocks <n>', 'blocks committed after the switching block').argParser(integerAtLeast(0)).default(5))
  .action(
    async (o: {
      keys: number;
      stores: number;
      blockMs: number;
      dir?: string;
      json?: boolean;
      timeline?: string;
      seed: number;
      opsPerBlock: number;
      afterBlocks: number;
    }) =>
      run('demo', o.json, (output, signal) =>
        runDemo(
          {
            keys: o.keys,
            stores: o.stores,
            blockMs: o.blockMs,
            seed: o.seed,
            opsPerBlock: o.opsPerBlock,
            afterBlocks: o.afterBlocks,
            ...(o.dir === undefined ? {} : { dir: o.dir }),
            ...(o.timeline === undefined ? {} : { timeline: o.timeline }),
          },
          output,
          signal,
        ),
      ),
  );

program
  .command('migrate')
  .description('offline migration of an existing store/v1 application.db into a new store/v2 database (work on a copy)')
  .requiredOption('--from <application.db>', 'the store/v1 LevelDB folder (a copy: LevelDB rewrites its journal on open)')
  .requiredOption('--to <dir>', 'the store/v2 LevelDB folder to create')
  .addOption(new Option('--height <h>', 'snapshot height (default: the latest version)').argParser(height))
  .addOption(new Option('--stores <a,b,c>', 'store keys (default: the stores of the latest commit info)').argParser(storeList))
  .addOption(new Option('--batch-size <n>', 'snapshot items per batch').argParser(integerAtLeast(1)))
  .addOption(
    new Option('--max-open-files <n>', 'LevelDB table files kept open per database (default 1000; e.g. 64 to bound RSS, reads get slower)').argParser(
      integerAtLeast(1),
    ),
  )
  .addOption(
    new Option(
      '--max-file-size <bytes>',
      'bytes per LevelDB table file the store/v2 target compacts into (default 2 MiB; 1048576 to 67108864): smaller tables map fewer pages (see --max-open-files)',
    ).argParser(integerBetween(MIN_FILE_SIZE, MAX_FILE_SIZE)),
  )
  .addOption(
    new Option(
      '--write-buffer-size <bytes>',
      'bytes LevelDB buffers in memory before it writes a table into the store/v2 target (default 16 MiB, ~10 % faster than LevelDB\'s 4 MiB; 65536 to 1073741824): 4194304 saves up to 24 MiB of RSS',
    ).argParser(integerBetween(MIN_WRITE_BUFFER_SIZE, MAX_WRITE_BUFFER_SIZE)),
  )
  .option('--no-export-worker', 'walk store/v1 on the main thread instead of a worker thread: 35–40 MiB less RSS, a slower migration')
  .option('--json', 'newline-delimited JSON events on stdout even on a terminal')
  .action(async (o: { from: string; to: string; height?: number; stores?: string[]; batchSize?: number; maxOpenFiles?: number; maxFileSize?: number; writeBufferSize?: number; exportWorker: boolean; json?: boolean }) =>
    run('migrate', o.json, (output, signal) =>
      runMigrate(
        {
          from: o.from,
          to: o.to,
          ...(o.height === undefined ? {} : { height: o.height }),
          ...(o.stores === undefined ? {} : { stores: o.stores }),
          ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
          ...(o.maxOpenFiles === undefined ? {} : { maxOpenFiles: o.maxOpenFiles }),
          ...(o.maxFileSize === undefined ? {} : { maxFileSize: o.maxFileSize }),
          ...(o.writeBufferSize === undefined ? {} : { writeBufferSize: o.writeBufferSize }),
          exportWorker: o.exportWorker,
        },
        output,
        signal,
      ),
    ),
  );

program
  .command('verify')
  .description('compare every store root hash and the app hash of a store/v1 and a store/v2 database at one version (exit 1 on a difference)')
  .requiredOption('--v1 <dir>', 'the store/v1 application.db folder')
  .requiredOption('--v2 <dir>', 'the store/v2 database folder')
  .addOption(new Option('--height <h>', 'version to compare (default: the latest version of the store/v2 SC)').argParser(height))
  .option('--keys', 'also compare every key of every store in the store/v2 SS with store/v1 (reads both in full)')
  .option('--json', 'JSON on stdout even on a terminal')
  .action(async (o: { v1: string; v2: string; height?: number; keys?: boolean; json?: boolean }) =>
    run('verify', o.json, (output) =>
      runVerify({ v1: o.v1, v2: o.v2, ...(o.height === undefined ? {} : { height: o.height }), keys: o.keys === true }, output),
    ),
  );

program
  .command('inspect')
  .description('describe a store/v1 application.db or a store/v2 database: stores, versions, root hashes, migration record')
  .argument('<dir>', 'a LevelDB folder')
  .option('--count-keys', 'walk every tree and count its keys instead of reading the count its root records; fails when the two differ')
  .option('--json', 'JSON on stdout even on a terminal')
  .action(async (dir: string, o: { countKeys?: boolean; json?: boolean }) =>
    run('inspect', o.json, (output) => runInspect(dir, output, { countKeys: o.countKeys === true })),
  );

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // help and version end with code 0; usage errors were printed by commander, and get the
    // summary line every run ends with.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.error;
    if (error.exitCode !== 0) {
      const command = program.commands.find((c) => c.name() === process.argv[2])?.name();
      process.stdout.write(`${jsonLine({ ...(command ? { command } : {}), status: 'usage', error: error.message.replace(/^error: /, ''), exitCode: EXIT.error })}\n`);
    }
  } else {
    process.stderr.write(`rx-store-migration: ${describeError(error)}\n`);
    process.exitCode = EXIT.error;
  }
}
