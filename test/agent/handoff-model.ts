/**
 * A small model of the migration handoff (src/agent/handoff-source.ts, handoff-target.ts, agent.ts) as
 * state machines, and an exhaustive checker over every order of its steps: which message
 * is delivered next, when a timer fires, when an agent crashes, when the broker restarts
 * (losing what was on its way, perhaps bringing back an older retained state). See
 * docs/protocol.md, "One owner".
 *
 * What is modelled:
 * - three agents: S, which runs the job at epoch 1, and targets T1 and T2; two clients,
 *   one asking to move the job to T1, the other to T2 (ModelBounds says when they send);
 * - the network as MQTT QoS 1 gives it with clean sessions: one FIFO channel per
 *   publisher and receiver (a publisher's messages reach one subscriber in order, across
 *   topics); messages to a crashed agent are lost; a crashed agent's last will reaches
 *   every other agent after what it sent before. The broker routes a publish at once: a
 *   publish lost with its crashing publisher is the same as the crash coming just before
 *   it, which the checker also tries. Duplicated requests are not modelled: a peer acts
 *   on a message id once (peer.ts), so a duplicate does nothing;
 * - the job's retained state: a publish replaces it and reaches every agent following
 *   the job (Agent.watchJob) at that moment; a subscription gets the retained state first;
 * - timers: a target's restored copy may expire at any moment (IncomingHandoff.touch); a request
 *   times out only when its message or its answer was lost (a crash, a broker restart):
 *   an unanswered `prepare` resumes the job at the source; an unanswered `commit` is sent
 *   again while the target lives, and given up once it is dead (OutgoingHandoff#commit waits out the
 *   target's expiry, so no commit can still start a copy there), or at any moment when
 *   `waitOutTtl` is off (the code before: 5 tries of 3 s against a 60 s expiry);
 * - at most `crashes` crashes (S, T1 or T2, at any step) and `restarts` broker restarts.
 *
 * With `standby` (docs/protocol.md, "Replicas and failover"), T2 is also a standby of the
 * job: the agent that runs the job sends it checkpoints (their epoch and epoch counter);
 * it takes the job over when the owner its retained state names is gone (a last will)
 * and the grace period has passed, which the model takes as: nothing the gone owner sent
 * is still on its way, and nothing is on its way to the standby (what the timeouts
 * assume for a handoff's answers); and only from a checkpoint of the owner's epoch. With
 * `partitions`, an agent may be cut off from the broker while it lives on (its last will
 * fires, it sends and hears nothing) and come back later; with the `lease` rule it
 * pauses its copy before a standby can take over (OwnerLease: the pause comes before
 * the takeover in time), and when it is back it reads the retained state before running
 * it again (Agent#recheck).
 *
 * How the code's messages map to the model's: `prepare` and the pre-copy rounds are the
 * model's `prepare`; the answer `prepared` is its `ready` (the target holds a copy that a
 * final may start); the code's `final`, which commits, is the model's `commit` (the data
 * it carries is not modelled: a final that does not restore is the model's copy that
 * expired before its commit); the code's `commit`, asked again after a final nobody
 * answered, is the model's repeated commit (a target with no final drops its copy then,
 * which is the model's expiry).
 *
 * Not modelled: output and job completion (the job runs forever), agents that restart,
 * more than one job, message signing, the module upload, the pre-copy rounds (folded into
 * `prepare` and `ready`), more than one standby.
 *
 * Checked in every state: at most one copy runs; of two migrations sent to one agent, at
 * most one succeeds (a client that reads the state after a move asks the new owner, and
 * may rightly succeed too). In every state at rest (nothing left to deliver, no timer or
 * step pending): exactly one copy runs unless the job died with a crashed agent that held
 * it; the retained state names that copy (what `ps` shows); every client got an answer.
 */

/** Switches for the rules that keep one owner (all on: the code as it is). */
export interface ModelRules {
  /** Agent.outgoing, checked and set in Agent#onRequest before any await: one handoff per job at a time at the source. */
  guard: boolean;
  /**
   * Target-side fencing: follow the job from `prepare` (IncomingHandoffs.prepare), refuse a commit
   * below a seen epoch (IncomingHandoffs.commit), drop a restored copy a newer epoch overtook and
   * never let an older state lower the known epoch (Agent#onJobState, judgeJobState).
   */
  fence: boolean;
  /** OutgoingHandoff#commit: ask until the target's restored copy has expired before giving up. */
  waitOutTtl: boolean;
  /** judgeJobState's `reassert`: an owner publishes its state again over an older one. */
  reassert: boolean;
  /**
   * IncomingHandoffs.commit answers a repeated commit "committed" when the job is here at that
   * epoch or a later one, or left from here at a later one (committedHere); before, only
   * at that very epoch, and "unknown" otherwise, which let the source resume a second copy.
   */
  repeatCommit: boolean;
  /** compareCopies: at one epoch, the higher agent name owns the job (before: both ran on). */
  tieBreak: boolean;
  /** OwnerLease: a replicated job's owner cut off from the broker pauses it before a standby may take over. */
  lease?: boolean;
  /**
   * StandbyLeases: a replicated job runs only while its standby confirmed the owner's
   * lease (a `lease` request it answered, within the window that ends before the
   * standby could count the owner gone by missed heartbeats); a new owner's inherited
   * standby counts only once it answered. Off: the code before, where a bridge outage
   * let the standby take over while the owner ran on.
   */
  standbyLease?: boolean;
  /**
   * With the standby lease: a new owner (a migration's target) runs the job only once
   * the standby it inherits has answered it. Off: it counts that standby as confirmed from
   * its commit, which does not hold when the standby is counting the old owner gone.
   */
  inheritAsk?: boolean;
  /**
   * StandbyLeases.answered: an owner whose standby runs the job at an older epoch yields
   * when its own epoch was never published (nothing would fence the standby's copy), and
   * waits otherwise. Off: it trusts its higher epoch, and both copies run until the
   * standby hears of it.
   */
  yieldUnsaid?: boolean;
}

export const ALL_RULES: ModelRules = { guard: true, fence: true, waitOutTtl: true, reassert: true, repeatCommit: true, tieBreak: true, lease: true, standbyLease: true, inheritAsk: true, yieldUnsaid: true };
/** The code before issue 14's fix. */
export const NO_RULES: ModelRules = { guard: false, fence: false, waitOutTtl: false, reassert: false, repeatCommit: false, tieBreak: false };

