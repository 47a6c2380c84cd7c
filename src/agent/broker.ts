import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import type { AedesOptions, AuthenticateError } from 'aedes';
import { WasmigError } from '../errors/index.ts';

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
  /** Where aedes keeps retained messages and sessions (default: in memory), e.g. an aedes-persistence-redis instance. */
  persistence?: AedesOptions['persistence'];
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Clients connected right now. */
  readonly clients: number;
  /** Stops listening, drops every client (their last wills fire) and frees the port. */
  close(): Promise<void>;
}

function same(a: string, b: Buffer | string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Starts aedes (MQTT 3.1.1, retained messages, last wills, in-memory persistence) on a
 * TCP or TLS port: the broker `wasmig broker` runs, good for a laptop or a lab fleet.
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
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
  } catch (cause) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use (another broker?)' : code === 'EACCES' ? 'permission denied' : (cause as Error).message;
    throw new WasmigError('ERR_BROKER', `cannot listen on ${host}:${port}: ${why}`, { cause });
  }
  const actual = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'mqtts' : 'mqtt';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${urlHost}:${actual}`,
    host,
    port: actual,
    get clients() {
      return aedes.connectedClients;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }).then(() => new Promise<void>((resolve) => aedes.close(() => resolve())));
      return closing;
    },
  };
}
