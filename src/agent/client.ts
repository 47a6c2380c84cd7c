import { randomBytes } from 'node:crypto';
import { MigrationError, UsageError, WasmigError } from '../errors/index.ts';
import type { ConnectionOptions } from './connection.ts';
import { displayUrl } from './connection.ts';
import { errorText } from './error-text.ts';
import type { OutputChunk } from './frames.ts';
import { decodeOutput, sha256 } from './frames.ts';
import type { AgentLoad, AgentStatus, JobSpec, JobState } from './messages.ts';
import { newId, parseAgentLoad, parseAgentStatus } from './messages.ts';
import type { MigrationOptions, MigrationResult, Progress } from './handoff-source.ts';
import { BROKER_PATIENCE_MS, Peer } from './peer.ts';
import { outputContext } from './blob-cipher.ts';
import type { BlobCipher } from './blob-cipher.ts';
import { outputCipher, outputKeyContext } from './output-keys.ts';
import { CLIENT_SUFFIX } from './identity.ts';
import type { MessageSigner } from './signing.ts';
import { checkJobState } from './state-check.ts';
import { topicName, topics } from './topics.ts';
import { chunkBytesFor } from './transfer.ts';
import { uploadModule } from './upload.ts';
import { seedOf } from './mem-dir-seed.ts';
import { DEFAULT_MEM_DIR_BYTES } from '../wasi/index.ts';
import type { MemDirOptions } from '../wasi/index.ts';

export interface ClientOptions {
  connection: ConnectionOptions;
  /** The fleet key, or this device's identity (`wasmig fleet add`). */
  key?: MessageSigner;
  /** Notices (reconnections, a vanished agent): one line each. */
  log?: (line: string) => void;
  /**
   * How long waits on the broker ride out a lost connection before they fail (default
   * {@link BROKER_PATIENCE_MS}): a broker restart is waited for, a broker gone for good is not.
   */
  brokerPatienceMs?: number;
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
  /** Standby copies on other agents (default 0). */
  replicas?: number;
  /** Seconds between checkpoints to the standbys (default 1). */
  checkpointEverySec?: number;
  /** The labels the job is placed by (`--on site=plant-2`): it keeps to agents with them when it is moved automatically. */
  placement?: Record<string, string>;
  /**
   * Directories in memory for the job, empty or seeded (`files`): the seed travels in the
   * start request, and from then on the files are part of the job's state.
   */
  memDirs?: MemDirOptions[];
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
  /**
   * How long the job's owner may stay offline (or unheard of) before the job counts as
   * lost and `follow` rejects with a {@link JobLostError} (default
   * {@link LOST_AFTER_MS}): a broker blip or a reconnecting agent is not a loss, and a
   * newer epoch of the job on another agent (a takeover) is followed instead.
   */
  lostAfterMs?: number;
  /**
   * The job is known to exist (the caller just started it): when the broker holds no
   * state of it yet, wait this long for one (ms) before the job counts as unknown. A
   * broker that restarted as the follow began holds no retained state until the job's
   * agent, reconnecting, publishes it again.
   */
  awaitStateMs?: number;
}

/** How long `migrate` waits, after the answer, for the broker to show the job on its target. */
const MIGRATED_STATE_WAIT_MS = 10_000;

/** How long a follower waits for a vanished owner (or a takeover) before the job is lost. */
export const LOST_AFTER_MS = 10_000;

/** The job's owner went away and no other agent took the job over: nobody runs it. */
export class JobLostError extends WasmigError {
  override readonly name = 'JobLostError';
  readonly job: string;
  constructor(job: string, message: string) {
    super('ERR_JOB_LOST', message);
    this.job = job;
  }
}

/** A job as `ps` shows it. */
export type ListedJob = JobState & {
  /** Its owner is online, with the instance that published the state. */
  agentOnline: boolean;
  /** Why nobody runs it any more (owner offline, restarted, unknown); only for jobs that are not final. */
  lost?: string;
  /** Why this state cannot be trusted (it fails the signature check of the fleet key this client holds): shown as such, never as the job's. */
  unverified?: string;
};

