/**
 * The owner's side of a replicated job (docs/protocol.md, "Replicas and failover"): it
 * keeps `spec.replicas` standby copies on other agents and sends them a checkpoint every
 * `checkpointEverySec`. A checkpoint is the blocks of memory changed since the last one
 * (XOR + LZ4 against what the standbys hold, the live migration's delta machinery), the
 * output logged since and the state without memory, taken with the job stopped for the
 * moment only. Once every standby has acknowledged one, the output it covers is
 * released to followers (`OutputCommit`).
 */
import { performance } from 'node:perf_hooks';
import { WasmigError } from '../errors/index.ts';
import { sha256 } from './frames.ts';
import type { AgentWatch, HandoffHost } from './handoff-host.ts';
import type { Job } from './job.ts';
import type { AgentLoad, AgentStatus, CheckpointInfo } from './messages.ts';
import { DEFAULT_CHECKPOINT_EVERY_SEC, newId, parseAgentLoad, parseAgentStatus } from './messages.ts';
import { OutputCommit } from './output-commit.ts';
import { encodeFinal } from './package.ts';
import type { StandbyLeases } from './standby-lease.ts';
import { topicName, topics } from './topics.ts';
import { chunkCount } from './transfer.ts';
import { uploadModule } from './upload.ts';

/** What replication needs of its agent beyond a handoff's needs. */
export interface ReplicaHost extends HandoffHost {
  /** Publishes output of `job` that followers may now see. */
  publishReleased(job: Job, from: number, to: number): void;
  /** The standbys' confirmations of this agent's lease on its replicated jobs. */
  readonly standbyLeases: StandbyLeases;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How long a standby may take to apply a checkpoint of `bytes`. */
function applyTimeoutMs(bytes: number): number {
  return 10_000 + Math.ceil(bytes / (1024 * 1024)) * 1000;
}

interface Standby {
  name: string;
  watch: AgentWatch;
}

/**
 * Chooses standbys: the job's current ones first (a new owner keeps them), then the
 * least loaded online agents, never `self`, only agents with the job's directories.
 */
export function chooseStandbys(
  candidates: readonly (AgentStatus & { load?: AgentLoad })[], self: string, want: number, preferred: readonly string[], dirs: readonly string[],
): string[] {
  const fit = candidates.filter((a) => a.online && a.agent !== self && dirs.every((d) => (a.dirs ?? []).includes(d)));
  const rank = (a: AgentStatus & { load?: AgentLoad }): number => (preferred.includes(a.agent) ? -1 : a.load?.jobs ?? 0);
  return fit.sort((a, b) => rank(a) - rank(b) || (a.agent < b.agent ? -1 : 1)).slice(0, want).map((a) => a.agent);
}

export class ReplicationSource {
  readonly commit: OutputCommit;
  /** The latest checkpoint every standby holds. */
  checkpoint: CheckpointInfo | undefined;
  readonly #host: ReplicaHost;
  readonly #job: Job;
  #standbys: Standby[] = [];
  /** Whether standbys were chosen yet (none chosen: no failover is possible, output flows freely). */
  #chosen = false;
  #number = 0;
  #needFull = true;
  /** Output the standbys hold (the end of the last checkpoint sent to all of them). */
  #sentSeq = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #preferred: string[];

  /** `released`: output followers may see already; `preferred`: the job's standbys so far (kept by a new owner). */
  constructor(host: ReplicaHost, job: Job, released: number, preferred: readonly string[] = []) {
    this.#host = host;
    this.#job = job;
    this.commit = new OutputCommit(released);
    this.#preferred = [...preferred];
    // The job's standbys so far may be counting the previous owner gone (a bridge outage
    // hides it from them): the job runs here only once each has answered this agent.
    for (const name of preferred) host.standbyLeases.need(job.id, name, -Infinity);
  }

  /** The standbys' names, once chosen (undefined before). */
  get standbys(): string[] | undefined {
    return this.#chosen ? this.#standbys.map((s) => s.name) : undefined;
  }

