/**
 * The relaxed SIMD instructions of Wasm 3.0 (0xFD 0x100 to 0x113), indexed by sub-opcode
 * minus 0x100. The spec lets each return one of a few results, chosen per host
 * ("relaxed operations": a global parameter per instruction, fixed for a program's run).
 * wasmig takes the spec's **deterministic profile** (every parameter 0) for every one,
 * on every device and both internal codes, so a program that migrates between an x86
 * laptop and an ARM board computes bit for bit what it would have computed staying put:
 *
 * - `relaxed_swizzle`: as `i8x16.swizzle` (an index of 16 or more gives 0; x86's pshufb
 *   would take index mod 16 below 128);
 * - `relaxed_trunc*`: as `trunc_sat*` (NaN gives 0, out of range saturates; x86's
 *   cvttps2dq gives 0x80000000 for both);
 * - `relaxed_madd`/`nmadd`: **not fused**, two roundings (`a*b` rounded, then `+ c`
 *   rounded), computed exactly in JavaScript (see {@link madd32} and {@link madd64});
 * - `relaxed_laneselect`: as `v128.bitselect`, bit by bit (x86's blendv instructions
 *   look only at the top bit of each byte or lane);
 * - `relaxed_min`/`max`: as `f32x4.min` and friends (NaN if either is NaN, -0 below +0);
 * - `relaxed_q15mulr_s`: as `i16x8.q15mulr_sat_s` (-1 times -1 saturates to 0x7fff);
 * - `relaxed_dot_i8x16_i7x16_s` and `_add_s`: the second operand's bytes read as signed,
 *   each pair of products summed with signed saturation to 16 bits (the spec's
 *   `ivdot_sat`), then for `_add_s` pairs of those added to 32 bits and the accumulator
 *   added modulo 2^32.
 *
 * A NaN these produce is the positive canonical NaN, whatever the host's hardware makes
 * of `inf * 0` (x86 a negative one, ARM a positive one): a canonical NaN is always among
 * the results the spec allows.
 * Spec: https://webassembly.github.io/spec/core/exec/numerics.html#relaxed-operations
 */
import { SIMD_OPS } from './simd-ops.ts';
import type { SimdOp } from './simd-ops.ts';

/** The canonical NaNs as bits: f32, and the high word of f64 (its low word is 0). */
const F32_NAN = 0x7fc00000;
const F64_NAN_HI = 0x7ff80000;

/**
 * `a * b + c` rounded twice, for f32 lanes: the product of two f32 values has at most 48
 * significant bits, so `a * b` in binary64 is exact and `Math.fround` of it is the
 * correctly rounded f32 product; the sum of two f32 values rounded to binary64 and then
 * to binary32 is the correctly rounded f32 sum, because 53 >= 2 * 24 + 2 (double
 * rounding is innocuous for addition at that precision: Figueroa, 1995). So this is
 * exactly fadd_32(fmul_32(a, b), c), on every JavaScript engine.
 */
export function madd32(a: number, b: number, c: number): number {
  return Math.fround(Math.fround(a * b) + c);
}

/**
 * `a * b + c` rounded twice, for f64 lanes: JavaScript numbers are binary64 with
 * round-to-nearest-even and ECMAScript rounds every operation (an engine may not contract
 * `a * b + c` into a fused multiply-add), so this is exactly fadd_64(fmul_64(a, b), c).
 */
export function madd64(a: number, b: number, c: number): number {
  return a * b + c;
}

/** f32x4 relaxed_madd (`negate`: nmadd, which is madd of -a): lane by lane, in place. */
function madd32x4(negate: boolean): SimdOp {
  return (v, dst, a, b, c) => {
    const f = v.f32;
    for (let i = 0; i < 4; i++) {
      const x = f[2 * a + i];
      const r = madd32(negate ? -x : x, f[2 * b + i], f[2 * c + i]);
      if (r !== r) v.u32[2 * dst + i] = F32_NAN;
      else f[2 * dst + i] = r;
    }
  };
}

/** f64x2 relaxed_madd (`negate`: nmadd). */
function madd64x2(negate: boolean): SimdOp {
  return (v, dst, a, b, c) => {
    const f = v.f64;
    for (let i = 0; i < 2; i++) {
      const x = f[a + i];
      const r = madd64(negate ? -x : x, f[b + i], f[c + i]);
      if (r !== r) { v.u32[2 * (dst + i)] = 0; v.u32[2 * (dst + i) + 1] = F64_NAN_HI; }
      else f[dst + i] = r;
    }
  };
}

const clamp16 = (x: number): number => (x < -32768 ? -32768 : x > 32767 ? 32767 : x);

/** Lane `i` of i16x8.relaxed_dot_i8x16_i7x16_s: two signed byte products, summed with signed saturation. */
function dotPair(v: { i8: Int8Array }, a: number, b: number, i: number): number {
  const t = v.i8;
  const x = 8 * a + 2 * i, y = 8 * b + 2 * i;
  return clamp16(t[x] * t[y] + t[x + 1] * t[y + 1]);
}

/** i16x8.relaxed_dot_i8x16_i7x16_s: built in the scratch (the result's lanes overlap the operand's bytes). */
const dot16: SimdOp = (v, dst, a, b) => {
  const s = v.scratch.i16;
  for (let i = 0; i < 8; i++) s[i] = dotPair(v, a, b, i);
  v.fromScratch(dst);
};

/** i32x4.relaxed_dot_i8x16_i7x16_add_s: the 16-bit pair sums added in pairs, plus the accumulator at `c`, modulo 2^32. */
const dotAdd32: SimdOp = (v, dst, a, b, c) => {
  const s = v.scratch.i32;
  for (let i = 0; i < 4; i++) s[i] = (dotPair(v, a, b, 2 * i) + dotPair(v, a, b, 2 * i + 1) + v.i32[2 * c + i]) | 0;
  v.fromScratch(dst);
};

/** A Wasm 2.0 instruction's operation, which a relaxed one takes as its deterministic choice. */
function same(sub: number): SimdOp {
  const op = SIMD_OPS[sub];
  if (op === undefined) throw new Error(`internal error: no SIMD operation 0x${sub.toString(16)}`);
  return op;
}

/** The operation of each relaxed SIMD instruction, by sub-opcode minus 0x100 (0x100 to 0x113). */
export const RELAXED_SIMD_OPS: readonly SimdOp[] = [
  same(0x0e), // i8x16.relaxed_swizzle: i8x16.swizzle
  same(0xf8), same(0xf9), // i32x4.relaxed_trunc_f32x4_s/u: trunc_sat
  same(0xfc), same(0xfd), // i32x4.relaxed_trunc_f64x2_s/u_zero: trunc_sat ..._zero
  madd32x4(false), madd32x4(true), madd64x2(false), madd64x2(true),
  same(0x52), same(0x52), same(0x52), same(0x52), // i8x16 .. i64x2 relaxed_laneselect: v128.bitselect
  same(0xe8), same(0xe9), same(0xf4), same(0xf5), // f32x4/f64x2 relaxed_min/max: min/max
  same(0x82), // i16x8.relaxed_q15mulr_s: q15mulr_sat_s
  dot16,
  dotAdd32,
];
