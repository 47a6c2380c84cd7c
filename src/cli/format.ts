import type { TraceFrame } from '../errors/index.ts';

/** Frames shown from each end of a long backtrace (the innermost, then the outermost). */
export const BACKTRACE_HEAD = 40;
export const BACKTRACE_TAIL = 10;

function formatFrame(f: TraceFrame, i: number): string {
  return `  ${String(i).padStart(2)}: ${f.name ?? `<function ${f.funcIndex}>`} (function ${f.funcIndex} at byte 0x${f.offset.toString(16)})`;
}

/**
 * A Wasm backtrace as people read it, innermost first. A deep one (a runaway recursion
 * exhausts the stack at a million frames) keeps its innermost {@link BACKTRACE_HEAD} and
 * outermost {@link BACKTRACE_TAIL} frames and says how many it left out.
 */
export function formatBacktrace(trace: readonly TraceFrame[]): string {
  if (trace.length <= BACKTRACE_HEAD + BACKTRACE_TAIL + 1) return trace.map(formatFrame).join('\n');
  const omitted = trace.length - BACKTRACE_HEAD - BACKTRACE_TAIL;
  const tailStart = trace.length - BACKTRACE_TAIL;
  return [
    ...trace.slice(0, BACKTRACE_HEAD).map(formatFrame),
    `  ... ${omitted} frames omitted ...`,
    ...trace.slice(tailStart).map((f, i) => formatFrame(f, tailStart + i)),
  ].join('\n');
}

/** A result value as `--invoke` prints it. */
export function formatValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'object' && v !== null && 'funcAddr' in v) return `funcref ${(v as { funcAddr: number }).funcAddr}`;
  return String(v);
}
