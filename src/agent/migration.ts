import { performance } from 'node:perf_hooks';
import { MigrationError, WasmigError } from '../errors/index.ts';
import type { Agent, Incoming } from './agent.ts';
import { committedHere } from './fencing.ts';
import { sha256 } from './frames.ts';
import type { Job } from './job.ts';
import type { AbortRequest, CommitRequest, PrepareRequest, Reply } from './messages.ts';
import { newId } from './messages.ts';
import { OutputLog } from './output-log.ts';
import { decodePackage, encodePackage } from './package.ts';
import { TimeoutError } from './peer.ts';
import { restoreProgram, snapshotUnavailable, takeSnapshot } from './snapshot-bridge.ts';
import { topics } from './topics.ts';
import { chunkCount, sendBlob } from './transfer.ts';
import { uploadModule } from './upload.ts';

/**
 * Live migration: a two-phase handoff with an epoch per job (docs/protocol.md).
 *
 * Source: pause at a slice boundary, snapshot, `prepare` (signed manifest with the package's
 * sha256 and a new epoch), module if the target lacks it, package chunks; the target
 * verifies, restores without running and answers `ready`; the source sends `commit`, the
 * target starts and answers; only then does the source drop its copy. Before the commit
 * every failure (refusal, timeout, the target going offline) resumes the job at the
 * source. After a commit without answer the job is in doubt: the source waits, and if the
 * target stays silent it resumes with a higher epoch, which fences off any copy the target
 * may have started (an agent stops a job when a higher epoch of it is published).
 */

/** What `wasmig migrate` prints. */
export interface MigrationResult {
  job: string;
  from: string;
  to: string;
  epoch: number;
  /** Paused at the source until running at the target (measured at the source). */
  downtimeMs: number;
  /** Bytes on the wire: package chunks, module chunks (when sent), and their framing. */
  bytesSent: number;
  packageBytes: number;
  snapshotBytes: number;
  moduleBytes: number;
  /** Where the downtime went (ms): snapshot and packing, prepare round trip, module and package transfer, restore at the target, commit. */
  phases: { snapshot: number; prepare: number; transfer: number; restore: number; commit: number };
}

export interface Progress {
  phase: 'snapshot' | 'module' | 'transfer' | 'restore' | 'commit';
  sent?: number;
  total?: number;
}

/** How long the handoff waits for each answer (tests shorten them). */
export interface HandoffTimeouts {
  /** For `prepared` after `prepare`. */
  prepareMs: number;
  /** For each answer to `commit`... */
  commitMs: number;
  /** ...and how many times `commit` is sent. */
  commitAttempts: number;
  /** How long a target keeps a restored copy waiting for `commit` or `abort`. */
  incomingTtlMs: number;
}

export const DEFAULT_HANDOFF_TIMEOUTS: HandoffTimeouts = { prepareMs: 10_000, commitMs: 3_000, commitAttempts: 5, incomingTtlMs: 60_000 };

function restoreTimeoutMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / (1024 * 1024)) * 1000;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Moves `job` to agent `to`; resolves once it runs there, rejects (job resumed here) with the reason. */
export async function migrateOut(agent: Agent, job: Job, to: string, progress: (p: Progress) => void): Promise<MigrationResult> {
  if (to === agent.name) throw new MigrationError(`job ${job.id} already runs on ${to}`);
  if (job.state !== 'running' && job.state !== 'paused') throw new MigrationError(`job ${job.id} is ${job.state}: only a running or paused job can migrate`);
  const unavailable = snapshotUnavailable();
  if (unavailable) throw new MigrationError(unavailable);
  const watch = await agent.watchAgent(to);
  const wasRunning = job.state === 'running';
  let prepareId: string | undefined;
  let epoch = 0;
  let transfer = '';

  const resumeHere = (reason: string, newEpoch = false): MigrationError => {
    if (prepareId !== undefined && epoch > 0) {
      agent.peer.send(topics.agentInbox(to), { type: 'abort', job: job.id, epoch, transfer, reason }).then((id) => agent.peer.done(id), () => {});
    }
    if (newEpoch) job.epoch = ++job.epochCounter;
    job.target = undefined;
    job.state = 'paused';
    if (wasRunning) job.run();
    agent.publishState(job);
    agent.log(`job ${job.id}: migration to ${to} failed: ${reason}; the job goes on here${newEpoch ? ` (epoch ${job.epoch})` : ''}`);
    return new MigrationError(`${reason}; the job goes on at ${agent.name}`);
  };

  try {
    const status = watch.status();
    if (!status || !status.online) throw new MigrationError(`agent ${to} is ${status ? 'offline' : 'not known to the broker'}`);
    const missing = job.program.wasi.captureState().preopens.map((p) => p.guest).filter((g) => !(status.dirs ?? []).includes(g));
    if (missing.length) throw new MigrationError(`agent ${to} has no director${missing.length === 1 ? 'y' : 'ies'} ${missing.map((m) => JSON.stringify(m)).join(', ')}, which the job uses`);

    // The module goes first, while the job still runs: a target that lacks it would get
    // it, and compile it, during the downtime. (`prepare` asks again: a module evicted
    // in between travels then.)
    let moduleWire = 0;
    const moduleBytes = agent.modules.bytes(job.spec.module.sha256);
    if (moduleBytes) {
      progress({ phase: 'module' });
      try {
        moduleWire = await uploadModule(agent.peer, to, moduleBytes, job.spec.module.sha256, { chunkBytes: agent.chunkBytes, signal: watch.gone });
      } catch (error) {
        throw new MigrationError(`cannot give agent ${to} the module: ${errorText(error)}`);
      }
      if (job.finished) throw new MigrationError(`job ${job.id} ended before it could be moved`);
    }

    job.target = to;
    job.state = 'migrating';
    agent.publishState(job);
    progress({ phase: 'snapshot' });
    await job.pause();
    if (job.finished) throw new MigrationError(`job ${job.id} ended before it could be moved`);
    job.state = 'migrating';
    const paused = performance.now();

    const marks: number[] = [paused];
    const mark = (): void => { marks.push(performance.now()); };
    let pkg: Uint8Array;
    let snapshotBytes: number;
    try {
      const snapshot = takeSnapshot(job.program);
      snapshotBytes = snapshot.length;
      pkg = encodePackage({ snapshot, log: job.log.toPortable() });
    } catch (error) {
      throw resumeHere(`cannot snapshot the job: ${errorText(error)}`);
    }
    mark();

    const chunkBytes = agent.chunkBytes;
    transfer = newId();
    epoch = ++job.epochCounter;
    const dirs = job.program.wasi.captureState().preopens.map((p) => p.guest);
    const who = `agent ${to}`;
    const signal = watch.gone;
    let reply: Reply;
    let packageWire = 0;
    try {
      prepareId = await agent.peer.send(topics.agentInbox(to), {
        type: 'prepare', job: job.id, epoch, spec: job.spec as unknown as Record<string, unknown>,
        transfer, sha256: sha256(pkg), size: pkg.length, chunks: chunkCount(pkg.length, chunkBytes), dirs,
      });
      reply = await agent.peer.next(prepareId, { timeoutMs: agent.timeouts.prepareMs, who, signal });
      if (!reply.ok) throw resumeHere(`agent ${to} refused the job: ${reply.message ?? reply.code}`);
      mark();
      if (reply.data?.needModule === true) {
        progress({ phase: 'module' });
        const bytes = agent.modules.bytes(job.spec.module.sha256);
        if (!bytes) throw resumeHere(`module ${job.spec.module.sha256.slice(0, 12)}... is no longer cached here`);
        moduleWire += await uploadModule(agent.peer, to, bytes, job.spec.module.sha256, { chunkBytes, signal });
      }
      packageWire = await sendBlob(agent.peer.link, topics.agentData(to), transfer, pkg, {
        chunkBytes, signal, onProgress: (sent, total) => progress({ phase: 'transfer', sent, total }),
      });
      progress({ phase: 'restore' });
      mark();
      reply = await agent.peer.next(prepareId, { timeoutMs: restoreTimeoutMs(pkg.length), who, signal });
      if (!reply.ok) throw resumeHere(`agent ${to} refused the snapshot: ${reply.message ?? reply.code}`);
      mark();
    } catch (error) {
      if (error instanceof MigrationError) throw error;
      if (signal.aborted) throw resumeHere(`agent ${to} went offline during the handoff`);
      if (error instanceof TimeoutError) throw resumeHere(`${error.message} (during the handoff)`);
      throw resumeHere(errorText(error));
    } finally {
      if (prepareId) agent.peer.done(prepareId);
    }

    // Phase 2: commit. From here on the target may run the job: never resume without knowing.
    progress({ phase: 'commit' });
    const outcome = await commit(agent, job, to, epoch, signal);
    if (outcome === 'committed') {
      mark();
      const downtimeMs = Math.round((performance.now() - paused) * 10) / 10;
      const span = (i: number): number => Math.round((marks[i + 1] - marks[i]) * 10) / 10;
      job.discard();
      if (agent.jobs.get(job.id) === job) agent.jobs.delete(job.id);
      agent.moved.set(job.id, { to, epoch });
      const result: MigrationResult = {
        job: job.id, from: agent.name, to, epoch, downtimeMs, bytesSent: packageWire + moduleWire,
        packageBytes: pkg.length, snapshotBytes, moduleBytes: moduleWire,
        phases: { snapshot: span(0), prepare: span(1), transfer: span(2), restore: span(3), commit: span(4) },
      };
      const p = result.phases;
      agent.log(`job ${job.id} moved to ${to} (epoch ${epoch}): downtime ${downtimeMs} ms (snapshot ${p.snapshot}, prepare ${p.prepare}, transfer ${p.transfer}, restore ${p.restore}, commit ${p.commit}), ${result.bytesSent} bytes sent`);
      return result;
    }
    if (outcome === 'refused') throw resumeHere(`agent ${to} no longer held the restored copy when the commit came`);
    throw resumeHere(`agent ${to} did not confirm the commit${signal.aborted ? ' and went offline' : ''}; any copy it started is fenced off by the new epoch`, true);
  } finally {
    watch.close();
  }
}

