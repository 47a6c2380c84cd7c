import { realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError, WasmigError } from '../errors/index.ts';
import type { ReadyModule, SharedClones } from '../native/index.ts';
import { defaultEngines } from '../program/index.ts';
import { snapshotLimitFor } from '../snapshot/index.ts';
import type { Tier } from '../runtime/index.ts';
import type { ConnectionOptions } from './connection.ts';
import { checkName, displayUrl } from './connection.ts';
import { Capacity } from './capacity.ts';
import type { CapacityOptions } from './capacity.ts';
import { CrashPoints } from './crash-points.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS, describeDrain, Drain } from './drain.ts';
import type { DrainHost, DrainReport } from './drain.ts';
import { committedHere, judgeJobState, stopCopyNote, supersedes } from './fencing.ts';
import { errorText } from './error-text.ts';
import { outputContext } from './blob-cipher.ts';
import { OutputKeys, outputKeyContext } from './output-keys.ts';
import { encodeOutput } from './frames.ts';
import { describeStartHops, hopClockMs } from './hop-clock.ts';
import { Job } from './job.ts';
import { CloneMaker, DEFAULT_AHEAD_CLONES } from './clone-maker.ts';
import { JobRunnerPool } from './job-runner.ts';
import type { ProgramSetup } from './job-protocol.ts';
import { LoadMeter } from './load.ts';
import type { AgentLoad, AgentStatus, DrainRequest, JobState, ReplayRequest, Request, StartRequest, UploadRequest } from './messages.ts';
import { newId, parseAgentStatus, parseJobState, PROTOCOL_VERSION } from './messages.ts';
import type { PublishOptions } from './mqtt-link.ts';
import { DEFAULT_HANDOFF_TIMEOUTS } from './handoff-host.ts';
import type { AgentWatch, HandoffHost, HandoffTimeouts } from './handoff-host.ts';
import { OutgoingHandoff } from './handoff-source.ts';
import type { MigrationOptions, MigrationResult, Progress } from './handoff-source.ts';
import { IncomingHandoffs } from './handoff-target.ts';
import { JobBases } from './job-bases.ts';
import { JobRecords, MAX_JOB_RECORDS } from './job-records.ts';
import { memDirOptionsOf, withoutSeeds } from './mem-dir-seed.ts';
import { ModuleCache } from './module-cache.ts';
import { migrationTopic, moveTopic, publishMigration, publishMove } from './move-log.ts';
import type { LogEntry } from './output-log.ts';
import { DEFAULT_LOG_LIMIT, OutputLog } from './output-log.ts';
import { OwnerLease } from './owner-lease.ts';
import { Peer } from './peer.ts';
import { ReplicationSource } from './replication-source.ts';
import { DEFAULT_TAKEOVER_GRACE_MS, MISSED_HEARTBEATS, Standbys } from './standby.ts';
import type { StandbyHost } from './standby.ts';
import { StandbyLeases } from './standby-lease.ts';
import type { MessageSigner } from './signing.ts';
import { topics } from './topics.ts';
import { BlobReceiver, chunkBytesFor, DEFAULT_CHUNK_BYTES } from './transfer.ts';

export interface AgentOptions {
  name: string;
  connection: ConnectionOptions;
  /** Host directories jobs get, under their guest names (all of them, and nothing else). */
  dirs?: { host: string; guest: string }[];
  /** Execution tier for jobs that do not ask for one: `auto` (default: native where it runs), `native` or `interp`. */
  tier?: string;
  /** The fleet key or this agent's identity: every message must be signed (and everything sent is). */
  key?: MessageSigner;
  /**
   * Where the agent keeps what must survive its restarts (with a key: the replay guard's
   * high-water marks, replay-guard.ts). None: replays are refused within one run only.
   */
  stateDir?: string;
  log?: (line: string) => void;
  /** Heartbeat period (default 5 s). */
  heartbeatMs?: number;
  /** Bytes of output each job's log keeps. */
  logLimit?: number;
  /** Blob chunk size. */
  chunkBytes?: number;
  /** Finished jobs kept for `attach` and `ps` (default 100). */
  keepFinished?: number;
  /**
   * Fault injection for tests: `die-on-chunk:N` kills this process (SIGKILL) when chunk N
   * of an incoming handoff blob (a pre-copy round, or the final package) arrives.
   */
  fault?: string;
  /** Test-only fault point (`WASMIG_CRASH_AT`, see crash-points.ts): the agent kills or stops itself at that step of a handoff. */
  crashAt?: string;
  /** Handoff timeouts (defaults: {@link DEFAULT_HANDOFF_TIMEOUTS}). */
  timeouts?: Partial<HandoffTimeouts>;
  /**
   * How long the owner of a job this agent is a standby of may be gone before this agent
   * takes the job over (times the standby's rank plus one; default {@link DEFAULT_TAKEOVER_GRACE_MS}).
   */
  takeoverGraceMs?: number;
  /**
   * Linear memory a job may have here (default {@link DEFAULT_JOB_MEMORY_BYTES}); a job
   * asking for more is refused, one coming by migration that has more does not restore.
   */
  maxMemoryBytes?: number;
  /** The largest snapshot body (and blob) taken from the network (default: `maxMemoryBytes` plus 64 MiB). */
  maxSnapshotBytes?: number;
  /** What the agent advertises for placement: labels, `--max-jobs`, host signals (capacity.ts). */
  capacity?: CapacityOptions;
  /**
   * Loop resume clones made ahead per module, in a thread of the agent's (`clone-maker.ts`),
   * so that a job arriving by migration does not wait for its top frame's clone (default
   * 256; 0: none made ahead).
   */
  aheadClones?: number;
  /**
   * Records kept of jobs this agent no longer holds, per kind (where each went, its latest
   * state seen): the newest this many (default {@link MAX_JOB_RECORDS}); docs/protocol.md
   * says what forgetting an older one costs.
   */
  jobRecords?: number;
  /**
   * Called once a job has left this agent (its handoff committed, its worker stopped):
   * the moment a move's garbage is all there and nothing of the job is left to keep.
   * `wasmig agent` collects it there (`collectAfterMove`, README *Soak*); not called in
   * the middle of the handoff.
   */
  afterDeparture?: () => void;
}

/**
 * Each job's memory cap unless `--max-memory` says otherwise: 1 GiB. A fixed size, not a
 * share of this device's RAM, so that a job that runs on one agent of the fleet is never
 * refused by another for a default it did not choose; and a bound, so that one runaway
 * job (or a hostile snapshot) cannot take the whole device from the others: four such
 * jobs fit in the 4-8 GB of a typical edge gateway with room for a migration's copies.
 */
export const DEFAULT_JOB_MEMORY_BYTES = 1024 ** 3;


/** How long a stopping agent waits for the broker to take its offline status. */
const GOODBYE_WAIT_MS = 1000;

const FINAL = new Set(['exited', 'failed']);

/** Output the logs of finished jobs may hold together; the oldest jobs are forgotten past it. */
const FINISHED_LOG_BYTES = 64 * 1024 * 1024;

/**
 * `wasmig agent`: one device of the fleet. It announces itself (a retained status, a last
 * will saying offline, heartbeats with its load), runs jobs in slices, streams and logs
 * their output, and hands jobs over to other agents (migration.ts).
 */
