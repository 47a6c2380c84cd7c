import { performance } from 'node:perf_hooks';
import type { Peer } from './peer.ts';
import { topics } from './topics.ts';

/**
 * What a standby agent says of one job in its answer to `lease` (docs/protocol.md, "The
 * lease confirmed by the standbys"): whether it holds a standby copy of it (and is not
 * taking it over), and the newest epoch of the job it knows of, with the agent that
 * runs it, when it knows one.
 */
export interface LeaseAnswer {
  job: string;
  standby: boolean;
  epoch?: number;
  agent?: string;
}

/** The answers in a `lease` reply's data, checked field by field (anything malformed is left out: unconfirmed). */
export function parseLeaseAnswers(data: Record<string, unknown> | undefined): LeaseAnswer[] {
  const list = data?.jobs;
  if (!Array.isArray(list)) return [];
  const out: LeaseAnswer[] = [];
  for (const item of list.slice(0, 10_000)) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    if (typeof o.job !== 'string' || typeof o.standby !== 'boolean') continue;
    const a: LeaseAnswer = { job: o.job, standby: o.standby };
    if (Number.isSafeInteger(o.epoch) && (o.epoch as number) >= 1 && typeof o.agent === 'string') {
      a.epoch = o.epoch as number;
      a.agent = o.agent;
    }
    out.push(a);
  }
  return out;
}

/** What the leases need of the agent. */
export interface StandbyLeaseHooks {
  /** This agent's copy of `job`: its epoch, and whether its state at that epoch went to the broker (undefined: not here any more). */
  copyOf(job: string): { epoch: number; published: boolean } | undefined;
  /** `job` lost its confirmation from some standby: it must pause now. */
  onLost(job: string, standby: string): void;
  /** Every standby of `job` confirmed again (the broker lease may still say no). */
  onRenewed(job: string): void;
  /** A standby knows of a newer copy of `job`: this one is fenced. */
  onNewer(job: string, epoch: number, agent: string): void;
}

/**
 * The owner's lease on its replicated jobs as their standbys confirm it: the fix for a
 * bridge outage, where no last will fires and a standby across the cut counts the owner
 * gone by its missed heartbeats (docs/protocol.md, "The lease confirmed by the
 * standbys"). Every `windowMs / 4` the owner asks each standby agent it needs, in one
 * `lease` request listing the jobs, whether it still holds them; a standby that answers
 * has counted the request as a heartbeat of the owner's (it got it after it was sent,
 * so it cannot count the owner gone before that send time plus 3 heartbeat periods plus
 * its grace). A job runs only while every standby it needs confirmed it within
 * `windowMs` of the request's send time; `windowMs` is half of 3 heartbeat periods plus
 * the grace, so the job pauses by 5/8 of that after its last confirmed request, before
 * any standby may take it over.
 *
 * A standby is needed from the moment it may take the job over: an inherited one (the
 * previous owner's) from when this agent took the job, a new one once its enlistment
 * was answered (before its first checkpoint it holds nothing it could restore). It stops
 * being needed on its last will, its release, or an answer that it holds no copy and
 * knows of no newer one.
 */
export class StandbyLeases {
  readonly #peer: () => Peer;
  readonly #windowMs: number;
  readonly #hooks: StandbyLeaseHooks;
  /** Per job: the standbys it needs, and the send time of each one's latest confirmed request. */
  readonly #needs = new Map<string, Map<string, number>>();
  /** Jobs paused for want of a confirmation (`onLost` called, `onRenewed` not yet). */
  readonly #lost = new Set<string>();
  /** Standby agents with a request on its way. */
  readonly #inFlight = new Set<string>();
  /** When each standby agent was last asked. */
  readonly #askedAt = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  /** `peer`: read at each request (the agent makes it after this object). */
  constructor(peer: () => Peer, windowMs: number, hooks: StandbyLeaseHooks) {
    this.#peer = peer;
    this.#windowMs = windowMs;
    this.#hooks = hooks;
  }

