/**
 * A run's slice, in instructions, sized by the clock: a caller that stops every so often
 * (to look at a pause signal, a worker, a deadline) wants each stop a given time after
 * the last, and the instructions that take depend on the code and on how warm V8 is (a
 * cold interpreter runs at a few percent of its speed). After each whole slice the caller
 * says how long it took, and the next is scaled toward the target.
 */
export interface SlicePolicy {
  /** The first slice, before any has been timed. */
  first: number;
  /** The bounds of every later slice. */
  min: number;
  max: number;
  /** What a slice should last, in milliseconds. */
  targetMs: number;
  /**
   * How far a slice may stray from the target before the next is resized: a slice that
   * took between `targetMs / tolerance` and `targetMs * tolerance` leaves the size alone
   * (1: every slice resizes), so that a size does not wobble with the clock's noise.
   */
  tolerance: number;
  /** The most one resize may multiply a slice by, and divide it by (a GC pause in one slice is not the code's speed). */
  maxGrowth: number;
  maxShrink: number;
}

export class ClockSizedSlice {
  /** Instructions of the next slice. */
  size: number;

  constructor(private readonly policy: SlicePolicy) {
    this.size = policy.first;
  }

  /** Sizes the next slice by how long a whole one of `size` instructions took. */
  record(tookMs: number): void {
    const { min, max, targetMs, tolerance, maxGrowth, maxShrink } = this.policy;
    if (tolerance > 1 && tookMs >= targetMs / tolerance && tookMs <= targetMs * tolerance) return;
    // A slice too short for the clock to see counts as the fastest growth allowed.
    const scale = Math.min(maxGrowth, Math.max(1 / maxShrink, targetMs / Math.max(tookMs, targetMs / maxGrowth)));
    this.size = Math.round(Math.min(max, Math.max(min, this.size * scale)));
  }
}
