import { Trap } from '../errors/index.ts';
import { Imm, OPCODE_SPACE, OPS } from '../wasm/index.ts';
import { memoryFill, memoryGrow, memoryInit, tableGrow } from './bulk.ts';
import { stepOtherMemory } from './other-memory.ts';
import { refreshMemoryViews } from './state.ts';
import type { InstanceState, MemoryState, ThreadState } from './state.ts';

/**
 * The instructions on 64-bit memories and tables (Wasm 3.0 memory64 and table64), in
 * their `IrOp.memory64` and `IrOp.table64` forms (see `compile/ir.ts`). Kept out of the
 * run loops, which reach them through their `default` branch, so that 32-bit memories
 * and tables run exactly as before. Spec: https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions
 *
 * An i64 address is read as a number: exact below 2^53, and any larger one is out of
 * bounds of every memory and table this runtime can hold (at most 2^32 bytes, 10^7
 * elements), however it rounds. So `address + offset` is compared with the memory's
 * size as the spec's unbounded integers would be: past the end it traps, it never wraps.
 */

const PAGE = 65536;

function outOfBounds(): never {
  throw new Trap('out of bounds memory access');
}

/** The u64 in the slot whose low word is `s32[at]`, as a number (see above). */
function u64At(s32: Int32Array, at: number): number {
  return (s32[at + 1] >>> 0) * 2 ** 32 + (s32[at] >>> 0);
}

/** An operand of type i64 (`wide`) or i32 at `s32[at]`, as a non-negative number. */
function addressAt(s32: Int32Array, at: number, wide: boolean): number {
  return wide ? u64At(s32, at) : s32[at] >>> 0;
}

/**
 * Slots from the top of the stack down to the address operand of each load, store and
 * SIMD memory access (its first operand), by opcode; 0 for other instructions.
 */
const ADDRESS_DEPTH = new Uint8Array(OPCODE_SPACE);
for (const info of OPS) {
  if (info === undefined || info.sig === undefined) continue;
  const params = info.sig.split('>')[0];
  if (info.imm === Imm.memArg || info.imm === Imm.memArgLane) {
    let slots = 0;
    for (const c of params) slots += c === 'V' ? 2 : 1;
    ADDRESS_DEPTH[info.code] = slots;
  }
}

function memoryAt(t: ThreadState, inst: InstanceState, index: number): MemoryState {
  const mem = t.store.memories[inst.memAddrs[index]];
  refreshMemoryViews(mem);
  return mem;
}

/**
 * Runs the `IrOp.memory64` instruction at `pc`; returns the new stack pointer. A load,
 * store or SIMD access checks its effective address, writes it over its address operand
 * (below 2^32 once in bounds) and runs as the `otherMemory` form; the others read their
 * i64 operands whole and give i64 results.
 */
export function stepMemory64(t: ThreadState, code: Int32Array, pc: number, sp: number, fp: number, inst: InstanceState): number {
  const s32 = t.s32;
  const form = pc + 3;
  const mem = memoryAt(t, inst, code[form + 1]);
  const op = code[form + 3];
  const depth = ADDRESS_DEPTH[op];
  if (depth !== 0) {
    const at = 2 * (sp - depth);
    const ea = u64At(s32, at) + u64At(code, pc + 1);
    // Every access touches at least one byte: an address at or past the end traps here,
    // and the form checks the access's last byte.
    if (ea >= mem.bytes.length) outOfBounds();
    s32[at] = ea;
    s32[at + 1] = 0;
    return stepOtherMemory(t, code, form, sp, fp, inst);
  }
  switch (op) {
    case 0x3f: // memory.size: i64 pages
      s32[2 * sp] = mem.bytes.length / PAGE;
      s32[2 * sp + 1] = 0;
      return sp + 1;
    case 0x40: { // memory.grow: i64 delta, i64 result (-1 on failure)
      const at = 2 * (sp - 1);
      const old = memoryGrow(mem, u64At(s32, at));
      s32[at] = old;
      s32[at + 1] = old < 0 ? -1 : 0;
      return sp;
    }
    case 0x108: // memory.init: i64 destination, i32 source and length
      sp -= 3;
      memoryInit(mem, inst.datas[code[form + 4]], u64At(s32, 2 * sp), s32[2 * (sp + 1)] >>> 0, s32[2 * (sp + 2)] >>> 0);
      return sp;
    case 0x10a: { // memory.copy: each address of its memory's type, the length of the narrower
      sp -= 3;
      const src = memoryAt(t, inst, code[form + 2]);
      const dst64 = mem.index64 === true, src64 = src.index64 === true;
      const d = addressAt(s32, 2 * sp, dst64), s = addressAt(s32, 2 * (sp + 1), src64), n = addressAt(s32, 2 * (sp + 2), dst64 && src64);
      if (s + n > src.bytes.length || d + n > mem.bytes.length) outOfBounds();
      if (src === mem) mem.bytes.copyWithin(d, s, s + n);
      else mem.bytes.set(src.bytes.subarray(s, s + n), d);
      return sp;
    }
    case 0x10b: // memory.fill: i64 destination and length
      sp -= 3;
      memoryFill(mem, u64At(s32, 2 * sp), s32[2 * (sp + 1)], u64At(s32, 2 * (sp + 2)));
      return sp;
    default:
      throw new Trap(`internal error: 0x${op.toString(16)} is not a memory64 instruction`, 'ERR_INTERNAL');
  }
}

/** The largest u32: what an i64 table operand past 2^32 is narrowed to (out of bounds of every table). */
const NARROWED = -1;

/**
 * The `IrOp.table64` prefix at `pc`: table.size and table.grow run whole (their results
 * are i64) and the new stack pointer is returned; for the others, the i64 operands the
 * mask marks are narrowed to 32 bits in place and -1 is returned: the plain instruction
 * at `pc + 2` runs next, as part of this one.
 */
export function stepTable64(t: ThreadState, code: Int32Array, pc: number, sp: number, inst: InstanceState): number {
  const s32 = t.s32;
  const op = code[pc + 2];
  if (op === 0x110) { // table.size
    s32[2 * sp] = t.store.tables[inst.tableAddrs[code[pc + 3]]].size;
    s32[2 * sp + 1] = 0;
    return sp + 1;
  }
  if (op === 0x10f) { // table.grow: value, i64 delta; i64 result (-1 on failure)
    const at = 2 * (sp - 2);
    const delta = u64At(s32, at + 2);
    const table = t.store.tables[inst.tableAddrs[code[pc + 3]]];
    // A delta past 2^32 asks for more than any table can hold: -1, as tableGrow says for one too large.
    const old = delta > 0xffffffff ? -1 : tableGrow(table, s32[at], delta);
    s32[at] = old;
    s32[at + 1] = old < 0 ? -1 : 0;
    return sp - 1;
  }
  const mask = code[pc + 1];
  for (let i = 0; i < 3; i++) {
    const at = 2 * (sp - 1 - i);
    if ((mask & (1 << i)) !== 0 && s32[at + 1] !== 0) s32[at] = NARROWED;
  }
  return -1;
}