/** Sends `commit` until the target answers; `refused`: it holds no copy (safe to resume). */
async function commit(agent: Agent, job: Job, to: string, epoch: number, signal: AbortSignal): Promise<'committed' | 'refused' | 'in-doubt'> {
  const { commitAttempts, commitMs, incomingTtlMs } = agent.timeouts;
  // The target drops a copy nobody committed incomingTtlMs after `ready`: asking until then
  // means that giving up (and resuming at a new epoch) never races a late commit there.
  const until = performance.now() + incomingTtlMs + commitMs;
  for (let attempt = 0; (attempt < commitAttempts || performance.now() < until) && !signal.aborted; attempt++) {
    try {
      const r = await agent.peer.request(topics.agentInbox(to), { type: 'commit', job: job.id, epoch }, { timeoutMs: commitMs, who: `agent ${to}`, signal });
      return r.ok ? 'committed' : 'refused';
    } catch {
      const seen = agent.observed.get(job.id);
      if (seen && seen.agent === to && seen.epoch >= epoch) return 'committed';
    }
  }
  const seen = agent.observed.get(job.id);
  if (seen && seen.agent === to && seen.epoch >= epoch) return 'committed';
  return 'in-doubt';
}

/** Target side, phase 1: check, take the package, verify, restore paused, answer `ready`. */
export function acceptIncoming(agent: Agent, req: PrepareRequest): void {
  const refuse = (why: string): void => {
    agent.log(`refused job ${req.job} from ${req.from} (epoch ${req.epoch}): ${why}`);
    agent.peer.reply(req, { ok: false, code: 'refused', message: why });
  };
  const existing = agent.jobs.get(req.job);
  if (existing && !existing.finished) { refuse(`job ${req.job} already runs here (epoch ${existing.epoch})`); return; }
  if (agent.incoming.has(req.job)) { refuse(`a handoff of job ${req.job} is already under way here`); return; }
  const known = agent.observed.get(req.job);
  if (known && known.epoch >= req.epoch) { refuse(`epoch ${req.epoch} is not newer than the job's epoch ${known.epoch}`); return; }
  const missing = req.dirs.filter((d) => !agent.dirs.some((x) => x.guest === d));
  if (missing.length) { refuse(`no director${missing.length === 1 ? 'y' : 'ies'} ${missing.map((m) => JSON.stringify(m)).join(', ')} here`); return; }
  const unavailable = snapshotUnavailable();
  if (unavailable) { refuse(unavailable); return; }

  // From now on a newer epoch of the job, published by anyone, drops what arrives here.
  agent.watchJob(req.job);
  const needModule = !agent.modules.has(req.spec.module.sha256);
  const arriving = agent.receiver.expect(req.transfer, req, { idleMs: 15_000, what: 'migration package' });
  agent.peer.reply(req, { ok: true, stage: 'prepared', data: { needModule } });
  agent.log(`receiving job ${req.job} from ${req.from} (epoch ${req.epoch}, ${req.size} bytes in ${req.chunks} chunks${needModule ? ', module too' : ''})`);

  arriving.then(
    (bytes) => {
      let job: Job;
      try {
        const pkg = decodePackage(bytes);
        const compiled = agent.modules.compiled(req.spec.module.sha256, req.spec.program);
        job = agent.newJob(req.job, req.spec, req.epoch, OutputLog.fromPortable(pkg.log, agent.logLimit));
        job.program = restoreProgram(pkg.snapshot, {
          module: compiled, preopens: agent.dirs, stdin: agent.stdin, stdout: job.sink(1), stderr: job.sink(2), maxMemoryBytes: req.spec.maxMemoryBytes,
          tier: req.spec.tier ?? agent.tier,
        });
      } catch (error) {
        refuse(`the snapshot does not restore: ${errorText(error)}`);
        return;
      }
      if (agent.incoming.has(req.job) || agent.jobs.get(req.job)?.finished === false) { job.discard(); refuse('a concurrent handoff got here first'); return; }
      const timer = setTimeout(() => {
        if (agent.incoming.get(req.job)?.job !== job) return;
        agent.incoming.delete(req.job);
        job.discard();
        agent.log(`job ${req.job}: no commit from ${req.from} within ${agent.timeouts.incomingTtlMs / 1000} s; dropped the restored copy`);
      }, agent.timeouts.incomingTtlMs);
      const incoming: Incoming = { job, epoch: req.epoch, source: req.from, timer };
      agent.incoming.set(req.job, incoming);
      agent.peer.reply(req, { ok: true, stage: 'ready' });
    },
    (error: unknown) => refuse(errorText(error)),
  );
}

