import type * as WorkerThreads from 'node:worker_threads';
import { WorkerSnapshotReader } from '../../src/v1/worker-snapshot-reader.js';

/** What a {@link watchExportWorkers} saw. */
export interface ExportWorkerWatch {
  /** The `WorkerSnapshotReader.start` calls (passed through to the real one). */
  readonly starts: jest.SpiedFunction<typeof WorkerSnapshotReader.start>;
  /**
   * What every worker thread constructed in this process meanwhile runs: its file, or the code of
   * a worker started from a string (the export worker's imports its module by URL).
   */
  readonly threads: () => string[];
  /** How many of the `start` calls gave a running worker reader (not the fallback to this thread). */
  readonly running: () => Promise<number>;
  readonly restore: () => void;
}

/**
 * Watches the starts of the store/v1 snapshot export worker in this process, in two ways that do
 * not depend on each other: the calls of `WorkerSnapshotReader.start` (a static method: the class
 * object is the one every module of this test's registry holds), and every construction of a
 * `worker_threads` `Worker`. Jest runs the sources as CommonJS (SWC), where `new Worker(…)` reads
 * `Worker` off the core module object at each call — the very object `require` gives here — so
 * replacing it there sees every worker, whoever starts it. Both are pass-through: the workers run.
 */
export function watchExportWorkers(): ExportWorkerWatch {
  const threadsModule = require('node:worker_threads') as typeof WorkerThreads;
  const RealWorker = threadsModule.Worker;
  const scripts: string[] = [];
  // A spy calls its implementation without `new`: construct the real Worker from an arrow function
  // (a constructor returning an object gives that object).
  const workers = jest.spyOn(threadsModule, 'Worker').mockImplementation(((filename: string | URL, options?: WorkerThreads.WorkerOptions) => {
    scripts.push(String(filename));
    return new RealWorker(filename, options);
  }) as unknown as () => WorkerThreads.Worker);
  const starts = jest.spyOn(WorkerSnapshotReader, 'start');
  return {
    starts,
    threads: () => [...scripts],
    running: async () => {
      let n = 0;
      for (const result of starts.mock.results) {
        if ((await (result.value as Promise<WorkerSnapshotReader | undefined>)) instanceof WorkerSnapshotReader) n++;
      }
      return n;
    },
    restore: () => {
      starts.mockRestore();
      workers.mockRestore();
    },
  };
}
