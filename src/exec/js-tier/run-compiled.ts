/**
 * Runs compiled functions one after another without the run loop: the thread's function
 * at a block start, each function a compiled one left in (`MOVED`, the innermost frame
 * goes on) and each compiled caller a function returns to at nest 0.
 *
 * Why not the loop: where the JavaScript tier covers a program, the loop had become a
 * trampoline between compiled functions. Every slice ends with the compiled functions
 * leaving the JavaScript stack, and the next one starts in the innermost of them, which
 * returns to its caller through the loop, and so on up the stack (CoreMark: about 8,800
 * loop calls a second). V8 compiled the loop for that, with feedback of the program's
 * first tenth of a second, and again when the trampoline work reached code the feedback
 * had not seen: a second or more of compiler time on a two-core machine, beside the
 * compiles of the program's own functions that the run waits for
 * (docs/interpreter-warm-up.md). This function is small, its feedback the same from the
 * start, and the loop is left to the code the tier does not cover.
 *
 * It does nothing the loop would not: the same calls of the compiled bodies with the same
 * fuel, the same early end of a slice at a starved entry, the same return. Anything else
 * (a function not compiled, an instruction a body left to the loop, a caller without
 * compiled code, the outermost return) goes to the loop at that fast pc.
 */
import { FAST_PC_TAG, FastOp } from '../../compile/index.ts';
import { refreshMemoryViews, RunStatus } from '../state.ts';
import type { InstanceState, MemoryState, ThreadState, WasmFunctionState } from '../state.ts';
import { NO_ENTRY_PC } from './js-calls.ts';
import { placeThrow } from './js-trap.ts';

/**
 * `runCompiled` returns `LOOP_AT + e`: the loop goes on in the thread's function at fast pc
 * `e`, or (-1) at the block of exact pc `t.pc`.
 */
export const LOOP_AT = 16;

const UNTAG = ~FAST_PC_TAG;
const NO_VIEW: DataView = new DataView(new ArrayBuffer(0));

/**
 * Runs compiled code from the thread's position (fast pc `entry`, or the block of exact pc
 * `t.pc` when -1) with at most `budget` instructions, as `runFastLoop` would with the same
 * arguments (`early`, `ranBefore`: see there). Returns `RunStatus.yielded` (a slice that
 * may end early ended at a block start; the thread is there, in exact-code terms), or
 * `LOOP_AT + e` with the thread's function and frame set. Either way the instructions
 * run are counted in `t.instructions`.
 */
export function runCompiled(t: ThreadState, budget: number, entry: number, early: boolean, ranBefore: boolean): number {
  const funcs = t.store.funcs;
  const s32 = t.s32;
  const cx = t.js;
  let funcAddr = t.funcAddr;
  let fp = t.fp;
  let fn = funcs[funcAddr] as WasmFunctionState;
  const first = fn.compiled.fast;
  // Not compiled (or not even translated yet, after a tail call): all the loop's.
  if (first === undefined || first.js === null) return LOOP_AT + entry;
  let fast = first;
  let pc = entry >= 0 ? entry : fast.fastPcAt[t.pc];
  let inst: InstanceState | null = null;
  let view: DataView = NO_VIEW;
  let fuel = budget;
  try {
    for (;;) {
      const js = fast.js;
      if (js === null || fast.code[pc] !== FastOp.fuel) break;
      if (fn.instance !== inst) {
        inst = fn.instance;
        const mem: MemoryState | null = inst.memAddrs.length ? t.store.memories[inst.memAddrs[0]] : null;
        if (mem !== null) refreshMemoryViews(mem);
        view = mem === null ? NO_VIEW : mem.view;
      }
      cx.inst = inst;
      js(cx, s32, view, 2 * fp, pc, fuel, funcAddr);
      if (cx.moved) {
        // It left in a function it called: that one goes on where it stopped.
        cx.moved = false;
        fuel = cx.fuel;
        funcAddr = t.funcAddr;
        fp = t.fp;
        fn = funcs[funcAddr] as WasmFunctionState;
        fast = fn.compiled.fast!;
        pc = cx.pc;
        continue;
      }
      const jsPc = cx.pc;
      if (jsPc === NO_ENTRY_PC) break;
      if (jsPc === pc && cx.fuel === fuel) {
        // A starved entry: a slice that may end early and has run something ends here.
        if (early && (fuel < budget || ranBefore)) {
          t.pc = fast.code[pc + 2]; t.fp = fp; t.funcAddr = funcAddr;
          t.sp = fp + fn.compiled.numLocals + fn.compiled.heights[t.pc];
          t.instructions += budget - fuel;
          return RunStatus.yielded;
        }
        break;
      }
      pc = jsPc;
      fuel = cx.fuel;
      if (fast.code[pc] !== FastOp.return) continue;
      // A return at nest 0, to a caller with compiled code: as the loop's `return`.
      const d = t.depth - 1;
      const callerAddr = t.frames[3 * d];
      if (callerAddr < 0) break;
      const caller = funcs[callerAddr] as WasmFunctionState;
      const callerFast = caller.compiled.fast;
      if (callerFast === undefined || callerFast.js === null) break;
      const F = 2 * fp;
      const n = fast.code[pc + 1];
      const src = F + fast.code[pc + 2];
      for (let i = 0; i < 2 * n; i++) s32[F + i] = s32[src + i];
      t.depth = d;
      const ra = t.frames[3 * d + 1];
      fp = t.frames[3 * d + 2];
      funcAddr = callerAddr;
      fn = caller;
      fast = callerFast;
      pc = (ra & FAST_PC_TAG) !== 0 ? ra & UNTAG : fast.fastPcAt[ra];
    }
  } catch (error) {
    placeThrow(t, funcAddr, fp, pc, fuel, budget);
    throw error;
  }
  t.fp = fp; t.funcAddr = funcAddr;
  t.instructions += budget - fuel;
  return LOOP_AT + pc;
}
