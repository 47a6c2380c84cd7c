import { randomBytes } from 'node:crypto';
import { MigrationError, UsageError, WasmigError } from '../errors/index.ts';
import type { ConnectionOptions } from './connection.ts';
import { displayUrl } from './connection.ts';
import type { OutputChunk } from './frames.ts';
import { decodeOutput, sha256 } from './frames.ts';
import type { AgentLoad, AgentStatus, JobSpec, JobState } from './messages.ts';
import { newId, parseAgentLoad, parseAgentStatus, parseJobState } from './messages.ts';
import type { MigrationOptions, MigrationResult, Progress } from './handoff-source.ts';
import { Peer } from './peer.ts';
import type { FleetKey } from './signing.ts';
import { topicName, topics } from './topics.ts';
import { chunkBytesFor } from './transfer.ts';
import { uploadModule } from './upload.ts';

export interface ClientOptions {
  connection: ConnectionOptions;
  key?: FleetKey;
  /** Notices (reconnections, a vanished agent): one line each. */
  log?: (line: string) => void;
}

export interface StartJobOptions {
  agent: string;
  /** The module's bytes; only its sha256 travels when the agent has it already. */
  module: Uint8Array;
  /** Display name (the file's base name). */
  program: string;
  /** argv, argv[0] included. */
  args: string[];
  env?: Record<string, string>;
  maxMemoryBytes?: number;
  /** Execution tier (default: the agent's). */
  tier?: 'interp' | 'native' | 'auto';
  /** A job id of one's own choosing (default: program name + random suffix). */
  job?: string;
}

export interface StartedJob {
  job: string;
  agent: string;
  epoch: number;
  /** Module bytes that went on the wire (0: the agent had it). */
  moduleBytes: number;
}

export interface FollowOptions {
  /** First output sequence number wanted (0: everything the agent still has). */
  fromSeq?: number;
  onOutput: (chunk: OutputChunk) => void;
  /** Things a person following the job should know (moves, lost output, agent offline). */
  onNotice?: (line: string) => void;
}

/** Everything `ps` shows. */
export interface FleetView {
  jobs: (JobState & { agentOnline: boolean })[];
  agents: (AgentStatus & { load?: AgentLoad })[];
}

type Handler = (topic: string, payload: Buffer) => void;

const FINAL = new Set(['exited', 'failed']);

function isFinal(s: JobState | undefined): boolean {
  return s !== undefined && FINAL.has(s.state);
}

