/** The results as a table for people and as JSON for programs. */
import { median } from './runner.ts';
import type { EngineResult } from './runner.ts';

/**
 * Each round's iterations/s of an engine divided by V8's in the same round (`runBench`
 * runs every engine once per round): empty without a V8 result, or when the two ran a
 * different number of rounds (a module that runs its own count is run once).
 */
export function ratiosToV8(results: readonly EngineResult[], r: EngineResult): number[] {
  const v8 = results.find((x) => x.engine === 'v8' && x.status === 'ok');
  if (!v8 || r.status !== 'ok' || r.runs.length !== v8.runs.length) return [];
  return r.runs.map((rate, i) => rate / v8.runs[i]);
}

/**
 * An engine's speed against V8's: the median of the rounds' ratios (`ratiosToV8`), which
 * a drifting load moves less than the ratio of the two medians would; that ratio when
 * the rounds do not pair; undefined without a V8 result.
 */
export function ratioToV8(results: readonly EngineResult[], r: EngineResult): number | undefined {
  const ratios = ratiosToV8(results, r);
  if (ratios.length > 0) return median(ratios);
  const v8 = results.find((x) => x.engine === 'v8' && x.status === 'ok')?.iterationsPerSec;
  if (!v8 || r.status !== 'ok' || r.iterationsPerSec === null) return undefined;
  return r.iterationsPerSec / v8;
}

export function formatRate(n: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** `1.00`, `0.63`, `0.0038 (1/263)`: small ratios also as "one in N". */
export function formatRatio(ratio: number): string {
  if (ratio >= 0.5) return ratio.toFixed(2);
  const text = ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2);
  return `${text} (1/${Math.round(1 / ratio).toLocaleString('en-US')})`;
}

/** `612.4-655.0`: the lowest and highest run (empty with fewer than two runs). */
export function formatSpread(runs: readonly number[]): string {
  if (runs.length < 2) return '';
  return `${formatRate(Math.min(...runs))}-${formatRate(Math.max(...runs))}`;
}

const HEADER = ['engine', 'iterations/s', 'spread', 'vs v8', 'cold', 'validated', 'seconds', 'iterations', 'notes'];
const NOTES = HEADER.length - 1;
/** Columns aligned to the right (numbers). */
const RIGHT = new Set([1, 2, 3, 4, 6, 7]);

function cells(results: readonly EngineResult[], r: EngineResult): string[] {
  if (r.status === 'skipped' || r.status === 'unavailable') {
    return [r.engine, '-', '-', '-', '-', '-', '-', '-', `${r.status === 'skipped' ? 'skipped' : 'not available'}: ${r.reason ?? ''}`];
  }
  if (r.status === 'failed') return [r.engine, '-', '-', '-', '-', 'no', '-', '-', `failed: ${r.reason ?? ''}`];
  const ratio = ratioToV8(results, r);
  return [
    r.engine,
    r.iterationsPerSec === null ? '-' : formatRate(r.iterationsPerSec),
    formatSpread(r.runs) || '-',
    ratio === undefined ? '-' : formatRatio(ratio),
    r.coldIterationsPerSec === null ? '-' : formatRate(r.coldIterationsPerSec),
    r.validated ? 'yes' : 'NO',
    r.seconds === null ? '-' : r.seconds.toFixed(2),
    r.iterations === null ? '-' : r.iterations.toLocaleString('en-US'),
    r.reason ?? '',
  ];
}

/**
 * A plain-text table, one engine per line: the median rate (warm for the engines in
 * Node), the spread of the runs, the ratio to V8, the cold rate apart.
 */
export function formatTable(results: readonly EngineResult[]): string {
  const rows = [HEADER, ...results.map((r) => cells(results, r))];
  // Drop the notes column when no row has one.
  const columns = rows.some((row, i) => i > 0 && row[NOTES]) ? HEADER.length : HEADER.length - 1;
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows
    .map((row) => row.slice(0, columns).map((cell, c) => (c === columns - 1 ? cell : RIGHT.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd())
    .join('\n');
}

/** The same as a Markdown table (for a README). */
export function formatMarkdown(results: readonly EngineResult[]): string {
  const rows = results.map((r) => cells(results, r));
  const columns = rows.some((row) => row[NOTES]) ? HEADER.length : HEADER.length - 1;
  const line = (row: string[]): string => `| ${row.slice(0, columns).join(' | ')} |`;
  const rule = `|${HEADER.slice(0, columns).map((_, c) => (RIGHT.has(c) ? '---:' : '---')).join('|')}|`;
  return [line(HEADER), rule, ...rows.map(line)].join('\n');
}

/**
 * `{"results": [{"engine", "iterationsPerSec", "validated", "seconds", "iterations",
 * "runs", "coldIterationsPerSec", "status", "reason"?, "vsV8"?, "vsV8Runs"?}]}`:
 * `iterationsPerSec` is the median of `runs`; with a V8 result, `vsV8` is the ratio to
 * it (`ratioToV8`) and `vsV8Runs` the rounds' ratios when the rounds pair.
 */
export function formatJson(results: readonly EngineResult[]): string {
  return JSON.stringify({
    results: results.map((r) => {
      const ratios = ratiosToV8(results, r);
      const vsV8 = ratioToV8(results, r);
      return {
        engine: r.engine,
        iterationsPerSec: r.iterationsPerSec,
        validated: r.validated,
        seconds: r.seconds,
        iterations: r.iterations,
        runs: r.runs,
        coldIterationsPerSec: r.coldIterationsPerSec,
        status: r.status,
        ...(r.reason ? { reason: r.reason } : {}),
        ...(vsV8 === undefined ? {} : { vsV8 }),
        ...(ratios.length ? { vsV8Runs: ratios } : {}),
      };
    }),
  }, null, 2);
}
