import { ExhaustionError, Trap } from '../errors/index.ts';
import { fastCode, FastOp, FAST_PC_TAG } from '../compile/index.ts';
import {
  conversionTrap, i64ToF32, nearest, trapDivideByZero, trapIntegerOverflow,
  truncI64S, truncI64U, truncSatI64S, truncSatI64U,
} from './numeric.ts';
import { compileHotWithCallees, LOOP_AT, NO_ENTRY_PC, placeThrow, runCompiled } from './js-tier/index.ts';
import { stepWide } from './run-fast-wide.ts';
import { runExact } from './run.ts';
import { stepSimd } from './simd-step.ts';
import { FuncKind, growFrames, growSlots, refreshMemoryViews, RunStatus } from './state.ts';
import type { InstanceState, MemoryState, ThreadState, WasmFunctionState } from './state.ts';

const UNTAG = ~FAST_PC_TAG;
const TWO_32 = 4294967296;
/** Integers below this in magnitude are exact in a double. */
const TWO_53 = 9007199254740992;
const NO_MEMORY = null as unknown as MemoryState;
/**
 * `runFastLoop` returns `SLOW + pc` (above every `RunStatus`) to have `runSlowOp` do the
 * instruction at fast pc `pc`: see there.
 */
const SLOW = 16;
/**
 * `runFastLoop` returns this (between the `RunStatus` values and `SLOW`) when the budget
 * ends inside the block it stands at: `run` counts the rest out on the exact code. The
 * call of `runExact` stays out of the loop, whose compiled code would otherwise carry a
 * call site that a run of early-ending slices never reaches (and deoptimize on it).
 */
const FINISH_EXACT = 8;
/**
 * `runFastLoop` returns this when compiled JavaScript it ran left off in a function it
 * called (the thread's funcAddr and fp say which, `t.js.pc` where): `run` goes on there
 * (compiled code first, then the loop).
 */
const JS_MOVED = 9;
/**
 * The most fuel one call of `runFastLoop` gets: below the cost the JavaScript tier writes
 * into the branches to its entries (`js-tier/`, `UNAFFORDABLE`), so that such a branch
 * never charges its target inline and always goes through the target's fuel instruction.
 */
const MAX_SLICE = 2 ** 30;

function trapMemory(): never {
  throw new Trap('out of bounds memory access');
}

/** The exact-code return pc of a frame, whichever code pushed it. */
export function exactReturnPc(t: ThreadState, callerAddr: number, rawPc: number): number {
  if ((rawPc & FAST_PC_TAG) === 0) return rawPc;
  const fn = t.store.funcs[callerAddr] as WasmFunctionState;
  return fastCode(fn.compiled).exactPcAt[rawPc & UNTAG];
}

/** Rewrites every saved return pc into exact-code terms (before the thread is inspected). */
export function normalizeFrames(t: ThreadState): void {
  const frames = t.frames;
  for (let d = 0; d < t.depth; d++) {
    const caller = frames[3 * d];
    if (caller >= 0) frames[3 * d + 1] = exactReturnPc(t, caller, frames[3 * d + 1]);
  }
}

/**
 * Runs the thread for at most `budget` instructions: on the fast code where it can, on
 * the exact code where it must (a block the budget cannot cover, a position inside a
 * block). Same contract as `runExact`; on return the thread is in exact-code terms.
 * Functions the JavaScript tier compiled are entered from `runCompiled` for as long as
 * only they run, and the loop takes over where it stops (js-tier/run-compiled.ts).
 *
 * `early`: the budget is a slice of a longer run, not a limit anyone asked for, so the
 * run may stop short of it at the start of the first block it cannot cover whole (once
 * it has run something), instead of counting that block out on the exact code. A run
 * made of such slices leaves the exact loop idle, and V8 leaves it uncompiled: its
 * compiles no longer queue beside the fast loop's while a process warms up
 * (docs/interpreter-warm-up.md).
 */
export function run(t: ThreadState, budget: number, early = false): RunStatus {
  if (!t.fast || t.funcAddr < 0) return runExact(t, budget);
  let remaining = budget;
  for (;;) {
    const fn = t.store.funcs[t.funcAddr] as WasmFunctionState;
    const fast = fastCode(fn.compiled);
    if (fast.fastPcAt[t.pc] >= 0) break;
    // Inside a block (a resumed pause): finish it exactly, then switch.
    const before = t.instructions;
    const toEnd = fast.toBlockEnd[t.pc];
    const status = runExact(t, toEnd < remaining ? toEnd : remaining);
    remaining -= t.instructions - before;
    if (status !== RunStatus.yielded) return status;
    if (remaining <= 0) {
      normalizeFrames(t);
      return status;
    }
  }
  // What the loop and compiled code have run of this budget starts here (see FINISH_EXACT below).
  const began = t.instructions;
  try {
    let entry = -1;
    for (;;) {
      const before = t.instructions;
      // A budget beyond MAX_SLICE goes in slices that may end early (see MAX_SLICE).
      const slice = remaining > MAX_SLICE ? MAX_SLICE : remaining;
      const mayEnd = early || slice < remaining;
      // Compiled code runs without the loop for as long as it can (js-tier/run-compiled.ts).
      let status = runCompiled(t, slice, entry, mayEnd, t.instructions > began);
      if (status !== RunStatus.yielded) {
        status = runFastLoop(t, slice - (t.instructions - before), status - LOOP_AT, mayEnd, t.instructions > began);
      }
      if (status === RunStatus.yielded && slice < remaining) {
        remaining -= t.instructions - before;
        entry = -1;
        continue;
      }
      if (status === JS_MOVED) {
        remaining -= t.instructions - before;
        entry = t.js.pc;
        continue;
      }
      if (status === FINISH_EXACT) {
        // The loop stands at a block start, and this run is exact or has run nothing yet
        // (a slice that may end early and has run something, in this call of the loop or
        // in one before it, `ranBefore`, ends there instead): the rest is counted out.
        const exactStatus = runExact(t, remaining - (t.instructions - before));
        if (exactStatus === RunStatus.yielded) normalizeFrames(t);
        return exactStatus;
      }
      if (status < SLOW) {
        if (status === RunStatus.yielded) normalizeFrames(t);
        return status as RunStatus;
      }
      remaining -= t.instructions - before;
      const slowPc = status - SLOW;
      const slowOp = fastCode((t.store.funcs[t.funcAddr] as WasmFunctionState).compiled).code[slowPc];
      if (slowOp === FastOp.tailCall || slowOp === FastOp.leave) {
        // The thread moves to another function (or to a host call, or to an exception's
        // handler): the loop starts again where it stands.
        const tail = runTailCall(t, slowPc);
        if (tail !== RunStatus.yielded) return tail;
        entry = -1;
        continue;
      }
      entry = runSlowOp(t, slowPc);
    }
  } catch (error) {
    normalizeFrames(t);
    throw error;
  }
}

/**
 * The fast loop proper: register-form code, fuel charged per basic block. It starts at
 * fast pc `entry`, or at the block of exact pc `t.pc` when `entry` is -1. Returns a
 * `RunStatus`, or `SLOW + pc`. `early`: see `run`; such a slice ends early only once it
 * has run something, in this call or, `ranBefore`, in the calls of the loop before it
 * (it went on after compiled code left in a callee), so that it always makes progress.
 */
