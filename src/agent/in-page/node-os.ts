/**
 * `node:os` for the browser agent's bundles: what a page may know of its device (its
 * cores, from `navigator.hardwareConcurrency`); no load average and no memory figures,
 * which a page cannot read (zeros, as Node gives on Windows for the load average).
 * @module
 */
export function hostname(): string {
  return 'browser';
}
export function availableParallelism(): number {
  return globalThis.navigator?.hardwareConcurrency || 1;
}
export function loadavg(): number[] {
  return [0, 0, 0];
}
export function freemem(): number {
  return 0;
}
export function totalmem(): number {
  return 0;
}
