/**
 * What a view of the whole fleet (the dashboard's page) believes of the retained messages
 * it shows, by the rules `wasmig ps` and the agents follow: agents' statuses and
 * heartbeats pass the presence check (signed by their agent, not replayed), job states
 * and migration reports verify as documents signed by the agent that published them.
 * A view without the fleet's key cannot tell, and says so rather than guess.
 * @module
 */
import { PresenceCheck, presenceOf } from './presence-check.ts';
import type { MessageSigner } from './signing.ts';
import { checkJobState } from './state-check.ts';
import { topicName } from './topics.ts';

/** Checks retained fleet messages with the fleet's key or a device identity. */
export class RetainedCheck {
  readonly #key: MessageSigner;
  readonly #presence: PresenceCheck;

  constructor(key: MessageSigner, log: (line: string) => void = () => {}) {
    this.#key = key;
    this.#presence = new PresenceCheck(key, log);
  }

  /**
   * Why `payload`, retained on `topic`, is not to be believed (undefined: it is, or it is
   * a cleared message or one of a topic this check does not know).
   */
  distrust(topic: string, payload: Uint8Array): string | undefined {
    if (payload.length === 0) return undefined;
    const bytes = Buffer.from(payload);
    if (presenceOf(topic)) return this.#presence.check(topic, bytes);
    const job = topicName(topic, 'jobs', 'state');
    if (job !== undefined) {
      const checked = checkJobState(bytes, job, this);
      return checked === undefined ? `not a state of job ${job}` : checked.distrust;
    }
    const moved = topicName(topic, 'jobs', 'migration');
    if (moved !== undefined) {
      let report: { job?: unknown; from?: unknown };
      try {
        report = JSON.parse(bytes.toString()) as typeof report;
      } catch {
        return 'not JSON';
      }
      if (typeof report !== 'object' || report === null || report.job !== moved || typeof report.from !== 'string') return `not a migration report of job ${moved}`;
      return this.#key.verify(report, { signer: report.from, type: 'state' });
    }
    return undefined;
  }

  /** A job state as the agent named in it signed it (`DocumentChecker`). */
  checkDocument(doc: object): string | undefined {
    return this.#key.verify(doc, { signer: (doc as { agent?: string }).agent, type: 'state' });
  }
}
