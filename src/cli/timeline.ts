import type { RootStoreEvent } from '../root/root-store.js';

interface Tick {
  readonly t: number;
  readonly version: number;
}

/** The phases a timeline shows, in lane order; each is labelled in the picture. */
export const TIMELINE_LANES = ['snapshot restore', 'commits / logged', 'replay / applied', 'switch'] as const;

/**
 * Records when each migration event happened and draws the migration timeline as an SVG picture
 * (x = time since the migration started): the snapshot restore as a bar with its key count, every
 * commit logged, every logged version applied (replay until the first catch-up, then live), and
 * the switch as a line across all lanes.
 */
export class TimelineRecorder {
  private t0: number | undefined;
  private height: number | undefined;
  private restoredAt: number | undefined;
  private restoredKeys = 0;
  private readonly samples: { t: number; keys: number }[] = [];
  private readonly logged: Tick[] = [];
  private readonly applied: (Tick & { live: boolean })[] = [];
  private caughtUpAt: number | undefined;
  private switchAt: Tick | undefined;
  private switchedAt: Tick | undefined;
  private failedAt: { t: number; message: string } | undefined;
  private last = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes one event (call it from the events$ subscription, as the events arrive). */
  record(event: RootStoreEvent): void {
    const t = this.now();
    if (event.type === 'migrationStarted') {
      this.t0 = t;
      this.height = event.height;
    }
    this.t0 ??= t;
    this.last = Math.max(this.last, t);
    switch (event.type) {
      case 'progress':
        if (event.phase === 'restore') this.samples.push({ t, keys: event.keys });
        break;
      case 'restored':
        this.restoredAt = t;
        this.restoredKeys = event.keys;
        this.height ??= event.version;
        break;
      case 'logged':
        this.logged.push({ t, version: event.version });
        break;
      case 'applied':
        this.applied.push({ t, version: event.version, live: this.caughtUpAt !== undefined });
        break;
      case 'caughtUp':
        this.caughtUpAt ??= t;
        break;
      case 'switch':
        this.switchAt = { t, version: event.version };
        break;
      case 'switched':
        this.switchedAt = { t, version: event.version };
        break;
      case 'migrationFailed':
        this.failedAt = { t, message: event.error instanceof Error ? event.error.message : String(event.error) };
        break;
      default:
        break;
    }
  }

