import { ExhaustionError, Trap } from '../errors/index.ts';
import { FastOp, FAST_PC_TAG, translateFast } from '../compile/index.ts';
import type { CompiledFunction, FastFunction } from '../compile/index.ts';
import {
  ctz32, i64ToF32, nearest, popcnt32, trapDivideByZero, trapIntegerOverflow,
  truncI32S, truncI32U, truncI64S, truncI64U, truncSatI32S, truncSatI32U, truncSatI64S, truncSatI64U,
} from './numeric.ts';
import { runExact } from './run.ts';
import { FuncKind, growFrames, growSlots, refreshMemoryViews, RunStatus } from './state.ts';
import type { InstanceState, MemoryState, ThreadState, WasmFunctionState } from './state.ts';

const UNTAG = ~FAST_PC_TAG;
const NO_MEMORY = null as unknown as MemoryState;

function trapMemory(): never {
  throw new Trap('out of bounds memory access');
}

export function fastCode(cf: CompiledFunction): FastFunction {
  return cf.fast ?? (cf.fast = translateFast(cf, cf.sigs));
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
 */
export function run(t: ThreadState, budget: number): RunStatus {
  if (!t.fast) return runExact(t, budget);
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
  try {
    const status = runFastLoop(t, remaining);
    if (status === RunStatus.yielded) normalizeFrames(t);
    return status;
  } catch (error) {
    normalizeFrames(t);
    throw error;
  }
}

/** The fast loop proper: register-form code, fuel charged per basic block. */
function runFastLoop(t: ThreadState, budget: number): RunStatus {
  const store = t.store;
  const funcs = store.funcs;
  const divert = t.divert;
  const globals = store.globals;
  let s32 = t.s32;
  let f32 = t.f32;
  let f64 = t.f64;
  let i64 = t.i64;
  let u64 = t.u64;
  let fp = t.fp;
  let F = 2 * fp;
  let funcAddr = t.funcAddr;
  let fn = funcs[funcAddr] as WasmFunctionState;
  let cf = fn.compiled;
  let fast = fastCode(cf);
  let code = fast.code;
  let pc = fast.fastPcAt[t.pc];
  let inst: InstanceState = fn.instance;
  let mem: MemoryState = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
  if (mem !== NO_MEMORY) refreshMemoryViews(mem);
  let view: DataView = mem === NO_MEMORY ? new DataView(new ArrayBuffer(0)) : mem.view;
  let memSize = view.byteLength;
  let fuel = budget;

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
            return runExact(t, fuel);
          }
          fuel -= cost;
          pc += 3;
          break;
        }
        case 0xd1: /* FastOp.jump */ { const tg = code[pc + 1], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } break;
        case 0xd2: /* FastOp.brZ */ if (s32[F + code[pc + 1]] === 0) { const tg = code[pc + 2], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 3; break;
        case 0xd3: /* FastOp.brNz */ if (s32[F + code[pc + 1]] !== 0) { const tg = code[pc + 2], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 3; break;
        case 0xe0: /* FastOp.brCmpBase + 0 */ if (s32[F + code[pc + 1]] === s32[F + code[pc + 2]]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe1: /* FastOp.brCmpBase + 1 */ if (s32[F + code[pc + 1]] !== s32[F + code[pc + 2]]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe2: /* FastOp.brCmpBase + 2 */ if (s32[F + code[pc + 1]] < s32[F + code[pc + 2]]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe3: /* FastOp.brCmpBase + 3 */ if (s32[F + code[pc + 1]] >>> 0 < s32[F + code[pc + 2]] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe4: /* FastOp.brCmpBase + 4 */ if (s32[F + code[pc + 1]] > s32[F + code[pc + 2]]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe5: /* FastOp.brCmpBase + 5 */ if (s32[F + code[pc + 1]] >>> 0 > s32[F + code[pc + 2]] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe6: /* FastOp.brCmpBase + 6 */ if (s32[F + code[pc + 1]] <= s32[F + code[pc + 2]]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe7: /* FastOp.brCmpBase + 7 */ if (s32[F + code[pc + 1]] >>> 0 <= s32[F + code[pc + 2]] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe8: /* FastOp.brCmpBase + 8 */ if (s32[F + code[pc + 1]] >= s32[F + code[pc + 2]]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xe9: /* FastOp.brCmpBase + 9 */ if (s32[F + code[pc + 1]] >>> 0 >= s32[F + code[pc + 2]] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xea: /* FastOp.brCmpImmBase + 0 */ if (s32[F + code[pc + 1]] === code[pc + 2]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xeb: /* FastOp.brCmpImmBase + 1 */ if (s32[F + code[pc + 1]] !== code[pc + 2]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xec: /* FastOp.brCmpImmBase + 2 */ if (s32[F + code[pc + 1]] < code[pc + 2]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xed: /* FastOp.brCmpImmBase + 3 */ if (s32[F + code[pc + 1]] >>> 0 < code[pc + 2] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xee: /* FastOp.brCmpImmBase + 4 */ if (s32[F + code[pc + 1]] > code[pc + 2]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xef: /* FastOp.brCmpImmBase + 5 */ if (s32[F + code[pc + 1]] >>> 0 > code[pc + 2] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xf0: /* FastOp.brCmpImmBase + 6 */ if (s32[F + code[pc + 1]] <= code[pc + 2]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xf1: /* FastOp.brCmpImmBase + 7 */ if (s32[F + code[pc + 1]] >>> 0 <= code[pc + 2] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xf2: /* FastOp.brCmpImmBase + 8 */ if (s32[F + code[pc + 1]] >= code[pc + 2]) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xf3: /* FastOp.brCmpImmBase + 9 */ if (s32[F + code[pc + 1]] >>> 0 >= code[pc + 2] >>> 0) { const tg = code[pc + 3], c = code[tg + 1]; if (fuel >= c) { fuel -= c; pc = tg + 3; } else pc = tg; } else pc += 4; break;
        case 0xdd: /* FastOp.brTable */ {
          const count = code[pc + 2];
          let index = s32[F + code[pc + 1]] >>> 0;
          if (index > count) index = count;
          pc = code[pc + 3 + index];
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
        case 0xdf: /* FastOp.exact1 */ {
          // One rare instruction on the exact code, then back here.
          t.pc = code[pc + 1]; t.fp = fp; t.funcAddr = funcAddr; t.sp = fp + code[pc + 2];
          const before = t.instructions;
          runExact(t, 1);
          t.instructions = before; // already charged by this block's fuel
          s32 = t.s32; f32 = t.f32; f64 = t.f64; i64 = t.i64; u64 = t.u64;
          if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
          pc += 3;
          break;
        }
        case 0xda: /* FastOp.return */ {
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
          fast = fastCode(cf);
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
            t.sp = newFp + callee.type.params.length;
            t.fp = fp; t.pc = exactNext; t.funcAddr = funcAddr;
            t.pendingHostCall = calleeAddr;
            t.instructions += budget - fuel;
            return RunStatus.hostCall;
          }
          const d = t.depth;
          if (d >= t.maxDepth) throw new ExhaustionError();
          if (3 * d + 3 > t.frames.length) growFrames(t);
          const frames = t.frames;
          frames[3 * d] = funcAddr;
          frames[3 * d + 1] = next | FAST_PC_TAG;
          frames[3 * d + 2] = fp;
          t.depth = d + 1;
          const ccf = callee.compiled;
          if (newFp + ccf.frameSize > s32.length >> 1) {
            if (!growSlots(t, newFp + ccf.frameSize)) { t.depth = d; throw new ExhaustionError(); }
            s32 = t.s32; f32 = t.f32; f64 = t.f64; i64 = t.i64; u64 = t.u64;
          }
          for (let i = 2 * (newFp + ccf.numParams); i < 2 * (newFp + ccf.numLocals); i++) s32[i] = 0;
          fp = newFp;
          F = 2 * fp;
          funcAddr = calleeAddr;
          fn = callee;
          cf = ccf;
          fast = fastCode(cf);
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
        case 0x68: s32[F + code[pc + 1]] = ctz32(s32[F + code[pc + 2]]); pc += 3; break;
        case 0x69: s32[F + code[pc + 1]] = popcnt32(s32[F + code[pc + 2]]); pc += 3; break;
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
        case 0x79: {
          const d = F + code[pc + 1], a = F + code[pc + 2];
          const hi = s32[a + 1];
          s32[d] = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(s32[a]);
          s32[d + 1] = 0;
          pc += 3;
          break;
        }
        case 0x7a: {
          const d = F + code[pc + 1], a = F + code[pc + 2];
          const lo = s32[a];
          s32[d] = lo !== 0 ? ctz32(lo) : 32 + ctz32(s32[a + 1]);
          s32[d + 1] = 0;
          pc += 3;
          break;
        }
        case 0x7b: {
          const d = F + code[pc + 1], a = F + code[pc + 2];
          s32[d] = popcnt32(s32[a]) + popcnt32(s32[a + 1]);
          s32[d + 1] = 0;
          pc += 3;
          break;
        }
        case 0x7c: {
          const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
          const lo = (s32[a] >>> 0) + (s32[b] >>> 0);
          s32[d + 1] = (s32[a + 1] + s32[b + 1] + (lo > 0xffffffff ? 1 : 0)) | 0;
          s32[d] = lo | 0;
          pc += 4;
          break;
        }
        case 0x7d: {
          const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
          const lo = (s32[a] >>> 0) - (s32[b] >>> 0);
          s32[d + 1] = (s32[a + 1] - s32[b + 1] - (lo < 0 ? 1 : 0)) | 0;
          s32[d] = lo | 0;
          pc += 4;
          break;
        }
        case 0x7e: i64[(F + code[pc + 1]) >> 1] = i64[(F + code[pc + 2]) >> 1] * i64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0x7f: {
          const b = i64[(F + code[pc + 3]) >> 1];
          if (b === 0n) trapDivideByZero();
          const a = i64[(F + code[pc + 2]) >> 1];
          if (b === -1n && a === -0x8000000000000000n) trapIntegerOverflow();
          i64[(F + code[pc + 1]) >> 1] = a / b;
          pc += 4;
          break;
        }
        case 0x80: {
          const b = u64[(F + code[pc + 3]) >> 1];
          if (b === 0n) trapDivideByZero();
          u64[(F + code[pc + 1]) >> 1] = u64[(F + code[pc + 2]) >> 1] / b;
          pc += 4;
          break;
        }
        case 0x81: {
          const b = i64[(F + code[pc + 3]) >> 1];
          if (b === 0n) trapDivideByZero();
          i64[(F + code[pc + 1]) >> 1] = i64[(F + code[pc + 2]) >> 1] % b;
          pc += 4;
          break;
        }
        case 0x82: {
          const b = u64[(F + code[pc + 3]) >> 1];
          if (b === 0n) trapDivideByZero();
          u64[(F + code[pc + 1]) >> 1] = u64[(F + code[pc + 2]) >> 1] % b;
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
        case 0x89: case 0x8a: {
          const d = F + code[pc + 1], a = F + code[pc + 2];
          let k = s32[F + code[pc + 3]] & 63;
          if (op === 0x8a) k = (64 - k) & 63;
          let lo = s32[a], hi = s32[a + 1];
          if (k >= 32) { const tmp = lo; lo = hi; hi = tmp; k -= 32; }
          if (k !== 0) {
            const nhi = (hi << k) | (lo >>> (32 - k));
            const nlo = (lo << k) | (hi >>> (32 - k));
            hi = nhi; lo = nlo;
          }
          s32[d] = lo; s32[d + 1] = hi;
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
        case 0x8b: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] & 0x7fffffff; pc += 3; break;
        case 0x8c: s32[F + code[pc + 1]] = s32[F + code[pc + 2]] ^ -0x80000000; pc += 3; break;
        case 0x8d: f32[F + code[pc + 1]] = Math.ceil(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x8e: f32[F + code[pc + 1]] = Math.floor(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x8f: f32[F + code[pc + 1]] = Math.trunc(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x90: f32[F + code[pc + 1]] = nearest(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x91: f32[F + code[pc + 1]] = Math.sqrt(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x92: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] + f32[F + code[pc + 3]]; pc += 4; break;
        case 0x93: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] - f32[F + code[pc + 3]]; pc += 4; break;
        case 0x94: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] * f32[F + code[pc + 3]]; pc += 4; break;
        case 0x95: f32[F + code[pc + 1]] = f32[F + code[pc + 2]] / f32[F + code[pc + 3]]; pc += 4; break;
        case 0x96: f32[F + code[pc + 1]] = Math.min(f32[F + code[pc + 2]], f32[F + code[pc + 3]]); pc += 4; break;
        case 0x97: f32[F + code[pc + 1]] = Math.max(f32[F + code[pc + 2]], f32[F + code[pc + 3]]); pc += 4; break;
        case 0x98: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] & 0x7fffffff) | (s32[F + code[pc + 3]] & -0x80000000); pc += 4; break;
        case 0x99: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1] & 0x7fffffff; pc += 3; break; }
        case 0x9a: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1] ^ -0x80000000; pc += 3; break; }
        case 0x9b: { const d = F + code[pc + 1]; const r = Math.ceil(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
        case 0x9c: { const d = F + code[pc + 1]; const r = Math.floor(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
        case 0x9d: { const d = F + code[pc + 1]; const r = Math.trunc(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
        case 0x9e: { const d = F + code[pc + 1]; const r = nearest(f64[(F + code[pc + 2]) >> 1]); f64[d >> 1] = r; if (r !== r) s32[d + 1] |= 0x80000; pc += 3; break; }
        case 0x9f: f64[(F + code[pc + 1]) >> 1] = Math.sqrt(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0xa0: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] + f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0xa1: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] - f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0xa2: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] * f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0xa3: f64[(F + code[pc + 1]) >> 1] = f64[(F + code[pc + 2]) >> 1] / f64[(F + code[pc + 3]) >> 1]; pc += 4; break;
        case 0xa4: f64[(F + code[pc + 1]) >> 1] = Math.min(f64[(F + code[pc + 2]) >> 1], f64[(F + code[pc + 3]) >> 1]); pc += 4; break;
        case 0xa5: f64[(F + code[pc + 1]) >> 1] = Math.max(f64[(F + code[pc + 2]) >> 1], f64[(F + code[pc + 3]) >> 1]); pc += 4; break;
        case 0xa6: {
          const d = F + code[pc + 1], a = F + code[pc + 2], b = F + code[pc + 3];
          s32[d] = s32[a];
          s32[d + 1] = (s32[a + 1] & 0x7fffffff) | (s32[b + 1] & -0x80000000);
          pc += 4;
          break;
        }

        // ---- conversions ----
        case 0xa7: case 0xbc: case 0xbe: s32[F + code[pc + 1]] = s32[F + code[pc + 2]]; pc += 3; break;
        case 0xbd: case 0xbf: { const d = F + code[pc + 1], a = F + code[pc + 2]; s32[d] = s32[a]; s32[d + 1] = s32[a + 1]; pc += 3; break; }
        case 0xa8: s32[F + code[pc + 1]] = truncI32S(f32[F + code[pc + 2]]); pc += 3; break;
        case 0xa9: s32[F + code[pc + 1]] = truncI32U(f32[F + code[pc + 2]]); pc += 3; break;
        case 0xaa: s32[F + code[pc + 1]] = truncI32S(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0xab: s32[F + code[pc + 1]] = truncI32U(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0xac: { const d = F + code[pc + 1], v = s32[F + code[pc + 2]]; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
        case 0xad: { const d = F + code[pc + 1]; s32[d] = s32[F + code[pc + 2]]; s32[d + 1] = 0; pc += 3; break; }
        case 0xae: i64[(F + code[pc + 1]) >> 1] = truncI64S(f32[F + code[pc + 2]]); pc += 3; break;
        case 0xaf: i64[(F + code[pc + 1]) >> 1] = truncI64U(f32[F + code[pc + 2]]); pc += 3; break;
        case 0xb0: i64[(F + code[pc + 1]) >> 1] = truncI64S(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0xb1: i64[(F + code[pc + 1]) >> 1] = truncI64U(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0xb2: f32[F + code[pc + 1]] = s32[F + code[pc + 2]]; pc += 3; break;
        case 0xb3: f32[F + code[pc + 1]] = s32[F + code[pc + 2]] >>> 0; pc += 3; break;
        case 0xb4: f32[F + code[pc + 1]] = i64ToF32(i64[(F + code[pc + 2]) >> 1], false); pc += 3; break;
        case 0xb5: f32[F + code[pc + 1]] = i64ToF32(u64[(F + code[pc + 2]) >> 1], true); pc += 3; break;
        case 0xb6: f32[F + code[pc + 1]] = f64[(F + code[pc + 2]) >> 1]; pc += 3; break;
        case 0xb7: f64[(F + code[pc + 1]) >> 1] = s32[F + code[pc + 2]]; pc += 3; break;
        case 0xb8: f64[(F + code[pc + 1]) >> 1] = s32[F + code[pc + 2]] >>> 0; pc += 3; break;
        case 0xb9: f64[(F + code[pc + 1]) >> 1] = Number(i64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0xba: f64[(F + code[pc + 1]) >> 1] = Number(u64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0xbb: f64[(F + code[pc + 1]) >> 1] = f32[F + code[pc + 2]]; pc += 3; break;
        case 0xc0: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] << 24) >> 24; pc += 3; break;
        case 0xc1: s32[F + code[pc + 1]] = (s32[F + code[pc + 2]] << 16) >> 16; pc += 3; break;
        case 0xc2: { const d = F + code[pc + 1], v = (s32[F + code[pc + 2]] << 24) >> 24; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
        case 0xc3: { const d = F + code[pc + 1], v = (s32[F + code[pc + 2]] << 16) >> 16; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
        case 0xc4: { const d = F + code[pc + 1], v = s32[F + code[pc + 2]]; s32[d] = v; s32[d + 1] = v >> 31; pc += 3; break; }
        case 0x100: s32[F + code[pc + 1]] = truncSatI32S(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x101: s32[F + code[pc + 1]] = truncSatI32U(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x102: s32[F + code[pc + 1]] = truncSatI32S(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0x103: s32[F + code[pc + 1]] = truncSatI32U(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0x104: i64[(F + code[pc + 1]) >> 1] = truncSatI64S(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x105: u64[(F + code[pc + 1]) >> 1] = truncSatI64U(f32[F + code[pc + 2]]); pc += 3; break;
        case 0x106: i64[(F + code[pc + 1]) >> 1] = truncSatI64S(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        case 0x107: u64[(F + code[pc + 1]) >> 1] = truncSatI64U(f64[(F + code[pc + 2]) >> 1]); pc += 3; break;
        default:
          throw new Trap(`internal error: unknown fast opcode 0x${op.toString(16)} at pc ${pc}`, 'ERR_INTERNAL');
      }
    }
  } catch (error) {
    // Registers at the faulting instruction, in exact-code terms, for the backtrace.
    t.fp = fp; t.funcAddr = funcAddr;
    t.pc = fast.exactPcAt[pc] >= 0 ? fast.exactPcAt[pc] : 0;
    t.instructions += budget - fuel;
    throw error;
  }
}