export interface ModelBounds {
  /**
   * Clients read the job's state when they send (so the second may ask the agent the
   * first moved the job to: a chain S -> T1 -> T2). Off: both ask S, from the start.
   */
  chain: boolean;
  /** 2: the two concurrent migrations; 1: only the one to T1; 0: none. */
  clients: 0 | 1 | 2;
  crashes: number;
  /** Broker restarts: every message on its way is lost, and the retained state may come back older. */
  restarts: number;
  /** T2 is a standby of the job (replicas: 1), fed checkpoints by whoever runs it. */
  standby?: boolean;
  /** Agents cut off from the broker while they live on (their last will fires), and back later. */
  partitions?: number;
  /**
   * Bridge outages: S and T1 on site 1 (with the clients, on the central broker), the
   * standby T2 on site 2; while the bridge is down nothing crosses, no last will fires,
   * each site keeps its own retained state, and T2 may count an owner on site 1 gone by
   * its missed heartbeats. When it comes back, site 2 gets the central retained state
   * (which may be older than its own) and the last wills published meanwhile.
   */
  bridgeCuts?: number;
  /** With bridge outages: how many times an owner's standby lease may run out (each is a pause and a renewal; default 2). */
  lapses?: number;
}

const S = 0;
/** The standby, when the bounds have one. */
const B2 = 2;
const AGENTS = ['S', 'T1', 'T2'];
/** Bridge outages: the standby T2 is on site 2; S, T1, the clients and the central broker on site 1. */
function siteOf(x: number | string): 1 | 2 {
  return x === B2 ? 2 : 1;
}
type JobStateName = 'running' | 'paused' | 'migrating';

/** `next`: JobState.targetEpoch, the epoch a migrating job's handoff hands out. */
interface Doc { agent: number; epoch: number; state: JobStateName; next?: number }

type Msg =
  | { k: 'migrate'; client: number; to: number }
  | { k: 'prepare'; epoch: number }
  | { k: 'ready'; epoch: number }
  | { k: 'refused'; epoch: number }
  | { k: 'commit'; epoch: number }
  | { k: 'committed'; epoch: number }
  | { k: 'unknown'; epoch: number }
  | { k: 'abort'; epoch: number }
  | { k: 'state'; doc: Doc }
  | { k: 'gone'; agent: number }
  | { k: 'back'; agent: number }
  | { k: 'checkpoint'; epoch: number; counter: number }
  | { k: 'lease' }
  | { k: 'leaseAns'; standby: boolean; epoch?: number; agent?: number };

/** Agent's Job object for this job: the copy an agent holds. */
interface Copy {
  epoch: number;
  /** Job.epochCounter. */
  counter: number;
  state: JobStateName;
  target: number | undefined;
  discarded: boolean;
  /** In Agent.jobs (a moved or fenced copy is taken out). */
  listed: boolean;
}

/** One OutgoingHandoff in progress (source side). */
interface Handoff {
  client: number;
  to: number;
  /** 0 until `prepare` takes one. */
  epoch: number;
  phase: 'checking' | 'pausing' | 'preparing' | 'committing';
  wasRunning: boolean;
}

interface AgentState {
  alive: boolean;
  copy: Copy | undefined;
  /** Agent.incoming: a restored copy waiting for commit. */
  incoming: { epoch: number; source: number } | undefined;
  /** Agent.observed. */
  observed: Doc | undefined;
  /** Follows the job's retained state (Agent.watchJob). */
  watching: boolean;
  handoffs: Handoff[];
  /** Agent.outgoing: the target of the handoff under way. */
  claimed: number | undefined;
  /** Agents whose last will this one has seen (AgentWatch.gone). */
  gone: number[];
  /** Reconnected after a broker restart, its states not yet published again (Agent#announce). */
  announce: boolean;
  /** Agent.moved: the epoch at which the job left this agent. */
  left: number | undefined;
  /** CheckpointStore: the epoch and epoch counter of the checkpoint held (a standby). */
  store: { epoch: number; counter: number } | undefined;
  /** The last checkpoint this agent sent (ReplicationSource: one per change, so the model stays finite). */
  sentCp: string;
  /** Cut off from the broker: it lives on, hears nothing, and what it sends is lost. */
  cut: boolean;
  /** Its copy paused by the lease (Agent#selfFenced). */
  fenced: boolean;
  /** Job.publishedEpoch: the epoch of its copy's latest state that went to the broker. */
  said: number;
  /** StandbyLeases, as owner: its lease on the standby T2 confirmed (true), run out (false), or not needed (undefined). */
  confirm: boolean | undefined;
  /**
   * At the standby (a ghost of real time): the agents whose lease on it ran out since it
   * last heard from them, or that stopped asking (the job left them). Only these can it
   * count gone by their missed heartbeats: the lease window ends before its count can.
   */
  quiet: number[];
}

export interface ModelState {
  agents: AgentState[];
  /** Channels "from>to": from is an agent index, B (the broker's retained deliveries) or C0/C1 (clients). */
  chans: Record<string, Msg[]>;
  retained: Doc | undefined;
  /** The retained state before the last one: what a restarted broker whose store lags one write brings back. */
  previous: Doc | undefined;
  /** Per client: not sent yet, waiting, or its answer. */
  clients: { to: number; status: 'unsent' | 'waiting' | 'ok' | 'failed'; at: number }[];
  crashes: number;
  restarts: number;
  partitions: number;
  bridgeCuts: number;
  lapses: number;
  /** Whether the bridge between site 1 and the standby's site 2 is down. */
  bridgeDown: boolean;
  /** Site 2's retained state while the bridge is down (site 1 and the central broker: `retained`). */
  retainedB: Doc | undefined;
  /** An agent crashed (or was cut off) while it held a live copy (or a handoff of it): the job may be lost with it. */
  lostWithOwner: boolean;
}

export interface Violation {
  message: string;
  trace: string[];
}

export interface CheckResult {
  states: number;
  quiescent: number;
  violation: Violation | undefined;
}

function initialState(bounds: ModelBounds): ModelState {
  const agent = (): AgentState => ({
    alive: true, copy: undefined, incoming: undefined, observed: undefined, watching: false, handoffs: [], claimed: undefined, gone: [], announce: false, left: undefined,
    store: undefined, sentCp: '', cut: false, fenced: false, said: 0, confirm: undefined, quiet: [],
  });
  const agents = [agent(), agent(), agent()];
  const doc: Doc = { agent: S, epoch: 1, state: 'running' };
  // Agent#start: the job runs at S at epoch 1, which follows its state.
  agents[S].copy = { epoch: 1, counter: 1, state: 'running', target: undefined, discarded: false, listed: true };
  agents[S].observed = doc;
  agents[S].watching = true;
  agents[S].said = 1;
  if (bounds.standby) {
    // Standbys.enlist, and the first checkpoint held: the standby follows the job's state.
    agents[S].sentCp = '1.1';
    agents[B2].store = { epoch: 1, counter: 1 };
    agents[B2].observed = doc;
    agents[B2].watching = true;
    // ReplicationSource#enlist answered: the standby confirmed S's lease.
    if (bounds.bridgeCuts) agents[S].confirm = true;
  }
  const s: ModelState = {
    agents, chans: {}, retained: doc, previous: undefined,
    clients: [{ to: 1, status: 'unsent', at: -1 }, { to: 2, status: 'unsent', at: -1 }].slice(0, bounds.clients) as ModelState['clients'],
    crashes: 0, restarts: 0, partitions: 0, bridgeCuts: 0, lapses: 0, bridgeDown: false, retainedB: undefined, lostWithOwner: false,
  };
  if (!bounds.chain) {
    s.clients.forEach((c, i) => {
      c.status = 'waiting';
      c.at = S;
      s.chans[`C${i}>${S}`] = [{ k: 'migrate', client: i, to: c.to }];
    });
  }
  return s;
}

