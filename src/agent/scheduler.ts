import type { FleetAgent } from './fleet-agents.ts';
import { readAgents } from './fleet-agents.ts';
import { errorText } from './error-text.ts';
import type { JobState } from './messages.ts';
import { parseJobState } from './messages.ts';
import type { MoveRecord } from './move-log.ts';
import { readMoves } from './move-log.ts';
import type { Peer } from './peer.ts';
import { place } from './placement.ts';
import type { AgentRule, FollowRule, RuleSet } from './scheduler-rules.ts';
import { evaluate, followTarget } from './scheduler-rules.ts';
import { ROOT, topicName, topics } from './topics.ts';

/**
 * `wasmig scheduler`: looks at the fleet every `interval` and moves jobs when a rule says
 * so. It holds no job and no lock: every move is an ordinary `migrate` sent to the agent
 * the scheduler saw the job on, which refuses a second move of a job under way
 * (`ERR_BUSY`) and one of a job it no longer has. So any number of schedulers may run
 * with the same rules and a job still moves once per decision; the cool-down (every
 * scheduler reads each job's last move from the broker) keeps it from moving again.
 */

/** Retained host signals of an agent, published by anything (`{"battery": 12}`): merged over its --signal-file's. */
export const signalsTopic = (agent: string): string => `${ROOT}/agents/${agent}/signals`;
const ALL_SIGNALS = `${ROOT}/agents/+/signals`;

/** What one look at the fleet saw. */
export interface FleetLook {
  agents: FleetAgent[];
  /** Jobs that are running on an online agent (the ones a rule may move). */
  jobs: JobState[];
  /** Host signals by agent: its heartbeat's, overridden by its signals topic. */
  signals: Map<string, Record<string, string | number | boolean>>;
  /** Each job's last automatic move (move-log.ts). */
  moves: Map<string, MoveRecord>;
  /** The agent each follow topic names now. */
  follows: Map<string, string>;
}

/** A move a rule asks for. */
export interface PlannedMove {
  job: string;
  from: string;
  to: string;
  /** The job's epoch when the rule saw it. */
  epoch: number;
  rule: string;
  /** Why, for the log and `ps`: `rule busy: load 0.95 > 0.75 for 10 s`. */
  reason: string;
}

/**
 * The scheduler's decisions, with its memory (how long each condition has held, when
 * each job last moved): pure, given the looks, so that tests drive it with made-up fleets.
 */
export class Policy {
  readonly #rules: RuleSet;
  /** Since when each agent rule holds on each agent (`rule@agent`). */
  readonly #since = new Map<string, number>();
  /** Where each job was last seen, and since when it has been there. */
  readonly #seen = new Map<string, { agent: string; epoch: number; since: number }>();
  /** When this scheduler last asked to move each job (successfully or not). */
  readonly #attempted = new Map<string, number>();
  /** Notes already given, so that a situation is logged once, not at every look. */
  #lastNotes = new Set<string>();

  constructor(rules: RuleSet) {
    this.#rules = rules;
  }

