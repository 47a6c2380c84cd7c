import { OPS } from '../wasm/index.ts';
import { FastOp } from './fast-ir.ts';
import type { FastFunction } from './fast-ir.ts';
import { endsBasicBlock, IrOp, irLength } from './ir.ts';
import type { CompiledFunction } from './compiled-function.ts';

/** What operand-stack entry a height holds while translating (wasmi's "provider"). */
const Kind = {
  /** The value is in its canonical slot. */
  slot: 0,
  /** The value is local `a`, not copied yet. */
  local: 1,
  /** An i32/f32 constant `a`, not materialized yet. */
  const32: 2,
  /** An i64/f64 constant (`a`, `b`), not materialized yet. */
  const64: 3,
} as const;

const COMPARE_FIRST = 0x46;
const COMPARE_LAST = 0x4f;
/** i32 comparison that is true exactly when the given one is false. */
const NEGATED: Record<number, number> = { 0x46: 0x47, 0x47: 0x46, 0x48: 0x4e, 0x4e: 0x48, 0x49: 0x4f, 0x4f: 0x49, 0x4a: 0x4c, 0x4c: 0x4a, 0x4b: 0x4d, 0x4d: 0x4b };
/** i32 binary operations that have an immediate form. */
const HAS_IMMEDIATE = new Set([0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76]);

/** Sequences fused into one instruction: the opcodes of the parts, then the fused opcode. */
export const FUSED: readonly (readonly number[])[] = [
  [0x176, 0x171, FastOp.shrUImmAndImm],
  [0x6a, 0x16a, FastOp.addAddImm],
  [0xd5, 0xd4, FastOp.const32Copy],
  [0xd4, 0xd3, FastOp.copyBrNz],
  [0x36, 0xd4, FastOp.store32Copy],
  [0xd4, 0x28, FastOp.copyLoad32],
  [0x28, 0x36, FastOp.load32Store32],
  [0x28, 0xd3, FastOp.load32BrNz],
  [0x2d, 0xd3, FastOp.load8UBrNz],
  [0x171, 0xeb, FastOp.andImmBrNeImm],
  [0x6c, 0x6a, FastOp.mulAdd],
  [0xd4, 0x16a, FastOp.copyAddImm],
  [0x16a, 0x2d, FastOp.addImmLoad8U],
  [0xd4, 0xeb, FastOp.copyBrNeImm],
  [0xd7, 0x176, FastOp.selectShrUImm],
  [0x171, 0x173, FastOp.andImmXorImm],
  [0x171, 0xd7, FastOp.andImmSelect],
  [0x73, 0x171, FastOp.xorAndImm],
  [0xd5, 0xd7, FastOp.const32Select],
  [0x16a, 0x171, FastOp.addImmAndImm],
  [0x176, 0x73, FastOp.shrUImmXor],
  [0x2e, 0x6c, FastOp.load16SMul],
  [0x173, 0x176, FastOp.xorImmShrUImm],
  [0x171, 0x176, FastOp.andImmShrUImm],
  [0x16a, 0x36, FastOp.addImmStore32],
  [0x28, 0x16a, FastOp.load32AddImm],
  [0x28, 0x2d, FastOp.load32Load8U],
  [0x16a, 0xe1, FastOp.addImmBrNe],
  [0x28, 0x2f, FastOp.load32Load16U],
  [0x16a, 0xd3, FastOp.addImmBrNz],
  [0x16a, 0x6a, FastOp.addImmAdd],
  [0x2f, 0x2f, FastOp.load16ULoad16U],
  [0x2f, 0x6c, FastOp.load16UMul],
  [0x6c, 0x176, FastOp.mulShrUImm],
  [0x171, 0x6c, FastOp.andImmMul],
  [0x171, 0xe0, FastOp.andImmBrEq],
  [0x2f, 0x171, FastOp.load16UAndImm],
  [0x16a, 0x16a, FastOp.addImmAddImm],
  [0x2d, 0x171, FastOp.load8UAndImm],
  [0x73, 0xd2, FastOp.xorBrZ],
  [0xd4, 0xd4, FastOp.copyCopy],
  [0xd5, 0xd5, FastOp.const32Const32],
  [0x174, 0x6a, FastOp.shlImmAdd],
  [0x36, 0xd4, 0xd3, FastOp.store32CopyBrNz],
  [0x16a, 0x2d, 0xd3, FastOp.addImmLoad8UBrNz],
  [0x28, 0x16a, 0x36, FastOp.load32AddImmStore32],
  [0x6a, 0x16a, 0xd3, FastOp.addAddImmBrNz],
  [0x28, 0x2d, 0x171, FastOp.load32Load8UAndImm],
  [0x171, 0x73, 0xd2, FastOp.andImmXorBrZ],
  [0x4a, 0xd5, 0xd7, FastOp.gtSConst32Select],
  [0x6a, 0x6a, 0x16a, FastOp.addAddAddImm],
  [0x2e, 0x6c, 0x6a, FastOp.load16SMulAdd],
];
const FUSED_PAIR = new Map<number, number>();
const FUSED_TRIPLE = new Map<number, number>();
for (const f of FUSED) {
  if (f.length === 3) FUSED_PAIR.set(f[0] * 0x400 + f[1], f[2]);
  else FUSED_TRIPLE.set((f[0] * 0x400 + f[1]) * 0x400 + f[2], f[3]);
}
const FUSED_LENGTH = new Map<number, number>();