function clone(s: ModelState): ModelState {
  return {
    agents: s.agents.map((a) => ({
      ...a, copy: a.copy && { ...a.copy }, incoming: a.incoming && { ...a.incoming }, handoffs: a.handoffs.map((h) => ({ ...h })), gone: [...a.gone],
      store: a.store && { ...a.store }, quiet: [...a.quiet],
    })),
    chans: Object.fromEntries(Object.entries(s.chans).map(([k, v]) => [k, [...v]])),
    retained: s.retained,
    previous: s.previous,
    clients: s.clients.map((c) => ({ ...c })),
    crashes: s.crashes, restarts: s.restarts, partitions: s.partitions, lostWithOwner: s.lostWithOwner,
    bridgeCuts: s.bridgeCuts, lapses: s.lapses, bridgeDown: s.bridgeDown, retainedB: s.retainedB,
  };
}

/** A compact, canonical text of a state (the visited set's key). */
function key(s: ModelState, withHistory: boolean, bridged: boolean): string {
  const doc = (d: Doc | undefined): string => (d ? `${d.agent}${d.state[0]}${d.epoch}${d.next ?? ''}` : '-');
  const msg = (m: Msg): string => {
    switch (m.k) {
      case 'migrate': return `M${m.client}${m.to}`;
      case 'state': return `s${doc(m.doc)}`;
      case 'gone': return `g${m.agent}`;
      case 'back': return `b${m.agent}`;
      case 'checkpoint': return `k${m.epoch}.${m.counter}`;
      case 'lease': return 'L';
      case 'leaseAns': return `A${m.standby ? 's' : ''}${m.epoch ?? ''}${m.agent ?? ''}`;
      default: return `${m.k[0]}${m.k === 'commit' ? 'C' : ''}${m.epoch}`;
    }
  };
  const parts: string[] = [];
  for (const a of s.agents) {
    const c = a.copy;
    parts.push(`${a.alive ? 'A' : 'D'}${c ? `${c.epoch}.${c.counter}${c.state[0]}${c.target ?? ''}${c.discarded ? 'x' : ''}${c.listed ? 'l' : ''}` : '-'}`
      + `/${a.incoming ? `${a.incoming.epoch}${a.incoming.source}` : '-'}/${doc(a.observed)}/${a.watching ? 'w' : ''}${a.announce ? 'a' : ''}${a.claimed ?? ''}/${a.gone.join('')}/${a.left ?? ''}`
      + `/${a.handoffs.map((h) => `${h.client}${h.to}${h.epoch}${h.phase[1]}${h.wasRunning ? 'r' : ''}`).join(',')}`
      + `/${a.store ? `${a.store.epoch}.${a.store.counter}` : ''}/${a.sentCp}/${a.cut ? 'c' : ''}${a.fenced ? 'f' : ''}${a.confirm === undefined ? '' : a.confirm ? 'C' : 'X'}/${a.quiet.join('')}${bridged ? `/${a.said}` : ''}`);
  }
  for (const k of Object.keys(s.chans).sort()) if (s.chans[k].length) parts.push(`${k}:${s.chans[k].map(msg).join(',')}`);
  parts.push(doc(s.retained), s.clients.map((c) => `${c.status[0]}${c.at}`).join(''), `${s.crashes}${s.restarts}${s.partitions}${s.lostWithOwner ? 'L' : ''}`);
  if (s.bridgeCuts || s.lapses) parts.push(`${s.lapses}${s.bridgeCuts}${s.bridgeDown ? `v${doc(s.retainedB)}` : '^'}`);
  // What a restarted broker may bring back matters only while a restart may come.
  if (withHistory) parts.push(doc(s.previous));
  return parts.join(' ');
}

function runs(a: AgentState): boolean {
  return a.alive && a.copy !== undefined && a.copy.listed && !a.copy.discarded && a.copy.state === 'running';
}

/** One checker run: the transitions of the model under `rules`. */
class Model {
  constructor(readonly rules: ModelRules, readonly bounds: ModelBounds) {}

  // --- the network -------------------------------------------------------------------

  send(s: ModelState, from: number | string, to: number, m: Msg): void {
    if (!s.agents[to].alive || s.agents[to].cut) return; // clean session: lost
    if (typeof from === 'number' && s.agents[from].cut) return; // never reaches the broker
    // A bridge outage: nothing crosses between the sites (a site's own broker, `B`, delivers to its agents).
    if (s.bridgeDown && from !== 'B' && siteOf(from) !== siteOf(to)) return;
    const k = `${from}>${to}`;
    (s.chans[k] ??= []).push(m);
  }

  /** Agent.publishState: the retained state changes and reaches every follower. */
  publish(s: ModelState, from: number, doc: Doc): void {
    // Cut off, it never reaches the broker; paused by the lease, it is not said (Agent.publishState) until checked.
    if (s.agents[from].cut || s.agents[from].fenced) { s.agents[from].observed = doc; return; }
    s.agents[from].said = doc.epoch;
    if (s.bridgeDown && siteOf(from) === 2) s.retainedB = doc;
    else {
      s.previous = s.retained;
      s.retained = doc;
    }
    s.agents[from].observed = doc;
    s.agents.forEach((a, i) => { if (i !== from && a.alive && a.watching) this.send(s, from, i, { k: 'state', doc }); });
  }

  /** Agent.watchJob: a new subscription gets the retained state first. */
  watch(s: ModelState, at: number): void {
    const a = s.agents[at];
    if (a.watching) return;
    a.watching = true;
    const retained = this.retainedAt(s, at);
    if (retained && !a.cut) this.send(s, 'B', at, { k: 'state', doc: retained });
  }

  /** The retained state the broker of `at`'s site holds. */
  retainedAt(s: ModelState, at: number): Doc | undefined {
    return s.bridgeDown && siteOf(at) === 2 ? s.retainedB : s.retained;
  }

