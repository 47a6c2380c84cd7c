import { MAX_SKEW_MS } from './replay-guard.ts';
import type { MessageSigner } from './signing.ts';
import { topicName } from './topics.ts';

/** Refusals logged per topic before this peer stops saying so (a rogue may publish in a loop). */
const LOGGED_KEPT = 1000;

/** The agent a status or heartbeat topic is about, and which of the two it is; undefined for other topics. */
export function presenceOf(topic: string): { agent: string; kind: 'status' | 'load' } | undefined {
  const status = topicName(topic, 'agents', 'status');
  if (status !== undefined) return { agent: status, kind: 'status' };
  const load = topicName(topic, 'agents', 'load');
  return load === undefined ? undefined : { agent: load, kind: 'load' };
}

/**
 * Which agent statuses and heartbeats a peer with a key believes (issue 16): they steer
 * placement, takeovers and what `ps` and followers say, so in a signed fleet only those
 * the agent itself signed count. A message is refused when it is unsigned or forged,
 * about another agent than its signer (or its topic), or older than the newest this peer
 * took from that agent (a replay): heartbeats by their `ts`, statuses too, except the
 * offline status of the instance last heard (the last will, signed when the agent
 * connected, is older than the online status that followed it). A heartbeat more than
 * the clock window ({@link MAX_SKEW_MS}) old is refused even by a peer that has heard
 * nothing newer; a status is not (one is retained for as long as its agent runs).
 */
export class PresenceCheck {
  readonly #key: MessageSigner;
  readonly #now: () => number;
  /** The newest status or heartbeat taken per topic: its time and instance. */
  readonly #newest = new Map<string, { ts: number; instance: string }>();
  readonly #logged = new Set<string>();
  readonly #log: (line: string) => void;

  constructor(key: MessageSigner, log: (line: string) => void, now: () => number = Date.now) {
    this.#key = key;
    this.#log = log;
    this.#now = now;
  }

  /** Whether the status or heartbeat `payload` on `topic` may be believed; logs a refusal once per topic and reason. */
  accept(topic: string, payload: Buffer): boolean {
    const why = this.check(topic, payload);
    if (why === undefined) return true;
    const line = `${topic}: ${why}`;
    if (!this.#logged.has(line)) {
      if (this.#logged.size >= LOGGED_KEPT) this.#logged.clear();
      this.#logged.add(line);
      this.#log(`ignored a ${topic.endsWith('/load') ? 'heartbeat' : 'status'} on ${topic}: ${why}`);
    }
    return false;
  }

  /**
   * Why the status or heartbeat `payload` on `topic` may not be believed (undefined: it
   * may, or `topic` is neither), without logging; a believed one becomes the newest heard.
   */
  check(topic: string, payload: Buffer): string | undefined {
    const about = presenceOf(topic);
    if (!about) return undefined;
    if (payload.length === 0) return undefined; // cleared: nothing to believe either way
    let doc: Record<string, unknown>;
    try {
      const o: unknown = JSON.parse(payload.toString());
      if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
      doc = o as Record<string, unknown>;
    } catch {
      return 'not JSON';
    }
    if (doc.agent !== about.agent) return `it is about ${JSON.stringify(doc.agent)}, on ${about.agent}'s topic`;
    const verdict = this.#key.verify(doc, { signer: about.agent, type: 'presence' });
    if (verdict !== undefined) return verdict === 'unsigned' ? 'unsigned (this fleet signs statuses and heartbeats)' : verdict;
    const ts = doc.ts;
    const instance = doc.instance;
    if (typeof ts !== 'number' || !Number.isFinite(ts) || typeof instance !== 'string') return 'no signed time or instance (an older wasmig?)';
    const now = this.#now();
    if (ts > now + MAX_SKEW_MS) return `dated ${Math.round((ts - now) / 1000)} s ahead of this clock`;
    if (about.kind === 'load' && ts < now - MAX_SKEW_MS) return `a heartbeat ${Math.round((now - ts) / 1000)} s old (replayed?)`;
    const newest = this.#newest.get(topic);
    const lastWill = about.kind === 'status' && doc.online === false && newest?.instance === instance;
    if (newest && ts < newest.ts && !lastWill) return `older than the last one heard from ${about.agent} (replayed?)`;
    if (!newest || ts >= newest.ts) this.#newest.set(topic, { ts, instance });
    return undefined;
  }
}
