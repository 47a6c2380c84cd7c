import { performance } from 'node:perf_hooks';
import type { AgentLoad } from './messages.ts';
import { parseAgentLoad } from './messages.ts';
import type { Peer } from './peer.ts';
import { topicName, topics } from './topics.ts';

/** Called with each heartbeat that arrives, and when it arrived (monotonic ms). */
export type HeartbeatListener = (load: AgentLoad, at: number) => void;

/**
 * Every agent's heartbeats as this agent hears them, while some standby copy needs
 * them: one subscription to all of them, not one per job. It keeps when each agent's
 * latest heartbeat arrived, so that a standby can tell an owner's silence from the
 * broker's (a heartbeat of anybody else, this agent's own included, shows that the
 * broker was delivering), and hands each heartbeat to the copies that follow its agent.
 */
export class HeartbeatWatch {
  readonly #peer: () => Peer;
  /** Each agent's latest heartbeat: when it arrived here, and its own `at` (what tells a new one from a replay). */
  readonly #arrivals = new Map<string, { at: number; sentAt: string | undefined }>();
  readonly #listeners = new Map<HeartbeatListener, string>();
  #subscription: Promise<() => void> | undefined;

  /** `peer`: the agent's connection, read when the first listener comes (it is made after the agent). */
  constructor(peer: () => Peer) {
    this.#peer = peer;
  }

  /** The agent's connection number (it grows at each reconnection), or undefined while it is cut off. */
  get connection(): number | undefined {
    const peer = this.#peer();
    return peer.link.connected ? peer.connection : undefined;
  }

  /** When the latest heartbeat of an agent other than `agent` arrived (-Infinity if none). */
  latestExcept(agent: string): number {
    let latest = -Infinity;
    for (const [name, arrival] of this.#arrivals) if (name !== agent && arrival.at > latest) latest = arrival.at;
    return latest;
  }

  /** Hands `agent`'s heartbeats to `fn` until the returned function is called. */
  follow(agent: string, fn: HeartbeatListener): () => void {
    this.#listeners.set(fn, agent);
    this.#subscription ??= this.#subscribe();
    return () => {
      this.#listeners.delete(fn);
      if (this.#listeners.size > 0 || !this.#subscription) return;
      const subscription = this.#subscription;
      this.#subscription = undefined;
      this.#arrivals.clear();
      subscription.then((stop) => stop(), () => {});
    };
  }

  #subscribe(): Promise<() => void> {
    const subscription = this.#peer().listen([topics.allAgentLoad], (topic, payload) => this.#arrived(topic, payload));
    subscription.catch(() => { if (this.#subscription === subscription) this.#subscription = undefined; });
    return subscription;
  }

  #arrived(topic: string, payload: Buffer): void {
    const load = parseAgentLoad(payload);
    if (!load || load.agent !== topicName(topic, 'agents', 'load')) return;
    // A retained heartbeat sent again (another listener of this agent subscribed anew)
    // is not a new one: a stuck owner's last heartbeat must not keep it alive.
    const sentAt = typeof load.at === 'string' && load.at ? `${load.instance} ${load.at}` : undefined;
    if (sentAt !== undefined && this.#arrivals.get(load.agent)?.sentAt === sentAt) return;
    const at = performance.now();
    this.#arrivals.set(load.agent, { at, sentAt });
    for (const [fn, agent] of this.#listeners) if (agent === load.agent) fn(load, at);
  }
}