  docOf(at: number, copy: Copy): Doc {
    return { agent: at, epoch: copy.epoch, state: copy.state };
  }

  answer(s: ModelState, client: number, status: 'ok' | 'failed'): void {
    if (s.clients[client].status === 'waiting') s.clients[client].status = status;
  }

  release(a: AgentState, h: Handoff): void {
    a.handoffs = a.handoffs.filter((x) => x !== h);
    if (this.rules.guard && a.claimed === h.to) a.claimed = undefined;
  }

  // --- source side: OutgoingHandoff.run--------------------------------------------------

  /**
   * OutgoingHandoff#resumeHere: abort the target, the job goes on here (at a new epoch when
   * in doubt); a copy a newer one fenced meanwhile (discarded) is left as it is.
   */
  resumeHere(s: ModelState, at: number, h: Handoff, newEpoch: boolean): void {
    const a = s.agents[at];
    const copy = a.copy as Copy;
    if (h.epoch > 0) this.send(s, at, h.to, { k: 'abort', epoch: h.epoch });
    if (!copy.discarded) {
      if (newEpoch) copy.epoch = ++copy.counter;
      copy.target = undefined;
      copy.state = 'paused';
    }
    // Job.run: a discarded job never runs again, nor one whose owner lost its lease (Agent#mayRun).
    if (h.wasRunning && !copy.discarded && !a.fenced) copy.state = 'running';
    // Agent.publishState: a copy no longer held here (fenced meanwhile) says nothing.
    if (copy.listed) this.publish(s, at, this.docOf(at, copy));
    this.answer(s, h.client, 'failed');
    this.release(a, h);
  }

  /** OutgoingHandoff.run after `committed`: drop the copy here (Agent.departed). */
  moved(s: ModelState, at: number, h: Handoff): void {
    const a = s.agents[at];
    const copy = a.copy as Copy;
    copy.discarded = true;
    copy.listed = false;
    a.left = h.epoch;
    this.answer(s, h.client, 'ok');
    this.release(a, h);
  }

  /** OutgoingHandoff#commit's end without an answer: committed if the target's state says so, else in doubt. */
  giveUp(s: ModelState, at: number, h: Handoff): void {
    const seen = s.agents[at].observed;
    if (seen && seen.agent === h.to && seen.epoch >= h.epoch) this.moved(s, at, h);
    else this.resumeHere(s, at, h, true);
  }

  /** Agent#onRequest, `migrate`: the guard, then OutgoingHandoff.run's synchronous checks. */
  onMigrate(s: ModelState, at: number, m: { client: number; to: number }): void {
    const a = s.agents[at];
    const copy = a.copy;
    if (!copy || !copy.listed) { this.answer(s, m.client, 'failed'); return; } // #notHere: moved / unknown
    if (this.rules.guard && a.claimed !== undefined) { this.answer(s, m.client, 'failed'); return; } // "job J is already being moved to T"
    if (a.fenced) { this.answer(s, m.client, 'failed'); return; } // "job J is paused: agent S lost its lease on it"
    if (m.to === at || (copy.state !== 'running' && copy.state !== 'paused')) { this.answer(s, m.client, 'failed'); return; }
    if (this.rules.guard) a.claimed = m.to;
    a.handoffs.push({ client: m.client, to: m.to, epoch: 0, phase: 'checking', wasRunning: false });
  }

  /**
   * OutgoingHandoff.run after `await watchAgent`: the target's status check, then `migrating`.
   * The code keeps the job running through the pre-copy rounds and pauses it before
   * `final`; the model stops it here. No copy at a target can run before `commit`, which
   * comes after the pause, so the invariant cannot tell the two apart.
   */
  stepPause(s: ModelState, at: number, h: Handoff): void {
    const a = s.agents[at];
    const copy = a.copy as Copy;
    if (a.gone.includes(h.to)) { this.answer(s, h.client, 'failed'); this.release(a, h); return; } // "agent T is offline"
    h.wasRunning = copy.state === 'running';
    copy.target = h.to;
    copy.state = 'migrating';
    // JobState.targetEpoch: the epoch `prepare` is about to take.
    this.publish(s, at, { ...this.docOf(at, copy), next: copy.counter + 1 });
    h.phase = 'pausing';
  }

  /** OutgoingHandoff.run: a fresh epoch, `prepare` (the rounds and `final` folded into it). */
  stepPrepare(s: ModelState, at: number, h: Handoff): void {
    const copy = s.agents[at].copy as Copy;
    copy.state = 'migrating';
    h.epoch = ++copy.counter;
    h.phase = 'preparing';
    this.send(s, at, h.to, { k: 'prepare', epoch: h.epoch });
  }

  // --- target side --------------------------------------------------------------------

  /** IncomingHandoffs.prepare (with the rounds and `final` folded in: it answers `ready` at once). */
  onPrepare(s: ModelState, at: number, from: number, epoch: number): void {
    const a = s.agents[at];
    const refuse = (): void => this.send(s, at, from, { k: 'refused', epoch });
    if (a.copy && a.copy.listed && !a.copy.discarded) { refuse(); return; } // already runs here
    if (a.incoming) { refuse(); return; } // a handoff is under way here
    if (a.observed && a.observed.epoch >= epoch) { refuse(); return; } // not newer than the known epoch
    if (this.rules.fence) this.watch(s, at);
    a.incoming = { epoch, source: from };
    this.send(s, at, from, { k: 'ready', epoch });
  }

  /** IncomingHandoffs.commit. */
  onCommit(s: ModelState, at: number, from: number, epoch: number): void {
    const a = s.agents[at];
    const here = a.copy && a.copy.listed ? a.copy.epoch : undefined;
    if (this.rules.repeatCommit && ((here !== undefined && here >= epoch) || (a.left !== undefined && a.left > epoch))) { this.send(s, at, from, { k: 'committed', epoch }); return; }
    if (this.rules.fence && a.observed && a.observed.epoch > epoch) { this.send(s, at, from, { k: 'unknown', epoch }); return; }
    if (a.incoming && a.incoming.epoch === epoch) {
      a.incoming = undefined;
      a.copy = { epoch, counter: epoch, state: 'running', target: undefined, discarded: false, listed: true };
      a.left = undefined;
      // The job's state names T2 as its standby (Agent#adopt: ReplicationSource's preferred).
      const inherits = this.bounds.bridgeCuts && at !== B2;
      a.store = undefined; // Standbys.drop: it owns the job now
      this.publish(s, at, this.docOf(at, a.copy));
      this.watch(s, at);
      this.send(s, at, from, { k: 'committed', epoch });
      if (inherits && this.rules.standbyLease && !this.rules.inheritAsk) a.confirm = true;
      if (inherits && this.rules.standbyLease && this.rules.inheritAsk) {
        // ReplicationSource: the job's standby, inherited, confirms this new owner only once
        // it answers (it may be counting the old owner gone); till then Job.run's mayRun says no.
        a.confirm = false;
        a.fenced = true;
        a.copy.state = 'paused';
      }
      return;
    }
    if (!this.rules.repeatCommit && here === epoch) { this.send(s, at, from, { k: 'committed', epoch }); return; }
    this.send(s, at, from, { k: 'unknown', epoch });
  }

