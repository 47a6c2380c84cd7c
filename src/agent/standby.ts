/**
 * The standby's side of a replicated job (docs/protocol.md, "Replicas and failover"):
 * it keeps the latest checkpoint the owner sent (`CheckpointStore`), follows the job's
 * retained state and its owner's status, and takes the job over when the owner is gone
 * (its last will, another instance of it online, or its heartbeats missed while this
 * agent heard others: `MissedHeartbeats`) for longer than the grace period
 * (times its rank plus one, so that the first standby goes first and the others see its
 * newer epoch and stand down). A takeover restores the checkpoint under an epoch above
 * every one the owner may have handed out, so the old owner, should it come back, and
 * a migration target's prepared copy are both fenced.
 */
import { performance } from 'node:perf_hooks';
import { WasmigError } from '../errors/index.ts';
import { MemoryImage } from '../snapshot/index.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import { HeartbeatWatch } from './heartbeat-watch.ts';
import type { Job } from './job.ts';
import type { AgentStatus, CheckpointRequest, JobSpec, JobState, LeaseRequest, ReleaseRequest, StandbyRequest } from './messages.ts';
import { parseAgentStatus, parseJobState } from './messages.ts';
import { MissedHeartbeats } from './missed-heartbeats.ts';
import { decodeFinal } from './package.ts';
import type { ReplicaHost } from './replication-source.ts';
import type { LeaseAnswer } from './standby-lease.ts';
import { topics } from './topics.ts';

/**
 * How many heartbeat periods without a heartbeat of the owner's make it gone, like its
 * last will. Three: the same window as the heartbeat's retained expiry; heartbeats go at
 * QoS 0 and may be dropped or late under load, and two in a row missing must not move a
 * job, while a stuck owner is still noticed long before its keepalive (1.5 keepalives,
 * 22.5 s at the default) ends the connection. Only periods that say something of the
 * owner count (`MissedHeartbeats`: this standby connected throughout, and the broker
 * delivering other heartbeats).
 */
export const MISSED_HEARTBEATS = 3;

/** Default grace period between an owner's loss and the first standby's takeover. */
export const DEFAULT_TAKEOVER_GRACE_MS = 3000;

/** What a standby needs of its agent. */
export interface StandbyHost extends ReplicaHost {
  /** How long an owner may be gone before the first standby takes over. */
  readonly takeoverGraceMs: number;
  /** Drops a copy of `job` being received in a handoff (a takeover's newer epoch fences it anyway). */
  dropIncoming(job: string, why: string): void;
  /**
   * A job restored from a checkpoint runs here from now on (its output up to `released` was
   * visible before); resolves once the broker holds the job's state at its new epoch.
   */
  takeOver(job: Job, from: string, released: number, standbys: readonly string[]): Promise<void>;
  /** The newest epoch of `job` this agent knows of (it runs it, it left from here, or its retained state), and where. */
  knownEpoch(job: string): { epoch: number; agent: string } | undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const FINAL = new Set(['exited', 'failed']);

/** The owner whose heartbeats a copy counts: its count, its subscription, the check's timer. */
interface OwnerBeats {
  agent: string;
  counter: MissedHeartbeats;
  stop: () => void;
  timer: NodeJS.Timeout | undefined;
}

/** A standby copy of one job. */
class StandbyCopy {
  readonly id: string;
  spec: JobSpec;
  rank: number;
  /** The agent that sends checkpoints, and its epoch when it enlisted this standby. */
  owner: string;
  ownerEpoch: number;
  readonly store: CheckpointStore;
  /** The job's latest retained state, and the status of the agent it names. */
  state: JobState | undefined;
  ownerStatus: AgentStatus | undefined;
  takingOver = false;
  #timer: NodeJS.Timeout | undefined;
  #stopState: (() => void) | undefined;
  #stopStatus: { agent: string; stop: () => void } | undefined;
  /** The owner whose heartbeats are counted, and how many it missed. */
  #beats: OwnerBeats | undefined;
  #closed = false;
  readonly #host: StandbyHost;
  readonly #heartbeats: HeartbeatWatch;
  readonly #onGone: (copy: StandbyCopy) => void;

  constructor(host: StandbyHost, heartbeats: HeartbeatWatch, req: StandbyRequest, onGone: (copy: StandbyCopy) => void) {
    this.#host = host;
    this.#heartbeats = heartbeats;
    this.#onGone = onGone;
    this.id = req.job;
    this.spec = req.spec;
    this.rank = req.rank;
    this.owner = req.from;
    this.ownerEpoch = req.epoch;
    const hash = req.spec.module.sha256;
    this.store = new CheckpointStore(() => {
      const compiled = host.modules.compiled(hash, req.spec.program);
      const count = compiled.module.imports.filter((i) => i.desc.kind === 'memory').length + compiled.module.memories.length;
      return Array.from({ length: count }, (_, i) => MemoryImage.initial(compiled, i));
    }, host.logLimit);
  }

