import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { AedesOptions, AuthenticateError } from 'aedes';
import { listenOn } from './listen.ts';

export interface BrokerOptions {
  /** TCP port (0: any free one). Default 1883, or 8883 with TLS. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1: a laptop's broker is not a public one. */
  host?: string;
  /** When given, clients must log in with this user name and password. */
  username?: string;
  password?: string;
  /** PEM certificate and key: the broker speaks MQTT over TLS (`mqtts://`). */
  tls?: { cert: Buffer; key: Buffer };
  /**
   * Also serve MQTT over WebSocket on this port (0: any free one), on the same address,
   * for browsers (`ws://HOST:PORT`, `wss://` with `tls`; any path). The same broker: a client over WebSocket and
   * one over TCP see each other's messages, retained ones and wills.
   */
  wsPort?: number;
  /** Where aedes keeps retained messages and sessions (default: in memory), e.g. an aedes-persistence-redis instance. */
  persistence?: AedesOptions['persistence'];
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** `ws://HOST:PORT` (`wss://` with TLS) when {@link BrokerOptions.wsPort} was given. */
  readonly wsUrl?: string;
  /** Clients connected right now. */
  readonly clients: number;
  /** Stops listening, drops every client (their last wills fire) and frees the port. */
  close(): Promise<void>;
}

/**
 * Largest WebSocket message taken: the biggest MQTT packet the protocol sends (a 256 KiB
 * chunk, its header and topic; docs/brokers.md, item 6) with room to spare. A WebSocket
 * message may hold several packets, or part of one, so this bounds memory, not packets.
 */
const MAX_WS_PAYLOAD = 1 << 20;


function same(a: string, b: Buffer | string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Starts aedes (MQTT 3.1.1, retained messages, last wills, in-memory persistence) on a
 * TCP or TLS port, and optionally over WebSocket too (browsers): the broker `wasmig broker`
 * runs, good for a laptop or a lab fleet.
 * A restart loses its retained messages; agents publish theirs again when they reconnect.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (options.tls ? 8883 : 1883);
  const auth = options.username !== undefined || options.password !== undefined;
  const settings: AedesOptions = { drainTimeout: 30_000, concurrency: 200 };
  if (options.persistence) settings.persistence = options.persistence;
  if (auth) {
    settings.authenticate = (_client, username, password, done) => {
      if (username !== undefined && password !== undefined && same(options.username ?? '', username) && same(options.password ?? '', password)) {
        done(null, true);
      } else {
        const error = new Error('bad user name or password') as AuthenticateError;
        error.returnCode = 4;
        done(error, null);
      }
    };
  }
  const aedes = await Aedes.createBroker(settings);
  const sockets = new Set<Socket>();
  const handle = (socket: Socket): void => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    aedes.handle(socket);
  };
  const server: Server = options.tls ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handle) : createServer(handle);
  // Over WebSocket, aedes reads the same MQTT byte stream: each connection's messages
  // become a duplex stream (`ws` frames carry MQTT packets, binary, as MQTT-over-WebSocket
  // says; browsers ask for the subprotocol `mqtt`, which is accepted).
  let web: { http: HttpServer; wss: WebSocketServer } | undefined;
  if (options.wsPort !== undefined) {
    const refuse = (_request: unknown, response: import('node:http').ServerResponse): void => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with a WebSocket client\n');
    };
    // With TLS, WebSocket goes over TLS too (wss://), with the same certificate.
    const http: HttpServer = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, refuse) : createHttpServer(refuse);
    http.on('connection', (socket) => { sockets.add(socket); socket.setNoDelay(true); socket.on('close', () => sockets.delete(socket)); });
    const wss = new WebSocketServer({ server: http, maxPayload: MAX_WS_PAYLOAD, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false) });
    // ws re-emits every error of its HTTP server here; the one that matters, a failed
    // listen, is the HTTP server's own and `listenOn` reports it. Without a listener the
    // re-emit would throw (an uncaught "Unhandled 'error' event" in place of that line).
    wss.on('error', () => {});
    wss.on('connection', (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      aedes.handle(stream as unknown as Socket);
    });
    web = { http, wss };
  }
  const closeAll = async (): Promise<void> => {
    await new Promise<void>((resolve) => { if (server.listening) server.close(() => resolve()); else resolve(); for (const socket of sockets) socket.destroy(); });
    if (web) {
      for (const ws of web.wss.clients) ws.terminate();
      await new Promise<void>((resolve) => web!.wss.close(() => resolve()));
      await new Promise<void>((resolve) => { if (web!.http.listening) web!.http.close(() => resolve()); else resolve(); });
    }
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  };
  try {
    await listenOn(server, port, host, 'ERR_BROKER', 'another broker?');
    if (web) await listenOn(web.http, options.wsPort!, host, 'ERR_BROKER', 'another broker?');
  } catch (cause) {
    await closeAll();
    throw cause;
  }
  const actual = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'mqtts' : 'mqtt';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${urlHost}:${actual}`,
    host,
    port: actual,
    wsUrl: web ? `${options.tls ? 'wss' : 'ws'}://${urlHost}:${(web.http.address() as AddressInfo).port}` : undefined,
    get clients() {
      return aedes.connectedClients;
    },
    close() {
      closing ??= closeAll();
      return closing;
    },
  };
}
