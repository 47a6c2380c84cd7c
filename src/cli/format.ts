import type { TraceFrame } from '../errors/index.ts';

/** A Wasm backtrace as people read it, innermost first. */
export function formatBacktrace(trace: readonly TraceFrame[]): string {
  return trace
    .map((f, i) => `  ${String(i).padStart(2)}: ${f.name ?? `<function ${f.funcIndex}>`} (function ${f.funcIndex} at byte 0x${f.offset.toString(16)})`)
    .join('\n');
}

/** A result value as `--invoke` prints it. */
export function formatValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'object' && v !== null && 'funcAddr' in v) return `funcref ${(v as { funcAddr: number }).funcAddr}`;
  return String(v);
}