function runFastLoop(t: ThreadState, budget: number, entry: number, early: boolean, ranBefore: boolean): number {
  const store = t.store;
  const funcs = store.funcs;
  const divert = t.divert;
  const globals = store.globals;
  const s32 = t.s32;
  const f32 = t.f32;
  const f64 = t.f64;
  let fp = t.fp;
  let F = 2 * fp;
  let funcAddr = t.funcAddr;
  let fn = funcs[funcAddr] as WasmFunctionState;
  let cf = fn.compiled;
  let fast = fastCode(cf);
  let code = fast.code;
  // `| 0`: a parameter has no type for V8, and pc would stay a tagged value all loop long.
  let pc = entry >= 0 ? entry | 0 : fast.fastPcAt[t.pc];
  let inst: InstanceState = fn.instance;
  let mem: MemoryState = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
  if (mem !== NO_MEMORY) refreshMemoryViews(mem);
  let view: DataView = mem === NO_MEMORY ? new DataView(new ArrayBuffer(0)) : mem.view;
  let memSize = view.byteLength;
  let fuel = budget;
  const jsAfter = t.jsAfter;
  const jsContext = t.js;

  try {
    for (;;) {
      const op = code[pc];
      switch (op) {
        case 0xd0: /* FastOp.fuel */ {
          const cost = code[pc + 1];
          if (fuel < cost) {
            // Not enough for the whole block: count it out instruction by instruction.
            const exactPc = code[pc + 2];
            t.pc = exactPc; t.fp = fp; t.funcAddr = funcAddr;
            t.sp = fp + cf.numLocals + cf.heights[exactPc];
            t.instructions += budget - fuel;
            // A slice of a longer run that has done something ends here, at a block start.
            return early && (fuel < budget || ranBefore) ? RunStatus.yielded : FINISH_EXACT;
          }
          const js = fast.js;
          if (js !== null) {
            // The JavaScript tier runs from this block on (it charges the block itself).
            jsContext.inst = inst;
            js(jsContext, s32, view, F, pc, fuel, funcAddr);
            if (jsContext.moved) {
              // It left at a deeper frame (a function it called): `run` starts the loop there.
              jsContext.moved = false;
              t.instructions += budget - jsContext.fuel;
              return JS_MOVED;
            }
            const jsPc = jsContext.pc;
            if (jsPc === pc && jsContext.fuel === fuel) {
              // An entry, but too little fuel for the stretch from here. A slice that may
              // end early ends here, at a block start, rather than run the stretch out on
              // the loop: a run of such slices, one at every look at the pause signal,
              // kept the loop busy with the program's hot blocks (0.02% of CoreMark's
              // instructions, 160,000 dispatches a second), and V8 compiling it again for
              // each kind of instruction it had not yet seen (docs/interpreter-warm-up.md).
              if (early && (fuel < budget || ranBefore)) {
                t.pc = code[pc + 2]; t.fp = fp; t.funcAddr = funcAddr;
                t.sp = fp + cf.numLocals + cf.heights[t.pc];
                t.instructions += budget - fuel;
                return RunStatus.yielded;
              }
            } else if (jsPc !== NO_ENTRY_PC) {
              pc = jsPc;
              fuel = jsContext.fuel;
              break;
            }
            // It ran nothing (no entry here, or too little fuel in an exact run): the loop runs the block.
          } else if (jsAfter >= 0 && fast.heat >= 0 && ++fast.heat > jsAfter) {
            // Hot: compiled out of the loop (`runSlowOp`), then this block again.
            t.fp = fp; t.funcAddr = funcAddr;
            t.instructions += budget - fuel;
            return SLOW + pc;
          }
          fuel -= cost;
          pc += 3;
          break;
        }
        case 0xd1: /* FastOp.jump */ { const c = code[pc + 2]; pc = code[pc + 1]; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xd2: /* FastOp.brZ */ if (s32[F + code[pc + 1]] === 0) { const c = code[pc + 3]; pc = code[pc + 2]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 5]; pc += 4; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xd3: /* FastOp.brNz */ if (s32[F + code[pc + 1]] !== 0) { const c = code[pc + 3]; pc = code[pc + 2]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 5]; pc += 4; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe0: /* FastOp.brCmpBase + 0 */ if (s32[F + code[pc + 1]] === s32[F + code[pc + 2]]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe1: /* FastOp.brCmpBase + 1 */ if (s32[F + code[pc + 1]] !== s32[F + code[pc + 2]]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe2: /* FastOp.brCmpBase + 2 */ if (s32[F + code[pc + 1]] < s32[F + code[pc + 2]]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe3: /* FastOp.brCmpBase + 3 */ if (s32[F + code[pc + 1]] >>> 0 < s32[F + code[pc + 2]] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe4: /* FastOp.brCmpBase + 4 */ if (s32[F + code[pc + 1]] > s32[F + code[pc + 2]]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe5: /* FastOp.brCmpBase + 5 */ if (s32[F + code[pc + 1]] >>> 0 > s32[F + code[pc + 2]] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe6: /* FastOp.brCmpBase + 6 */ if (s32[F + code[pc + 1]] <= s32[F + code[pc + 2]]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe7: /* FastOp.brCmpBase + 7 */ if (s32[F + code[pc + 1]] >>> 0 <= s32[F + code[pc + 2]] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe8: /* FastOp.brCmpBase + 8 */ if (s32[F + code[pc + 1]] >= s32[F + code[pc + 2]]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xe9: /* FastOp.brCmpBase + 9 */ if (s32[F + code[pc + 1]] >>> 0 >= s32[F + code[pc + 2]] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xea: /* FastOp.brCmpImmBase + 0 */ if (s32[F + code[pc + 1]] === code[pc + 2]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xeb: /* FastOp.brCmpImmBase + 1 */ if (s32[F + code[pc + 1]] !== code[pc + 2]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xec: /* FastOp.brCmpImmBase + 2 */ if (s32[F + code[pc + 1]] < code[pc + 2]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xed: /* FastOp.brCmpImmBase + 3 */ if (s32[F + code[pc + 1]] >>> 0 < code[pc + 2] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xee: /* FastOp.brCmpImmBase + 4 */ if (s32[F + code[pc + 1]] > code[pc + 2]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xef: /* FastOp.brCmpImmBase + 5 */ if (s32[F + code[pc + 1]] >>> 0 > code[pc + 2] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xf0: /* FastOp.brCmpImmBase + 6 */ if (s32[F + code[pc + 1]] <= code[pc + 2]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xf1: /* FastOp.brCmpImmBase + 7 */ if (s32[F + code[pc + 1]] >>> 0 <= code[pc + 2] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xf2: /* FastOp.brCmpImmBase + 8 */ if (s32[F + code[pc + 1]] >= code[pc + 2]) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xf3: /* FastOp.brCmpImmBase + 9 */ if (s32[F + code[pc + 1]] >>> 0 >= code[pc + 2] >>> 0) { const c = code[pc + 4]; pc = code[pc + 3]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 6]; pc += 5; if (fuel >= c) { fuel -= c; pc += 3; } } break;
        case 0xdd: /* FastOp.brTable */ {
          const count = code[pc + 2];
          let index = s32[F + code[pc + 1]] >>> 0;
          if (index > count) index = count;
          pc = code[pc + 3 + index];
          const c = code[pc + 1];
          if (fuel >= c) { fuel -= c; pc += 3; }
          break;
        }
        case 0xd4: /* FastOp.copy */ {
          // One 64-bit move: V8 moves float64 typed-array elements bit for bit (NaN payloads
          // included, as the spec suite checks), and it beats two 32-bit moves.
          f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1];
          pc += 3;
          break;
        }
        case 0xd5: /* FastOp.const32 */ s32[F + code[pc + 1]] = code[pc + 2]; pc += 3; break;
        case 0xd6: /* FastOp.const64 */ { const d = F + code[pc + 1]; s32[d] = code[pc + 2]; s32[d + 1] = code[pc + 3]; pc += 4; break; }
        case 0xd7: /* FastOp.select */ {
          const d = F + code[pc + 1];
          const src = s32[F + code[pc + 4]] !== 0 ? F + code[pc + 2] : F + code[pc + 3];
          s32[d] = s32[src]; s32[d + 1] = s32[src + 1];
          pc += 5;
          break;
        }
        case 0xd8: /* FastOp.globalGet */ {
          const g = globals[inst.globalAddrs[code[pc + 2]]];
          const d = F + code[pc + 1];
          s32[d] = g.lo; s32[d + 1] = g.hi;
          pc += 3;
          break;
        }
        case 0xd9: /* FastOp.globalSet */ {
          const g = globals[inst.globalAddrs[code[pc + 1]]];
          const a = F + code[pc + 2];
          g.lo = s32[a]; g.hi = s32[a + 1];
          pc += 3;
          break;
        }
        case 0xde: /* FastOp.unreachable */ throw new Trap('unreachable');
        // Instructions whose work calls a function go to `runSlowOp`, outside this loop.
        case 0xf4: /* FastOp.tailCall */ {
          // The common case in the loop: a Wasm callee with fast code whose frame fits.
          // Host and diverted callees, a callee not translated yet or a stack to grow: `runTailCall`.
          const exact = cf.code;
          const at = code[pc + 1];
          let top = fp + code[pc + 2];
          let calleeAddr: number;
          if (exact[at] === 0x12) {
            calleeAddr = inst.funcAddrs[exact[at + 1]];
          } else if (exact[at] !== 0x13) {
            // call_ref, return_call_ref, br_on_null, br_on_non_null (Wasm 3.0): `runTailCall`.
            t.fp = fp; t.funcAddr = funcAddr;
            t.instructions += budget - fuel;
            return SLOW + pc;
          } else {
            const table = store.tables[inst.tableAddrs[exact[at + 2]]];
            const index = s32[2 * --top] >>> 0;
            if (index >= table.size) throw new Trap('undefined element');
            const ref = table.elements[index];
            if (ref === 0) throw new Trap('uninitialized element');
            calleeAddr = ref - 1;
            if (funcs[calleeAddr].typeId !== inst.typeIds[exact[at + 1]]) throw new Trap('indirect call type mismatch');
          }
          const callee = funcs[calleeAddr];
          if (callee.kind === FuncKind.host || (divert !== null && divert[calleeAddr] === 1)
            || callee.compiled.fast === undefined || fp + callee.compiled.frameSize > s32.length >> 1) {
            t.fp = fp; t.funcAddr = funcAddr;
            t.instructions += budget - fuel;
            return SLOW + pc;
          }
          const ccf = callee.compiled;
          // The arguments move down to the frame's first slot; the callee's locals start at zero.
          const from = 2 * (top - ccf.numParams);
          for (let i = 0; i < 2 * ccf.numParams; i++) s32[F + i] = s32[from + i];
          for (let i = F + 2 * ccf.numParams; i < F + 2 * ccf.numLocals; i++) s32[i] = 0;
          funcAddr = calleeAddr;
          fn = callee;
          cf = ccf;
          fast = ccf.fast!;
          code = fast.code;
          pc = 0;
          if (fn.instance !== inst) {
            inst = fn.instance;
            mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
          }
          break;
        }
        case 0x7f: case 0x80: case 0x81: case 0x82: {
          // i64 division and remainder without BigInt where doubles are exact, the rest
          // (and the traps) in `runSlowOp`. SQLite left the loop for these about 40,000
          // times a second (each way out and back in cost more than the division), mostly
          // to divide the largest i64 by a small number (its multiplication overflow test).
          const a = F + code[pc + 2], b = F + code[pc + 3];
          let xlo = s32[a], xhi = s32[a + 1], ylo = s32[b], yhi = s32[b + 1];
          const signed = op === 0x7f || op === 0x81;
          const division = op <= 0x80;
          if (signed
            ? (xhi + 0x200000) >>> 0 < 0x400000 && (yhi + 0x200000) >>> 0 < 0x400000
            : (xhi >>> 0) < 0x200000 && (yhi >>> 0) < 0x200000) {
            // Both within 2^53 in magnitude: one double operation (the rounded quotient of
            // such integers never crosses an integer).
            const x = xhi * TWO_32 + (xlo >>> 0), y = yhi * TWO_32 + (ylo >>> 0);
            if (y !== 0) {
              const r = division ? Math.trunc(x / y) : x % y;
              const d = F + code[pc + 1];
              s32[d] = r | 0;
              s32[d + 1] = Math.floor(r / TWO_32);
              pc += 4;
              break;
            }
          } else {
            // A divisor of at most 2^21 in magnitude: long division of the dividend's
            // magnitude in two 32-bit steps, each exact in doubles; then the signs.
            let negativeQuotient = false, negativeRemainder = false;
            if (signed && xhi < 0) {
              xlo = -xlo | 0; xhi = (~xhi + (xlo === 0 ? 1 : 0)) | 0;
              negativeQuotient = true; negativeRemainder = true;
            }
            if (signed && yhi < 0) {
              ylo = -ylo | 0; yhi = (~yhi + (ylo === 0 ? 1 : 0)) | 0;
              negativeQuotient = !negativeQuotient;
            }
            const y = ylo >>> 0;
            // (A signed dividend still negative here was the smallest i64: out of the loop.)
            if (yhi === 0 && y !== 0 && y <= 0x200000 && !(signed && xhi < 0)) {
              const high = xhi >>> 0;
              const carried = high % y;
              const low = carried * TWO_32 + (xlo >>> 0);
              const lowQuotient = Math.floor(low / y);
              const d = F + code[pc + 1];
              if (division) {
                let qlo = lowQuotient | 0, qhi = ((high - carried) / y) | 0;
                if (negativeQuotient) { qlo = -qlo | 0; qhi = (~qhi + (qlo === 0 ? 1 : 0)) | 0; }
                s32[d] = qlo;
                s32[d + 1] = qhi;
              } else {
                const r = low - lowQuotient * y;
                s32[d] = negativeRemainder ? -r | 0 : r;
                s32[d + 1] = negativeRemainder && r !== 0 ? -1 : 0;
              }
              pc += 4;
              break;
            }
          }
          t.fp = fp; t.funcAddr = funcAddr;
          t.instructions += budget - fuel;
          return SLOW + pc;
        }
        case 0xae: case 0xaf: case 0xb0: case 0xb1: case 0x104: case 0x105: case 0x106: case 0x107: {
          // i64 from a float, trapping or saturating (odd opcodes unsigned): within 2^53
          // the truncation is exact in a double and its two words come without BigInt.
          // NaN, and values that trap, saturate or need more bits: `runSlowOp`.
          const from = F + code[pc + 2];
          const x = op === 0xb0 || op === 0xb1 || op >= 0x106 ? f64[from >> 1] : f32[from];
          if (x < TWO_53 && ((op & 1) === 1 ? x > -1 : x > -TWO_53)) {
            const v = Math.trunc(x);
            const d = F + code[pc + 1];
            s32[d] = v | 0;
            s32[d + 1] = Math.floor(v / TWO_32);
            pc += 3;
            break;
          }
          t.fp = fp; t.funcAddr = funcAddr;
          t.instructions += budget - fuel;
          return SLOW + pc;
        }
        case 0xdf: /* FastOp.exact1 */
        case 0xf5: /* FastOp.leave */
        case 0x90: case 0x9e:
        case 0xb4: case 0xb5:
          t.fp = fp; t.funcAddr = funcAddr;
          t.instructions += budget - fuel;
          return SLOW + pc;
        case 0xda: /* FastOp.return */ {
          const callerAddr = t.frames[3 * t.depth - 3];
          if (callerAddr >= 0 && (funcs[callerAddr] as WasmFunctionState).compiled.fast === undefined) {
            // A caller that has only run on the exact code: translate it out of the loop.
            t.fp = fp; t.funcAddr = funcAddr;
            t.instructions += budget - fuel;
            return SLOW + pc;
          }
          const n = code[pc + 1];
          const src = F + code[pc + 2];
          for (let i = 0; i < 2 * n; i++) s32[F + i] = s32[src + i];
          const d = --t.depth;
          const frames = t.frames;
          const caller = frames[3 * d];
          if (caller < 0) {
            t.sp = fp + n; t.fp = fp; t.pc = 0; t.funcAddr = caller;
            t.instructions += budget - fuel;
            return RunStatus.returned;
          }
          const ra = frames[3 * d + 1];
          fp = frames[3 * d + 2];
          F = 2 * fp;
          funcAddr = caller;
          fn = funcs[caller] as WasmFunctionState;
          cf = fn.compiled;
          fast = cf.fast!;
          code = fast.code;
          pc = (ra & FAST_PC_TAG) !== 0 ? ra & UNTAG : fast.fastPcAt[ra];
          if (fn.instance !== inst) {
            inst = fn.instance;
            mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
          }
          break;
        }
        case 0xdb: /* FastOp.call */ case 0xdc: /* FastOp.callIndirect */ {
          let calleeAddr: number;
          let argBase: number;
          let exactNext: number;
          let next: number;
          if (op === FastOp.call) {
            calleeAddr = inst.funcAddrs[code[pc + 1]];
            argBase = code[pc + 2];
            exactNext = code[pc + 3];
            next = pc + 4;
          } else {
            const table = store.tables[inst.tableAddrs[code[pc + 2]]];
            const index = s32[F + code[pc + 3]] >>> 0;
            if (index >= table.size) throw new Trap('undefined element');
            const ref = table.elements[index];
            if (ref === 0) throw new Trap('uninitialized element');
            calleeAddr = ref - 1;
            if (funcs[calleeAddr].typeId !== inst.typeIds[code[pc + 1]]) throw new Trap('indirect call type mismatch');
            argBase = code[pc + 4];
            exactNext = code[pc + 5];
            next = pc + 6;
          }
          const callee = funcs[calleeAddr];
          const newFp = fp + (argBase >> 1);
          if (callee.kind === FuncKind.host || (divert !== null && divert[calleeAddr] === 1)) {
            // In slots: a v128 argument takes two (a diverted callee may take one).
            t.sp = newFp + (callee.kind === FuncKind.wasm ? callee.compiled.numParams : callee.type.params.length);
            t.fp = fp; t.pc = exactNext; t.funcAddr = funcAddr;
            t.pendingHostCall = calleeAddr;
            t.instructions += budget - fuel;
            return RunStatus.hostCall;
          }
          const d = t.depth;
          if (d >= t.maxDepth) throw new ExhaustionError();
          const ccf = callee.compiled;
          if (3 * d + 3 > t.frames.length || newFp + ccf.frameSize > s32.length >> 1 || ccf.fast === undefined) {
            // Growing the stacks, translating the callee: out of the loop, then this call again.
            t.fp = fp; t.funcAddr = funcAddr;
            t.instructions += budget - fuel;
            return SLOW + pc;
          }
          const frames = t.frames;
          frames[3 * d] = funcAddr;
          frames[3 * d + 1] = next | FAST_PC_TAG;
          frames[3 * d + 2] = fp;
          t.depth = d + 1;
          for (let i = 2 * (newFp + ccf.numParams); i < 2 * (newFp + ccf.numLocals); i++) s32[i] = 0;
          fp = newFp;
          F = 2 * fp;
          funcAddr = calleeAddr;
          fn = callee;
          cf = ccf;
          fast = ccf.fast;
          code = fast.code;
          pc = 0;
          if (fn.instance !== inst) {
            inst = fn.instance;
            mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
          }
          break;
        }

        // ---- memory ----
        case 0x28: case 0x2a: {
          const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 4 > memSize) trapMemory();
          s32[F + code[pc + 1]] = view.getInt32(ea, true);
          pc += 4;
          break;
        }
        case 0x29: case 0x2b: {
          const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 8 > memSize) trapMemory();
          const d = F + code[pc + 1];
          s32[d] = view.getInt32(ea, true);
          s32[d + 1] = view.getInt32(ea + 4, true);
          pc += 4;
          break;
        }
        case 0x2c: case 0x2d: case 0x30: case 0x31: {
          const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 1 > memSize) trapMemory();
          const v = op === 0x2c || op === 0x30 ? view.getInt8(ea) : view.getUint8(ea);
          const d = F + code[pc + 1];
          s32[d] = v;
          if (op >= 0x30) s32[d + 1] = v < 0 ? -1 : 0;
          pc += 4;
          break;
        }
        case 0x2e: case 0x2f: case 0x32: case 0x33: {
          const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 2 > memSize) trapMemory();
          const v = op === 0x2e || op === 0x32 ? view.getInt16(ea, true) : view.getUint16(ea, true);
          const d = F + code[pc + 1];
          s32[d] = v;
          if (op >= 0x30) s32[d + 1] = v < 0 ? -1 : 0;
          pc += 4;
          break;
        }
        case 0x34: case 0x35: {
          const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 4 > memSize) trapMemory();
          const v = view.getInt32(ea, true);
          const d = F + code[pc + 1];
          s32[d] = v;
          s32[d + 1] = op === 0x34 && v < 0 ? -1 : 0;
          pc += 4;
          break;
        }
        case 0x36: case 0x38: case 0x3e: {
          const ea = (s32[F + code[pc + 1]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 4 > memSize) trapMemory();
          view.setInt32(ea, s32[F + code[pc + 2]], true);
          pc += 4;
          break;
        }
        case 0x37: case 0x39: {
          const ea = (s32[F + code[pc + 1]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 8 > memSize) trapMemory();
          const a = F + code[pc + 2];
          view.setInt32(ea, s32[a], true);
          view.setInt32(ea + 4, s32[a + 1], true);
          pc += 4;
          break;
        }
        case 0x3a: case 0x3c: {
          const ea = (s32[F + code[pc + 1]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 1 > memSize) trapMemory();
          view.setInt8(ea, s32[F + code[pc + 2]]);
          pc += 4;
          break;
        }
        case 0x3b: case 0x3d: {
          const ea = (s32[F + code[pc + 1]] >>> 0) + (code[pc + 3] >>> 0);
          if (ea + 2 > memSize) trapMemory();
          view.setInt16(ea, s32[F + code[pc + 2]], true);
          pc += 4;
          break;
        }

        // ---- fused instructions (see fast-ir.ts) ----
        case 0x108: /* FastOp.shrUImmAndImm */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> code[pc + 3]; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] & code[pc + 7]; pc += 8; break; }
        case 0x109: /* FastOp.addAddImm */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + s32[F + code[pc + 3]]) | 0; s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + code[pc + 7]) | 0; pc += 8; break; }
        case 0x10a: /* FastOp.const32Copy */ { s32[F + code[pc + 1]] = code[pc + 2]; f64[(F + code[pc + 4]) >> 1] = f64[(F + code[pc + 5]) >> 1]; pc += 6; break; }
        case 0x10b: /* FastOp.copyBrNz */ { f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1]; if (s32[F + code[pc + 4]] !== 0) { const c = code[pc + 6]; pc = code[pc + 5]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 8]; pc += 7; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x10c: /* FastOp.store32Copy */ { { const ea = (s32[F + code[pc + 1]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } view.setInt32(ea, s32[F + code[pc + 2]], true); } f64[(F + code[pc + 5]) >> 1] = f64[(F + code[pc + 6]) >> 1]; pc += 7; break; }
        case 0x10d: /* FastOp.copyLoad32 */ { f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1]; { const ea = (s32[F + code[pc + 5]] >>> 0) + (code[pc + 6] >>> 0); if (ea + 4 > memSize) { pc += 3; trapMemory(); } s32[F + code[pc + 4]] = view.getInt32(ea, true); } pc += 7; break; }
        case 0x10e: /* FastOp.load32Store32 */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt32(ea, true); } { const ea = (s32[F + code[pc + 5]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 4 > memSize) { pc += 4; trapMemory(); } view.setInt32(ea, s32[F + code[pc + 6]], true); } pc += 8; break; }
        case 0x10f: /* FastOp.load32BrNz */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt32(ea, true); } if (s32[F + code[pc + 5]] !== 0) { const c = code[pc + 7]; pc = code[pc + 6]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 9]; pc += 8; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x110: /* FastOp.load8UBrNz */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 1 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getUint8(ea); } if (s32[F + code[pc + 5]] !== 0) { const c = code[pc + 7]; pc = code[pc + 6]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 9]; pc += 8; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x111: /* FastOp.andImmBrNeImm */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; if (s32[F + code[pc + 5]] !== code[pc + 6]) { const c = code[pc + 8]; pc = code[pc + 7]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 10]; pc += 9; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x112: /* FastOp.mulAdd */ { s32[F + code[pc + 1]] = Math.imul(s32[F + code[pc + 2]], s32[F + code[pc + 3]]); s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + s32[F + code[pc + 7]]) | 0; pc += 8; break; }
        case 0x113: /* FastOp.copyAddImm */ { f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1]; s32[F + code[pc + 4]] = (s32[F + code[pc + 5]] + code[pc + 6]) | 0; pc += 7; break; }
        case 0x114: /* FastOp.addImmLoad8U */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; { const ea = (s32[F + code[pc + 6]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 1 > memSize) { pc += 4; trapMemory(); } s32[F + code[pc + 5]] = view.getUint8(ea); } pc += 8; break; }
        case 0x115: /* FastOp.copyBrNeImm */ { f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1]; if (s32[F + code[pc + 4]] !== code[pc + 5]) { const c = code[pc + 7]; pc = code[pc + 6]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 9]; pc += 8; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x116: /* FastOp.selectShrUImm */ { { const d = F + code[pc + 1], src = s32[F + code[pc + 4]] !== 0 ? F + code[pc + 2] : F + code[pc + 3]; s32[d] = s32[src]; s32[d + 1] = s32[src + 1]; } s32[F + code[pc + 6]] = s32[F + code[pc + 7]] >>> code[pc + 8]; pc += 9; break; }
        case 0x117: /* FastOp.andImmXorImm */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] ^ code[pc + 7]; pc += 8; break; }
        case 0x118: /* FastOp.andImmSelect */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; { const d = F + code[pc + 5], src = s32[F + code[pc + 8]] !== 0 ? F + code[pc + 6] : F + code[pc + 7]; s32[d] = s32[src]; s32[d + 1] = s32[src + 1]; } pc += 9; break; }
        case 0x119: /* FastOp.xorAndImm */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ s32[F + code[pc + 3]]; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] & code[pc + 7]; pc += 8; break; }
        case 0x11a: /* FastOp.const32Select */ { s32[F + code[pc + 1]] = code[pc + 2]; { const d = F + code[pc + 4], src = s32[F + code[pc + 7]] !== 0 ? F + code[pc + 5] : F + code[pc + 6]; s32[d] = s32[src]; s32[d + 1] = s32[src + 1]; } pc += 8; break; }
        case 0x11b: /* FastOp.addImmAndImm */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] & code[pc + 7]; pc += 8; break; }
        case 0x11c: /* FastOp.shrUImmXor */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> code[pc + 3]; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] ^ s32[F + code[pc + 7]]; pc += 8; break; }
        case 0x11d: /* FastOp.load16SMul */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 2 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt16(ea, true); } s32[F + code[pc + 5]] = Math.imul(s32[F + code[pc + 6]], s32[F + code[pc + 7]]); pc += 8; break; }
        case 0x11e: /* FastOp.xorImmShrUImm */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ code[pc + 3]; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] >>> code[pc + 7]; pc += 8; break; }
        case 0x11f: /* FastOp.andImmShrUImm */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] >>> code[pc + 7]; pc += 8; break; }
        case 0x120: /* FastOp.addImmStore32 */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; { const ea = (s32[F + code[pc + 5]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 4 > memSize) { pc += 4; trapMemory(); } view.setInt32(ea, s32[F + code[pc + 6]], true); } pc += 8; break; }
        case 0x121: /* FastOp.load32AddImm */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt32(ea, true); } s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + code[pc + 7]) | 0; pc += 8; break; }
        case 0x122: /* FastOp.load32Load8U */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt32(ea, true); } { const ea = (s32[F + code[pc + 6]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 1 > memSize) { pc += 4; trapMemory(); } s32[F + code[pc + 5]] = view.getUint8(ea); } pc += 8; break; }
        case 0x123: /* FastOp.addImmBrNe */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; if (s32[F + code[pc + 5]] !== s32[F + code[pc + 6]]) { const c = code[pc + 8]; pc = code[pc + 7]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 10]; pc += 9; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x124: /* FastOp.load32Load16U */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt32(ea, true); } { const ea = (s32[F + code[pc + 6]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 2 > memSize) { pc += 4; trapMemory(); } s32[F + code[pc + 5]] = view.getUint16(ea, true); } pc += 8; break; }
        case 0x125: /* FastOp.addImmBrNz */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; if (s32[F + code[pc + 5]] !== 0) { const c = code[pc + 7]; pc = code[pc + 6]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 9]; pc += 8; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x126: /* FastOp.addImmAdd */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + s32[F + code[pc + 7]]) | 0; pc += 8; break; }
        case 0x127: /* FastOp.load16ULoad16U */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 2 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getUint16(ea, true); } { const ea = (s32[F + code[pc + 6]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 2 > memSize) { pc += 4; trapMemory(); } s32[F + code[pc + 5]] = view.getUint16(ea, true); } pc += 8; break; }
        case 0x128: /* FastOp.load16UMul */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 2 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getUint16(ea, true); } s32[F + code[pc + 5]] = Math.imul(s32[F + code[pc + 6]], s32[F + code[pc + 7]]); pc += 8; break; }
        case 0x129: /* FastOp.mulShrUImm */ { s32[F + code[pc + 1]] = Math.imul(s32[F + code[pc + 2]], s32[F + code[pc + 3]]); s32[F + code[pc + 5]] = s32[F + code[pc + 6]] >>> code[pc + 7]; pc += 8; break; }
        case 0x12a: /* FastOp.andImmMul */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; s32[F + code[pc + 5]] = Math.imul(s32[F + code[pc + 6]], s32[F + code[pc + 7]]); pc += 8; break; }
        case 0x12b: /* FastOp.andImmBrEq */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; if (s32[F + code[pc + 5]] === s32[F + code[pc + 6]]) { const c = code[pc + 8]; pc = code[pc + 7]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 10]; pc += 9; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x12c: /* FastOp.load16UAndImm */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 2 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getUint16(ea, true); } s32[F + code[pc + 5]] = s32[F + code[pc + 6]] & code[pc + 7]; pc += 8; break; }
        case 0x12d: /* FastOp.addImmAddImm */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + code[pc + 7]) | 0; pc += 8; break; }
        case 0x12e: /* FastOp.load8UAndImm */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 1 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getUint8(ea); } s32[F + code[pc + 5]] = s32[F + code[pc + 6]] & code[pc + 7]; pc += 8; break; }
        case 0x12f: /* FastOp.xorBrZ */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ s32[F + code[pc + 3]]; if (s32[F + code[pc + 5]] === 0) { const c = code[pc + 7]; pc = code[pc + 6]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 9]; pc += 8; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x130: /* FastOp.copyCopy */ { f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1]; f64[(F + code[pc + 4]) >> 1] = f64[(F + code[pc + 5]) >> 1]; pc += 6; break; }
        case 0x131: /* FastOp.const32Const32 */ { s32[F + code[pc + 1]] = code[pc + 2]; s32[F + code[pc + 4]] = code[pc + 5]; pc += 6; break; }
        case 0x132: /* FastOp.shlImmAdd */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] << code[pc + 3]; s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + s32[F + code[pc + 7]]) | 0; pc += 8; break; }
        case 0x133: /* FastOp.store32CopyBrNz */ { { const ea = (s32[F + code[pc + 1]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } view.setInt32(ea, s32[F + code[pc + 2]], true); } f64[(F + code[pc + 5]) >> 1] = f64[(F + code[pc + 6]) >> 1]; if (s32[F + code[pc + 8]] !== 0) { const c = code[pc + 10]; pc = code[pc + 9]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 12]; pc += 11; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x134: /* FastOp.addImmLoad8UBrNz */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; { const ea = (s32[F + code[pc + 6]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 1 > memSize) { pc += 4; trapMemory(); } s32[F + code[pc + 5]] = view.getUint8(ea); } if (s32[F + code[pc + 9]] !== 0) { const c = code[pc + 11]; pc = code[pc + 10]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 13]; pc += 12; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x135: /* FastOp.load32AddImmStore32 */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt32(ea, true); } s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + code[pc + 7]) | 0; { const ea = (s32[F + code[pc + 9]] >>> 0) + (code[pc + 11] >>> 0); if (ea + 4 > memSize) { pc += 8; trapMemory(); } view.setInt32(ea, s32[F + code[pc + 10]], true); } pc += 12; break; }
        case 0x136: /* FastOp.addAddImmBrNz */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + s32[F + code[pc + 3]]) | 0; s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + code[pc + 7]) | 0; if (s32[F + code[pc + 9]] !== 0) { const c = code[pc + 11]; pc = code[pc + 10]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 13]; pc += 12; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x137: /* FastOp.load32Load8UAndImm */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 4 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt32(ea, true); } { const ea = (s32[F + code[pc + 6]] >>> 0) + (code[pc + 7] >>> 0); if (ea + 1 > memSize) { pc += 4; trapMemory(); } s32[F + code[pc + 5]] = view.getUint8(ea); } s32[F + code[pc + 9]] = s32[F + code[pc + 10]] & code[pc + 11]; pc += 12; break; }
        case 0x138: /* FastOp.andImmXorBrZ */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; s32[F + code[pc + 5]] = s32[F + code[pc + 6]] ^ s32[F + code[pc + 7]]; if (s32[F + code[pc + 9]] === 0) { const c = code[pc + 11]; pc = code[pc + 10]; if (fuel >= c) { fuel -= c; pc += 3; } } else { const c = code[pc + 13]; pc += 12; if (fuel >= c) { fuel -= c; pc += 3; } } } break;
        case 0x139: /* FastOp.gtSConst32Select */ { s32[F + code[pc + 1]] = s32[F + code[pc + 2]] > s32[F + code[pc + 3]] ? 1 : 0; s32[F + code[pc + 5]] = code[pc + 6]; { const d = F + code[pc + 8], src = s32[F + code[pc + 11]] !== 0 ? F + code[pc + 9] : F + code[pc + 10]; s32[d] = s32[src]; s32[d + 1] = s32[src + 1]; } pc += 12; break; }
        case 0x13a: /* FastOp.addAddAddImm */ { s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + s32[F + code[pc + 3]]) | 0; s32[F + code[pc + 5]] = (s32[F + code[pc + 6]] + s32[F + code[pc + 7]]) | 0; s32[F + code[pc + 9]] = (s32[F + code[pc + 10]] + code[pc + 11]) | 0; pc += 12; break; }
        case 0x13b: /* FastOp.load16SMulAdd */ { { const ea = (s32[F + code[pc + 2]] >>> 0) + (code[pc + 3] >>> 0); if (ea + 2 > memSize) { trapMemory(); } s32[F + code[pc + 1]] = view.getInt16(ea, true); } s32[F + code[pc + 5]] = Math.imul(s32[F + code[pc + 6]], s32[F + code[pc + 7]]); s32[F + code[pc + 9]] = (s32[F + code[pc + 10]] + s32[F + code[pc + 11]]) | 0; pc += 12; break; }

        // ---- i32 with an immediate right operand ----
        case 0x146: /* FastOp.immediate + 0x46 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] === code[pc + 3] ? 1 : 0; pc += 4; break;
        case 0x147: /* FastOp.immediate + 0x47 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] !== code[pc + 3] ? 1 : 0; pc += 4; break;
        case 0x148: /* FastOp.immediate + 0x48 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] < code[pc + 3] ? 1 : 0; pc += 4; break;
        case 0x149: /* FastOp.immediate + 0x49 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 < code[pc + 3] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x14a: /* FastOp.immediate + 0x4a */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] > code[pc + 3] ? 1 : 0; pc += 4; break;
        case 0x14b: /* FastOp.immediate + 0x4b */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 > code[pc + 3] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x14c: /* FastOp.immediate + 0x4c */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] <= code[pc + 3] ? 1 : 0; pc += 4; break;
        case 0x14d: /* FastOp.immediate + 0x4d */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 <= code[pc + 3] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x14e: /* FastOp.immediate + 0x4e */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >= code[pc + 3] ? 1 : 0; pc += 4; break;
        case 0x14f: /* FastOp.immediate + 0x4f */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 >= code[pc + 3] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x16a: /* FastOp.immediate + 0x6a */ s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + code[pc + 3]) | 0; pc += 4; break;
        case 0x16b: /* FastOp.immediate + 0x6b */ s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] - code[pc + 3]) | 0; pc += 4; break;
        case 0x16c: /* FastOp.immediate + 0x6c */ s32[F + code[pc + 1]] = Math.imul(s32[F + code[pc + 2]], code[pc + 3]); pc += 4; break;
        case 0x171: /* FastOp.immediate + 0x71 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & code[pc + 3]; pc += 4; break;
        case 0x172: /* FastOp.immediate + 0x72 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] | code[pc + 3]; pc += 4; break;
        case 0x173: /* FastOp.immediate + 0x73 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ code[pc + 3]; pc += 4; break;
        case 0x174: /* FastOp.immediate + 0x74 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] << code[pc + 3]; pc += 4; break;
        case 0x175: /* FastOp.immediate + 0x75 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >> code[pc + 3]; pc += 4; break;
        case 0x176: /* FastOp.immediate + 0x76 */ s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> code[pc + 3]; pc += 4; break;

        // ---- i32 ----
        case 0x45: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] === 0 ? 1 : 0; pc += 3; break;
        case 0x46: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] === s32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x47: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] !== s32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x48: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] < s32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x49: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 < s32[F + code[pc + 3]] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x4a: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] > s32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x4b: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 > s32[F + code[pc + 3]] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x4c: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] <= s32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x4d: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 <= s32[F + code[pc + 3]] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x4e: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >= s32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x4f: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0 >= s32[F + code[pc + 3]] >>> 0 ? 1 : 0; pc += 4; break;
        case 0x67: s32[F + code[pc + 1]] = Math.clz32(s32[F + code[pc + 2]]); pc += 3; break;
        case 0x68: { const x = s32[F + code[pc + 2]]; s32[F + code[pc + 1]] = x === 0 ? 32 : 31 - Math.clz32(x & -x); pc += 3; break; }
        case 0x69: {
          let x = s32[F + code[pc + 2]];
          x = x - ((x >>> 1) & 0x55555555);
          x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
          x = (x + (x >>> 4)) & 0x0f0f0f0f;
          s32[F + code[pc + 1]] = Math.imul(x, 0x01010101) >>> 24;
          pc += 3;
          break;
        }
        case 0x6a: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] + s32[F + code[pc + 3]]) | 0; pc += 4; break;
        case 0x6b: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] - s32[F + code[pc + 3]]) | 0; pc += 4; break;
        case 0x6c: s32[F + code[pc + 1]] = Math.imul(s32[F + code[pc + 2]], s32[F + code[pc + 3]]); pc += 4; break;
        case 0x6d: {
          const a = s32[F + code[pc + 2]], b = s32[F + code[pc + 3]];
          if (b === 0) trapDivideByZero();
          if (a === -2147483648 && b === -1) trapIntegerOverflow();
          s32[F + code[pc + 1]] = (a / b) | 0;
          pc += 4;
          break;
        }
        case 0x6e: {
          const b = s32[F + code[pc + 3]] >>> 0;
          if (b === 0) trapDivideByZero();
          s32[F + code[pc + 1]] = ((s32[F + code[pc + 2]] >>> 0) / b) | 0;
          pc += 4;
          break;
        }
        case 0x6f: {
          const b = s32[F + code[pc + 3]];
          if (b === 0) trapDivideByZero();
          s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] % b) | 0;
          pc += 4;
          break;
        }
        case 0x70: {
          const b = s32[F + code[pc + 3]] >>> 0;
          if (b === 0) trapDivideByZero();
          s32[F + code[pc + 1]] = ((s32[F + code[pc + 2]] >>> 0) % b) | 0;
          pc += 4;
          break;
        }
        case 0x71: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & s32[F + code[pc + 3]]; pc += 4; break;
        case 0x72: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] | s32[F + code[pc + 3]]; pc += 4; break;
        case 0x73: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ s32[F + code[pc + 3]]; pc += 4; break;
        case 0x74: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] << s32[F + code[pc + 3]]; pc += 4; break;
        case 0x75: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >> s32[F + code[pc + 3]]; pc += 4; break;
        case 0x76: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> s32[F + code[pc + 3]]; pc += 4; break;
        case 0x77: {
          const a = s32[F + code[pc + 2]], k = s32[F + code[pc + 3]] & 31;
          s32[F + code[pc + 1]] = (a << k) | (a >>> (32 - k));
          pc += 4;
          break;
        }
        case 0x78: {
          const a = s32[F + code[pc + 2]], k = s32[F + code[pc + 3]] & 31;
          s32[F + code[pc + 1]] = (a >>> k) | (a << (32 - k));
          pc += 4;
          break;
        }

        // ---- i64 ----
        case 0x50: { const a = F + code[pc + 2]; s32[F + code[pc + 1]] = (s32[a] | s32[a + 1]) === 0 ? 1 : 0; pc += 3; break; }
        case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: case 0x58: case 0x59: case 0x5a: {
          const a = F + code[pc + 2], b = F + code[pc + 3];
          const ahi = s32[a + 1], bhi = s32[b + 1], alo = s32[a] >>> 0, blo = s32[b] >>> 0;
          let r: boolean;
          switch (op) {
            case 0x51: r = ahi === bhi && alo === blo; break;
            case 0x52: r = ahi !== bhi || alo !== blo; break;
            case 0x53: r = ahi < bhi || (ahi === bhi && alo < blo); break;
            case 0x54: r = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo < blo); break;
            case 0x55: r = ahi > bhi || (ahi === bhi && alo > blo); break;
            case 0x56: r = ahi >>> 0 > bhi >>> 0 || (ahi === bhi && alo > blo); break;
            case 0x57: r = ahi < bhi || (ahi === bhi && alo <= blo); break;
            case 0x58: r = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo <= blo); break;
            case 0x59: r = ahi > bhi || (ahi === bhi && alo >= blo); break;
            default: r = ahi >>> 0 > bhi >>> 0 || (ahi === bhi && alo >= blo); break;
          }
          s32[F + code[pc + 1]] = r ? 1 : 0;
          pc += 4;
          break;
        }
        case 0x7c: {
          const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
          // Word arithmetic only (js-tier/op-emitters.ts, i64.add): no range for V8 to speculate on.
          const al = s32[a], lo = (al + s32[b]) | 0;
          s32[d + 1] = (s32[a + 1] + s32[b + 1] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
          s32[d] = lo;
          pc += 4;
          break;
        }
        case 0x7d: {
          const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
          const al = s32[a], bl = s32[b];
          s32[d + 1] = (s32[a + 1] - s32[b + 1] - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          s32[d] = (al - bl) | 0;
          pc += 4;
          break;
        }
        case 0x7e: {
          // 64-bit product from 32-bit halves (no BigInt): the low word is imul's; the high
          // word is the high half of lo x lo (from 16-bit pieces, exact in doubles) plus the
          // low halves of the cross products.
          const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
          const alo = s32[a], blo = s32[b];
          const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
          // Each 16 x 16-bit piece is below 2^32: imul's word holds it exactly, and V8 has no
          // range to speculate on (a plain product compiled on small-integer feedback would
          // be thrown away at the first one past 2^31, as i64.add's sum was).
          const p01 = Math.imul(a0, b1), p10 = Math.imul(a1, b0);
          const mid = (Math.imul(a0, b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
          const high = Math.imul(a1, b1) + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
          s32[d + 1] = (high + Math.imul(alo, s32[b + 1]) + Math.imul(s32[a + 1], blo)) | 0;
          s32[d] = Math.imul(alo, blo);
          pc += 4;
          break;
        }
        case 0x83: { const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3]; s32[d] = s32[a] & s32[b]; s32[d + 1] = s32[a + 1] & s32[b + 1]; pc += 4; break; }
        case 0x84: { const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3]; s32[d] = s32[a] | s32[b]; s32[d + 1] = s32[a + 1] | s32[b + 1]; pc += 4; break; }
        case 0x85: { const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3]; s32[d] = s32[a] ^ s32[b]; s32[d + 1] = s32[a + 1] ^ s32[b + 1]; pc += 4; break; }
        case 0x86: case 0x87: case 0x88: {
          const d = F + code[pc + 1], a = F + code[pc + 2];
          const k = s32[F + code[pc + 3]] & 63;
          const lo = s32[a], hi = s32[a + 1];
          let rlo = lo, rhi = hi;
          if (k !== 0) {
            if (op === 0x86) {
              if (k < 32) { rhi = (hi << k) | (lo >>> (32 - k)); rlo = lo << k; } else { rhi = lo << (k - 32); rlo = 0; }
            } else if (op === 0x87) {
              if (k < 32) { rlo = (lo >>> k) | (hi << (32 - k)); rhi = hi >> k; } else { rlo = hi >> (k - 32); rhi = hi >> 31; }
            } else {
              if (k < 32) { rlo = (lo >>> k) | (hi << (32 - k)); rhi = hi >>> k; } else { rlo = hi >>> (k - 32); rhi = 0; }
            }
          }
          s32[d] = rlo; s32[d + 1] = rhi;
          pc += 4;
          break;
        }
        // ---- floats ----
        case 0x5b: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] === f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x5c: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] !== f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x5d: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] < f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x5e: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] > f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x5f: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] <= f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x60: s32[F + code[pc + 1]] = f32[F + code[pc + 2]] >= f32[F + code[pc + 3]] ? 1 : 0; pc += 4; break;
        case 0x61: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] === f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
        case 0x62: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] !== f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
        case 0x63: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] < f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
        case 0x64: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] > f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
        case 0x65: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] <= f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
        case 0x66: s32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1] >= f64[(F + code[pc + 3]) >> 1] ? 1 : 0; pc += 4; break;
        case 0x92: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] + f32[F + code[pc + 3]]; pc += 4; break;
        case 0x93: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] - f32[F + code[pc + 3]]; pc += 4; break;
        case 0x94: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] * f32[F + code[pc + 3]]; pc += 4; break;
        case 0x95: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] / f32[F + code[pc + 3]]; pc += 4; break;
        case 0xa0: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] + f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0xa1: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] - f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0xa2: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] * f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0xa3: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] / f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        // ---- conversions ----
        case 0xa7: case 0xbc: case 0xbe: s32[F + code[pc + 1]] = s32[F + code[pc + 2]]; pc += 3; break;
        case 0xac: { const d = F + code[pc + 1], v = s32[F + code[pc + 2]]; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
        case 0xad: { const d = F + code[pc + 1]; s32[d] = s32[F + code[pc + 2]]; s32[d + 1] = 0; pc += 3; break; }
        case 0xb2: f32[F + code[pc + 1]] = s32[F + code[pc + 2]]; pc += 3; break;
        case 0xb3: f32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0; pc += 3; break;
        case 0xb6: f32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1]; pc += 3; break;
        case 0xb7: f64[(F + code[pc + 1]) >> 1] = s32[F + code[pc + 2]]; pc += 3; break;
        case 0xb8: f64[(F + code[pc + 1]) >> 1] = s32[F + code[pc + 2]] >>> 0; pc += 3; break;
        case 0xbb: f64[(F + code[pc + 1]) >> 1] = f32[F + code[pc + 2]]; pc += 3; break;
        // ---- conversions that trap (the rarer ones are in stepWide) ----
        // `x | 0` truncates toward zero and wraps: exact for every x the range checks let through.
        case 0xa8: { const x = f32[F + code[pc + 2]]; if (!(x > -2147483649 && x < 2147483648)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
        case 0xa9: { const x = f32[F + code[pc + 2]]; if (!(x > -1 && x < 4294967296)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
        case 0xaa: { const x = f64[(F + code[pc + 2]) >> 1]; if (!(x > -2147483649 && x < 2147483648)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
        case 0xab: { const x = f64[(F + code[pc + 2]) >> 1]; if (!(x > -1 && x < 4294967296)) throw conversionTrap(x); s32[F + code[pc + 1]] = x | 0; pc += 3; break; }
        default: {
          // SIMD and the v128 moves: one branch, off the path of every other instruction.
          if (op === 0x1f0 /* FastOp.simd */) {
            stepSimd(t, cf.code, code[pc + 1], fp + code[pc + 2], fp, inst, mem);
            pc += 3;
            break;
          }
          // The rarer i64, float and conversion instructions, in a function of their own: see stepWide.
          const next = stepWide(code, pc, F, s32, f32, f64);
          if (next === pc) throw new Trap(`internal error: unknown fast opcode 0x${op.toString(16)} at pc ${pc}`, 'ERR_INTERNAL');
          pc = next;
          break;
        }
      }
    }
  } catch (error) {
    // Registers at the faulting instruction, for the backtrace (compiled code's own place where it trapped).
    placeThrow(t, funcAddr, fp, pc, fuel, budget);
    throw error;
  }
}

/**
 * A tail call of the fast code, run as one exact instruction (already charged by its
 * block's fuel): it replaces the frame, so the fast loop cannot simply go on after it.
 */
function runTailCall(t: ThreadState, pc: number): RunStatus {
  const code = fastCode((t.store.funcs[t.funcAddr] as WasmFunctionState).compiled).code;
  t.pc = code[pc + 1];
  t.sp = t.fp + code[pc + 2];
  const before = t.instructions;
  const status = runExact(t, 1);
  t.instructions = before;
  return status;
}

/**
 * One instruction of the fast code that the fast loop leaves to this function: those
 * whose work calls a function (BigInt arithmetic, `nearest`, the conversions to i64, an
 * exact-code instruction), and the set-up of calls and returns (growing the stacks,
 * translating a function that has not run on the fast code yet), after which the call or
 * return runs again in the loop. Kept out of the loop because V8 spills the loop's
 * registers around every call in it. Returns the fast pc to go on at.
 */
function runSlowOp(t: ThreadState, pc: number): number {
  const funcs = t.store.funcs;
  const fast = fastCode((funcs[t.funcAddr] as WasmFunctionState).compiled);
  const code = fast.code;
  const F = 2 * t.fp;
  const s32 = t.s32, f32 = t.f32, f64 = t.f64, i64 = t.i64, u64 = t.u64;
  const op = code[pc];
  try {
    switch (op) {
      case 0xd0: /* FastOp.fuel: the function is hot */ {
        compileHotWithCallees(t, funcs[t.funcAddr] as WasmFunctionState);
        return pc;
      }
      case 0xdf: /* FastOp.exact1 */ {
        t.pc = code[pc + 1]; t.sp = t.fp + code[pc + 2];
        const before = t.instructions;
        runExact(t, 1);
        t.instructions = before; // already charged by its block's fuel
        return pc + 3;
      }
      case 0xda: /* FastOp.return */ {
        fastCode((funcs[t.frames[3 * t.depth - 3]] as WasmFunctionState).compiled);
        return pc;
      }
      case 0xdb: /* FastOp.call */ case 0xdc: /* FastOp.callIndirect */ {
        // The loop has checked the callee (host functions, traps) already.
        const inst = (funcs[t.funcAddr] as WasmFunctionState).instance;
        let calleeAddr: number, argBase: number;
        if (op === FastOp.call) {
          calleeAddr = inst.funcAddrs[code[pc + 1]];
          argBase = code[pc + 2];
        } else {
          calleeAddr = t.store.tables[inst.tableAddrs[code[pc + 2]]].elements[s32[F + code[pc + 3]] >>> 0] - 1;
          argBase = code[pc + 4];
        }
        const ccf = (funcs[calleeAddr] as WasmFunctionState).compiled;
        fastCode(ccf);
        if (3 * t.depth + 3 > t.frames.length) growFrames(t);
        const needed = t.fp + (argBase >> 1) + ccf.frameSize;
        if (needed > t.s32.length >> 1 && !growSlots(t, needed)) throw new ExhaustionError();
        return pc;
      }
      case 0x7f: {
        const b = i64[(F + code[pc + 3]) >> 1];
        if (b === 0n) trapDivideByZero();
        const a = i64[(F + code[pc + 2]) >> 1];
        if (b === -1n && a === -0x8000000000000000n) trapIntegerOverflow();
        i64[(F + code[pc + 1]) >> 1] = a / b;
        return pc + 4;
      }
      case 0x80: {
        const b = u64[(F + code[pc + 3]) >> 1];
        if (b === 0n) trapDivideByZero();
        u64[(F + code[pc + 1]) >> 1] = u64[(F + code[pc + 2]) >> 1] / b;
        return pc + 4;
      }
      case 0x81: {
        const b = i64[(F + code[pc + 3]) >> 1];
        if (b === 0n) trapDivideByZero();
        i64[(F + code[pc + 1]) >> 1] = i64[(F + code[pc + 2]) >> 1] % b;
        return pc + 4;
      }
      case 0x82: {
        const b = u64[(F + code[pc + 3]) >> 1];
        if (b === 0n) trapDivideByZero();
        u64[(F + code[pc + 1]) >> 1] = u64[(F + code[pc + 2]) >> 1] % b;
        return pc + 4;
      }
      case 0x90: f32[F + code[pc + 1]] = nearest(f32[F + code[pc + 2]]); return pc + 3;
      case 0x9e: { const d = F + code[pc + 1]; const r = nearest(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; return pc + 3; }
      case 0xae: i64[(F + code[pc + 1]) >> 1] = truncI64S(f32[F + code[pc + 2]]); return pc + 3;
      case 0xaf: i64[(F + code[pc + 1]) >> 1] = truncI64U(f32[F + code[pc + 2]]); return pc + 3;
      case 0xb0: i64[(F + code[pc + 1]) >> 1] = truncI64S(f64[(F + code[pc + 2]) >> 1]); return pc + 3;
      case 0xb1: i64[(F + code[pc + 1]) >> 1] = truncI64U(f64[(F + code[pc + 2]) >> 1]); return pc + 3;
      case 0xb4: f32[F + code[pc + 1]] = i64ToF32(i64[(F + code[pc + 2]) >> 1], false); return pc + 3;
      case 0xb5: f32[F + code[pc + 1]] = i64ToF32(u64[(F + code[pc + 2]) >> 1], true); return pc + 3;
      case 0x104: i64[(F + code[pc + 1]) >> 1] = truncSatI64S(f32[F + code[pc + 2]]); return pc + 3;
      case 0x105: u64[(F + code[pc + 1]) >> 1] = truncSatI64U(f32[F + code[pc + 2]]); return pc + 3;
      case 0x106: i64[(F + code[pc + 1]) >> 1] = truncSatI64S(f64[(F + code[pc + 2]) >> 1]); return pc + 3;
      case 0x107: u64[(F + code[pc + 1]) >> 1] = truncSatI64U(f64[(F + code[pc + 2]) >> 1]); return pc + 3;
      default:
        throw new Trap(`internal error: fast opcode 0x${op.toString(16)} at pc ${pc} is not a slow one`, 'ERR_INTERNAL');
    }
  } catch (error) {
    t.pc = fast.exactPcAt[pc] >= 0 ? fast.exactPcAt[pc] : 0;
    throw error;
  }
}
