/**
 * The clone maker's worker thread (`clone-maker.ts`): for each module it is given, it
 * makes the resume clones of the module's loops (`RewriteCache.loopSitesWithoutClones`),
 * one per turn of its event loop, and posts them back in batches.
 *
 * Loaded by `clone-maker.ts` as the worker's entry.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CompiledModule } from '../compile/index.ts';
import type { LoopSite, ReadyModule, SharedClones } from '../native/index.ts';
import { defaultEngines, loadModule } from '../program/index.ts';

/** A module whose loop clones are wanted. */
export interface CloneOrder {
  sha: string;
  module: Uint8Array;
  /** The agent's rewrite of it (made once on its main thread). */
  native: ReadyModule;
  /** Most clones to make. */
  limit: number;
}

/** Clones made for an order; `done` with the last batch. */
export interface ClonesMade {
  sha: string;
  clones: SharedClones;
  done: boolean;
}

/** Clones posted together: one message per clone would cost the main thread more than the batch. */
const BATCH = 16;

class CloneThread {
  readonly #port: MessagePort;
  readonly #orders: CloneOrder[] = [];
  #busy = false;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (order: CloneOrder) => {
      this.#orders.push(order);
      this.#next();
    });
  }

  #next(): void {
    if (this.#busy) return;
    const order = this.#orders.shift();
    if (order === undefined) return;
    this.#busy = true;
    let compiled: CompiledModule;
    let sites: LoopSite[];
    const rewrites = defaultEngines.native.rewrites;
    const options = defaultEngines.native.options.rewrite ?? {};
    try {
      compiled = loadModule(order.module);
      rewrites.adopt(compiled, options, order.native);
      sites = rewrites.loopSitesWithoutClones(compiled, options).slice(0, order.limit);
    } catch {
      // Only ahead of time: a module that does not load here fails where it runs, and says why there.
      this.#finish(order, []);
      return;
    }
    const posted = new Set<string>();
    const fresh = (): SharedClones => {
      const out = rewrites.clonesOf(compiled).filter(([key]) => !posted.has(key));
      for (const [key] of out) posted.add(key);
      return out;
    };
    let i = 0;
    // One clone per turn: the port's messages (a new order) are taken between them.
    const step = (): void => {
      try {
        rewrites.makeLoopClone(compiled, sites[i], options);
      } catch {
        // A clone the rewriter cannot make: the frame that would need it runs in the interpreter.
      }
      i++;
      if (i >= sites.length) { this.#finish(order, fresh()); return; }
      if (i % BATCH === 0) this.#port.postMessage({ sha: order.sha, clones: fresh(), done: false } satisfies ClonesMade);
      setImmediate(step);
    };
    if (sites.length === 0) this.#finish(order, []);
    else setImmediate(step);
  }

  #finish(order: CloneOrder, clones: SharedClones): void {
    this.#port.postMessage({ sha: order.sha, clones, done: true } satisfies ClonesMade);
    this.#busy = false;
    this.#next();
  }
}

/** The worker's entry: `clone-maker.ts` boots it with its port. */
export function startCloneThread(_boot: unknown, port: MessagePort): void {
  new CloneThread(port);
}
