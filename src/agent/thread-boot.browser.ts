/**
 * Starting the agent's threads in a browser tab (this file replaces `thread-boot.ts` in
 * the browser agent's bundle): a module Web Worker from the bundle `name.js` beside the
 * page's bundle, to which the boot data and the port go in the first message; the
 * worker's entry (`src/browser-job-thread.ts`) calls the start function with them and
 * answers `{ re: 0, ok }` on the port, as a Node worker does. What comes back has the
 * part of Node's `Worker` the agent uses: `on('error' | 'exit')` and `terminate()`.
 * @module
 */
import type { MessagePort, Worker } from 'node:worker_threads';

/** The URL of a thread entry bundle `name` beside the bundle at `from`. */
export function threadEntry(from: string, name: string): string {
  return new URL(`./${name}.js`, from).href;
}

/** A Web Worker running `start(boot, port)` of the bundle at `entry`; `port` is moved to it. */
export function bootThread(entry: string, start: string, boot: unknown, port: MessagePort): Worker {
  const worker = new globalThis.Worker(entry, { type: 'module', name: start });
  const web = port as unknown as globalThis.MessagePort;
  worker.postMessage({ start, boot, port: web }, [web]);
  const listeners: { error: ((error: Error) => void)[]; exit: ((code: number) => void)[] } = { error: [], exit: [] };
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    for (const l of listeners.error) l(new Error(event.message || `the worker ${entry} could not load`));
  });
  const handle = {
    on(event: 'error' | 'exit', listener: (value: never) => void) {
      listeners[event].push(listener as never);
      return handle;
    },
    terminate() {
      worker.terminate();
      for (const l of listeners.exit) l(1);
      return Promise.resolve(1);
    },
  };
  return handle as unknown as Worker;
}
