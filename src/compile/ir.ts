/**
 * The internal code the executor runs (wasmi's lesson: translation apart from execution).
 *
 * A function compiles to one Int32Array. Each instruction is an opcode followed by its
 * operands. Plain Wasm instructions keep their Wasm code (see `wasm/opcodes.ts`) and
 * take the operands listed here; control flow is rewritten into jumps with resolved
 * targets and statically known stack heights, so no label stack exists at run time.
 *
 * Every internal instruction stems from exactly one instruction of the original code
 * (`block`, `loop`, `try`, `try_table`, `delegate` and a non-function `end` emit
 * nothing, except the `end` of a legacy catch, which moves its results down over its exnref), which is what lets a paused
 * machine name its position as a byte offset in the original binary.
 *
 * Slots: the value stack is an array of 8-byte slots; a v128 takes two adjacent ones.
 * A frame's locals occupy slots fp .. fp+numLocals-1 (numLocals counts slots) and its
 * operands follow. "base" operands below are slot offsets from fp, arities and heights
 * are slot counts, and `local.*` keep the local's slot offset, not its index. SIMD
 * instructions keep 0x200 + sub-opcode (relaxed SIMD: 0x300 to 0x313), with their
 * immediates as code words: a memarg's offset, a lane index, the 16 bytes of
 * `v128.const` or a shuffle as four words.
 */

import { OPS } from '../wasm/index.ts';

export const IR_VERSION = 8;

export const IrOp = {
  /** [op, target, base, arity]: move the top `arity` values to fp+base, jump. */
  br: 0x06,
  /** [op, target]: jump (no values to move). */
  jump: 0x07,
  /** [op, target, base, arity]: pop an i32; if non-zero, as `br`. Wasm code 0x0d. */
  brIf: 0x0d,
  /** [op, target]: pop an i32; if non-zero, jump. */
  brIfJump: 0x08,
  /** [op, n, (target, base, arity) x (n + 1)]: pop an index; the last entry is the default. Wasm code 0x0e. */
  brTable: 0x0e,
  /** [op, numResults]: pop an i32; if non-zero, return from the function. */
  brIfReturn: 0x09,
  /** [op, elseTarget]: pop an i32; if zero jump to elseTarget. Wasm code 0x04. */
  if: 0x04,
  /** [op, numResults]: return from the function (also the function's final `end`). Wasm code 0x0f. */
  return: 0x0f,
  /** [op, slot]: push the v128 local at fp+slot (two slots). */
  v128LocalGet: 0x3d0,
  /** [op, slot]: pop a v128 into the local at fp+slot. */
  v128LocalSet: 0x3d1,
  /** [op, slot]: copy the v128 on top into the local at fp+slot. */
  v128LocalTee: 0x3d2,
  /** [op, globalIndex]: push a v128 global. */
  v128GlobalGet: 0x3d3,
  /** [op, globalIndex]: pop a v128 into a global. */
  v128GlobalSet: 0x3d4,
  /** [op]: drop a v128. */
  v128Drop: 0x3d5,
  /** [op]: select between two v128 by an i32. */
  v128Select: 0x3d6,
  /**
   * [op, memory, secondMemory, wasmOp, ...wasmOp's words]: a memory instruction on a
   * memory other than 0 (Wasm 3.0 multi-memory): `wasmOp` with its usual immediate
   * words; `secondMemory` is memory.copy's source, 0 for the others. Memory 0 keeps
   * the plain forms, so the run loops' hot cases never look up a memory.
   */
  otherMemory: 0x3f0,
  /**
   * [op, offsetLo, offsetHi, otherMemory form with its offset word 0]: a memory
   * instruction on a 64-bit memory (Wasm 3.0 memory64), or memory.copy to or from one.
   * The u64 memarg offset sits in two words (at most 2^53: any larger one is out of
   * bounds anyway); the i64 addresses are checked whole, then the access runs as the
   * `otherMemory` form. 32-bit memories keep their forms: their hot paths never see it.
   */
  memory64: 0x3f1,
  /**
   * [op, mask, wasmOp, ...wasmOp's words]: a table instruction on a 64-bit table (Wasm 3.0
   * table64), call_indirect through one included. Bit i of `mask` marks the operand i
   * places below the top as i64: each is narrowed to 32 bits first, one past 2^32 to
   * 2^32-1 (out of bounds of any table this runtime holds, so `wasmOp` traps as it
   * should), then `wasmOp` runs as the plain instruction. table.size and table.grow,
   * whose results are i64, run whole in the prefix. One instruction: charged once.
   */
  table64: 0x3f2,
  /**
   * [op, target, base, arity]: `br_on_null` (Wasm 3.0) to a block's label: if the reference
   * on top is null, pop it and branch as `br`; else leave it and go on. Wasm code 0xd5.
   */
  brOnNull: 0xd5,
  /**
   * [op, target, base, arity]: `br_on_non_null`: if the reference on top is not null,
   * branch as `br` (it is the label's last value); else pop it and go on. Wasm code 0xd6.
   */
  brOnNonNull: 0xd6,
  /** [op, numResults]: `br_on_null` to the function's label: as `brOnNull`, returning. */
  brOnNullReturn: 0xd7,
  /** [op, numResults]: `br_on_non_null` to the function's label: as `brOnNonNull`, returning. */
  brOnNonNullReturn: 0xd8,
  /** [op, tagIndex]: throw a new exception of the tag with the tag's parameters on the stack (see `handlers.ts`). */
  throw: 0x3e0,
  /** [op]: pop an exnref and throw its exception again (a null one traps). */
  throwRef: 0x3e1,
  /** [op, slot]: throw again the exception a legacy `catch` keeps at fp+slot. */
  rethrow: 0x3e2,
  /**
   * [op, target, base, arity]: the end of a legacy catch body, as `br` (its results move
   * down over its exnref at fp+base), and the exception is let go from the store when
   * nothing else can name it (see `exec/exceptions.ts`).
   */
  catchEnd: 0x3e3,
} as const;

