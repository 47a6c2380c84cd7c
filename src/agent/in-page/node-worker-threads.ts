/**
 * `node:worker_threads` for the browser agent's bundles: the page's `MessageChannel`,
 * whose ports are given the one part of Node's port API the agent uses, `on('message')`
 * (`nodePort`), and no `receiveMessageOnPort`: a web port cannot be read synchronously,
 * so a job's thread never finds a command waiting at a safepoint and pauses for it
 * instead (job-thread.ts's `#serveInPlace` allows for a command not on the port yet).
 * Workers are made by `thread-boot.browser.ts`.
 * @module
 */

/** A web `MessagePort` with Node's `on('message', listener)`, the listener given the data. */
export type NodeStylePort = MessagePort & { on(event: 'message', listener: (data: unknown) => void): NodeStylePort };

/** Gives `port` Node's `on('message')` (and starts it, as Node's `on` does). */
export function nodePort(port: MessagePort): NodeStylePort {
  const p = port as NodeStylePort;
  p.on = (event, listener) => {
    if (event !== 'message') throw new Error(`MessagePort.on('${event}'): only 'message' in the browser agent`);
    p.addEventListener('message', (e) => listener(e.data));
    p.start();
    return p;
  };
  return p;
}

/** Node's `MessageChannel`, from the page's. */
export class MessageChannel {
  readonly port1: NodeStylePort;
  readonly port2: NodeStylePort;
  constructor() {
    const channel = new globalThis.MessageChannel();
    this.port1 = nodePort(channel.port1);
    this.port2 = nodePort(channel.port2);
  }
}

/** Nothing is ever waiting: a web port has no synchronous read. */
export function receiveMessageOnPort(_port: unknown): undefined {
  return undefined;
}
