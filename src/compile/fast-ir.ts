/**
 * The fast internal code: a register form of the exact code (`ir.ts`), derived from it.
 *
 * Operands name slots of the frame directly, as word offsets from the frame pointer
 * (2 x slot index: the value stack is an Int32Array with two words per slot), so that
 * `local.get`, constants and most stack traffic disappear into the instructions that use
 * them, and comparisons fuse with the branches that consume them (wasmi's and wasm3's
 * lessons). Values live in the same slots as in the exact code at every basic-block
 * boundary, which is what lets a thread move between the two codes there.
 *
 * Fuel is charged once per basic block (`fuel` instruction, with the block's exact
 * instruction count). Every branch target is a `fuel` instruction, and a taken branch
 * charges it itself and jumps past it: a loop's back edge then costs no dispatch of its
 * own (the fuel instructions were 16% of all dispatches in CoreMark). When the budget cannot cover a whole block, execution moves to
 * the exact code at the block's start and counts instruction by instruction, so
 * pausing "after exactly N instructions" stays exact.
 *
 * Numeric instructions keep their Wasm opcode: binary `[op, dst, a, b]`, unary
 * `[op, dst, a]`, loads `[op, dst, addr, offset]`, stores `[op, addr, value, offset]`.
 * i32 binary operations with a constant right operand use `FastOp.immediate + op`:
 * `[op, dst, a, imm]`. The others are listed in `FastOp`.
 */
export const FastOp = {
  /** [op, cost, exactPc]: charge a basic block; too little fuel: continue in the exact code at exactPc. */
  fuel: 0xd0,
  /** [op, target] */
  jump: 0xd1,
  /** [op, cond, target]: jump when the i32 in cond is zero. */
  brZ: 0xd2,
  /** [op, cond, target]: jump when non-zero. */
  brNz: 0xd3,
  /** [op, dst, src]: copy one 64-bit slot. */
  copy: 0xd4,
  /** [op, dst, value] */
  const32: 0xd5,
  /** [op, dst, lo, hi] */
  const64: 0xd6,
  /** [op, dst, a, b, cond] */
  select: 0xd7,
  /** [op, dst, globalIndex] */
  globalGet: 0xd8,
  /** [op, globalIndex, src] */
  globalSet: 0xd9,
  /** [op, n, src]: return the n values starting at src. */
  return: 0xda,
  /** [op, funcIndex, argBase, exactPcAfter] */
  call: 0xdb,
  /** [op, typeIndex, tableIndex, indexSlot, argBase, exactPcAfter] */
  callIndirect: 0xdc,
  /** [op, indexSlot, n, target x (n + 1)]: the targets are stubs doing the value moves. */
  brTable: 0xdd,
  /** [op] */
  unreachable: 0xde,
  /** [op, exactPc, sp]: run one exact instruction (the rare ones) with the stack at sp. */
  exact1: 0xdf,
  /** [op, a, b, target]: fused i32 compare and branch, one per comparison 0x46..0x4f. */
  brCmpBase: 0xe0,
  /** [op, a, imm, target]: as `brCmpBase`, the right operand an immediate. */
  brCmpImmBase: 0xea,
  /** Added to an i32 binary opcode: the right operand is an immediate. */
  immediate: 0x100,
} as const;

/** Return addresses of frames entered from fast code carry this bit. */
export const FAST_PC_TAG = 0x40000000;

/** A function's fast code and the maps between it and the exact code. */
export interface FastFunction {
  code: Int32Array;
  /** Fast pc of the block starting at each exact pc; -1 where no block starts. */
  fastPcAt: Int32Array;
  /** Exact pc for each fast pc that starts a block (fuel instruction); -1 elsewhere. */
  exactPcAt: Int32Array;
  /** For each exact pc: instructions until the end of its basic block (inclusive). */
  toBlockEnd: Int32Array;
}