/** Everything `ps` shows. */
export interface FleetView {
  jobs: ListedJob[];
  agents: (AgentStatus & { load?: AgentLoad })[];
}

/**
 * Why a job that is not final has nobody running it, judged by its owner's retained
 * status (undefined: its owner runs it, or the job ended).
 */
export function whyLost(state: JobState, owner: AgentStatus | undefined): string | undefined {
  return isFinal(state) ? undefined : whyGone(state, owner);
}

/** Why the agent that published `state` is no longer the one that holds it (undefined: it is). */
function whyGone(state: JobState, owner: AgentStatus | undefined): string | undefined {
  if (!owner) return `agent ${state.agent} is not known to the broker`;
  if (!owner.online) return `agent ${state.agent} is offline`;
  if (owner.instance !== state.instance) return `agent ${state.agent} restarted since`;
  return undefined;
}

type Handler = (topic: string, payload: Buffer) => void;

const FINAL = new Set(['exited', 'failed']);
/** Sealed output chunks a follower keeps while it waits for their key (beyond: a replay brings them again). */
const HELD_CHUNKS = 4096;

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
  /** How long a follower rides out a lost broker before it gives up. */
  readonly #patienceMs: number;
  readonly #log: (line: string) => void;

  private constructor(peer: Peer, url: string, reconnect: Set<() => void>, patienceMs: number, log: (line: string) => void) {
    this.peer = peer;
    this.url = url;
    this.#reconnect = reconnect;
    this.#patienceMs = patienceMs;
    this.#log = log;
  }

  static async connect(options: ClientOptions): Promise<FleetClient> {
    const reconnect = new Set<() => void>();
    const log = options.log ?? (() => {});
    // With an identity, the client signs as its device: its id starts with the certified name.
    const id = options.key?.name !== undefined ? `${options.key.name}${CLIENT_SUFFIX}${newId().slice(0, 8)}` : `c${newId().slice(0, 12)}`;
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
      brokerPatienceMs: options.brokerPatienceMs,
    });
    return new FleetClient(peer, options.connection.url, reconnect, options.brokerPatienceMs ?? BROKER_PATIENCE_MS, log);
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

  /** The job's retained state; undefined when there is none, or none this client can verify (logged). */
  async jobState(job: string): Promise<JobState | undefined> {
    const m = await this.#snapshotOf(topics.jobState(job));
    const payload = m.get(topics.jobState(job));
    const checked = payload ? checkJobState(payload, job, this.peer) : undefined;
    if (checked?.distrust !== undefined) {
      this.#log(`ignored the broker's state of job ${job}: ${checked.distrust}`);
      return undefined;
    }
    return checked?.state;
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
    if (options.replicas) spec.replicas = options.replicas;
    if (options.replicas && options.checkpointEverySec !== undefined) spec.checkpointEverySec = options.checkpointEverySec;
    if (options.placement && Object.keys(options.placement).length) spec.placement = options.placement;
    if (options.memDirs?.length) {
      spec.memDirs = options.memDirs.map((d) => ({
        guest: d.guest, maxBytes: d.maxBytes ?? d.files?.maxBytes ?? DEFAULT_MEM_DIR_BYTES, ...(d.files === undefined ? {} : { seed: seedOf(d.files) }),
      }));
      // The seeds ride in the start request, one MQTT packet: a broker's limit is said here, not as a lost request.
      const max = this.peer.link.maxPacketSize;
      const size = JSON.stringify(spec.memDirs).length;
      if (max !== undefined && size > max - 16 * 1024) throw new WasmigError('ERR_TOO_LARGE', `the in-memory directories' content takes ${size} bytes in the start request, more than the broker's packet limit of ${max} allows`);
    }
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
    /** The owner's retained status, as last heard (undefined: nothing heard yet). */
    let ownerStatus: { agent: string; stop: () => void; status?: AgentStatus } | undefined;
    const lostAfterMs = options.lostAfterMs ?? LOST_AFTER_MS;
    /** Since when nobody is known to run the job (its owner offline, restarted or unheard of). */
    let unownedSince: number | undefined;
    let offlineSince: number | undefined;
    let finish!: (s: JobState) => void;
    let fail!: (e: Error) => void;
    const done = new Promise<JobState>((resolve, reject) => { finish = resolve; fail = reject; });
    const outTopic = topics.clientOut(this.peer.id);

    const check = (): void => {
      if (state && isFinal(state) && next >= (state.endSeq ?? 0) && buffer.size === 0) finish(state);
    };
    /** With identities: the job's output key per epoch, as its owners gave them (sealed to us) with their replays. */
    const outputKeys = new Map<number, BlobCipher>();
    /** Sealed chunks whose epoch's key has not come yet (it comes with the replay each new epoch asks for). */
    const held: OutputChunk[] = [];
    const deliver = (payload: Buffer): void => {
      let c: OutputChunk;
      try {
        c = decodeOutput(payload);
      } catch {
        return;
      }
      if (c.job === job) take(c);
    };
    const take = (sealed: OutputChunk): void => {
      let c = sealed;
      try {
        // Sealed output (a fleet key, or the job's key with identities): a chunk that does not open is not the job's.
        const cipher = this.peer.cipher ?? (this.peer.identified ? outputKeys.get(c.epoch) : undefined);
        if (this.peer.identified && !cipher) {
          if (held.length < HELD_CHUNKS) held.push(c);
          return;
        }
        if (cipher) c = { ...c, data: cipher.open(outputContext(c.job, c.epoch, c.seq), c.data) };
      } catch {
        return;
      }
      if (c.seq < next) return;
      buffer.set(c.seq, c);
      drain();
    };
    /** Takes the output key an owner sealed to us in a replay's answer, and opens what waited for it. */
    const takeKey = (data: Record<string, unknown> | undefined): void => {
      const k = data?.outputKey as { epoch?: unknown; sealed?: unknown } | undefined;
      const opener = this.peer.opener;
      if (!this.peer.identified || !opener || !k || typeof k.epoch !== 'number' || typeof k.sealed !== 'string' || outputKeys.has(k.epoch)) return;
      try {
        outputKeys.set(k.epoch, outputCipher(opener.open(outputKeyContext(job, k.epoch, outTopic), Buffer.from(k.sealed, 'base64'))));
      } catch (error) {
        this.#log(`the output key of job ${job} at epoch ${k.epoch} does not open: ${errorText(error)}`);
        return;
      }
      const waiting = held.splice(0).filter((c) => c.epoch === k.epoch || !outputKeys.has(c.epoch));
      for (const c of waiting) take(c);
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
          if (r.ok) takeKey(r.data);
          if (!r.ok && state && isFinal(state) && state.agent === owner) {
            // Asking again would get the same answer: end with what came, and say why (never wait forever).
            giveUpOutput(r.code === 'unknown' ? `agent ${owner} no longer keeps its log` : `agent ${owner} refused the replay: ${r.message ?? r.code}`);
            return;
          }
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
      const entry: { agent: string; stop: () => void; status?: AgentStatus } = { agent, stop: () => {} };
      ownerStatus = entry;
      entry.stop = await this.#listen([topics.agentStatus(agent)], (_t, payload) => {
        const s = parseAgentStatus(payload);
        if (!s || s.agent !== agent || ownerStatus !== entry) return;
        const was = entry.status;
        entry.status = s;
        if (isFinal(state)) return;
        if (!s.online && was?.online !== false) notice(`agent ${agent} is offline; waiting up to ${Math.round(lostAfterMs / 1000)} s for it, or another agent, to run job ${job}`);
        if (s.online && was?.online === false) { notice(`agent ${agent} is back`); replay(); }
      });
    };
    /** The job ended, but the rest of its output went with its agent: end with what came. */
    const giveUpOutput = (why: string): void => {
      if (!state || !isFinal(state)) return;
      const end = state.endSeq ?? 0;
      if (next >= end) return;
      notice(`output chunks ${next}-${end - 1} of job ${job} that did not arrive are gone: ${why}`);
      for (const seq of [...buffer.keys()].sort((x, y) => x - y)) {
        const chunk = buffer.get(seq) as OutputChunk;
        buffer.delete(seq);
        options.onOutput(chunk);
      }
      next = end;
      check();
    };
    /**
     * Whether anybody holds the job (or, once it ended, its missing output): its owner
     * online with the instance that published the state. A takeover publishes a newer
     * state, which moves the watch to the new owner.
     */
    const checkOwner = (now: number): void => {
      const waiting = state !== undefined && (!isFinal(state) || next < (state.endSeq ?? 0));
      if (!state || !waiting) { unownedSince = undefined; return; }
      const heard = ownerStatus?.agent === state.agent ? ownerStatus.status : undefined;
      const owned = heard !== undefined && heard.online && heard.instance === state.instance;
      if (owned) { unownedSince = undefined; return; }
      // While we cannot hear the broker, we cannot tell: that wait has its own bound.
      if (!this.peer.link.connected) return;
      unownedSince ??= now;
      if (now - unownedSince < lostAfterMs) return;
      if (isFinal(state)) { giveUpOutput(whyGone(state, heard) ?? `agent ${state.agent} does not answer`); return; }
      const why = whyLost(state, heard) ?? `agent ${state.agent} does not answer`;
      const where = state.state === 'migrating' && state.target ? ` while it was moving the job to ${state.target}` : '';
      fail(new JobLostError(job, `job ${job} is lost: ${why}${where}, and no other agent took it over within ${Math.round(lostAfterMs / 1000)} s (wasmig ps)`));
    };
    /** A follower never waits forever for the broker either. */
    const checkBroker = (now: number): void => {
      if (this.peer.link.connected) { offlineSince = undefined; return; }
      offlineSince ??= now;
      if (now - offlineSince >= this.#patienceMs) {
        fail(new WasmigError('ERR_BROKER', `lost the broker ${displayUrl(this.url)} for ${Math.round(this.#patienceMs / 1000)} s; job ${job} may go on (wasmig attach ${job})`));
      }
    };

    const stops: (() => void)[] = [];
    stops.push(await this.#listen([topics.jobOut(job), outTopic], (_t, payload) => deliver(payload)));
    let distrusted: string | undefined;
    let stateHeard!: () => void;
    const firstState = new Promise<void>((resolve) => { stateHeard = resolve; });
    stops.push(await this.peer.listenRetained([topics.jobState(job)], (_t, payload) => {
      const checked = checkJobState(payload, job, this.peer);
      if (!checked) return;
      if (checked.distrust !== undefined) {
        // A forged state neither moves nor ends what we follow: it is not the job's word.
        if (distrusted !== checked.distrust) notice(`ignored a state of job ${job} that fails its signature check: ${checked.distrust}`);
        distrusted = checked.distrust;
        return;
      }
      const s = checked.state;
      if (state && s.epoch < state.epoch) return; // a stale copy's word
      stateHeard();
      const moved = state !== undefined && s.agent !== state.agent;
      const changed = !state || moved || s.epoch !== state.epoch;
      state = s;
      if (moved) notice(`job ${job} moved to agent ${s.agent}`);
      if (changed) { unownedSince = undefined; replay(); void watchOwner(s.agent).catch((error: unknown) => this.#log(`could not follow agent ${s.agent}: ${errorText(error)}`)); }
      if (isFinal(s) && next < (s.endSeq ?? 0)) replay();
      check();
    }));
    const onReconnect = (): void => {
      // What we heard of the owner may be gone with a restarted broker: it must be heard
      // again (its agent publishes its status when it reconnects), or the job is lost.
      if (ownerStatus) ownerStatus.status = undefined;
      unownedSince = undefined;
      replay();
    };
    this.#reconnect.add(onReconnect);
    this.#followers.add(fail);
    const timer = setInterval(() => {
      if (!state) return;
      const gap = buffer.size > 0 || (isFinal(state) && next < (state.endSeq ?? 0));
      const now = Date.now();
      if (gap && now - lastProgress > 500 && now - lastReplay > 1000) replay();
      checkOwner(now);
      checkBroker(now);
    }, 250);
    try {
      if (!state && options.awaitStateMs !== undefined && options.awaitStateMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([firstState, new Promise<void>((resolve) => { timer = setTimeout(resolve, options.awaitStateMs); })]);
        clearTimeout(timer);
      }
      if (!state && distrusted !== undefined) throw new WasmigError('ERR_UNVERIFIED', `the broker's state of job ${job} fails its signature check (${distrusted}): not following it`);
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
      void done.catch(() => {}); // its failure was thrown above; this only keeps it from counting as unhandled
    }
  }

  /** Asks the job's agent to move it to `to`; resolves once it runs there. */
  async migrate(job: string, to: string, options: MigrationOptions & {
    onProgress?: (p: Progress) => void;
    timeoutMs?: number;
    /** How long the source may show offline before the migration counts as failed (default {@link LOST_AFTER_MS}). */
    lostAfterMs?: number;
  } = {}): Promise<MigrationResult> {
    const state = await this.jobState(job);
    if (!state) throw new UsageError(`no job ${job} is known to the broker ${displayUrl(this.url)}`);
    if (isFinal(state)) throw new MigrationError(`job ${job} has ${state.state === 'exited' ? 'exited' : 'failed'}: there is nothing to move`);
    if (state.agent === to) throw new MigrationError(`job ${job} already runs on ${to}`);
    const source = state.agent;
    const controller = new AbortController();
    // The job's state, followed from now on: the answer may come before the broker holds
    // the target's new state (another path across a bridge, a target that answers first).
    let latest: JobState | undefined;
    let stateChanged = (): void => {};
    const unwatch = await this.#listen([topics.jobState(job)], (_t, payload) => {
      const checked = checkJobState(payload, job, this.peer);
      const s = checked?.distrust === undefined ? checked?.state : undefined;
      if (s && (!latest || s.epoch >= latest.epoch)) { latest = s; stateChanged(); }
    });
    // The source showing offline is not yet a failure: its link may have dropped for a
    // moment (its last will), and back on the same instance it answers as before (an
    // answer it published meanwhile goes out again; the request, lost if it came while
    // the source was away, is sent again, which it takes once). A new instance has
    // forgotten the request; one still offline after `lostAfterMs` is taken for gone.
    const lostAfterMs = options.lostAfterMs ?? LOST_AFTER_MS;
    /** The instance the source was last seen online as; undefined until it was. */
    let sourceInstance: string | undefined;
    let offlineTimer: NodeJS.Timeout | undefined;
    let stop: () => void;
    try {
      stop = await this.peer.listenRetained([topics.agentStatus(source)], (_t, payload) => {
        const s = parseAgentStatus(payload);
        if (!s) return;
        if (s.online) {
          if (sourceInstance !== undefined && s.instance !== sourceInstance) {
            controller.abort(new MigrationError(`agent ${source}, which had the job, restarted during the migration; see wasmig ps`));
            return;
          }
          sourceInstance = s.instance;
          if (offlineTimer !== undefined) this.peer.resendRequests(topics.agentInbox(source));
          clearTimeout(offlineTimer);
          offlineTimer = undefined;
        } else if (sourceInstance !== undefined && offlineTimer === undefined) {
          offlineTimer = setTimeout(() => controller.abort(new MigrationError(
            `agent ${source}, which had the job, went offline during the migration and was not back within ${lostAfterMs / 1000} s; see wasmig ps`)), lostAfterMs);
        }
      });
    } catch (error) {
      unwatch();
      throw error;
    }
    try {
      if (sourceInstance === undefined) throw new MigrationError(`agent ${source}, which has job ${job}, is offline`);
      const request: Record<string, unknown> = { type: 'migrate', job, to };
      if (options.mode !== undefined) request.mode = options.mode;
      if (options.maxDowntimeMs !== undefined) request.maxDowntimeMs = options.maxDowntimeMs;
      if (options.deadlineMs !== undefined) request.deadlineMs = options.deadlineMs;
      const r = await this.peer.request(topics.agentInbox(source), request as { type: 'migrate'; job: string; to: string }, {
        timeoutMs: options.timeoutMs ?? 600_000,
        who: `agent ${source}`,
        signal: controller.signal,
        // Its answer is lost if the broker restarts before it is out: ask again (the source answers a repeated request again, never acts twice).
        resendOnReconnect: true,
        onProgress: (reply) => options.onProgress?.(reply.data as unknown as Progress),
      });
      if (!r.ok) throw new MigrationError(r.message ?? `agent ${source} could not move the job (${r.code})`);
      const result = r.data as unknown as MigrationResult;
      // Return once the broker shows the job where it now runs, so that a `ps` or an
      // `attach` right after finds it there, every time.
      const visible = (): boolean => latest !== undefined && latest.agent === result.to && latest.epoch >= result.epoch;
      if (!visible()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, MIGRATED_STATE_WAIT_MS);
          stateChanged = () => { if (visible()) { clearTimeout(timer); resolve(); } };
        });
        if (!visible()) this.#log(`the broker does not show job ${job} on agent ${result.to} yet (after ${MIGRATED_STATE_WAIT_MS / 1000} s); wasmig ps may still show it on ${source}`);
      }
      return result;
    } finally {
      clearTimeout(offlineTimer);
      stop();
      unwatch();
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

  /**
   * Stops a job where it runs (it fails with status 143, saying who stopped it); resolves
   * with the agent that held it. Refused while the job is being moved, or once it ended.
   */
  async stop(job: string): Promise<string> {
    const state = await this.jobState(job);
    if (!state) throw new UsageError(`no job ${job} is known to the broker ${displayUrl(this.url)}`);
    if (isFinal(state)) throw new WasmigError('ERR_STOP', `job ${job} has ${state.state} already`);
    const r = await this.peer.request(topics.agentInbox(state.agent), { type: 'stop', job }, { timeoutMs: 10_000, who: `agent ${state.agent}` });
    if (!r.ok) throw new WasmigError('ERR_STOP', r.message ?? `agent ${state.agent} could not stop job ${job} (${r.code})`);
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
      const name = topicName(topic, 'jobs', 'state');
      const checked = name === undefined ? undefined : checkJobState(payload, name, this.peer);
      if (!checked) continue;
      const s = checked.state;
      const owner = agents.get(s.agent);
      if (checked.distrust !== undefined) {
        jobs.push({ ...s, agentOnline: false, unverified: checked.distrust });
        continue;
      }
      const listed: ListedJob = { ...s, agentOnline: owner?.online === true && owner.instance === s.instance };
      const lost = whyLost(s, owner);
      if (lost !== undefined) listed.lost = lost;
      jobs.push(listed);
    }
    jobs.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.job < b.job ? -1 : 1));
    return { jobs, agents: [...agents.values()].sort((a, b) => (a.agent < b.agent ? -1 : 1)) };
  }

  close(): Promise<void> {
    for (const fail of [...this.#followers]) fail(new WasmigError('ERR_CLOSED', 'the fleet client was closed'));
    return this.peer.close();
  }
}
