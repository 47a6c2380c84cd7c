import { fastCode } from '../../compile/index.ts';
import type { CompiledFunction, FastFunction } from '../../compile/index.ts';
import { FuncKind } from '../state.ts';
import type { ThreadState, WasmFunctionState } from '../state.ts';
import { compileFastToJs, UNAFFORDABLE } from './fast-to-js.ts';

export { compileFastToJs, MAX_CODE_WORDS, MAX_FRAME_WORDS } from './fast-to-js.ts';
export { NO_ENTRY_PC } from './js-calls.ts';
export { LOOP_AT, runCompiled } from './run-compiled.ts';
export { placeThrow } from './js-trap.ts';
export type { FastJsResult } from './fast-to-js.ts';

/**
 * Compiles hot function `fn` of thread `t` (the run loop calls this when the function's
 * heat passes the thread's `jsAfter`), and with it the functions it calls directly, hot
 * or not yet, translating those that have not run (if validated: a body the module's
 * load left to its first translation is validated when it first runs).
 *
 * Why the callees: a call site whose callee had no compiled body has only ever left to
 * the loop, so its call on the JavaScript stack is code V8 has not seen; when V8
 * optimized the caller before the callee was compiled, that code was thrown away the
 * first time the call was made there (EEMBC's CoreMark: `core_bench_list`, 250 ms of
 * compiling, thrown away when `core_bench_matrix`, which its sort calls now and then,
 * became hot; docs/interpreter-warm-up.md). One level only, and callees no larger in
 * all than the function itself (Wasm body bytes, in call order): a callee's own callees
 * wait for it to be hot, and a hot function that calls hundreds of others does not
 * compile them all (SQLite's first run spent 0.2 s translating and compiling callees
 * before the limit, half of which never ran).
 */
export function compileHotWithCallees(t: ThreadState, fn: WasmFunctionState): void {
  const cf = fn.compiled;
  if (cf.fast === undefined) return;
  const callees = compileHot(cf.fast, cf);
  const funcs = t.store.funcs;
  let budget = cf.codeBytes;
  for (const index of callees) {
    const callee = funcs[fn.instance.funcAddrs[index]];
    if (callee.kind !== FuncKind.wasm || callee.instance !== fn.instance) continue;
    const ccf = callee.compiled;
    if (ccf.fast?.js != null || ccf.codeBytes > budget || (ccf.fast === undefined && ccf.maxHeight < 0)) continue;
    budget -= ccf.codeBytes;
    compileHot(fastCode(ccf), ccf);
  }
}

/**
 * Compiles a function's fast code, once; returns the functions it calls directly (module
 * indices; none when it was compiled before, or declined). A function the tier declines
 * stays on the fast loop for good (`heat` -1).
 */
function compileHot(fast: FastFunction, cf: CompiledFunction): number[] {
  if (fast.js !== null || fast.heat < 0) return [];
  const result = compileFastToJs(fast, cf.sigs, `func${cf.funcIndex}`);
  if (result.body === null) {
    fast.heat = -1;
    return [];
  }
  fast.js = result.body;
  // Branches to the compiled function's entries (loop starts, mostly) no longer charge
  // their target inline: the loop dispatches the target's fuel instruction, which enters
  // the compiled function, so a function the loop took over (after a pause, a rare
  // instruction) comes back to compiled code at its next loop iteration.
  for (const at of result.entryBranchCosts) fast.code[at] = UNAFFORDABLE;
  return result.callees;
}
