import type { CrashPoints } from './crash-points.ts';
import type { Job } from './job.ts';
import type { JobBases } from './job-bases.ts';
import type { ProgramSetup } from './job-protocol.ts';
import type { AgentStatus, JobState } from './messages.ts';
import type { ModuleCache } from './module-cache.ts';
import type { OutputLog } from './output-log.ts';
import type { Peer } from './peer.ts';
import type { BlobReceiver } from './transfer.ts';

/** How long the handoff waits for each answer (tests shorten them). */
export interface HandoffTimeouts {
  /** For `prepared` after `prepare`. */
  prepareMs: number;
  /** For each answer to `commit`... */
  commitMs: number;
  /** ...and how many times `commit` is sent. */
  commitAttempts: number;
  /**
   * How long a target keeps a handoff in progress without hearing from the source (reset
   * by every message). A source in doubt after `commit` asks at least this long, so every
   * agent of a fleet must use the same value.
   */
  incomingTtlMs: number;
}

export const DEFAULT_HANDOFF_TIMEOUTS: HandoffTimeouts = { prepareMs: 10_000, commitMs: 3_000, commitAttempts: 5, incomingTtlMs: 60_000 };

/** Watches another agent's retained status (migration targets). */
export interface AgentWatch {
  status(): AgentStatus | undefined;
  /** Aborted when the agent goes offline or restarts. */
  readonly gone: AbortSignal;
  close(): void;
}

/**
 * What a handoff needs of its agent, and nothing more: the handoff code (source and
 * target) reaches the agent only through this.
 */
export interface HandoffHost {
  readonly name: string;
  readonly peer: Peer;
  readonly modules: ModuleCache;
  readonly receiver: BlobReceiver;
  readonly bases: JobBases;
  readonly timeouts: HandoffTimeouts;
  /** Blob chunk size for this broker. */
  readonly chunkBytes: number;
  /** Bytes of output a job's log keeps. */
  readonly logLimit: number;
  /** Guest names of the directories jobs get here. */
  readonly dirGuests: readonly string[];
  /**
   * Aborted when this agent loses its broker connection (a fresh signal after that): what
   * was on its way through the broker may be lost, a restarted broker forgot it.
   */
  readonly brokerSession: AbortSignal;
  /** Test-only fault points (disarmed unless `WASMIG_CRASH_AT` is set). */
  readonly crashPoints: CrashPoints;
  log(line: string): void;
  watchAgent(name: string): Promise<AgentWatch>;
  publishState(job: Job): void;
  /** The latest retained state seen for a job. */
  observedState(job: string): JobState | undefined;
  /** Why this agent cannot take `job` now (it runs here, or a handoff of it is under way here), or undefined. */
  holds(job: string): string | undefined;
  /** Whether a commit of `job` at `epoch` took effect here (it holds the job at that epoch or later, or it left at a later one). */
  committedHere(job: string, epoch: number): boolean;
  /** Follows `job`'s retained state from now on (a target, from `prepare`: a newer epoch fences what it receives). */
  follow(job: string): void;
  /** A fresh job object (its worker starts at once) with this agent's hooks. */
  newJob(id: string, spec: Job['spec'], epoch: number, log: OutputLog): Job;
  /** What a job's worker needs to instantiate its program here. */
  setupFor(spec: Job['spec']): ProgramSetup;
  /** The source committed: the job runs here from now on (its new state is made now, signed and published a turn later, after the answer). */
  adopt(job: Job, from: string): void;
  /** The job left for `to` at `epoch`: forget it here, remember where it went. */
  departed(job: Job, to: string, epoch: number): void;
}
