import { OPS } from '../wasm/index.ts';
import { findBasicBlocks } from './basic-blocks.ts';
import type { BasicBlocks } from './basic-blocks.ts';
import type { CompiledFunction } from './compiled-function.ts';
import { FastCodeBuffer } from './fast-code-buffer.ts';
import { fuseInstructions } from './fast-fusion.ts';
import { FastOp } from './fast-ir.ts';
import type { FastFunction } from './fast-ir.ts';
import { IrOp, irLength, isThrow } from './ir.ts';
import { Kind, LazyOperands } from './lazy-operands.ts';

const COMPARE_FIRST = 0x46;
const COMPARE_LAST = 0x4f;
/** i32 comparison that is true exactly when the given one is false. */
const NEGATED: Record<number, number> = { 0x46: 0x47, 0x47: 0x46, 0x48: 0x4e, 0x4e: 0x48, 0x49: 0x4f, 0x4f: 0x49, 0x4a: 0x4c, 0x4c: 0x4a, 0x4b: 0x4d, 0x4d: 0x4b };
/** i32 binary operations that have an immediate form. */
const HAS_IMMEDIATE = new Set([0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x6a, 0x6b, 0x6c, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76]);

/** Function signatures the translators need for calls: parameter and result slot counts. */
export interface CallSignatures {
  /** By function index (imports included). */
  funcParams: Int32Array;
  /** By type index. */
  typeParams: Int32Array;
  /** Result slot counts, by function index and by type index. */
  funcResults: Int32Array;
  typeResults: Int32Array;
}

/**
 * Translates a function's exact code into fast code (see `fast-ir.ts`). Runs lazily,
 * the first time the function executes on the fast path.
 */
export function translateFast(fn: CompiledFunction, sigs: CallSignatures): FastFunction {
  return new FastTranslator(fn, sigs).translate();
}

/** `cf`'s fast code, translated now if it has not been yet (kept on `cf`). */
export function fastCode(cf: CompiledFunction): FastFunction {
  return cf.fast ?? (cf.fast = translateFast(cf, cf.sigs));
}

/**
 * One translation of exact code into fast code, in three passes: the basic blocks
 * (basic-blocks.ts), one walk over the exact code that writes the fast code while it
 * keeps locals and constants lazy (lazy-operands.ts), and the fusion of neighbouring
 * instructions (fast-fusion.ts).
 */
export class FastTranslator {
  private readonly exact: Int32Array;
  private readonly blocks: BasicBlocks;
  private readonly out: FastCodeBuffer;
  private readonly stack: LazyOperands;
  /** Fast pc of the block starting at each exact pc; -1 where no block starts. */
  private readonly fastPcAt: Int32Array;
  /** The exact pc of the instruction translated before the current one. */
  private prevPc = 0;

  constructor(private readonly fn: CompiledFunction, private readonly sigs: CallSignatures) {
    this.exact = fn.code;
    const n = this.exact.length;
    this.blocks = findBasicBlocks(this.exact, fn.handlers?.landings);
    this.out = new FastCodeBuffer(Math.max(64, n * 2));
    this.stack = new LazyOperands(this.out, fn.numLocals);
    this.fastPcAt = new Int32Array(n + 1).fill(-1);
  }

  translate(): FastFunction {
    const n = this.exact.length;
    for (let pc = 0; pc < n;) {
      if (this.blocks.boundary[pc]) this.startBlock(pc);
      this.prevPc = pc;
      pc = this.instruction(pc);
    }
    this.out.resolveTargets(this.fastPcAt);
    fuseInstructions(this.out.code, this.out.length);
    return { code: this.out.code.slice(0, this.out.length), fastPcAt: this.fastPcAt, exactPcAt: this.out.exactPcs(), toBlockEnd: this.blocks.toBlockEnd, js: null, heat: 0 };
  }

