import cliProgress from 'cli-progress';
import type { RootStoreEvent } from '../root/root-store.js';
import type { Output } from './output.js';

/**
 * The terminal progress bar (cli-progress): one bar per phase — `build`, `restore`, `replay`,
 * `verify` — with its rate and ETA. Without a terminal (or with `--json`) it draws nothing: the
 * same information is in the JSON events.
 */
export class ProgressView {
  private readonly multi: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private phaseName = '';
  private phaseStart = 0;
  private startValue = 0;
  private unit = 'keys';

  constructor(private readonly output: Output) {
    if (!output.interactive) return;
    this.multi = new cliProgress.MultiBar(
      {
        format: ' {phase} |{bar}| {percentage}% | {value}/{total} {unit} | {speed} {unit}/s | ETA {eta_formatted} {detail}',
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        etaBuffer: 50,
        fps: 8,
        barsize: 30,
        formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? value.toLocaleString('en-US') : String(value)),
      },
      cliProgress.Presets.shades_classic,
    );
    output.setMessageHook((line) => {
      this.multi?.log(`${line}\n`);
      return true;
    });
  }

  /** The phase shown now. */
  get phase(): string {
    return this.phaseName;
  }

  /** Starts a bar for `phase` with `total` units below the previous ones. */
  start(phase: string, total: number, unit = 'keys', startValue = 0): void {
    if (!this.multi) return;
    // The finished phases' bars stay on screen above the new one.
    this.phaseName = phase;
    this.phaseStart = performance.now();
    this.startValue = startValue;
    this.unit = unit;
    this.bar = this.multi.create(Math.max(total, 1), startValue, { phase: phase.padEnd(8), speed: '0', unit, detail: '' });
  }

  /** Moves the bar to `value` (and optionally a new total or a short detail text). */
  update(value: number, options: { total?: number; detail?: string } = {}): void {
    if (!this.bar) return;
    if (options.total !== undefined) this.bar.setTotal(Math.max(options.total, 1));
    const seconds = (performance.now() - this.phaseStart) / 1000;
    const speed = seconds > 0 ? Math.round((value - this.startValue) / seconds) : 0;
    this.bar.update(value, { speed: speed.toLocaleString('en-US'), unit: this.unit, detail: options.detail ?? '' });
  }

  /** Removes the bar and gives stderr back. */
  stop(): void {
    if (!this.multi) return;
    this.multi.stop();
    this.output.setMessageHook(undefined);
  }
}

/**
 * Feeds a {@link ProgressView} from the root store's (or a MigrationManager's) events: restore
 * progress against the known number of keys, then the replay lag, and a line per milestone.
 */
export class MigrationProgress {
  private maxLag = 0;
  private replayFrom = 0;

  constructor(
    private readonly view: ProgressView,
    private readonly output: Output,
    private readonly totalKeys: number,
  ) {}

  next(event: RootStoreEvent): void {
    switch (event.type) {
      case 'migrationStarted':
        this.output.info(`migration started at height ${event.height}`);
        this.view.start('restore', this.totalKeys);
        break;
      case 'progress':
        if (event.phase === 'restore') {
          if (this.view.phase !== 'restore') this.view.start('restore', this.totalKeys);
          this.view.update(event.keys, { total: Math.max(this.totalKeys, event.keys) });
        } else {
          if (this.view.phase !== 'replay') {
            this.maxLag = Math.max(event.lag, 1);
            this.view.start('replay', this.maxLag, 'blocks');
          }
          this.maxLag = Math.max(this.maxLag, event.lag);
          this.view.update(this.maxLag - event.lag, { total: this.maxLag, detail: `lag ${event.lag} (${event.phase})` });
        }
        break;
      case 'restored':
        this.replayFrom = event.version;
        this.view.update(event.keys, { total: event.keys });
        this.output.info(`restored ${event.keys.toLocaleString('en-US')} keys at height ${event.version}; store roots verified against store/v1`);
        break;
      case 'caughtUp':
        if (this.view.phase === 'replay') this.view.update(this.maxLag, { detail: 'caught up' });
        break;
      case 'switch':
        this.output.info(`caught up at version ${event.version} (replayed ${Math.max(event.version - this.replayFrom, 0)} blocks); switching`);
        break;
      case 'switched':
        this.output.info(`switched: version ${event.version} and later are served by store/v2`);
        break;
      case 'migrationFailed':
        this.output.info('migration failed');
        break;
      default:
        break;
    }
  }
}
