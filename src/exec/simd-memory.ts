/**
 * The semantics of the SIMD loads and stores (Wasm 2.0): plain, extending, splatting,
 * zero-filling and single-lane accesses, between a memory's bytes and v128 values in
 * the value stack ({@link V128Lanes}, slots as in `simd-ops.ts`). Each access checks
 * its whole range first, so a trapping one changes nothing.
 * Spec: https://webassembly.github.io/spec/core/exec/instructions.html#memory-instructions
 */
import { Trap } from '../errors/index.ts';
import { simdNaturalAlignment } from '../wasm/index.ts';
import type { V128Lanes } from './simd-lanes.ts';

function outOfBounds(): never {
  throw new Trap('out of bounds memory access');
}

/** Bytes a SIMD memory instruction touches, by sub-opcode (its natural alignment as a size). */
function accessSize(sub: number): number {
  return 1 << simdNaturalAlignment(sub);
}

/**
 * Runs SIMD memory instruction `sub` at effective address `ea` (base + offset, as a
 * non-negative number). Loads write their v128 at slot `dst`; lane loads start from the
 * v128 at slot `vec` (then `dst` is the address operand's slot and `vec` follows it);
 * stores read the v128 at `vec`. `lane` is the lane immediate of lane accesses.
 */
export function simdMemory(sub: number, v: V128Lanes, mem: Uint8Array, ea: number, dst: number, vec: number, lane: number): void {
  const size = accessSize(sub);
  if (ea + size > mem.length) outOfBounds();
  const out = v.u8;
  const d = 8 * dst;
  if (sub === 0x00) { for (let i = 0; i < 16; i++) out[d + i] = mem[ea + i]; return; }
  if (sub >= 0x01 && sub <= 0x06) {
    // Extending loads: 8 bytes as 8x8, 16x4 or 32x2 lanes, each widened to twice its width.
    const s = v.scratch;
    const bytes = 1 << ((sub - 1) >> 1); // 1, 2, 4 bytes per source lane
    const signed = (sub & 1) === 1;
    for (let i = 0; i < 8 / bytes; i++) {
      let x = 0;
      for (let k = bytes - 1; k >= 0; k--) x = x * 256 + mem[ea + i * bytes + k];
      if (signed && x >= 2 ** (8 * bytes - 1)) x -= 2 ** (8 * bytes);
      if (bytes === 1) s.i16[i] = x;
      else if (bytes === 2) s.i32[i] = x;
      else s.i64[i] = BigInt(x);
    }
    v.fromScratch(dst);
    return;
  }
  if (sub >= 0x07 && sub <= 0x0a) { for (let i = 0; i < 16; i++) out[d + i] = mem[ea + (i % size)]; return; }
  if (sub === 0x0b) { for (let i = 0; i < 16; i++) mem[ea + i] = out[8 * vec + i]; return; }
  if (sub === 0x5c || sub === 0x5d) { for (let i = 0; i < 16; i++) out[d + i] = i < size ? mem[ea + i] : 0; return; }
  if (sub >= 0x54 && sub <= 0x57) {
    if (dst !== vec) for (let i = 0; i < 16; i++) out[d + i] = out[8 * vec + i];
    for (let i = 0; i < size; i++) out[d + lane * size + i] = mem[ea + i];
    return;
  }
  if (sub >= 0x58 && sub <= 0x5b) { for (let i = 0; i < size; i++) mem[ea + i] = out[8 * vec + lane * size + i]; return; }
  throw new Error(`not a SIMD memory instruction: 0xfd ${sub}`);
}