export class Agent implements HandoffHost, StandbyHost, DrainHost {
  readonly name: string;
  /** Changes at every start: tells a restarted agent from the one before. */
  readonly instance = newId().slice(0, 12);
  readonly dirs: { host: string; guest: string }[];
  readonly tier: Tier;
  readonly jobs = new Map<string, Job>();
  /** Handoffs this agent receives. */
  readonly incoming = new IncomingHandoffs(this);
  /** Handoffs of this agent's jobs under way, by job id: one at a time per job. */
  readonly outgoing = new Map<string, OutgoingHandoff>();
  /** What this agent still holds of jobs that left it (for a move back). */
  readonly bases = new JobBases();
  /** Where jobs that left went (forwarding addresses for late requests), the newest {@link AgentOptions.jobRecords}. */
  readonly moved: JobRecords<{ to: string; epoch: number }>;
  readonly modules = new ModuleCache();
  readonly receiver: BlobReceiver;
  /** Linear memory a job may have here. */
  readonly maxMemoryBytes: number;
  /** The largest snapshot body this agent decodes. */
  readonly maxSnapshotBytes: number;
  /** The latest retained state seen for each job this agent holds (all kept) or held (the newest {@link AgentOptions.jobRecords}). */
  readonly observed: JobRecords<JobState>;
  /** Standby copies of other agents' replicated jobs. */
  readonly standbys = new Standbys(this);
  /** Replication of the replicated jobs this agent owns, by job id. */
  readonly replication = new Map<string, ReplicationSource>();
  readonly logLimit: number;
  readonly timeouts: HandoffTimeouts;
  readonly takeoverGraceMs: number;
  /** Test-only fault points (`WASMIG_CRASH_AT`): disarmed in production. */
  readonly crashPoints: CrashPoints;
  /** Labels, job limit, draining flag and host signals, sent in every heartbeat. */
  readonly capacity: Capacity;
  peer!: Peer;
  /** The drain under way, once one started (a second request joins it). */
  #drain: { drain: Drain; report: Promise<DrainReport> } | undefined;
  /** Called when a `drain` request starts a drain: the process stops once it ends. */
  #onDrainRequest: ((why: string) => void) | undefined;
  readonly #options: AgentOptions;
  readonly #load = new LoadMeter();
  readonly #jobWatches = new Map<string, Promise<() => void>>();
  /** Worker threads booted ahead of the jobs that will run in them. */
  readonly #workers = new JobRunnerPool();
  /** Makes the resume clones of each module's loops ahead (see `clone-maker.ts`). */
  readonly cloneMaker: CloneMaker;
  /** Jobs whose worker is instantiating the program. */
  readonly #starting = new Set<string>();
  /** Aborted (and replaced) whenever the broker connection drops: handoffs before their commit give up at once. */
  #brokerSession = new AbortController();
  #heartbeat: NodeJS.Timeout | undefined;
  /** With identities: the output keys of the jobs this agent owns (output-keys.ts). */
  get #outputKeys(): OutputKeys | undefined {
    const key = this.#options.key;
    if (!key?.sealerFor || key.cipher) return undefined;
    return (this.#keysOfOutput ??= new OutputKeys());
  }
  #keysOfOutput: OutputKeys | undefined;
  #lease: OwnerLease | undefined;
  /**
   * Every standby's confirmation of this agent's lease on each replicated job: what
   * pauses a job whose standby may count this agent gone by its missed heartbeats (a
   * bridge outage), as the broker lease does for its last will.
   */
  readonly standbyLeases: StandbyLeases;
  /** Replicated jobs paused because the lease ran out: they run again only once their retained state says they are still ours. */
  readonly #selfFenced = new Set<string>();
  #stopping = false;
  #since = new Date().toISOString();

