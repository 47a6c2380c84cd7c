/**
 * The entry of a browser agent's job worker (`dist/browser/job-thread.js`, a module Web
 * Worker booted by `agent/thread-boot.browser.ts`): the first message brings the boot
 * data and the port, and from there on the worker is `agent/job-thread.ts`, the same
 * job thread a Node agent runs, over the page's WebAssembly (native tier) or the
 * interpreter. Bundled by `tools/build-browser.ts` (`browserAgentBuild`).
 * @module
 */
import { startJobThread } from './agent/job-thread.ts';
import type { WorkerBoot } from './agent/job-protocol.ts';
import { nodePort } from './agent/in-page/node-worker-threads.ts';
import type { MessagePort as NodeMessagePort } from 'node:worker_threads';

/** The one message the page sends a new worker. */
interface Boot {
  start: string;
  boot: WorkerBoot;
  port: MessagePort;
}

/** The worker's global scope, as much of it as this entry uses. */
const scope = globalThis as unknown as { addEventListener(type: 'message', listener: (event: { data: Boot }) => void, options: { once: boolean }): void };

scope.addEventListener('message', ({ data }) => {
  const port = nodePort(data.port);
  try {
    if (data.start !== 'startJobThread') throw new Error(`no thread entry ${data.start} in job-thread.js`);
    startJobThread(data.boot, port as unknown as NodeMessagePort);
    port.postMessage({ re: 0, ok: true });
  } catch (error) {
    port.postMessage({ re: 0, ok: false, code: 'ERR_WORKER', message: String((error as Error).stack ?? error) });
  }
}, { once: true });
