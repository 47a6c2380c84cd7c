import type { Instr } from '../binary/index.ts';
import { walkBody } from '../validate/index.ts';
import type { ModuleContext } from '../validate/index.ts';
import { Imm, OPS, slotCount, slotOffsets, ValType } from '../wasm/index.ts';
import { ClauseKind, IrOp } from './ir.ts';
import type { ExactCode } from './ir.ts';
import { HandlerBuilder } from './handlers.ts';
import { CodeLiveness } from './liveness.ts';
import type { CallSignatures } from './translate-fast.ts';

/** Parameter and result slot counts by function index and by type index, for the fast translator and its JavaScript tier. */
export function callSignatures(ctx: ModuleContext): CallSignatures {
  return {
    funcParams: Int32Array.from(ctx.funcTypeIndices, (t) => slotCount(ctx.types[t].params)),
    typeParams: Int32Array.from(ctx.types, (t) => slotCount(t.params)),
    funcResults: Int32Array.from(ctx.funcTypeIndices, (t) => slotCount(ctx.types[t].results)),
    typeResults: Int32Array.from(ctx.types, (t) => slotCount(t.results)),
  };
}

/**
 * The memories a memory instruction names when any is not memory 0 (it then takes the
 * `IrOp.otherMemory` form): [memory, memory.copy's source or 0]; undefined otherwise.
 */
function otherMemories(imm: number, ins: Instr): [number, number] | undefined {
  switch (imm) {
    case Imm.memArg: case Imm.memArgLane: return ins.mem !== 0 ? [ins.mem, 0] : undefined;
    case Imm.memIndex: return ins.a !== 0 ? [ins.a, 0] : undefined;
    case Imm.dataMem: return ins.b !== 0 ? [ins.b, 0] : undefined;
    case Imm.memMem: return ins.a !== 0 || ins.b !== 0 ? [ins.a, ins.b] : undefined;
    default: return undefined;
  }
}

/** The memories a memory instruction names: [memory, memory.copy's source or 0]; undefined for other instructions. */
function memoriesOf(imm: number, ins: Instr): [number, number] | undefined {
  switch (imm) {
    case Imm.memArg: case Imm.memArgLane: return [ins.mem, 0];
    case Imm.memIndex: return [ins.a, 0];
    case Imm.dataMem: return [ins.b, 0];
    case Imm.memMem: return [ins.a, ins.b];
    default: return undefined;
  }
}

/** Bits 0..2 of a `table64` mask: the operand at that depth below the top is i64. */
const TOP = 1, SECOND = 2, THIRD = 4;

/**
 * The `IrOp.table64` mask of a table instruction (call_indirect included) that names a
 * 64-bit table (Wasm 3.0 table64): which of its operands are i64; 0 when none is (the
 * plain form). A copy between a 32- and a 64-bit table has an i32 length.
 */
function table64Mask(op: number, ins: Instr, ctx: ModuleContext): number {
  const is64 = (table: number): boolean => ctx.tables[table]?.limits.index64 === true;
  switch (op) {
    case 0x25: return is64(ins.a) ? TOP : 0; // table.get: index
    case 0x26: return is64(ins.a) ? SECOND : 0; // table.set: index, value
    case 0x11: case 0x13: return is64(ins.b) ? TOP : 0; // call_indirect: ..., index
    case 0x10c: return is64(ins.b) ? THIRD : 0; // table.init: d, s, n
    case 0x10e: return (is64(ins.a) ? THIRD : 0) | (is64(ins.b) ? SECOND : 0) | (is64(ins.a) && is64(ins.b) ? TOP : 0);
    case 0x10f: return is64(ins.a) ? TOP : 0; // table.grow: value, delta
    case 0x110: return is64(ins.a) ? TOP : 0; // table.size: (the result)
    case 0x111: return is64(ins.a) ? THIRD | TOP : 0; // table.fill: i, value, n
    default: return 0;
  }
}

/** 2^53: a memory64 offset at least this large is out of bounds of any memory; it is kept as this. */
const OFFSET_CAP = 2 ** 53;

/** The translator's own control stack entry (it never reads the validator's frames). */
interface Block {
  opcode: number;
  /** Slot offset from fp where the block's label values go. */
  base: number;
  /** Slots of the values a branch to this label carries. */
  arity: number;
  /** Internal pc of a loop's first instruction. */
  loopStart: number;
  /** Positions in the code holding forward branch targets to patch at `end`. */
  patches: number[];
  /** Position of an `if`'s else-target operand, until `else` or `end` resolves it. */
  elsePatch: number;
  /** Was the block's own instruction live ({@link CodeLiveness})? Dead blocks emit nothing. */
  live: boolean;
  /** The innermost handler record in force inside the block (-1: none; see `handlers.ts`). */
  scope: number;
  /** A try_table's or legacy try's own handler record; -1 for other blocks. */
  tryRecord: number;
  /** Catch clauses that go to this block's end, their targets patched there. */
  clausePatches: number[];
}

