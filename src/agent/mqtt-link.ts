/**
 * The one file that talks to mqtt.js: a connection to the broker that negotiates the
 * MQTT version (5 when the broker speaks it, else 3.1.1: aedes refuses 5), reconnects,
 * and turns callbacks into promises. Everything else in `agent/` sees only {@link MqttLink}.
 * @module
 */
import { connect } from 'mqtt';
import type { IClientOptions, IClientPublishOptions, IConnackPacket, MqttClient } from 'mqtt';
import { WasmigError } from '../errors/index.ts';
import type { ConnectionOptions } from './connection.ts';
import { displayUrl } from './connection.ts';

/** The MQTT version a link ended up speaking. */
export type MqttVersion = '3.1.1' | '5';

export interface LinkOptions {
  connection: ConnectionOptions;
  clientId: string;
  /** Published by the broker when the link dies without saying goodbye. */
  will?: { topic: string; payload: Buffer; retain: boolean };
  keepaliveSeconds?: number;
  /**
   * Keep reconnecting (agents): the first connection is retried until it works.
   * Without it (one-shot commands) the first failure rejects `open`; later drops still
   * reconnect, so a client follows a job across a broker restart.
   */
  persistent: boolean;
  onMessage: (topic: string, payload: Buffer) => void;
  /** Each (re)connection; `first` is true only once. */
  onConnect?: (info: { first: boolean; version: MqttVersion }) => void;
  onDisconnect?: () => void;
  /** Transient trouble worth a log line (a refused connection while retrying). */
  onWarning?: (message: string) => void;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
  /** MQTT 5 message expiry; ignored on 3.1.1. */
  expirySeconds?: number;
}

const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** CONNACK codes: 3.1.1 return codes and MQTT 5 reason codes, as people read them. */
const REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
  132: 'unsupported protocol version',
  133: 'client identifier not valid',
  134: 'bad user name or password',
  135: 'not authorized',
  136: 'server unavailable',
  137: 'server busy',
  138: 'banned',
};

function describe(error: Error & { code?: unknown }): string {
  if (typeof error.code === 'number' && REFUSALS[error.code]) return `broker refused the connection: ${REFUSALS[error.code]}`;
  if (typeof error.code === 'string') return `${error.code}${error.message && !error.message.includes(error.code) ? ` (${error.message})` : ''}`;
  return error.message;
}

function isVersionRefusal(error: Error & { code?: unknown }): boolean {
  return error.code === 1 || error.code === 132;
}

/** A broker connection; see the module comment. */
export class MqttLink {
  #client!: MqttClient;
  #version: MqttVersion;
  #maxPacket: number | undefined;
  #everConnected = false;
  #closed = false;
  #warned = false;
  readonly #options: LinkOptions;

  private constructor(options: LinkOptions) {
    this.#options = options;
    this.#version = options.connection.protocol === '3.1.1' ? '3.1.1' : '5';
  }