  /** The moves the rules ask for now, and notes (each once while it lasts) on moves they want but cannot make. */
  decide(look: FleetLook, now: number): { moves: PlannedMove[]; notes: string[] } {
    const notes: string[] = [];
    const moves: PlannedMove[] = [];
    this.#track(look, now);
    const byName = new Map(look.agents.map((a) => [a.name, a]));
    const pending = new Map<string, number>();
    const planned = new Set<string>();
    const sources = new Set<string>();
    const plan = (m: PlannedMove): void => {
      moves.push(m);
      planned.add(m.job);
      sources.add(m.from);
      pending.set(m.to, (pending.get(m.to) ?? 0) + 1);
    };
    const movable = (j: JobState, rule: { jobs: RegExp }): boolean => rule.jobs.test(j.job) && !planned.has(j.job) && !this.#coolingDown(j, look, now);

    // Which agent rules hold where: an agent where any holds takes no job (so a job never moves onto a rule's trigger).
    const hot = new Set<string>();
    const triggered: { rule: AgentRule; agent: FleetAgent; reading: string; heldMs: number }[] = [];
    for (const rule of this.#rules.rules) {
      if (rule.kind === 'follow') continue;
      for (const agent of look.agents) {
        const key = `${rule.name}@${agent.name}`;
        const { holds, reading } = evaluate(rule, agent, look.signals.get(agent.name) ?? {});
        if (!holds) { this.#since.delete(key); continue; }
        hot.add(agent.name);
        const since = this.#since.get(key) ?? now;
        this.#since.set(key, since);
        if (now - since >= rule.forMs) triggered.push({ rule, agent, reading, heldMs: now - since });
      }
    }

    // Follow rules first: the user said where the job should be.
    for (const rule of this.#rules.rules) {
      if (rule.kind !== 'follow') continue;
      const to = look.follows.get(rule.topic);
      if (!to) continue;
      for (const job of look.jobs) {
        if (job.agent === to || !movable(job, rule)) continue;
        const why = this.#unfit(byName.get(to), pending);
        if (why) { notes.push(`rule ${rule.name}: job ${job.job} stays on ${job.agent}: ${to} ${why}`); continue; }
        plan({ job: job.job, from: job.agent, to, epoch: job.epoch, rule: rule.name, reason: `rule ${rule.name}: ${rule.topic} names ${to}` });
      }
    }

    // Agent rules: one job per agent per look, so that the next look sees what the move changed.
    for (const { rule, agent, reading, heldMs } of triggered) {
      if (sources.has(agent.name)) continue;
      const candidates = look.jobs.filter((j) => j.agent === agent.name && movable(j, rule)).sort((x, y) => (x.job < y.job ? -1 : 1));
      const job = candidates[0];
      if (!job) continue;
      const exclude = new Set([...hot, agent.name]);
      let to: string;
      try {
        to = place(look.agents, { labels: job.placement ?? {} }, { exclude, pending, dirs: agent.status.dirs ?? [] }).chosen.name;
      } catch (error) {
        notes.push(`rule ${rule.name} holds on ${agent.name} (${reading}), but job ${job.job} has nowhere to go: ${errorText(error)}`);
        continue;
      }
      const held = rule.forMs > 0 ? ` for ${Math.round(heldMs / 1000)} s` : '';
      plan({ job: job.job, from: agent.name, to, epoch: job.epoch, rule: rule.name, reason: `rule ${rule.name}: ${reading}${held} on ${agent.name}` });
    }
    const fresh = notes.filter((n) => !this.#lastNotes.has(n));
    this.#lastNotes = new Set(notes);
    return { moves, notes: fresh };
  }

  /**
   * Called once a planned move was asked for (whatever came of it): the job cools down,
   * and the rule that moved it must hold again for its whole `for` before it moves another
   * job off that agent (its heartbeats lag behind the move).
   */
  attempted(move: PlannedMove, now: number): void {
    this.#attempted.set(move.job, now);
    if (this.#since.has(`${move.rule}@${move.from}`)) this.#since.set(`${move.rule}@${move.from}`, now);
  }

  /** Notes where each job is; a job seen somewhere new starts its cool-down there. */
  #track(look: FleetLook, now: number): void {
    for (const job of look.jobs) {
      const seen = this.#seen.get(job.job);
      if (!seen) this.#seen.set(job.job, { agent: job.agent, epoch: job.epoch, since: -Infinity });
      else if (seen.agent !== job.agent || seen.epoch !== job.epoch) this.#seen.set(job.job, { agent: job.agent, epoch: job.epoch, since: now });
    }
  }

  /** A job that moved (seen moving, asked to by this scheduler, or recorded moving by anyone) within the cool-down stays. */
  #coolingDown(job: JobState, look: FleetLook, now: number): boolean {
    const cool = this.#rules.cooldownMs;
    if (now - (this.#seen.get(job.job)?.since ?? -Infinity) < cool) return true;
    if (now - (this.#attempted.get(job.job) ?? -Infinity) < cool) return true;
    const record = look.moves.get(job.job);
    return record !== undefined && record.to === job.agent && now - Date.parse(record.at) < cool;
  }

  /** Why `agent` cannot take a job now (undefined: it can). */
  #unfit(agent: FleetAgent | undefined, pending: ReadonlyMap<string, number>): string | undefined {
    if (!agent) return 'is not online';
    try {
      place([agent], { labels: {} }, { pending });
      return undefined;
    } catch (error) {
      return errorText(error).replace(/^no agent can take the job: of 1 agent, 1 /, 'is ');
    }
  }
}

/** What a look needs besides the rules: the peer to read and move through, and the follow topics heard so far. */
export interface SchedulerOptions {
  peer: Peer;
  rules: RuleSet;
  /** Names this scheduler in its log lines and the reasons it gives. */
  name: string;
  log: (line: string) => void;
  /** How long one move may take before the scheduler stops waiting for it (the move goes on). */
  moveTimeoutMs?: number;
}

const MOVE_TIMEOUT_MS = 600_000;

/** The scheduler's loop: look, decide, move, wait; until `stop`. */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #policy: Policy;
  readonly #follows = new Map<string, string>();
  #unfollow: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#policy = new Policy(options.rules);
  }

  /** Follows the rules' topics, then looks at the fleet every interval until `stop`. */
  async run(): Promise<void> {
    const { peer, rules } = this.#o;
    const followTopics = [...new Set(rules.rules.filter((r): r is FollowRule => r.kind === 'follow').map((r) => r.topic))];
    if (followTopics.length) {
      this.#unfollow = await peer.listen(followTopics, (topic, payload) => {
        const agent = followTarget(payload);
        if (agent === undefined) { if (payload.length) this.#o.log(`${topic}: ${JSON.stringify(payload.toString().slice(0, 80))} names no agent; ignored`); return; }
        if (this.#follows.get(topic) !== agent) this.#o.log(`${topic} names ${agent} now`);
        this.#follows.set(topic, agent);
      });
    }
    this.#o.log(`watching the fleet every ${rules.intervalMs / 1000} s with ${rules.rules.length} rule(s) (${rules.rules.map((r) => r.name).join(', ')}); cool-down ${rules.cooldownMs / 1000} s`);
    while (!this.#stopped) {
      try {
        await this.lookOnce();
      } catch (error) {
        if (!this.#stopped) this.#o.log(`could not look at the fleet: ${errorText(error)}`);
      }
      if (this.#stopped) break;
      await new Promise<void>((resolve) => { this.#wake = resolve; this.#timer = setTimeout(resolve, rules.intervalMs); });
    }
    this.#unfollow?.();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  /** One look: read the fleet, decide, make the moves (those off different agents at once). */
  async lookOnce(): Promise<void> {
    const look = await this.#look();
    const now = Date.now();
    const { moves, notes } = this.#policy.decide(look, now);
    for (const note of notes) this.#o.log(note);
    await Promise.all(moves.map(async (m) => {
      this.#policy.attempted(m, now);
      await this.#move(m);
      this.#policy.attempted(m, Date.now());
    }));
  }

  async #look(): Promise<FleetLook> {
    const peer = this.#o.peer;
    const [agents, states, topicSignals, moves] = await Promise.all([readAgents(peer), this.#retained(topics.allJobStates), this.#retained(ALL_SIGNALS), readMoves(peer)]);
    const online = new Map(agents.map((a) => [a.name, a]));
    const jobs: JobState[] = [];
    for (const [topic, payload] of states) {
      const s = parseJobState(payload);
      if (!s || topicName(topic, 'jobs', 'state') !== s.job || s.state !== 'running') continue;
      if (online.get(s.agent)?.status.instance === s.instance) jobs.push(s);
    }
    const signals = new Map<string, Record<string, string | number | boolean>>();
    for (const a of agents) signals.set(a.name, { ...a.advertised.signals });
    for (const [topic, payload] of topicSignals) {
      const name = topicName(topic, 'agents', 'signals');
      const mine = name === undefined ? undefined : signals.get(name);
      if (!mine || payload.length === 0 || payload.length > 4096) continue;
      try {
        const o: unknown = JSON.parse(payload.toString());
        if (typeof o !== 'object' || o === null || Array.isArray(o)) continue;
        for (const [k, v] of Object.entries(o)) if (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 256)) mine[k] = v;
      } catch {
        // Not JSON: no signal.
      }
    }
    return { agents, jobs, signals, moves, follows: new Map(this.#follows) };
  }

  async #retained(filter: string): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    const stop = await this.#o.peer.listenRetained([filter], (topic, payload) => { found.set(topic, payload); });
    stop();
    return found;
  }

  /** Asks the agent the job was seen on to move it: that agent's one-move-per-job rule makes two schedulers' asks one move. */
  async #move(m: PlannedMove): Promise<void> {
    const { peer, name, log } = this.#o;
    const reason = `${m.reason} (scheduler ${name})`;
    log(`moving job ${m.job} from ${m.from} to ${m.to}: ${m.reason}`);
    try {
      const r = await peer.request(topics.agentInbox(m.from), { type: 'migrate', job: m.job, to: m.to, reason }, { timeoutMs: this.#o.moveTimeoutMs ?? MOVE_TIMEOUT_MS, who: `agent ${m.from}` });
      if (!r.ok) { log(`job ${m.job} did not move: ${r.message ?? r.code}`); return; }
      log(`moved job ${m.job} from ${m.from} to ${m.to} (downtime ${String(r.data?.downtimeMs ?? '?')} ms): ${m.reason}`);
    } catch (error) {
      log(`job ${m.job} did not move: ${errorText(error)}`);
    }
  }
}