/** Target side, phase 2: the source committed; the job runs here from now on. */
export function commitIncoming(agent: Agent, req: CommitRequest): void {
  // A repeated commit whose answer was lost: the job is here, or went on from here.
  if (committedHere(req.epoch, agent.jobs.get(req.job), agent.moved.get(req.job))) { agent.peer.reply(req, { ok: true }); return; }
  const newer = agent.observed.get(req.job);
  if (newer && newer.epoch > req.epoch) {
    agent.peer.reply(req, { ok: false, code: 'unknown', message: `job ${req.job} is at epoch ${newer.epoch} on ${newer.agent}: commit at epoch ${req.epoch} refused` });
    return;
  }
  const inc = agent.incoming.get(req.job);
  if (inc && inc.epoch === req.epoch) {
    clearTimeout(inc.timer);
    agent.incoming.delete(req.job);
    const job = inc.job;
    job.epochCounter = Math.max(job.epochCounter, req.epoch);
    agent.jobs.set(job.id, job);
    agent.moved.delete(job.id);
    job.state = 'running';
    agent.publishState(job);
    agent.watchJob(job.id);
    agent.log(`job ${job.id} now runs here (epoch ${job.epoch}, from ${inc.source})`);
    // The first slice starts once the answer is out: the source's downtime ends with it.
    void agent.peer.reply(req, { ok: true }).finally(() => job.run());
    return;
  }
  agent.peer.reply(req, { ok: false, code: 'unknown', message: `agent ${agent.name} holds no restored copy of job ${req.job} at epoch ${req.epoch}` });
}

/** Target side: the source gave up; drop the restored copy. */
export function abortIncoming(agent: Agent, req: AbortRequest): void {
  if (req.transfer) agent.receiver.cancel(req.transfer, new WasmigError('ERR_ABORTED', `the source aborted: ${req.reason}`));
  const inc = agent.incoming.get(req.job);
  if (inc && inc.epoch === req.epoch) {
    clearTimeout(inc.timer);
    agent.incoming.delete(req.job);
    inc.job.discard();
    agent.log(`job ${req.job}: handoff from ${req.from} aborted (${req.reason}); dropped the restored copy`);
  }
  agent.peer.reply(req, { ok: true });
}
