import type { LogEntry } from './output-log.ts';

/**
 * The output-commit rule of a replicated job (docs/protocol.md, "Output exactly once"):
 * followers see output only up to the sequence number covered by a checkpoint that every
 * standby acknowledged. A standby that takes over resumes from its checkpoint, so all it
 * runs again produces output past `released`, which nobody has seen: no follower sees a
 * byte twice, even when the job's second run prints something else (a clock, a random
 * number). The price is latency: output waits for the next checkpoint (about
 * `checkpointEverySec`).
 */
export class OutputCommit {
  #released: number;

  /** `released`: output already visible (a job arriving from a migration, or restored from a checkpoint). */
  constructor(released = 0) {
    this.#released = released;
  }

  /** Sequence number of the first chunk followers may not see yet. */
  get released(): number {
    return this.#released;
  }

  /** The entries followers may see now. */
  visible(entries: readonly LogEntry[]): LogEntry[] {
    return entries.filter((e) => e.seq < this.#released);
  }

  /**
   * A checkpoint covering output up to `seq` (exclusive) is held by every standby: that
   * much may be shown. Returns the range newly released, `[from, to)` (empty when none).
   */
  release(seq: number): { from: number; to: number } {
    const from = this.#released;
    if (seq > from) this.#released = seq;
    return { from, to: this.#released };
  }
}
