/**
 * V8's tiering budget for WebAssembly, raised for local runs (`wasmig run`, `resume`).
 *
 * Why: V8 first compiles every function with its baseline compiler (Liftoff) and queues
 * a function for its optimizing compiler (TurboFan) once it has spent a budget of
 * calls and loop iterations. Node's exit waits for every queued TurboFan job to finish
 * (nothing cancels them), so a short run of a large program waited, after its last
 * instruction, for optimized code it would never run: a cached SQLite start spent 0.3 s
 * of its 0.6 there (docs/native-tier.md). With a budget ten times V8's default
 * (1,800,000 in V8 11.3), such a run queues far fewer functions; a long run's hot
 * functions still reach TurboFan within milliseconds (CoreMark's rate did not move).
 */
import { setFlagsFromString } from 'node:v8';

/** A hundred times V8 11.3's default `--wasm-tiering-budget`. */
export const WASM_TIERING_BUDGET = 180_000_000;

/**
 * Raises the budget for modules compiled from now on, unless Node was started with a
 * budget of its own (`node --wasm-tiering-budget=N`) or `WASMIG_TIERING_BUDGET` names one
 * (`default`: V8's own).
 */
export function raiseWasmTieringBudget(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env, setFlags: (flags: string) => void = setFlagsFromString): number | undefined {
  if (execArgv.some((a) => a.startsWith('--wasm-tiering-budget'))) return undefined;
  const asked = env.WASMIG_TIERING_BUDGET;
  if (asked === 'default') return undefined;
  const budget = asked !== undefined && /^\d{1,12}$/.test(asked) ? Number(asked) : WASM_TIERING_BUDGET;
  setFlags(`--wasm-tiering-budget=${budget}`);
  return budget;
}
