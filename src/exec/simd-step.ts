/**
 * One SIMD instruction of the internal code (0x200 + sub-opcode), or one of the v128
 * moves (`isV128Move`, see `compile/ir.ts`), on the value stack of a thread. Both run
 * loops reach it through one branch outside their hot cases, so code without SIMD runs
 * exactly as before. The semantics are the tables of `simd-ops.ts`, `simd-relaxed.ts`
 * and `simd-memory.ts`; this file only finds the operands' slots and the immediates.
 */
import { IrOp, isV128Move } from '../compile/index.ts';
import { OPS, PREFIX_FD, RELAXED_SIMD_FIRST, SIMD_SUB_END, slotCount, ValType } from '../wasm/index.ts';
import { shuffle, SIMD_OPS } from './simd-ops.ts';
import type { SimdOp } from './simd-ops.ts';
import { RELAXED_SIMD_OPS } from './simd-relaxed.ts';
import { simdMemory } from './simd-memory.ts';
import { V128Lanes } from './simd-lanes.ts';
import type { GlobalState, InstanceState, MemoryState, ThreadState } from './state.ts';

/** Where a SIMD instruction's operands sit relative to its first one, and how many slots it pops and pushes. */
interface SimdShape {
  pops: number;
  pushes: number;
  /** Slot offsets of the (up to three) operands from the first. */
  at: Int32Array;
}

const SIG_TYPES: Record<string, number> = { i: ValType.i32, I: ValType.i64, f: ValType.f32, F: ValType.f64, V: ValType.v128 };

function shapeOf(sub: number): SimdShape | undefined {
  const sig = OPS[PREFIX_FD + sub]?.sig;
  if (sig === undefined) return undefined;
  const [p, r] = sig.split('>');
  const params = [...p].map((c) => SIG_TYPES[c]);
  const at = new Int32Array(3);
  for (let i = 1; i < params.length; i++) at[i] = at[i - 1] + slotCount([params[i - 1]]);
  return { pops: slotCount(params), pushes: slotCount([...r].map((c) => SIG_TYPES[c])), at };
}

/** Shapes by sub-opcode, made once (the opcode table is constant). */
const SHAPES: (SimdShape | undefined)[] = Array.from({ length: SIMD_SUB_END }, (_, sub) => shapeOf(sub));

/** The operation of every non-memory SIMD instruction by sub-opcode, Wasm 2.0's and the relaxed ones. */
const OPERATIONS: (SimdOp | undefined)[] = Array.from({ length: SIMD_SUB_END }, (_, sub) =>
  sub < RELAXED_SIMD_FIRST ? SIMD_OPS[sub] : RELAXED_SIMD_OPS[sub - RELAXED_SIMD_FIRST]);

/**
 * A thread's SIMD working set: typed views of its value stack for every lane shape,
 * remade when the stack grows into a new buffer, and 16 bytes for a shuffle's lanes.
 */
export class SimdUnit {
  private lanes: V128Lanes;
  private readonly shuffleLanes = new Uint8Array(16);

  constructor(slots: ArrayBufferLike) {
    this.lanes = new V128Lanes(slots);
  }

  /** The lane views of the thread's current stack buffer. */
  viewsOf(t: ThreadState): V128Lanes {
    if (this.lanes.u8.buffer !== t.s32.buffer) this.lanes = new V128Lanes(t.s32.buffer);
    return this.lanes;
  }

  /** The 16 lane indices of a shuffle, from its four code words. */
  shuffleImmediate(code: Int32Array, at: number): Uint8Array {
    const out = this.shuffleLanes;
    for (let w = 0; w < 4; w++) {
      const x = code[at + w];
      out[4 * w] = x & 0xff; out[4 * w + 1] = (x >>> 8) & 0xff; out[4 * w + 2] = (x >>> 16) & 0xff; out[4 * w + 3] = x >>> 24;
    }
    return out;
  }
}

