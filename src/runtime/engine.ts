/**
 * Execution tiers behind one interface (as wazero puts its interpreter and compiler
 * behind one engine): the interpreter's `Execution` is one; the native tier
 * (`src/native`) registers another. Layers below the native tier (the program, the
 * snapshot layer) reach it through this registry, never by importing it.
 */
import { UsageError } from '../errors/index.ts';
import type { Instance } from './instantiate.ts';
import type { RunOptions, RunOutcome } from './execution.ts';
import type { Store } from './store.ts';

/** Which tier runs a program: the interpreter, the native tier, or the best one available. */
export type Tier = 'interp' | 'native' | 'auto';

/** What every tier's execution offers (the interpreter's `Execution` is one). */
export interface ExecutionLike {
  /** Depth of the host-return frame of this execution in the store's thread. */
  readonly entryDepth: number;
  readonly done: boolean;
  /** Instructions the interpreter executed (a native tier counts none). */
  readonly instructions: number;
  run(options?: RunOptions): RunOutcome;
  requestPause(): void;
}

/** A tier other than the interpreter. */
export interface Engine {
  readonly tier: Exclude<Tier, 'interp' | 'auto'>;
  /** True when the tier can run here (the native tier needs the host's WebAssembly). */
  available(): boolean;
  /**
   * Begins executing `funcAddr` of `instance` with JS-valued arguments; `tier` is what
   * was asked for (`auto` leaves the engine free to start elsewhere and tier up).
   */
  start(store: Store, instance: Instance, funcAddr: number, args: readonly unknown[], tier?: Tier): ExecutionLike;
  /** Carries on an execution whose frames are already in the store's thread (a restored snapshot). */
  resume(store: Store, instance: Instance, funcAddr: number, entryDepth: number): ExecutionLike;
}

const engines = new Map<string, Engine>();

/** Makes a tier available to `Program` and friends (the native tier registers itself). */
export function registerEngine(engine: Engine): void {
  engines.set(engine.tier, engine);
}

/** The engine for a tier: undefined means the interpreter. `auto` picks the native tier where it can run. */
export function engineFor(tier: Tier | undefined): Engine | undefined {
  if (tier === undefined || tier === 'interp') return undefined;
  const native = engines.get('native');
  if (tier === 'auto') return native?.available() ? native : undefined;
  if (!native) throw new UsageError('the native tier is not loaded (import wasmig\'s native tier first)');
  if (!native.available()) throw new UsageError('the native tier needs the host\'s WebAssembly, which this runtime lacks');
  return native;
}
