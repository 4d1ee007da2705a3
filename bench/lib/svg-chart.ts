/**
 * A small hand-written SVG line chart: stacked panels that share the x axis (e.g. throughput on
 * top, memory below), each with its own y axis, ticks, grid and legend. Enough for the bench's
 * plot without a charting dependency; the output is a static file that renders on GitHub.
 */

/** One line of a panel. */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly (readonly [x: number, y: number])[];
  readonly color: string;
  readonly dashed?: boolean;
}

/** One panel: a y axis and its lines. */
export interface ChartPanel {
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** A horizontal reference line, e.g. a memory limit. */
  readonly reference?: { readonly y: number; readonly label: string };
}

/** What {@link lineChartSvg} draws. */
export interface LineChart {
  readonly title: string;
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly panels: readonly ChartPanel[];
  readonly width?: number;
  readonly panelHeight?: number;
}

const MARGIN = { left: 78, right: 24, top: 58, bottom: 48 };
const PANEL_GAP = 34;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/**
 * "Nice" tick values covering `[min, max]`: steps of 1, 2 or 5 × 10^k, about `count` of them, so
 * axis labels are round numbers.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function tickLabel(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return `${Number(value.toPrecision(4))}`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** Renders `chart` as a standalone SVG document. */
export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 860;
  const panelHeight = chart.panelHeight ?? 220;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const height = MARGIN.top + chart.panels.length * panelHeight + (chart.panels.length - 1) * PANEL_GAP + MARGIN.bottom;
  const allX = chart.panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xMin = 0;
  const xMax = Math.max(1e-9, ...allX);
  const xTicks = niceTicks(xMin, xMax, 8).filter((t) => t <= xMax);
  const sx = (x: number): number => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotWidth;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="600">${escapeXml(chart.title)}</text>`);
  if (chart.subtitle) out.push(`<text x="${width / 2}" y="42" text-anchor="middle" font-size="11" fill="#555">${escapeXml(chart.subtitle)}</text>`);
  chart.panels.forEach((panel, index) => {
    const top = MARGIN.top + index * (panelHeight + PANEL_GAP);
    const bottom = top + panelHeight;
    const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y));
    if (panel.reference) ys.push(panel.reference.y);
    // Throughput and memory both start from zero: a cropped y axis would exaggerate wiggles.
    const yMax = Math.max(1e-9, ...ys) * 1.08;
    const yTicks = niceTicks(0, yMax, 5).filter((t) => t <= yMax);
    const sy = (y: number): number => bottom - (y / yMax) * panelHeight;
    out.push(`<g>`);
    for (const t of yTicks) {
      out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e6e6e6"/>`);
      out.push(`<text x="${MARGIN.left - 8}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#333">${tickLabel(t)}</text>`);
    }
    for (const t of xTicks) {
      out.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${sx(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" font-size="11" fill="#333">${tickLabel(t)}</text>`);
    }
    out.push(`<rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${panelHeight}" fill="none" stroke="#999"/>`);
    const yMid = (top + bottom) / 2;
    out.push(`<text transform="translate(18 ${yMid}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(panel.yLabel)}</text>`);
    if (panel.reference) {
      const y = sy(panel.reference.y).toFixed(1);
      out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y}" y2="${y}" stroke="#c0392b" stroke-dasharray="2 3"/>`);
      out.push(`<text x="${MARGIN.left + plotWidth - 4}" y="${Number(y) - 4}" text-anchor="end" font-size="10" fill="#c0392b">${escapeXml(panel.reference.label)}</text>`);
    }
    for (const series of panel.series) {
      if (series.points.length === 0) continue;
      const d = series.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
      out.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="1.8"${dash}/>`);
    }
    panel.series.forEach((series, i) => {
      const x = MARGIN.left + 10;
      const y = top + 16 + i * 16;
      const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
      out.push(`<line x1="${x}" x2="${x + 22}" y1="${y - 4}" y2="${y - 4}" stroke="${series.color}" stroke-width="2"${dash}/>`);
      out.push(`<text x="${x + 28}" y="${y}" font-size="11">${escapeXml(series.name)}</text>`);
    });
    out.push(`</g>`);
  });
  const last = MARGIN.top + chart.panels.length * panelHeight + (chart.panels.length - 1) * PANEL_GAP;
  out.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${last + 38}" text-anchor="middle" font-size="12">${escapeXml(chart.xLabel)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