  /**
   * A block starts: everything must be in its slot. A block that falls through into this
   * one may still hold lazy values; a block that ended with a branch has materialized
   * them already. Its fuel instruction charges the block's instruction count.
   */
  private startBlock(pc: number): void {
    const exact = this.exact;
    const height = this.fn.heights[pc];
    if (pc > 0) this.stack.materializeAll(height, this.prevPc);
    this.stack.settle(height);
    this.fastPcAt[pc] = this.out.length;
    this.out.start(FastOp.fuel, pc);
    let cost = 0;
    for (let p = pc, c = this.blocks.toBlockEnd[pc]; c > 0; c--, p += irLength(exact, p)) cost++;
    this.out.emit(cost);
    this.out.emit(pc);
    this.stack.lastDstPos = -1;
  }

  /** Translates the exact instruction at `pc`; returns the exact pc to go on from. */
  private instruction(pc: number): number {
    const exact = this.exact;
    const stack = this.stack;
    const op = exact[pc];
    const h = this.fn.heights[pc];
    const next = pc + irLength(exact, pc);
    switch (op) {
      case 0x20: stack.setLocal(h, exact[pc + 1]); return next;
      case 0x41: case 0x43: stack.setConst32(h, exact[pc + 1]); return next;
      case 0x42: case 0x44: stack.setConst64(h, exact[pc + 1], exact[pc + 2]); return next;
      case 0x01: return next;
      case 0x1a: return next; // drop: the slot is simply no longer looked at
      case 0x21: case 0x22: this.localSet(pc, op === 0x22, h); return next;
    }
    // Does the next instruction continue this block (so that fusing with it is allowed)?
    const fusable = next < exact.length && !this.blocks.boundary[next];
    if (fusable && ((op >= COMPARE_FIRST && op <= COMPARE_LAST) || op === 0x45)) {
      const branch = exact[next];
      if (branch === IrOp.brIfJump || branch === IrOp.if) {
        this.compareAndBranch(pc, op, h, branch === IrOp.brIfJump, exact[next + 1]);
        return next + irLength(exact, next);
      }
    }
    const sig = OPS[op]?.sig;
    // Numeric instructions: 0x45..0xc4 and the saturating truncations 0x100..0x107.
    if (sig !== undefined && ((op >= 0x45 && op <= 0xc4) || (op >= 0x100 && op <= 0x107))) this.numeric(pc, op, h);
    else if (op >= 0x28 && op <= 0x35) this.load(pc, op, h);
    else if (op >= 0x36 && op <= 0x3e) this.store(pc, op, h);
    else if (op === 0x1b) this.select(pc, h);
    else if (op === 0x23) this.globalGet(pc, h);
    else if (op === 0x24) this.globalSet(pc, h);
    else if (op === IrOp.brIfJump || op === IrOp.if || op === IrOp.brIf || op === IrOp.brIfReturn) this.conditionalBranch(pc, op, h, next);
    else if (op === IrOp.otherMemory) this.blockEnd(pc, op, h, next); // a second memory: rare, run by the exact code
    else if (op === IrOp.memory64 || op === IrOp.table64) this.blockEnd(pc, op, h, next); // 64-bit memories and tables: the exact code
    else if (isThrow(op)) this.blockEnd(pc, op, h, next);
    else if (op >= 0x200) this.simd(pc, h, next);
    else this.blockEnd(pc, op, h, next);
    return next;
  }

  /** `local.set` / `local.tee`: retargets the producer when it can, else a copy or a constant into the local. */
  private localSet(pc: number, tee: boolean, h: number): void {
    const stack = this.stack;
    const out = this.out;
    const local = this.exact[pc + 1];
    const top = h - 1;
    let pending = false;
    for (let i = 0; i < top; i++) if (stack.isLocal(i, local)) { pending = true; break; }
    if (stack.isLocal(top, local)) {
      // local.set x of local.get x: nothing to do.
    } else if (!pending && stack.kind[top] === Kind.slot && stack.lastDstPos >= 0 && stack.lastDstHeight === top) {
      out.code[stack.lastDstPos] = 2 * local; // the producer writes straight into the local
    } else {
      for (let i = 0; i < top; i++) if (stack.isLocal(i, local)) stack.materialize(i, pc);
      if (stack.kind[top] === Kind.const32) { out.start(FastOp.const32, pc); out.emit(2 * local); out.emit(stack.a[top]); }
      else if (stack.kind[top] === Kind.const64) { out.start(FastOp.const64, pc); out.emit(2 * local); out.emit(stack.a[top]); out.emit(stack.b[top]); }
      else { const src = stack.use(top, pc); out.start(FastOp.copy, pc); out.emit(2 * local); out.emit(src); }
    }
    stack.lastDstPos = -1;
    if (tee) stack.setLocal(top, local);
  }

