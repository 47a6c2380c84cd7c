/**
 * The internal code the executor runs (wasmi's lesson: translation apart from execution).
 *
 * A function compiles to one Int32Array. Each instruction is an opcode followed by its
 * operands. Plain Wasm instructions keep their Wasm code (see `wasm/opcodes.ts`) and
 * take the operands listed here; control flow is rewritten into jumps with resolved
 * targets and statically known stack heights, so no label stack exists at run time.
 *
 * Every internal instruction stems from exactly one instruction of the original code
 * (`block`, `loop` and non-function `end` emit nothing), which is what lets a paused
 * machine name its position as a byte offset in the original binary.
 *
 * Slots: the value stack is an array of 8-byte slots. A frame's locals occupy slots
 * fp .. fp+numLocals-1 and its operands follow. "base" operands below are slot offsets
 * from fp.
 */

import { OPS } from '../wasm/index.ts';

export const IR_VERSION = 2;

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
} as const;

/**
 * Length in words of the instruction at `pc`, for readers of the IR (the translators,
 * the disassembler, snapshot checks): control instructions have the layouts above, the
 * plain ones their opcode and the immediate words the opcode table says they keep.
 */
export function irLength(code: Int32Array, pc: number): number {
  const op = code[pc];
  switch (op) {
    case IrOp.br: case IrOp.brIf: return 4;
    case IrOp.brTable: return 2 + 3 * (code[pc + 1] + 1);
    case IrOp.jump: case IrOp.brIfJump: case IrOp.brIfReturn: case IrOp.if: case IrOp.return: return 2;
    default: return 1 + (OPS[op]?.codeWords ?? 0);
  }
}

/**
 * Whether the instruction ends a basic block: a branch, a return, a call or
 * `unreachable` (the IR's own jumps, and what the opcode table calls control).
 */
export function endsBasicBlock(op: number): boolean {
  switch (op) {
    case IrOp.br: case IrOp.jump: case IrOp.brIfJump: case IrOp.brIfReturn: return true;
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
}
