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

/** Operands of the plain instructions, for readers of the IR (the disassembler, snapshot checks). */
export function irLength(code: Int32Array, pc: number): number {
  const op = code[pc];
  switch (op) {
    case IrOp.br: case IrOp.brIf: return 4;
    case IrOp.brTable: return 2 + 3 * (code[pc + 1] + 1);
    case IrOp.jump: case IrOp.brIfJump: case IrOp.brIfReturn: case IrOp.if: case IrOp.return: return 2;
    case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0x41: case 0x43: case 0xd2: return 2;
    case 0x11: case 0x42: case 0x44: return 3;
    case 0x100 + 8: case 0x100 + 9: case 0x100 + 13: case 0x100 + 15: case 0x100 + 16: case 0x100 + 17: return 2;
    case 0x100 + 12: case 0x100 + 14: return 3;
    default:
      if (op >= 0x28 && op <= 0x3e) return 2; // loads and stores: [op, offset]
      return 1;
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
