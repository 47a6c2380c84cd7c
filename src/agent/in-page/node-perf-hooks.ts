/**
 * `node:perf_hooks` for the browser agent's bundles: the page's own `performance`
 * (the same monotonic clock, in milliseconds).
 * @module
 */
export const performance: Performance = globalThis.performance;
