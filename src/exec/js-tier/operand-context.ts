/**
 * What an instruction's JavaScript is written with: its operands as the names of the
 * frame words they stand for, its immediates as literals, and the two ways control
 * leaves straight-line code (a branch to a block, an exit to the run loop).
 */
export interface OperandContext {
  /** The fast pc of the instruction (of the part, inside a fused one). */
  readonly pc: number;
  /** The variable holding the frame word named by operand `k` (its low word for 64-bit values). */
  lo(k: number): string;
  /** The variable holding the high word of the 64-bit value named by operand `k`. */
  hi(k: number): string;
  /** Operand `k` as a signed 32-bit literal. */
  imm(k: number): string;
  /** Operand `k` as an unsigned 32-bit literal. */
  immU(k: number): string;
  /** Statement: continue at the block whose fuel instruction is at the fast pc in operand `k`. */
  branch(k: number): string;
  /**
   * Statement: leave for the run loop, which dispatches this instruction itself (a rare
   * case: the loop runs it from the same frame).
   */
  exit(): string;
  /**
   * Statement: trap here (`x`: the float a conversion could not convert). The frame is
   * not written back: nothing runs in it after a trap.
   */
  trap(kind: TrapKind, x?: string): string;
  /**
   * Statement: a memory access follows that may fault. If the DataView it uses throws
   * its RangeError (an address past the memory's end), the function traps here with
   * "out of bounds memory access".
   */
  mayFault(): string;
}

/** The traps compiled code raises itself (`js-trap.ts`). */
export const TrapKind = { memory: 0, divideByZero: 1, overflow: 2, conversion: 3 } as const;
export type TrapKind = (typeof TrapKind)[keyof typeof TrapKind];
