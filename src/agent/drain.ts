import { errorText } from './error-text.ts';
import { readAgents } from './fleet-agents.ts';
import type { FleetAgent } from './fleet-agents.ts';
import type { MigrationOptions, MigrationResult } from './handoff-source.ts';
import type { Job } from './job.ts';
import type { Peer } from './peer.ts';
import { place } from './placement.ts';

/** How long a drain takes at most by default (`wasmig agent --drain-timeout`). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** How often a drain with nothing left to move looks again while jobs are still arriving. */
const ARRIVAL_WAIT_MS = 200;

/** How long a drain waits before it tries again a job that another move holds. */
const BUSY_RETRY_MS = 500;

/** The least time the pre-copy of one move may take before the rest goes over in its pause. */
const MIN_PRECOPY_MS = 1000;

/** What a drain needs of its agent. */
export interface DrainHost {
  readonly name: string;
  readonly peer: Peer;
  log(line: string): void;
  /** The jobs to move: those this agent runs or holds paused, not yet ended. */
  drainable(): Job[];
  /**
   * Moves a job through the normal handoff (one at a time per job: a move under way
   * already makes this throw `ERR_BUSY`); resolves once the job runs at `to`, rejects
   * with the job still here.
   */
  moveJob(id: string, to: string, options: MigrationOptions & { reason?: string }): Promise<MigrationResult>;
  /** Asks a move under way to give up (before its pause; after it, it ends by itself). */
  cancelMove(id: string, reason: string): void;
  /** The agents holding standby copies of a replicated job (undefined: not replicated, or none yet). */
  standbysOf(id: string): readonly string[] | undefined;
  /** Whether `job` is still this agent's (not moved, not fenced, not forgotten). */
  owns(job: Job): boolean;
  /** Handoffs of jobs to this agent under way (prepared before the drain began): their jobs may arrive yet. */
  receiving(): number;
}

/** What became of each job of a drained agent. */
export interface DrainReport {
  /** Why the agent drained (`SIGTERM`, `asked by c1234`). */
  why: string;
  moved: { job: string; to: string; downtimeMs: number }[];
  /** Ended here while the drain went on (nothing left to move). */
  ended: string[];
  /** Could not move; their standbys take them over once this agent is gone. */
  toStandbys: { job: string; standbys: readonly string[]; reason: string }[];
  /** Could not move and have no standby: they end with the agent. */
  left: { job: string; reason: string }[];
  ms: number;
}

/**
 * Moves every job off an agent that is about to stop (SIGTERM, `wasmig agent drain`):
 * all at once, each to the least loaded agent that can take it (by the heartbeats, with
 * the jobs this drain is sending counted in), another one when a target refuses, until
 * the deadline. A move is an ordinary migration: a failed one leaves the job running
 * here, so the drain never loses a job; one that cannot move is left to its standbys or
 * reported by name.
 */
export class Drain {
  readonly #host: DrainHost;
  readonly #why: string;
  readonly #deadline: number;
  readonly #started = Date.now();
  /** Jobs each target was sent by this drain, not yet in its heartbeat. */
  readonly #pending = new Map<string, number>();
  /** Moves under way: job id to target. */
  readonly #inFlight = new Map<string, string>();
  readonly #report: DrainReport;
  #stopped = false;
  #stopNow: () => void = () => {};
  readonly #readFleet: () => Promise<FleetAgent[]>;

