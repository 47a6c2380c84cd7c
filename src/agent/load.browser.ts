/**
 * How busy a browser tab's agent is (this file replaces `load.ts` in the browser agent's
 * bundle). A page cannot read its CPU time or its device's memory; what it can tell is
 * how late its own event loop runs: the share of each interval the main thread was busy
 * (a 50 ms timer's lateness, summed), which is what a slow tab feels like. `rss` is the
 * JavaScript heap where the browser says it (chromium's `performance.memory`), else 0;
 * no load average, no free memory (zeros).
 * @module
 */

/** One reading of how busy an agent's device is. */
export interface LoadSample {
  /** The tab's main thread's busy share over the last interval, in cores (at most 1). */
  cpu: number;
  loadavg: number[];
  rss: number;
  memFree: number;
  memTotal: number;
}

const TICK_MS = 50;

/** Measures the tab's main-thread lateness between two samples. */
export class LoadMeter {
  #late = 0;
  #at = performance.now();
  #expected = performance.now() + TICK_MS;

  constructor() {
    const tick = (): void => {
      const now = performance.now();
      this.#late += Math.max(0, now - this.#expected);
      this.#expected = now + TICK_MS;
      setTimeout(tick, TICK_MS);
    };
    setTimeout(tick, TICK_MS);
  }

  sample(): LoadSample {
    const now = performance.now();
    const busy = now > this.#at ? Math.min(1, this.#late / (now - this.#at)) : 0;
    this.#late = 0;
    this.#at = now;
    const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    return { cpu: Math.round(busy * 1000) / 1000, loadavg: [0, 0, 0], rss: memory?.usedJSHeapSize ?? 0, memFree: 0, memTotal: 0 };
  }
}