  /** An i32 comparison (or eqz) followed by `br_if` or `if`: one compare-and-branch instruction. */
  private compareAndBranch(pc: number, op: number, h: number, whenTrue: boolean, exactTarget: number): void {
    const stack = this.stack;
    const out = this.out;
    const operands = op === 0x45 ? 1 : 2;
    stack.materializeAll(h - operands, pc);
    if (op === 0x45) {
      const a = stack.use(h - 1, pc);
      out.start(whenTrue ? FastOp.brZ : FastOp.brNz, pc);
      out.emit(a);
    } else if (stack.kind[h - 1] === Kind.const32) {
      const a = stack.use(h - 2, pc);
      const cmp = whenTrue ? op : NEGATED[op];
      out.start(FastOp.brCmpImmBase + (cmp - COMPARE_FIRST), pc);
      out.emit(a);
      out.emit(stack.a[h - 1]);
    } else {
      const a = stack.use(h - 2, pc);
      const b = stack.use(h - 1, pc);
      const cmp = whenTrue ? op : NEGATED[op];
      out.start(FastOp.brCmpBase + (cmp - COMPARE_FIRST), pc);
      out.emit(a);
      out.emit(b);
    }
    out.target(exactTarget);
    stack.lastDstPos = -1;
  }

  /** A numeric instruction: `[op, dst, a, b]`, `[op, dst, a, imm]` or `[op, dst, a]`. */
  private numeric(pc: number, op: number, h: number): void {
    const stack = this.stack;
    const out = this.out;
    if (OPS[op]!.pops === 2) {
      if (HAS_IMMEDIATE.has(op) && stack.kind[h - 1] === Kind.const32) {
        const a = stack.use(h - 2, pc);
        out.start(FastOp.immediate + op, pc);
        stack.emitResult(h - 2);
        out.emit(a);
        out.emit(stack.a[h - 1]);
      } else {
        const a = stack.use(h - 2, pc);
        const b = stack.use(h - 1, pc);
        out.start(op, pc);
        stack.emitResult(h - 2);
        out.emit(a);
        out.emit(b);
      }
      stack.pushSlot(h - 2);
    } else {
      const a = stack.use(h - 1, pc);
      out.start(op, pc);
      stack.emitResult(h - 1);
      out.emit(a);
      stack.pushSlot(h - 1);
    }
  }

  /** `[op, dst, addr, offset]` */
  private load(pc: number, op: number, h: number): void {
    const addr = this.stack.use(h - 1, pc);
    this.out.start(op, pc);
    this.stack.emitResult(h - 1);
    this.out.emit(addr);
    this.out.emit(this.exact[pc + 1]);
    this.stack.pushSlot(h - 1);
  }

  /** `[op, addr, value, offset]` */
  private store(pc: number, op: number, h: number): void {
    const addr = this.stack.use(h - 2, pc);
    const value = this.stack.use(h - 1, pc);
    this.out.start(op, pc);
    this.out.emit(addr);
    this.out.emit(value);
    this.out.emit(this.exact[pc + 1]);
    this.stack.lastDstPos = -1;
  }

  private select(pc: number, h: number): void {
    const stack = this.stack;
    const a = stack.use(h - 3, pc), b = stack.use(h - 2, pc), c = stack.use(h - 1, pc);
    this.out.start(FastOp.select, pc);
    stack.emitResult(h - 3);
    this.out.emit(a); this.out.emit(b); this.out.emit(c);
    stack.pushSlot(h - 3);
  }

