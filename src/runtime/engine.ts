/**
 * Execution tiers as values behind one interface, as wazero puts its interpreter and
 * its compiler behind one engine: the interpreter ({@link interpreterEngine}, here) is
 * one; the native tier (`src/native`) makes others. Whoever runs a program chooses an
 * engine and passes it; nothing registers itself, and each engine owns its caches.
 */
import type { CompiledModule } from '../compile/index.ts';
import { Execution } from './execution.ts';
import type { RunOutcome } from './execution.ts';
import type { RunOptions } from './run-options.ts';
import type { Instance } from './instantiate.ts';
import type { Store } from './store.ts';

/** The names of the tiers: the interpreter, the native tier, or the best one available. */
export type Tier = 'interp' | 'native' | 'auto';

/** What every tier's execution offers (the interpreter's `Execution` is one). */
export interface ExecutionLike {
  /** Depth of the host-return frame of this execution in the store's thread. */
  readonly entryDepth: number;
  /** Whether the execution has ended (returned, exited): `run` only repeats its outcome. */
  readonly done: boolean;
  /** Instructions the interpreter executed (a native tier counts none). */
  readonly instructions: number;
  /**
   * Runs until the function returns, the guest exits, an asynchronous import is awaited,
   * or `options` says stop.
   * @throws Trap when the guest traps
   */
  run(options?: RunOptions): RunOutcome;
  /** Asks a running `run` to stop at the next instruction boundary (or safepoint) it reaches. */
  requestPause(): void;
  /**
   * While the last `run` ended `awaiting` an asynchronous import: a promise that
   * resolves (never rejects) once the import's promise has settled, after which `run`
   * carries on with its value. Undefined otherwise.
   */
  importSettled(): Promise<void> | undefined;
  /**
   * Does ahead of time what the next `run` would do first (the native tier compiles the
   * resume clones of paused frames); optional. For an idle moment before the run, such
   * as a migrated job's wait for its commit: `stop` says when that moment is over (work
   * not done by then is left to the run).
   */
  prepareRun?(stop?: () => boolean): void;
}

/**
 * A way of executing a program's functions: the interpreter, the native tier, or one
 * that picks between them. Engines are plain values: pass one in `ProgramOptions.engine`.
 */
export interface Engine {
  /** What `Program.tier` reports for programs on this engine. */
  readonly name: Tier;
  /** True when the engine can run here (the native tier needs the host's WebAssembly). */
  available(): boolean;
  /** Does ahead of time the work `start` would do first for `compiled` (the native tier rewrites it); optional. */
  prepare?(compiled: CompiledModule): void;
  /**
   * Does ahead of time what `start` or `resume` would do first for `instance` (the native
   * tier instantiates its rewritten module there); optional. A restore in two steps calls
   * it before the pause, so that the pause does not pay for it.
   */
  prepareInstance?(store: Store, instance: Instance): void;
  /** Begins executing `funcAddr` of `instance` with JS-valued arguments. */
  start(store: Store, instance: Instance, funcAddr: number, args: readonly unknown[]): ExecutionLike;
  /**
   * Carries on an execution whose frames are already in the store's thread (a restored
   * snapshot), from `entryDepth`.
   */
  resume(store: Store, instance: Instance, funcAddr: number, entryDepth: number): ExecutionLike;
}

/** The interpreter as an engine: every instruction counted, a pause possible after any of them. */
export const interpreterEngine: Engine = Object.freeze({
  name: 'interp' as const,
  available: (): boolean => true,
  start: (store: Store, _instance: Instance, funcAddr: number, args: readonly unknown[]): ExecutionLike => new Execution(store, funcAddr, args),
  resume: (store: Store, _instance: Instance, funcAddr: number, entryDepth: number): ExecutionLike => new Execution(store, funcAddr, [], { resumed: true, entryDepth }),
});