/** A job id from the program name: `ticker-3fa9c2`. */
export function newJobId(program: string): string {
  const base = program.replace(/\.wasm$/i, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[-_]+/, '').slice(0, 40) || 'job';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

/**
 * The client side of the fleet protocol, what `wasmig run --on`, `attach`, `migrate` and
 * `ps` use: start jobs, follow their output across migrations and reconnections, move
 * them, list them.
 */
export class FleetClient {
  readonly peer: Peer;
  readonly url: string;
  readonly #reconnect: Set<() => void>;
  /** Ends every `follow` still running (on close). */
  readonly #followers = new Set<(error: Error) => void>();

  private constructor(peer: Peer, url: string, reconnect: Set<() => void>) {
    this.peer = peer;
    this.url = url;
    this.#reconnect = reconnect;
  }

  static async connect(options: ClientOptions): Promise<FleetClient> {
    const reconnect = new Set<() => void>();
    const log = options.log ?? (() => {});
    const id = `c${newId().slice(0, 12)}`;
    const peer = await Peer.open({
      connection: options.connection,
      id,
      inbox: topics.clientInbox(id),
      key: options.key,
      persistent: false,
      onRequest: () => {},
      onConnect: (info) => { if (!info.first) { log(`reconnected to the broker`); for (const f of reconnect) f(); } },
      onDisconnect: () => log(`lost the broker ${displayUrl(options.connection.url)}; reconnecting`),
      log,
    });
    return new FleetClient(peer, options.connection.url, reconnect);
  }

  /** Routes messages on `filters` to `fn` (after subscribing); returns the undo. */
  #listen(filters: string[], fn: Handler): Promise<() => void> {
    return this.peer.listen(filters, fn);
  }

  /** Retained messages on `filter` as the broker has them now. */
  async #snapshotOf(filter: string): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    const stop = await this.peer.listenRetained([filter], (topic, payload) => { found.set(topic, payload); });
    stop();
    return found;
  }

  async agentStatus(agent: string): Promise<AgentStatus | undefined> {
    const m = await this.#snapshotOf(topics.agentStatus(agent));
    const payload = m.get(topics.agentStatus(agent));
    return payload ? parseAgentStatus(payload) : undefined;
  }

  async jobState(job: string): Promise<JobState | undefined> {
    const m = await this.#snapshotOf(topics.jobState(job));
    const payload = m.get(topics.jobState(job));
    return payload ? parseJobState(payload) : undefined;
  }

  async #onlineAgent(agent: string): Promise<AgentStatus> {
    const status = await this.agentStatus(agent);
    if (!status) throw new WasmigError('ERR_AGENT', `no agent named ${agent} has announced itself on ${displayUrl(this.url)}`);
    if (!status.online) throw new WasmigError('ERR_AGENT', `agent ${agent} is offline`);
    return status;
  }

  /** Starts a job; the module travels only if the agent lacks it. */
  async start(options: StartJobOptions): Promise<StartedJob> {
    await this.#onlineAgent(options.agent);
    const hash = sha256(options.module);
    const job = options.job ?? newJobId(options.program);
    const spec: JobSpec = {
      program: options.program, module: { sha256: hash, size: options.module.length }, args: options.args, env: options.env ?? {},
      startedAt: new Date().toISOString(),
    };
    if (options.maxMemoryBytes !== undefined) spec.maxMemoryBytes = options.maxMemoryBytes;
    if (options.tier !== undefined) spec.tier = options.tier;
    const who = `agent ${options.agent}`;
    let moduleBytes = 0;
    for (let attempt = 0; ; attempt++) {
      const r = await this.peer.request(topics.agentInbox(options.agent), { type: 'start', job, spec: spec as unknown as Record<string, unknown> }, { timeoutMs: 30_000, who });
      if (r.ok) return { job, agent: options.agent, epoch: Number(r.data?.epoch ?? 1), moduleBytes };
      if (r.code === 'need-module' && attempt === 0) {
        moduleBytes = await uploadModule(this.peer, options.agent, options.module, hash, { chunkBytes: chunkBytesFor(this.peer.link) });
        continue;
      }
      throw new WasmigError(r.code === 'refused' ? 'ERR_REFUSED' : 'ERR_START', `${who} did not start the job: ${r.message ?? r.code}`);
    }
  }

  /**
   * Streams a job's output in order, without loss or duplicates, wherever it runs:
   * live chunks and chunks replayed from the owner's log merge by sequence number; a
   * gap, a move or a reconnection asks the owner for a replay. Resolves with the final
   * state once the job ended and all its output was delivered.
   */
  async follow(job: string, options: FollowOptions): Promise<JobState> {
    const notice = options.onNotice ?? (() => {});
    let next = options.fromSeq ?? 0;
    const buffer = new Map<number, OutputChunk>();
    let state: JobState | undefined;
    let lastProgress = Date.now();
    let lastReplay = 0;
    let ownerStatus: { agent: string; stop: () => void; online: boolean } | undefined;
    let finish!: (s: JobState) => void;
    let fail!: (e: Error) => void;
    const done = new Promise<JobState>((resolve, reject) => { finish = resolve; fail = reject; });
    const outTopic = topics.clientOut(this.peer.id);

    const check = (): void => {
      if (state && isFinal(state) && next >= (state.endSeq ?? 0) && buffer.size === 0) finish(state);
    };
    const deliver = (payload: Buffer): void => {
      let c: OutputChunk;
      try {
        c = decodeOutput(payload);
      } catch {
        return;
      }
      if (c.job !== job || c.seq < next) return;
      buffer.set(c.seq, c);
      drain();
    };
    const drain = (): void => {
      while (buffer.has(next)) {
        const chunk = buffer.get(next) as OutputChunk;
        buffer.delete(next);
        next++;
        lastProgress = Date.now();
        options.onOutput(chunk);
      }
      check();
    };
    const replay = (): void => {
      if (!state) return;
      lastReplay = Date.now();
      const owner = state.agent;
      this.peer.request(topics.agentInbox(owner), { type: 'replay', job, fromSeq: next, outTopic }, { timeoutMs: 10_000, who: `agent ${owner}` }).then(
        (r) => {
          const floor = Number(r.data?.floor ?? 0);
          if (r.ok && floor > next) {
            notice(`output chunks ${next}-${floor - 1} of job ${job} are gone (beyond the agent's log limit)`);
            next = floor;
            for (const k of [...buffer.keys()]) if (k < next) buffer.delete(k);
            drain();
          }
        },
        () => {},
      );
    };
    const watchOwner = async (agent: string): Promise<void> => {
      if (ownerStatus?.agent === agent) return;
      ownerStatus?.stop();
      const entry = { agent, online: true, stop: () => {} };
      ownerStatus = entry;
      entry.stop = await this.#listen([topics.agentStatus(agent)], (_t, payload) => {
        const s = parseAgentStatus(payload);
        if (!s || ownerStatus !== entry) return;
        if (!s.online && entry.online && !isFinal(state)) notice(`agent ${agent} is offline; waiting for it (job ${job})`);
        if (s.online && !entry.online) { notice(`agent ${agent} is back`); replay(); }
        entry.online = s.online;
      });
    };

    const stops: (() => void)[] = [];
    stops.push(await this.#listen([topics.jobOut(job), outTopic], (_t, payload) => deliver(payload)));
    stops.push(await this.peer.listenRetained([topics.jobState(job)], (_t, payload) => {
      const s = parseJobState(payload);
      if (!s || s.job !== job) return;
      if (state && s.epoch < state.epoch) return; // a stale copy's word
      const moved = state !== undefined && s.agent !== state.agent;
      const changed = !state || moved || s.epoch !== state.epoch;
      state = s;
      if (moved) notice(`job ${job} moved to agent ${s.agent}`);
      if (changed) { replay(); void watchOwner(s.agent).catch(() => {}); }
      if (isFinal(s) && next < (s.endSeq ?? 0)) replay();
      check();
    }));
    const onReconnect = (): void => replay();
    this.#reconnect.add(onReconnect);
    this.#followers.add(fail);
    const timer = setInterval(() => {
      if (!state) return;
      const gap = buffer.size > 0 || (isFinal(state) && next < (state.endSeq ?? 0));
      const now = Date.now();
      if (gap && now - lastProgress > 500 && now - lastReplay > 1000) replay();
    }, 250);
    try {
      if (!state) throw new UsageError(`no job ${job} is known to the broker ${displayUrl(this.url)}`);
      return await done;
    } catch (error) {
      fail(error as Error);
      throw error;
    } finally {
      clearInterval(timer);
      this.#reconnect.delete(onReconnect);
      this.#followers.delete(fail);
      for (const stop of stops) stop();
      ownerStatus?.stop();
      void done.catch(() => {});
    }
  }

  /** Asks the job's agent to move it to `to`; resolves once it runs there. */
  async migrate(job: string, to: string, options: MigrationOptions & { onProgress?: (p: Progress) => void; timeoutMs?: number } = {}): Promise<MigrationResult> {
    const state = await this.jobState(job);
    if (!state) throw new UsageError(`no job ${job} is known to the broker ${displayUrl(this.url)}`);
    if (isFinal(state)) throw new MigrationError(`job ${job} has ${state.state === 'exited' ? 'exited' : 'failed'}: there is nothing to move`);
    if (state.agent === to) throw new MigrationError(`job ${job} already runs on ${to}`);
    const source = state.agent;
    const controller = new AbortController();
    let seenOnline = false;
    const stop = await this.peer.listenRetained([topics.agentStatus(source)], (_t, payload) => {
      const s = parseAgentStatus(payload);
      if (s?.online) seenOnline = true;
      else if (s) controller.abort(new MigrationError(`agent ${source}, which had the job, went offline during the migration; see wasmig ps`));
    });
    try {
      if (!seenOnline) throw new MigrationError(`agent ${source}, which has job ${job}, is offline`);
      const request: Record<string, unknown> = { type: 'migrate', job, to };
      if (options.mode !== undefined) request.mode = options.mode;
      if (options.maxDowntimeMs !== undefined) request.maxDowntimeMs = options.maxDowntimeMs;
      if (options.deadlineMs !== undefined) request.deadlineMs = options.deadlineMs;
      const r = await this.peer.request(topics.agentInbox(source), request as { type: 'migrate'; job: string; to: string }, {
        timeoutMs: options.timeoutMs ?? 600_000,
        who: `agent ${source}`,
        signal: controller.signal,
        onProgress: (reply) => options.onProgress?.(reply.data as unknown as Progress),
      });
      if (!r.ok) throw new MigrationError(r.message ?? `agent ${source} could not move the job (${r.code})`);
      return r.data as unknown as MigrationResult;
    } finally {
      stop();
    }
  }

  /** Asks the agent that has `job` to cancel its migration under way; resolves with that agent's name. */
  async cancelMigration(job: string): Promise<string> {
    const state = await this.jobState(job);
    if (!state) throw new UsageError(`no job ${job} is known to the broker ${displayUrl(this.url)}`);
    const r = await this.peer.request(topics.agentInbox(state.agent), { type: 'cancel', job }, { timeoutMs: 10_000, who: `agent ${state.agent}` });
    if (!r.ok) throw new MigrationError(r.message ?? `agent ${state.agent} could not cancel (${r.code})`);
    return state.agent;
  }

  /** Every job and agent the broker holds a retained state for. */
  async list(): Promise<FleetView> {
    const [jobStates, statuses, loads] = await Promise.all([
      this.#snapshotOf(topics.allJobStates), this.#snapshotOf(topics.allAgentStatus), this.#snapshotOf(topics.allAgentLoad),
    ]);
    const agents = new Map<string, AgentStatus & { load?: AgentLoad }>();
    for (const [topic, payload] of statuses) {
      const s = parseAgentStatus(payload);
      if (s && topicName(topic, 'agents', 'status') === s.agent) agents.set(s.agent, s);
    }
    for (const [topic, payload] of loads) {
      const l = parseAgentLoad(payload);
      const a = l && agents.get(l.agent);
      if (a && l && topicName(topic, 'agents', 'load') === l.agent && l.instance === a.instance) a.load = l;
    }
    const jobs: FleetView['jobs'] = [];
    for (const [topic, payload] of jobStates) {
      const s = parseJobState(payload);
      if (s && topicName(topic, 'jobs', 'state') === s.job) jobs.push({ ...s, agentOnline: agents.get(s.agent)?.online === true && agents.get(s.agent)?.instance === s.instance });
    }
    jobs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.job < b.job ? -1 : 1));
    return { jobs, agents: [...agents.values()].sort((a, b) => (a.agent < b.agent ? -1 : 1)) };
  }

  close(): Promise<void> {
    for (const fail of [...this.#followers]) fail(new WasmigError('ERR_CLOSED', 'the fleet client was closed'));
    return this.peer.close();
  }
}
