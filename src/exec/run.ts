import { ExhaustionError, Trap } from '../errors/index.ts';
import { FAST_PC_TAG, irLength } from '../compile/index.ts';
import {
  ctz32, i64ToF32, nearest, popcnt32, trapDivideByZero, trapIntegerOverflow,
  truncI32S, truncI32U, truncI64S, truncI64U, truncSatI32S, truncSatI32U, truncSatI64S, truncSatI64U,
} from './numeric.ts';
import { FuncKind, growFrames, growSlots, refreshMemoryViews, RunStatus } from './state.ts';
import type { InstanceState, MemoryState, ThreadState, WasmFunctionState } from './state.ts';
import { memoryFill, memoryCopy, memoryGrow, memoryInit, tableCopy, tableFill, tableGrow, tableInit } from './bulk.ts';
import { stepOtherMemory } from './other-memory.ts';
import { stepMemory64, stepTable64 } from './wide-address.ts';
import { stepSimd } from './simd-step.ts';
import { runCatchEnd, runThrow } from './exceptions.ts';

const PAGE = 65536;

function trapMemory(): never {
  throw new Trap('out of bounds memory access');
}

const NO_MEMORY = null as unknown as MemoryState;

/**
 * The exact run loop: one internal instruction at a time, fuel counted per instruction,
 * so it can stop after any instruction. The fast loop (`run-fast.ts`) hands over to it
 * whenever a budget ends inside a basic block. Executes the thread for at most `budget` instructions and returns
 * why it stopped (see `RunStatus`); traps are thrown, with the thread's registers saved
 * so that the caller can build a backtrace. Wasm calls never recurse in JavaScript:
 * frames live in `t.frames`, values in `t.s32` and its sibling views.
 *
 * Written for V8: one function, one switch, typed arrays held in locals, no
 * allocation on the common paths (i64 multiply/divide still use BigInt).
 */
