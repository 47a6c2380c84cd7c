/**
 * Live migration, the target's side: one {@link IncomingHandoff} per job being received.
 * `prepare` opens a worker for the job and loads the module (before the source pauses
 * anything); each `round` applies memory blocks and output in the worker; `final`
 * completes the images, checks them against the source's digests, restores the program
 * and commits it: the job runs here from then on, and the answer says so. `abort`, or
 * silence from the source for `incomingTtlMs`, drops the copy being received. The target
 * never runs a copy whose final did not come from the handoff's source at its epoch.
 *
 * The final commits because the source sends it only once its copy is paused for good
 * (docs/protocol.md, "The handoff"): a separate `ready` and `commit` cost two more trips
 * through the broker in the job's downtime (3-5 ms of a CoreMark move through aedes).
 * The source that gets no answer to its final asks again with `commit`, which finds the
 * job here (committed), the final's restore under way (awaited), or no final: then the
 * copy is dropped at once, so that a final still on its way can never start it later.
 */
import { WasmigError } from '../errors/index.ts';
import type { SessionKey } from './blob-cipher.ts';
import type { HandoffHost } from './handoff-host.ts';
import { hopClockMs, receivedStamps } from './hop-clock.ts';
import type { HopStamps } from './hop-clock.ts';
import type { Job } from './job.ts';
import type { AbortRequest, CommitRequest, FinalRequest, PrepareRequest, RoundRequest } from './messages.ts';
import { OutputLog } from './output-log.ts';
import { decodeFinal, decodeRound } from './package.ts';

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A job being received: its worker, the epoch it will run at, and where it comes from. */
export class IncomingHandoff {
  readonly job: Job;
  readonly epoch: number;
  readonly source: string;
  /** The final is in hand (its restore under way or done). */
  ready = false;
  /**
   * The worker's restore of the final: its hop stamps, or the reason it failed. Settles
   * once; the commit waits for it.
   */
  restoring: Promise<{ stamps: HopStamps } | { failed: string }> | undefined;
  /** The images this agent offered as the base (what it held of the job), if any. */
  offered: string | undefined;
  /** Whether the images being received still stand on the offered base. */
  onBase: boolean;
  /** When the job stopped at the source, as its final said (`hop-clock.ts`; measuring only). */
  stoppedAtSource: number | undefined;
  /** The handoff's session with the source (identities; session-mac.ts): the final and its answer are authenticated by it. */
  session: SessionKey | undefined;
  #timer: NodeJS.Timeout | undefined;
  /**
   * Settles once the message before the latest one has handed its work to the job's
   * worker (which takes commands in order). The source sends its last pre-copy round
   * and the final back to back, without waiting for the round's answer: the final's
   * restore must come after that round's blocks whatever the blobs' arrival took.
   */
  #turn: Promise<void> = Promise.resolve();
  readonly #host: HandoffHost;
  readonly #onExpire: () => void;

  constructor(host: HandoffHost, job: Job, epoch: number, source: string, onExpire: () => void) {
    this.#host = host;
    this.job = job;
    this.epoch = epoch;
    this.source = source;
    this.#onExpire = onExpire;
    this.onBase = false;
    this.touch();
  }

  /** The source is still there: the handoff may go on for another `incomingTtlMs`. */
  touch(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#onExpire(), this.#host.timeouts.incomingTtlMs);
    this.#timer.unref();
  }

  /**
   * The next turn, in the order messages came: `ready` settles once the messages before
   * have handed their work to the worker; `done` (call it once this one has, or failed)
   * lets the next go.
   */
  takeTurn(): { ready: Promise<void>; done: () => void } {
    const ready = this.#turn;
    let done!: () => void;
    this.#turn = new Promise((resolve) => { done = resolve; });
    return { ready, done };
  }

