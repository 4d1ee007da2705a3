import { MigrationProgress, ProgressView } from '../../src/cli/progress.js';
import { Output } from '../../src/cli/output.js';
import type { RootStoreEvent } from '../../src/root/root-store.js';

/** The phases a {@link MigrationProgress} starts bars for, and the lines it writes. */
function phasesFor(replay: boolean, events: RootStoreEvent[]): { phases: string[]; lines: string[] } {
  const lines: string[] = [];
  const sink = { write: (text: string) => lines.push(text.trimEnd()), isTTY: false } as unknown as NodeJS.WriteStream;
  const output = new Output({ stdout: sink, stderr: sink });
  const view = new ProgressView(output);
  const phases: string[] = [];
  const start = view.start.bind(view);
  view.start = (phase, ...rest) => {
    phases.push(phase);
    start(phase, ...rest);
  };
  const progress = new MigrationProgress(view, output, 100, replay);
  for (const event of events) progress.next(event);
  return { phases, lines };
}

describe('MigrationProgress', () => {
  const events: RootStoreEvent[] = [
    { type: 'migrationStarted', height: 7 },
    { type: 'progress', phase: 'restore', items: 10, keys: 5, bytes: 50, storesDone: 0, lag: 0 },
    { type: 'restored', version: 7, keys: 100, storeRoots: {} },
  ];

  it('follows the restore with a replay of the logged blocks in a live migration', () => {
    expect(phasesFor(true, events)).toEqual({
      phases: ['restore', 'replay'],
      lines: ['migration started at height 7', 'restored 100 keys at height 7; store roots verified against store/v1'],
    });
  });

  it('starts no replay in an offline migration, where nothing is committed meanwhile', () => {
    expect(phasesFor(false, events).phases).toEqual(['restore']);
  });
});