  /** IncomingHandoffs.abort. */
  onAbort(s: ModelState, at: number, epoch: number): void {
    const a = s.agents[at];
    if (a.incoming && a.incoming.epoch === epoch) a.incoming = undefined;
  }

  // --- every agent: Agent#onJobState, #fence (judgeJobState) --------------------------------

  onState(s: ModelState, at: number, doc: Doc): void {
    const a = s.agents[at];
    if (!a.watching) return; // unsubscribed: the handler is gone
    if (!this.rules.fence || !a.observed || doc.epoch >= a.observed.epoch) a.observed = doc; // supersedes()
    if (this.rules.fence && a.incoming && doc.epoch > a.incoming.epoch) a.incoming = undefined; // dropIncoming
    const copy = a.copy;
    if (!copy || !copy.listed) return;
    // compareCopies: agent indexes are in the order of their names.
    const order = doc.agent === at ? Math.min(0, doc.epoch - copy.epoch)
      : doc.epoch !== copy.epoch ? doc.epoch - copy.epoch : this.rules.tieBreak ? doc.agent - at : 0;
    if (order < 0) {
      if (this.rules.reassert) this.publish(s, at, this.docOf(at, copy));
      return;
    }
    if (order > 0 && !(copy.state === 'migrating' && copy.target === doc.agent)) {
      copy.discarded = true; // stop: a newer copy runs elsewhere
      copy.listed = false;
      a.left = doc.epoch;
      a.watching = false;
    }
  }

  // --- replies at the source ----------------------------------------------------------

  handoffFor(a: AgentState, from: number, epoch: number, phase: Handoff['phase']): Handoff | undefined {
    return a.handoffs.find((h) => h.to === from && h.epoch === epoch && h.phase === phase);
  }

  deliver(s: ModelState, from: string, at: number, m: Msg): void {
    const a = s.agents[at];
    const src = Number(from);
    switch (m.k) {
      case 'migrate': this.onMigrate(s, at, m); break;
      case 'prepare': this.onPrepare(s, at, src, m.epoch); break;
      case 'commit': this.onCommit(s, at, src, m.epoch); break;
      case 'abort': this.onAbort(s, at, m.epoch); break;
      case 'state': this.onState(s, at, m.doc); break;
      case 'checkpoint': {
        // Standbys.checkpoint: from the owner at its epoch or a later one (a new owner).
        if (!(a.copy && a.copy.listed) && (!a.store || m.epoch >= a.store.epoch)) a.store = { epoch: m.epoch, counter: m.counter };
        break;
      }
      case 'back': a.gone = a.gone.filter((g) => g !== m.agent); break;
      case 'lease': this.onLease(s, at, src); break;
      case 'leaseAns': this.onLeaseAnswer(s, at, m); break;
      case 'ready': {
        const h = this.handoffFor(a, src, m.epoch, 'preparing');
        if (h) { h.phase = 'committing'; this.send(s, at, h.to, { k: 'commit', epoch: h.epoch }); }
        break;
      }
      case 'refused': {
        const h = this.handoffFor(a, src, m.epoch, 'preparing');
        if (h) this.resumeHere(s, at, h, false);
        break;
      }
      case 'committed': {
        const h = this.handoffFor(a, src, m.epoch, 'committing');
        if (h) this.moved(s, at, h);
        break;
      }
      case 'unknown': {
        const h = this.handoffFor(a, src, m.epoch, 'committing');
        if (h) this.resumeHere(s, at, h, false);
        break;
      }
      case 'gone': {
        if (!a.gone.includes(m.agent)) a.gone = [...a.gone, m.agent];
        // AgentWatch.gone aborts every await of the handoffs to that agent.
        for (const h of [...a.handoffs]) {
          if (h.to !== m.agent) continue;
          if (h.phase === 'pausing' || h.phase === 'preparing') this.resumeHere(s, at, h, false);
          else if (h.phase === 'committing') this.giveUp(s, at, h);
        }
        break;
      }
    }
  }

  // --- the transitions -------------------------------------------------------------------

