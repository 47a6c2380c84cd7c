/**
 * Live migration, the source's side (docs/protocol.md, "Migration"): pre-copy rounds
 * while the job runs, then a short pause for the rest, then the two-phase commit.
 *
 * 1. Checks, and the module sent ahead (the target compiles it before answering).
 * 2. `prepare`: the target opens a worker for the job, loads the module, and says what it
 *    already holds of the job (the images of an earlier handoff between the two).
 * 3. Rounds, the job running: the blocks of memory that differ from what the target
 *    holds, then those changed since the round before, with the output logged since,
 *    until what is left would go over in about `maxDowntimeMs`, or the rounds stop
 *    shrinking, or the deadline passes (then the rest goes over in the pause: a bounded
 *    stop-and-copy, and the result says so). The last round is not waited for: the pause
 *    follows once the broker holds it.
 * 4. Pause; `final`: the last blocks, the rest of the output, the state without memory.
 *    The target completes its images, checks their digests against the source's, and
 *    restores the program paused: `ready`.
 * 5. `commit`, as before: only then does the source drop its copy.
 * Before the commit every failure resumes the job here, untouched; it never stopped
 * running before step 4.
 */
import { performance } from 'node:perf_hooks';
import { MigrationError, WasmigError } from '../errors/index.ts';
import { giveUpNote } from './fencing.ts';
import { sha256 } from './frames.ts';
import type { ChunkSealer, SessionKey } from './blob-cipher.ts';
import type { HandoffHost } from './handoff-host.ts';
import { hopClockMs, hopStampsFrom, receivedStamps } from './hop-clock.ts';
import type { HopStamps } from './hop-clock.ts';
import type { Job } from './job.ts';
import type { Reply } from './messages.ts';
import { newId } from './messages.ts';
import { encodeFinal, encodeRound } from './package.ts';
import { TimeoutError } from './peer.ts';
import { topics } from './topics.ts';
import { chunkCount } from './transfer.ts';
import { uploadModule } from './upload.ts';

/** What `wasmig migrate` prints. */
export interface MigrationResult {
  job: string;
  from: string;
  to: string;
  epoch: number;
  /** `pre-copy`: rounds while the job ran; `stop-and-copy`: everything in the pause. */
  mode: 'pre-copy' | 'stop-and-copy';
  /** Why the rounds ended (or why there were none). */
  reason: string;
  /** Pre-copy rounds sent while the job ran. */
  rounds: number;
  /** Paused at the source until running at the target (measured at the source). */
  downtimeMs: number;
  /** From the `migrate` request to the commit. */
  totalMs: number;
  /** Bytes on the wire: rounds, the final package, the module (when sent), and their framing. */
  bytesSent: number;
  /** Of those, the rounds' and the final package's. */
  precopyBytes: number;
  finalBytes: number;
  moduleBytes: number;
  /** Memory blocks (4 KiB) sent in the rounds and in the final package. */
  precopyBlocks: number;
  finalBlocks: number;
  /**
   * Where the downtime went (ms): final round and snapshot in the job's worker; the
   * final's transfer; its restore and commit at the target, to the answer; `commit`: the
   * commits asked again when that answer did not come (0 when it did).
   */
  phases: { capture: number; transfer: number; restore: number; commit: number };
  /**
   * The pause hop by hop: each instant, in ms after the pause began, stamped where it
   * happened (source, target, their jobs' workers; `hop-clock.ts`), in the order they
   * happened. Comparable only when both agents share a clock (one machine).
   */
  hops: Record<string, number>;
}

export interface Progress {
  phase: 'module' | 'prepare' | 'round' | 'pause' | 'transfer' | 'restore' | 'commit';
  round?: number;
  sent?: number;
  total?: number;
}

/** How a migration goes (the `migrate` request's options). */
export interface MigrationOptions {
  mode?: 'live' | 'stop-and-copy';
  maxDowntimeMs?: number;
  deadlineMs?: number;
}

