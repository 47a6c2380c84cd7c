/**
 * What an agent does when a job's retained state arrives (docs/protocol.md, *One owner*).
 * Pure rules, apart from the agent that applies them, so that they read as the model in
 * test/agent/handoff-model.ts states them.
 */

/** The part of a retained job state that fencing looks at. */
export interface SeenState {
  agent: string;
  instance: string;
  epoch: number;
}

/** What this agent holds of the job. */
export interface LocalCopies {
  /** The copy it owns (running, paused, migrating or finished). */
  held?: { epoch: number; finished: boolean; migratingTo?: string };
  /** The epoch of a restored copy waiting for `commit` (target side). */
  incomingEpoch?: number;
}

export interface FenceVerdict {
  /** A newer epoch runs elsewhere: the held copy is stale and stops. */
  stop: boolean;
  /** A newer epoch exists: the restored copy can never be committed, drop it. */
  dropIncoming: boolean;
  /**
   * An older epoch overwrote the retained state (a late publication, or a broker that
   * replays what it kept): publish ours again, so that `ps` and followers see the owner.
   */
  reassert: boolean;
}

/** The rule for one retained state `seen` arriving at agent `self`. */
export function judgeJobState(seen: SeenState, self: { name: string; instance: string }, local: LocalCopies): FenceVerdict {
  const verdict: FenceVerdict = { stop: false, dropIncoming: false, reassert: false };
  const ours = seen.agent === self.name && seen.instance === self.instance;
  if (local.incomingEpoch !== undefined && seen.epoch > local.incomingEpoch) verdict.dropIncoming = true;
  const held = local.held;
  if (!held) return verdict;
  // Our own older state (a broker that replays what it kept) is an older copy too.
  const order = ours ? Math.min(0, seen.epoch - held.epoch) : compareCopies(seen, { agent: self.name, epoch: held.epoch });
  if (order < 0) {
    verdict.reassert = true;
  } else if (order > 0 && !held.finished) {
    // During our own handoff, the target's `running` at the new epoch is the commit
    // arriving: the handoff settles it (it drops our copy once the commit is answered).
    verdict.stop = held.migratingTo !== seen.agent;
  }
  return verdict;
}

/**
 * Which of two copies owns the job: the higher epoch; at one epoch (two agents gave the
 * same number, which only an in-doubt handoff whose answers were all lost can cause), the
 * higher agent name, so that one of them always gives way. Positive when `a` wins.
 */
export function compareCopies(a: { agent: string; epoch: number }, b: { agent: string; epoch: number }): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  return a.agent === b.agent ? 0 : a.agent > b.agent ? 1 : -1;
}

/** Whether `seen` may replace `known` as the latest state of a job: never an older epoch. */
export function supersedes(seen: { epoch: number }, known: { epoch: number } | undefined): boolean {
  return known === undefined || seen.epoch >= known.epoch;
}

/**
 * Whether a `commit` at `epoch` already took effect on this agent: it holds the job at that
 * epoch or a later one of its own, or the job left it at a later epoch. An answer of
 * "unknown" would then let the source resume a second copy, so the answer is "committed".
 * (No epoch above `epoch` can exist but through this commit: the source allocated `epoch`
 * while it owned the job, and waits for this answer before it allocates another.)
 */
export function committedHere(epoch: number, held: { epoch: number } | undefined, left: { epoch: number } | undefined): boolean {
  return (held !== undefined && held.epoch >= epoch) || (left !== undefined && left.epoch > epoch);
}

/**
 * What an agent logs as it stops its copy of a job because a newer one runs on `newer`.
 * A copy standing paused for its own handoff's final to that very agent
 * (`pausedForHandoffTo`), which a standby's lease answer can fence before the handoff's
 * answer comes (the newer copy then most likely that handoff's commit), ran nothing
 * beside the newer one; any other copy did, until now. The two read differently: the
 * fault matrix takes "a newer copy" for two copies at once.
 */
export function stopCopyNote(job: { id: string; epoch: number }, newer: { agent: string; epoch: number }, pausedForHandoffTo?: string): string {
  if (pausedForHandoffTo !== undefined && pausedForHandoffTo === newer.agent) {
    return `job ${job.id}: this copy (epoch ${job.epoch}), paused for its handoff to ${newer.agent}, stops: the job runs there at epoch ${newer.epoch}`;
  }
  return `job ${job.id}: a newer copy (epoch ${newer.epoch}) runs on ${newer.agent}; this copy (epoch ${job.epoch}) stops`;
}

/**
 * What a handoff that gives up says, in the source's log and to whoever asked for the
 * migration. The job normally goes on at the source (`here`), at a new epoch when the
 * commit is in doubt. A copy that a newer one fenced while the handoff was under way
 * (`stoppedBecause`: why it was stopped) was discarded already: nothing goes on here,
 * and the newer copy runs where the fence said; saying "the job goes on here" would send
 * the user looking for a copy that is not there.
 */
export function giveUpNote(job: { id: string; epoch: number }, to: string, here: string, reason: string, resumed: { newEpoch: boolean; stoppedBecause?: string }): { log: string; error: string } {
  if (resumed.stoppedBecause !== undefined) {
    return {
      log: `job ${job.id}: migration to ${to} failed: ${reason}; this copy had already stopped (${resumed.stoppedBecause})`,
      error: `${reason}; the copy at ${here} had already stopped (${resumed.stoppedBecause})`,
    };
  }
  return {
    log: `job ${job.id}: migration to ${to} failed: ${reason}; the job goes on here${resumed.newEpoch ? ` (epoch ${job.epoch})` : ''}`,
    error: `${reason}; the job goes on at ${here}`,
  };
}
