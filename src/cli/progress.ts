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
  private value = 0;
  private unit = 'keys';
  private stopped = false;

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
    // Lines printed while a bar is drawn go above it (each clears its terminal line first).
    output.setMessageHook((line) => {
      if (this.stopped) return false;
      for (const part of line.split('\n')) this.multi?.log(`\x1b[2K${part}\n`);
      return true;
    });
  }

  /** The phase shown now. */
  get phase(): string {
    return this.phaseName;
  }

  /**
   * Starts a bar for `phase` with `total` units. The previous phase's bar is replaced by a
   * permanent line saying how much it did, how fast.
   */
  start(phase: string, total: number, unit = 'keys', startValue = 0): void {
    if (!this.multi || this.stopped) return;
    this.finishBar();
    this.phaseName = phase;
    this.phaseStart = performance.now();
    this.startValue = startValue;
    this.value = startValue;
    this.unit = unit;
    this.bar = this.multi.create(Math.max(total, 1), startValue, { phase: phase.padEnd(8), speed: '0', unit, detail: '' });
  }

  /** Moves the bar to `value` (and optionally a new total or a short detail text). */
  update(value: number, options: { total?: number; detail?: string } = {}): void {
    if (!this.bar || this.stopped) return;
    if (options.total !== undefined) this.bar.setTotal(Math.max(options.total, 1));
    this.value = value;
    this.bar.update(value, { speed: this.speed().toLocaleString('en-US'), unit: this.unit, detail: options.detail ?? '' });
  }

  /** Ends the last phase and gives stderr back (idempotent). */
  stop(): void {
    if (!this.multi || this.stopped) return;
    this.finishBar();
    this.multi.update();
    this.multi.stop();
    this.stopped = true;
  }

  private speed(): number {
    const seconds = (performance.now() - this.phaseStart) / 1000;
    return seconds > 0 ? Math.round((this.value - this.startValue) / seconds) : 0;
  }

  /** Ends the current phase's bar (replaced by its one-line result). */
  finish(): void {
    if (!this.stopped) this.finishBar();
  }

  private finishBar(): void {
    if (!this.multi || !this.bar) return;
    const seconds = (performance.now() - this.phaseStart) / 1000;
    const done = (this.value - this.startValue).toLocaleString('en-US');
    const verb = this.bar.getProgress() >= 1 ? 'done' : 'stopped after';
    this.multi.log(`\x1b[2K ${this.phaseName.padEnd(8)} ${verb}: ${done} ${this.unit} in ${seconds.toFixed(1)} s (${this.speed().toLocaleString('en-US')} ${this.unit}/s)\n`);
    this.multi.remove(this.bar);
    this.bar = undefined;
  }
}

/**
 * Feeds a {@link ProgressView} from the root store's (or a MigrationManager's) events: restore
 * progress against the known number of keys, then the replay of the logged blocks, and a line per
 * milestone.
 */
export class MigrationProgress {
  private height = 0;
  private latestLogged = 0;
  private restored = false;

  constructor(
    private readonly view: ProgressView,
    private readonly output: Output,
    private readonly totalKeys: number,
    /** False for an offline migration: nothing is committed meanwhile, so there is no replay. */
    private readonly replay = true,
  ) {}

  next(event: RootStoreEvent): void {
    switch (event.type) {
      case 'migrationStarted':
        this.height = event.height;
        this.latestLogged = Math.max(this.latestLogged, event.height);
        this.view.finish();
        this.output.info(`migration started at height ${event.height}`);
        this.view.start('restore', this.totalKeys);
        break;
      case 'progress':
        if (event.phase === 'restore') this.view.update(event.keys, { total: Math.max(this.totalKeys, event.keys) });
        break;
      case 'logged':
        this.latestLogged = Math.max(this.latestLogged, event.version);
        if (this.restored) this.view.update(this.applied(), { total: this.latestLogged - this.height });
        break;
      case 'restored':
        this.restored = true;
        this.height = event.version;
        this.view.update(event.keys, { total: event.keys });
        this.view.finish();
        this.output.info(`restored ${event.keys.toLocaleString('en-US')} keys at height ${event.version}; store roots verified against store/v1`);
        if (this.replay) this.view.start('replay', Math.max(this.latestLogged - this.height, 1), 'blocks');
        break;
      case 'applied':
        this.appliedVersion = event.version;
        this.view.update(this.applied(), { total: this.latestLogged - this.height, detail: `lag ${this.latestLogged - event.version}` });
        break;
      case 'caughtUp':
        this.view.update(this.applied(), { detail: 'caught up' });
        break;
      case 'switch':
        this.view.finish();
        this.output.info(`caught up at version ${event.version} (replayed ${Math.max(event.version - this.height, 0)} blocks); switching`);
        break;
      case 'switched':
        this.output.info(`switched: version ${event.version} and later are served by store/v2`);
        break;
      case 'migrationFailed':
        this.view.finish();
        this.output.info('migration failed');
        break;
      default:
        break;
    }
  }

  private appliedVersion = 0;

  private applied(): number {
    return Math.max(this.appliedVersion - this.height, 0);
  }
}
