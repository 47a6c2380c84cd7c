/**
 * What a caller may bound a run with, and the check every tier makes of it before it
 * runs: a bound that is not a number a run can reach (NaN, a negative count, half an
 * instruction) is the caller's mistake, reported by name, never a run to the end or of a
 * single instruction.
 */

/** When {@link Execution.run} should stop; without any, it runs to the end. */
export interface RunOptions {
  /** Stop once the thread's instruction count (`instructions`, carried over by a snapshot) reaches this (exact). */
  until?: number;
  /** Stop after at most this many more instructions. */
  budget?: number;
  /**
   * Return after about this many more instructions, for a caller that stops only to give
   * its event loop a turn: unlike `budget`, not counted out exactly (the run may stop a
   * little short of it, at a block start: a block, or the compiled stretch it stands at,
   * never more than it asks for and never nothing), so that a long run made of such calls stays
   * on the fast code and leaves the exact loop idle (see `run` in `exec/`: a run loop V8
   * keeps compiling again for the odd block is what a cold process waits on).
   */
  slice?: number;
  /**
   * Stop after about this many milliseconds, so that the caller's event loop gets a turn.
   * The native tier, which counts no instructions, needs it; the interpreter's slices
   * of `budget` instructions do the same job.
   */
  timeSliceMs?: number;
}

/**
 * Throws a RangeError naming the first option that is not a number a run can stop at:
 * instruction counts are whole numbers (or Infinity) from their least value up (`slice`
 * from 1, the others from 0), and `timeSliceMs` any number from 0 up. Called on every
 * run, so it allocates nothing.
 */
export function checkRunOptions(options: RunOptions): void {
  checkCount('until', options.until, 0);
  checkCount('budget', options.budget, 0);
  checkCount('slice', options.slice, 1);
  const ms = options.timeSliceMs;
  if (ms !== undefined && !(typeof ms === 'number' && ms >= 0)) {
    throw new RangeError(`run option timeSliceMs must be a number of milliseconds >= 0, got ${shown(ms)}`);
  }
}

function checkCount(name: string, value: unknown, least: number): void {
  if (value === undefined) return;
  if (typeof value === 'number' && value >= least && (value === Infinity || Number.isInteger(value))) return;
  throw new RangeError(`run option ${name} must be a whole number of instructions >= ${least} (or Infinity), got ${shown(value)}`);
}

function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value;
}

/**
 * The thread's instruction count at which a run must stop exactly: `until`, or `budget`
 * more than `now`, whichever comes first (Infinity without either).
 */
export function exactLimit(options: RunOptions, now: number): number {
  let limit = options.until ?? Infinity;
  if (options.budget !== undefined) limit = Math.min(limit, now + options.budget);
  return limit;
}