  private globalGet(pc: number, h: number): void {
    this.out.start(FastOp.globalGet, pc);
    this.stack.emitResult(h);
    this.out.emit(this.exact[pc + 1]);
    this.stack.pushSlot(h);
  }

  private globalSet(pc: number, h: number): void {
    const src = this.stack.use(h - 1, pc);
    this.out.start(FastOp.globalSet, pc);
    this.out.emit(this.exact[pc + 1]);
    this.out.emit(src);
    this.stack.lastDstPos = -1;
  }

  /**
   * A SIMD instruction or a v128 move (0x200 and up): its operands go to their slots, the
   * run loop applies the exact code's semantics there, and its result stays in its slot.
   */
  private simd(pc: number, h: number, next: number): void {
    this.stack.materializeAll(h, pc);
    this.stack.lastDstPos = -1;
    this.out.start(FastOp.simd, pc);
    this.out.emit(pc);
    this.out.emit(this.fn.numLocals + h);
    this.settleAfter(next);
  }

  /** Copies `arity` values from the slots below height `from` to the label's slots at `base`. */
  private moveValues(pc: number, arity: number, from: number, base: number): void {
    for (let i = 0; i < arity; i++) {
      const src = this.stack.slot(from - arity + i), to = 2 * (base + i);
      if (src !== to) { this.out.start(FastOp.copy, pc); this.out.emit(to); this.out.emit(src); }
    }
  }

  /**
   * `br_if`, `if`: the branch reads its condition where it is (a local, most often), so
   * that `local.get x; br_if` costs no copy. A branch that moves values or returns goes
   * over a stub: a free fuel instruction, the moves, then the jump or the return.
   */
  private conditionalBranch(pc: number, op: number, h: number, next: number): void {
    const exact = this.exact;
    const stack = this.stack;
    const out = this.out;
    const cond = stack.use(h - 1, pc);
    stack.materializeAll(h - 1, pc);
    stack.lastDstPos = -1;
    if (op === IrOp.brIfJump || op === IrOp.if) {
      out.start(op === IrOp.if ? FastOp.brZ : FastOp.brNz, pc);
      out.emit(cond);
      out.target(exact[pc + 1]);
    } else if (op === IrOp.brIf) {
      const base = exact[pc + 2], arity = exact[pc + 3];
      out.start(FastOp.brZ, pc);
      out.emit(cond);
      out.target(next);
      out.freeFuel(pc);
      this.moveValues(pc, arity, h - 1, base);
      out.start(FastOp.jump, pc);
      out.target(exact[pc + 1]);
    } else {
      const arity = exact[pc + 1];
      out.start(FastOp.brZ, pc);
      out.emit(cond);
      out.target(next);
      out.freeFuel(pc);
      out.start(FastOp.return, pc);
      out.emit(arity);
      out.emit(stack.slot(h - 1 - arity));
    }
    this.settleAfter(next);
  }

