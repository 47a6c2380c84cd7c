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
 * instruction count). Every branch target is a `fuel` instruction, and so is the
 * fall-through of every conditional branch. A branch charges the block it goes to itself,
 * taken or not, and continues past that block's fuel instruction: neither a loop's back
 * edge nor the fall-through of a compare-and-branch costs a dispatch of its own (the fuel
 * instructions were 16% of all dispatches in CoreMark, then 6.6% with only taken branches
 * charging). Branches carry the target's cost as an operand, so that charging does not
 * wait for a load from the target. (The rarely taken paths, too little fuel, do no
 * arithmetic of their own: V8 deoptimizes the whole loop the first time an operation
 * without type feedback runs, and recompiling it costs about 150 ms.) When the budget cannot cover a whole block, execution
 * goes to its fuel instruction, which moves to the exact code at the block's start and
 * counts instruction by instruction, so pausing "after exactly N instructions" stays exact.
 *
 * Numeric instructions keep their Wasm opcode: binary `[op, dst, a, b]`, unary
 * `[op, dst, a]`, loads `[op, dst, addr, offset]`, stores `[op, addr, value, offset]`.
 * i32 binary operations with a constant right operand use `FastOp.immediate + op`:
 * `[op, dst, a, imm]`. The others are listed in `FastOp`.
 */
export const FastOp = {
  /** [op, cost, exactPc]: charge a basic block; too little fuel: continue in the exact code at exactPc. */
  fuel: 0xd0,
  /**
   * [op, target, cost]: `target` is the target block's fuel instruction, `cost` its cost
   * (all branches name their targets so).
   */
  jump: 0xd1,
  /** [op, cond, target, cost]: jump when the i32 in cond is zero. */
  brZ: 0xd2,
  /** [op, cond, target, cost]: jump when non-zero. */
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
  /**
   * [op, indexSlot, n, fuelPc x (n + 1)]: each entry is the pc of a fuel instruction:
   * the target's own, or that of a stub doing the value moves (which charges nothing).
   */
  brTable: 0xdd,
  /** [op] */
  unreachable: 0xde,
  /** [op, exactPc, sp]: run one exact instruction (the rare ones) with the stack at sp. */
  exact1: 0xdf,
  /**
   * [op, exactPc, sp]: a tail call (`return_call*`), run by the exact code, after which
   * the fast loop starts again in the callee (or stops at a host call). Also the other
   * exact instructions that move the thread somewhere the fast code cannot follow in
   * place (Wasm 3.0 `call_ref`, `br_on_null`, `br_on_non_null`): the loop starts again
   * wherever the thread then stands, always a block start.
   */
  tailCall: 0xf4,
  /**
   * [op, exactPc, sp]: a throw (`IrOp.throw`, `throwRef`, `rethrow`), run by the exact
   * code, after which the fast loop starts again at the handler (the clause targets
   * start basic blocks), perhaps frames below.
   */
  leave: 0xf5,
  /**
   * [op, exactPc, sp]: a SIMD instruction or v128 move, run in place by the exact code's
   * semantics (its immediates are read there) with the stack at sp; the run loop reaches
   * it through its `default` branch, away from every other case.
   */
  simd: 0x1f0,
  /** [op, a, b, target, cost]: fused i32 compare and branch, one per comparison 0x46..0x4f. */
  brCmpBase: 0xe0,
  /** [op, a, imm, target, cost]: as `brCmpBase`, the right operand an immediate. */
  brCmpImmBase: 0xea,
  /** Added to an i32 binary opcode: the right operand is an immediate. */
  immediate: 0x100,

  // Fused instructions: two or three neighbours of one basic block that CoreMark executes
  // often one after the other (measured by counting successive dispatches), done in one
  // dispatch. A fused instruction keeps all their words: [fused op, operands of the first,
  // the second's own opcode (skipped), operands of the second, ...], so that no position
  // moves and `exactPcAt` names each part: a trap in a later part reports its own pc.
  // Each part does exactly what it does alone, results written included.
  shrUImmAndImm: 0x108,
  addAddImm: 0x109,
  const32Copy: 0x10a,
  copyBrNz: 0x10b,
  store32Copy: 0x10c,
  copyLoad32: 0x10d,
  load32Store32: 0x10e,
  load32BrNz: 0x10f,
  load8UBrNz: 0x110,
  andImmBrNeImm: 0x111,
  mulAdd: 0x112,
  copyAddImm: 0x113,
  addImmLoad8U: 0x114,
  copyBrNeImm: 0x115,
  selectShrUImm: 0x116,
  andImmXorImm: 0x117,
  andImmSelect: 0x118,
  xorAndImm: 0x119,
  const32Select: 0x11a,
  addImmAndImm: 0x11b,
  shrUImmXor: 0x11c,
  load16SMul: 0x11d,
  xorImmShrUImm: 0x11e,
  andImmShrUImm: 0x11f,
  addImmStore32: 0x120,
  load32AddImm: 0x121,
  load32Load8U: 0x122,
  addImmBrNe: 0x123,
  load32Load16U: 0x124,
  addImmBrNz: 0x125,
  addImmAdd: 0x126,
  load16ULoad16U: 0x127,
  load16UMul: 0x128,
  mulShrUImm: 0x129,
  andImmMul: 0x12a,
  andImmBrEq: 0x12b,
  load16UAndImm: 0x12c,
  addImmAddImm: 0x12d,
  load8UAndImm: 0x12e,
  xorBrZ: 0x12f,
  copyCopy: 0x130,
  const32Const32: 0x131,
  shlImmAdd: 0x132,
  store32CopyBrNz: 0x133,
  addImmLoad8UBrNz: 0x134,
  load32AddImmStore32: 0x135,
  addAddImmBrNz: 0x136,
  load32Load8UAndImm: 0x137,
  andImmXorBrZ: 0x138,
  gtSConst32Select: 0x139,
  addAddAddImm: 0x13a,
  load16SMulAdd: 0x13b,
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
  /**
   * The fast code compiled to a JavaScript function (the interpreter's JavaScript tier,
   * `exec/js-tier/`), null until the function is hot; made and owned by the executor.
   */
  js: FastJsBody | null;
  /**
   * Times the run loop dispatched one of this code's block starts while `js` was null;
   * -1: never compile it (too large, or the host refused to compile JavaScript).
   */
  heat: number;
}

/**
 * Runs fast code from the block start at fast pc `pc` with `fuel` instructions, in the
 * frame whose first word is `F` of function `self` (a store address), and leaves when it
 * meets what it does not run itself (a rare instruction, a block its fuel cannot cover, a
 * trap, a call it cannot make): every frame word is back in `s32`, and `cx` says the fast
 * pc to dispatch next and the fuel left. See `exec/js-tier/`.
 */
export type FastJsBody = (cx: FastJsExit, s32: Int32Array, view: DataView, F: number, pc: number, fuel: number, self: number) => void;

/** Where a `FastJsBody` left off. */
export interface FastJsExit {
  pc: number;
  fuel: number;
}
