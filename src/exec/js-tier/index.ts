import type { CallSignatures, FastFunction } from '../../compile/index.ts';
import { compileFastToJs, UNAFFORDABLE } from './fast-to-js.ts';

export { compileFastToJs, MAX_CODE_WORDS, MAX_FRAME_WORDS } from './fast-to-js.ts';
export { NO_ENTRY_PC } from './js-calls.ts';
export { LOOP_AT, runCompiled } from './run-compiled.ts';
export { placeThrow } from './js-trap.ts';
export type { FastJsResult } from './fast-to-js.ts';

/**
 * Compiles a hot function's fast code (the run loop calls this once per function, when
 * its heat passes the thread's `jsAfter`). A function the tier declines stays on the
 * fast loop for good (`heat` -1).
 */
export function compileHot(fast: FastFunction, sigs: CallSignatures, funcIndex: number): void {
  if (fast.js !== null || fast.heat < 0) return;
  const result = compileFastToJs(fast, sigs, `func${funcIndex}`);
  if (result.body === null) {
    fast.heat = -1;
    return;
  }
  fast.js = result.body;
  // Branches to the compiled function's entries (loop starts, mostly) no longer charge
  // their target inline: the loop dispatches the target's fuel instruction, which enters
  // the compiled function, so a function the loop took over (after a pause, a rare
  // instruction) comes back to compiled code at its next loop iteration.
  for (const at of result.entryBranchCosts) fast.code[at] = UNAFFORDABLE;
}
