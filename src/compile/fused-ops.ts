/**
 * The fused instructions of the fast code (fast-ir.ts): which neighbouring instructions
 * of one basic block become one dispatch, and the lookups the fusion pass uses.
 */
import { FastOp } from './fast-ir.ts';

/**
 * Sequences fused into one instruction: the opcodes of the parts, then the fused opcode.
 * Picked from CoreMark's counts of successive dispatches (see fast-ir.ts).
 */
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

/**
 * Pairs and triples, keyed by their parts' opcodes (each below 0x400). Constant tables,
 * built once at load from `FUSED` and only read after that.
 */
const FUSED_PAIR = new Map<number, number>();
const FUSED_TRIPLE = new Map<number, number>();
for (const f of FUSED) {
  if (f.length === 3) FUSED_PAIR.set(f[0] * 0x400 + f[1], f[2]);
  else FUSED_TRIPLE.set((f[0] * 0x400 + f[1]) * 0x400 + f[2], f[3]);
}

/** The fused opcode of the pair `first, second`, or undefined. */
export function fusedPair(first: number, second: number): number | undefined {
  return FUSED_PAIR.get(first * 0x400 + second);
}

/** The fused opcode of the triple `first, second, third`, or undefined. */
export function fusedTriple(first: number, second: number, third: number): number | undefined {
  return FUSED_TRIPLE.get((first * 0x400 + second) * 0x400 + third);
}