  get everyMs(): number {
    return (this.#job.spec.checkpointEverySec ?? DEFAULT_CHECKPOINT_EVERY_SEC) * 1000;
  }

  /** Chooses the standbys and starts checkpointing. */
  start(): void {
    void this.#tick();
  }

  /** Stops checkpointing; `release`: tells the standbys they are no longer needed (the job ended). */
  stop(release: boolean): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#host.standbyLeases.forget(this.#job.id);
    for (const s of this.#standbys) {
      s.watch.close();
      if (release) {
        this.#host.peer.send(topics.agentInbox(s.name), { type: 'release', job: this.#job.id, epoch: this.#job.epoch }).then((id) => this.#host.peer.done(id), () => {});
      }
    }
    this.#standbys = [];
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#fillStandbys();
      if (this.#standbys.length === 0) {
        // Nobody to fail over to: nothing would run this output again.
        this.#release(this.#job.log.next);
      } else if (this.#job.state === 'running') {
        await this.#checkpoint();
      }
    } catch (error) {
      this.#needFull = true;
      if (!this.#stopped) this.#host.log(`job ${this.#job.id}: checkpoint failed: ${errorText(error)}`);
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), this.everyMs);
    this.#timer.unref();
  }

  /** Drops standbys that went offline; chooses new ones up to `replicas` among online agents. */
  async #fillStandbys(): Promise<void> {
    const host = this.#host;
    const job = this.#job;
    const before = this.#standbys.length;
    this.#standbys = this.#standbys.filter((s) => {
      if (!s.watch.gone.aborted) return true;
      s.watch.close();
      host.standbyLeases.drop(job.id, s.name);
      host.log(`job ${job.id}: standby ${s.name} went offline`);
      return false;
    });
    const want = job.spec.replicas ?? 0;
    let changed = this.#standbys.length !== before || !this.#chosen;
    // The job's standbys so far that this agent has not enlisted yet, still waited for.
    const inherited = host.standbyLeases.needed(job.id).filter((n) => !this.#standbys.some((s) => s.name === n));
    if (this.#standbys.length < want || inherited.length) {
      const candidates = await this.#agents();
      for (const name of inherited) {
        // Offline (its last will, or it stopped): it holds nothing it could run; a restart starts empty.
        if (candidates.some((a) => a.agent === name && a.online)) continue;
        host.standbyLeases.drop(job.id, name);
        host.log(`job ${job.id}: its standby ${name} is offline; not waiting for its answer`);
      }
      const names = chooseStandbys(candidates, host.name, want, this.#preferred, job.preopens).filter((n) => !this.#standbys.some((s) => s.name === n));
      for (const name of names) {
        if (this.#standbys.length >= want || this.#stopped) break;
        try {
          const sentAt = await this.#enlist(name, this.#standbys.length);
          // Before its first checkpoint it holds nothing to take over from; from its answer it counts this agent's heartbeats.
          if (!this.#stopped) host.standbyLeases.need(job.id, name, sentAt);
          this.#standbys.push({ name, watch: await host.watchAgent(name) });
          this.#needFull = true;
          changed = true;
        } catch (error) {
          host.log(`job ${job.id}: agent ${name} cannot be a standby: ${errorText(error)}`);
        }
      }
    }
    this.#chosen = true;
    if (changed && !this.#stopped) {
      if (this.#standbys.length < want) host.log(`job ${job.id}: ${this.#standbys.length} of ${want} standbys (no other agent can hold one)`);
      host.publishState(job);
    }
  }

  /** Every agent's retained status and load. */
  async #agents(): Promise<(AgentStatus & { load?: AgentLoad })[]> {
    const statuses = new Map<string, AgentStatus & { load?: AgentLoad }>();
    const loads = new Map<string, AgentLoad>();
    const stop = await this.#host.peer.listenRetained([topics.allAgentStatus, topics.allAgentLoad], (topic, payload) => {
      if (topicName(topic, 'agents', 'status')) { const s = parseAgentStatus(payload); if (s) statuses.set(s.agent, s); }
      if (topicName(topic, 'agents', 'load')) { const l = parseAgentLoad(payload); if (l) loads.set(l.agent, l); }
    });
    stop();
    for (const [name, load] of loads) {
      const s = statuses.get(name);
      if (s && s.instance === load.instance) s.load = load;
    }
    return [...statuses.values()];
  }

  /** Gives `name` the module and makes it a standby of the job; resolves with when the `standby` request went out. */
  async #enlist(name: string, rank: number): Promise<number> {
    const host = this.#host;
    const job = this.#job;
    const hash = job.spec.module.sha256;
    const bytes = host.modules.bytes(hash);
    if (!bytes) throw new WasmigError('ERR_MODULE', `module ${hash.slice(0, 12)}... is no longer cached here`);
    await uploadModule(host.peer, name, bytes, hash, { chunkBytes: host.chunkBytes });
    const sentAt = performance.now();
    const r = await host.peer.request(topics.agentInbox(name), {
      type: 'standby', job: job.id, epoch: job.epoch, spec: job.spec as unknown as Record<string, unknown>, dirs: job.preopens, rank,
    }, { timeoutMs: 10_000, who: `agent ${name}` });
    if (!r.ok) throw new WasmigError('ERR_STANDBY', r.message ?? r.code ?? 'refused');
    return sentAt;
  }

  /** One checkpoint to every standby; output is released once all of them hold it. */
  async #checkpoint(): Promise<void> {
    const host = this.#host;
    const job = this.#job;
    const full = this.#needFull;
    const taken = await job.checkpoint(full);
    if (this.#stopped || job.state !== 'running') return;
    const log = full ? job.log.toPortable() : job.log.portableSince(this.#sentSeq);
    const pkg = encodeFinal({ deltas: taken.deltas, log, snapshot: taken.snapshot });
    const number = this.#number + 1;
    // From here the worker's shadow is this checkpoint: a standby that misses it needs a full one.
    this.#needFull = true;
    const standbys = [...this.#standbys];
    const results = await Promise.allSettled(standbys.map((s) => this.#send(s, pkg, { number, full, seq: taken.seq, digests: taken.digests })));
    if (this.#stopped) return;
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${standbys[i].name}: ${errorText(r.reason)}`] : []));
    if (failed.length) throw new WasmigError('ERR_CHECKPOINT', `checkpoint ${number} not held by ${failed.join('; ')}`);
    // Every standby holds it; the output it covers is not yet released, nor its number published.
    host.crashPoints.reach('owner', 'checkpoint-sent');
    this.#number = number;
    this.#sentSeq = taken.seq;
    this.#needFull = false;
    this.checkpoint = { number, seq: taken.seq, at: new Date().toISOString() };
    this.#release(taken.seq);
    host.publishState(job);
  }

  async #send(standby: Standby, pkg: Uint8Array, meta: { number: number; full: boolean; seq: number; digests: string[] }): Promise<void> {
    const host = this.#host;
    const job = this.#job;
    const transfer = newId();
    const chunkBytes = host.chunkBytes;
    const id = await host.peer.send(topics.agentInbox(standby.name), {
      type: 'checkpoint', job: job.id, epoch: job.epoch, epochCounter: job.epochCounter, ...meta,
      transfer, sha256: sha256(pkg), size: pkg.length, chunks: chunkCount(pkg.length, chunkBytes),
    });
    try {
      await host.peer.sendBlob(topics.agentData(standby.name), transfer, pkg, { chunkBytes, signal: standby.watch.gone });
      const reply = await host.peer.next(id, { timeoutMs: applyTimeoutMs(pkg.length), who: `agent ${standby.name}`, signal: standby.watch.gone });
      if (!reply.ok) throw new WasmigError('ERR_CHECKPOINT', reply.message ?? reply.code ?? 'refused');
    } finally {
      host.peer.done(id);
    }
  }

  /** Output up to `seq` may be seen: publishes what was held. */
  #release(seq: number): void {
    const { from, to } = this.commit.release(seq);
    if (to > from) this.#host.publishReleased(this.#job, from, to);
  }

  /** The job ended here: nothing runs it again, so all its output may be seen. */
  finish(): void {
    this.#release(this.#job.log.next);
    this.stop(true);
  }
}
