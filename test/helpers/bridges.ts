/**
 * Bridged mosquittos for fleet tests (docs/brokers.md): the bridge section of a site
 * broker's configuration, a wait until a bridge carries retained messages, and a TCP
 * link between a site broker and the central one that a test can cut and restore (a
 * bridge outage: both brokers live on, nothing crosses).
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { FleetClient, topics } from '../../src/agent/index.ts';
import type { BrokerProc } from './fleet.ts';

/** The bridge section of a site broker's configuration, to the central broker at `centralPort`. */
export function bridgeTo(name: string, centralPort: number): string[] {
  return [
    'allow_anonymous true',
    'set_tcp_nodelay true',
    `connection ${name}`,
    `address 127.0.0.1:${centralPort}`,
    'topic wasmig/# both 1',
    'cleansession true',
    'try_private true',
    'restart_timeout 1',
    'notifications false',
  ];
}

/** Waits until a retained message published on `from` is held by `to`: the bridge is up (20 s at most). */
export async function bridged(from: BrokerProc, to: BrokerProc, name: string): Promise<void> {
  const writer = await FleetClient.connect({ connection: { url: from.url } });
  const reader = await FleetClient.connect({ connection: { url: to.url } });
  const topic = topics.agentStatus(`probe-${name}`);
  const doc = JSON.stringify({ v: 1, agent: `probe-${name}`, instance: 'p', online: false });
  try {
    for (let i = 0; i < 100; i++) {
      await writer.peer.link.publish(topic, doc, { retain: true });
      if (await reader.agentStatus(`probe-${name}`)) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the bridge ${name} did not come up`);
  } finally {
    await writer.peer.link.publish(topic, '', { retain: true });
    await Promise.all([writer.close(), reader.close()]);
  }
}

/**
 * A TCP relay to `127.0.0.1:targetPort` that can be cut: `cut()` closes every connection
 * through it and refuses new ones (they are accepted and closed at once, as a dead link
 * behaves for mosquitto's bridge, which tries again every `restart_timeout`) until
 * `restore()`.
 */
export class CuttableLink {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #down = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async open(targetPort: number): Promise<CuttableLink> {
    const server = createServer();
    const link = new CuttableLink(server);
    server.on('connection', (inbound) => link.#relay(inbound, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return link;
  }

  /** The port a site broker's bridge connects to. */
  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  get down(): boolean {
    return this.#down;
  }

  #relay(inbound: Socket, targetPort: number): void {
    if (this.#down) { inbound.destroy(); return; }
    const outbound = connect(targetPort, '127.0.0.1');
    const pair = [inbound, outbound];
    const end = (): void => { for (const s of pair) { s.destroy(); this.#sockets.delete(s); } };
    for (const s of pair) {
      this.#sockets.add(s);
      s.setNoDelay(true);
      s.on('error', end);
      s.on('close', end);
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  }

  /** The bridge goes down: every connection through the link closes, and new ones are refused. */
  cut(): void {
    this.#down = true;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  /** The bridge may connect again (mosquitto does so within its `restart_timeout`). */
  restore(): void {
    this.#down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
