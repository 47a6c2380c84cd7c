/**
 * Starting the agent's worker threads (a job's, the clone maker's): the worker imports
 * its entry module itself, the built .js file or the .ts source through tsx when wasmig
 * runs from its sources (tests, tools), calls the entry's start function with its boot
 * data and port, and answers `{ re: 0, ok }` on the port once started.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  const { port, entry, start, tsx, boot } = workerData;
  if (tsx) (await import(tsx)).register();
  (await import(entry))[start](boot, port);
  port.postMessage({ re: 0, ok: true });
})().catch((error) => workerData.port.postMessage({ re: 0, ok: false, code: 'ERR_WORKER', message: String(error && error.stack || error) }));
`;

/** The URL of a thread entry module `name` beside the module at `from` (its .ts source or its built .js). */
export function threadEntry(from: string, name: string): string {
  return new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from).href;
}

/** tsx's ESM API (the .mjs build: the CommonJS one fails when imported into a worker that has tsx's hooks already). */
function tsxLoader(): string | undefined {
  if (!import.meta.url.endsWith('.ts')) return undefined;
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/** A worker running `start(boot, port)` of the module at `entry`; `port` is moved to it. */
export function bootThread(entry: string, start: string, boot: unknown, port: MessagePort): Worker {
  // No inherited `-r tsx` / `--import`: the boot registers tsx itself when needed.
  return new Worker(BOOT, { eval: true, execArgv: [], workerData: { port, entry, start, tsx: tsxLoader(), boot }, transferList: [port] });
}
