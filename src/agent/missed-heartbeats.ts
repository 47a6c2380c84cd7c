/**
 * The rule by which a standby decides that a connected owner has stopped beating
 * (docs/protocol.md, "Missed heartbeats"). Time is cut into windows of the owner's own
 * heartbeat period, from its last heartbeat seen; a window counts as missed only when it
 * says something about the owner:
 * - this standby was connected to the broker all through it (same connection at both
 *   ends): a standby cut off hears nobody, and after its own reconnection the owner may
 *   still be reconnecting too, so every reconnection starts the count again from zero;
 * - some other heartbeat reached this standby in it (a third agent's, or its own that
 *   the broker sent back): a broker that delivers nothing, stalled or restarting, is
 *   silent for everyone, and that silence is the broker's. Such a window neither counts
 *   nor resets: a standby whose own period is longer than the owner's still gets there.
 * A window with no heartbeat of the owner's under both conditions adds one; `threshold`
 * of them make the owner gone; any heartbeat of the owner's resets the count.
 *
 * Pure: the caller passes the clock, the connection and the other heartbeats' arrival,
 * so the rule is tested without a broker (test/agent/missed-heartbeats.test.ts).
 */
export class MissedHeartbeats {
  readonly #threshold: number;
  #periodMs = 0;
  #windowStart = 0;
  #windowConnection = -1;
  #missed = 0;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  /** Whether the owner has heartbeats on record (before its first one nothing is counted). */
  get started(): boolean {
    return this.#periodMs > 0;
  }

  /** Windows missed in a row so far. */
  get missed(): number {
    return this.#missed;
  }

  /** Whether `threshold` windows were missed in a row: the owner is gone. */
  get gone(): boolean {
    return this.#missed >= this.#threshold;
  }

  /** The owner's period, as its last heartbeat said (0 before any). */
  get periodMs(): number {
    return this.#periodMs;
  }

  /**
   * A heartbeat of the owner's arrived at `now` on connection number `connection`;
   * `periodMs` is the period it announces. Returns whether the owner counted as gone
   * until now (so that a takeover timer can stand down).
   */
  ownerBeat(now: number, periodMs: number, connection: number): boolean {
    const wasGone = this.gone;
    this.#periodMs = periodMs;
    this.#missed = 0;
    this.#open(now, connection);
    return wasGone;
  }

  /**
   * Closes the window under way when a period has passed since it opened. `connection` is
   * the standby's connection number now (undefined when it is not connected), and
   * `otherBeatAt` the arrival of the latest heartbeat that was not the owner's. Returns
   * whether this call made the owner gone.
   */
  check(now: number, connection: number | undefined, otherBeatAt: number): boolean {
    if (!this.started || now - this.#windowStart < this.#periodMs) return false;
    const wasGone = this.gone;
    if (connection === undefined || connection !== this.#windowConnection) {
      // Cut off during the window, or still: nothing heard says anything of the owner.
      this.#missed = 0;
    } else if (otherBeatAt > this.#windowStart) {
      this.#missed++;
    }
    this.#open(now, connection ?? -1);
    return !wasGone && this.gone;
  }

  #open(now: number, connection: number): void {
    this.#windowStart = now;
    this.#windowConnection = connection;
  }
}