export function runExact(t: ThreadState, budget: number): RunStatus {
  // A tail call to a host function from the execution's own function left no frame to go back to.
  if (t.funcAddr < 0) return RunStatus.returned;
  const store = t.store;
  const funcs = store.funcs;
  const divert = t.divert;
  const globals = store.globals;
  let s32 = t.s32;
  let f32 = t.f32;
  let f64 = t.f64;
  let i64 = t.i64;
  let u64 = t.u64;
  let sp = t.sp;
  let fp = t.fp;
  let pc = t.pc;
  let funcAddr = t.funcAddr;
  let fn = funcs[funcAddr] as WasmFunctionState;
  let code = fn.compiled.code;
  let inst: InstanceState = fn.instance;
  let mem: MemoryState = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
  if (mem !== NO_MEMORY) refreshMemoryViews(mem);
  let view: DataView = mem === NO_MEMORY ? new DataView(new ArrayBuffer(0)) : mem.view;
  let memSize = view.byteLength;
  let fuel = budget;

  try {
    for (;;) {
      if (fuel <= 0) {
        t.sp = sp; t.fp = fp; t.pc = pc; t.funcAddr = funcAddr;
        t.instructions += budget;
        return RunStatus.yielded;
      }
      fuel--;
      const op = code[pc];
      switch (op) {
        case 0x00: throw new Trap('unreachable');
        case 0x01: pc += 1; break;

        // ---- control ----
        case 0x7: /* IrOp.jump */ pc = code[pc + 1]; break;
        case 0x6: /* IrOp.br */ {
          const base = fp + code[pc + 2];
          const arity = code[pc + 3];
          for (let i = 0; i < arity; i++) {
            const from = 2 * (sp - arity + i), to = 2 * (base + i);
            s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          }
          sp = base + arity;
          pc = code[pc + 1];
          break;
        }
        case 0xd: /* IrOp.brIf */ {
          if (s32[2 * --sp] !== 0) {
            const base = fp + code[pc + 2];
            const arity = code[pc + 3];
            for (let i = 0; i < arity; i++) {
              const from = 2 * (sp - arity + i), to = 2 * (base + i);
              s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
            }
            sp = base + arity;
            pc = code[pc + 1];
          } else pc += 4;
          break;
        }
        case 0x8: /* IrOp.brIfJump */
          pc = s32[2 * --sp] !== 0 ? code[pc + 1] : pc + 2;
          break;
        case 0x4: /* IrOp.if */
          pc = s32[2 * --sp] === 0 ? code[pc + 1] : pc + 2;
          break;
        case 0xe: /* IrOp.brTable */ {
          const n = code[pc + 1];
          let index = s32[2 * --sp] >>> 0;
          if (index > n) index = n;
          const entry = pc + 2 + 3 * index;
          const target = code[entry];
          const arity = code[entry + 2];
          if (target === -2) {
            // Branch to the function's label: a return.
            for (let i = 0; i < arity; i++) {
              const from = 2 * (sp - arity + i), to = 2 * (fp + i);
              s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
            }
            sp = fp + arity;
            const d = --t.depth;
            const frames = t.frames;
            funcAddr = frames[3 * d];
            if (funcAddr < 0) {
              t.sp = sp; t.fp = fp; t.pc = 0; t.funcAddr = funcAddr;
              t.instructions += budget - fuel;
              return RunStatus.returned;
            }
            pc = frames[3 * d + 1];
            fp = frames[3 * d + 2];
            fn = funcs[funcAddr] as WasmFunctionState;
            code = fn.compiled.code;
            if ((pc & FAST_PC_TAG) !== 0) pc = fn.compiled.fast!.exactPcAt[pc & ~FAST_PC_TAG];
            if (fn.instance !== inst) {
              inst = fn.instance;
              mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
              if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
            }
            break;
          }
          const base = fp + code[entry + 1];
          for (let i = 0; i < arity; i++) {
            const from = 2 * (sp - arity + i), to = 2 * (base + i);
            s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          }
          sp = base + arity;
          pc = target;
          break;
        }
        case 0xd5: /* IrOp.brOnNull */ case 0xd6: /* IrOp.brOnNonNull */ {
          // Wasm 3.0: a reference is null when its slot's low word is 0 (function address or host id + 1).
          const isNull = s32[2 * (sp - 1)] === 0;
          if (isNull !== (op === 0xd5)) {
            if (isNull) sp--; // br_on_non_null drops the null it does not branch with
            pc += 4;
            break;
          }
          if (isNull) sp--; // br_on_null branches without its null
          const base = fp + code[pc + 2];
          const arity = code[pc + 3];
          for (let i = 0; i < arity; i++) {
            const from = 2 * (sp - arity + i), to = 2 * (base + i);
            s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          }
          sp = base + arity;
          pc = code[pc + 1];
          break;
        }
        case 0x9: /* IrOp.brIfReturn */ case 0xd7: /* IrOp.brOnNullReturn */ case 0xd8: /* IrOp.brOnNonNullReturn */
          if (op === 0x9) {
            if (s32[2 * --sp] === 0) { pc += 2; break; }
          } else {
            const isNull = s32[2 * (sp - 1)] === 0;
            if (isNull) sp--;
            if (isNull !== (op === 0xd7)) { pc += 2; break; }
          }
        // falls through: the condition holds, return
        case 0xf: /* IrOp.return */ {
          const arity = code[pc + 1];
          for (let i = 0; i < arity; i++) {
            const from = 2 * (sp - arity + i), to = 2 * (fp + i);
            s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          }
          sp = fp + arity;
          const d = --t.depth;
          const frames = t.frames;
          funcAddr = frames[3 * d];
          if (funcAddr < 0) {
            t.sp = sp; t.fp = fp; t.pc = 0; t.funcAddr = funcAddr;
            t.instructions += budget - fuel;
            return RunStatus.returned;
          }
          pc = frames[3 * d + 1];
          fp = frames[3 * d + 2];
          fn = funcs[funcAddr] as WasmFunctionState;
          code = fn.compiled.code;
          // A frame the fast loop pushed returns to a block start of its fast code.
          if ((pc & FAST_PC_TAG) !== 0) pc = fn.compiled.fast!.exactPcAt[pc & ~FAST_PC_TAG];
          if (fn.instance !== inst) {
            inst = fn.instance;
            mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
          }
          break;
        }
        case 0x10: case 0x11: case 0x14: {
          let calleeAddr: number;
          let next: number;
          if (op === 0x10) {
            calleeAddr = inst.funcAddrs[code[pc + 1]];
            next = pc + 2;
          } else if (op === 0x14) {
            // call_ref (Wasm 3.0): validation proved the type, only null is left to check.
            const ref = s32[2 * --sp];
            if (ref === 0) throw new Trap('null function reference');
            calleeAddr = ref - 1;
            next = pc + 2;
          } else {
            const table = store.tables[inst.tableAddrs[code[pc + 2]]];
            const index = s32[2 * --sp] >>> 0;
            if (index >= table.size) throw new Trap('undefined element');
            const ref = table.elements[index];
            if (ref === 0) throw new Trap('uninitialized element');
            calleeAddr = ref - 1;
            if (funcs[calleeAddr].typeId !== inst.typeIds[code[pc + 1]]) throw new Trap('indirect call type mismatch');
            next = pc + 3;
          }
          const callee = funcs[calleeAddr];
          if (callee.kind === FuncKind.host || (divert !== null && divert[calleeAddr] === 1)) {
            t.sp = sp; t.fp = fp; t.pc = next; t.funcAddr = funcAddr;
            t.pendingHostCall = calleeAddr;
            t.instructions += budget - fuel;
            return RunStatus.hostCall;
          }
          const d = t.depth;
          if (d >= t.maxDepth) throw new ExhaustionError();
          if (3 * d + 3 > t.frames.length) growFrames(t);
          const frames = t.frames;
          frames[3 * d] = funcAddr;
          frames[3 * d + 1] = next;
          frames[3 * d + 2] = fp;
          t.depth = d + 1;
          const cf = callee.compiled;
          const newFp = sp - cf.numParams;
          if (newFp + cf.frameSize > s32.length >> 1) {
            t.sp = sp;
            if (!growSlots(t, newFp + cf.frameSize)) { t.depth = d; throw new ExhaustionError(); }
            s32 = t.s32; f32 = t.f32; f64 = t.f64; i64 = t.i64; u64 = t.u64;
          }
          const localsEnd = newFp + cf.numLocals;
          for (let i = 2 * sp; i < 2 * localsEnd; i++) s32[i] = 0;
          fp = newFp;
          sp = localsEnd;
          funcAddr = calleeAddr;
          fn = callee;
          code = cf.code;
          pc = 0;
          if (fn.instance !== inst) {
            inst = fn.instance;
            mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
          }
          break;
        }

        case 0x12: case 0x13: case 0x15: {
          // Tail call: the callee takes this frame's place, so the frame record below
          // (the caller's return address) stays as it is and the depth does not grow.
          let calleeAddr: number;
          if (op === 0x12) {
            calleeAddr = inst.funcAddrs[code[pc + 1]];
          } else if (op === 0x15) {
            const ref = s32[2 * --sp];
            if (ref === 0) throw new Trap('null function reference');
            calleeAddr = ref - 1;
          } else {
            const table = store.tables[inst.tableAddrs[code[pc + 2]]];
            const index = s32[2 * --sp] >>> 0;
            if (index >= table.size) throw new Trap('undefined element');
            const ref = table.elements[index];
            if (ref === 0) throw new Trap('uninitialized element');
            calleeAddr = ref - 1;
            if (funcs[calleeAddr].typeId !== inst.typeIds[code[pc + 1]]) throw new Trap('indirect call type mismatch');
          }
          const callee = funcs[calleeAddr];
          const host = callee.kind === FuncKind.host || (divert !== null && divert[calleeAddr] === 1);
          // The arguments move down to this frame's first slot (in slots: a v128 takes two; host functions take none).
          const nParams = callee.kind === FuncKind.wasm ? callee.compiled.numParams : callee.type.params.length;
          for (let i = 2 * (sp - nParams), j = 2 * fp; i < 2 * sp; i++, j++) s32[j] = s32[i];
          sp = fp + nParams;
          if (host) {
            // The frame is gone before the host function runs: it is called from the
            // caller's position, and its results land where this function's would have.
            const d = --t.depth;
            const frames = t.frames;
            const caller = frames[3 * d];
            t.sp = sp; t.pendingHostCall = calleeAddr;
            t.instructions += budget - fuel;
            if (caller < 0) {
              // The execution's own function: once the host returns, the run is over (see `runExact`'s entry).
              t.fp = fp; t.pc = 0; t.funcAddr = -1;
              return RunStatus.hostCall;
            }
            let ra = frames[3 * d + 1];
            const callerFn = funcs[caller] as WasmFunctionState;
            if ((ra & FAST_PC_TAG) !== 0) ra = callerFn.compiled.fast!.exactPcAt[ra & ~FAST_PC_TAG];
            t.fp = frames[3 * d + 2]; t.pc = ra; t.funcAddr = caller;
            return RunStatus.hostCall;
          }
          const cf = (callee as WasmFunctionState).compiled;
          if (fp + cf.frameSize > s32.length >> 1) {
            t.sp = sp;
            if (!growSlots(t, fp + cf.frameSize)) throw new ExhaustionError();
            s32 = t.s32; f32 = t.f32; f64 = t.f64; i64 = t.i64; u64 = t.u64;
          }
          const localsEnd = fp + cf.numLocals;
          for (let i = 2 * sp; i < 2 * localsEnd; i++) s32[i] = 0;
          sp = localsEnd;
          funcAddr = calleeAddr;
          fn = callee as WasmFunctionState;
          code = cf.code;
          pc = 0;
          if (fn.instance !== inst) {
            inst = fn.instance;
            mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
          }
          break;
        }

        // ---- parametric ----
        case 0x1a: sp--; pc += 1; break;
        case 0x1b: {
          sp -= 2;
          if (s32[2 * (sp + 1)] === 0) {
            const to = 2 * (sp - 1), from = 2 * sp;
            s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          }
          pc += 1;
          break;
        }

        // ---- variables ----
        case 0x20: {
          const from = 2 * (fp + code[pc + 1]), to = 2 * sp++;
          s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          pc += 2;
          break;
        }
        case 0x21: {
          const to = 2 * (fp + code[pc + 1]), from = 2 * --sp;
          s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          pc += 2;
          break;
        }
        case 0x22: {
          const to = 2 * (fp + code[pc + 1]), from = 2 * (sp - 1);
          s32[to] = s32[from]; s32[to + 1] = s32[from + 1];
          pc += 2;
          break;
        }
        case 0x23: {
          const g = globals[inst.globalAddrs[code[pc + 1]]];
          s32[2 * sp] = g.lo; s32[2 * sp + 1] = g.hi; sp++;
          pc += 2;
          break;
        }
        case 0x24: {
          const g = globals[inst.globalAddrs[code[pc + 1]]];
          sp--; g.lo = s32[2 * sp]; g.hi = s32[2 * sp + 1];
          pc += 2;
          break;
        }
        case 0x25: {
          const table = store.tables[inst.tableAddrs[code[pc + 1]]];
          const index = s32[2 * (sp - 1)] >>> 0;
          if (index >= table.size) throw new Trap('out of bounds table access');
          s32[2 * (sp - 1)] = table.elements[index];
          pc += 2;
          break;
        }
        case 0x26: {
          const table = store.tables[inst.tableAddrs[code[pc + 1]]];
          sp -= 2;
          const index = s32[2 * sp] >>> 0;
          if (index >= table.size) throw new Trap('out of bounds table access');
          table.elements[index] = s32[2 * (sp + 1)];
          pc += 2;
          break;
        }

        // ---- memory: effective address = base (u32) + offset (u32), checked in doubles ----
        case 0x28: case 0x2a: {
          const ea = (s32[2 * (sp - 1)] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 4 > memSize) trapMemory();
          s32[2 * (sp - 1)] = view.getInt32(ea, true);
          pc += 2;
          break;
        }
        case 0x29: case 0x2b: {
          const ea = (s32[2 * (sp - 1)] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 8 > memSize) trapMemory();
          s32[2 * (sp - 1)] = view.getInt32(ea, true);
          s32[2 * (sp - 1) + 1] = view.getInt32(ea + 4, true);
          pc += 2;
          break;
        }
        case 0x2c: case 0x2d: case 0x30: case 0x31: {
          const ea = (s32[2 * (sp - 1)] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 1 > memSize) trapMemory();
          const v = op === 0x2c || op === 0x30 ? view.getInt8(ea) : view.getUint8(ea);
          s32[2 * (sp - 1)] = v;
          if (op >= 0x30) s32[2 * (sp - 1) + 1] = v < 0 ? -1 : 0;
          pc += 2;
          break;
        }
        case 0x2e: case 0x2f: case 0x32: case 0x33: {
          const ea = (s32[2 * (sp - 1)] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 2 > memSize) trapMemory();
          const v = op === 0x2e || op === 0x32 ? view.getInt16(ea, true) : view.getUint16(ea, true);
          s32[2 * (sp - 1)] = v;
          if (op >= 0x30) s32[2 * (sp - 1) + 1] = v < 0 ? -1 : 0;
          pc += 2;
          break;
        }
        case 0x34: case 0x35: {
          const ea = (s32[2 * (sp - 1)] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 4 > memSize) trapMemory();
          const v = view.getInt32(ea, true);
          s32[2 * (sp - 1)] = v;
          s32[2 * (sp - 1) + 1] = op === 0x34 && v < 0 ? -1 : 0;
          pc += 2;
          break;
        }
        case 0x36: case 0x38: case 0x3e: {
          sp -= 2;
          const ea = (s32[2 * sp] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 4 > memSize) trapMemory();
          view.setInt32(ea, s32[2 * (sp + 1)], true);
          pc += 2;
          break;
        }
        case 0x37: case 0x39: {
          sp -= 2;
          const ea = (s32[2 * sp] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 8 > memSize) trapMemory();
          view.setInt32(ea, s32[2 * (sp + 1)], true);
          view.setInt32(ea + 4, s32[2 * (sp + 1) + 1], true);
          pc += 2;
          break;
        }
        case 0x3a: case 0x3c: {
          sp -= 2;
          const ea = (s32[2 * sp] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 1 > memSize) trapMemory();
          view.setInt8(ea, s32[2 * (sp + 1)]);
          pc += 2;
          break;
        }
        case 0x3b: case 0x3d: {
          sp -= 2;
          const ea = (s32[2 * sp] >>> 0) + (code[pc + 1] >>> 0);
          if (ea + 2 > memSize) trapMemory();
          view.setInt16(ea, s32[2 * (sp + 1)], true);
          pc += 2;
          break;
        }
        case 0x3f:
          s32[2 * sp++] = memSize / PAGE;
          pc += 1;
          break;
        case 0x40: {
          s32[2 * (sp - 1)] = memoryGrow(mem, s32[2 * (sp - 1)] >>> 0);
          view = mem.view;
          memSize = view.byteLength;
          pc += 1;
          break;
        }

        // ---- constants ----
        case 0x41: case 0x43: s32[2 * sp++] = code[pc + 1]; pc += 2; break;
        case 0x42: case 0x44: s32[2 * sp] = code[pc + 1]; s32[2 * sp + 1] = code[pc + 2]; sp++; pc += 3; break;

        // ---- i32 ----
        case 0x45: s32[2 * (sp - 1)] = s32[2 * (sp - 1)] === 0 ? 1 : 0; pc += 1; break;
        case 0x46: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] === s32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x47: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] !== s32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x48: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] < s32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x49: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] >>> 0 < s32[2 * sp] >>> 0 ? 1 : 0; pc += 1; break;
        case 0x4a: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] > s32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x4b: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] >>> 0 > s32[2 * sp] >>> 0 ? 1 : 0; pc += 1; break;
        case 0x4c: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] <= s32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x4d: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] >>> 0 <= s32[2 * sp] >>> 0 ? 1 : 0; pc += 1; break;
        case 0x4e: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] >= s32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x4f: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] >>> 0 >= s32[2 * sp] >>> 0 ? 1 : 0; pc += 1; break;

        // ---- i64 comparisons, on (hi, lo) pairs without BigInt ----
        case 0x50: s32[2 * (sp - 1)] = (s32[2 * (sp - 1)] | s32[2 * (sp - 1) + 1]) === 0 ? 1 : 0; pc += 1; break;
        case 0x51: case 0x52: case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: case 0x58: case 0x59: case 0x5a: {
          sp--;
          const a = 2 * (sp - 1), b = 2 * sp;
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
          s32[a] = r ? 1 : 0;
          pc += 1;
          break;
        }

        // ---- float comparisons ----
        case 0x5b: sp--; s32[2 * (sp - 1)] = f32[2 * (sp - 1)] === f32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x5c: sp--; s32[2 * (sp - 1)] = f32[2 * (sp - 1)] !== f32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x5d: sp--; s32[2 * (sp - 1)] = f32[2 * (sp - 1)] < f32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x5e: sp--; s32[2 * (sp - 1)] = f32[2 * (sp - 1)] > f32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x5f: sp--; s32[2 * (sp - 1)] = f32[2 * (sp - 1)] <= f32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x60: sp--; s32[2 * (sp - 1)] = f32[2 * (sp - 1)] >= f32[2 * sp] ? 1 : 0; pc += 1; break;
        case 0x61: sp--; s32[2 * (sp - 1)] = f64[sp - 1] === f64[sp] ? 1 : 0; pc += 1; break;
        case 0x62: sp--; s32[2 * (sp - 1)] = f64[sp - 1] !== f64[sp] ? 1 : 0; pc += 1; break;
        case 0x63: sp--; s32[2 * (sp - 1)] = f64[sp - 1] < f64[sp] ? 1 : 0; pc += 1; break;
        case 0x64: sp--; s32[2 * (sp - 1)] = f64[sp - 1] > f64[sp] ? 1 : 0; pc += 1; break;
        case 0x65: sp--; s32[2 * (sp - 1)] = f64[sp - 1] <= f64[sp] ? 1 : 0; pc += 1; break;
        case 0x66: sp--; s32[2 * (sp - 1)] = f64[sp - 1] >= f64[sp] ? 1 : 0; pc += 1; break;

        // ---- i32 arithmetic ----
        case 0x67: s32[2 * (sp - 1)] = Math.clz32(s32[2 * (sp - 1)]); pc += 1; break;
        case 0x68: s32[2 * (sp - 1)] = ctz32(s32[2 * (sp - 1)]); pc += 1; break;
        case 0x69: s32[2 * (sp - 1)] = popcnt32(s32[2 * (sp - 1)]); pc += 1; break;
        case 0x6a: sp--; s32[2 * (sp - 1)] = (s32[2 * (sp - 1)] + s32[2 * sp]) | 0; pc += 1; break;
        case 0x6b: sp--; s32[2 * (sp - 1)] = (s32[2 * (sp - 1)] - s32[2 * sp]) | 0; pc += 1; break;
        case 0x6c: sp--; s32[2 * (sp - 1)] = Math.imul(s32[2 * (sp - 1)], s32[2 * sp]); pc += 1; break;
        case 0x6d: {
          sp--;
          const a = s32[2 * (sp - 1)], b = s32[2 * sp];
          if (b === 0) trapDivideByZero();
          if (a === -2147483648 && b === -1) trapIntegerOverflow();
          s32[2 * (sp - 1)] = (a / b) | 0;
          pc += 1;
          break;
        }
        case 0x6e: {
          sp--;
          const b = s32[2 * sp] >>> 0;
          if (b === 0) trapDivideByZero();
          s32[2 * (sp - 1)] = ((s32[2 * (sp - 1)] >>> 0) / b) | 0;
          pc += 1;
          break;
        }
        case 0x6f: {
          sp--;
          const b = s32[2 * sp];
          if (b === 0) trapDivideByZero();
          s32[2 * (sp - 1)] = (s32[2 * (sp - 1)] % b) | 0;
          pc += 1;
          break;
        }
        case 0x70: {
          sp--;
          const b = s32[2 * sp] >>> 0;
          if (b === 0) trapDivideByZero();
          s32[2 * (sp - 1)] = ((s32[2 * (sp - 1)] >>> 0) % b) | 0;
          pc += 1;
          break;
        }
        case 0x71: sp--; s32[2 * (sp - 1)] &= s32[2 * sp]; pc += 1; break;
        case 0x72: sp--; s32[2 * (sp - 1)] |= s32[2 * sp]; pc += 1; break;
        case 0x73: sp--; s32[2 * (sp - 1)] ^= s32[2 * sp]; pc += 1; break;
        case 0x74: sp--; s32[2 * (sp - 1)] <<= s32[2 * sp]; pc += 1; break;
        case 0x75: sp--; s32[2 * (sp - 1)] >>= s32[2 * sp]; pc += 1; break;
        case 0x76: sp--; s32[2 * (sp - 1)] = s32[2 * (sp - 1)] >>> s32[2 * sp]; pc += 1; break;
        case 0x77: {
          sp--;
          const a = s32[2 * (sp - 1)], k = s32[2 * sp] & 31;
          s32[2 * (sp - 1)] = (a << k) | (a >>> (32 - k));
          pc += 1;
          break;
        }
        case 0x78: {
          sp--;
          const a = s32[2 * (sp - 1)], k = s32[2 * sp] & 31;
          s32[2 * (sp - 1)] = (a >>> k) | (a << (32 - k));
          pc += 1;
          break;
        }

        // ---- i64 arithmetic: pairs where cheap, BigInt views otherwise ----
        case 0x79: {
          const a = 2 * (sp - 1);
          const hi = s32[a + 1];
          s32[a] = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(s32[a]);
          s32[a + 1] = 0;
          pc += 1;
          break;
        }
        case 0x7a: {
          const a = 2 * (sp - 1);
          const lo = s32[a];
          s32[a] = lo !== 0 ? ctz32(lo) : 32 + ctz32(s32[a + 1]);
          s32[a + 1] = 0;
          pc += 1;
          break;
        }
        case 0x7b: {
          const a = 2 * (sp - 1);
          s32[a] = popcnt32(s32[a]) + popcnt32(s32[a + 1]);
          s32[a + 1] = 0;
          pc += 1;
          break;
        }
        case 0x7c: {
          sp--;
          const a = 2 * (sp - 1), b = 2 * sp;
          // Word arithmetic only, as the fast code's (js-tier/op-emitters.ts, i64.add).
          const al = s32[a], lo = (al + s32[b]) | 0;
          s32[a + 1] = (s32[a + 1] + s32[b + 1] + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
          s32[a] = lo;
          pc += 1;
          break;
        }
        case 0x7d: {
          sp--;
          const a = 2 * (sp - 1), b = 2 * sp;
          const al = s32[a], bl = s32[b];
          s32[a + 1] = (s32[a + 1] - s32[b + 1] - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
          s32[a] = (al - bl) | 0;
          pc += 1;
          break;
        }
        case 0x7e: sp--; i64[sp - 1] = i64[sp - 1] * i64[sp]; pc += 1; break;
        case 0x7f: {
          sp--;
          const b = i64[sp];
          if (b === 0n) trapDivideByZero();
          const a = i64[sp - 1];
          if (b === -1n && a === -0x8000000000000000n) trapIntegerOverflow();
          i64[sp - 1] = a / b;
          pc += 1;
          break;
        }
        case 0x80: {
          sp--;
          const b = u64[sp];
          if (b === 0n) trapDivideByZero();
          u64[sp - 1] = u64[sp - 1] / b;
          pc += 1;
          break;
        }
        case 0x81: {
          sp--;
          const b = i64[sp];
          if (b === 0n) trapDivideByZero();
          i64[sp - 1] = i64[sp - 1] % b;
          pc += 1;
          break;
        }
        case 0x82: {
          sp--;
          const b = u64[sp];
          if (b === 0n) trapDivideByZero();
          u64[sp - 1] = u64[sp - 1] % b;
          pc += 1;
          break;
        }
        case 0x83: sp--; s32[2 * (sp - 1)] &= s32[2 * sp]; s32[2 * (sp - 1) + 1] &= s32[2 * sp + 1]; pc += 1; break;
        case 0x84: sp--; s32[2 * (sp - 1)] |= s32[2 * sp]; s32[2 * (sp - 1) + 1] |= s32[2 * sp + 1]; pc += 1; break;
        case 0x85: sp--; s32[2 * (sp - 1)] ^= s32[2 * sp]; s32[2 * (sp - 1) + 1] ^= s32[2 * sp + 1]; pc += 1; break;
        case 0x86: case 0x87: case 0x88: {
          sp--;
          const a = 2 * (sp - 1);
          const k = s32[2 * sp] & 63;
          const lo = s32[a], hi = s32[a + 1];
          if (k === 0) { /* unchanged */ }
          else if (op === 0x86) {
            if (k < 32) { s32[a + 1] = (hi << k) | (lo >>> (32 - k)); s32[a] = lo << k; }
            else { s32[a + 1] = lo << (k - 32); s32[a] = 0; }
          } else if (op === 0x87) {
            if (k < 32) { s32[a] = (lo >>> k) | (hi << (32 - k)); s32[a + 1] = hi >> k; }
            else { s32[a] = hi >> (k - 32); s32[a + 1] = hi >> 31; }
          } else {
            if (k < 32) { s32[a] = (lo >>> k) | (hi << (32 - k)); s32[a + 1] = hi >>> k; }
            else { s32[a] = hi >>> (k - 32); s32[a + 1] = 0; }
          }
          pc += 1;
          break;
        }
        case 0x89: case 0x8a: {
          sp--;
          const a = 2 * (sp - 1);
          let k = s32[2 * sp] & 63;
          if (op === 0x8a) k = (64 - k) & 63;
          let lo = s32[a], hi = s32[a + 1];
          if (k >= 32) { const tmp = lo; lo = hi; hi = tmp; k -= 32; }
          if (k !== 0) {
            const nhi = (hi << k) | (lo >>> (32 - k));
            const nlo = (lo << k) | (hi >>> (32 - k));
            hi = nhi; lo = nlo;
          }
          s32[a] = lo; s32[a + 1] = hi;
          pc += 1;
          break;
        }

        // ---- f32 arithmetic (sign operations on bits, so NaN payloads survive) ----
        case 0x8b: s32[2 * (sp - 1)] &= 0x7fffffff; pc += 1; break;
        case 0x8c: s32[2 * (sp - 1)] ^= -0x80000000; pc += 1; break;
        case 0x8d: f32[2 * (sp - 1)] = Math.ceil(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x8e: f32[2 * (sp - 1)] = Math.floor(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x8f: f32[2 * (sp - 1)] = Math.trunc(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x90: f32[2 * (sp - 1)] = nearest(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x91: f32[2 * (sp - 1)] = Math.sqrt(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x92: sp--; f32[2 * (sp - 1)] = f32[2 * (sp - 1)] + f32[2 * sp]; pc += 1; break;
        case 0x93: sp--; f32[2 * (sp - 1)] = f32[2 * (sp - 1)] - f32[2 * sp]; pc += 1; break;
        case 0x94: sp--; f32[2 * (sp - 1)] = f32[2 * (sp - 1)] * f32[2 * sp]; pc += 1; break;
        case 0x95: sp--; f32[2 * (sp - 1)] = f32[2 * (sp - 1)] / f32[2 * sp]; pc += 1; break;
        case 0x96: sp--; f32[2 * (sp - 1)] = Math.min(f32[2 * (sp - 1)], f32[2 * sp]); pc += 1; break;
        case 0x97: sp--; f32[2 * (sp - 1)] = Math.max(f32[2 * (sp - 1)], f32[2 * sp]); pc += 1; break;
        case 0x98: sp--; s32[2 * (sp - 1)] = (s32[2 * (sp - 1)] & 0x7fffffff) | (s32[2 * sp] & -0x80000000); pc += 1; break;

        // ---- f64 arithmetic (Math.floor and friends return a signalling NaN unchanged: quiet it) ----
        case 0x99: s32[2 * (sp - 1) + 1] &= 0x7fffffff; pc += 1; break;
        case 0x9a: s32[2 * (sp - 1) + 1] ^= -0x80000000; pc += 1; break;
        case 0x9b: { const r = Math.ceil(f64[sp - 1]); f64[sp - 1] = r; if (r !== r) s32[2 * sp - 1] |= 0x80000; pc += 1; break; }
        case 0x9c: { const r = Math.floor(f64[sp - 1]); f64[sp - 1] = r; if (r !== r) s32[2 * sp - 1] |= 0x80000; pc += 1; break; }
        case 0x9d: { const r = Math.trunc(f64[sp - 1]); f64[sp - 1] = r; if (r !== r) s32[2 * sp - 1] |= 0x80000; pc += 1; break; }
        case 0x9e: { const r = nearest(f64[sp - 1]); f64[sp - 1] = r; if (r !== r) s32[2 * sp - 1] |= 0x80000; pc += 1; break; }
        case 0x9f: f64[sp - 1] = Math.sqrt(f64[sp - 1]); pc += 1; break;
        case 0xa0: sp--; f64[sp - 1] = f64[sp - 1] + f64[sp]; pc += 1; break;
        case 0xa1: sp--; f64[sp - 1] = f64[sp - 1] - f64[sp]; pc += 1; break;
        case 0xa2: sp--; f64[sp - 1] = f64[sp - 1] * f64[sp]; pc += 1; break;
        case 0xa3: sp--; f64[sp - 1] = f64[sp - 1] / f64[sp]; pc += 1; break;
        case 0xa4: sp--; f64[sp - 1] = Math.min(f64[sp - 1], f64[sp]); pc += 1; break;
        case 0xa5: sp--; f64[sp - 1] = Math.max(f64[sp - 1], f64[sp]); pc += 1; break;
        case 0xa6: sp--; s32[2 * (sp - 1) + 1] = (s32[2 * (sp - 1) + 1] & 0x7fffffff) | (s32[2 * sp + 1] & -0x80000000); pc += 1; break;

        // ---- conversions ----
        case 0xa7: pc += 1; break; // i32.wrap_i64: the low word already is the result
        case 0xa8: s32[2 * (sp - 1)] = truncI32S(f32[2 * (sp - 1)]); pc += 1; break;
        case 0xa9: s32[2 * (sp - 1)] = truncI32U(f32[2 * (sp - 1)]); pc += 1; break;
        case 0xaa: s32[2 * (sp - 1)] = truncI32S(f64[sp - 1]); pc += 1; break;
        case 0xab: s32[2 * (sp - 1)] = truncI32U(f64[sp - 1]); pc += 1; break;
        case 0xac: s32[2 * (sp - 1) + 1] = s32[2 * (sp - 1)] >> 31; pc += 1; break;
        case 0xad: s32[2 * (sp - 1) + 1] = 0; pc += 1; break;
        case 0xae: i64[sp - 1] = truncI64S(f32[2 * (sp - 1)]); pc += 1; break;
        case 0xaf: i64[sp - 1] = truncI64U(f32[2 * (sp - 1)]); pc += 1; break;
        case 0xb0: i64[sp - 1] = truncI64S(f64[sp - 1]); pc += 1; break;
        case 0xb1: i64[sp - 1] = truncI64U(f64[sp - 1]); pc += 1; break;
        case 0xb2: f32[2 * (sp - 1)] = s32[2 * (sp - 1)]; pc += 1; break;
        case 0xb3: f32[2 * (sp - 1)] = s32[2 * (sp - 1)] >>> 0; pc += 1; break;
        case 0xb4: f32[2 * (sp - 1)] = i64ToF32(i64[sp - 1], false); pc += 1; break;
        case 0xb5: f32[2 * (sp - 1)] = i64ToF32(u64[sp - 1], true); pc += 1; break;
        case 0xb6: f32[2 * (sp - 1)] = f64[sp - 1]; pc += 1; break;
        case 0xb7: f64[sp - 1] = s32[2 * (sp - 1)]; pc += 1; break;
        case 0xb8: f64[sp - 1] = s32[2 * (sp - 1)] >>> 0; pc += 1; break;
        case 0xb9: f64[sp - 1] = Number(i64[sp - 1]); pc += 1; break;
        case 0xba: f64[sp - 1] = Number(u64[sp - 1]); pc += 1; break;
        case 0xbb: f64[sp - 1] = f32[2 * (sp - 1)]; pc += 1; break;
        case 0xbc: case 0xbd: case 0xbe: case 0xbf: pc += 1; break; // reinterpret: same bits
        case 0xc0: s32[2 * (sp - 1)] = (s32[2 * (sp - 1)] << 24) >> 24; pc += 1; break;
        case 0xc1: s32[2 * (sp - 1)] = (s32[2 * (sp - 1)] << 16) >> 16; pc += 1; break;
        case 0xc2: { const v = (s32[2 * (sp - 1)] << 24) >> 24; s32[2 * (sp - 1)] = v; s32[2 * (sp - 1) + 1] = v >> 31; pc += 1; break; }
        case 0xc3: { const v = (s32[2 * (sp - 1)] << 16) >> 16; s32[2 * (sp - 1)] = v; s32[2 * (sp - 1) + 1] = v >> 31; pc += 1; break; }
        case 0xc4: s32[2 * (sp - 1) + 1] = s32[2 * (sp - 1)] >> 31; pc += 1; break;

        // ---- references ----
        case 0xd0: s32[2 * sp++] = 0; pc += 1; break;
        case 0xd1: s32[2 * (sp - 1)] = s32[2 * (sp - 1)] === 0 ? 1 : 0; pc += 1; break;
        case 0xd2: s32[2 * sp++] = inst.funcAddrs[code[pc + 1]] + 1; pc += 2; break;
        case 0xd4: if (s32[2 * (sp - 1)] === 0) throw new Trap('null reference'); pc += 1; break;

        // ---- 0xFC prefix: saturating truncation, bulk memory, tables ----
        case 0x100: s32[2 * (sp - 1)] = truncSatI32S(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x101: s32[2 * (sp - 1)] = truncSatI32U(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x102: s32[2 * (sp - 1)] = truncSatI32S(f64[sp - 1]); pc += 1; break;
        case 0x103: s32[2 * (sp - 1)] = truncSatI32U(f64[sp - 1]); pc += 1; break;
        case 0x104: i64[sp - 1] = truncSatI64S(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x105: u64[sp - 1] = truncSatI64U(f32[2 * (sp - 1)]); pc += 1; break;
        case 0x106: i64[sp - 1] = truncSatI64S(f64[sp - 1]); pc += 1; break;
        case 0x107: u64[sp - 1] = truncSatI64U(f64[sp - 1]); pc += 1; break;
        case 0x108: {
          sp -= 3;
          memoryInit(mem, inst.datas[code[pc + 1]], s32[2 * sp] >>> 0, s32[2 * (sp + 1)] >>> 0, s32[2 * (sp + 2)] >>> 0);
          pc += 2;
          break;
        }
        case 0x109: inst.datas[code[pc + 1]] = null; pc += 2; break;
        case 0x10a: {
          sp -= 3;
          memoryCopy(mem, s32[2 * sp] >>> 0, s32[2 * (sp + 1)] >>> 0, s32[2 * (sp + 2)] >>> 0);
          pc += 1;
          break;
        }
        case 0x10b: {
          sp -= 3;
          memoryFill(mem, s32[2 * sp] >>> 0, s32[2 * (sp + 1)], s32[2 * (sp + 2)] >>> 0);
          pc += 1;
          break;
        }
        case 0x10c: {
          sp -= 3;
          tableInit(store.tables[inst.tableAddrs[code[pc + 2]]], inst.elems[code[pc + 1]], s32[2 * sp] >>> 0, s32[2 * (sp + 1)] >>> 0, s32[2 * (sp + 2)] >>> 0);
          pc += 3;
          break;
        }
        case 0x10d: inst.elems[code[pc + 1]] = null; pc += 2; break;
        case 0x10e: {
          sp -= 3;
          tableCopy(store.tables[inst.tableAddrs[code[pc + 1]]], store.tables[inst.tableAddrs[code[pc + 2]]], s32[2 * sp] >>> 0, s32[2 * (sp + 1)] >>> 0, s32[2 * (sp + 2)] >>> 0);
          pc += 3;
          break;
        }
        case 0x10f: {
          sp--;
          const table = store.tables[inst.tableAddrs[code[pc + 1]]];
          s32[2 * (sp - 1)] = tableGrow(table, s32[2 * (sp - 1)], s32[2 * sp] >>> 0);
          pc += 2;
          break;
        }
        case 0x110: s32[2 * sp++] = store.tables[inst.tableAddrs[code[pc + 1]]].size; pc += 2; break;
        case 0x111: {
          sp -= 3;
          tableFill(store.tables[inst.tableAddrs[code[pc + 1]]], s32[2 * sp] >>> 0, s32[2 * (sp + 1)], s32[2 * (sp + 2)] >>> 0);
          pc += 2;
          break;
        }
        default:
          if (op === 0x3f0) { /* IrOp.otherMemory */
            sp = stepOtherMemory(t, code, pc, sp, fp, inst);
            // It may have grown memory 0 too (the same memory imported twice).
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
            pc += irLength(code, pc);
            break;
          }
          if (op === 0x3f1) { /* IrOp.memory64 */
            sp = stepMemory64(t, code, pc, sp, fp, inst);
            if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
            pc += irLength(code, pc);
            break;
          }
          if (op === 0x3f2) { /* IrOp.table64 */
            const after = stepTable64(t, code, pc, sp, inst);
            if (after >= 0) {
              sp = after;
              pc += irLength(code, pc);
            } else {
              // The plain instruction runs next, within this one's fuel: no pause between them.
              fuel++;
              pc += 2;
            }
            break;
          }
          if (op === 0x3e3) { /* IrOp.catchEnd */
            t.sp = sp; t.fp = fp; t.pc = pc;
            runCatchEnd(t);
            sp = t.sp; pc = t.pc;
            break;
          }
          if (op >= 0x3e0 && op <= 0x3e2) { /* IrOp.throw, throwRef, rethrow */
            // The thread goes to the handler, maybe frames below: all registers come back from `t`.
            t.sp = sp; t.fp = fp; t.pc = pc; t.funcAddr = funcAddr;
            if (runThrow(t) === RunStatus.returned) {
              t.instructions += budget - fuel;
              return RunStatus.returned;
            }
            sp = t.sp; fp = t.fp; pc = t.pc; funcAddr = t.funcAddr;
            fn = funcs[funcAddr] as WasmFunctionState;
            code = fn.compiled.code;
            if (fn.instance !== inst) {
              inst = fn.instance;
              mem = inst.memAddrs.length ? store.memories[inst.memAddrs[0]] : NO_MEMORY;
              if (mem !== NO_MEMORY) { view = mem.view; memSize = view.byteLength; }
            }
            break;
          }
          // SIMD and the v128 moves: one branch, off the path of every other instruction.
          if (op >= 0x200) {
            sp = stepSimd(t, code, pc, sp, fp, inst, mem);
            pc += irLength(code, pc);
            break;
          }
          throw new Trap(`internal error: unknown internal opcode 0x${op.toString(16)} at pc ${pc}`, 'ERR_INTERNAL');
      }
    }
  } catch (error) {
    // Keep the registers at the faulting instruction for the backtrace.
    t.sp = sp; t.fp = fp; t.pc = pc; t.funcAddr = funcAddr;
    t.instructions += budget - fuel;
    throw error;
  }
}

