/**
 * The rows of the SIMD instructions (Wasm 2.0, prefix 0xFD, and Wasm 3.0's relaxed SIMD)
 * for the one opcode table:
 * sub-opcode, name, immediates and stack signature (V = v128), plus the two facts the
 * validator needs beyond a signature: the natural alignment of a memory access and the
 * number of lanes a lane immediate may name.
 * Spec: https://webassembly.github.io/spec/core/binary/instructions.html#vector-instructions
 */

/** One SIMD row: sub-opcode, name, stack signature (the immediate kind follows from the sub-opcode). */
export type SimdRow = [sub: number, name: string, sig: string];

const rows: SimdRow[] = [];

/** The first relaxed SIMD sub-opcode (Wasm 3.0: 0x100 to 0x113); every one before it is Wasm 2.0. */
export const RELAXED_SIMD_FIRST = 0x100;

/** One past the last SIMD sub-opcode this runtime knows (`i32x4.relaxed_dot_i8x16_i7x16_add_s` is 0x113). */
export const SIMD_SUB_END = 0x114;

/** Consecutive sub-opcodes from `first`, each with the same signature. */
function run(first: number, sig: string, names: string[]): void {
  names.forEach((name, i) => rows.push([first + i, name, sig]));
}

// Memory: plain loads and the store, the constant, shuffle and swizzle, splats.
run(0x00, 'i>V', [
  'v128.load', 'v128.load8x8_s', 'v128.load8x8_u', 'v128.load16x4_s', 'v128.load16x4_u', 'v128.load32x2_s',
  'v128.load32x2_u', 'v128.load8_splat', 'v128.load16_splat', 'v128.load32_splat', 'v128.load64_splat',
]);
run(0x0b, 'iV>', ['v128.store']);
run(0x0c, '>V', ['v128.const']);
run(0x0d, 'VV>V', ['i8x16.shuffle', 'i8x16.swizzle']);
run(0x0f, 'i>V', ['i8x16.splat', 'i16x8.splat', 'i32x4.splat']);
run(0x12, 'I>V', ['i64x2.splat']);
run(0x13, 'f>V', ['f32x4.splat']);
run(0x14, 'F>V', ['f64x2.splat']);
// Lanes.
run(0x15, 'V>i', ['i8x16.extract_lane_s', 'i8x16.extract_lane_u']);
run(0x17, 'Vi>V', ['i8x16.replace_lane']);
run(0x18, 'V>i', ['i16x8.extract_lane_s', 'i16x8.extract_lane_u']);
run(0x1a, 'Vi>V', ['i16x8.replace_lane']);
run(0x1b, 'V>i', ['i32x4.extract_lane']);
run(0x1c, 'Vi>V', ['i32x4.replace_lane']);
run(0x1d, 'V>I', ['i64x2.extract_lane']);
run(0x1e, 'VI>V', ['i64x2.replace_lane']);
run(0x1f, 'V>f', ['f32x4.extract_lane']);
run(0x20, 'Vf>V', ['f32x4.replace_lane']);
run(0x21, 'V>F', ['f64x2.extract_lane']);
run(0x22, 'VF>V', ['f64x2.replace_lane']);
// Comparisons.
const intCompares = ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'];
run(0x23, 'VV>V', intCompares.map((c) => `i8x16.${c}`));
run(0x2d, 'VV>V', intCompares.map((c) => `i16x8.${c}`));
run(0x37, 'VV>V', intCompares.map((c) => `i32x4.${c}`));
const floatCompares = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'];
run(0x41, 'VV>V', floatCompares.map((c) => `f32x4.${c}`));
run(0x47, 'VV>V', floatCompares.map((c) => `f64x2.${c}`));
// Bitwise.
run(0x4d, 'V>V', ['v128.not']);
run(0x4e, 'VV>V', ['v128.and', 'v128.andnot', 'v128.or', 'v128.xor']);
run(0x52, 'VVV>V', ['v128.bitselect']);
run(0x53, 'V>i', ['v128.any_true']);
// Lane loads and stores, zero-extending loads.
run(0x54, 'iV>V', ['v128.load8_lane', 'v128.load16_lane', 'v128.load32_lane', 'v128.load64_lane']);
run(0x58, 'iV>', ['v128.store8_lane', 'v128.store16_lane', 'v128.store32_lane', 'v128.store64_lane']);
run(0x5c, 'i>V', ['v128.load32_zero', 'v128.load64_zero']);
run(0x5e, 'V>V', ['f32x4.demote_f64x2_zero', 'f64x2.promote_low_f32x4']);
// i8x16, with float rounding and extended pairwise adds interleaved where the proposal put them.
run(0x60, 'V>V', ['i8x16.abs', 'i8x16.neg', 'i8x16.popcnt']);
run(0x63, 'V>i', ['i8x16.all_true', 'i8x16.bitmask']);
run(0x65, 'VV>V', ['i8x16.narrow_i16x8_s', 'i8x16.narrow_i16x8_u']);
run(0x67, 'V>V', ['f32x4.ceil', 'f32x4.floor', 'f32x4.trunc', 'f32x4.nearest']);
run(0x6b, 'Vi>V', ['i8x16.shl', 'i8x16.shr_s', 'i8x16.shr_u']);
run(0x6e, 'VV>V', ['i8x16.add', 'i8x16.add_sat_s', 'i8x16.add_sat_u', 'i8x16.sub', 'i8x16.sub_sat_s', 'i8x16.sub_sat_u']);
run(0x74, 'V>V', ['f64x2.ceil', 'f64x2.floor']);
run(0x76, 'VV>V', ['i8x16.min_s', 'i8x16.min_u', 'i8x16.max_s', 'i8x16.max_u']);
run(0x7a, 'V>V', ['f64x2.trunc']);
run(0x7b, 'VV>V', ['i8x16.avgr_u']);
run(0x7c, 'V>V', [
  'i16x8.extadd_pairwise_i8x16_s', 'i16x8.extadd_pairwise_i8x16_u', 'i32x4.extadd_pairwise_i16x8_s', 'i32x4.extadd_pairwise_i16x8_u',
]);
// i16x8.
run(0x80, 'V>V', ['i16x8.abs', 'i16x8.neg']);
run(0x82, 'VV>V', ['i16x8.q15mulr_sat_s']);
run(0x83, 'V>i', ['i16x8.all_true', 'i16x8.bitmask']);
run(0x85, 'VV>V', ['i16x8.narrow_i32x4_s', 'i16x8.narrow_i32x4_u']);
run(0x87, 'V>V', ['i16x8.extend_low_i8x16_s', 'i16x8.extend_high_i8x16_s', 'i16x8.extend_low_i8x16_u', 'i16x8.extend_high_i8x16_u']);
run(0x8b, 'Vi>V', ['i16x8.shl', 'i16x8.shr_s', 'i16x8.shr_u']);
run(0x8e, 'VV>V', ['i16x8.add', 'i16x8.add_sat_s', 'i16x8.add_sat_u', 'i16x8.sub', 'i16x8.sub_sat_s', 'i16x8.sub_sat_u']);
run(0x94, 'V>V', ['f64x2.nearest']);
run(0x95, 'VV>V', ['i16x8.mul', 'i16x8.min_s', 'i16x8.min_u', 'i16x8.max_s', 'i16x8.max_u']);
run(0x9b, 'VV>V', [
  'i16x8.avgr_u', 'i16x8.extmul_low_i8x16_s', 'i16x8.extmul_high_i8x16_s', 'i16x8.extmul_low_i8x16_u', 'i16x8.extmul_high_i8x16_u',
]);
// i32x4.
run(0xa0, 'V>V', ['i32x4.abs', 'i32x4.neg']);
run(0xa3, 'V>i', ['i32x4.all_true', 'i32x4.bitmask']);
run(0xa7, 'V>V', ['i32x4.extend_low_i16x8_s', 'i32x4.extend_high_i16x8_s', 'i32x4.extend_low_i16x8_u', 'i32x4.extend_high_i16x8_u']);
run(0xab, 'Vi>V', ['i32x4.shl', 'i32x4.shr_s', 'i32x4.shr_u']);
run(0xae, 'VV>V', ['i32x4.add']);
run(0xb1, 'VV>V', ['i32x4.sub']);
run(0xb5, 'VV>V', ['i32x4.mul', 'i32x4.min_s', 'i32x4.min_u', 'i32x4.max_s', 'i32x4.max_u', 'i32x4.dot_i16x8_s']);
run(0xbc, 'VV>V', [
  'i32x4.extmul_low_i16x8_s', 'i32x4.extmul_high_i16x8_s', 'i32x4.extmul_low_i16x8_u', 'i32x4.extmul_high_i16x8_u',
]);
// i64x2.
run(0xc0, 'V>V', ['i64x2.abs', 'i64x2.neg']);
run(0xc3, 'V>i', ['i64x2.all_true', 'i64x2.bitmask']);
run(0xc7, 'V>V', ['i64x2.extend_low_i32x4_s', 'i64x2.extend_high_i32x4_s', 'i64x2.extend_low_i32x4_u', 'i64x2.extend_high_i32x4_u']);
run(0xcb, 'Vi>V', ['i64x2.shl', 'i64x2.shr_s', 'i64x2.shr_u']);
run(0xce, 'VV>V', ['i64x2.add']);
run(0xd1, 'VV>V', ['i64x2.sub']);
run(0xd5, 'VV>V', [
  'i64x2.mul', 'i64x2.eq', 'i64x2.ne', 'i64x2.lt_s', 'i64x2.gt_s', 'i64x2.le_s', 'i64x2.ge_s',
  'i64x2.extmul_low_i32x4_s', 'i64x2.extmul_high_i32x4_s', 'i64x2.extmul_low_i32x4_u', 'i64x2.extmul_high_i32x4_u',
]);
// Floats.
run(0xe0, 'V>V', ['f32x4.abs', 'f32x4.neg']);
run(0xe3, 'V>V', ['f32x4.sqrt']);
run(0xe4, 'VV>V', ['f32x4.add', 'f32x4.sub', 'f32x4.mul', 'f32x4.div', 'f32x4.min', 'f32x4.max', 'f32x4.pmin', 'f32x4.pmax']);
run(0xec, 'V>V', ['f64x2.abs', 'f64x2.neg']);
run(0xef, 'V>V', ['f64x2.sqrt']);
run(0xf0, 'VV>V', ['f64x2.add', 'f64x2.sub', 'f64x2.mul', 'f64x2.div', 'f64x2.min', 'f64x2.max', 'f64x2.pmin', 'f64x2.pmax']);
// Conversions.
run(0xf8, 'V>V', [
  'i32x4.trunc_sat_f32x4_s', 'i32x4.trunc_sat_f32x4_u', 'f32x4.convert_i32x4_s', 'f32x4.convert_i32x4_u',
  'i32x4.trunc_sat_f64x2_s_zero', 'i32x4.trunc_sat_f64x2_u_zero', 'f64x2.convert_low_i32x4_s', 'f64x2.convert_low_i32x4_u',
]);

