import { Trap } from '../errors/index.ts';
import { memoryFill, memoryGrow, memoryInit } from './bulk.ts';
import { stepSimd } from './simd-step.ts';
import { refreshMemoryViews } from './state.ts';
import type { InstanceState, MemoryState, ThreadState } from './state.ts';

/**
 * Memory instructions on a memory other than memory 0 (Wasm 3.0 multi-memory), in
 * their `IrOp.otherMemory` form `[op, memory, secondMemory, wasmOp, ...words]`. Kept
 * apart from the run loops, which reach it through their `default` branch: programs
 * with one memory (nearly all) pay nothing for it, and a second memory's accesses pay a
 * call and a lookup each. Spec: https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions
 */

const PAGE = 65536;

function outOfBounds(): never {
  throw new Trap('out of bounds memory access');
}

function memoryAt(t: ThreadState, inst: InstanceState, index: number): MemoryState {
  const mem = t.store.memories[inst.memAddrs[index]];
  // The host may have grown an imported memory since the views were made.
  refreshMemoryViews(mem);
  return mem;
}

/** Runs the instruction at `pc` (an `otherMemory` form); returns the new stack pointer. */
export function stepOtherMemory(t: ThreadState, code: Int32Array, pc: number, sp: number, fp: number, inst: InstanceState): number {
  const s32 = t.s32;
  const mem = memoryAt(t, inst, code[pc + 1]);
  const op = code[pc + 3];
  if (op >= 0x200) return stepSimd(t, code, pc + 3, sp, fp, inst, mem);
  const view = mem.view;
  const size = view.byteLength;
  if (op >= 0x28 && op <= 0x35) {
    // Loads: the address on top becomes the value.
    const a = 2 * (sp - 1);
    const ea = (s32[a] >>> 0) + (code[pc + 4] >>> 0);
    const bytes = op === 0x29 || op === 0x2b ? 8 : op === 0x28 || op === 0x2a || op === 0x34 || op === 0x35 ? 4
      : op === 0x2e || op === 0x2f || op === 0x32 || op === 0x33 ? 2 : 1;
    if (ea + bytes > size) outOfBounds();
    let lo: number;
    let hi = 0;
    switch (op) {
      case 0x29: case 0x2b: lo = view.getInt32(ea, true); hi = view.getInt32(ea + 4, true); break;
      case 0x28: case 0x2a: case 0x34: lo = view.getInt32(ea, true); hi = lo >> 31; break;
      case 0x35: lo = view.getInt32(ea, true); break;
      case 0x2c: case 0x30: lo = view.getInt8(ea); hi = lo >> 31; break;
      case 0x2d: case 0x31: lo = view.getUint8(ea); break;
      case 0x2e: case 0x32: lo = view.getInt16(ea, true); hi = lo >> 31; break;
      default: lo = view.getUint16(ea, true); break; // 0x2f, 0x33
    }
    s32[a] = lo;
    // An i32 result leaves the high word alone, as the plain forms do.
    if (op === 0x29 || op === 0x2b || op >= 0x30) s32[a + 1] = hi;
    return sp;
  }
  if (op >= 0x36 && op <= 0x3e) {
    // Stores: address, then value.
    sp -= 2;
    const ea = (s32[2 * sp] >>> 0) + (code[pc + 4] >>> 0);
    const v = 2 * (sp + 1);
    const bytes = op === 0x37 || op === 0x39 ? 8 : op === 0x36 || op === 0x38 || op === 0x3e ? 4 : op === 0x3b || op === 0x3d ? 2 : 1;
    if (ea + bytes > size) outOfBounds();
    if (bytes === 8) { view.setInt32(ea, s32[v], true); view.setInt32(ea + 4, s32[v + 1], true); }
    else if (bytes === 4) view.setInt32(ea, s32[v], true);
    else if (bytes === 2) view.setInt16(ea, s32[v], true);
    else view.setInt8(ea, s32[v]);
    return sp;
  }
  switch (op) {
    case 0x3f: s32[2 * sp] = size / PAGE; return sp + 1;
    case 0x40: s32[2 * (sp - 1)] = memoryGrow(mem, s32[2 * (sp - 1)] >>> 0); return sp;
    case 0x108: // memory.init: data index in the first word
      sp -= 3;
      memoryInit(mem, inst.datas[code[pc + 4]], s32[2 * sp] >>> 0, s32[2 * (sp + 1)] >>> 0, s32[2 * (sp + 2)] >>> 0);
      return sp;
    case 0x10a: { // memory.copy: into `memory` from `secondMemory`
      sp -= 3;
      const src = memoryAt(t, inst, code[pc + 2]);
      const d = s32[2 * sp] >>> 0, s = s32[2 * (sp + 1)] >>> 0, n = s32[2 * (sp + 2)] >>> 0;
      if (s + n > src.bytes.length || d + n > mem.bytes.length) outOfBounds();
      // copyWithin when both name one memory (overlap), set otherwise.
      if (src === mem) mem.bytes.copyWithin(d, s, s + n);
      else mem.bytes.set(src.bytes.subarray(s, s + n), d);
      return sp;
    }
    case 0x10b:
      sp -= 3;
      memoryFill(mem, s32[2 * sp] >>> 0, s32[2 * (sp + 1)], s32[2 * (sp + 2)] >>> 0);
      return sp;
    default:
      throw new Trap(`internal error: 0x${op.toString(16)} is not a memory instruction`, 'ERR_INTERNAL');
  }
}