/** Length in words of the fast instruction at `pc`. */
export function fastLength(code: Int32Array, pc: number): number {
  const op = code[pc];
  switch (op) {
    case FastOp.fuel: case FastOp.jump: case FastOp.copy: case FastOp.const32: case FastOp.globalGet:
    case FastOp.globalSet: case FastOp.return: case FastOp.exact1:
      return 3;
    case FastOp.brZ: case FastOp.brNz: case FastOp.const64: case FastOp.call:
      return 4;
    case FastOp.select: return 5;
    case FastOp.callIndirect: return 6;
    case FastOp.brTable: return 4 + code[pc + 2];
    case FastOp.unreachable: return 1;
  }
  if (op >= FastOp.brCmpBase && op < FastOp.brCmpImmBase + 10) return 5;
  const fused = FUSED_LENGTH.get(op);
  if (fused !== undefined) return fused;
  if (op >= FastOp.immediate + 0x46) return 4;
  if (op >= 0x28 && op <= 0x3e) return 4;
  return OPS[op]!.pops === 2 ? 4 : 3;
}
{
  // A fused instruction is as long as its parts: their opcodes stay in place.
  const one = new Int32Array(1);
  for (const f of FUSED) {
    let length = 0;
    for (let i = 0; i < f.length - 1; i++) {
      one[0] = f[i];
      length += fastLength(one, 0);
    }
    FUSED_LENGTH.set(f[f.length - 1], length);
  }
}

/** Function signatures the translator needs for calls: parameter counts. */
export interface CallSignatures {
  /** By function index (imports included). */
  funcParams: Int32Array;
  /** By type index. */
  typeParams: Int32Array;
}

/**
 * Translates a function's exact code into fast code (see `fast-ir.ts`). Runs lazily,
 * the first time the function executes on the fast path.
 */
