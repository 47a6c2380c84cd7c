import { WasmigError } from '../errors/index.ts';
import type { ConnectionOptions } from './connection.ts';
import { errorText } from './error-text.ts';
import { Latch } from './latch.ts';
import type { Message, Reply, Request } from './messages.ts';
import { newId, parseMessage, PROTOCOL_VERSION, ProtocolError } from './messages.ts';
import { MqttLink } from './mqtt-link.ts';
import { sendBlob } from './transfer.ts';
import type { BlobCipher, ChunkOpener, ChunkSealer, SessionKey } from './blob-cipher.ts';
import { PresenceCheck } from './presence-check.ts';
import { topicName, topics } from './topics.ts';
import { hopClockMs } from './hop-clock.ts';
import { ReplayGuard } from './replay-guard.ts';
import type { MessageSigner } from './signing.ts';
import { SESSION_TYPES, sessionMacValid, withSessionMac } from './session-mac.ts';

/** What a request carries besides the envelope. */
export type RequestBody = { type: Request['type'] | 'sync' } & Record<string, unknown>;

export interface PeerOptions {
  connection: ConnectionOptions;
  /** Agent name, or a client id. */
  id: string;
  /** Topic this peer's requests and replies arrive on. */
  inbox: string;
  /** The fleet key or this device's identity: everything sent is signed, everything received must be. */
  key?: MessageSigner;
  /**
   * The file that keeps replay protection's high-water marks across restarts (see
   * replay-guard.ts); none: in memory only (clients, whose inbox is new every run).
   */
  replayStore?: string;
  will?: { topic: string; payload: Buffer; retain: boolean };
  persistent: boolean;
  /** Requests that passed validation and the signature check. */
  onRequest: (request: Request) => void;
  onConnect?: (info: { first: boolean; version: string }) => void;
  /**
   * After a reconnection, once the broker has confirmed this connection's inbox
   * subscription: from then on a request sent here arrives. An agent says it is online
   * again only then (before, a `migrate` asked in between went to an inbox nobody was
   * subscribed to, and its client, which had seen the agent online, waited out its timeout).
   */
  onInboxReady?: () => void;
  /** A status or heartbeat on `topic` was refused (presence-check.ts): an agent puts its own back. */
  onRefusedPresence?: (topic: string) => void;
  onDisconnect?: () => void;
  log: (line: string) => void;
  /**
   * How long a wait on the broker (reading retained messages, `sync`) rides out a lost
   * connection before it fails (default {@link BROKER_PATIENCE_MS}).
   */
  brokerPatienceMs?: number;
}

/** How long waits on the broker ride out a lost connection, by default. */
export const BROKER_PATIENCE_MS = 60_000;
/** How long `listenRetained` waits for the retained messages of a broker that delivers markers. */
const RETAINED_WAIT_MS = 30_000;
/** How long the probe marker may take before this read falls back to quiet round trips... */
const PROBE_WAIT_MS = 10_000;
/** ...and how many such probes in a row make this peer conclude that the broker never delivers them. */
const PROBES_LOST_LIMIT = 2;

/** The connection a wait was on went away (internal: the wait starts over). */
class Reconnected extends Error {}

interface Waiter {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  onProgress?: (reply: Reply) => void;
  timer: NodeJS.Timeout;
}

interface Mailbox {
  queue: Reply[];
  waiter?: Waiter;
  /** The request as published, sent again on each new connection (see `send`'s `resendOnReconnect`). */
  resend?: { topic: string; payload: string };
}

/**
 * Requests whose final answer a peer keeps (the last {@link ANSWERS_KEPT}) and sends
 * again when the same request comes again: their requester re-sends them after a
 * reconnection, as an answer published while it was away (a broker restart) is lost.
 */
const REANSWERED = new Set(['migrate']);
const ANSWERS_KEPT = 1000;
/**
 * How long before a connection dropped an answer it carried may still have been lost
 * with it (a broker acknowledges a message before it delivers it): such answers are sent
 * again after the reconnection (`#sendLostAgain`). Older ones reached their requester, or
 * it was away and asks again itself; sending them would only repeat old traffic (and, in a
 * signed fleet, an answer older than the replay window is refused with a log line).
 */
const ANSWER_LOSS_MS = 10_000;

