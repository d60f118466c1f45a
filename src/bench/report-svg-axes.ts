/** What the SVG charts share: text escaping, a colour palette, "nice" axis ticks and tick labels. */

/** Okabe-Ito, a palette told apart by colour-blind readers too. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** Keeps the SVG readable: long names are cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Coordinates with two decimals: enough for a 720-pixel chart, and short. */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** A scale's domain and the values to draw ticks at. */
export interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  log: boolean;
}

/** 1, 2, 2.5 or 5 times a power of ten, so that about `target` steps span `range`. */
function niceStep(range: number, target: number): number {
  const raw = range / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

/** Round-number ticks covering [min, max]; a flat or empty range is widened so it still has an extent. */
export function linearAxis(min: number, max: number, target = 5): Axis {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return linearAxis(0, 1, target);
  if (min === max) return linearAxis(min - (Math.abs(min) || 1) / 2, max + (Math.abs(max) || 1) / 2, target);
  const step = niceStep(max - min, target);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Bounded: (hi - lo) / step is about `target`.
  for (let k = 0; k <= 4 * target && lo + k * step <= hi + step / 2; k++) ticks.push(Number((lo + k * step).toPrecision(12)));
  return { lo, hi, ticks, log: false };
}

/** Decades covering [min, max] (both > 0), with 2x and 5x ticks when there are fewer than three decades. */
export function logAxis(min: number, max: number): Axis {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(max)) return logAxis(1, 10);
  const first = Math.floor(Math.log10(min));
  const last = Math.max(first + 1, Math.ceil(Math.log10(max)));
  const ticks: number[] = [];
  const multiples = last - first < 3 ? [1, 2, 5] : [1];
  for (let d = first; d <= last; d++) {
    for (const m of multiples) if (d < last || m === 1) ticks.push(Number((m * 10 ** d).toPrecision(12)));
  }
  return { lo: 10 ** first, hi: 10 ** last, ticks, log: true };
}

/** Where `v` falls on the axis, from 0 (lo) to 1 (hi). */
export function fraction(axis: Axis, v: number): number {
  if (axis.log) return (Math.log10(v) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo));
  return (v - axis.lo) / (axis.hi - axis.lo);
}

/** `12`, `0.25`, `15k`, `2.5M`: short labels for ticks and values. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(a >= 1 ? 4 : 3)));
}
