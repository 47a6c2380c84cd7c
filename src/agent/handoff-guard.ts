import { MigrationError } from '../errors/index.ts';

/**
 * The source side's "one handoff per job at a time" (docs/protocol.md, *One owner*).
 *
 * A handoff pauses the job, takes a fresh epoch and hands the copy over; two of them on
 * one job would each hand over a copy, at two epochs, to two targets: a fork. The claim
 * is taken synchronously when the `migrate` request arrives, before any await, so a
 * second request that arrives while the first waits on the network is refused at once,
 * and released when the first one settles (moved, or resumed here).
 */
export class HandoffGuard {
  readonly #underWay = new Map<string, string>();

  /**
   * Claims job `job` for a handoff to `to`; returns the release. Throws a
   * {@link MigrationError} naming the handoff under way when there is one.
   */
  claim(job: string, to: string, here: string): () => void {
    const current = this.#underWay.get(job);
    if (current !== undefined) throw new MigrationError(`a migration of job ${job} to ${current} is already under way at ${here}; this one (to ${to}) was refused`);
    this.#underWay.set(job, to);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#underWay.delete(job);
    };
  }
}
