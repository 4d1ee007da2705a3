/** Order statistics for benchmark samples. The machine is shared and noisy: quote medians. */

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p99: number;
}

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError('no samples');
  return [...values].sort((a, b) => a - b);
}

/** Median (mean of the two middle samples for an even count). */
export function median(values: readonly number[]): number {
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, `p` in 0..100. */
export function percentile(values: readonly number[], p: number): number {
  const s = sorted(values);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  return { n: s.length, median: median(s), min: s[0]!, max: s[s.length - 1]!, p99: percentile(s, 99) };
}

/** Monotonic milliseconds. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Peak resident set size, sampled: on a timer while the event loop turns, and explicitly by
 * `sample()` from tight loops that may not yield. `reset()` starts a new phase window.
 */
export class RssSampler {
  private phasePeak = 0;
  private overallPeak = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 50): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.phasePeak) this.phasePeak = rss;
    if (rss > this.overallPeak) this.overallPeak = rss;
    return rss;
  }

  /** Peak since the last reset, then starts a new window. */
  reset(): number {
    this.sample();
    const peak = this.phasePeak;
    this.phasePeak = 0;
    return peak;
  }

  get peak(): number {
    return this.overallPeak;
  }
}