/**
 * Is `op` one of the internal exception instructions (0x3e0..0x3e3): the throws, which
 * leave for the handler that catches, and a legacy catch's end? Both run codes take them
 * off their hot paths.
 */
export function isThrow(op: number): boolean {
  return op >= 0x3e0 && op <= 0x3e3;
}

/**
 * Is `op` one of the internal v128 moves (0x3d0..0x3d6), which run beside the SIMD
 * instructions? (They sat at 0x300 until relaxed SIMD took 0x200 + 0x100 and up.)
 */
export function isV128Move(op: number): boolean {
  return op >= 0x3d0 && op <= 0x3d6;
}

/**
 * Length in words of the instruction at `pc`, for readers of the IR (the translators,
 * the disassembler, snapshot checks): control instructions have the layouts above, the
 * plain ones their opcode and the immediate words the opcode table says they keep.
 */
export function irLength(code: Int32Array, pc: number): number {
  const op = code[pc];
  switch (op) {
    case IrOp.br: case IrOp.brIf: case IrOp.brOnNull: case IrOp.brOnNonNull: return 4;
    case IrOp.brTable: return 2 + 3 * (code[pc + 1] + 1);
    case IrOp.jump: case IrOp.brIfJump: case IrOp.brIfReturn: case IrOp.if: case IrOp.return: return 2;
    case IrOp.brOnNullReturn: case IrOp.brOnNonNullReturn: return 2;
    case IrOp.v128LocalGet: case IrOp.v128LocalSet: case IrOp.v128LocalTee: case IrOp.v128GlobalGet: case IrOp.v128GlobalSet: return 2;
    case IrOp.v128Drop: case IrOp.v128Select: return 1;
    case IrOp.otherMemory: return 4 + (OPS[code[pc + 3]]?.codeWords ?? 0);
    case IrOp.memory64: return 7 + (OPS[code[pc + 6]]?.codeWords ?? 0);
    case IrOp.table64: return 3 + (OPS[code[pc + 2]]?.codeWords ?? 0);
    case IrOp.throw: case IrOp.rethrow: return 2;
    case IrOp.throwRef: return 1;
    case IrOp.catchEnd: return 4;
    default: return 1 + (OPS[op]?.codeWords ?? 0);
  }
}

/**
 * The pc of the Wasm instruction an internal one runs: past a `table64` prefix, the
 * call_indirect or table instruction it narrows the operands of; `pc` itself otherwise.
 */
export function innerPc(code: Int32Array, pc: number): number {
  return code[pc] === IrOp.table64 ? pc + 2 : pc;
}

/**
 * Whether the instruction ends a basic block: a branch, a return, a call or
 * `unreachable` (the IR's own jumps, and what the opcode table calls control).
 */
export function endsBasicBlock(op: number): boolean {
  switch (op) {
    case IrOp.br: case IrOp.jump: case IrOp.brIfJump: case IrOp.brIfReturn: return true;
    case IrOp.brOnNullReturn: case IrOp.brOnNonNullReturn: return true;
    case IrOp.throw: case IrOp.throwRef: case IrOp.rethrow: case IrOp.catchEnd: return true;
    default: return OPS[op]?.control === true;
  }
}

/** The exact code of one function body, with its maps to the original binary. */
export interface ExactCode {
  code: Int32Array;
  /** For each internal pc that starts an instruction: its byte offset in the module; -1 elsewhere. */
  offsets: Int32Array;
  /** For each internal pc that starts an instruction: the operand stack height before it; -1 elsewhere. */
  heights: Int32Array;
  /** The function's exception handlers (`try_table`, legacy `try`); undefined when it has none. */
  handlers?: HandlerTable;
  /** The deepest operand stack in slots, as the validator counted it on the translating walk. */
  maxHeight: number;
}

/**
 * Where a function catches exceptions, in exact-code terms: one record per `try_table`
 * or legacy `try`, and their clauses. A throw looks for the innermost record whose range
 * holds its pc (in a caller: the pc of its call), tries its clauses in order, then the
 * record `next` names (the enclosing one, or the target of a `delegate`), then the
 * caller. Nothing of this is run-time state: a paused thread carries none of it.
 */
export interface HandlerTable {
  /**
   * Per record, 4 words: first pc of the protected code, pc after it, the next record to
   * try (-1: leave the frame), first clause index; a record's clauses run to the next
   * record's first clause (or the end). Records are in the order their blocks open, so
   * the last one whose range holds a pc is the innermost.
   */
  tries: Int32Array;
  /**
   * Per clause, 5 words: kind ({@link ClauseKind}), tag index (module-local; -1 for the
   * catch-alls), the pc to go on at (-2: return from the function), the slot offset from
   * fp where the values go, and the slots the values take (payload plus exnref).
   */
  clauses: Int32Array;
  /** Every clause's target pc: where a basic block must start (the fast code reads it). */
  landings: Int32Array;
}

/** What a catch clause pushes, and in which order, before it goes to its target. */
export const ClauseKind = {
  /** try_table `catch`: the payload. */
  catch: 0,
  /** try_table `catch_ref`: the payload, then the exnref. */
  catchRef: 1,
  /** try_table `catch_all`: nothing. */
  catchAll: 2,
  /** try_table `catch_all_ref`: the exnref. */
  catchAllRef: 3,
  /** legacy `catch`: the exnref (kept for `rethrow`), then the payload. */
  legacyCatch: 4,
  /** legacy `catch_all`: the exnref. */
  legacyCatchAll: 5,
} as const;