  /**
   * Everything else ends a block or is rare: all values go to their slots first (but a
   * br_table reads its index where it is).
   */
  private blockEnd(pc: number, op: number, h: number, next: number): void {
    const exact = this.exact;
    const stack = this.stack;
    const out = this.out;
    const indexAt = op === IrOp.brTable ? stack.use(h - 1, pc) : 0;
    stack.materializeAll(op === IrOp.brTable ? h - 1 : h, pc);
    stack.lastDstPos = -1;
    switch (op) {
      case IrOp.jump:
        out.start(FastOp.jump, pc);
        out.target(exact[pc + 1]);
        break;
      case IrOp.br:
        this.moveValues(pc, exact[pc + 3], h, exact[pc + 2]);
        out.start(FastOp.jump, pc);
        out.target(exact[pc + 1]);
        break;
      case IrOp.return:
        out.start(FastOp.return, pc);
        out.emit(exact[pc + 1]);
        out.emit(stack.slot(h - exact[pc + 1]));
        break;
      case IrOp.brTable:
        this.brTable(pc, h, indexAt);
        break;
      case 0x10: {
        const funcIndex = exact[pc + 1];
        out.start(FastOp.call, pc);
        out.emit(funcIndex);
        out.emit(stack.slot(h - this.sigs.funcParams[funcIndex]));
        out.emit(next);
        break;
      }
      case 0x11: {
        const typeIndex = exact[pc + 1];
        out.start(FastOp.callIndirect, pc);
        out.emit(typeIndex);
        out.emit(exact[pc + 2]);
        out.emit(stack.slot(h - 1));
        out.emit(stack.slot(h - 1 - this.sigs.typeParams[typeIndex]));
        out.emit(next);
        break;
      }
      // Tail calls, and (Wasm 3.0) call_ref and the null branches: one exact instruction that
      // moves the thread (another function, a return, a branch), after which the loop goes
      // on wherever it stands (`run-fast.ts`, `runTailCall`).
      case 0x12: case 0x13: case 0x14: case 0x15:
      case IrOp.brOnNull: case IrOp.brOnNonNull: case IrOp.brOnNullReturn: case IrOp.brOnNonNullReturn:
        out.start(FastOp.tailCall, pc);
        out.emit(pc);
        out.emit(this.fn.numLocals + h);
        break;
      case 0x00:
        out.start(FastOp.unreachable, pc);
        break;
      case IrOp.table64:
        // call_indirect through a 64-bit table moves the thread, as call_ref does.
        out.start(exact[pc + 2] === 0x11 || exact[pc + 2] === 0x13 ? FastOp.tailCall : FastOp.exact1, pc);
        out.emit(pc);
        out.emit(this.fn.numLocals + h);
        break;
      case IrOp.throw: case IrOp.throwRef: case IrOp.rethrow: case IrOp.catchEnd:
        out.start(FastOp.leave, pc);
        out.emit(pc);
        out.emit(this.fn.numLocals + h);
        break;
      default:
        // Rare instructions (memory.grow, bulk memory, tables, references) run in the exact code.
        out.start(FastOp.exact1, pc);
        out.emit(pc);
        out.emit(this.fn.numLocals + h);
        break;
    }
    // Results of calls and rare instructions are in their slots.
    this.settleAfter(next);
  }

  /**
   * An entry without value moves goes straight to its target's fuel instruction; the
   * others get a stub (a free fuel instruction, the moves, then the jump or the return),
   * so that every entry starts with a fuel instruction for br_table to charge.
   */
  private brTable(pc: number, h: number, indexAt: number): void {
    const exact = this.exact;
    const stack = this.stack;
    const out = this.out;
    const count = exact[pc + 1];
    out.start(FastOp.brTable, pc);
    out.emit(indexAt);
    out.emit(count);
    const slots = out.length;
    for (let i = 0; i <= count; i++) out.emit(-1);
    for (let i = 0; i <= count; i++) {
      const e = pc + 2 + 3 * i;
      const target = exact[e], base = exact[e + 1], arity = exact[e + 2];
      let moves = false;
      for (let j = 0; j < arity; j++) if (stack.slot(h - 1 - arity + j) !== 2 * (base + j)) moves = true;
      if (target !== -2 && !moves) {
        out.entry(slots + i, target);
        continue;
      }
      out.code[slots + i] = out.length;
      out.freeFuel(pc);
      if (target === -2) {
        out.start(FastOp.return, pc);
        out.emit(arity);
        out.emit(stack.slot(h - 1 - arity));
        continue;
      }
      this.moveValues(pc, arity, h - 1, base);
      out.start(FastOp.jump, pc);
      out.target(target);
    }
  }

  /** After a branch, a call or a rare instruction, every value of the next instruction's stack is in its slot. */
  private settleAfter(next: number): void {
    this.stack.settle(next < this.exact.length ? this.fn.heights[next] : 0);
  }
}
