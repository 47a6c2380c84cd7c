import { Program } from '../program/index.ts';

/**
 * Where agents meet snapshots. Jobs take and restore their snapshots in their worker
 * threads (`job-thread.ts`); this says whether this build can take them at all.
 */

/** Why this build cannot migrate jobs, or undefined when it can. */
export function snapshotUnavailable(): string | undefined {
  return typeof Program.resume === 'function' ? undefined : 'this build of wasmig cannot take snapshots, so jobs cannot migrate';
}
