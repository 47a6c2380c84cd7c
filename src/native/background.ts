/**
 * The rewriter in a worker thread. Rewriting a large module costs the main thread about
 * 0.4 s per MB before the first instruction runs natively; `tier: 'auto'` instead starts
 * such a module in the interpreter at once and moves to V8 when the worker has the
 * rewritten module compiled (see `tiering.ts`). The main thread polls for the result
 * between two slices of interpretation, without waiting on its event loop.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { BodyFacts } from '../compile/index.ts';
import type { RewriteOptions, RewrittenModule } from './rewrite.ts';
import { decodeRewrite } from './rewrite-codec.ts';
import type { EncodedRewrite } from './rewrite-worker.ts';
import type { DiskCacheConfig } from './disk-cache.ts';

export interface ReadyRewrite {
  rewritten: RewrittenModule;
  module: WebAssembly.Module;
}

// The worker imports the rewriter itself: the built .js files, or the .ts sources
// through tsx when wasmig runs from its sources (tests, tools). A sibling of this file:
// from the CLI's start-up bundle (`dist/run/`), that is the worker's own bundle, built
// with it (tools/build-run-bundle.ts), which loads in one file instead of some sixty.
const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './rewrite-worker.ts' : './rewrite-worker.js', import.meta.url).href;
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  const { port, entry, tsx, bytes, options, cache, facts, ready } = workerData;
  try {
    if (tsx) (await import(tsx)).register();
    const { rewriteInWorker } = await import(entry);
    const done = rewriteInWorker(bytes, options, cache, facts);
    port.postMessage({ ok: true, ...done }, [done.payload.buffer]);
  } catch (error) {
    port.postMessage({ ok: false, message: String(error && error.stack || error) });
  }
  // Wakes a main thread waiting for the answer (BackgroundRewrite.wait).
  Atomics.store(ready, 0, 1);
  Atomics.notify(ready, 0);
})();
`;

function tsxLoader(): string | undefined {
  if (!import.meta.url.endsWith('.ts')) return undefined;
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
}

/** One module being rewritten in a worker thread. */
export class BackgroundRewrite {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  /** Raised by the worker once its answer is posted. */
  readonly #ready = new Int32Array(new SharedArrayBuffer(4));
  #result: ReadyRewrite | Error | undefined;
  /** Resolves when the worker's thread has ended (its 'exit' event). */
  readonly gone: Promise<void>;

  /**
   * @param cache the disk cache the worker stores its rewrite in (none: not stored)
   * @param facts what validating the module's bodies found here: the worker need not do it again
   */
  constructor(bytes: Uint8Array, options: RewriteOptions, cache?: DiskCacheConfig, facts?: BodyFacts) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(BOOT, {
      eval: true,
      workerData: { port: port2, entry: ENTRY, tsx: tsxLoader(), bytes, options, cache, facts, ready: this.#ready },
      transferList: [port2],
    });
    // Neither the worker nor its port keeps the process alive.
    this.#worker.unref();
    this.#port.unref();
    this.#worker.on('error', (error) => { this.#result ??= error; });
    this.gone = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
  }

  /** The rewritten module once the worker is done, an Error if it failed, else undefined (never waits). */
  poll(): ReadyRewrite | Error | undefined {
    if (this.#result !== undefined) return this.#result;
    const message = receiveMessageOnPort(this.#port)?.message as ({ ok: true } & EncodedRewrite) | { ok: false; message: string } | undefined;
    if (message === undefined) return undefined;
    this.#result = message.ok ? { rewritten: decodeRewrite(message.payload).rewritten, module: message.module } : new Error(`the rewriter's worker failed: ${message.message}`);
    this.cancel();
    return this.#result;
  }

  /**
   * Blocks this thread until the worker has answered, or `ms` have passed: it leaves the
   * CPU to the worker rather than interpreting (see `NativeOptions.interpretWhileRewritingMs`).
   */
  wait(ms: number): void {
    if (this.#result === undefined && ms > 0) Atomics.wait(this.#ready, 0, 0, ms);
  }

  /** Stops the worker (its result, if any, is dropped). */
  cancel(): void {
    this.#port.close();
    void this.#worker.terminate();
  }

  /**
   * Stops the worker and resolves once its thread has ended, keeping the process alive
   * meanwhile, so that its caller knows no thread of it is left.
   */
  stop(): Promise<void> {
    this.#worker.ref();
    this.cancel();
    return this.gone;
  }
}
