import { performance } from 'node:perf_hooks';
import type { Peer } from './peer.ts';

/**
 * The owner's lease on its replicated jobs (docs/protocol.md, "One owner", the lease
 * argument). The agent sends itself a message through the broker every quarter lease;
 * each one that comes back renews the lease from the moment it was *sent*: the broker
 * still had this agent's connection open after that moment, so its last will (what
 * starts a standby's grace period) comes later still. When `leaseMs` pass without a
 * renewal, the agent pauses its replicated jobs (`onLost`) before any standby can take
 * one over, as long as `leaseMs` plus a check period is shorter than the standbys' grace
 * period (the lease is half of it). A renewal after that (`onRenewed`) lets the agent
 * look at the jobs' retained states before it runs them again.
 *
 * Standbys also take over when the owner's heartbeats stop arriving (an owner stuck but
 * connected), so the lease also needs a heartbeat sent within `beatWindowMs` (the
 * standbys' missed-heartbeat window): a standby counts from a heartbeat's arrival, which
 * is after it was sent, and then waits its grace period, so the owner pauses first.
 */
export class OwnerLease {
  readonly #peer: Peer;
  readonly #leaseMs: number;
  readonly #beatWindowMs: number;
  #beatSentAt = performance.now();
  readonly #onLost: () => void;
  readonly #onRenewed: () => void;
  readonly #active: () => boolean;
  #renewedAt = performance.now();
  #inFlight = false;
  #lost = false;
  #timer: NodeJS.Timeout | undefined;

  /** `active`: whether there is anything to hold a lease on (no traffic otherwise). */
  constructor(peer: Peer, leaseMs: number, beatWindowMs: number, hooks: { active: () => boolean; onLost: () => void; onRenewed: () => void }) {
    this.#peer = peer;
    this.#leaseMs = leaseMs;
    this.#beatWindowMs = beatWindowMs;
    this.#active = hooks.active;
    this.#onLost = hooks.onLost;
    this.#onRenewed = hooks.onRenewed;
  }

  /** Whether the lease was lost and not renewed since. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Whether the lease holds at this very moment (the periodic check may not have noticed its end yet). */
  get valid(): boolean {
    return !this.#lost && this.#fresh(performance.now());
  }

  /** The agent's heartbeat just went out (a blocked event loop sends none, and then the lease runs out). */
  heartbeatSent(): void {
    this.#beatSentAt = performance.now();
  }

  /** Renewed through the broker within the lease, and a heartbeat sent within the standbys' window. */
  #fresh(now: number): boolean {
    return now - this.#renewedAt <= this.#leaseMs && now - this.#beatSentAt <= this.#beatWindowMs;
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), Math.max(50, this.#leaseMs / 4));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const now = performance.now();
    if (!this.#active()) {
      // Nothing held: the lease starts afresh when something is.
      this.#renewedAt = now;
      return;
    }
    if (!this.#lost && !this.#fresh(now)) {
      this.#lost = true;
      this.#onLost();
    }
    if (this.#inFlight || !this.#peer.link.connected) return;
    this.#inFlight = true;
    const sentAt = now;
    this.#peer.request(this.#peer.inbox, { type: 'sync' }, { timeoutMs: this.#leaseMs * 4, who: 'the broker' }).then(
      () => {
        this.#inFlight = false;
        this.#renewedAt = Math.max(this.#renewedAt, sentAt);
        if (this.#lost && this.#fresh(performance.now())) {
          this.#lost = false;
          this.#onRenewed();
        }
      },
      () => { this.#inFlight = false; },
    );
  }
}