  /** Every step possible from `s`; `crash` and `restart` are the ones that may come at any time. */
  successors(s: ModelState): { label: string; next: ModelState; background: boolean }[] {
    const out: { label: string; next: ModelState; background: boolean }[] = [];
    const step = (label: string, f: (n: ModelState) => void, background = false): void => {
      const n = clone(s);
      f(n);
      out.push({ label, next: n, background });
    };
    // A client reads the retained state (FleetClient.migrate) and asks its agent.
    s.clients.forEach((c, i) => {
      if (c.status !== 'unsent') return;
      step(`client ${i} asks to move the job to ${AGENTS[c.to]}`, (n) => {
        const owner = n.retained?.agent ?? S;
        const client = n.clients[i];
        if (owner === client.to || !n.agents[owner].alive) { client.status = 'failed'; return; }
        client.status = 'waiting';
        client.at = owner;
        this.send(n, `C${i}`, owner, { k: 'migrate', client: i, to: client.to });
      });
    });
    for (const [k, q] of Object.entries(s.chans)) {
      if (!q.length) continue;
      const [from, to] = k.split('>');
      const at = Number(to);
      const m = q[0];
      step(`${from.startsWith('C') || from === 'B' ? from : AGENTS[Number(from)]} -> ${AGENTS[at]}: ${describe(m)}`, (n) => {
        n.chans[k].shift();
        this.deliver(n, from, at, m);
      });
    }
    s.agents.forEach((a, at) => {
      if (!a.alive) return;
      a.handoffs.forEach((h, i) => {
        if (h.phase === 'checking') step(`${AGENTS[at]} pauses the job for ${AGENTS[h.to]}`, (n) => this.stepPause(n, at, n.agents[at].handoffs[i]));
        else if (h.phase === 'pausing') step(`${AGENTS[at]} sends prepare to ${AGENTS[h.to]}`, (n) => this.stepPrepare(n, at, n.agents[at].handoffs[i]));
        else if (h.phase === 'preparing' && this.lost(s, at, h)) {
          step(`${AGENTS[at]} times out waiting for ${AGENTS[h.to]}'s ready`, (n) => this.resumeHere(n, at, n.agents[at].handoffs[i], false));
        } else if (h.phase === 'committing' && this.lost(s, at, h)) {
          // OutgoingHandoff#commit: another try while the target may still answer; the end of the tries otherwise.
          if (s.agents[h.to].alive) step(`${AGENTS[at]} sends commit to ${AGENTS[h.to]} again`, (n) => this.send(n, at, h.to, { k: 'commit', epoch: h.epoch }));
          else step(`${AGENTS[at]} gives up waiting for ${AGENTS[h.to]}'s commit answer`, (n) => this.giveUp(n, at, n.agents[at].handoffs[i]));
        }
        if (h.phase === 'committing' && !this.rules.waitOutTtl) {
          step(`${AGENTS[at]} gives up waiting for ${AGENTS[h.to]}'s commit answer (before the target's copy expires)`, (n) => this.giveUp(n, at, n.agents[at].handoffs[i]));
        }
      });
      if (a.announce) step(`${AGENTS[at]} publishes its job's state again`, (n) => this.announce(n, at));
      if (this.bounds.standby && at !== B2 && !a.cut && a.copy && runs(a) && a.sentCp !== `${a.copy.epoch}.${a.copy.counter}`) {
        const { epoch, counter } = a.copy;
        step(`${AGENTS[at]} sends a checkpoint (epoch ${epoch}, counter ${counter}) to the standby`, (n) => {
          n.agents[at].sentCp = `${epoch}.${counter}`;
          this.send(n, at, B2, { k: 'checkpoint', epoch, counter });
        });
      }
      if (this.bounds.standby && at === B2 && this.mayTakeOver(s)) step(`${AGENTS[at]} takes the job over from its checkpoint`, (n) => this.takeOver(n));
      if (a.fenced && !a.cut && a.confirm !== false && !Object.entries(s.chans).some(([k, q]) => q.length > 0 && k.endsWith(`>${at}`))) {
        step(`${AGENTS[at]}'s lease is back: it reads the job's retained state`, (n) => this.leaseBack(n, at));
      }
      if (this.bounds.bridgeCuts && this.rules.standbyLease && at !== B2 && !a.cut) {
        const live = a.copy !== undefined && a.copy.listed && !a.copy.discarded;
        const traffic = [`${at}>${B2}`, `${B2}>${at}`].some((k) => (s.chans[k] ?? []).some((m) => m.k === 'lease' || m.k === 'leaseAns'));
        if (live && a.confirm === true && !traffic && s.lapses < (this.bounds.lapses ?? 2)) step(`${AGENTS[at]}'s lease on the standby runs out: it pauses the job`, (n) => this.lapse(n, at), true);
        if (live && a.confirm === false && !traffic) step(`${AGENTS[at]} asks the standby to confirm its lease`, (n) => this.send(n, at, B2, { k: 'lease' }));
      }
      if (a.cut) step(`${AGENTS[at]} is back on the broker`, (n) => this.heal(n, at), true);
      else if (s.partitions < (this.bounds.partitions ?? 0)) step(`${AGENTS[at]} is cut off from the broker`, (n) => this.partition(n, at), true);
      if (a.incoming) step(`${AGENTS[at]}'s restored copy (epoch ${a.incoming.epoch}) expires`, (n) => { n.agents[at].incoming = undefined; });
      if (s.crashes < this.bounds.crashes) {
        step(`${AGENTS[at]} crashes`, (n) => this.crash(n, at), true);
      }
    });
    if (s.bridgeDown && this.rules.standbyLease) {
      s.agents.forEach((a, at) => {
        // Time passes at the standby: an agent that holds no confirmed lease on it (it lost
        // it, never needed it, or the job left it) may be counted gone by missed heartbeats.
        if (at === B2 || s.agents[B2].quiet.includes(at)) return;
        if (a.alive && a.copy !== undefined && a.copy.listed && !a.copy.discarded && a.confirm === true) return;
        step(`${AGENTS[B2]} has heard nothing from ${AGENTS[at]} for 3 heartbeat periods`, (n) => { n.agents[B2].quiet = [...n.agents[B2].quiet, at]; }, true);
      });
    }
    if (s.bridgeDown) step('the bridge is back', (n) => this.bridgeHeal(n));
    else if (s.bridgeCuts < (this.bounds.bridgeCuts ?? 0)) step('the bridge between the sites goes down', (n) => this.bridgeCut(n), true);
    if (s.restarts < this.bounds.restarts) {
      // Without persistence it forgot every retained message (docs/protocol.md); with it,
      // it keeps the last one, or the one before when its store lags a write behind.
      step('the broker restarts and forgets the retained state', (n) => this.restart(n, undefined), true);
      step('the broker restarts and keeps the retained state', (n) => this.restart(n, n.retained), true);
      const old = s.previous;
      if (old) step(`the broker restarts with an older retained state, ${AGENTS[old.agent]} ${old.state} at epoch ${old.epoch}`, (n) => this.restart(n, old), true);
    }
    return out;
  }

  /** Nothing of handoff `h` is on its way any more: a request or its answer was lost (a broker restart, a crash). */
  lost(s: ModelState, at: number, h: Handoff): boolean {
    const inFlight = (q: Msg[] | undefined): boolean => (q ?? []).some((m) => 'epoch' in m && m.k !== 'leaseAns' && m.epoch === h.epoch);
    return !inFlight(s.chans[`${at}>${h.to}`]) && !inFlight(s.chans[`${h.to}>${at}`]);
  }

  /**
   * A broker restart (its store may hold an older retained state than the last one). Every
   * message on its way is lost; every agent subscribes again (getting the retained state
   * and the last wills of the crashed agents) and publishes its job's state again.
   */
  restart(s: ModelState, doc: Doc | undefined): void {
    s.restarts++;
    s.chans = {};
    s.retained = doc;
    // A client whose request was lost gives up at its timeout.
    s.clients.forEach((c, i) => { if (c.status === 'waiting' && !s.agents[c.at].handoffs.some((h) => h.client === i)) c.status = 'failed'; });
    s.agents.forEach((a, i) => {
      if (!a.alive || a.cut) return;
      // Agent#reconnected: a copy being received is dropped (its source may have given up on a last will).
      a.incoming = undefined;
      if (a.watching && doc) this.send(s, 'B', i, { k: 'state', doc });
      s.agents.forEach((o, j) => { if (!o.alive) this.send(s, 'B', i, { k: 'gone', agent: j }); });
      a.announce = true;
    });
  }

  /** Agent#announce after a reconnection (a copy paused by the lease waits for its check). */
  announce(s: ModelState, at: number): void {
    const a = s.agents[at];
    a.announce = false;
    if (a.copy && a.copy.listed && !a.fenced) this.publish(s, at, this.docOf(at, a.copy));
  }

  // --- replicas: StandbyCopy, OwnerLease ---------------------------------------------------