  private constructor(options: AgentOptions) {
    this.#options = options;
    this.name = checkName(options.name, 'agent name');
    const tier = options.tier ?? 'auto';
    if (tier !== 'interp' && tier !== 'native' && tier !== 'auto') throw new UsageError(`--tier ${tier}: expected interp, native or auto`);
    this.tier = tier;
    const guests = new Set<string>();
    this.dirs = (options.dirs ?? []).map(({ host, guest }) => {
      let real: string;
      try {
        real = realpathSync(host);
        if (!statSync(real).isDirectory()) throw new Error('not a directory');
      } catch (error) {
        throw new UsageError(`--dir ${host}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}`);
      }
      if (guests.has(guest)) throw new UsageError(`--dir: two directories are named ${JSON.stringify(guest)} for jobs`);
      guests.add(guest);
      return { host: real, guest };
    });
    this.logLimit = options.logLimit ?? DEFAULT_LOG_LIMIT;
    this.cloneMaker = new CloneMaker((sha, clones) => this.#keepModuleClones(sha, clones), options.aheadClones ?? DEFAULT_AHEAD_CLONES);
    this.maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_JOB_MEMORY_BYTES;
    this.maxSnapshotBytes = options.maxSnapshotBytes ?? snapshotLimitFor(this.maxMemoryBytes);
    // A blob is a module, a round's deltas or the final package: at most a snapshot's worth
    // compressed in the worst case (1/255 larger), plus the output log that travels with it.
    this.receiver = new BlobReceiver(this.maxSnapshotBytes + Math.ceil(this.maxSnapshotBytes / 255) + this.logLimit + 1024 * 1024);
    this.timeouts = { ...DEFAULT_HANDOFF_TIMEOUTS, ...options.timeouts };
    this.takeoverGraceMs = options.takeoverGraceMs ?? DEFAULT_TAKEOVER_GRACE_MS;
    this.crashPoints = new CrashPoints(options.crashAt, (line) => this.log(line));
    this.capacity = new Capacity(options.capacity ?? {});
    this.moved = new JobRecords(options.jobRecords ?? MAX_JOB_RECORDS);
    // A job held here, being received or kept as a standby keeps its record whatever the bound.
    this.observed = new JobRecords(options.jobRecords ?? MAX_JOB_RECORDS, (id) => this.jobs.has(id) || this.incoming.has(id) || this.standbys.has(id));
    // Half of what a standby waits after the last heartbeat (or lease request) it heard:
    // 3 of this agent's heartbeat periods, then the grace (standby-lease.ts).
    this.standbyLeases = new StandbyLeases(() => this.peer, (MISSED_HEARTBEATS * (options.heartbeatMs ?? 5000) + this.takeoverGraceMs) / 2, {
      copyOf: (id) => {
        const job = this.replication.has(id) ? this.jobs.get(id) : undefined;
        return job && { epoch: job.epoch, published: job.publishedEpoch === job.epoch };
      },
      onLost: (id, standby) => this.#pauseUnleased(id, `standby ${standby} has not confirmed this agent's lease on it within ${this.standbyLeases.windowMs / 1000} s (or not yet, for a job new here); paused until it does, as it may take the job over`),
      onRenewed: (id) => { if (!this.#lease?.lost && this.#selfFenced.has(id)) void this.#recheck(id); },
      onNewer: (id, epoch, agent) => {
        const job = this.jobs.get(id);
        this.#selfFenced.delete(id);
        if (job) this.#stopCopy(job, { epoch, agent });
      },
    });
  }

  /** Connects and announces the agent; resolves once it is online. */
  static async start(options: AgentOptions): Promise<Agent> {
    // Before the constructor, which boots a spare worker thread.
    if (options.key?.name !== undefined && options.key.name !== options.name) throw new UsageError(`--identity is ${options.key.name}'s: agent ${options.name} needs its own (wasmig fleet add ${options.name} --roles run)`);
    const agent = new Agent(options);
    try {
      await agent.#connect();
    } catch (error) {
      // A start that fails (an unusable state dir, a broker that refuses) leaves no worker
      // thread or connection behind to keep the process alive.
      agent.#workers.close();
      agent.cloneMaker.close();
      if ((agent.peer as Peer | undefined) !== undefined) await agent.peer.close(true).catch(() => {});
      throw error;
    }
    return agent;
  }

  log(line: string): void {
    (this.#options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`agent ${this.name}: ${line}`);
  }

  /** Aborted the next time this agent loses the broker (see {@link HandoffHost.brokerSession}). */
  get brokerSession(): AbortSignal {
    return this.#brokerSession.signal;
  }

  get chunkBytes(): number {
    return chunkBytesFor(this.peer.link, this.#options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  }

  async #connect(): Promise<void> {
    // The last will is signed now, when it is set (the broker publishes it as it is): a
    // peer with a key believes only signed statuses (presence-check.ts).
    const will: AgentStatus = { v: PROTOCOL_VERSION, agent: this.name, instance: this.instance, online: false, ts: Date.now() };
    const offline = this.#options.key ? this.#options.key.sign(will) : will;
    this.receiver.onChunk = (_transfer, index, count, what) => {
      if (what.startsWith('pre-copy round') || what === 'final handoff package') this.crashPoints.chunk('target', index, count, what === 'final handoff package');
      const fault = /^die-on-chunk:(\d+)$/.exec(this.#options.fault ?? '');
      if (fault && (what.startsWith('pre-copy round') || what === 'final handoff package') && index + 1 >= Number(fault[1])) {
        this.log(`fault injection: dying at chunk ${index + 1} of ${count}`);
        process.kill(process.pid, 'SIGKILL');
      }
    };
    this.peer = await Peer.open({
      connection: this.#options.connection,
      id: this.name,
      inbox: topics.agentInbox(this.name),
      key: this.#options.key,
      replayStore: this.#options.stateDir === undefined ? undefined : join(this.#options.stateDir, 'replay-guard.json'),
      will: { topic: topics.agentStatus(this.name), payload: Buffer.from(JSON.stringify(offline)), retain: true },
      persistent: true,
      onRequest: (request) => this.#onRequest(request),
      onRefusedPresence: (topic) => { if (topic === topics.agentStatus(this.name)) this.#reclaimStatus('the broker held a status of this agent that it did not sign (forged or replayed)'); },
      onConnect: (info) => { if (!info.first) this.#reconnected(); },
      // Online again only once requests reach this agent (see the option).
      onInboxReady: () => { void this.#announce().catch((error: unknown) => this.log(`could not announce this agent again: ${errorText(error)}`)); },
      onDisconnect: () => {
        this.#brokerSession.abort(new WasmigError('ERR_BROKER', `agent ${this.name} lost the broker`));
        this.#brokerSession = new AbortController();
        if (!this.#stopping) this.log('lost the broker; reconnecting (jobs go on)');
      },
      log: (line) => this.log(line),
    });
    const opener = this.#options.key?.opener;
    if (opener) this.receiver.sealed = { topic: topics.agentData(this.name), cipher: opener };
    await this.peer.listen([topics.agentData(this.name)], (_topic, payload) => {
      const why = this.receiver.accept(payload);
      if (why) this.log(`dropped a blob chunk: ${why}`);
    });
    // The authority's revocation list, retained on the broker (`wasmig fleet revoke
    // --broker`): subscribed before the agent announces itself, so that a device revoked
    // there is refused from the first request on (the retained list comes with the subscription).
    const signer = this.#options.key;
    if (signer?.offerRevocations) {
      await this.peer.listen([topics.fleetRevoked], (_topic, payload) => {
        if (payload.length === 0) return; // cleared: the list in force stays
        const line = signer.offerRevocations!(payload.toString());
        if (line !== undefined) this.log(line);
      });
    }
    const previous = await this.watchAgent(this.name);
    const before = previous.status();
    previous.close();
    if (before?.online && before.instance !== this.instance) {
      this.log(`warning: the broker says another agent named ${this.name} is online (pid ${before.pid ?? '?'} on ${before.host ?? '?'}); if it still runs, stop one of them`);
    }
    await this.#announce();
    // A retained topic keeps one message: one the agent did not publish (cleared, forged,
    // an old one replayed) replaces its status for every later reader until it is put back.
    await this.peer.listen([topics.agentStatus(this.name)], (_topic, payload) => {
      const s = parseAgentStatus(payload);
      if (!s || s.instance !== this.instance || !s.online) this.#reclaimStatus();
    });
    await this.#sweepLostJobs();
    this.#lease = new OwnerLease(this.peer, this.takeoverGraceMs / 2, MISSED_HEARTBEATS * (this.#options.heartbeatMs ?? 5000), {
      active: () => this.replication.size > 0,
      onLost: () => this.#leaseLost(),
      onRenewed: () => { for (const id of [...this.#selfFenced]) if (this.standbyLeases.check(id)) void this.#recheck(id); },
    });
    this.#lease.start();
    this.standbyLeases.start();
    this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatMs ?? 5000);
    this.#heartbeat.unref();
    this.#beat();
    const dirs = this.dirs.length ? this.dirs.map((d) => d.guest).join(', ') : 'none';
    this.log(`online at ${displayUrl(this.#options.connection.url)} (MQTT ${this.peer.link.version}; dirs: ${dirs}; ${this.#options.key ? 'signed messages only' : 'no fleet key: unsigned messages accepted'})`);
  }

  /**
   * Publishes this agent's status again (at most once a second) when the broker holds
   * another: `why` is logged (a forgery); a cleared or earlier instance's status, which
   * may also be the broker's copy from just before this start, is put right quietly.
   */
  #reclaimStatus(why?: string): void {
    if (this.#stopping || !this.peer.link.connected) return;
    const now = Date.now();
    if (now - this.#reclaimedAt < 1000) return;
    this.#reclaimedAt = now;
    if (why) this.log(`${why}: publishing its own again`);
    void this.#announceStatus().catch((error: unknown) => this.log(`could not publish this agent's status again: ${errorText(error)}`));
  }

  #reclaimedAt = 0;

  #reconnected(): void {
    this.log(`reconnected to the broker; ${this.jobs.size} job(s) here`);
    // A source that saw this agent's last will meanwhile gave up on its handoff and runs
    // the job on (at a newer epoch when in doubt): a commit that comes now must find nothing.
    if (this.incoming.size) {
      this.log(`dropped ${this.incoming.size} job(s) being received: their sources may have given up on this agent while it was away`);
      this.incoming.dropAll();
    }
    // Its status and jobs' states are published again once its inbox is subscribed (`onInboxReady`).
  }

  /** Publishes the retained status and every job's state (a restarted broker forgot them). */
  async #announce(): Promise<void> {
    await this.#announceStatus();
    // A self-fenced job's state waits for its check: a standby may own the job now.
    for (const job of this.jobs.values()) if (!this.#selfFenced.has(job.id)) this.publishState(job);
  }

  /** Publishes the retained online status, signed when the fleet signs. */
  async #announceStatus(): Promise<void> {
    const status: AgentStatus = {
      v: PROTOCOL_VERSION, agent: this.name, instance: this.instance, online: true, host: hostname(), pid: process.pid, tier: this.tier,
      dirs: this.dirs.map((d) => d.guest), mqtt: this.peer.link.version, signed: this.peer.signed, since: this.#since, ts: Date.now(),
    };
    await this.peer.link.publish(topics.agentStatus(this.name), JSON.stringify(this.peer.signDocument(status)), { retain: true });
  }

  /**
   * The broker has not been heard within the lease: a standby may take the replicated
   * jobs over soon, so they stop here first (they stay, paused, until the lease is back).
   */
  #leaseLost(): void {
    for (const id of this.replication.keys()) {
      this.#pauseUnleased(id, `no word from the broker within the lease (${this.takeoverGraceMs / 2000} s); paused until it is back, as a standby may take the job over`);
    }
  }

  /** A replicated job's lease (the broker's, or a standby's confirmation) ran out: it pauses here until the lease is back and checked. */
  #pauseUnleased(id: string, why: string): void {
    const job = this.jobs.get(id);
    if (!job || job.finished) return;
    // A migration of it gives up (before its pause; after, the job is paused already).
    this.outgoing.get(id)?.cancel('this agent lost its lease on the job');
    if (job.state !== 'running' || this.#selfFenced.has(id)) return;
    this.#selfFenced.add(id);
    this.log(`job ${id}: ${why}`);
    job.pause().catch(() => {}); // the job may end meanwhile (its worker closes, the pause is moot)
  }

  /** A replicated job does not run here while a lease on it is lost (a failed migration's resumption included). */
  #mayRun(job: Job): boolean {
    if (!job.spec.replicas || (!this.#lease?.lost && this.standbyLeases.check(job.id))) return true;
    if (this.jobs.get(job.id) === job) this.#selfFenced.add(job.id);
    return false;
  }

  /** The lease is back: a self-fenced job runs again if its retained state still names this copy; else it is fenced. */
  async #recheck(id: string): Promise<void> {
    let latest: JobState | undefined;
    try {
      const stop = await this.peer.listenRetained([topics.jobState(id)], (_t, payload) => {
        const s = parseJobState(payload);
        if (s && s.job === id && !this.peer.checkDocument(s) && supersedes(s, latest)) latest = s;
      });
      stop();
    } catch {
      return; // the next renewal tries again
    }
    const job = this.jobs.get(id);
    if (!this.#selfFenced.delete(id) || !job) return;
    if (latest && (latest.epoch > job.epoch || (latest.epoch === job.epoch && latest.agent > this.name))) {
      // Even while it was handing the job over: the newer copy is a takeover, not that handoff's commit.
      this.#stopCopy(job, latest);
      return;
    }
    if (job.finished) { this.#ended(job); return; }
    this.log(`job ${id}: the lease is back and the job is still this agent's (epoch ${job.epoch}); it runs again`);
    // 'running' too: the lease's pause may still be on its way (a loaded machine renewed the
    // lease first), and it would then leave the job paused for good; a run sent after it wins.
    if (job.state === 'paused' || job.state === 'running') void job.run();
    this.publishState(job);
  }

  /** Marks jobs an earlier run of this agent left behind as failed: they died with it. */
  async #sweepLostJobs(): Promise<void> {
    const seen: JobState[] = [];
    const stop = await this.peer.listenRetained([topics.allJobStates], (_topic, payload) => {
      const s = parseJobState(payload);
      if (s) seen.push(s);
    });
    stop();
    for (const s of seen) {
      if (s.agent !== this.name || s.instance === this.instance || FINAL.has(s.state)) continue;
      const lost: JobState = { ...s, instance: this.instance, state: 'failed', status: 1, error: `agent ${this.name} restarted; the job was lost with it`, updatedAt: new Date().toISOString(), sig: undefined };
      delete lost.sig;
      delete lost.target;
      this.log(`job ${s.job} was lost when this agent last stopped; marking it failed`);
      await this.#publish(topics.jobState(s.job), JSON.stringify(this.peer.signDocument(lost)), { retain: true }, `the failed state of lost job ${s.job}`);
    }
  }

  #beat(): void {
    if (!this.peer.link.connected) return;
    const period = this.#options.heartbeatMs ?? 5000;
    const jobs = [...this.jobs.values()].filter((j) => !j.finished);
    const sample = this.#load.sample();
    const load: AgentLoad = {
      v: PROTOCOL_VERSION, agent: this.name, instance: this.instance, at: new Date().toISOString(), ts: Date.now(), ...sample,
      jobs: jobs.length, running: jobs.filter((j) => j.state === 'running').length, heartbeatMs: period, ...this.capacity.fields(sample.cpu, (line) => this.log(line)),
    };
    this.#lease?.heartbeatSent();
    void this.#publish(topics.agentLoad(this.name), JSON.stringify(this.peer.signDocument(load)), { qos: 0, retain: true, expirySeconds: Math.ceil((3 * period) / 1000) }, 'the heartbeat');
  }

  #onJobState(id: string, payload: Buffer): void {
    // A handoff from here is under way: the target's new state comes right behind its
    // answer to the final, often in the same read from the broker, and MQTT.js hands the
    // second packet over on the next tick, before the handoff's code awaiting the answer
    // runs. Checked then (an Ed25519 signature and certificate with identities), it sat
    // in the job's downtime (0.3-0.6 ms); a turn of the event loop later it does not,
    // and nothing here needs it sooner (the handoff decides by the answer, not by states).
    if (this.jobs.get(id)?.state === 'migrating') { setImmediate(() => this.#checkJobState(id, payload)); return; }
    this.#checkJobState(id, payload);
  }

  #checkJobState(id: string, payload: Buffer): void {
    const s = parseJobState(payload);
    if (!s || s.job !== id) return;
    const why = this.peer.checkDocument(s);
    if (why) {
      // The broker now holds the forgery as the job's state: ours goes again, so that ps and followers see the owner.
      const held = this.jobs.get(s.job);
      this.log(`ignored the state of job ${s.job} published as ${s.agent}'s: ${why}${held ? '; published this copy\'s state again' : ''}`);
      if (held) void this.publishState(held);
      return;
    }
    // A replayed or late older state never lowers what is known: that would un-fence it.
    if (supersedes(s, this.observed.get(s.job))) this.observed.set(s.job, s);
    this.#fence(s);
  }

  /**
   * A newer epoch of one of our jobs exists: this copy, or the restored one waiting for a
   * commit, is stale and goes. An older one overwrote the retained state: ours goes again.
   */
  #fence(s: JobState): void {
    const job = this.jobs.get(s.job);
    const verdict = judgeJobState(s, this, {
      held: job && { epoch: job.epoch, finished: job.finished, migratingTo: job.state === 'migrating' ? job.target : undefined },
      incomingEpoch: this.incoming.epochOf(s.job),
    });
    if (verdict.dropIncoming) this.incoming.overtaken(s.job, `epoch ${s.epoch} exists on ${s.agent}`);
    if (verdict.reassert && job) {
      this.log(`job ${job.id}: the broker showed an older epoch (${s.epoch} on ${s.agent}); published this copy's (epoch ${job.epoch}) again`);
      this.publishState(job);
    }
    if (!verdict.stop || !job) return;
    this.#stopCopy(job, s);
  }

  /** A newer copy of `job` runs elsewhere (`s`): this one stops and is forgotten here. */
  #stopCopy(job: Job, s: Pick<JobState, 'agent' | 'epoch'>): void {
    const handoff = this.outgoing.get(job.id);
    this.log(stopCopyNote(job, s, handoff?.pausedForFinal ? handoff.target : undefined));
    this.outgoing.get(job.id)?.cancel(`a newer copy runs on ${s.agent}`);
    job.discard();
    this.#stopReplicating(job.id);
    this.jobs.delete(job.id);
    this.moved.set(job.id, { to: s.agent, epoch: s.epoch });
    this.unwatchJob(job.id);
  }

  #onRequest(request: Request): void {
    if (this.#stopping) { this.peer.reply(request, { ok: false, code: 'stopping', message: `agent ${this.name} is stopping` }); return; }
    const fail = (error: unknown): void => {
      const message = error instanceof WasmigError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
      if (!(error instanceof WasmigError)) this.log(`${request.type} request failed: ${(error as Error)?.stack ?? String(error)}`);
      this.peer.reply(request, { ok: false, code: (error as WasmigError).code ?? 'error', message });
    };
    try {
      switch (request.type) {
        case 'start': this.#start(request); break;
        case 'upload': this.#upload(request); break;
        case 'replay': this.#replay(request); break;
        case 'migrate': {
          if (!this.jobs.has(request.job)) { this.#notHere(request, request.job); break; }
          let last = 0;
          const progress = (fields: Progress): void => {
            // At most ten reports a second (a 64 MiB transfer has 256 chunks).
            const now = Date.now();
            if ((fields.phase === 'transfer' || fields.phase === 'round') && fields.sent !== fields.total && now - last < 100) return;
            last = now;
            void this.peer.reply(request, { ok: true, stage: 'progress', data: { ...fields } });
          };
          const reason = request.reason === undefined ? undefined : `${request.reason} (asked by ${request.from})`;
          this.moveJob(request.job, request.to, { mode: request.mode, maxDowntimeMs: request.maxDowntimeMs, deadlineMs: request.deadlineMs, reason }, progress)
            .then((result) => this.peer.reply(request, { ok: true, data: { ...result } }), fail);
          break;
        }
        case 'drain': this.#drainRequested(request); break;
        case 'stop': {
          const job = this.jobs.get(request.job);
          if (!job) { this.#notHere(request, request.job); break; }
          // A handoff under way would commit a copy of the job elsewhere: stop it there, after.
          const under = this.outgoing.get(job.id);
          if (under) { this.peer.reply(request, { ok: false, code: 'busy', message: `job ${job.id} is being moved to ${under.target}: stop it once it is there, or cancel the move` }); break; }
          if (job.finished) { this.peer.reply(request, { ok: false, code: 'ended', message: `job ${job.id} has ${job.state} already` }); break; }
          this.log(`job ${job.id}: stopped (asked by ${request.from})`);
          job.stop(`stopped by ${request.from}`);
          this.peer.reply(request, { ok: true, data: { status: job.status } });
          break;
        }
        case 'cancel': {
          const handoff = this.outgoing.get(request.job);
          if (!handoff) { this.peer.reply(request, { ok: false, code: 'unknown', message: `no migration of job ${request.job} is under way at ${this.name}` }); break; }
          handoff.cancel(`asked by ${request.from}`);
          this.peer.reply(request, { ok: true });
          break;
        }
        case 'prepare': {
          // A draining or full agent takes no job by migration either (standbys still take theirs over).
          const refusal = this.#refusal();
          if (refusal) { this.peer.reply(request, { ok: false, code: 'refused', message: refusal }); break; }
          void this.incoming.prepare(request);
          break;
        }
        case 'round': case 'final': void this.incoming.receive(request); break;
        case 'commit': this.incoming.commit(request); break;
        case 'abort': this.incoming.abort(request); break;
        case 'standby': this.standbys.enlist(request); break;
        case 'checkpoint': void this.standbys.checkpoint(request); break;
        case 'release': this.standbys.release(request); break;
        case 'lease': this.standbys.lease(request); break;
      }
    } catch (error) {
      fail(error);
    }
  }

  /** Why this agent takes no new job now (draining, or at `--max-jobs`), or undefined. */
  #refusal(): string | undefined {
    const unfinished = [...this.jobs.values()].filter((j) => !j.finished).length + this.#starting.size + this.incoming.size;
    return this.capacity.refusal(this.name, unfinished);
  }

  /**
   * Moves a job of this agent to `to` through the handoff, one move at a time per job:
   * throws `ERR_BUSY` at once (before any await, so two requests in one tick cannot both
   * pass) while another is under way. A move with a `reason` (a drain's, a scheduler's)
   * is logged with it and recorded for `ps`.
   */
  moveJob(id: string, to: string, options: MigrationOptions & { reason?: string }, progress: (p: Progress) => void = () => {}): Promise<MigrationResult> {
    const job = this.jobs.get(id);
    if (!job) throw new WasmigError('ERR_UNKNOWN', `agent ${this.name} has no job ${id}`);
    // A takeover may be under way elsewhere: a handoff from here could reuse its epoch.
    if (this.#selfFenced.has(job.id)) throw new WasmigError('ERR_BUSY', `job ${job.id} is paused: agent ${this.name} lost its lease on it (no word from the broker) and has not checked yet whether a standby took it over`);
    const under = this.outgoing.get(job.id);
    if (under) throw new WasmigError('ERR_BUSY', `job ${job.id} is already being moved to ${under.target}; wait for that migration to end, or cancel it (wasmig migrate ${job.id} --cancel)`);
    const { reason, ...migration } = options;
    const handoff = new OutgoingHandoff(this, job, to, migration, progress);
    this.outgoing.set(job.id, handoff);
    if (reason) this.log(`job ${id}: moving it to ${to}: ${reason}`);
    return handoff.run()
      .finally(() => { if (this.outgoing.get(job.id) === handoff) this.outgoing.delete(job.id); })
      .then((result) => {
        const at = new Date().toISOString();
        if (reason) void publishMove(this.peer, { job: id, from: this.name, to, epoch: result.epoch, reason, at }).catch((error: unknown) => this.log(`job ${id}: the record of its move not published: ${errorText(error)}`));
        const { epoch, mode, rounds, downtimeMs, totalMs, bytesSent } = result;
        // Every move's numbers, for the dashboard's chart (a move from the CLI too), after the commit: never on the pause.
        void publishMigration(this.peer, { job: id, from: this.name, to, epoch, mode, rounds, downtimeMs, totalMs, bytesSent, at })
          .catch((error: unknown) => this.log(`job ${id}: the report of its move not published: ${errorText(error)}`));
        return result;
      });
  }

  cancelMove(id: string, reason: string): void {
    this.outgoing.get(id)?.cancel(reason);
  }

  drainable(): Job[] {
    return [...this.jobs.values()].filter((j) => !j.finished);
  }

  standbysOf(id: string): readonly string[] | undefined {
    return this.replication.get(id)?.standbys;
  }

  owns(job: Job): boolean {
    return this.jobs.get(job.id) === job;
  }

  receiving(): number {
    return this.incoming.size;
  }

  /**
   * Moves every job to other agents (drain.ts) and takes no new one; resolves with what
   * became of each. A second call joins the drain under way. The agent keeps running:
   * the caller stops it (`stop`, with the report's jobs left to standbys).
   */
  drain(why: string, timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): Promise<DrainReport> {
    if (this.#drain) return this.#drain.report;
    this.capacity.draining = true;
    this.#beat(); // the fleet stops choosing this agent now, not at the next heartbeat
    const drain = new Drain(this, why, timeoutMs);
    const count = this.drainable().length;
    this.log(`draining (${why}): moving ${count} job(s) to other agents within ${Math.round(timeoutMs / 1000)} s; a second SIGTERM or SIGINT stops at once`);
    const report = drain.run().then((r) => {
      for (const line of describeDrain(r, this.name)) this.log(line);
      return r;
    });
    this.#drain = { drain, report };
    return report;
  }

  /** Gives up the drain under way: moves before their pause are cancelled; resolves with its report. */
  async stopDrainNow(): Promise<DrainReport | undefined> {
    if (!this.#drain) return undefined;
    this.#drain.drain.stopNow();
    return this.#drain.report;
  }

  /** Calls `fn` when a `drain` request (wasmig agent drain) has started a drain: the process should stop once it ends. */
  onDrainRequest(fn: (why: string) => void): void {
    this.#onDrainRequest = fn;
  }

  #drainRequested(request: DrainRequest): void {
    const first = !this.#drain;
    const why = `asked by ${request.from}`;
    const report = this.drain(why, request.timeoutMs);
    // The answer is published before whoever stops the agent hears of the end (then-callbacks run in order).
    report.then((r) => this.peer.reply(request, { ok: true, data: { ...r, lines: describeDrain(r, this.name) } }), () => {});
    if (first) this.#onDrainRequest?.(why);
  }

  #notHere(request: Request, jobId: string): void {
    const moved = this.moved.get(jobId);
    if (moved) this.peer.reply(request, { ok: false, code: 'moved', message: `job ${jobId} moved to agent ${moved.to}`, data: { ...moved } });
    else this.peer.reply(request, { ok: false, code: 'unknown', message: `agent ${this.name} has no job ${jobId}` });
  }

  /** A fresh job (epoch 1) or a restored one: the job object with its hooks. */
  newJob(id: string, spec: StartRequest['spec'], epoch: number, log: OutputLog): Job {
    return new Job({
      id, spec, epoch, log, pool: this.#workers,
      hooks: {
        output: (job, entries) => this.#publishOutput(job, entries), end: (job) => this.#ended(job), mayRun: (job) => this.#mayRun(job),
        clones: (job, clones) => this.#keepClones(job.spec, clones),
      },
    });
  }

  #start(request: StartRequest): void {
    const { job: id, spec } = request;
    if (this.jobs.has(id) || this.incoming.has(id) || this.#starting.has(id)) throw new WasmigError('ERR_JOB_EXISTS', `agent ${this.name} already has a job ${id}`);
    // Before the module is asked for: a full agent must not make the client upload it first.
    const refusal = this.#refusal();
    if (refusal) throw new WasmigError(this.capacity.draining ? 'ERR_DRAINING' : 'ERR_FULL', refusal);
    const module = this.modules.bytes(spec.module.sha256);
    if (!module) {
      this.peer.reply(request, { ok: false, code: 'need-module', message: `agent ${this.name} does not have module ${spec.module.sha256.slice(0, 12)}...` });
      return;
    }
    // Checked before the job exists: a refusal (too much memory asked) must leave no worker
    // behind and no job id marked as starting.
    const setup = this.setupFor(spec, module);
    // The seeds of its in-memory directories are in the setup now: from here on its files
    // are in its WASI state, and the spec it keeps (sent with every move) goes without them.
    const kept = spec.memDirs === undefined ? spec : { ...spec, memDirs: withoutSeeds(spec.memDirs) };
    const job = this.newJob(id, kept, 1, new OutputLog(this.logLimit));
    job.stamps.startRequest = hopClockMs();
    this.#starting.add(id);
    job.start(setup, spec.args, spec.env).then(
      () => {
        this.#starting.delete(id);
        if (this.#stopping) { job.discard(); this.peer.reply(request, { ok: false, code: 'stopping', message: `agent ${this.name} is stopping` }); return; }
        this.jobs.set(id, job);
        job.state = 'running';
        this.publishState(job);
        this.watchJob(id);
        this.log(`started job ${id}: ${[spec.program, ...spec.args.slice(1)].join(' ')} (for ${request.from})`);
        this.#replicate(job, 0, []);
        // The answer is written out, then the job runs at once (not after the broker's
        // acknowledgement): its output and its end are logged and replayed to whoever follows it.
        void this.peer.reply(request, { ok: true, data: { job: id, agent: this.name, epoch: job.epoch } });
        void job.run();
      },
      (error: unknown) => {
        this.#starting.delete(id);
        job.discard();
        const message = error instanceof WasmigError ? error.message : `internal error: ${(error as Error)?.message ?? String(error)}`;
        this.peer.reply(request, { ok: false, code: (error as WasmigError).code ?? 'error', message });
      },
    );
  }

  /** What a job's worker needs to instantiate the program: the module, this agent's directories, the tier. */
  setupFor(spec: StartRequest['spec'], module = this.modules.bytes(spec.module.sha256)): ProgramSetup {
    if (!module) throw new WasmigError('ERR_MODULE', `module ${spec.module.sha256.slice(0, 12)}... is not in this agent's cache`);
    const asked = spec.maxMemoryBytes;
    if (asked !== undefined && asked > this.maxMemoryBytes) throw new WasmigError('ERR_TOO_LARGE', `the job asks for ${asked} bytes of memory, agent ${this.name} allows ${this.maxMemoryBytes} (wasmig agent --max-memory)`);
    // Files in memory take this agent's memory too: their bounds may not pass its cap either.
    const files = (spec.memDirs ?? []).reduce((n, d) => n + d.maxBytes, 0);
    if (files > this.maxMemoryBytes) throw new WasmigError('ERR_TOO_LARGE', `the job's in-memory directories may hold ${files} bytes of files, agent ${this.name} allows ${this.maxMemoryBytes} (wasmig agent --max-memory)`);
    const tier = spec.tier ?? this.tier;
    const native = tier === 'interp' ? undefined : this.#nativeRewrite(spec);
    if (native) this.cloneMaker.ask(spec.module.sha256, module, native);
    const clones = native ? defaultEngines.native.rewrites.clonesOf(this.modules.compiled(spec.module.sha256, spec.program)) : [];
    const memDirs = memDirOptionsOf(spec.memDirs);
    return { module, name: spec.program, preopens: this.dirs, ...(memDirs.length ? { memDirs } : {}), maxMemoryBytes: asked ?? this.maxMemoryBytes, tier, native, ...(clones.length ? { clones } : {}) };
  }

  /** Keeps resume clones a job's worker made, for the next jobs of its module here. */
  #keepClones(spec: StartRequest['spec'], clones: SharedClones): void {
    this.#keepModuleClones(spec.module.sha256, clones, spec.program);
  }

  /** Keeps resume clones of module `sha` (made by a job's worker, or ahead by the clone maker). */
  #keepModuleClones(sha: string, clones: SharedClones, name = sha.slice(0, 12)): void {
    if (clones.length === 0 || !this.modules.has(sha)) return;
    try {
      defaultEngines.native.rewrites.adoptClones(this.modules.compiled(sha, name), clones);
    } catch {
      // Only a cache: a module gone from the agent's cache takes its clones with it.
    }
  }

  get dirGuests(): string[] {
    return this.dirs.map((d) => d.guest);
  }

  knownEpoch(id: string): { epoch: number; agent: string } | undefined {
    const job = this.jobs.get(id);
    const candidates = [
      job && { epoch: job.epoch, agent: this.name },
      this.moved.get(id) && { epoch: this.moved.get(id)!.epoch, agent: this.moved.get(id)!.to },
      this.observed.get(id),
    ];
    let best: { epoch: number; agent: string } | undefined;
    for (const c of candidates) if (c && (!best || c.epoch > best.epoch || (c.epoch === best.epoch && c.agent > best.agent))) best = { epoch: c.epoch, agent: c.agent };
    return best;
  }

  observedState(job: string): JobState | undefined {
    return this.observed.get(job);
  }

  holds(id: string): string | undefined {
    const job = this.jobs.get(id);
    if (job && !job.finished) return `job ${id} already runs here (epoch ${job.epoch})`;
    if (this.incoming.has(id)) return `a handoff of job ${id} is already under way here`;
    if (this.#starting.has(id)) return `job ${id} is starting here`;
    return undefined;
  }

  committedHere(id: string, epoch: number): boolean {
    return committedHere(epoch, this.jobs.get(id), this.moved.get(id));
  }

  follow(id: string): void {
    this.watchJob(id);
  }

  adopt(job: Job, from: string): void {
    // Output the source held back stays held until this agent's standbys hold a checkpoint that covers it.
    this.#own(job, from, 0, this.observed.get(job.id)?.standbys ?? [], 'next-turn');
  }

  takeOver(job: Job, from: string, released: number, standbys: readonly string[]): Promise<void> {
    const published = this.#own(job, `a checkpoint of ${from}'s`, released, standbys);
    void job.run();
    return published;
  }

  /**
   * Makes `job` this agent's; resolves once its state is published (or its loss logged).
   * `stateWhen` 'next-turn': the state is made now and signed and published a turn of the
   * event loop later. A handoff's target adopts right after writing its answer to the final, and
   * MQTT.js sends what was written in one turn together at its end: signing the state
   * there (Ed25519 with identities) held the answer back, in the job's downtime.
   */
  #own(job: Job, from: string, released: number, standbys: readonly string[], stateWhen: 'now' | 'next-turn' = 'now'): Promise<void> {
    this.standbys.drop(job.id);
    this.jobs.set(job.id, job);
    this.moved.delete(job.id);
    job.state = 'running';
    this.#replicate(job, released, standbys.filter((n) => n !== this.name));
    const published = stateWhen === 'now' ? this.publishState(job) : this.#publishStateNextTurn(job);
    this.watchJob(job.id);
    this.log(`job ${job.id} now runs here (epoch ${job.epoch}, from ${from})`);
    return published;
  }

  dropIncoming(job: string, why: string): void {
    this.incoming.overtaken(job, why);
  }

  /** Keeps standbys of a replicated job (none for others); output up to `released` was visible before. */
  #replicate(job: Job, released: number, standbys: readonly string[]): void {
    if (!job.spec.replicas) return;
    this.#stopReplicating(job.id);
    const source = new ReplicationSource(this, job, released, standbys);
    this.replication.set(job.id, source);
    source.start();
  }

  #stopReplicating(id: string): void {
    this.replication.get(id)?.stop(false);
    this.replication.delete(id);
  }

  publishReleased(job: Job, from: number, to: number): void {
    if (!this.peer.link.connected || this.jobs.get(job.id) !== job) return; // clients ask for a replay later
    for (const e of job.log.since(from, to)) {
      this.peer.link.publish(topics.jobOut(job.id), this.#outputFrame(job, e), { qos: 1 }).catch(() => {});
    }
  }

  departed(job: Job, to: string, epoch: number): void {
    // The new owner keeps the standbys (it enlists them again at its epoch).
    this.#stopReplicating(job.id);
    job.discard();
    if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
    this.moved.set(job.id, { to, epoch });
    // Nothing here acts on its state any more (a move back follows it again from `prepare`):
    // kept, every job that ever passed through kept a subscription and its state's updates.
    this.unwatchJob(job.id);
    this.#options.afterDeparture?.();
  }

  #upload(request: UploadRequest): void {
    if (this.modules.has(request.sha256)) {
      this.peer.reply(request, { ok: true, data: { have: true } });
      return;
    }
    const bytes = this.receiver.expect(request.transfer, request, { idleMs: 15_000, what: 'module' });
    this.peer.reply(request, { ok: true, stage: 'ready' });
    bytes.then(
      (b) => {
        this.modules.put(request.sha256, b);
        this.log(`cached module ${request.sha256.slice(0, 12)}... (${b.length} bytes, from ${request.from})`);
        this.#warm(request.sha256);
        this.peer.reply(request, { ok: true });
      },
      (error: Error) => {
        this.log(`module upload from ${request.from} failed: ${error.message}`);
        this.peer.reply(request, { ok: false, code: 'transfer', message: error.message });
      },
    );
  }

  /**
   * Compiles a module just received, and rewrites it for the native tier, before the
   * upload is answered: a migration sends the module ahead of pausing its job, so this
   * work stays out of the downtime (a bad module is reported when a job uses it).
   */
  #warm(hash: string): void {
    try {
      const compiled = this.modules.compiled(hash, `module ${hash.slice(0, 12)}...`);
      defaultEngines.resolve(this.tier).prepare?.(compiled);
    } catch {
      // The job that names this module gets the error.
    }
  }

  /** The module's rewrite for the native tier, made here once (at its upload: `#warm`) for every job of it; none if it fails (the worker reports why). */
  #nativeRewrite(spec: StartRequest['spec']): ReadyModule | undefined {
    try {
      const native = defaultEngines.native;
      return native.rewrites.rewrite(this.modules.compiled(spec.module.sha256, spec.program), native.options.rewrite);
    } catch {
      return undefined;
    }
  }

  /** An output chunk as it goes on the wire: its data sealed with the fleet key, or (identities) the job's output key. */
  #outputFrame(job: Job, e: LogEntry): Buffer {
    const cipher = this.#options.key?.cipher ?? this.#outputKeys?.cipher(job.id, job.epoch);
    const data = cipher ? cipher.seal(outputContext(job.id, job.epoch, e.seq), e.data) : e.data;
    return encodeOutput({ job: job.id, epoch: job.epoch, seq: e.seq, stream: e.stream, data });
  }

  /**
   * With identities: the job's output key at its epoch, sealed to the follower that asked
   * for a replay (its certificate's X25519 key), for the output it reads on the job's
   * topic and its own. Any certified device may follow a job, as any may read `ps`.
   */
  #outputKeyFor(job: Job, request: ReplayRequest): { outputKey?: { epoch: number; sealed: string } } {
    const keys = this.#outputKeys;
    const follower = request.cert?.name;
    if (!keys || typeof follower !== 'string') return {};
    const sealer = this.#options.key?.sealerFor?.(follower);
    if (!sealer) return {};
    const sealed = sealer.seal(outputKeyContext(job.id, job.epoch, request.outTopic), keys.key(job.id, job.epoch));
    return { outputKey: { epoch: job.epoch, sealed: sealed.toString('base64') } };
  }

  #replay(request: ReplayRequest): void {
    if (!/^wasmig\/v1\/clients\/[A-Za-z0-9._~-]+\/out$/.test(request.outTopic)) throw new WasmigError('ERR_PROTOCOL', `replays go to a client's out topic, not ${request.outTopic}`);
    const job = this.jobs.get(request.job);
    if (!job) { this.#notHere(request, request.job); return; }
    const released = this.replication.get(job.id)?.commit.released ?? Infinity;
    const entries = job.log.since(request.fromSeq, released);
    const sends = entries.map((e) => this.peer.link.publish(request.outTopic, this.#outputFrame(job, e), { qos: 1 }));
    Promise.all(sends).then(
      () => this.peer.reply(request, { ok: true, data: { next: job.log.next, floor: job.log.floor, state: job.state, epoch: job.epoch, ...this.#outputKeyFor(job, request) } }),
      // Unanswered, the client asks again.
      (error: unknown) => this.log(`job ${job.id}: replay to ${request.from} failed: ${errorText(error)}`),
    );
  }

  #publishOutput(job: Job, entries: LogEntry[]): void {
    if (!this.peer.link.connected || this.jobs.get(job.id) !== job) return; // clients ask for a replay later
    // One line for the batch, not one per entry: clients replay what is missing from the job's log.
    let told = false;
    const lost = (error: unknown): void => {
      if (told) return;
      told = true;
      this.log(`job ${job.id}: output from seq ${entries[0].seq} not published (clients replay it): ${errorText(error)}`);
    };
    // A replicated job's output waits for the checkpoint that covers it (publishReleased).
    const commit = this.replication.get(job.id)?.commit;
    for (const e of commit ? commit.visible(entries) : entries) {
      this.peer.link.publish(topics.jobOut(job.id), this.#outputFrame(job, e), { qos: 1 }).catch(lost);
    }
  }

  #ended(job: Job): void {
    if (this.jobs.get(job.id) !== job) return;
    if (this.replication.has(job.id) && (!this.#lease?.valid || !this.standbyLeases.check(job.id))) {
      // It may have run on after a standby took over from an earlier point (a frozen
      // process resumes its job's thread before its timers): its output past the last
      // checkpoint, and its end, wait until the retained state says the job is still ours.
      this.#selfFenced.add(job.id);
      this.log(`job ${job.id} ended while this agent had no lease on it; its end and output wait for the lease`);
      return;
    }
    // Nothing runs this job again: all its output may be seen, and the standbys may go.
    this.replication.get(job.id)?.finish();
    this.replication.delete(job.id);
    this.publishState(job);
    this.log(`${job.state === 'exited' ? `job ${job.id} exited with status ${job.status}` : `job ${job.id} failed: ${job.error}`}${describeStartHops(job.stamps, hopClockMs())}`);
    // Finished jobs stay for `attach` and `ps`, within a count and a bound on their logs.
    const finished = [...this.jobs.values()].filter((j) => j.finished).sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
    const keep = this.#options.keepFinished ?? 100;
    let drop = Math.max(0, finished.length - keep);
    let kept = finished.slice(drop).reduce((n, j) => n + j.log.bytes, 0);
    while (drop < finished.length - 1 && kept > FINISHED_LOG_BYTES) kept -= finished[drop++].log.bytes;
    for (const old of finished.slice(0, drop)) {
      this.jobs.delete(old.id);
      this.unwatchJob(old.id);
      this.observed.delete(old.id);
      void this.#publish(topics.jobState(old.id), '', { retain: true }, `the removal of finished job ${old.id}'s state`);
      void this.#publish(moveTopic(old.id), '', { retain: true }, `the removal of finished job ${old.id}'s last move`);
      void this.#publish(migrationTopic(old.id), '', { retain: true }, `the removal of finished job ${old.id}'s last migration report`);
    }
  }

  /** Publishes a job's retained state (signed when the fleet has a key); not while the lease holds it paused. Resolves once the broker has it (a failure is logged, not thrown). */
  publishState(job: Job): Promise<void> {
    const s = this.#stateDocument(job);
    return s === undefined ? Promise.resolve() : this.#publishStateDocument(job, s);
  }

  /**
   * `publishState` a turn of the event loop later, with the state as it is now: signing it
   * now would hold back what this turn wrote (see `#own`). The state is decided now: a
   * replicated job new here fences itself in this same turn (its standby has not
   * confirmed the lease yet), after its state was due, as with `publishState`.
   */
  #publishStateNextTurn(job: Job): Promise<void> {
    const s = this.#stateDocument(job);
    if (s === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#publishStateDocument(job, s));
  }

  /** The job's state to publish now, or undefined when this copy is to say nothing. */
  #stateDocument(job: Job): JobState | undefined {
    // A standby may own the job now: this copy's word waits for #recheck.
    if (this.#selfFenced.has(job.id)) return undefined;
    // A copy no longer held here (fenced while its handoff was under way) says nothing: a
    // handoff that then gives up in doubt would publish it at a new epoch, over the copy
    // that fenced it.
    if (this.jobs.get(job.id) !== job) return undefined;
    const s: JobState = {
      v: PROTOCOL_VERSION, job: job.id, agent: this.name, instance: this.instance, epoch: job.epoch, state: job.state,
      program: job.spec.program, args: job.spec.args, startedAt: job.spec.startedAt, updatedAt: new Date().toISOString(),
    };
    if (job.finished) {
      s.endSeq = job.log.next;
      if (job.status !== undefined) s.status = job.status;
      if (job.error !== undefined) s.error = job.error;
    }
    if (job.state === 'migrating' && job.target) {
      s.target = job.target;
      s.targetEpoch = job.epochCounter;
    }
    const replication = this.replication.get(job.id);
    const standbys = replication?.standbys;
    if (standbys) s.standbys = standbys;
    if (replication?.checkpoint) s.checkpoint = replication.checkpoint;
    if (job.spec.placement) s.placement = job.spec.placement;
    return s;
  }

  #publishStateDocument(job: Job, s: JobState): Promise<void> {
    const signed = this.peer.signDocument(s);
    this.observed.set(job.id, signed);
    job.publishedEpoch = job.epoch;
    return this.#publish(topics.jobState(job.id), JSON.stringify(signed), { retain: true }, `job ${job.id}'s state (${job.state}, epoch ${job.epoch})`);
  }

  /**
   * Publishes best effort: a failure is logged with `what` was lost, and the agent goes on
   * (a state is published again on the next change and on reconnection).
   */
  #publish(topic: string, payload: string, options: PublishOptions, what: string): Promise<void> {
    return this.peer.link.publish(topic, payload, options).catch((error: unknown) => this.log(`${what} not published: ${errorText(error)}`));
  }

  /** Follows a job's retained state (to notice a newer copy elsewhere). */
  watchJob(id: string): void {
    if (this.#jobWatches.has(id)) return;
    const watch = this.peer.listen([topics.jobState(id)], (_topic, payload) => this.#onJobState(id, payload));
    watch.catch(() => { if (this.#jobWatches.get(id) === watch) this.#jobWatches.delete(id); });
    this.#jobWatches.set(id, watch);
  }

  unwatchJob(id: string): void {
    const watch = this.#jobWatches.get(id);
    this.#jobWatches.delete(id);
    watch?.then((stop) => stop(), () => {}); // a watch that failed was dropped by watchJob already
  }

  /** Follows another agent's status until `close`; resolves once its retained status (if any) is in. */
  async watchAgent(name: string): Promise<AgentWatch> {
    const controller = new AbortController();
    let status: AgentStatus | undefined;
    let first: AgentStatus | undefined;
    const stop = await this.peer.listenRetained([topics.agentStatus(name)], (_topic, payload) => {
      const s = parseAgentStatus(payload);
      if (!s) return;
      status = s;
      if (!first && s.online) { first = s; return; }
      if (!s.online || (first && s.instance !== first.instance)) controller.abort(new WasmigError('ERR_GONE', `agent ${name} went offline`));
    });
    return { status: () => status, gone: controller.signal, close: stop };
  }

  /**
   * Stops: running jobs are marked failed (they end with the agent), then goes offline.
   * Jobs in `leave` (replicated jobs a drain could not move) are dropped without a word:
   * their standbys take them over once this agent's offline status is out.
   */
  async stop(options: { leave?: ReadonlySet<string> } = {}): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#lease?.stop();
    this.standbyLeases.stop();
    this.incoming.dropAll();
    this.standbys.dropAll();
    for (const id of [...this.replication.keys()]) this.#stopReplicating(id);
    this.#workers.close();
    this.cloneMaker.close();
    for (const job of this.jobs.values()) {
      if (job.finished) continue;
      await job.pause();
      job.discard();
      if (options.leave?.has(job.id)) { this.log(`job ${job.id} is left to its standbys`); continue; }
      job.state = 'failed';
      job.status = 1;
      job.error = `agent ${this.name} stopped`;
      this.publishState(job);
      this.log(`job ${job.id} ends with the agent`);
    }
    const offline: AgentStatus = this.peer.signDocument({ v: PROTOCOL_VERSION, agent: this.name, instance: this.instance, online: false, ts: Date.now() });
    // Best effort: with the broker gone, MQTT.js would hold the goodbye in its queue (and
    // the agent with it) until a reconnection that may never come.
    const goodbye = this.#publish(topics.agentStatus(this.name), JSON.stringify(offline), { retain: true }, 'the offline status');
    await Promise.race([goodbye, new Promise((resolve) => setTimeout(resolve, GOODBYE_WAIT_MS).unref())]);
    await this.peer.close();
    this.log('offline');
  }
}
