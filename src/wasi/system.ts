/**
 * What the WASI host takes from the machine under it: the file system, path arithmetic,
 * and the monotonic and CPU clocks. On Node these are Node's own; a browser build maps
 * this file to `system.browser.ts` (package.json `browser`, tools/build-browser.ts), whose
 * files live in memory. One file to swap, so the calls themselves (`calls-*.ts`) are the
 * same code on both.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import * as path from 'node:path';

export * as fs from 'node:fs';
export { path };

/** The host's monotonic clock, in nanoseconds from an arbitrary origin. */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** CPU time this process has used, in nanoseconds. */
export function cpuTimeNs(): bigint {
  const { user, system } = process.cpuUsage();
  return BigInt(user + system) * 1000n;
}

/** Fills `bytes` (not a view of a SharedArrayBuffer) with cryptographic randomness. */
export function randomFill(bytes: Uint8Array): void {
  randomFillSync(bytes);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the thread for about `ms` milliseconds. `Atomics.wait` is the only synchronous
 * sleep that does not spin; nobody ever notifies `sleeper`, so it always times out.
 */
export function blockFor(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