  /** `readFleet`: the agents to choose from (default: as the broker holds them; tests give their own). */
  constructor(host: DrainHost, why: string, timeoutMs: number, readFleet?: () => Promise<FleetAgent[]>) {
    this.#host = host;
    this.#readFleet = readFleet ?? (() => {
      if (!host.peer.link.connected) return Promise.reject(new Error(`agent ${host.name} has no broker connection`));
      return readAgents(host.peer);
    });
    this.#why = why;
    this.#deadline = this.#started + timeoutMs;
    this.#report = { why, moved: [], ended: [], toStandbys: [], left: [], ms: 0 };
  }

  /** Gives up at once: moves before their pause are cancelled, and `run` resolves with what it has. */
  stopNow(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const id of this.#inFlight.keys()) this.#host.cancelMove(id, 'the agent is stopping at once');
    this.#stopNow();
  }

  /** Moves what it can within the deadline; resolves with what became of each job. */
  async run(): Promise<DrainReport> {
    const host = this.#host;
    const jobs: Job[] = [];
    const reasons = new Map<string, string[]>();
    let stopped = false;
    const stop = new Promise<'stopped'>((resolve) => { this.#stopNow = () => resolve('stopped'); });
    const deadline = setTimeout(() => {
      for (const id of this.#inFlight.keys()) host.cancelMove(id, `the drain's deadline (${Math.round((this.#deadline - this.#started) / 1000)} s) passed`);
    }, Math.max(0, this.#deadline - Date.now()));
    try {
      // Batches: a job may still arrive during the drain (a handoff prepared before it
      // began commits, a standby takes a job over here), and it must move too.
      while (!stopped && Date.now() < this.#deadline) {
        const batch = host.drainable().filter((j) => !jobs.includes(j));
        if (!batch.length) {
          if (!host.receiving()) break;
          if (await Promise.race([stop, new Promise((resolve) => setTimeout(resolve, ARRIVAL_WAIT_MS))]) === 'stopped') break;
          continue;
        }
        for (const job of batch) { jobs.push(job); reasons.set(job.id, []); }
        let unreadable = false;
        const moves = this.#fleet().then(
          (agents) => Promise.all(batch.map((job) => this.#move(job, agents, reasons.get(job.id) as string[]))),
          (error: unknown) => { unreadable = true; for (const job of batch) reasons.get(job.id)?.push(`the fleet could not be read: ${errorText(error)}`); },
        );
        stopped = (await Promise.race([moves, stop])) === 'stopped';
        if (unreadable) break;
      }
    } finally {
      clearTimeout(deadline);
    }
    for (const job of jobs) {
      if (this.#report.moved.some((m) => m.job === job.id)) continue;
      if (job.finished && host.owns(job)) { this.#report.ended.push(job.id); continue; }
      if (!host.owns(job)) continue; // fenced by a newer copy elsewhere: not this agent's to report
      const why = reasons.get(job.id) as string[];
      const to = this.#inFlight.get(job.id);
      if (to) why.push(`stopped at once while moving to ${to}`);
      else if (this.#stopped && !why.length) why.push('stopped at once before it could move');
      else if (!why.length) why.push(`the drain's deadline passed`);
      const reason = why.join('; ');
      const standbys = host.standbysOf(job.id);
      if (standbys?.length) this.#report.toStandbys.push({ job: job.id, standbys, reason });
      else this.#report.left.push({ job: job.id, reason });
    }
    this.#report.ms = Date.now() - this.#started;
    return this.#report;
  }

  /** The agents, read once the drain starts (a failed read ends the drain, leaving every job here). */
  async #fleet(): Promise<FleetAgent[]> {
    const left = this.#deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no answer from the broker before the deadline')), Math.max(0, left)); });
    try {
      return await Promise.race([this.#readFleet(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Tries the agents for one job, least loaded first, until one takes it or none is left. */
  async #move(job: Job, agents: FleetAgent[], reasons: string[]): Promise<void> {
    const host = this.#host;
    const tried = new Set<string>([host.name]);
    while (!this.#stopped && Date.now() < this.#deadline && !job.finished && host.owns(job)) {
      let to: string;
      try {
        to = place(agents, { labels: job.spec.placement ?? {} }, { dirs: job.preopens, exclude: tried, pending: this.#pending }).chosen.name;
      } catch (error) {
        reasons.push(errorText(error));
        return;
      }
      tried.add(to);
      this.#pending.set(to, (this.#pending.get(to) ?? 0) + 1);
      this.#inFlight.set(job.id, to);
      try {
        const deadlineMs = Math.max(MIN_PRECOPY_MS, Math.floor((this.#deadline - Date.now()) / 2));
        const result = await host.moveJob(job.id, to, { deadlineMs, reason: `drain of agent ${host.name} (${this.#why})` });
        this.#report.moved.push({ job: job.id, to, downtimeMs: result.downtimeMs });
        return;
      } catch (error) {
        this.#pending.set(to, (this.#pending.get(to) ?? 1) - 1);
        if ((error as { code?: string }).code === 'ERR_BUSY') {
          // Another move of the job is under way (a scheduler's): wait for it to end, then look again.
          tried.delete(to);
          await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
          continue;
        }
        reasons.push(`${to}: ${errorText(error)}`);
        host.log(`drain: job ${job.id} did not move to ${to}: ${errorText(error)}`);
      } finally {
        this.#inFlight.delete(job.id);
      }
    }
  }
}

/** The drain's outcome in a few lines, for the agent's log and `wasmig agent drain`. */
export function describeDrain(report: DrainReport, agent: string): string[] {
  const lines = report.moved.map((m) => `job ${m.job} moved to ${m.to} (downtime ${m.downtimeMs} ms)`);
  for (const id of report.ended) lines.push(`job ${id} ended here during the drain`);
  for (const s of report.toStandbys) lines.push(`job ${s.job} could not move (${s.reason}); its standby ${s.standbys.join(', ')} takes it over once ${agent} is gone`);
  for (const l of report.left) lines.push(`job ${l.job} could not move (${l.reason}); it ends with agent ${agent}`);
  const total = report.moved.length + report.ended.length + report.toStandbys.length + report.left.length;
  lines.push(`drained in ${(report.ms / 1000).toFixed(1)} s: ${report.moved.length} of ${total} job(s) moved${report.toStandbys.length ? `, ${report.toStandbys.length} left to standbys` : ''}${report.left.length ? `, ${report.left.length} left to end here` : ''}`);
  return lines;
}
