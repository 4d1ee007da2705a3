/**
 * A time series of the process's memory and of a progress counter, sampled on a timer, for the
 * memory bench's curve and plot. Kept separate from RssSampler (which only tracks peaks) because a
 * curve needs every sample, and the counter needs to be fed from the migration's progress events.
 */
import { readFileSync } from 'node:fs';
import { nowMs } from './stats.js';

/**
 * The two parts of RSS on Linux (`/proc/self/status`): anonymous pages (what the process
 * allocated: V8 heap, malloc) and file-backed pages (mapped files: the node binary, and LevelDB's
 * memory-mapped table files — page cache, clean and reclaimable); zeros elsewhere.
 */
export function rssParts(): { anonBytes: number; fileBytes: number } {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { anonBytes: kb('RssAnon'), fileBytes: kb('RssFile') };
  } catch {
    return { anonBytes: 0, fileBytes: 0 };
  }
}

/**
 * The peak RSS of this process's own address space (`VmHWM` in `/proc/self/status`). Unlike
 * `process.resourceUsage().maxRSS`, it does not count the parent: Linux carries the parent's RSS
 * at fork time over into a child's `maxRSS`, so a child of a big bench process inherits its peak.
 * Falls back to `maxRSS` where there is no `/proc`.
 */
export function ownPeakRssBytes(): number {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (hwm !== null) return Number(hwm[1]) * 1024;
  } catch {
    // no /proc: below
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** One sample: milliseconds since `start()`, memory in bytes, and the counter at that moment. */
export interface TimelineSample {
  readonly tMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** The V8 heap as reserved from the OS (what heapUsed costs in RSS, garbage included). */
  readonly heapTotalBytes: number;
  /** Memory of C++ objects bound to JS, Buffers and ArrayBuffers included (outside the V8 heap). */
  readonly externalBytes: number;
  /** RSS split into anonymous and file-backed pages (Linux; 0 elsewhere), see {@link rssParts}. */
  readonly rssAnonBytes: number;
  readonly rssFileBytes: number;
  readonly count: number;
}

/** Samples RSS, the V8 heap, external memory and a counter every `intervalMs` while the event loop turns. */
export class TimelineSampler {
  private readonly samples: TimelineSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private counter = 0;

  constructor(private readonly intervalMs = 250) {}

  /** The latest value of the counter (e.g. keys restored so far); sampled with the memory. */
  set count(value: number) {
    this.counter = value;
  }

  /** Takes the first sample (time 0) and starts the timer. */
  start(): void {
    this.t0 = nowMs();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    // Sampling must never keep a finished bench alive.
    this.timer.unref();
  }

  /** Stops the timer after one last sample; returns every sample. */
  stop(): readonly TimelineSample[] {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this.samples;
  }

  /** Takes one sample now (also usable from a loop that does not yield to the timer). */
  sample(): void {
    const memory = process.memoryUsage();
    const parts = rssParts();
    this.samples.push({
      tMs: nowMs() - this.t0,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      rssAnonBytes: parts.anonBytes,
      rssFileBytes: parts.fileBytes,
      count: this.counter,
    });
  }
}

/**
 * Rate of the counter per second over a sliding window of `windowMs`, at every sample after the
 * first (the first second has a shorter window). A window, because progress arrives in throttled steps (one event per
 * 250 ms at most): the difference of two neighbouring samples jumps between 0 and twice the rate.
 */
export function ratePerSecond(samples: readonly TimelineSample[], windowMs = 1000): { tMs: number; rate: number }[] {
  const out: { tMs: number; rate: number }[] = [];
  let from = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    while (from < i && s.tMs - samples[from + 1]!.tMs >= windowMs) from++;
    const first = samples[from]!;
    const span = s.tMs - first.tMs;
    if (span <= 0) continue;
    out.push({ tMs: s.tMs, rate: ((s.count - first.count) * 1000) / span });
  }
  return out;
}