  /** Starts following the job's state (and through it, its owner's status). */
  async watch(): Promise<void> {
    const stop = await this.#host.peer.listen([topics.jobState(this.id)], (_t, payload) => {
      const s = parseJobState(payload);
      if (!s || s.job !== this.id || this.#host.peer.checkDocument(s)) return;
      if (this.state && s.epoch < this.state.epoch) return; // a stale word never undoes a newer one
      this.state = s;
      if (FINAL.has(s.state)) { this.#host.log(`job ${this.id} ended; dropped its standby copy`); this.#onGone(this); return; }
      this.#watchOwner(s.agent);
      this.evaluate();
    });
    if (this.#closed) stop();
    else this.#stopState = stop;
  }

  #watchOwner(agent: string): void {
    this.#watchBeats(agent);
    if (this.#stopStatus?.agent === agent) return;
    this.#stopStatus?.stop();
    const entry = { agent, stop: () => {} };
    this.#stopStatus = entry;
    this.ownerStatus = undefined;
    this.#host.peer.listen([topics.agentStatus(agent)], (_t, payload) => {
      const s = parseAgentStatus(payload);
      if (!s || s.agent !== agent || this.#stopStatus !== entry) return;
      this.ownerStatus = s;
      this.evaluate();
    }).then((stop) => { if (this.#stopStatus === entry && !this.#closed) entry.stop = stop; else stop(); }, () => {});
  }

  /**
   * Counts the owner's missed heartbeats (`MissedHeartbeats` says which periods count),
   * checking a few times a period; the count starts at the owner's first heartbeat seen.
   */
  #watchBeats(agent: string): void {
    if (this.#beats?.agent === agent) return;
    this.#stopBeats();
    const counter = new MissedHeartbeats(MISSED_HEARTBEATS);
    const watch = this.#heartbeats;
    const beats: OwnerBeats = { agent, counter, stop: () => {}, timer: undefined };
    this.#beats = beats;
    beats.stop = watch.follow(agent, (load, at) => {
      if (!load.heartbeatMs || load.heartbeatMs <= 0 || this.#beats !== beats) return;
      const connection = watch.connection ?? -1;
      const wasGone = counter.ownerBeat(at, load.heartbeatMs, connection);
      if (!beats.timer) {
        beats.timer = setInterval(() => this.#checkBeats(beats), Math.max(50, load.heartbeatMs / 4));
        beats.timer.unref();
      }
      if (wasGone) this.evaluate();
    });
  }

  #checkBeats(beats: OwnerBeats): void {
    if (this.#beats !== beats || this.#closed) return;
    const watch = this.#heartbeats;
    if (!beats.counter.check(performance.now(), watch.connection, watch.latestExcept(beats.agent))) return;
    this.#host.log(`job ${this.id}: no heartbeat of its owner ${beats.agent} for ${MISSED_HEARTBEATS} periods (${(MISSED_HEARTBEATS * beats.counter.periodMs) / 1000} s) while this agent was connected and heard others`);
    this.evaluate();
  }

  /**
   * The owner `from` asked this standby to confirm its lease (`lease`): it counts as a
   * heartbeat of the owner's, when it is the owner whose heartbeats this copy counts. The
   * owner sent it before now, so its lease, renewed from that send time, runs out before
   * this copy can count it gone (3 periods from now, then the grace period).
   */
  heardFrom(from: string, now: number): void {
    const beats = this.#beats;
    if (!beats || beats.agent !== from || !beats.counter.started) return;
    if (beats.counter.ownerBeat(now, beats.counter.periodMs, this.#heartbeats.connection ?? -1)) this.evaluate();
  }

  #stopBeats(): void {
    if (!this.#beats) return;
    clearInterval(this.#beats.timer);
    this.#beats.stop();
    this.#beats = undefined;
  }

  /** Whether the job's owner is gone: its status says offline, or names another instance, or its heartbeats stopped. */
  get ownerGone(): boolean {
    const s = this.state;
    const o = this.ownerStatus;
    if (!s || FINAL.has(s.state)) return false;
    if (this.#beats?.agent === s.agent && this.#beats.counter.gone) return true;
    if (!o || o.agent !== s.agent) return false;
    return !o.online || o.instance !== s.instance;
  }

  /**
   * Whether this copy may take the job over: it holds a checkpoint of the current owner's
   * epoch, or the current owner never released output (no checkpoint acknowledged, and
   * standbys not yet chosen) so that nothing past this checkpoint was seen.
   */
  get eligible(): string | undefined {
    const s = this.state;
    if (!s) return 'the job\'s state is unknown';
    if (!this.store.complete) return 'no checkpoint was received';
    if (s.epoch === this.store.epoch) return undefined;
    if (s.epoch > this.store.epoch && s.checkpoint === undefined && s.standbys === undefined) return undefined;
    return `the checkpoint held (epoch ${this.store.epoch}) is older than the owner's (epoch ${s.epoch})`;
  }

  /** Arms or disarms the takeover timer. */
  evaluate(): void {
    if (this.#closed || this.takingOver) return;
    if (!this.ownerGone) {
      if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
      return;
    }
    if (this.#timer) return;
    const wait = this.#host.takeoverGraceMs * (this.rank + 1);
    this.#host.log(`job ${this.id}: its owner ${this.state?.agent} is gone; taking it over in ${wait / 1000} s unless it comes back or another standby does`);
    this.#timer = setTimeout(() => { this.#timer = undefined; void this.#takeOver(); }, wait);
    this.#timer.unref();
  }

  async #takeOver(): Promise<void> {
    const host = this.#host;
    if (this.#closed || !this.ownerGone) return;
    const why = this.eligible;
    if (why) { host.log(`job ${this.id}: cannot take it over: ${why}`); return; }
    const s = this.state as JobState;
    // Above every epoch the owner may have handed out: its own, a handoff's under way, a failed handoff's.
    const epoch = Math.max(this.store.epochCounter, s.epoch, s.targetEpoch ?? 0) + 1;
    // This agent may also be the target of a handoff of the job from the owner now gone
    // (in a fleet of two the standby is the only place the job can move to). That copy
    // can never be committed: the takeover's epoch is above the handoff's. It is dropped
    // here, before `holds` is asked: counted as a reason to stand down, it made this
    // standby give the job up for good, a lost job (docs/protocol.md, "Takeover").
    host.dropIncoming(this.id, `a standby takes it over at epoch ${epoch}`);
    const held = host.holds(this.id);
    if (held) {
      // A handoff still opening its worker here (its `prepare` came late), or the job
      // starting or committed here: look again after the grace. A job that runs here
      // drops this copy (`Agent#own`), which clears the timer.
      host.log(`job ${this.id}: not taking it over yet: ${held}; looking again in ${host.takeoverGraceMs / 1000} s`);
      this.#timer = setTimeout(() => { this.#timer = undefined; void this.#takeOver(); }, host.takeoverGraceMs);
      this.#timer.unref();
      return;
    }
    this.takingOver = true;
    const parts = this.store.restoreParts();
    const number = this.store.number;
    let job: Job | undefined;
    try {
      job = host.newJob(this.id, this.spec, epoch, parts.log);
      const setup = host.setupFor(this.spec);
      await job.receive(setup, parts.images);
      await job.complete(setup, parts.snapshot, parts.deltas, parts.digests);
    } catch (error) {
      job?.discard();
      this.takingOver = false;
      host.log(`job ${this.id}: the takeover failed: ${errorText(error)}; trying again after the grace period`);
      this.evaluate();
      return;
    }
    // Someone else got there meanwhile (another standby, the owner back): stand down.
    const now = this.state as JobState;
    if (this.#closed || now.epoch >= epoch || !this.ownerGone || host.holds(this.id)) {
      job.discard();
      this.takingOver = false;
      host.log(`job ${this.id}: not taking it over after all (epoch ${now.epoch} on ${now.agent})`);
      this.evaluate();
      return;
    }
    job.epochCounter = epoch;
    host.log(`job ${this.id}: taking it over from ${s.agent} at epoch ${epoch}, from checkpoint ${number} (output up to ${parts.log.next})`);
    this.#onGone(this);
    const published = host.takeOver(job, s.agent, parts.log.next, (s.standbys ?? []).filter((n) => n !== host.name));
    // The fault point sits where the fleet has just learnt of the new owner (old owner and
    // migration targets fenced) and no standby holds a checkpoint of the new epoch yet.
    void published.then(() => host.crashPoints.reach('standby', 'takeover'));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stopState?.();
    this.#stopStatus?.stop();
    this.#stopBeats();
  }
}

/** The standby copies an agent holds, by job id. */
export class Standbys {
  readonly #host: StandbyHost;
  readonly #byJob = new Map<string, StandbyCopy>();
  readonly #heartbeats: HeartbeatWatch;

  constructor(host: StandbyHost) {
    this.#host = host;
    this.#heartbeats = new HeartbeatWatch(() => host.peer);
  }

  has(job: string): boolean {
    return this.#byJob.has(job);
  }

  /** The checkpoint held for `job`: its number and when it came (for logs and tests). */
  held(job: string): { number: number; seq: number; at: number } | undefined {
    const copy = this.#byJob.get(job);
    return copy?.store.complete ? { number: copy.store.number, seq: copy.store.seq, at: copy.store.at } : undefined;
  }

  #refuse(req: { job: string; from: string; id: string; replyTo?: string }, why: string, code = 'refused'): void {
    void this.#host.peer.reply(req, { ok: false, code, message: why });
  }

  /** `standby`: become (or stay, under a newer owner) a standby of the job. */
  enlist(req: StandbyRequest): void {
    const host = this.#host;
    const held = host.holds(req.job);
    if (held) { this.#refuse(req, held); return; }
    if (!host.modules.has(req.spec.module.sha256)) { this.#refuse(req, `agent ${host.name} does not have module ${req.spec.module.sha256.slice(0, 12)}...`, 'need-module'); return; }
    const missing = req.dirs.filter((d) => !host.dirGuests.includes(d));
    if (missing.length) { this.#refuse(req, `no director${missing.length === 1 ? 'y' : 'ies'} ${missing.map((m) => JSON.stringify(m)).join(', ')} here`); return; }
    const known = this.#byJob.get(req.job);
    if (known) {
      if (req.epoch < known.ownerEpoch || known.takingOver) { this.#refuse(req, `job ${req.job} is at epoch ${known.ownerEpoch} here`); return; }
      known.owner = req.from;
      known.ownerEpoch = req.epoch;
      known.rank = req.rank;
      known.spec = req.spec;
      void host.peer.reply(req, { ok: true });
      return;
    }
    const copy = new StandbyCopy(host, this.#heartbeats, req, (c) => this.#drop(c));
    this.#byJob.set(req.job, copy);
    host.log(`standby for job ${req.job} of ${req.from} (rank ${req.rank})`);
    copy.watch().then(() => host.peer.reply(req, { ok: true }), (error: unknown) => {
      this.#drop(copy);
      this.#refuse(req, `cannot follow the job: ${errorText(error)}`);
    });
  }

  /** `checkpoint`: the blob that follows, applied to the store (the last good one stays if it fails). */
  async checkpoint(req: CheckpointRequest): Promise<void> {
    const host = this.#host;
    const copy = this.#byJob.get(req.job);
    const arriving = host.receiver.expect(req.transfer, req, { idleMs: 15_000, what: `checkpoint ${req.number}` });
    if (!copy || copy.owner !== req.from || req.epoch < copy.ownerEpoch || copy.takingOver) {
      host.receiver.cancel(req.transfer, new WasmigError('ERR_STATE', 'not a standby'));
      arriving.catch(() => {});
      this.#refuse(req, `agent ${host.name} is not a standby of job ${req.job} for ${req.from} at epoch ${req.epoch}`, 'unknown');
      return;
    }
    try {
      const bytes = await arriving;
      if (copy.takingOver || this.#byJob.get(req.job) !== copy) throw new WasmigError('ERR_STATE', 'the standby copy is gone');
      copy.store.apply({ number: req.number, full: req.full, epoch: req.epoch, epochCounter: req.epochCounter, seq: req.seq, digests: req.digests }, decodeFinal(bytes));
      copy.ownerEpoch = req.epoch;
    } catch (error) {
      this.#refuse(req, `checkpoint ${req.number} does not apply: ${errorText(error)}`);
      return;
    }
    void host.peer.reply(req, { ok: true });
  }

  /**
   * `lease`: for each job, whether a standby copy is held here (counting the request as
   * the owner's heartbeat), and the newest epoch of it known here; a copy being taken
   * over is left out of the answer (unconfirmed: its owner must pause).
   */
  lease(req: LeaseRequest): void {
    const now = performance.now();
    const jobs: LeaseAnswer[] = [];
    for (const id of req.jobs) {
      const copy = this.#byJob.get(id);
      if (copy?.takingOver) continue;
      if (copy) {
        copy.heardFrom(req.from, now);
        const s = copy.state;
        jobs.push({ job: id, standby: true, ...(s ? { epoch: s.epoch, agent: s.agent } : {}) });
      } else {
        jobs.push({ job: id, standby: false, ...this.#host.knownEpoch(id) });
      }
    }
    void this.#host.peer.reply(req, { ok: true, data: { jobs } });
  }

  /** `release`: the owner no longer needs this standby. */
  release(req: ReleaseRequest): void {
    const copy = this.#byJob.get(req.job);
    if (copy && copy.owner === req.from && !copy.takingOver) this.#drop(copy);
    void this.#host.peer.reply(req, { ok: true });
  }

  /** This agent now runs the job: its standby copy is moot. */
  drop(job: string): void {
    const copy = this.#byJob.get(job);
    if (copy) this.#drop(copy);
  }

  #drop(copy: StandbyCopy): void {
    copy.close();
    if (this.#byJob.get(copy.id) === copy) this.#byJob.delete(copy.id);
  }

  dropAll(): void {
    for (const copy of this.#byJob.values()) copy.close();
    this.#byJob.clear();
  }
}
