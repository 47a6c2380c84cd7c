import type { CompiledModule } from '../compile/index.ts';
import { Program } from '../program/index.ts';
import type { Tier } from '../runtime/index.ts';
import type { OutputSink } from '../wasi/index.ts';

/**
 * Where agents meet snapshots: capture a paused job, and rebuild one from a snapshot with
 * this agent's directories and output sinks. Kept in one place so that the agent code does
 * not depend on the details of the snapshot API.
 */

export interface RestoreOptions {
  module: CompiledModule;
  preopens: { host: string; guest: string }[];
  stdin: number;
  stdout: OutputSink;
  stderr: OutputSink;
  maxMemoryBytes?: number;
  tier: Tier;
}

/** Why this build cannot migrate jobs, or undefined when it can. */
export function snapshotUnavailable(): string | undefined {
  return typeof Program.resume === 'function' ? undefined : 'this build of wasmig cannot take snapshots, so jobs cannot migrate';
}

/** Snapshots a paused program; the module travels separately, by hash. */
export function takeSnapshot(program: Program): Uint8Array {
  return program.snapshot({ embedModule: false });
}

/** Rebuilds a paused program from a snapshot (validated by the snapshot layer: it is untrusted). */
export function restoreProgram(bytes: Uint8Array, options: RestoreOptions): Program {
  return Program.resume(bytes, {
    module: options.module,
    preopens: options.preopens,
    stdin: options.stdin,
    stdout: options.stdout,
    stderr: options.stderr,
    maxMemoryBytes: options.maxMemoryBytes,
    tier: options.tier,
  });
}