/**
 * Defaults of the pre-copy: the downtime aimed at, the time allowed for rounds, the most
 * rounds, how many rounds in a row may fail to shrink by a tenth, and how much the rounds
 * may send in all, in multiples of the first (what the job had touched): past either,
 * the job writes faster than the link carries, and the rest goes over in the pause.
 */
export const PRECOPY_DEFAULTS = { maxDowntimeMs: 20, deadlineMs: 60_000, maxRounds: 30, stallRounds: 2, maxTraffic: 2 } as const;

/** What the rounds aim at before pausing: the rest must fit in about half the downtime at the rate measured, and never less than this. */
const MIN_FINAL_BYTES = 64 * 1024;

function restoreTimeoutMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / (1024 * 1024)) * 1000;
}

/**
 * How long the source waits for the answer to its final (the target's restore and
 * commit) before it asks again with `commit`: a commit's wait plus a second per MiB.
 * Asking again is always safe (the commit awaits a restore under way), so this is short.
 */
function finalAnswerMs(commitMs: number, bytes: number): number {
  return commitMs + Math.ceil(bytes / (1024 * 1024)) * 1000;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export class OutgoingHandoff {
  readonly #host: HandoffHost;
  readonly #job: Job;
  readonly #to: string;
  readonly #options: MigrationOptions;
  readonly #report: (p: Progress) => void;
  /**
   * Progress reports of the pause, held until the commit is settled: each is a message to
   * the client (signed in a signed fleet) that went out between the pause and the commit,
   * ahead of the `final` and the `commit` on this thread and at the broker.
   */
  #held: Progress[] | undefined;
  /** Seals the handoff's blobs for the target (undefined: an open fleet). */
  #sealer: ChunkSealer | undefined;
  /** The handoff's session with the target, once it took it (session-mac.ts): the pause's messages are authenticated by it. */
  #session: SessionKey | undefined;
  #cancelled: string | undefined;
  #epoch = 0;
  #prepared = false;
  #wasRunning = false;
  /** The job stands paused for the final (from its answer until the handoff resumes it here, if it does). */
  #pausedForFinal = false;

  constructor(host: HandoffHost, job: Job, to: string, options: MigrationOptions, progress: (p: Progress) => void) {
    this.#host = host;
    this.#job = job;
    this.#to = to;
    this.#options = options;
    this.#report = progress;
  }

  #progress(p: Progress): void {
    if (this.#held) this.#held.push(p);
    else this.#report(p);
  }

  /** Sends the progress reports held during the pause. */
  #flushProgress(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const p of held) this.#report(p);
  }

  get target(): string {
    return this.#to;
  }

  /** Whether the job stands paused for this handoff's final: no instruction of it runs here. */
  get pausedForFinal(): boolean {
    return this.#pausedForFinal;
  }

  /** Asks the handoff to give up before the job pauses (after it paused, it completes or fails by itself). */
  cancel(reason: string): void {
    this.#cancelled ??= reason;
  }

  /** Moves the job; resolves once it runs at the target, rejects (job going on here) with the reason. */
  async run(): Promise<MigrationResult> {
    const host = this.#host;
    const job = this.#job;
    const to = this.#to;
    if (to === host.name) throw new MigrationError(`job ${job.id} already runs on ${to}`);
    if (job.state !== 'running' && job.state !== 'paused') throw new MigrationError(`job ${job.id} is ${job.state}: only a running or paused job can migrate`);
    const started = performance.now();
    const watch = await host.watchAgent(to);
    this.#wasRunning = job.state === 'running';
    /** The last pre-copy round's request, sent without waiting for its answer (which the final's refusal may explain). */
    let lastRound: string | undefined;
    try {
      const status = watch.status();
      if (!status || !status.online) throw new MigrationError(`agent ${to} is ${status ? 'offline' : 'not known to the broker'}`);
      const missing = job.preopens.filter((g) => !(status.dirs ?? []).includes(g));
      if (missing.length) throw new MigrationError(`agent ${to} has no director${missing.length === 1 ? 'y' : 'ies'} ${missing.map((m) => JSON.stringify(m)).join(', ')}, which the job uses`);
      // Before the commit, a broker connection lost (messages on their way may be lost with
      // it) ends the handoff at once: waiting for answers that may never come would keep the
      // job paused, or the migration hanging, for the full timeouts. From the commit on, only
      // the target's own going away counts: the commit is asked again until it is known.
      const signal = AbortSignal.any([watch.gone, host.brokerSession]);
      const commitSignal = watch.gone;

      // The module goes first, while the job runs: the target compiles it before it answers.
      this.#progress({ phase: 'module' });
      let moduleWire = await this.#giveModule(signal);
      this.#check();

      this.#epoch = ++job.epochCounter;
      job.target = to;
      job.state = 'migrating';
      host.publishState(job);

      // Prepare: the target opens the job's worker and says what it holds of the job already.
      this.#progress({ phase: 'prepare' });
      let prepared: Reply;
      try {
        // One sealer for the handoff's rounds and final (identities: one X25519 key
        // agreement at each end for the handoff, not one per blob: the final's was on the
        // pause). Made before the prepare, which names its session (session-mac.ts).
        this.#sealer = await host.peer.sealerFor(to);
        prepared = await this.#prepare(signal);
        if (!prepared.ok && prepared.code === 'need-module') {
          moduleWire += await this.#giveModule(signal, true);
          prepared = await this.#prepare(signal);
        }
      } catch (error) {
        throw this.#resumeHere(this.#why(error, signal));
      }
      if (!prepared.ok) throw this.#resumeHere(`agent ${to} refused the job: ${prepared.message ?? prepared.code}`);
      this.#prepared = true;
      // The target derived the session's key: the final and its answer carry an HMAC under it, not signatures.
      if (prepared.data?.session === true && this.#sealer?.session !== undefined) {
        this.#session = this.#sealer.session;
        host.peer.openSession(this.#session, to);
      }
      const offered = typeof prepared.data?.base === 'string' ? prepared.data.base : undefined;
      const theirLog = typeof prepared.data?.logNext === 'number' ? prepared.data.logNext : 0;

      let rounds = 0;
      let precopyWire = 0;
      let precopyBlocks = 0;
      let reason: string;
      let logFrom = 0;
      let baseField: { base?: string } = {};
      const live = this.#options.mode !== 'stop-and-copy';
      try {
        // Stop-and-copy sends everything (against the module's image only): the classic scheme, to compare with.
        const { base } = await job.precopy(live ? offered : undefined);
        logFrom = base !== undefined ? theirLog : 0;
        if (base !== undefined) baseField = { base };
        if (!live) {
          reason = 'stop-and-copy was asked for';
        } else {
          const maxDowntimeMs = this.#options.maxDowntimeMs ?? PRECOPY_DEFAULTS.maxDowntimeMs;
          const deadline = started + (this.#options.deadlineMs ?? PRECOPY_DEFAULTS.deadlineMs);
          let bytesPerMs = 0;
          let best = Infinity;
          let stalled = 0;
          let firstBytes = 0;
          let roundBytes = 0;
          for (;;) {
            this.#check();
            if (rounds >= PRECOPY_DEFAULTS.maxRounds) { reason = `${rounds} rounds, the most there may be`; break; }
            if (performance.now() >= deadline) { reason = `the deadline passed after ${rounds} rounds`; break; }
            const r = await job.round();
            const log = job.log.portableSince(logFrom);
            logFrom = job.log.next;
            rounds++;
            // What may be left for the pause: what the link carries in half the downtime aimed at.
            const goal = Math.max(MIN_FINAL_BYTES, (bytesPerMs * maxDowntimeMs) / 2);
            if (rounds > 1 && r.bytes <= goal) {
              // The last round: the pause follows as soon as the broker holds it, without
              // waiting for the target to apply it and answer. The final carries what the
              // job writes until the pause, so every millisecond of that round trip (longer
              // with signatures and sealing) was blocks in the pause. The target applies a
              // handoff's messages in the order they were sent, and the final's digests
              // catch a round that did not land: the final is then refused, and the job
              // resumes here.
              const sent = await this.#publishBlob('round', { round: rounds, ...baseField }, encodeRound({ deltas: r.deltas, log }), signal, false);
              lastRound = sent.id;
              precopyWire += sent.wire;
              precopyBlocks += r.blocks;
              this.#progress({ phase: 'round', round: rounds, sent: r.bytes });
              reason = `converged after ${rounds} rounds (${r.bytes} bytes changed in the last)`;
              break;
            }
            const t0 = performance.now();
            precopyWire += await this.#sendRound({ round: rounds, ...baseField }, encodeRound({ deltas: r.deltas, log }), signal);
            const ms = performance.now() - t0;
            precopyBlocks += r.blocks;
            if (r.bytes > 0) bytesPerMs = Math.max(bytesPerMs, r.bytes / Math.max(ms, 0.1));
            this.#progress({ phase: 'round', round: rounds, sent: r.bytes });
            if (rounds === 1) firstBytes = r.bytes;
            roundBytes += r.bytes;
            if (r.bytes < best * 0.9) { best = r.bytes; stalled = 0; } else if (++stalled >= PRECOPY_DEFAULTS.stallRounds) {
              reason = `the job changes memory as fast as the link carries it (${r.bytes} bytes in round ${rounds}); the rest goes over in the pause`;
              break;
            }
            if (roundBytes > (1 + PRECOPY_DEFAULTS.maxTraffic) * Math.max(firstBytes, MIN_FINAL_BYTES)) {
              reason = `the rounds after the first sent ${PRECOPY_DEFAULTS.maxTraffic} times what it had; the rest goes over in the pause`;
              break;
            }
          }
        }
      } catch (error) {
        if (error instanceof MigrationError) throw error;
        throw this.#resumeHere(this.#why(error, signal));
      }

      // The pause: downtime starts here.
      this.#check();
      this.#held = [];
      this.#progress({ phase: 'pause' });
      const paused = performance.now();
      const stamps: HopStamps = { paused: hopClockMs() };
      let captured = paused;
      let transferred = 0;
      let finalWire = 0;
      let finalBlocks = 0;
      // From the final's publication on, the target may run the job (a final commits):
      // never resume without knowing.
      let finalSentAt: number | undefined;
      let answer: Reply | undefined;
      try {
        const final = await job.final();
        Object.assign(stamps, { sourceWorkerTook: final.stamps.took, sourceWorkerCaptured: final.stamps.done, sourceHadPackage: hopClockMs() });
        if (job.finished) throw this.#resumeHere(`job ${job.id} ended before it could be moved`);
        // Still handing over (final() says paused): the target's state at the new epoch must not fence this copy.
        job.state = 'migrating';
        this.#pausedForFinal = true;
        const pkg = encodeFinal({ deltas: final.deltas, log: job.log.portableSince(logFrom), snapshot: final.snapshot });
        finalBlocks = final.blocks;
        captured = performance.now();
        this.#progress({ phase: 'transfer' });
        finalSentAt = performance.now();
        const sent = await this.#publishBlob('final', { digests: final.digests, stopped: final.stamps.took, ...baseField }, pkg, signal, true, stamps);
        finalWire = sent.wire;
        transferred = performance.now();
        stamps.sourceSentFinal = hopClockMs();
        host.crashPoints.reach('source', 'commit-sent');
        this.#progress({ phase: 'restore' });
        try {
          answer = await host.peer.next(sent.id, { timeoutMs: finalAnswerMs(host.timeouts.commitMs, pkg.length), who: `agent ${to}`, signal });
        } finally {
          host.peer.done(sent.id);
        }
      } catch (error) {
        if (error instanceof MigrationError) throw error;
        if (finalSentAt === undefined) throw this.#resumeHere(this.#why(error, signal));
        // In doubt (no answer, the broker connection lost): asked again below.
      }
      const restored = performance.now();

      let outcome: 'committed' | 'refused' | 'in-doubt';
      if (answer !== undefined) {
        Object.assign(stamps, hopStampsFrom(answer.data?.stamps), receivedStamps('sourceCommitted', answer));
        if (answer.ok) {
          host.crashPoints.reach('source', 'commit-received');
          outcome = 'committed';
        } else {
          this.#commitRefusal = answer;
          outcome = 'refused';
        }
      } else {
        this.#progress({ phase: 'commit' });
        outcome = await this.#commit(commitSignal, stamps, finalSentAt!);
      }
      // The downtime ends with the answer: the progress reports held since the pause go out after.
      const done = performance.now();
      stamps.sourceHadCommitted = hopClockMs();
      this.#flushProgress();
      if (outcome === 'committed') {
        const downtimeMs = round1(done - paused);
        const held = await job.departureImages().catch(() => undefined);
        if (held?.digest !== undefined) host.bases.put(job.id, { digest: held.digest, images: held.images, log: job.log });
        host.departed(job, to, this.#epoch);
        const result: MigrationResult = {
          job: job.id, from: host.name, to, epoch: this.#epoch, mode: live ? 'pre-copy' : 'stop-and-copy', reason, rounds,
          downtimeMs, totalMs: round1(done - started),
          bytesSent: precopyWire + finalWire + moduleWire, precopyBytes: precopyWire, finalBytes: finalWire, moduleBytes: moduleWire,
          precopyBlocks, finalBlocks,
          phases: {
            capture: round1(captured - paused), transfer: round1((transferred || restored) - captured),
            restore: round1(restored - (transferred || captured)), commit: round1(done - restored),
          },
          hops: Object.fromEntries(Object.entries(stamps).sort(([, x], [, y]) => x - y).map(([name, at]) => [name, Math.round((at - stamps.paused) * 100) / 100])),
        };
        const p = result.phases;
        host.log(`job ${job.id} moved to ${to} (epoch ${this.#epoch}, ${result.mode}, ${rounds} rounds: ${reason}): downtime ${downtimeMs} ms (capture ${p.capture}, transfer ${p.transfer}, restore ${p.restore}, commit ${p.commit}), ${result.bytesSent} bytes sent, ${result.finalBytes} of them in the pause`);
        return result;
      }
      if (outcome === 'refused') {
        // A target that refuses a final (or a commit asked again) holds no copy it could
        // run: a final whose restore failed, a copy that expired or was overtaken.
        // A last round that did not apply there is what the final's refusal comes from:
        // its answer (sent before the final's) says why.
        const roundRefusal = lastRound === undefined ? undefined : await host.peer.next(lastRound, { timeoutMs: host.timeouts.commitMs, who: `agent ${to}`, signal: commitSignal }).catch(() => undefined);
        if (roundRefusal !== undefined && !roundRefusal.ok) throw this.#resumeHere(`agent ${to} refused the pre-copy round: ${roundRefusal.message ?? roundRefusal.code}`);
        const refusal = this.#commitRefusal;
        const why = refusal?.code === 'restore-failed'
          ? `refused the snapshot: ${(refusal.message ?? refusal.code).replace(/^agent \S+: /, '')}`
          : `no longer held the copy being received when the final came${refusal?.message ? ` (${refusal.message.replace(/^agent \S+: /, '')})` : ''}`;
        throw this.#resumeHere(`agent ${to} ${why}`);
      }
      throw this.#resumeHere(`agent ${to} did not confirm the commit${commitSignal.aborted ? ' and went offline' : ''}; any copy it started is fenced off by the new epoch`, true);
    } finally {
      if (lastRound !== undefined) host.peer.done(lastRound);
      if (this.#session !== undefined) host.peer.closeSession(this.#session.id);
      this.#flushProgress();
      watch.close();
    }
  }

  /** Throws the cancellation, once asked for (before the pause only). */
  #check(): void {
    if (this.#job.finished) throw this.#resumeHere(`job ${this.#job.id} ended before it could be moved`);
    if (this.#cancelled !== undefined) throw this.#resumeHere(`the migration was cancelled (${this.#cancelled})`);
  }

  #why(error: unknown, signal: AbortSignal): string {
    if (this.#job.finished) return `job ${this.#job.id} ended before it could be moved`;
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      if (reason instanceof WasmigError && reason.code === 'ERR_BROKER') return `${reason.message} during the handoff (what was on its way may be lost)`;
      return `agent ${this.#to} went offline during the handoff`;
    }
    if (error instanceof TimeoutError) return `${error.message} (during the handoff)`;
    return errorText(error);
  }

  async #giveModule(signal: AbortSignal, again = false): Promise<number> {
    const host = this.#host;
    const hash = this.#job.spec.module.sha256;
    const bytes = host.modules.bytes(hash);
    if (!bytes) {
      if (again) throw this.#resumeHere(`module ${hash.slice(0, 12)}... is no longer cached here`);
      return 0;
    }
    try {
      return await uploadModule(host.peer, this.#to, bytes, hash, { chunkBytes: host.chunkBytes, signal });
    } catch (error) {
      const why = `cannot give agent ${this.#to} the module: ${errorText(error)}`;
      throw again ? this.#resumeHere(why) : new MigrationError(why);
    }
  }

  async #prepare(signal: AbortSignal): Promise<Reply> {
    const job = this.#job;
    const peer = this.#host.peer;
    const id = await peer.send(topics.agentInbox(this.#to), {
      type: 'prepare', job: job.id, epoch: this.#epoch, spec: job.spec as unknown as Record<string, unknown>, dirs: job.preopens,
      ...(this.#sealer?.session ? { handoffSession: this.#sealer.session.id } : {}),
    });
    try {
      this.#host.crashPoints.reach('source', 'prepare');
      return await peer.next(id, { timeoutMs: this.#host.timeouts.prepareMs, who: `agent ${this.#to}`, signal });
    } finally {
      peer.done(id);
    }
  }

  /**
   * Publishes a `round` or `final` message and its blob (the chunks right behind it: the
   * target keeps chunks that come before their manifest); resolves with the message's id,
   * for its answer, and the bytes on the wire once the broker holds them all.
   */
  async #publishBlob(type: 'round' | 'final', fields: Record<string, unknown>, bytes: Uint8Array, signal: AbortSignal, reportProgress: boolean, stamps?: HopStamps): Promise<{ id: string; wire: number }> {
    const host = this.#host;
    const job = this.#job;
    const transfer = newId();
    const chunkBytes = host.chunkBytes;
    // The message and its chunks go out together, not one broker round trip after the
    // other: the target keeps chunks that come before their message.
    if (stamps) stamps.sourceSendingFinal = hopClockMs();
    const sending = host.peer.send(topics.agentInbox(this.#to), {
      type, job: job.id, epoch: this.#epoch, ...fields, transfer, sha256: sha256(bytes), size: bytes.length, chunks: chunkCount(bytes.length, chunkBytes),
    }, { session: type === 'final' ? this.#session : undefined });
    const count = chunkCount(bytes.length, chunkBytes);
    const blob = host.peer.sendBlob(topics.agentData(this.#to), transfer, bytes, {
      chunkBytes, signal, sealer: this.#sealer, onProgress: (s, total) => {
        // Acknowledgements come in order: s bytes acknowledged means chunk ceil(s / chunkBytes) is.
        host.crashPoints.chunk('source', Math.max(0, Math.ceil(s / chunkBytes) - 1), count, type === 'final');
        if (reportProgress) this.#progress({ phase: 'transfer', sent: s, total });
      },
    });
    const [sentMessage, sentBlob] = await Promise.allSettled([sending, blob]);
    if (sentMessage.status === 'rejected') throw sentMessage.reason;
    const id = sentMessage.value;
    if (sentBlob.status === 'rejected') {
      host.peer.done(id);
      throw sentBlob.reason;
    }
    return { id, wire: sentBlob.value };
  }

  /** Sends a pre-copy round; resolves with the bytes on the wire once the target has applied it. */
  async #sendRound(fields: Record<string, unknown>, bytes: Uint8Array, signal: AbortSignal): Promise<number> {
    const { id, wire } = await this.#publishBlob('round', fields, bytes, signal, false);
    try {
      const reply = await this.#host.peer.next(id, { timeoutMs: restoreTimeoutMs(bytes.length), who: `agent ${this.#to}`, signal });
      if (!reply.ok) throw this.#resumeHere(`agent ${this.#to} refused the pre-copy round: ${reply.message ?? reply.code}`);
      return wire;
    } finally {
      this.#host.peer.done(id);
    }
  }

  /** The target's refusal of the final (or of a commit asked again), as it said it. */
  #commitRefusal: Reply | undefined;

  /**
   * Asks `commit` again, after a final whose answer did not come, until the target
   * answers; `refused`: it holds no copy (safe to resume).
   */
  async #commit(signal: AbortSignal, stamps: HopStamps, finalSentAt: number): Promise<'committed' | 'refused' | 'in-doubt'> {
    const host = this.#host;
    const { commitAttempts, commitMs, incomingTtlMs } = host.timeouts;
    // The target drops a copy whose final did not come incomingTtlMs after the source's
    // last message: asking until then means that giving up (and resuming at a new epoch)
    // never races a late final there.
    const until = finalSentAt + incomingTtlMs + commitMs;
    const committedThere = (): boolean => {
      const seen = host.observedState(this.#job.id);
      return seen !== undefined && seen.agent === this.#to && seen.epoch >= this.#epoch;
    };
    for (let attempt = 0; (attempt < commitAttempts || performance.now() < until) && !signal.aborted; attempt++) {
      if (committedThere()) return 'committed';
      try {
        if (attempt === 0) stamps.sourceSendingCommit = hopClockMs();
        const id = await host.peer.send(topics.agentInbox(this.#to), { type: 'commit', job: this.#job.id, epoch: this.#epoch });
        let r: Reply;
        try {
          r = await host.peer.next(id, { timeoutMs: commitMs, who: `agent ${this.#to}`, signal });
        } finally {
          host.peer.done(id);
        }
        Object.assign(stamps, hopStampsFrom(r.data?.stamps), receivedStamps('sourceCommitted', r));
        if (r.ok) host.crashPoints.reach('source', 'commit-received');
        else this.#commitRefusal = r;
        return r.ok ? 'committed' : 'refused';
      } catch {
        if (committedThere()) return 'committed';
      }
    }
    return committedThere() ? 'committed' : 'in-doubt';
  }

  /**
   * Gives up: the target drops what it has, the job goes on here (with a new epoch when
   * the commit is in doubt), unless a newer copy fenced this one meanwhile (it was
   * discarded: `giveUpNote`).
   */
  #resumeHere(reason: string, newEpoch = false): MigrationError {
    const host = this.#host;
    const job = this.#job;
    if (this.#prepared && this.#epoch > 0) {
      host.peer.send(topics.agentInbox(this.#to), { type: 'abort', job: job.id, epoch: this.#epoch, reason }).then(
        (id) => host.peer.done(id),
        (error: unknown) => host.log(`job ${job.id}: could not tell agent ${this.#to} to drop its copy: ${errorText(error)}`),
      );
    }
    this.#prepared = false;
    this.#pausedForFinal = false;
    // The pre-copy's shadow no longer says what anyone holds.
    job.forget().catch(() => {}); // fails only with a broken thread, which ends the job (failed) through its hooks
    // Dropped without ending (an ended job drops its worker too): a newer copy fenced it.
    const stoppedBecause = job.discarded && !job.finished ? this.#cancelled ?? 'dropped here' : undefined;
    if (newEpoch && stoppedBecause === undefined) job.epoch = ++job.epochCounter;
    if (!job.finished && stoppedBecause === undefined) {
      job.target = undefined;
      job.state = 'paused';
      if (this.#wasRunning) void job.run();
      host.publishState(job);
    }
    const note = giveUpNote(job, this.#to, host.name, reason, { newEpoch, stoppedBecause });
    host.log(note.log);
    return new MigrationError(note.error);
  }
}