  /** The picture as a standalone SVG document. */
  toSvg(title = 'rx-store-migration: store/v1 → store/v2 migration timeline'): string {
    const W = 1100;
    const left = 200;
    const right = 40;
    const top = 70;
    const laneH = 62;
    // Inside a lane: a text row on top, the drawing below it.
    const g0 = 20;
    const g1 = laneH - 6;
    const lanes = TIMELINE_LANES.length;
    const H = top + lanes * laneH + 70;
    const t0 = this.t0 ?? 0;
    const span = Math.max(this.last - t0, 1);
    const x = (t: number): number => left + ((t - t0) / span) * (W - left - right);
    const laneY = (i: number): number => top + i * laneH;
    const f = (n: number): string => n.toFixed(1);
    // A phase label at the left edge of its band: outside it (pointing right) when there is room.
    const sideLabel = (at: number, y: number, text: string, color: string): string =>
      at - left > 70
        ? `<text x="${f(at - 4)}" y="${f(y)}" text-anchor="end" fill="${color}" font-size="11">${esc(text)} →</text>`
        : `<text x="${f(at + 4)}" y="${f(y)}" fill="${color}" font-size="11">${esc(text)}</text>`;
    const out: string[] = [];
    out.push('<?xml version="1.0" encoding="UTF-8"?>');
    out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
    out.push(`<title>${esc(title)}</title>`);
    out.push('<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>');
    out.push(`<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
    const facts = [
      this.height === undefined ? undefined : `snapshot height ${this.height}`,
      this.restoredAt === undefined ? undefined : `${this.restoredKeys.toLocaleString('en-US')} keys restored in ${((this.restoredAt - t0) / 1000).toFixed(2)} s`,
      `${this.logged.length} commits logged`,
      `${this.applied.length} applied`,
      this.switchedAt === undefined ? undefined : `switched at version ${this.switchedAt.version}`,
    ].filter((s): s is string => s !== undefined);
    out.push(`<text x="${left}" y="46" fill="#444">${esc(facts.join(' · '))}</text>`);

    // lanes
    TIMELINE_LANES.forEach((name, i) => {
      const y = laneY(i);
      out.push(`<rect x="${left}" y="${f(y + 4)}" width="${W - left - right}" height="${laneH - 8}" fill="${i % 2 ? '#f6f6f6' : '#fbfbfb'}" stroke="#e0e0e0"/>`);
      out.push(`<text x="${left - 10}" y="${f(y + laneH / 2 + 4)}" text-anchor="end" font-weight="bold">${esc(name)}</text>`);
    });

    // snapshot restore: a bar from the start to "restored", with the keys restored over time
    {
      const y = laneY(0);
      const end = this.restoredAt ?? this.failedAt?.t ?? this.last;
      out.push(`<rect x="${f(x(t0))}" y="${f(y + g0)}" width="${f(Math.max(x(end) - x(t0), 2))}" height="${g1 - g0}" fill="#9ecae1" stroke="#3182bd"/>`);
      const maxKeys = Math.max(this.restoredKeys, ...this.samples.map((s) => s.keys), 1);
      if (this.samples.length > 0) {
        const points = [{ t: t0, keys: 0 }, ...this.samples, ...(this.restoredAt === undefined ? [] : [{ t: this.restoredAt, keys: this.restoredKeys }])]
          .map((s) => `${f(x(s.t))},${f(y + g1 - ((g1 - g0) * s.keys) / maxKeys)}`)
          .join(' ');
        out.push(`<polyline points="${points}" fill="none" stroke="#08519c" stroke-width="1.5"/>`);
      }
      const label = this.restoredAt === undefined ? 'snapshot restore (unfinished)' : `snapshot restore: ${this.restoredKeys.toLocaleString('en-US')} keys`;
      out.push(`<text x="${f(x(t0) + 4)}" y="${f(y + 15)}" fill="#08306b" font-size="11">${esc(label)}</text>`);
    }

    // commits / logged: one tick per commit logged durably
    {
      const y = laneY(1);
      for (const tick of this.logged) {
        out.push(`<line x1="${f(x(tick.t))}" y1="${f(y + g0)}" x2="${f(x(tick.t))}" y2="${f(y + g1)}" stroke="#e6550d" stroke-width="1"><title>logged version ${tick.version}</title></line>`);
      }
      const first = this.logged[0];
      const lastLogged = this.logged[this.logged.length - 1];
      const label = first && lastLogged ? `logged: versions ${first.version}–${lastLogged.version}` : 'logged: no commits';
      out.push(`<text x="${f(x(t0) + 4)}" y="${f(y + 15)}" fill="#7f2704" font-size="11">${esc(label)}</text>`);
    }

    // replay / applied: replay band from "restored" to the first catch-up, then live
    {
      const y = laneY(2);
      if (this.restoredAt !== undefined) {
        const replayEnd = this.caughtUpAt ?? this.switchAt?.t ?? this.last;
        out.push(`<rect x="${f(x(this.restoredAt))}" y="${f(y + g0)}" width="${f(Math.max(x(replayEnd) - x(this.restoredAt), 2))}" height="${g1 - g0}" fill="#c7e9c0" stroke="#31a354"/>`);
        out.push(sideLabel(x(this.restoredAt), y + g0 + 12, 'replay', '#00441b'));
        if (this.caughtUpAt !== undefined) {
          const liveEnd = this.switchAt?.t ?? this.last;
          out.push(`<rect x="${f(x(this.caughtUpAt))}" y="${f(y + g0)}" width="${f(Math.max(x(liveEnd) - x(this.caughtUpAt), 2))}" height="${g1 - g0}" fill="#fdd0a2" stroke="#a63603"/>`);
          out.push(sideLabel(x(this.caughtUpAt), y + g1 - 4, 'live', '#7f2704'));
        }
      }
      for (const tick of this.applied) {
        out.push(`<line x1="${f(x(tick.t))}" y1="${f(y + g0 + 4)}" x2="${f(x(tick.t))}" y2="${f(y + g1 - 4)}" stroke="${tick.live ? '#a63603' : '#006d2c'}" stroke-width="1"><title>applied version ${tick.version} (${tick.live ? 'live' : 'replay'})</title></line>`);
      }
      const label = `applied: ${this.applied.length} versions (${this.applied.filter((a) => !a.live).length} replayed, ${this.applied.filter((a) => a.live).length} live)`;
      out.push(`<text x="${left + 4}" y="${f(y + 15)}" fill="#00441b" font-size="11">${esc(label)}</text>`);
    }

    // switch: a line across every lane
    {
      const y = laneY(3);
      const at = this.switchedAt ?? this.switchAt;
      if (at !== undefined) {
        const sx = x(at.t);
        out.push(`<line x1="${f(sx)}" y1="${top}" x2="${f(sx)}" y2="${f(top + lanes * laneH)}" stroke="#756bb1" stroke-width="2" stroke-dasharray="6 3"/>`);
        out.push(`<circle cx="${f(sx)}" cy="${f(y + (g0 + g1) / 2)}" r="6" fill="#756bb1"/>`);
        const label = this.switchedAt ? `switch: version ${this.switchedAt.version} onwards on store/v2` : `switch at version ${at.version}`;
        out.push(`<text x="${f(sx - 10)}" y="${f(y + (g0 + g1) / 2 + 4)}" text-anchor="end" fill="#3f007d">${esc(label)}</text>`);
      } else {
        const label = this.failedAt ? `no switch: migration failed (${this.failedAt.message})` : 'switch: not reached';
        out.push(`<text x="${left + 6}" y="${f(y + laneH / 2 + 4)}" fill="#a50f15">${esc(label)}</text>`);
      }
    }

    // time axis
    {
      const y = top + lanes * laneH + 8;
      out.push(`<line x1="${left}" y1="${y}" x2="${W - right}" y2="${y}" stroke="#333"/>`);
      const seconds = span / 1000;
      const step = niceStep(seconds / 10);
      for (let s = 0; s <= seconds + 1e-9; s += step) {
        const tx = x(t0 + s * 1000);
        out.push(`<line x1="${f(tx)}" y1="${y}" x2="${f(tx)}" y2="${y + 5}" stroke="#333"/>`);
        out.push(`<text x="${f(tx)}" y="${y + 18}" text-anchor="middle" fill="#333">${esc(formatSeconds(s, step))}</text>`);
      }
      out.push(`<text x="${(left + W - right) / 2}" y="${y + 38}" text-anchor="middle" fill="#333">time since the migration started (s)</text>`);
    }
    out.push('</svg>');
    return `${out.join('\n')}\n`;
  }
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (raw <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

function formatSeconds(s: number, step: number): string {
  const digits = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step)));
  return `${s.toFixed(digits)}s`;
}

/** XML text/attribute escaping. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