  /** Connects; resolves once the broker accepted us. */
  static open(options: LinkOptions): Promise<MqttLink> {
    const link = new MqttLink(options);
    return new Promise((resolve, reject) => link.#start(resolve, reject));
  }

  get connected(): boolean {
    return !this.#closed && this.#client.connected;
  }

  get version(): MqttVersion {
    return this.#version;
  }

  /** The largest packet the broker takes (MQTT 5 CONNACK), when it said. */
  get maxPacketSize(): number | undefined {
    return this.#maxPacket;
  }

  #start(resolve: (link: MqttLink) => void, reject: (error: Error) => void): void {
    const o = this.#options;
    const c = o.connection;
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: true,
      keepalive: o.keepaliveSeconds ?? 15,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      protocolVersion: this.#version === '5' ? 5 : 4,
      resubscribe: true,
    };
    if (c.username !== undefined) options.username = c.username;
    if (c.password !== undefined) options.password = c.password;
    if (c.ca !== undefined) options.ca = c.ca;
    if (o.will) options.will = { topic: o.will.topic, payload: o.will.payload, qos: 1, retain: o.will.retain };
    const client = connect(c.url, options);
    this.#client = client;
    let settled = false;
    client.on('connect', (connack: IConnackPacket) => {
      if (client !== this.#client) return;
      // Requests and answers are small packets: Nagle's algorithm would hold each one
      // for the peer's delayed ACK (40 ms on Linux) and multiply a handoff's downtime.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.#maxPacket = connack.properties?.maximumPacketSize;
      const first = !this.#everConnected;
      this.#everConnected = true;
      this.#warned = false;
      o.onConnect?.({ first, version: this.#version });
      if (!settled) {
        settled = true;
        resolve(this);
      }
    });
    client.on('message', (topic: string, payload: Buffer) => {
      if (client === this.#client) o.onMessage(topic, payload);
    });
    client.on('close', () => {
      if (client === this.#client && this.#everConnected && !this.#closed) o.onDisconnect?.();
    });
    client.on('error', (error: Error & { code?: unknown }) => {
      if (client !== this.#client || this.#closed) return;
      if (!this.#everConnected && isVersionRefusal(error) && this.#version === '5' && c.protocol !== '5') {
        // The broker speaks 3.1.1 only (aedes): say it again in 3.1.1, and keep to it.
        this.#version = '3.1.1';
        client.end(true);
        this.#start((link) => { if (!settled) { settled = true; resolve(link); } }, (e) => { if (!settled) { settled = true; reject(e); } });
        return;
      }
      const message = `cannot connect to broker ${displayUrl(c.url)}: ${describe(error)}`;
      const transient = typeof error.code === 'string' && TRANSIENT.has(error.code);
      if (!this.#everConnected && (!transient || !o.persistent)) {
        client.end(true);
        this.#closed = true;
        if (!settled) {
          settled = true;
          reject(new WasmigError('ERR_BROKER', message, { cause: error }));
        }
        return;
      }
      if (!this.#warned) {
        this.#warned = true;
        o.onWarning?.(`${message}; retrying`);
      }
    });
  }

  /**
   * Publishes; resolves when the broker has it (QoS 1) or once sent (QoS 0). An MQTT 5
   * broker that refuses it (a PUBACK reason code, e.g. not authorized) rejects with a
   * `WasmigError` of code `ERR_REFUSED`.
   */
  publish(topic: string, payload: Buffer | Uint8Array | string, options: PublishOptions = {}): Promise<void> {
    const opts: IClientPublishOptions = { qos: options.qos ?? 1, retain: options.retain ?? false };
    if (options.expirySeconds !== undefined && this.#version === '5') opts.properties = { messageExpiryInterval: options.expirySeconds };
    const body = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise((resolve, reject) => {
      if (this.#closed) { reject(new WasmigError('ERR_BROKER', 'the broker connection is closed')); return; }
      this.#client.publish(topic, body, opts, (error) => {
        if (!error) { resolve(); return; }
        const code = (error as Error & { code?: unknown }).code;
        reject(typeof code === 'number' && code >= 128 ? new WasmigError('ERR_REFUSED', `the broker refused a message on ${topic}: ${error.message}`, { cause: error }) : error);
      });
    });
  }

  /**
   * Subscribes to `topics` in one SUBSCRIBE, in their order. A topic subscribed already is
   * subscribed again (MQTT.js would leave it out): the broker then sends its retained
   * messages again, which a barrier behind them needs (`Peer.listenRetained`).
   */
  subscribe(topics: string[]): Promise<void> {
    const request: Record<string, unknown> = { resubscribe: true };
    for (const topic of topics) request[topic] = { qos: 1, nl: false, rap: false, rh: 0 };
    return new Promise((resolve, reject) => {
      this.#client.subscribe(request as never, { qos: 1 }, (error, granted) => {
        if (error) { reject(error); return; }
        // 0x80 in 3.1.1; in MQTT 5 every reason code from 0x80 up (0x87: not authorized).
        const refused = (granted ?? []).find((g) => g.qos >= 128);
        if (refused) reject(new WasmigError('ERR_REFUSED', `the broker refused the subscription to ${refused.topic}`));
        else resolve();
      });
    });
  }

  unsubscribe(topics: string[]): Promise<void> {
    return new Promise((resolve) => {
      this.#client.unsubscribe(topics, () => resolve());
    });
  }

  /** Disconnects cleanly (no last will); `force` drops the socket at once. */
  close(force = false): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#client.end(true); resolve(); }, 2000);
      this.#client.end(force, {}, () => { clearTimeout(timer); resolve(); });
    });
  }
}