// Relaxed SIMD (Wasm 3.0): results the spec leaves to the host within a set; wasmig
// picks one per instruction (`exec/simd-relaxed.ts`, docs/simd.md).
run(RELAXED_SIMD_FIRST, 'VV>V', ['i8x16.relaxed_swizzle']);
run(0x101, 'V>V', [
  'i32x4.relaxed_trunc_f32x4_s', 'i32x4.relaxed_trunc_f32x4_u', 'i32x4.relaxed_trunc_f64x2_s_zero', 'i32x4.relaxed_trunc_f64x2_u_zero',
]);
run(0x105, 'VVV>V', [
  'f32x4.relaxed_madd', 'f32x4.relaxed_nmadd', 'f64x2.relaxed_madd', 'f64x2.relaxed_nmadd',
  'i8x16.relaxed_laneselect', 'i16x8.relaxed_laneselect', 'i32x4.relaxed_laneselect', 'i64x2.relaxed_laneselect',
]);
run(0x10d, 'VV>V', [
  'f32x4.relaxed_min', 'f32x4.relaxed_max', 'f64x2.relaxed_min', 'f64x2.relaxed_max',
  'i16x8.relaxed_q15mulr_s', 'i16x8.relaxed_dot_i8x16_i7x16_s',
]);
run(0x113, 'VVV>V', ['i32x4.relaxed_dot_i8x16_i7x16_add_s']);

