/**
 * A horizontal bar chart of iterations/s, one bar per engine, on a logarithmic scale
 * (the interpreter and V8 are two orders of magnitude apart: on a linear scale the
 * interpreter's bar would not show). Hand-written SVG 1.1, no fonts or scripts needed.
 */
import { formatRate, formatRatio, ratioToV8 } from './format.ts';
import type { EngineResult } from './runner.ts';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const WIDTH = 760;
const LABEL = 90;
const BARS = 420;
const ROW = 34;
const TOP = 64;

export interface ChartInfo {
  /** The module's name, shown under the title. */
  module: string;
  /** A line under the title (machine, seconds per engine). */
  subtitle?: string;
}

export function formatSvg(results: readonly EngineResult[], info: ChartInfo): string {
  const rates = results.flatMap((r) => (r.status === 'ok' && r.iterationsPerSec ? [r.iterationsPerSec] : []));
  let lo = Math.floor(Math.log10(Math.min(...rates, 10)));
  let hi = Math.ceil(Math.log10(Math.max(...rates, 10)));
  if (hi <= lo) hi = lo + 1;
  lo = Math.max(lo, -3);
  const x = (v: number): number => LABEL + (BARS * (Math.log10(Math.max(v, 10 ** lo)) - lo)) / (hi - lo);
  const height = TOP + ROW * results.length + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`);
  out.push(`<title>CoreMark iterations per second by engine (${escapeXml(info.module)})</title>`);
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="24" font-size="16" font-weight="bold">CoreMark iterations/s, log scale (higher is faster)</text>`);
  out.push(`<text x="12" y="44" fill="#555555">${escapeXml([info.module, info.subtitle].filter(Boolean).join(' | '))}</text>`);

  // Decade grid lines and their labels below the bars.
  const bottom = TOP + ROW * results.length;
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d).toFixed(1);
    out.push(`<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${bottom}" stroke="#dddddd"/>`);
    out.push(`<text x="${gx}" y="${bottom + 16}" text-anchor="middle" fill="#555555">${escapeXml(formatRate(10 ** d).replace(/\.0$/, ''))}</text>`);
  }

  results.forEach((r, i) => {
    const y = TOP + ROW * i;
    const mid = y + ROW / 2 + 4;
    out.push(`<text x="${LABEL - 8}" y="${mid}" text-anchor="end" font-weight="bold">${escapeXml(r.engine)}</text>`);
    if (r.status !== 'ok' || r.iterationsPerSec === null) {
      const what = r.status === 'skipped' ? 'skipped' : r.status === 'unavailable' ? 'not available' : 'failed';
      out.push(`<text x="${LABEL + 4}" y="${mid}" fill="#888888" font-style="italic">${escapeXml(`${what}: ${r.reason ?? ''}`)}</text>`);
      return;
    }
    const w = Math.max(2, x(r.iterationsPerSec) - LABEL);
    const fill = r.validated ? '#3b6fb6' : '#c0392b';
    out.push(`<rect x="${LABEL}" y="${y + 6}" width="${w.toFixed(1)}" height="${ROW - 12}" fill="${fill}"/>`);
    const ratio = ratioToV8(results, r);
    const label = [
      `${formatRate(r.iterationsPerSec)} it/s`,
      ratio === undefined || r.engine === 'v8' ? undefined : `${formatRatio(ratio)} of v8`,
      r.validated ? undefined : 'NOT validated',
    ].filter(Boolean).join(', ');
    out.push(`<text x="${(LABEL + w + 6).toFixed(1)}" y="${mid}">${escapeXml(label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
