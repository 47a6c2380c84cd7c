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
  if (seen.epoch < held.epoch) {
    verdict.reassert = true;
  } else if (seen.epoch > held.epoch && !held.finished && !ours) {
    // During our own handoff, the target's `running` at the new epoch is the commit
    // arriving: the handoff settles it (it drops our copy once the commit is answered).
    verdict.stop = held.migratingTo !== seen.agent;
  }
  return verdict;
}

/** Whether `seen` may replace `known` as the latest state of a job: never an older epoch. */
export function supersedes(seen: { epoch: number }, known: { epoch: number } | undefined): boolean {
  return known === undefined || seen.epoch >= known.epoch;
}