/** Every SIMD instruction of Wasm 2.0 and the relaxed ones of Wasm 3.0, by ascending sub-opcode. */
export const SIMD_ROWS: readonly SimdRow[] = rows.sort((x, y) => x[0] - y[0]);

/**
 * Natural alignment (log2 of the bytes accessed) of a SIMD load or store, by sub-opcode;
 * -1 for the instructions that do not access memory.
 */
export function simdNaturalAlignment(sub: number): number {
  if (sub === 0x00 || sub === 0x0b) return 4;
  if (sub >= 0x01 && sub <= 0x06) return 3; // 8x8, 16x4, 32x2: 64 bits
  if (sub >= 0x07 && sub <= 0x0a) return sub - 0x07; // splats of 8, 16, 32, 64 bits
  if (sub >= 0x54 && sub <= 0x57) return sub - 0x54; // load lane
  if (sub >= 0x58 && sub <= 0x5b) return sub - 0x58; // store lane
  if (sub === 0x5c) return 2;
  if (sub === 0x5d) return 3;
  return -1;
}

/** How many lanes a lane immediate may name (its bound), by sub-opcode; 0 where there is none. */
export function simdLaneCount(sub: number): number {
  if (sub === 0x0d) return 32; // shuffle lanes index both operands
  if (sub >= 0x15 && sub <= 0x17) return 16;
  if (sub >= 0x18 && sub <= 0x1a) return 8;
  if (sub === 0x1b || sub === 0x1c || sub === 0x1f || sub === 0x20) return 4;
  if (sub === 0x1d || sub === 0x1e || sub === 0x21 || sub === 0x22) return 2;
  if (sub >= 0x54 && sub <= 0x5b) return 16 >> ((sub - 0x54) & 3); // 8, 16, 32, 64-bit lanes
  return 0;
}
