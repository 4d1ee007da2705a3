import { toHex } from '../core/bytes.js';
import { isStoreError } from '../core/errors.js';

/**
 * A value made JSON-safe: `bigint` → `"0x…"` hex, `Uint8Array` (Buffer included) → hex, errors →
 * `{ name, code?, message }`, `Map` → object, `undefined` in arrays → `null`. Plain objects and
 * arrays are walked; everything else is left to `JSON.stringify`.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  if (value instanceof Uint8Array) return toHex(value);
  if (value instanceof Error) {
    return { name: value.name, ...(isStoreError(value) ? { code: value.code } : {}), message: value.message };
  }
  if (value instanceof Map) return toJsonValue(Object.fromEntries(value));
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toJsonValue(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}

/** One line of JSON (no newline inside). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(toJsonValue(value));
}

/** Options of {@link Output}. */
export interface OutputOptions {
  /** `--json`: newline-delimited JSON on stdout even on a terminal. */
  readonly json?: boolean;
  readonly stdout?: NodeJS.WriteStream;
  readonly stderr?: NodeJS.WriteStream;
}

/**
 * Where a command writes. stdout is always machine-readable at its end (a one-line JSON summary);
 * in JSON mode (`--json`, or stdout not a terminal) every event is also a JSON line on stdout.
 * Messages for people and warnings go to stderr, so they never break a JSON consumer.
 */
export class Output {
  readonly json: boolean;
  /** A progress bar can be drawn: not JSON mode and stderr is a terminal. */
  readonly interactive: boolean;
  private readonly stdout: NodeJS.WriteStream;
  private readonly stderr: NodeJS.WriteStream;
  private readonly started = performance.now();
  private messageHook: ((line: string) => boolean) | undefined;

  constructor(options: OutputOptions = {}) {
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.json = options.json === true || this.stdout.isTTY !== true;
    this.interactive = !this.json && this.stderr.isTTY === true;
  }

  /** Milliseconds since the command started. */
  get elapsedMs(): number {
    return Math.round(performance.now() - this.started);
  }

  /** In JSON mode: `{"type":…, "t": ms, …fields}` on stdout. */
  event(type: string, fields: object = {}): void {
    if (!this.json) return;
    this.stdout.write(`${jsonLine({ type, t: this.elapsedMs, ...fields })}\n`);
  }

  /** The final one-line JSON summary on stdout (in every mode). */
  summary(fields: object): void {
    this.stdout.write(`${jsonLine(fields)}\n`);
  }

  /** Human-only text on stdout (tables); nothing in JSON mode. */
  text(line: string): void {
    if (!this.json) this.stdout.write(`${line}\n`);
  }

  /** A message for people on stderr (routed around an active progress bar). */
  info(message: string): void {
    this.write(message);
  }

  /** `warning: …` on stderr. */
  warn(message: string): void {
    this.write(`warning: ${message}`);
  }

  /** Lets a progress bar take stderr lines while it is drawn (returns true when it printed them). */
  setMessageHook(hook: ((line: string) => boolean) | undefined): void {
    this.messageHook = hook;
  }

  private write(line: string): void {
    if (this.messageHook?.(line)) return;
    this.stderr.write(`${line}\n`);
  }
}

/** A plain text table: columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