/**
 * Messages whose replay protection need not outlive this run, so they cost the replay
 * guard no file write (replay-guard.ts): each one acts only on something that a restart
 * of this peer drops. Replies and `sync` answer requests of this run; a `lease` replayed after a restart only delays a takeover (and would cost a write a few times a second per owner); `round`, `final`,
 * `commit` and `abort` go on with a handoff received here, which lives in memory, and
 * was opened by a `prepare` whose mark is written (so after a restart the `prepare` is
 * refused, and the steps that follow find no handoff to act on). Within a run, every id
 * is remembered all the same. The write was on a live move's pause twice (`final`,
 * `commit`) and, on a busy disk, cost 1-10 ms of its downtime each time.
 */
const IN_RUN_ONLY = new Set(['reply', 'sync', 'lease', 'round', 'final', 'commit', 'abort']);

/** Receives the messages of the topics it listens to. */
export type TopicHandler = (topic: string, payload: Buffer) => void;

/** Whether an MQTT topic filter matches a topic (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** The protocol's retained topics: their last message is kept for late listeners. */
function isRetainedTopic(topic: string): boolean {
  return topic.endsWith('/state') || topic.endsWith('/status') || topic.endsWith('/load');
}

export interface WaitOptions {
  timeoutMs: number;
  /** Names the peer in the timeout message. */
  who: string;
  onProgress?: (reply: Reply) => void;
  signal?: AbortSignal;
}

/** No answer in time: the peer is gone, busy or unreachable. */
export class TimeoutError extends WasmigError {
  override readonly name = 'TimeoutError';
  constructor(message: string) {
    super('ERR_TIMEOUT', message);
  }
}

/**
 * One participant of the fleet protocol on top of an {@link MqttLink}: it signs what it
 * sends, verifies what it receives (dropping unsigned or forged messages with a log line
 * and, for requests, a refusal), and pairs replies with requests.
 */
export class Peer {
  readonly link: MqttLink;
  readonly id: string;
  readonly inbox: string;
  readonly #options: PeerOptions;
  readonly #mailboxes = new Map<string, Mailbox>();
  readonly #guard: ReplayGuard;
  readonly #recent = new Set<string>();
  /** Handoff sessions open here (session-mac.ts), by id: whom each is with, and its key. */
  readonly #sessions = new Map<string, { peer: string; key: Buffer }>();
  readonly #routes: { filter: string; fn: TopicHandler }[] = [];
  readonly #subscriptions = new Map<string, { count: number; ready: Promise<void> }>();
  readonly #unsubscribing = new Map<string, Promise<void>>();
  /** Last message of each retained topic listened to (a late listener gets it too). */
  readonly #last = new Map<string, Buffer>();
  /** Retained barrier markers (see `listenRetained`): a topic beside the inbox, numbered. */
  readonly #markerBase: string;
  #markers = 0;
  /** False once the broker showed it does not deliver markers (an ACL): quiet round trips then. */
  #markersWork = true;
  /** Probes in a row that never came back (see `listenRetained`). */
  #probesLost = 0;
  /** Counts connections: a wait on one connection starts over on the next. */
  #generation = 1;
  readonly #linkWaiters = new Set<() => void>();
  readonly #patienceMs: number;
  /** Final answers to {@link REANSWERED} requests, by request id, oldest first, with the connection they were published on and when. */
  readonly #answers = new Map<string, { topic: string; payload: string; generation: number; at: number }>();
  /** When the link last dropped (`Date.now()`; its failed attempts to reconnect do not count), and on which connection. */
  #droppedAt = 0;
  #droppedGeneration = 0;
  /** With a key: which agent statuses and heartbeats to believe (presence-check.ts). */
  readonly #presence: PresenceCheck | undefined;
  /** Set by `close`: waits it ends say so. */
  #closing = false;

  private constructor(link: MqttLink, options: PeerOptions, guard: ReplayGuard) {
    this.link = link;
    this.id = options.id;
    this.inbox = options.inbox;
    this.#options = options;
    this.#markerBase = `${options.inbox.slice(0, options.inbox.lastIndexOf('/') + 1)}marker-`;
    this.#patienceMs = options.brokerPatienceMs ?? BROKER_PATIENCE_MS;
    this.#guard = guard;
    this.#presence = options.key ? new PresenceCheck(options.key, options.log) : undefined;
  }

