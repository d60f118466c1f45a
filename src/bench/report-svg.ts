/** Hand-written, self-contained SVG charts for benchmark reports: a line chart (one line per series) and a bar chart. */
import type { Axis } from './report-svg-axes.js';
import { PALETTE, escapeXml, formatNumber, fraction, linearAxis, logAxis, px, truncate } from './report-svg-axes.js';

export interface LineSeries {
  name: string;
  /** [x, y] pairs; drawn in x order. Non-finite y (and y <= 0 on a log scale) leave a gap in the line. */
  points: [number, number][];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  logY?: boolean;
  /** x counts whole things (replicas, pods): only whole-number ticks. */
  integerX?: boolean;
}

export interface BarChart {
  title: string;
  yLabel: string;
  bars: { label: string; value: number }[];
}

const WIDTH = 720;
const HEIGHT = 420;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** The plot area inside the margins. */
interface Frame {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function open(title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT} font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold" fill="#222">${escapeXml(truncate(title, 80))}</text>`,
  ];
}

/** Horizontal grid lines with y tick labels, the y axis title, and the two axis lines. */
function yAxis(f: Frame, axis: Axis, label: string): string[] {
  const out: string[] = [];
  for (const t of axis.ticks) {
    const y = f.bottom - fraction(axis, t) * (f.bottom - f.top);
    out.push(`<line x1="${f.left}" y1="${px(y)}" x2="${f.right}" y2="${px(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f.left - 6}" y="${px(y + 4)}" text-anchor="end" fill="#444">${escapeXml(formatNumber(t))}</text>`);
  }
  const cy = (f.top + f.bottom) / 2;
  out.push(`<text x="18" y="${px(cy)}" text-anchor="middle" transform="rotate(-90 18 ${px(cy)})" fill="#222">${escapeXml(truncate(label, 50))}</text>`);
  out.push(`<line x1="${f.left}" y1="${f.top}" x2="${f.left}" y2="${f.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${f.left}" y1="${f.bottom}" x2="${f.right}" y2="${f.bottom}" stroke="#333"/>`);
  return out;
}

/**
 * One coloured `<path>` with circle markers per series, a legend on the right. Deterministic output for the same
 * input; every text is escaped.
 */
export function toSvgLineChart(chart: LineChart): string {
  const f: Frame = { left: 72, right: WIDTH - 200, top: 48, bottom: HEIGHT - 56 };
  const logY = chart.logY ?? false;
  const usable = (y: number): boolean => Number.isFinite(y) && (!logY || y > 0);
  const all = chart.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && usable(y)));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const spanned = linearAxis(Math.min(...xs), Math.max(...xs), 6);
  const xAxis = chart.integerX === true ? { ...spanned, ticks: spanned.ticks.filter((t) => Number.isInteger(t)) } : spanned;
  // Latencies and rates read best from zero; a log scale cannot include it.
  const yAxisScale = logY ? logAxis(Math.min(...ys), Math.max(...ys)) : linearAxis(Math.min(0, ...ys), Math.max(...ys), 5);
  const sx = (x: number): number => f.left + fraction(xAxis, x) * (f.right - f.left);
  const sy = (y: number): number => f.bottom - fraction(yAxisScale, y) * (f.bottom - f.top);

  const out = open(chart.title);
  out.push(...yAxis(f, yAxisScale, chart.yLabel));
  for (const t of xAxis.ticks) {
    const x = sx(t);
    out.push(`<line x1="${px(x)}" y1="${f.bottom}" x2="${px(x)}" y2="${f.bottom + 5}" stroke="#333"/>`);
    out.push(`<text x="${px(x)}" y="${f.bottom + 18}" text-anchor="middle" fill="#444">${escapeXml(formatNumber(t))}</text>`);
  }
  out.push(`<text x="${px((f.left + f.right) / 2)}" y="${HEIGHT - 14}" text-anchor="middle" fill="#222">${escapeXml(truncate(chart.xLabel, 70))}</text>`);
  if (all.length === 0) out.push(`<text x="${px((f.left + f.right) / 2)}" y="${px((f.top + f.bottom) / 2)}" text-anchor="middle" fill="#888">no data</text>`);

  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] ?? '#000';
    const sorted = s.points.filter(([x]) => Number.isFinite(x)).sort((a, b) => a[0] - b[0]);
    let d = '';
    let pen = false;
    const markers: string[] = [];
    for (const [x, y] of sorted) {
      if (!usable(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(sx(x))} ${px(sy(y))} `;
      pen = true;
      markers.push(`<circle cx="${px(sx(x))}" cy="${px(sy(y))}" r="3.5" fill="${color}"/>`);
    }
    out.push(`<path d="${d.trim()}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`, ...markers);
    const ly = f.top + 8 + i * 20;
    out.push(`<line x1="${f.right + 16}" y1="${ly}" x2="${f.right + 40}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<circle cx="${f.right + 28}" cy="${ly}" r="3.5" fill="${color}"/>`);
    out.push(`<text x="${f.right + 46}" y="${ly + 4}" fill="#222">${escapeXml(truncate(s.name, 24))}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** One bar per entry with its value on top; labels slant when there are many bars. */
export function toSvgBarChart(chart: BarChart): string {
  const f: Frame = { left: 72, right: WIDTH - 24, top: 48, bottom: HEIGHT - 72 };
  const values = chart.bars.map((b) => b.value).filter(Number.isFinite);
  // Headroom above the tallest bar for its value label.
  const axis = linearAxis(Math.min(0, ...values), Math.max(0, ...values) * 1.08, 5);
  const sy = (y: number): number => f.bottom - fraction(axis, y) * (f.bottom - f.top);
  const out = open(chart.title);
  out.push(...yAxis(f, axis, chart.yLabel));
  const slot = (f.right - f.left) / Math.max(1, chart.bars.length);
  const slant = chart.bars.length > 8;
  chart.bars.forEach((b, i) => {
    const cx = f.left + slot * (i + 0.5);
    const labelY = f.bottom + 16;
    const label = escapeXml(truncate(b.label, slant ? 16 : Math.max(4, Math.floor(slot / 7))));
    out.push(
      slant
        ? `<text x="${px(cx)}" y="${labelY}" text-anchor="end" transform="rotate(-35 ${px(cx)} ${labelY})" fill="#222">${label}</text>`
        : `<text x="${px(cx)}" y="${labelY}" text-anchor="middle" fill="#222">${label}</text>`,
    );
    if (!Number.isFinite(b.value)) return;
    const y0 = sy(0);
    const y1 = sy(b.value);
    const w = slot * 0.6;
    out.push(`<rect x="${px(cx - w / 2)}" y="${px(Math.min(y0, y1))}" width="${px(w)}" height="${px(Math.abs(y0 - y1))}" fill="${PALETTE[0]}"/>`);
    out.push(`<text x="${px(cx)}" y="${px(Math.min(y0, y1) - 5)}" text-anchor="middle" fill="#222">${escapeXml(formatNumber(b.value))}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