/** Growable Int32 buffer for emitting code without per-instruction allocation. */
class CodeBuffer {
  code = new Int32Array(256);
  offsets = new Int32Array(256);
  heights = new Int32Array(256);
  length = 0;
  /** Operand stack height before the instruction being translated. */
  height = 0;
  emit(value: number): void {
    if (this.length === this.code.length) this.grow();
    this.offsets[this.length] = -1;
    this.heights[this.length] = -1;
    this.code[this.length++] = value;
  }
  /** Starts an instruction: records where it came from in the original binary. */
  start(op: number, originalOffset: number): void {
    if (this.length === this.code.length) this.grow();
    this.offsets[this.length] = originalOffset;
    this.heights[this.length] = this.height;
    this.code[this.length++] = op;
  }
  private grow(): void {
    const code = new Int32Array(this.code.length * 2);
    code.set(this.code);
    this.code = code;
    const offsets = new Int32Array(this.offsets.length * 2);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const heights = new Int32Array(this.heights.length * 2);
    heights.set(this.heights);
    this.heights = heights;
  }
}

/**
 * Validates and translates one function body in a single walk. The validator says
 * what is well-typed and how deep the operand stack is; the translator turns that
 * into jumps with resolved targets and static stack offsets.
 */
export function translateExact(ctx: ModuleContext, codeIndex: number): ExactCode {
  const module = ctx.module;
  const body = module.codes[codeIndex];
  const type = ctx.types[module.funcs[codeIndex]];
  const localTypes = [...type.params, ...body.locals];
  /** Slot offset of each local from fp; the locals take `numLocals` slots. */
  const localSlot = slotOffsets(localTypes);
  const numLocals = slotCount(localTypes);
  const out = new CodeBuffer();
  const blocks: Block[] = [{ opcode: -1, base: numLocals, arity: slotCount(type.results), loopStart: 0, patches: [], elsePatch: -1, live: true, scope: -1, tryRecord: -1, clausePatches: [] }];
  const liveness = new CodeLiveness();
  const handlers = new HandlerBuilder();

  /** Adds a catch clause going to the label `depth` levels out (a try_table's clauses name labels outside it). */
  const addClause = (record: number, kind: number, tag: number, depth: number, slots: number): void => {
    const target = blocks[blocks.length - 1 - depth];
    const clause = handlers.clause(record, kind, tag, target.opcode === -1 ? -2 : target.opcode === 0x03 ? target.loopStart : -1, target.base, slots);
    if (target.opcode !== -1 && target.opcode !== 0x03) target.clausePatches.push(clause);
  };

  /** Emits a branch to the label `depth` levels out, from stack height `height`. */
  const emitBranch = (depth: number, height: number, offset: number, conditional: boolean): void => {
    const target = blocks[blocks.length - 1 - depth];
    if (target.opcode === -1) {
      // A branch to the function's own label is a return.
      if (conditional) {
        out.start(IrOp.brIfReturn, offset);
        out.emit(target.arity);
        return;
      }
      out.start(IrOp.return, offset);
      out.emit(target.arity);
      return;
    }
    const arity = target.arity;
    const needsMove = numLocals + height - arity !== target.base;
    if (needsMove) {
      out.start(conditional ? IrOp.brIf : IrOp.br, offset);
    } else {
      out.start(conditional ? IrOp.brIfJump : IrOp.jump, offset);
    }
    pushTarget(target);
    if (needsMove) {
      out.emit(target.base);
      out.emit(arity);
    }
  };

  const pushTarget = (target: Block): void => {
    if (target.opcode === 0x03) out.emit(target.loopStart);
    else {
      target.patches.push(out.length);
      out.emit(-1);
    }
  };

  // The validator's state before each instruction: its stack height in slots, whether
  // code is emitted, and the type an operand-typed move (drop, select) works on.
  let heightBefore = 0;
  let live = false;
  let operandType = 0;
  const validator = walkBody(ctx, codeIndex, {
    before: (ins, v) => {
      heightBefore = v.slotHeight;
      out.height = heightBefore;
      live = liveness.before(v);
      if (ins.op === 0x1a) operandType = v.vals[v.vals.length - 1];
      else if (ins.op === 0x1b || ins.op === 0x1c) operandType = v.vals[v.vals.length - 2];
    },
    after: (ins, v) => {
      liveness.after(ins);
      const op = ins.op;
      const offset = ins.offset;

      switch (op) {
        case 0x02: case 0x03: case 0x04: case 0x06: case 0x1f: {
          const bt = v.blockType(ins.a, offset);
          const params = slotCount(bt.params);
          const outer = blocks[blocks.length - 1];
          const block: Block = {
            opcode: op,
            base: numLocals + heightBefore - params - (op === 0x04 ? 1 : 0),
            arity: op === 0x03 ? params : slotCount(bt.results),
            loopStart: out.length,
            patches: [],
            elsePatch: -1,
            live,
            scope: outer.scope,
            tryRecord: -1,
            clausePatches: [],
          };
          if (op === 0x04 && live) {
            out.start(IrOp.if, offset);
            block.elsePatch = out.length;
            out.emit(-1);
          }
          if ((op === 0x06 || op === 0x1f) && live) {
            // The protected code starts here; a try_table's clauses name labels outside it.
            block.tryRecord = handlers.open(out.length, outer.scope);
            block.scope = block.tryRecord;
            for (let i = 0; op === 0x1f && i < ins.b; i++) {
              const kind = ins.targets[3 * i];
              const tag = kind < 2 ? ins.targets[3 * i + 1] : -1;
              let slots = kind < 2 ? slotCount(v.tagParams(tag, offset)) : 0;
              if (kind === ClauseKind.catchRef || kind === ClauseKind.catchAllRef) slots++;
              addClause(block.tryRecord, kind, tag, ins.targets[3 * i + 2], slots);
            }
          }
          blocks.push(block);
          return;
        }
        case 0x07: case 0x19: {
          // Legacy catch / catch_all: the protected code ends; what the try part leaves
          // goes to the end, as after an if's then-branch, and a previous catch's body
          // leaves its results above its exnref, so they move down.
          const block = blocks[blocks.length - 1];
          if (block.live) {
            if (live) {
              if (block.opcode === 0x06) out.start(IrOp.jump, offset);
              else out.start(IrOp.catchEnd, offset);
              block.patches.push(out.length);
              out.emit(-1);
              if (block.opcode !== 0x06) { out.emit(block.base); out.emit(block.arity); }
            }
            if (block.opcode === 0x06) handlers.close(block.tryRecord, out.length);
            const tag = op === 0x07 ? ins.a : -1;
            const slots = 1 + (op === 0x07 ? slotCount(v.tagParams(tag, offset)) : 0);
            handlers.clause(block.tryRecord, op === 0x07 ? ClauseKind.legacyCatch : ClauseKind.legacyCatchAll, tag, out.length, block.base, slots);
            // The catch bodies are outside the protected code.
            block.scope = handlers.next(block.tryRecord);
          }
          block.opcode = op;
          return;
        }
        case 0x18: {
          // delegate: the protected code ends; what it throws goes to the handlers in force at the label.
          const block = blocks.pop()!;
          if (block.live) {
            handlers.close(block.tryRecord, out.length);
            handlers.delegate(block.tryRecord, blocks[blocks.length - 1 - ins.a].scope);
            const here = out.length;
            for (const p of block.patches) out.code[p] = here;
            for (const c of block.clausePatches) handlers.setTarget(c, here);
          }
          return;
        }
        case 0x05: {
          const block = blocks[blocks.length - 1];
          if (block.live) {
            if (live) {
              // End of the then-branch: jump over the else-branch.
              out.start(IrOp.jump, offset);
              block.patches.push(out.length);
              out.emit(-1);
            }
            out.code[block.elsePatch] = out.length;
            block.elsePatch = -1;
          }
          return;
        }
        case 0x0b: {
          const block = blocks.pop()!;
          if (block.opcode === -1) {
            out.start(IrOp.return, offset);
            out.emit(block.arity);
            return;
          }
          if (block.live) {
            if ((block.opcode === 0x07 || block.opcode === 0x19) && live) {
              // The end of a legacy catch body: its results move down over its exnref.
              out.start(IrOp.catchEnd, offset);
              block.patches.push(out.length);
              out.emit(-1);
              out.emit(block.base);
              out.emit(block.arity);
            }
            if (block.opcode === 0x06 || block.opcode === 0x1f) handlers.close(block.tryRecord, out.length);
            const here = out.length;
            if (block.elsePatch >= 0) out.code[block.elsePatch] = here;
            for (const p of block.patches) out.code[p] = here;
            for (const c of block.clausePatches) handlers.setTarget(c, here);
          }
          return;
        }
      }
      if (!live) return;

      switch (op) {
        case 0x0c:
          emitBranch(ins.a, heightBefore, offset, false);
          break;
        case 0x0d:
          emitBranch(ins.a, heightBefore - 1, offset, true);
          break;
        case 0xd5: case 0xd6: {
          // br_on_null leaves the reference behind when it branches, br_on_non_null takes it along.
          const target = blocks[blocks.length - 1 - ins.a];
          if (target.opcode === -1) {
            out.start(op === 0xd5 ? IrOp.brOnNullReturn : IrOp.brOnNonNullReturn, offset);
            out.emit(target.arity);
          } else {
            out.start(op === 0xd5 ? IrOp.brOnNull : IrOp.brOnNonNull, offset);
            pushTarget(target);
            out.emit(target.base);
            out.emit(target.arity);
          }
          break;
        }
        case 0x0e: {
          out.start(IrOp.brTable, offset);
          out.emit(ins.a);
          for (let i = 0; i <= ins.a; i++) {
            const depth = i < ins.a ? ins.targets[i] : ins.b;
            const target = blocks[blocks.length - 1 - depth];
            if (target.opcode === -1) {
              // -2 marks "return" for the executor; base unused.
              out.emit(-2);
              out.emit(0);
            } else {
              pushTarget(target);
              out.emit(target.base);
            }
            out.emit(target.arity);
          }
          break;
        }
        case 0x0f:
          out.start(IrOp.return, offset);
          out.emit(blocks[0].arity);
          break;
        case 0x08:
          out.start(IrOp.throw, offset);
          out.emit(ins.a);
          break;
        case 0x0a:
          out.start(IrOp.throwRef, offset);
          break;
        case 0x09: {
          // The exnref of the catch `ins.a` labels out sits just below its frame.
          const target = blocks[blocks.length - 1 - ins.a];
          out.start(IrOp.rethrow, offset);
          out.emit(target.base);
          break;
        }
        case 0x1a:
          out.start(operandType === ValType.v128 ? IrOp.v128Drop : 0x1a, offset);
          break;
        case 0x1b: case 0x1c:
          out.start(operandType === ValType.v128 ? IrOp.v128Select : 0x1b, offset); // a typed select runs as select
          break;
        case 0x20: case 0x21: case 0x22: {
          // Locals are addressed by slot; a v128 local has moves of its own.
          const v128 = localTypes[ins.a] === ValType.v128;
          out.start(v128 ? IrOp.v128LocalGet + (op - 0x20) : op, offset);
          out.emit(localSlot[ins.a]);
          break;
        }
        case 0x23: case 0x24:
          out.start(ctx.globals[ins.a].type === ValType.v128 ? IrOp.v128GlobalGet + (op - 0x23) : op, offset);
          out.emit(ins.a);
          break;
        default: {
          // The opcode, then the immediate words the opcode table says the code keeps.
          const info = OPS[op]!;
          const named = memoriesOf(info.imm, ins);
          const memories = otherMemories(info.imm, ins);
          const mask = named === undefined ? table64Mask(op, ins, ctx) : 0;
          if (named !== undefined && (ctx.memories[named[0]]?.limits.index64 || ctx.memories[named[1]]?.limits.index64)) {
            // memory64: the offset in two words ahead of the otherMemory form, whose own offset word is 0.
            const memArg = info.imm === Imm.memArg || info.imm === Imm.memArgLane;
            const off = memArg ? Math.min(ins.b, OFFSET_CAP) : 0;
            out.start(IrOp.memory64, offset);
            out.emit(off % 2 ** 32 | 0);
            out.emit(Math.floor(off / 2 ** 32));
            out.emit(IrOp.otherMemory);
            out.emit(named[0]);
            out.emit(named[1]);
            out.emit(op);
            if (memArg) {
              out.emit(0);
              if (info.imm === Imm.memArgLane) out.emit(ins.c);
            } else if (info.codeWords > 0) {
              out.emit(ins.a);
              if (info.codeWords === 2) out.emit(ins.b);
            }
            break;
          }
          if (mask !== 0) {
            out.start(IrOp.table64, offset);
            out.emit(mask);
            out.emit(op);
          } else if (memories !== undefined) {
            out.start(IrOp.otherMemory, offset);
            out.emit(memories[0]);
            out.emit(memories[1]);
            out.emit(op);
          } else {
            out.start(op, offset);
          }
          if (info.imm === Imm.memArg) out.emit(ins.b | 0); // the offset (u32 kept as int32 bits)
          else if (info.imm === Imm.memArgLane) { out.emit(ins.b | 0); out.emit(ins.c); }
          else if (info.imm === Imm.v128 || info.imm === Imm.shuffle) {
            const b = ins.bytes;
            for (let w = 0; w < 16; w += 4) out.emit(b[w] | (b[w + 1] << 8) | (b[w + 2] << 16) | (b[w + 3] << 24));
          } else if (info.codeWords > 0) {
            out.emit(ins.a);
            if (info.codeWords === 2) out.emit(ins.b);
          }
          break;
        }
      }
    },
  });

  return {
    code: out.code.slice(0, out.length),
    offsets: out.offsets.slice(0, out.length),
    heights: out.heights.slice(0, out.length),
    handlers: handlers.build(),
    maxHeight: validator.maxHeight,
  };
}