  static async open(options: PeerOptions): Promise<Peer> {
    // Before connecting: a state dir that cannot be used fails the start, with no link left open.
    const guard = new ReplayGuard(options.key ? options.replayStore : undefined);
    let peer: Peer | undefined;
    const early: [string, Buffer][] = [];
    const link = await MqttLink.open({
      connection: options.connection,
      clientId: `wasmig-${options.id}-${newId().slice(0, 8)}`,
      will: options.will,
      persistent: options.persistent,
      onMessage: (topic, payload) => {
        if (peer) peer.#dispatch(topic, payload);
        else early.push([topic, payload]);
      },
      onConnect: (info) => { if (peer) peer.#linkChanged(true); options.onConnect?.(info); },
      onDisconnect: () => { if (peer) peer.#linkChanged(false); options.onDisconnect?.(); },
      onWarning: (message) => options.log(message),
    });
    peer = new Peer(link, options, guard);
    await link.subscribe([options.inbox]);
    for (const [topic, payload] of early) peer.#dispatch(topic, payload);
    return peer;
  }

  /** This peer's connection number: it grows at each reconnection (standbys restart counts on it). */
  get connection(): number {
    return this.#generation;
  }

  get signed(): boolean {
    return this.#options.key !== undefined;
  }

  /**
   * Routes the messages of `filters` to `fn` until the returned function is called.
   * Subscriptions are counted per filter, so listeners come and go independently; one
   * that joins a filter already subscribed gets the last retained messages at once,
   * unless `resend` asks the broker to send them again (they may still be on their way
   * for the first listener: `listenRetained` needs them behind its marker).
   */
  async listen(filters: string[], fn: TopicHandler, options: { resend?: boolean } = {}): Promise<() => void> {
    const routes = filters.map((filter) => ({ filter, fn }));
    this.#routes.push(...routes);
    const waits: Promise<void>[] = [];
    const joined: string[] = [];
    const fresh: string[] = [];
    const again: string[] = [];
    for (const filter of filters) {
      const sub = this.#subscriptions.get(filter);
      if (sub) {
        sub.count++;
        waits.push(sub.ready);
        if (options.resend) again.push(filter);
        else joined.push(filter);
      } else {
        fresh.push(filter);
      }
    }
    if (fresh.length > 0 || again.length > 0) {
      // One SUBSCRIBE for the filters, in their order: brokers send the retained messages
      // filter by filter (`listenRetained` counts on it). Subscribing again to a filter
      // replaces its subscription, and the broker sends its retained messages again.
      const ordered = filters.filter((f) => fresh.includes(f) || again.includes(f));
      const before = [...waits];
      const ready = (async () => {
        await Promise.all([...fresh.map((filter) => this.#unsubscribing.get(filter)), ...before]);
        await this.link.subscribe(ordered);
      })();
      for (const filter of fresh) this.#subscriptions.set(filter, { count: 1, ready });
      waits.push(ready);
    }
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      for (const r of routes) {
        const i = this.#routes.indexOf(r);
        if (i >= 0) this.#routes.splice(i, 1);
      }
      for (const filter of filters) {
        const sub = this.#subscriptions.get(filter);
        if (!sub || --sub.count > 0) continue;
        this.#subscriptions.delete(filter);
        for (const topic of [...this.#last.keys()]) if (!this.#routes.some((r) => topicMatches(r.filter, topic))) this.#last.delete(topic);
        // A subscription that failed was reported to whoever awaited it; unsubscribe all the same.
        const gone = sub.ready.catch(() => {}).then(() => this.link.unsubscribe([filter])).finally(() => {
          if (this.#unsubscribing.get(filter) === gone) this.#unsubscribing.delete(filter);
        });
        this.#unsubscribing.set(filter, gone);
      }
    };
    try {
      await Promise.all(waits);
    } catch (error) {
      stop();
      throw error;
    }
    for (const filter of joined) {
      for (const [topic, payload] of this.#last) if (topicMatches(filter, topic)) fn(topic, payload);
    }
    return stop;
  }

  /**
   * Like `listen`, but resolves only once the broker has sent the retained messages of
   * `filters`. A broker sends those after the SUBACK, and aedes streams them while it
   * goes on routing, so a round trip is no barrier. A marker is: this peer stores a
   * retained nonce on a fresh topic beside its inbox, then subscribes to `filters` and
   * that topic in one packet; brokers that send a subscription's retained messages
   * filter by filter (aedes, mosquitto) send the nonce after everything `filters` hold.
   * aedes acknowledges a publish before it stores it, so the marker must be known to be
   * stored first: a second marker, published after it and subscribed to alone, comes
   * back once the broker has handled both.
   *
   * Once that probe came back, the marker is waited for, however late (up to
   * `maxMs`, then a {@link TimeoutError}: never a partial answer). A probe that does not
   * come back within {@link PROBE_WAIT_MS} makes this read count quiet round trips
   * instead (two in a row that bring nothing new, after at least a second). A broker
   * that refuses the markers (an ACL), or loses {@link PROBES_LOST_LIMIT} probes in a
   * row, gets quiet round trips from then on. A reconnection in between starts
   * over (a restarted broker forgot every retained message, agents publish theirs
   * again); a broker that stays away longer than the peer's patience is an error.
   */
  async listenRetained(filters: string[], fn: TopicHandler, maxMs = RETAINED_WAIT_MS): Promise<() => void> {
    const giveUpAt = Date.now() + this.#patienceMs;
    for (;;) {
      await this.#connected(giveUpAt);
      const generation = this.#generation;
      try {
        return await this.#readRetained(filters, fn, maxMs, generation);
      } catch (error) {
        // A subscription or round trip cut by a lost connection fails with whatever
        // mqtt.js says: start over on the next connection.
        const cut = error instanceof Reconnected || this.#generation !== generation || !this.link.connected;
        if (!cut || Date.now() >= giveUpAt) throw error instanceof Reconnected ? new TimeoutError('lost the broker while reading its retained messages') : error;
      }
    }
  }

  /** One attempt of `listenRetained` on the connection of `generation`. */
  async #readRetained(filters: string[], fn: TopicHandler, maxMs: number, generation: number): Promise<() => void> {
    if (!this.#markersWork) return this.#readQuiet(filters, fn, maxMs, generation);
    const marker = `${this.#markerBase}${this.#markers++}`;
    const probeTopic = `${this.#markerBase}${this.#markers++}`;
    const nonce = newId();
    const stored = new Latch();
    const arrived = new Latch();
    try {
      let probe: () => void;
      try {
        await this.link.publish(marker, nonce, { retain: true, qos: 1 });
        await this.link.publish(probeTopic, nonce, { retain: true, qos: 1 });
        probe = await this.listen([probeTopic], (_topic, payload) => { if (payload.toString() === nonce) stored.set(); });
      } catch (error) {
        // An ACL that forbids the marker topics: refused outright (an MQTT 5 PUBACK, a SUBACK).
        if (!(error instanceof WasmigError && error.code === 'ERR_REFUSED')) throw error;
        this.#noMarkers(`the broker refused a marker (${error.message})`);
        return await this.#readRetained(filters, fn, maxMs, generation);
      }
      try {
        await this.#until(stored, Math.min(maxMs, PROBE_WAIT_MS), generation);
      } finally {
        probe();
      }
      if (!stored.isSet) {
        // Silence may be a moment of overload: give up on markers only when it repeats.
        if (++this.#probesLost >= PROBES_LOST_LIMIT) this.#noMarkers(`the broker did not deliver a retained marker within ${PROBE_WAIT_MS / 1000} s, ${this.#probesLost} times`);
        return await this.#readQuiet(filters, fn, maxMs, generation);
      }
      this.#probesLost = 0;
      const stop = await this.listen([...filters, marker], (topic, payload) => {
        if (topic === marker) {
          if (payload.toString() === nonce) arrived.set();
        } else if (topic !== probeTopic) {
          fn(topic, payload);
        }
      }, { resend: true });
      try {
        await this.#until(arrived, maxMs, generation);
        if (!arrived.isSet) throw new TimeoutError(`the broker did not send its retained messages (${filters.join(', ')}) within ${Math.round(maxMs / 1000)} s`);
      } catch (error) {
        stop();
        throw error;
      }
      return stop;
    } finally {
      // The markers served their purpose: the broker forgets them.
      for (const topic of [marker, probeTopic]) {
        this.link.publish(topic, '', { retain: true }).catch((error: unknown) => this.#options.log(`retained marker ${topic} not cleared: ${errorText(error)}`));
      }
    }
  }

  /** `listenRetained` without a marker: until two round trips in a row bring nothing new. */
  async #readQuiet(filters: string[], fn: TopicHandler, maxMs: number, generation: number): Promise<() => void> {
    let count = 0;
    const stop = await this.listen(filters, (topic, payload) => { count++; fn(topic, payload); }, { resend: true });
    try {
      await this.#waitQuiet(() => count, maxMs, generation);
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  #noMarkers(why: string): void {
    this.#markersWork = false;
    this.#options.log(`${why}: reading retained messages by quiet round trips from now on (docs/brokers.md)`);
  }

  /**
   * Waits until `done` is set, or `ms` passed; throws {@link Reconnected} when the
   * connection of `generation` went away meanwhile. Woken by the latch itself, not by
   * polling it: a poll every 10 ms cost each retained read about two polls (20 ms).
   */
  async #until(done: Latch, ms: number, generation: number): Promise<void> {
    if (!done.isSet && this.#generation === generation && this.link.connected) {
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          undo();
          this.#linkWaiters.delete(finish);
          resolve();
        };
        const timer = setTimeout(finish, ms);
        const undo = done.onSet(finish);
        // A lost or renewed connection wakes it too.
        this.#linkWaiters.add(finish);
      });
    }
    if (this.#generation !== generation || (!done.isSet && !this.link.connected)) throw new Reconnected();
  }

  /** Round trips to the broker until `count()` stayed still over two of them and a second passed, or `maxMs`. */
  async #waitQuiet(count: () => number, maxMs: number, generation: number): Promise<void> {
    const started = Date.now();
    let last = count();
    let quiet = 0;
    while (Date.now() - started < maxMs && !(quiet >= 2 && Date.now() - started >= 1000)) {
      if (this.#generation !== generation) throw new Reconnected();
      await this.sync();
      if (this.#generation !== generation) throw new Reconnected();
      await new Promise((resolve) => setTimeout(resolve, 10));
      const now = count();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
  }

  /** The link connected again (or dropped): wakes whoever waits for it. */
  #linkChanged(connected: boolean): void {
    if (connected) {
      this.#generation++;
      void this.#sendLostAgain(this.#generation);
    } else if (this.#droppedGeneration !== this.#generation) {
      this.#droppedGeneration = this.#generation;
      this.#droppedAt = Date.now();
    }
    const waiters = [...this.#linkWaiters];
    this.#linkWaiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * After a reconnection (a broker restart forgets every subscription): once the broker
   * has confirmed this connection's inbox subscription, sends again the requests that
   * ask for it (`resendOnReconnect`) and the answers kept for such requests that were
   * published while the link was down or in the {@link ANSWER_LOSS_MS} before it dropped
   * (held by MQTT.js and sent on reconnecting, to an inbox not subscribed yet, or taken by
   * a broker that died before delivering them). Both wait for the
   * confirmation, on both sides, because MQTT.js restores subscriptions only after it has
   * sent what it held while offline: an answerer's answer then goes out before its inbox
   * is subscribed again, and a requester that reconnected in between sent its request
   * again to an inbox nobody was subscribed to. Both were lost, and `migrate` waited out
   * its timeout (a fault-matrix cell, "broker killed at prepare", on a loaded machine).
   * Sent after the confirmation, whichever side comes second finds the other subscribed:
   * a repeated request is answered again from the answers kept, a repeated answer is
   * taken once (`#recent`).
   */
  async #sendLostAgain(generation: number): Promise<void> {
    try {
      await this.link.subscribe([this.inbox]);
    } catch {
      return; // the connection dropped again: the next one does this
    }
    if (this.#generation !== generation || !this.link.connected) return;
    this.#options.onInboxReady?.();
    this.resendRequests();
    for (const answer of this.#answers.values()) {
      if (answer.generation >= generation - 1 && answer.at >= this.#droppedAt - ANSWER_LOSS_MS) this.link.publish(answer.topic, answer.payload, { qos: 1 }).catch(() => {});
    }
  }

  /** Resolves once the link is up; rejects when it is still down at `giveUpAt`. */
  #connected(giveUpAt: number): Promise<void> {
    if (this.link.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#linkWaiters.delete(wake);
        reject(new TimeoutError(`lost the broker and it did not come back within ${Math.round(this.#patienceMs / 1000)} s`));
      }, Math.max(0, giveUpAt - Date.now()));
      const wake = (): void => {
        if (!this.link.connected) { this.#linkWaiters.add(wake); return; }
        clearTimeout(timer);
        resolve();
      };
      this.#linkWaiters.add(wake);
    });
  }

  #dispatch(topic: string, payload: Buffer): void {
    if (topic !== this.inbox) {
      // A forged or replayed status or heartbeat reaches no listener, and is not kept for late ones.
      if (this.#presence && !this.#presence.accept(topic, payload)) { this.#options.onRefusedPresence?.(topic); return; }
      const routes = this.#routes.filter((r) => topicMatches(r.filter, topic));
      if (routes.length && isRetainedTopic(topic)) this.#last.set(topic, payload);
      for (const r of routes) r.fn(topic, payload);
      return;
    }
    const at = hopClockMs();
    let message: Message;
    try {
      message = parseMessage(payload);
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.#options.log(`dropped a malformed message on ${topic}: ${error.message}`);
        return;
      }
      throw error;
    }
    // QoS 1 may deliver a message twice (a resend after a reconnection): act on it once.
    if (this.#recent.has(message.id)) {
      // Asked again (the requester reconnected): the answer it may have missed, once more.
      const answer = this.#answers.get(message.id);
      if (answer) this.link.publish(answer.topic, answer.payload, { qos: 1 }).catch(() => {});
      return;
    }
    this.#recent.add(message.id);
    if (this.#recent.size > 10_000) for (const id of this.#recent) { this.#recent.delete(id); if (this.#recent.size <= 5_000) break; }
    const refusal = this.#check(message);
    if (refusal !== undefined) {
      this.#options.log(`refused ${message.type} ${message.type === 'reply' ? 'message' : 'request'} ${message.id.slice(0, 8)} from ${message.from}: ${refusal}`);
      if (message.type !== 'reply' && message.type !== 'sync' && message.replyTo) {
        this.reply(message, { ok: false, code: 'refused', message: `${this.id} refused the ${message.type} request: ${refusal}` });
      }
      return;
    }
    message.received = { at, checked: hopClockMs() };
    if (message.type === 'reply') this.#deliver(message);
    else if (message.type === 'sync') this.#deliver({ ...message, type: 'reply', re: message.id, ok: true, stage: 'done' });
    else this.#options.onRequest(message);
  }

  #check(message: Message): string | undefined {
    const key = this.#options.key;
    if (!key) return undefined;
    const why = message.mac !== undefined ? this.#checkSession(message) : key.verify(message, { signer: message.from, type: message.type });
    if (why !== undefined) return why === 'unsigned' ? 'unsigned message (this peer requires the fleet key or an identity: --key-file, --identity)' : why;
    // The signature covers the recipient: a message captured on one inbox and published
    // on another (another agent's, or a later client's) names the wrong one.
    if (message.recipient === undefined) return 'the message names no recipient (signed by an older wasmig?)';
    if (message.recipient !== this.inbox) return `the message is addressed to ${message.recipient}, not to ${this.inbox} (replayed from another inbox?)`;
    return this.#guard.check(message.from, message.id, message.ts, { durable: !IN_RUN_ONLY.has(message.type) });
  }

  /** Why a message authenticated by a handoff session (session-mac.ts) is not acceptable, or undefined. */
  #checkSession(message: Message): string | undefined {
    if (message.sig !== undefined || message.cert !== undefined) return 'both signed and session-authenticated';
    if (!SESSION_TYPES.has(message.type)) return `a ${message.type} message may not be session-authenticated`;
    const session = message.session === undefined ? undefined : this.#sessions.get(message.session);
    if (!session) return 'session-authenticated with no handoff session open here (over, or never opened)';
    if (session.peer !== message.from) return `sent as ${message.from} in a handoff session with ${session.peer}`;
    return sessionMacValid(message, session.key) ? undefined : 'bad session MAC (forged or altered)';
  }

  /**
   * Opens a handoff's session with `peer` (session-mac.ts): messages that `send` and
   * `reply` are given it carry its HMAC instead of a signature, and such messages from
   * `peer` are taken. Closed with {@link closeSession} when the handoff ends.
   */
  openSession(session: SessionKey, peer: string): void {
    this.#sessions.set(session.id, { peer, key: session.key });
    // A handoff that never closed its session (a crash mid-way) must not pile them up.
    if (this.#sessions.size > 1024) this.#sessions.delete(this.#sessions.keys().next().value!);
  }

  closeSession(id: string): void {
    this.#sessions.delete(id);
  }

  #deliver(reply: Reply): void {
    const box = this.#mailboxes.get(reply.re);
    if (!box) return;
    if (box.waiter) {
      const w = box.waiter;
      if (reply.stage === 'progress') { w.onProgress?.(reply); return; }
      box.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(reply);
    } else {
      box.queue.push(reply);
    }
  }

  /** `recipient`: the topic the message goes to, which names its recipient (signed with the rest). */
  #envelope(body: Record<string, unknown>, recipient: string, id = newId(), session?: SessionKey): Record<string, unknown> {
    const message = { ...body, v: PROTOCOL_VERSION, id, ts: Date.now(), from: this.id, recipient, replyTo: this.inbox };
    if (!this.#options.key) return message;
    return session !== undefined ? withSessionMac(message, session) : this.#options.key.sign(message);
  }

  /**
   * Sends a request and opens a mailbox for its replies; returns the request id.
   * `resendOnReconnect`: the same request (same id) goes out again on each new
   * connection while the mailbox is open, for requests whose answerer re-answers a
   * repeated id rather than acting twice ({@link REANSWERED}).
   */
  async send(topic: string, body: RequestBody, options: { resendOnReconnect?: boolean; session?: SessionKey } = {}): Promise<string> {
    const id = newId();
    const payload = JSON.stringify(this.#envelope(body, topic, id, options.session));
    this.#mailboxes.set(id, { queue: [], ...(options.resendOnReconnect ? { resend: { topic, payload } } : {}) });
    try {
      await this.link.publish(topic, payload, { qos: 1 });
    } catch (error) {
      this.#mailboxes.delete(id);
      throw error;
    }
    return id;
  }

  /**
   * Sends again the open requests that ask for it (`resendOnReconnect`), to `topic` only
   * when given: all of them after a reconnection of ours, and those to one answerer whose
   * own link dropped while this one stayed up. A request it already answered is answered
   * again; one it is acting on is taken once.
   */
  resendRequests(topic?: string): void {
    for (const box of this.#mailboxes.values()) {
      if (box.resend && (topic === undefined || box.resend.topic === topic)) this.link.publish(box.resend.topic, box.resend.payload, { qos: 1 }).catch(() => {});
    }
  }

  /** The next reply to request `id` that is not a progress report (those go to onProgress). */
  next(id: string, options: WaitOptions): Promise<Reply> {
    const box = this.#mailboxes.get(id);
    if (!box) return Promise.reject(new Error(`no mailbox for request ${id}`));
    while (box.queue.length) {
      const r = box.queue.shift() as Reply;
      if (r.stage === 'progress') options.onProgress?.(r);
      else return Promise.resolve(r);
    }
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      // Removed once the wait ends: a migration waits on one signal many times (each
      // round, each chunk), and listeners left on it piled up (Node warned at 11).
      const onAbort = (): void => {
        if (box.waiter !== waiter) return;
        box.waiter = undefined;
        clearTimeout(timer);
        reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
      };
      const settle = <T>(f: (value: T) => void) => (value: T): void => {
        signal?.removeEventListener('abort', onAbort);
        f(value);
      };
      const timer = setTimeout(() => {
        box.waiter = undefined;
        settle(reject)(new TimeoutError(`no answer from ${options.who} within ${Math.round(options.timeoutMs / 1000)} s`));
      }, options.timeoutMs);
      const waiter: Waiter = { resolve: settle(resolve), reject: settle(reject), onProgress: options.onProgress, timer };
      box.waiter = waiter;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Closes a request's mailbox (later replies are dropped). A `next` still waiting on it
   * fails at once with `ERR_CLOSED`: before, its timer was cleared and nothing settled it,
   * so whoever awaited it (and the abort listener it left on its signal) waited forever.
   */
  done(id: string): void {
    const box = this.#mailboxes.get(id);
    this.#mailboxes.delete(id);
    const waiter = box?.waiter;
    if (!box || !waiter) return;
    box.waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.reject(new WasmigError('ERR_CLOSED', `the wait for an answer to request ${id.slice(0, 8)} was given up (${this.#closing ? 'the peer closed' : 'its mailbox closed'})`));
  }

  /** send + next + done: for requests with one answer. */
  async request(topic: string, body: RequestBody, options: WaitOptions & { resendOnReconnect?: boolean }): Promise<Reply> {
    const id = await this.send(topic, body, { resendOnReconnect: options.resendOnReconnect });
    try {
      return await this.next(id, options);
    } finally {
      this.done(id);
    }
  }

  /**
   * Answers a request (best effort: a reply to a vanished peer is lost); resolves once
   * the broker has it.
   */
  reply(request: { id: string; replyTo?: string; type?: string }, fields: { ok: boolean; stage?: string; code?: string; message?: string; data?: Record<string, unknown> }, session?: SessionKey): Promise<void> {
    if (!request.replyTo) return Promise.resolve();
    const body = { type: 'reply', re: request.id, stage: 'done', ...fields };
    const payload = JSON.stringify(this.#envelope(body, request.replyTo, undefined, session));
    if (body.stage === 'done' && request.type !== undefined && REANSWERED.has(request.type)) {
      this.#answers.set(request.id, { topic: request.replyTo, payload, generation: this.#generation, at: Date.now() });
      if (this.#answers.size > ANSWERS_KEPT) this.#answers.delete(this.#answers.keys().next().value!);
    }
    return this.link.publish(request.replyTo, payload, { qos: 1 })
      .catch((error: unknown) => this.#options.log(`reply to ${request.replyTo} not published: ${errorText(error)}`));
  }

  /**
   * Waits until the broker has delivered everything queued for us before this call,
   * retained messages of earlier subscriptions included: a message to ourselves comes
   * back after them.
   */
  async sync(timeoutMs = 5000): Promise<void> {
    // A broker that restarts meanwhile is waited for (the peer's patience), not a timeout:
    // our message went down with the old connection, so ask again on the new one.
    const giveUpAt = Date.now() + this.#patienceMs;
    for (;;) {
      await this.#connected(giveUpAt);
      const generation = this.#generation;
      try {
        await this.request(this.inbox, { type: 'sync' }, { timeoutMs, who: 'the broker' });
        return;
      } catch (error) {
        if (!(error instanceof TimeoutError) || (this.#generation === generation && this.link.connected)) throw error;
      }
    }
  }

  /** The fleet key's end-to-end cipher (blob-cipher.ts); undefined without a key and with identities. */
  get cipher(): BlobCipher | undefined {
    return this.#options.key?.cipher;
  }

  /** What opens data sealed for this device (the fleet key, or this identity's X25519 key); undefined without a key. */
  get opener(): ChunkOpener | undefined {
    return this.#options.key?.opener;
  }

  /** Whether this peer signs with a device identity (which seals to each recipient) rather than the shared key. */
  get identified(): boolean {
    return this.#options.key !== undefined && this.#options.key.cipher === undefined && this.#options.key.sealerFor !== undefined;
  }

  /**
   * Sends a blob's chunks to `topic` (see transfer.ts), sealed for their recipient when the
   * fleet has a key or identities: with `sealer` when given (one made by `sealerFor` for
   * that recipient, shared by several transfers), else with a new one.
   */
  async sendBlob(topic: string, transfer: string, bytes: Uint8Array, options: { chunkBytes: number; onProgress?: (sent: number, total: number) => void; signal?: AbortSignal; sealer?: ChunkSealer }): Promise<number> {
    const agent = topicName(topic, 'agents', 'data');
    const cipher = options.sealer ?? (agent === undefined ? undefined : await this.sealerFor(agent));
    return sendBlob(this.link, topic, transfer, bytes, { ...options, cipher });
  }

  /**
   * What seals data for agent `agent`: the fleet key's cipher, or (identities) a fresh
   * key to the X25519 key of its certificate (a new X25519 key pair and key agreement at
   * each call: a sender that sends one recipient several blobs in a row, as a handoff
   * does, makes one and gives it to each `sendBlob`). A certificate comes with every message the
   * agent signs; when none came by yet, its signed retained status is read. Undefined
   * without a key; an identity that cannot find the agent's certificate throws.
   */
  async sealerFor(agent: string): Promise<ChunkSealer | undefined> {
    const key = this.#options.key;
    if (!key?.sealerFor) return undefined;
    let sealer = key.sealerFor(agent);
    if (!sealer) {
      const stop = await this.listenRetained([topics.agentStatus(agent)], () => {});
      stop();
      sealer = key.sealerFor(agent);
    }
    if (!sealer) throw new WasmigError('ERR_NO_KEY', `cannot encrypt for agent ${agent}: no valid certificate of it has come by (is it online, with an identity of this fleet?)`);
    return sealer;
  }

  /** Signs a retained state or any other JSON document, when this peer has a key. */
  signDocument<T extends object>(doc: T): T {
    return this.#options.key ? this.#options.key.sign(doc) : doc;
  }

  /** Why a signed document is not acceptable (undefined: fine, or no key here). */
  checkDocument(doc: object): string | undefined {
    return this.#options.key?.verify(doc, { signer: (doc as { agent?: string }).agent, type: 'state' });
  }

  close(force = false): Promise<void> {
    this.#closing = true;
    for (const id of [...this.#mailboxes.keys()]) this.done(id);
    return this.link.close(force);
  }
}