  /**
   * StandbyCopy#takeOver's conditions: the owner the retained state names is gone, the
   * grace period passed (nothing it sent, and nothing to the standby, is still on its
   * way), and the checkpoint held is of the owner's epoch (`eligible`).
   */
  mayTakeOver(s: ModelState): boolean {
    const a = s.agents[B2];
    const d = a.observed;
    if (!a.alive || a.cut || !a.store || !d || d.agent === B2 || (a.copy && a.copy.listed)) return false;
    // Gone: its last will; or, across a bridge outage, its heartbeats missed (MissedHeartbeats),
    // which with the standby lease can be only once its lease here ran out (`quiet`).
    const missed = s.bridgeDown && siteOf(d.agent) !== siteOf(B2) && (!this.rules.standbyLease || a.quiet.includes(d.agent));
    if (!a.gone.includes(d.agent) && !missed) return false;
    if (d.epoch !== a.store.epoch) return false;
    return !Object.entries(s.chans).some(([k, q]) => q.length > 0 && (k.startsWith(`${d.agent}>`) || k.endsWith(`>${B2}`)));
  }

  /** StandbyCopy#takeOver: restore, at an epoch above any the owner may have handed out; Agent.takeOver publishes it. */
  takeOver(s: ModelState): void {
    const a = s.agents[B2];
    const d = a.observed as Doc;
    const store = a.store as { epoch: number; counter: number };
    const epoch = Math.max(store.counter, d.epoch, d.next ?? 0) + 1;
    a.incoming = undefined; // Agent.dropIncoming
    a.store = undefined;
    a.copy = { epoch, counter: epoch, state: 'running', target: undefined, discarded: false, listed: true };
    a.left = undefined;
    a.sentCp = `${epoch}.${epoch}`; // no standby left to send checkpoints to
    this.publish(s, B2, this.docOf(B2, a.copy));
    this.watch(s, B2);
  }

  /** Cut off: the agent lives on; its last will reaches the others; with the lease, its copy pauses first. */
  partition(s: ModelState, at: number): void {
    const a = s.agents[at];
    s.partitions++;
    if ((a.copy && a.copy.listed && !a.copy.discarded) || a.handoffs.length) s.lostWithOwner = true;
    for (const k of Object.keys(s.chans)) if (k.endsWith(`>${at}`)) delete s.chans[k];
    s.agents.forEach((o, i) => { if (i !== at && o.alive) this.send(s, at, i, { k: 'gone', agent: at }); });
    for (const c of s.clients) if (c.status === 'waiting' && c.at === at) c.status = 'failed';
    a.cut = true;
    if (this.rules.lease && this.bounds.standby && a.copy && a.copy.listed && !a.copy.discarded) {
      a.fenced = true;
      // Agent#leaseLost: a migration not yet past its pause gives up (OutgoingHandoff.cancel), then the job pauses.
      for (const h of [...a.handoffs]) if (h.phase === 'checking' || h.phase === 'pausing') this.resumeHere(s, at, h, false);
      if (a.copy.state === 'running') a.copy.state = 'paused';
    }
  }

  /** Back on the broker: the others see it online, it subscribes again (the retained state first) and announces. */
  heal(s: ModelState, at: number): void {
    const a = s.agents[at];
    a.cut = false;
    a.incoming = undefined; // Agent#reconnected, as after a broker restart
    // Its status says online again (Agent#announce), after its last will: one publisher, in order.
    s.agents.forEach((o, i) => { if (i !== at && o.alive) this.send(s, at, i, { k: 'back', agent: at }); });
    if (a.watching && s.retained) this.send(s, 'B', at, { k: 'state', doc: s.retained });
    a.announce = true;
  }

  /** Agent#recheck: a newer copy named by the retained state fences this one; else it runs again. */
  leaseBack(s: ModelState, at: number): void {
    const a = s.agents[at];
    a.fenced = false;
    const copy = a.copy;
    if (!copy || !copy.listed || copy.discarded) return;
    const r = s.retained;
    if (r && r.agent !== at && (r.epoch > copy.epoch || (r.epoch === copy.epoch && r.agent > at))) {
      copy.discarded = true;
      copy.listed = false;
      a.left = r.epoch;
      a.watching = false;
      return;
    }
    if (copy.state === 'paused' && !a.handoffs.length) copy.state = 'running';
    this.publish(s, at, this.docOf(at, copy));
  }

  // --- the standby lease, and bridge outages: StandbyLeases, Standbys.lease ------------

  /** Standbys.lease at T2: the request counts as the owner's heartbeat; the answer says what it holds and knows. */
  onLease(s: ModelState, at: number, from: number): void {
    const a = s.agents[at];
    a.quiet = a.quiet.filter((q) => q !== from);
    let ans: Msg;
    if (a.copy && a.copy.listed && !a.copy.discarded) ans = { k: 'leaseAns', standby: false, epoch: a.copy.epoch, agent: at }; // it took the job over
    else if (a.store) ans = { k: 'leaseAns', standby: true, ...(a.observed ? { epoch: a.observed.epoch, agent: a.observed.agent } : {}) };
    else ans = { k: 'leaseAns', standby: false, ...(a.observed ? { epoch: Math.max(a.observed.epoch, a.left ?? 0), agent: a.observed.agent } : {}) };
    this.send(s, at, from, ans);
  }

  /** StandbyLeases.answered at the owner. */
  onLeaseAnswer(s: ModelState, at: number, m: { standby: boolean; epoch?: number; agent?: number }): void {
    const a = s.agents[at];
    const copy = a.copy;
    if (!copy || !copy.listed || copy.discarded || a.confirm === undefined) return;
    // The standby runs the job itself (it took it over), whatever its epoch: an owner that
    // resumed in doubt may hold a higher one than the takeover's, and both would run until
    // their states met; or it knows of a newer copy elsewhere.
    const newer = m.epoch !== undefined && m.agent !== undefined && m.agent !== at && (m.epoch > copy.epoch || (m.epoch === copy.epoch && m.agent > at));
    // At an older epoch than this copy's: it yields unless its epoch may be known (then the standby's copy stops when it hears of it).
    const runsThere = !newer && m.agent === B2 && !m.standby && this.rules.yieldUnsaid !== false;
    if (runsThere && a.said >= copy.epoch) return;
    if (newer || runsThere) {
      // onNewer: Agent#stopCopy.
      copy.discarded = true;
      copy.listed = false;
      a.left = m.epoch;
      a.watching = false;
      a.confirm = undefined;
      a.fenced = false;
      return;
    }
    a.confirm = m.standby ? true : undefined;
  }