  /** How long a confirmation holds. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** `standby` may take `job` over from now on; `since`: a moment before which it heard of this owner (its confirmation's time). */
  need(job: string, standby: string, since = performance.now()): void {
    let needs = this.#needs.get(job);
    if (!needs) this.#needs.set(job, (needs = new Map()));
    needs.set(standby, Math.max(needs.get(standby) ?? -Infinity, since));
    // Not confirmed yet (a new owner's inherited standby): ask now rather than at the next tick.
    if (needs.get(standby) === -Infinity && !this.#inFlight.has(standby)) this.#ask(standby, this.#jobsOf(standby), performance.now());
  }

  #jobsOf(standby: string): string[] {
    return [...this.#needs].filter(([, needs]) => needs.has(standby)).map(([job]) => job);
  }

  /** `standby` can no longer take `job` over (its last will, its release). */
  drop(job: string, standby: string): void {
    this.#needs.get(job)?.delete(standby);
    this.#settle(job, performance.now());
  }

  /** `job` is no longer replicated here (it ended, moved, or was fenced). */
  forget(job: string): void {
    this.#needs.delete(job);
    this.#lost.delete(job);
  }

  /** The standbys `job` needs now. */
  needed(job: string): string[] {
    return [...(this.#needs.get(job)?.keys() ?? [])];
  }

  /** Whether every standby `job` needs confirmed it within the window, at this very moment. */
  valid(job: string, now = performance.now()): boolean {
    const needs = this.#needs.get(job);
    if (!needs) return true;
    for (const at of needs.values()) if (now - at > this.#windowMs) return false;
    return true;
  }

  /**
   * Whether `job` may run now: its confirmations are checked at this very moment (a loss
   * not yet noticed by the timer is noticed now, `onLost` included), so that a job told
   * to stay paused is renewed, and rechecked, when its confirmations return.
   */
  check(job: string): boolean {
    this.#settle(job, performance.now());
    return !this.#lost.has(job);
  }

  /** Whether `job` was paused for want of a confirmation and has not been renewed since. */
  lost(job: string): boolean {
    return this.#lost.has(job);
  }

  start(): void {
    this.#timer = setInterval(() => this.tick(), Math.max(50, this.#windowMs / 8));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Checks every job's confirmations and asks the standbys due for a request (the timer's work; tests call it). */
  tick(now = performance.now()): void {
    for (const job of this.#needs.keys()) this.#settle(job, now);
    const byStandby = new Map<string, string[]>();
    for (const [job, needs] of this.#needs) {
      for (const standby of needs.keys()) {
        let jobs = byStandby.get(standby);
        if (!jobs) byStandby.set(standby, (jobs = []));
        jobs.push(job);
      }
    }
    for (const [standby, jobs] of byStandby) {
      if (this.#inFlight.has(standby) || now - (this.#askedAt.get(standby) ?? -Infinity) < this.#windowMs / 4) continue;
      this.#ask(standby, jobs, now);
    }
  }

  #settle(job: string, now: number): void {
    const valid = this.valid(job, now);
    if (!valid && !this.#lost.has(job)) {
      this.#lost.add(job);
      const late = [...(this.#needs.get(job) ?? [])].find(([, at]) => now - at > this.#windowMs)?.[0] ?? '?';
      this.#hooks.onLost(job, late);
    } else if (valid && this.#lost.has(job)) {
      this.#lost.delete(job);
      this.#hooks.onRenewed(job);
    }
  }

  #ask(standby: string, jobs: string[], sentAt: number): void {
    const peer = this.#peer();
    if (!peer.link.connected) return;
    this.#inFlight.add(standby);
    this.#askedAt.set(standby, sentAt);
    peer.request(topics.agentInbox(standby), { type: 'lease', jobs }, { timeoutMs: this.#windowMs * 2, who: `agent ${standby}` }).then(
      (reply) => {
        this.#inFlight.delete(standby);
        if (reply.ok) this.answered(standby, sentAt, parseLeaseAnswers(reply.data));
      },
      () => { this.#inFlight.delete(standby); },
    );
  }

  /** `standby`'s answers to the request sent at `sentAt`. */
  answered(standby: string, sentAt: number, answers: readonly LeaseAnswer[]): void {
    for (const a of answers) {
      const needs = this.#needs.get(a.job);
      if (!needs?.has(standby)) continue;
      const copy = this.#hooks.copyOf(a.job);
      if (copy === undefined) { this.forget(a.job); continue; }
      const mine = copy.epoch;
      const agent = this.#peer().id;
      const newer = a.epoch !== undefined && a.agent !== undefined && a.agent !== agent && (a.epoch > mine || (a.epoch === mine && a.agent > agent));
      // The standby runs the job itself (it took it over) at an older epoch than this copy's,
      // which resumed in doubt after a handoff across the outage. If the fleet may know of
      // this epoch, that copy stops when the state reaches it: wait, unconfirmed (yielding
      // too, both would stop). If not, nothing will stop it: this copy yields.
      const runsThere = !newer && !a.standby && a.agent === standby && a.agent !== agent;
      if (runsThere && copy.published) continue;
      if (newer || runsThere) {
        this.forget(a.job);
        this.#hooks.onNewer(a.job, a.epoch as number, a.agent as string);
        continue;
      }
      if (a.standby) needs.set(standby, Math.max(needs.get(standby) as number, sentAt));
      // It holds no copy and knows no newer one: it cannot take this job over (an enlistment
      // sent before this request reached it first, the broker keeping one publisher's order).
      else needs.delete(standby);
    }
    const now = performance.now();
    for (const a of answers) if (this.#needs.has(a.job)) this.#settle(a.job, now);
  }
}