/**
 * Runs the SIMD instruction or v128 move at `pc` of `code` in the frame at `fp` with
 * the operand stack ending at `sp`; returns the new `sp` (the caller steps `pc` by the
 * instruction's length). Traps (out of bounds) are thrown before anything is written.
 */
export function stepSimd(t: ThreadState, code: Int32Array, pc: number, sp: number, fp: number, inst: InstanceState, mem: MemoryState | null): number {
  const op = code[pc];
  const s32 = t.s32;
  if (isV128Move(op)) return moveV128(t, op, code[pc + 1], sp, fp, inst);
  const sub = op - PREFIX_FD;
  if (sub === 0x0c) {
    // v128.const: the 16 bytes are the four code words.
    const d = 2 * sp;
    s32[d] = code[pc + 1]; s32[d + 1] = code[pc + 2]; s32[d + 2] = code[pc + 3]; s32[d + 3] = code[pc + 4];
    return sp + 2;
  }
  const shape = SHAPES[sub];
  if (shape === undefined) throw new Error(`internal error: no SIMD instruction 0xfd ${sub}`);
  t.simd ??= new SimdUnit(t.s32.buffer);
  const v = t.simd.viewsOf(t);
  const base = sp - shape.pops;
  const op128 = OPERATIONS[sub];
  if (op128 !== undefined) {
    op128(v, base, base + shape.at[0], base + shape.at[1], base + shape.at[2], code[pc + 1]);
  } else if (sub === 0x0d) {
    shuffle(v, base, base, base + 2, t.simd.shuffleImmediate(code, pc + 1));
  } else {
    // A memory access: the address is the first operand; a lane access keeps its lane after the offset.
    const ea = (s32[2 * base] >>> 0) + (code[pc + 1] >>> 0);
    const lane = sub >= 0x54 && sub <= 0x5b ? code[pc + 2] : 0;
    simdMemory(sub, v, mem!.bytes, ea, base, base + 1, lane);
  }
  return base + shape.pushes;
}

/** The v128 moves: locals by slot offset, globals by index, drop and select. */
function moveV128(t: ThreadState, op: number, imm: number, sp: number, fp: number, inst: InstanceState): number {
  const s32 = t.s32;
  switch (op) {
    case IrOp.v128LocalGet: copy4(s32, 2 * (fp + imm), 2 * sp); return sp + 2;
    case IrOp.v128LocalSet: copy4(s32, 2 * (sp - 2), 2 * (fp + imm)); return sp - 2;
    case IrOp.v128LocalTee: copy4(s32, 2 * (sp - 2), 2 * (fp + imm)); return sp;
    case IrOp.v128GlobalGet: {
      const g = t.store.globals[inst.globalAddrs[imm]];
      const d = 2 * sp;
      s32[d] = g.lo; s32[d + 1] = g.hi; s32[d + 2] = g.lo2; s32[d + 3] = g.hi2;
      return sp + 2;
    }
    case IrOp.v128GlobalSet: {
      const g: GlobalState = t.store.globals[inst.globalAddrs[imm]];
      const a = 2 * (sp - 2);
      g.lo = s32[a]; g.hi = s32[a + 1]; g.lo2 = s32[a + 2]; g.hi2 = s32[a + 3];
      return sp - 2;
    }
    case IrOp.v128Drop: return sp - 2;
    case IrOp.v128Select: {
      // [a (2 slots), b (2 slots), cond]: keep a when cond is non-zero.
      const cond = s32[2 * (sp - 1)];
      if (cond === 0) copy4(s32, 2 * (sp - 3), 2 * (sp - 5));
      return sp - 3;
    }
    default: throw new Error(`internal error: no v128 move 0x${op.toString(16)}`);
  }
}

function copy4(s32: Int32Array, from: number, to: number): void {
  s32[to] = s32[from]; s32[to + 1] = s32[from + 1]; s32[to + 2] = s32[from + 2]; s32[to + 3] = s32[from + 3];
}