  /** Time passes: the owner's lease on T2 runs out (StandbyLeases#settle's onLost: Agent#pauseUnleased). */
  lapse(s: ModelState, at: number): void {
    const a = s.agents[at];
    s.lapses++;
    a.confirm = false;
    a.fenced = true;
    for (const h of [...a.handoffs]) if (h.phase === 'checking' || h.phase === 'pausing') this.resumeHere(s, at, h, false);
    const copy = a.copy as Copy;
    if (copy.state === 'running') copy.state = 'paused';
  }

  /** The bridge goes down: what was crossing is lost, each site keeps its retained state. */
  bridgeCut(s: ModelState): void {
    s.bridgeCuts++;
    s.bridgeDown = true;
    s.retainedB = s.retained;
    for (const k of Object.keys(s.chans)) {
      const [from, to] = k.split('>');
      if (from !== 'B' && siteOf(Number.isNaN(Number(from)) ? from : Number(from)) !== siteOf(Number(to))) delete s.chans[k];
    }
    // A client waiting on T2 (on the far side of the central broker) times out.
    for (const c of s.clients) if (c.status === 'waiting' && siteOf(c.at) === 2) c.status = 'failed';
  }

  /**
   * The bridge is back: it subscribes again, so site 2 gets the central retained state
   * (over a newer one of its own: the standby then says its own again, `reassert`) and
   * the last wills published meanwhile; heartbeats flow again.
   */
  bridgeHeal(s: ModelState): void {
    s.bridgeDown = false;
    s.retainedB = undefined;
    const b = s.agents[B2];
    b.quiet = [];
    if (b.alive && !b.cut && b.watching && s.retained) this.send(s, 'B', B2, { k: 'state', doc: s.retained });
    s.agents.forEach((o, i) => {
      if (o.alive) return;
      s.agents.forEach((x, j) => { if (x.alive && !x.cut && siteOf(j) !== siteOf(i)) this.send(s, 'B', j, { k: 'gone', agent: i }); });
    });
  }

  crash(s: ModelState, at: number): void {
    const a = s.agents[at];
    s.crashes++;
    if ((a.copy && a.copy.listed && !a.copy.discarded) || a.handoffs.length) s.lostWithOwner = true;
    a.alive = false;
    for (const k of Object.keys(s.chans)) if (k.endsWith(`>${at}`)) delete s.chans[k];
    // The last will, after everything the agent sent.
    s.agents.forEach((o, i) => { if (i !== at && o.alive) this.send(s, at, i, { k: 'gone', agent: at }); });
    // A client waiting on it sees the will too (FleetClient.migrate).
    for (const c of s.clients) if (c.status === 'waiting' && c.at === at) c.status = 'failed';
  }

  // --- the properties -----------------------------------------------------------------

  /** What must hold in every state. */
  always(s: ModelState): string | undefined {
    const running = s.agents.flatMap((a, i) => (runs(a) ? [AGENTS[i]] : []));
    if (running.length > 1) return `${running.length} copies run at once (${running.join(', ')})`;
    const ok = s.clients.filter((c) => c.status === 'ok');
    if (ok.length > 1 && ok[0].at === ok[1].at) return `both migrations succeeded, both from ${AGENTS[ok[0].at]}`;
    return undefined;
  }

  /** What must hold once nothing is left to happen but crashes and restarts. */
  atRest(s: ModelState): string | undefined {
    const running = s.agents.flatMap((a, i) => (runs(a) ? [i] : []));
    if (running.length === 0 && !s.lostWithOwner) return 'no copy runs, and no agent that held the job crashed: the job is lost';
    const waiting = s.clients.findIndex((c) => c.status === 'waiting');
    if (waiting >= 0) return `client ${waiting} never got an answer`;
    const [owner] = running;
    if (owner !== undefined) {
      const copy = s.agents[owner].copy as Copy;
      const r = s.retained;
      if (!r || r.agent !== owner || r.epoch !== copy.epoch || r.state !== 'running') {
        return `the broker shows ${r ? `${AGENTS[r.agent]} ${r.state} at epoch ${r.epoch}` : 'nothing'}, but the job runs on ${AGENTS[owner]} at epoch ${copy.epoch}`;
      }
    }
    return undefined;
  }

  check(): CheckResult {
    const start = initialState(this.bounds);
    const seen = new Map<string, [string | undefined, string]>();
    const k0 = key(start, this.bounds.restarts > 0, (this.bounds.bridgeCuts ?? 0) > 0);
    seen.set(k0, [undefined, 'start']);
    let frontier: [string, ModelState][] = [[k0, start]];
    let quiescent = 0;
    const traceOf = (k: string): string[] => {
      const t: string[] = [];
      for (let at: string | undefined = k; at !== undefined;) {
        const [parent, label] = seen.get(at) as [string | undefined, string];
        t.push(label);
        at = parent;
      }
      return t.reverse();
    };
    while (frontier.length) {
      const next: [string, ModelState][] = [];
      for (const [k, s] of frontier) {
        const succ = this.successors(s);
        if (!succ.some((x) => !x.background)) {
          quiescent++;
          const bad = this.atRest(s);
          if (bad) return { states: seen.size, quiescent, violation: { message: `at rest: ${bad}`, trace: traceOf(k) } };
        }
        for (const { label, next: n } of succ) {
          const nk = key(n, n.restarts < this.bounds.restarts, (this.bounds.bridgeCuts ?? 0) > 0);
          if (seen.has(nk)) continue;
          seen.set(nk, [k, label]);
          const bad = this.always(n);
          if (bad) return { states: seen.size, quiescent, violation: { message: bad, trace: traceOf(nk) } };
          next.push([nk, n]);
        }
      }
      frontier = next;
    }
    return { states: seen.size, quiescent, violation: undefined };
  }
}

function describe(m: Msg): string {
  switch (m.k) {
    case 'migrate': return `migrate to ${AGENTS[m.to]} (client ${m.client})`;
    case 'state': return `state ${AGENTS[m.doc.agent]} ${m.doc.state} at epoch ${m.doc.epoch}`;
    case 'gone': return `${AGENTS[m.agent]}'s last will`;
    case 'back': return `${AGENTS[m.agent]} is online again`;
    case 'checkpoint': return `checkpoint (epoch ${m.epoch}, counter ${m.counter})`;
    case 'lease': return 'lease: confirm the owner\'s lease';
    case 'leaseAns': return `lease answer: ${m.standby ? 'a standby' : 'no standby copy'}${m.epoch === undefined ? '' : `, knows ${AGENTS[m.agent ?? 0]} at epoch ${m.epoch}`}`;
    default: return `${m.k} epoch ${m.epoch}`;
  }
}

/** Explores every reachable state of the handoff model (breadth first, so a counterexample is a shortest one). */
export function checkHandoff(rules: ModelRules, bounds: ModelBounds = { chain: true, clients: 2, crashes: 1, restarts: 0 }): CheckResult {
  return new Model(rules, bounds).check();
}