export function translateFast(fn: CompiledFunction, sigs: CallSignatures): FastFunction {
  const exact = fn.code;
  const n = exact.length;
  const L = fn.numLocals;

  // Pass 1: basic-block boundaries.
  const boundary = new Uint8Array(n + 1);
  boundary[0] = 1;
  for (let pc = 0; pc < n; pc += irLength(exact, pc)) {
    const op = exact[pc];
    switch (op) {
      case IrOp.jump: case IrOp.brIfJump: case IrOp.if: case IrOp.br: case IrOp.brIf:
        boundary[exact[pc + 1]] = 1;
        break;
      case IrOp.brTable: {
        const count = exact[pc + 1];
        for (let i = 0; i <= count; i++) {
          const target = exact[pc + 2 + 3 * i];
          if (target >= 0) boundary[target] = 1;
        }
        break;
      }
    }
    if (endsBasicBlock(op)) boundary[pc + irLength(exact, pc)] = 1;
  }
  const toBlockEnd = new Int32Array(n);
  {
    let count = 0;
    const starts: number[] = [];
    for (let pc = 0; pc < n; pc += irLength(exact, pc)) starts.push(pc);
    for (let i = starts.length - 1; i >= 0; i--) {
      const pc = starts[i];
      const next = i + 1 < starts.length ? starts[i + 1] : n;
      count = boundary[next] ? 1 : count + 1;
      toBlockEnd[pc] = count;
    }
  }

  // Pass 2: translation.
  let code = new Int32Array(Math.max(64, n * 2));
  let length = 0;
  const exactAt: number[] = [];
  const fastPcAt = new Int32Array(n + 1).fill(-1);
  // Code positions holding an exact pc: `patches` become [the target's fuel instruction,
  // its cost] (branches), `pcPatches` just the fuel instruction (br_table entries).
  const patches: number[] = [];
  const pcPatches: number[] = [];
  const emit = (v: number): void => {
    if (length === code.length) {
      const bigger = new Int32Array(code.length * 2);
      bigger.set(code);
      code = bigger;
    }
    code[length++] = v;
  };
  const startInstr = (op: number, exactPc: number): void => {
    exactAt[length] = exactPc;
    emit(op);
  };
  const emitTarget = (exactTarget: number): void => {
    patches.push(length);
    emit(exactTarget);
    emit(0);
  };
  /**
   * A fuel instruction that charges nothing: it makes a branch stub or the fall-through
   * of a branch that moves values look like a block start to the branches that charge
   * the next block themselves. Being free, it never sends execution to the exact code.
   */
  const emitFreeFuel = (exactPc: number): void => {
    startInstr(FastOp.fuel, exactPc);
    emit(0);
    emit(exactPc);
  };

  const kind: number[] = [];
  const va: number[] = [];
  const vb: number[] = [];
  let height = 0;
  let lastDstPos = -1;
  let lastDstHeight = -1;
  const S = (h: number): number => 2 * (L + h);

  const materialize = (h: number, exactPc: number): void => {
    const k = kind[h];
    if (k === Kind.slot) return;
    if (k === Kind.local) { startInstr(FastOp.copy, exactPc); emit(S(h)); emit(2 * va[h]); }
    else if (k === Kind.const32) { startInstr(FastOp.const32, exactPc); emit(S(h)); emit(va[h]); }
    else { startInstr(FastOp.const64, exactPc); emit(S(h)); emit(va[h]); emit(vb[h]); }
    kind[h] = Kind.slot;
    lastDstPos = -1;
  };
  const materializeAll = (below: number, exactPc: number): void => {
    for (let h = 0; h < below; h++) materialize(h, exactPc);
  };
  /** A word offset to read the value at height h from (constants get their slot first). */
  const use = (h: number, exactPc: number): number => {
    if (kind[h] === Kind.local) return 2 * va[h];
    if (kind[h] !== Kind.slot) materialize(h, exactPc);
    return S(h);
  };
  const pushSlot = (h: number): void => {
    kind[h] = Kind.slot;
  };
  const emitResult = (dstHeight: number): void => {
    lastDstPos = length;
    lastDstHeight = dstHeight;
    emit(S(dstHeight));
  };

  let prevPc = 0;
  for (let pc = 0; pc < n;) {
    const op = exact[pc];
    const len = irLength(exact, pc);
    if (boundary[pc]) {
      // A block starts: everything must be in its slot. A block that falls through
      // into this one may still hold lazy values; a block that ended with a branch
      // has materialized them already.
      if (pc > 0) materializeAll(fn.heights[pc], prevPc);
      height = fn.heights[pc];
      for (let h = 0; h < height; h++) kind[h] = Kind.slot;
      fastPcAt[pc] = length;
      startInstr(FastOp.fuel, pc);
      let cost = 0;
      for (let p = pc, c = toBlockEnd[pc]; c > 0; c--, p += irLength(exact, p)) cost++;
      emit(cost);
      emit(pc);
      lastDstPos = -1;
    }
    prevPc = pc;
    height = fn.heights[pc];
    const h = height;
    const next = pc + len;
    // Does the next instruction continue this block (so that fusing with it is allowed)?
    const fusable = next < n && !boundary[next];

    if (op === 0x20) { kind[h] = Kind.local; va[h] = exact[pc + 1]; pc = next; continue; }
    if (op === 0x41 || op === 0x43) { kind[h] = Kind.const32; va[h] = exact[pc + 1]; pc = next; continue; }
    if (op === 0x42 || op === 0x44) { kind[h] = Kind.const64; va[h] = exact[pc + 1]; vb[h] = exact[pc + 2]; pc = next; continue; }
    if (op === 0x01) { pc = next; continue; }
    if (op === 0x1a) { pc = next; continue; } // drop: the slot is simply no longer looked at
    if (op === 0x21 || op === 0x22) {
      const local = exact[pc + 1];
      const top = h - 1;
      let pending = false;
      for (let i = 0; i < top; i++) if (kind[i] === Kind.local && va[i] === local) { pending = true; break; }
      if (kind[top] === Kind.local && va[top] === local) {
        // local.set x of local.get x: nothing to do.
      } else if (!pending && kind[top] === Kind.slot && lastDstPos >= 0 && lastDstHeight === top) {
        code[lastDstPos] = 2 * local; // the producer writes straight into the local
      } else {
        for (let i = 0; i < top; i++) if (kind[i] === Kind.local && va[i] === local) materialize(i, pc);
        if (kind[top] === Kind.const32) { startInstr(FastOp.const32, pc); emit(2 * local); emit(va[top]); }
        else if (kind[top] === Kind.const64) { startInstr(FastOp.const64, pc); emit(2 * local); emit(va[top]); emit(vb[top]); }
        else { const src = use(top, pc); startInstr(FastOp.copy, pc); emit(2 * local); emit(src); }
      }
      lastDstPos = -1;
      if (op === 0x22) { kind[top] = Kind.local; va[top] = local; }
      pc = next;
      continue;
    }

    // Fused compare-and-branch.
    if (fusable && ((op >= COMPARE_FIRST && op <= COMPARE_LAST) || op === 0x45)) {
      const branch = exact[next];
      if (branch === IrOp.brIfJump || branch === IrOp.if) {
        const operands = op === 0x45 ? 1 : 2;
        materializeAll(h - operands, pc);
        const whenTrue = branch === IrOp.brIfJump;
        if (op === 0x45) {
          const a = use(h - 1, pc);
          startInstr(whenTrue ? FastOp.brZ : FastOp.brNz, pc);
          emit(a);
        } else if (kind[h - 1] === Kind.const32) {
          const a = use(h - 2, pc);
          const cmp = whenTrue ? op : NEGATED[op];
          startInstr(FastOp.brCmpImmBase + (cmp - COMPARE_FIRST), pc);
          emit(a);
          emit(va[h - 1]);
        } else {
          const a = use(h - 2, pc);
          const b = use(h - 1, pc);
          const cmp = whenTrue ? op : NEGATED[op];
          startInstr(FastOp.brCmpBase + (cmp - COMPARE_FIRST), pc);
          emit(a);
          emit(b);
        }
        emitTarget(exact[next + 1]);
        lastDstPos = -1;
        pc = next + irLength(exact, next);
        continue;
      }
    }

    const info = OPS[op];
    const sig = info?.sig;
    // Numeric instructions: 0x45..0xc4 and the saturating truncations 0x100..0x107.
    if (sig !== undefined && ((op >= 0x45 && op <= 0xc4) || (op >= 0x100 && op <= 0x107))) {
      if (info!.pops === 2) {
        if (HAS_IMMEDIATE.has(op) && kind[h - 1] === Kind.const32) {
          const a = use(h - 2, pc);
          startInstr(FastOp.immediate + op, pc);
          emitResult(h - 2);
          emit(a);
          emit(va[h - 1]);
        } else {
          const a = use(h - 2, pc);
          const b = use(h - 1, pc);
          startInstr(op, pc);
          emitResult(h - 2);
          emit(a);
          emit(b);
        }
        pushSlot(h - 2);
      } else {
        const a = use(h - 1, pc);
        startInstr(op, pc);
        emitResult(h - 1);
        emit(a);
        pushSlot(h - 1);
      }
      pc = next;
      continue;
    }
    if (op >= 0x28 && op <= 0x35) {
      const addr = use(h - 1, pc);
      startInstr(op, pc);
      emitResult(h - 1);
      emit(addr);
      emit(exact[pc + 1]);
      pushSlot(h - 1);
      pc = next;
      continue;
    }
    if (op >= 0x36 && op <= 0x3e) {
      const addr = use(h - 2, pc);
      const value = use(h - 1, pc);
      startInstr(op, pc);
      emit(addr);
      emit(value);
      emit(exact[pc + 1]);
      lastDstPos = -1;
      pc = next;
      continue;
    }
    if (op === 0x1b) {
      const a = use(h - 3, pc), b = use(h - 2, pc), c = use(h - 1, pc);
      startInstr(FastOp.select, pc);
      emitResult(h - 3);
      emit(a); emit(b); emit(c);
      pushSlot(h - 3);
      pc = next;
      continue;
    }
    if (op === 0x23) {
      startInstr(FastOp.globalGet, pc);
      emitResult(h);
      emit(exact[pc + 1]);
      pushSlot(h);
      pc = next;
      continue;
    }
    if (op === 0x24) {
      const src = use(h - 1, pc);
      startInstr(FastOp.globalSet, pc);
      emit(exact[pc + 1]);
      emit(src);
      lastDstPos = -1;
      pc = next;
      continue;
    }

    // A conditional branch reads its condition where it is (a local, most often), so
    // that `local.get x; br_if` costs no copy.
    if (op === IrOp.brIfJump || op === IrOp.if || op === IrOp.brIf || op === IrOp.brIfReturn) {
      const cond = use(h - 1, pc);
      materializeAll(h - 1, pc);
      lastDstPos = -1;
      if (op === IrOp.brIfJump || op === IrOp.if) {
        startInstr(op === IrOp.if ? FastOp.brZ : FastOp.brNz, pc);
        emit(cond);
        emitTarget(exact[pc + 1]);
      } else if (op === IrOp.brIf) {
        const base = exact[pc + 2], arity = exact[pc + 3];
        startInstr(FastOp.brZ, pc);
        emit(cond);
        emitTarget(next);
        emitFreeFuel(pc);
        for (let i = 0; i < arity; i++) {
          const from = S(h - 1 - arity + i), to = 2 * (base + i);
          if (from !== to) { startInstr(FastOp.copy, pc); emit(to); emit(from); }
        }
        startInstr(FastOp.jump, pc);
        emitTarget(exact[pc + 1]);
      } else {
        const arity = exact[pc + 1];
        startInstr(FastOp.brZ, pc);
        emit(cond);
        emitTarget(next);
        emitFreeFuel(pc);
        startInstr(FastOp.return, pc);
        emit(arity);
        emit(S(h - 1 - arity));
      }
      const after = next < n ? fn.heights[next] : 0;
      for (let i = 0; i < after; i++) kind[i] = Kind.slot;
      pc = next;
      continue;
    }

    // Everything below ends a block or is rare: all values go to their slots first
    // (but a br_table reads its index where it is).
    const indexAt = op === IrOp.brTable ? use(h - 1, pc) : 0;
    materializeAll(op === IrOp.brTable ? h - 1 : h, pc);
    lastDstPos = -1;
    switch (op) {
      case IrOp.jump:
        startInstr(FastOp.jump, pc);
        emitTarget(exact[pc + 1]);
        break;
      case IrOp.br: {
        const base = exact[pc + 2], arity = exact[pc + 3];
        for (let i = 0; i < arity; i++) {
          const from = S(h - arity + i), to = 2 * (base + i);
          if (from !== to) { startInstr(FastOp.copy, pc); emit(to); emit(from); }
        }
        startInstr(FastOp.jump, pc);
        emitTarget(exact[pc + 1]);
        break;
      }
      case IrOp.return:
        startInstr(FastOp.return, pc);
        emit(exact[pc + 1]);
        emit(S(h - exact[pc + 1]));
        break;
      case IrOp.brTable: {
        const count = exact[pc + 1];
        startInstr(FastOp.brTable, pc);
        emit(indexAt);
        emit(count);
        const slots = length;
        for (let i = 0; i <= count; i++) emit(-1);
        // An entry without value moves goes straight to its target's fuel instruction;
        // the others get a stub (a free fuel instruction, the moves, then the jump or the
        // return), so that every entry starts with a fuel instruction for br_table to charge.
        for (let i = 0; i <= count; i++) {
          const e = pc + 2 + 3 * i;
          const target = exact[e], base = exact[e + 1], arity = exact[e + 2];
          let moves = false;
          for (let j = 0; j < arity; j++) if (S(h - 1 - arity + j) !== 2 * (base + j)) moves = true;
          if (target !== -2 && !moves) {
            pcPatches.push(slots + i);
            code[slots + i] = target;
            continue;
          }
          code[slots + i] = length;
          emitFreeFuel(pc);
          if (target === -2) {
            startInstr(FastOp.return, pc);
            emit(arity);
            emit(S(h - 1 - arity));
            continue;
          }
          for (let j = 0; j < arity; j++) {
            const from = S(h - 1 - arity + j), to = 2 * (base + j);
            if (from !== to) { startInstr(FastOp.copy, pc); emit(to); emit(from); }
          }
          startInstr(FastOp.jump, pc);
          emitTarget(target);
        }
        break;
      }
      case 0x10: {
        const funcIndex = exact[pc + 1];
        startInstr(FastOp.call, pc);
        emit(funcIndex);
        emit(S(h - sigs.funcParams[funcIndex]));
        emit(next);
        break;
      }
      case 0x11: {
        const typeIndex = exact[pc + 1];
        startInstr(FastOp.callIndirect, pc);
        emit(typeIndex);
        emit(exact[pc + 2]);
        emit(S(h - 1));
        emit(S(h - 1 - sigs.typeParams[typeIndex]));
        emit(next);
        break;
      }
      case 0x00:
        startInstr(FastOp.unreachable, pc);
        break;
      default: {
        // Rare instructions (memory.grow, bulk memory, tables, references) run in the exact code.
        startInstr(FastOp.exact1, pc);
        emit(pc);
        emit(L + h);
        break;
      }
    }
    // Results of calls and rare instructions are in their slots.
    const after = next < n ? fn.heights[next] : 0;
    for (let i = 0; i < after; i++) kind[i] = Kind.slot;
    pc = next;
  }
  const fuelAt = (exactTarget: number): number => {
    const target = fastPcAt[exactTarget];
    if (target < 0 || code[target] !== FastOp.fuel) throw new Error(`internal error: fast code branch to exact pc ${exactTarget} without a block`);
    return target;
  };
  for (const p of patches) {
    const target = fuelAt(code[p]);
    code[p] = target;
    code[p + 1] = code[target + 1];
  }
  for (const p of pcPatches) code[p] = fuelAt(code[p]);

  // Pass 3: fusion, longest match first. The parts lie in one block: a block starts with
  // its fuel instruction, every way into the code (branches, returns, `runSlowOp`) leads
  // to the start of an instruction that is not a later part, and no part is a fuel.
  for (let p = 0; p < length;) {
    const q = p + fastLength(code, p);
    if (q >= length) break;
    const r = q + fastLength(code, q);
    const triple = r < length ? FUSED_TRIPLE.get((code[p] * 0x400 + code[q]) * 0x400 + code[r]) : undefined;
    if (triple !== undefined) {
      code[p] = triple;
      p = r + fastLength(code, r);
      continue;
    }
    const pair = FUSED_PAIR.get(code[p] * 0x400 + code[q]);
    if (pair !== undefined) {
      code[p] = pair;
      p = r;
      continue;
    }
    p = q;
  }

  const exactPcAt = new Int32Array(length).fill(-1);
  exactAt.forEach((e, i) => { exactPcAt[i] = e; });
  return { code: code.slice(0, length), fastPcAt, exactPcAt, toBlockEnd };
}
