/**
 * How often native code looks at the pause flags: rewritten code counts a global
 * countdown down and calls the host's `poll` when it reaches zero; the host hands
 * back the next countdown, adapted so that polls come about `POLL_PERIOD_MS` apart
 * whatever the program does between them.
 */

/**
 * The global countdown between two polls of the host: loop activations count 1 per
 * 1024 iterations, entries of functions with loops count 1, as do loop iterations with
 * `loopPoll: 'global'`.
 */
export const DEFAULT_POLL_INTERVAL = 64;

/** The time between two polls the countdown is adapted to (a few JS calls per 100 µs cost well under 1%). */
export const POLL_PERIOD_MS = 0.03;
const MAX_POLL_INTERVAL = 1 << 24;

/** The countdown of one native tier: fixed (`pollInterval` given) or adapted at each poll. */
export class PollPacer {
  /** The countdown handed back at each poll. */
  interval: number;
  private readonly fixed: boolean;
  private lastPoll = 0;

  constructor(pollInterval: number | undefined, globalLoopPolls: boolean) {
    // A global countdown per loop iteration needs a longer one than the per-activation counters.
    this.interval = pollInterval ?? (globalLoopPolls ? 4096 : DEFAULT_POLL_INTERVAL);
    this.fixed = pollInterval !== undefined;
  }

  /**
   * Keeps polls about POLL_PERIOD_MS apart: what the countdown counts (loop-function
   * entries, 1024-iteration stretches of one activation) takes very different times
   * from one program, or one phase, to another. A fixed interval stays as it is.
   */
  adapt(): void {
    if (this.fixed) return;
    const now = performance.now();
    const elapsed = now - this.lastPoll;
    this.lastPoll = now;
    const factor = Math.min(4, Math.max(0.25, POLL_PERIOD_MS / Math.max(elapsed, 1e-3)));
    this.interval = Math.min(MAX_POLL_INTERVAL, Math.max(1, Math.round(this.interval * factor)));
  }
}