  /** Drops the copy being received. */
  drop(): void {
    clearTimeout(this.#timer);
    this.endSession();
    this.job.discard();
  }

  /** Closes the handoff's session: nothing more of it is taken. */
  endSession(): void {
    if (this.session !== undefined) this.#host.peer.closeSession(this.session.id);
    this.session = undefined;
  }

  settle(): void {
    clearTimeout(this.#timer);
  }
}

/** The handoffs an agent receives, by job id. */
export class IncomingHandoffs {
  readonly #host: HandoffHost;
  readonly #byJob = new Map<string, IncomingHandoff>();
  /** Jobs whose `prepare` is being served (the worker loading the module). */
  readonly #opening = new Set<string>();

  constructor(host: HandoffHost) {
    this.#host = host;
  }

  has(job: string): boolean {
    return this.#byJob.has(job) || this.#opening.has(job);
  }

  get size(): number {
    return this.#byJob.size;
  }

  /** The epoch of the handoff of `job` under way here, if one is. */
  epochOf(job: string): number | undefined {
    return this.#byJob.get(job)?.epoch;
  }

  /** A newer epoch of `job` exists (`why`): the copy being received can never be committed; drop it. */
  overtaken(job: string, why: string): void {
    const inc = this.#byJob.get(job);
    if (!inc) return;
    this.#byJob.delete(job);
    inc.drop();
    this.#host.log(`job ${job}: ${why}; dropped the copy being received (epoch ${inc.epoch}), which can no longer be committed`);
  }

  #refuse(req: { job: string; epoch: number; from: string; id: string; replyTo?: string }, why: string, code = 'refused'): void {
    this.#host.log(`refused job ${req.job} from ${req.from} (epoch ${req.epoch}): ${why}`);
    void this.#host.peer.reply(req, { ok: false, code, message: why });
  }

  /** `prepare`: checks, then a worker with the module loaded and what this agent holds of the job. */
  async prepare(req: PrepareRequest): Promise<void> {
    const host = this.#host;
    const holder = host.holds(req.job);
    if (holder) { this.#refuse(req, holder); return; }
    const known = host.observedState(req.job);
    if (known && known.epoch >= req.epoch) { this.#refuse(req, `epoch ${req.epoch} is not newer than the job's epoch ${known.epoch}`); return; }
    const missing = req.dirs.filter((d) => !host.dirGuests.includes(d));
    if (missing.length) { this.#refuse(req, `no director${missing.length === 1 ? 'y' : 'ies'} ${missing.map((m) => JSON.stringify(m)).join(', ')} here`); return; }
    if (!host.modules.has(req.spec.module.sha256)) { this.#refuse(req, `agent ${host.name} does not have module ${req.spec.module.sha256.slice(0, 12)}...`, 'need-module'); return; }

    this.#opening.add(req.job);
    const held = host.bases.take(req.job);
    const log = held?.log ?? new OutputLog(host.logLimit);
    let job: Job | undefined;
    try {
      job = host.newJob(req.job, req.spec, req.epoch, log);
      await job.receive(host.setupFor(req.spec), held?.images);
    } catch (error) {
      this.#opening.delete(req.job);
      job?.discard();
      this.#refuse(req, `cannot open the job here: ${errorText(error)}`);
      return;
    }
    this.#opening.delete(req.job);
    // From now on a newer epoch of the job, published by anyone, drops what arrives here.
    host.follow(req.job);
    const incoming = new IncomingHandoff(host, job, req.epoch, req.from, () => {
      if (this.#byJob.get(req.job) !== incoming) return;
      this.#byJob.delete(req.job);
      incoming.drop();
      host.log(`job ${req.job}: nothing from ${req.from} for ${host.timeouts.incomingTtlMs / 1000} s; dropped the copy being received`);
    });
    incoming.offered = held?.digest;
    incoming.onBase = held !== undefined;
    // The source's session (identities): its key from the ephemeral key the signed prepare names.
    const sessionKey = req.handoffSession === undefined ? undefined : host.peer.opener?.sessionKey?.(req.handoffSession);
    if (sessionKey !== undefined) {
      incoming.session = { id: req.handoffSession!, key: sessionKey };
      host.peer.openSession(incoming.session, req.from);
    }
    this.#byJob.set(req.job, incoming);
    host.log(`receiving job ${req.job} from ${req.from} (epoch ${req.epoch}${held ? `, onto what it left here (${held.digest.slice(0, 12)}...)` : ''})`);
    host.crashPoints.reach('target', 'prepare');
    void host.peer.reply(req, { ok: true, stage: 'prepared', data: { ...(held ? { base: held.digest, logNext: log.next } : {}), ...(incoming.session ? { session: true } : {}) } });
  }

  #find(req: RoundRequest | FinalRequest | CommitRequest): IncomingHandoff | undefined {
    const inc = this.#byJob.get(req.job);
    return inc && inc.epoch === req.epoch && inc.source === req.from ? inc : undefined;
  }

  /** `round` and `final`: the blob that follows, applied in the job's worker; a final then commits the job here. */
  async receive(req: RoundRequest | FinalRequest): Promise<void> {
    // The hops of a final, for the source's measurement of the downtime (`hop-clock.ts`).
    const stamps: HopStamps = { ...receivedStamps('targetRequest', req), targetHadRequest: hopClockMs() };
    const host = this.#host;
    const inc = this.#find(req);
    const what = req.type === 'final' ? 'final handoff package' : `pre-copy round ${req.round}`;
    const arriving = host.receiver.expect(req.transfer, req, { idleMs: 15_000, what });
    if (!inc || inc.ready) {
      host.receiver.cancel(req.transfer, new WasmigError('ERR_STATE', 'no handoff'));
      arriving.catch(() => {}); // cancelled just above, on purpose: the refusal below says why
      this.#refuse(req, `no handoff of job ${req.job} at epoch ${req.epoch} from ${req.from} is under way here`, 'unknown');
      return;
    }
    inc.touch();
    const turn = inc.takeTurn();
    try {
      const bytes = await arriving;
      stamps.targetHadPackage = hopClockMs();
      await turn.ready;
      // A repeated commit that found no final dropped the copy meanwhile: it must stay dropped.
      if (this.#byJob.get(req.job) !== inc) throw new WasmigError('ERR_STATE', 'the handoff was dropped while its package arrived');
      inc.touch();
      if (req.base !== undefined && req.base !== inc.offered) throw new WasmigError('ERR_BASE', `the source diffs against base ${req.base.slice(0, 12)}..., which this agent does not hold`);
      if (req.base === undefined && inc.onBase) {
        // The source did not take the offered base: start again from the module's images.
        await inc.job.rebase(host.setupFor(inc.job.spec));
        inc.onBase = false;
      }
      if (req.type === 'round') {
        const pkg = decodeRound(bytes);
        // The log first: its entries are copied out of the blob, whose buffer then goes to the worker.
        inc.job.log.extend(pkg.log);
        const applying = inc.job.apply(pkg.deltas, true);
        turn.done();
        await applying;
      } else {
        const pkg = decodeFinal(bytes);
        inc.job.log.extend(pkg.log);
        stamps.targetDecoded = hopClockMs();
        inc.restoring = inc.job.complete(host.setupFor(inc.job.spec), pkg.snapshot, pkg.deltas, req.digests, true).then(
          ({ took, done, ...steps }) => ({ stamps: { ...steps, targetWorkerTook: took, targetWorkerRestored: done } }),
          (error: unknown) => ({ failed: `the snapshot does not restore: ${errorText(error)}` }),
        );
        inc.stoppedAtSource = req.stopped;
        inc.ready = true;
        turn.done();
      }
    } catch (error) {
      turn.done();
      if (this.#byJob.get(req.job) === inc) { this.#byJob.delete(req.job); inc.drop(); }
      const restoreFailed = req.type === 'final' && !(error instanceof WasmigError && error.code === 'ERR_STATE');
      this.#refuse(req, `${req.type === 'final' ? 'the snapshot does not restore' : `${what} does not apply`}: ${errorText(error)}`, restoreFailed ? 'restore-failed' : 'refused');
      return;
    }
    if (this.#byJob.get(req.job) !== inc) { this.#refuse(req, 'the handoff was aborted meanwhile', 'unknown'); return; }
    // A round's answer carries the session's MAC (identities): the last round's answer
    // comes back while the source is paused, where an Ed25519 check costs its main
    // thread 0.3-0.4 ms beside the job's capture.
    if (req.type === 'round') { void host.peer.reply(req, { ok: true, stage: 'done' }, inc.session); return; }
    // The final commits: the job runs here once it is restored.
    host.crashPoints.reach('target', 'commit-received');
    inc.settle();
    const received = hopClockMs();
    void inc.restoring!.then((restored) => this.#committed(req, inc, restored, received, stamps));
  }

  /**
   * `commit`: sent again by a source that got no answer to its final. The job is here
   * (or went on from here), or its final's restore is awaited and committed; a copy whose
   * final never came is dropped, so that the final can no longer start it.
   */
  commit(req: CommitRequest): void {
    const received = hopClockMs();
    const host = this.#host;
    // The job is here, or went on from here.
    if (host.committedHere(req.job, req.epoch)) { void host.peer.reply(req, { ok: true }); return; }
    // A late commit: a newer epoch of the job exists.
    const newer = host.observedState(req.job);
    if (newer && newer.epoch > req.epoch) {
      void host.peer.reply(req, { ok: false, code: 'unknown', message: `job ${req.job} is at epoch ${newer.epoch} on ${newer.agent}: commit at epoch ${req.epoch} refused` });
      return;
    }
    const inc = this.#find(req);
    if (inc && inc.ready) {
      host.crashPoints.reach('target', 'commit-received');
      inc.settle();
      void inc.restoring!.then((restored) => this.#committed(req, inc, restored, received, receivedStamps('targetCommit', req)));
      return;
    }
    if (inc) {
      this.#byJob.delete(req.job);
      inc.drop();
      host.log(`job ${req.job}: a commit from ${req.from} came before its final; dropped the copy being received`);
    }
    void host.peer.reply(req, { ok: false, code: 'unknown', message: `agent ${host.name} holds no restored copy of job ${req.job} at epoch ${req.epoch}` });
  }

  /** The commit of `inc`, once its restore has settled: the job runs here, or (restore failed) the commit is refused. */
  #committed(req: FinalRequest | CommitRequest, inc: IncomingHandoff, restored: { stamps: HopStamps } | { failed: string }, received: number, arrival: HopStamps): void {
    const host = this.#host;
    // Overtaken, aborted or committed by another copy of the request meanwhile.
    if (this.#byJob.get(req.job) !== inc) {
      if (host.committedHere(req.job, req.epoch)) void host.peer.reply(req, { ok: true });
      else void host.peer.reply(req, { ok: false, code: 'unknown', message: `agent ${host.name} holds no restored copy of job ${req.job} at epoch ${req.epoch}` });
      return;
    }
    this.#byJob.delete(req.job);
    if ('failed' in restored) {
      inc.drop();
      host.log(`job ${req.job}: ${restored.failed}; refused the commit from ${inc.source}, which resumes it there`);
      void host.peer.reply(req, { ok: false, code: 'restore-failed', message: `agent ${host.name}: ${restored.failed}` });
      return;
    }
    inc.job.epochCounter = Math.max(inc.job.epochCounter, req.epoch);
    // The answer is written out first, then the job runs, without waiting for the
    // broker's acknowledgement of the answer (a round trip of downtime): the commit
    // is what hands the job over, a lost answer only makes the source ask again. The
    // answer goes first so that the job, taking a core from its first instruction,
    // does not hold it up on a busy machine (measured: it did, by 5-10 ms at load 12).
    // It goes before the job's new state too, which `adopt` makes now but signs and
    // publishes a turn later: MQTT.js writes out one turn's packets together at its end, so signing the
    // state now would hold the answer back (and at the source, a state right behind the
    // answer was checked before the answer was acted on: agent.ts defers it).
    void host.peer.reply(req, { ok: true, data: { stamps: { ...arrival, ...restored.stamps, targetCommitted: received, targetAnswered: hopClockMs() } } }, req.type === 'final' ? inc.session : undefined)
      .finally(() => host.crashPoints.reach('target', 'commit-sent'));
    inc.endSession();
    host.adopt(inc.job, inc.source);
    void inc.job.run().then((started) => {
      if (started === undefined) return;
      // The job's own downtime: its last instruction at the source to its first here (one clock only on one machine).
      if (inc.stoppedAtSource !== undefined) host.log(`job ${req.job} runs here ${(started.ran - inc.stoppedAtSource).toFixed(2)} ms after it stopped on ${inc.source}`);
    });
  }

  /** `abort`: the source gave up; drop the copy. */
  abort(req: AbortRequest): void {
    const inc = this.#byJob.get(req.job);
    if (inc && inc.epoch === req.epoch) {
      this.#byJob.delete(req.job);
      inc.drop();
      this.#host.log(`job ${req.job}: handoff from ${req.from} aborted (${req.reason}); dropped the copy`);
    }
    void this.#host.peer.reply(req, { ok: true });
  }

  /** Drops every handoff under way (the agent stops). */
  dropAll(): void {
    for (const inc of this.#byJob.values()) inc.drop();
    this.#byJob.clear();
  }
}
