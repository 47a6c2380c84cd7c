/**
 * The scripts of the Wasm 3.0 suite (`../shared/spec-tests/wasm-3.0`) that wasmig passes
 * completely, which `npm test` runs (`npm run spec:3`, also snapshotted every 997
 * instructions): all 230 (the 7 relaxed SIMD scripts joined with relaxed SIMD, issue 18). A
 * script the suite gains joins this list once it passes.
 */
export const WASM3_PASSING: readonly string[] = [
  'address', 'address0', 'address1', 'address64', 'align', 'align0', 'align64', 'binary', 'binary-gc',
  'binary-leb128', 'binary0', 'binary_leb128_64', 'block', 'br', 'br_if', 'br_on_non_null', 'br_on_null',
  'br_table', 'bulk', 'bulk64', 'call', 'call_indirect', 'call_indirect64', 'call_ref', 'comments', 'const',
  'conversions', 'custom', 'data', 'data0', 'data1', 'data_drop0', 'elem', 'endianness', 'endianness64',
  'exports', 'exports0', 'f32', 'f32_bitwise', 'f32_cmp', 'f64', 'f64_bitwise', 'f64_cmp', 'fac',
  'float_exprs', 'float_exprs0', 'float_exprs1', 'float_literals', 'float_memory', 'float_memory0',
  'float_memory64', 'float_misc', 'forward', 'func', 'func_ptrs', 'global', 'i16x8_relaxed_q15mulr_s', 'i32',
  'i32x4_relaxed_trunc', 'i64', 'i8x16_relaxed_swizzle', 'id', 'if',
  'imports', 'imports0', 'imports1', 'imports2', 'imports3', 'imports4', 'inline-module', 'int_exprs',
  'int_literals', 'labels', 'left-to-right', 'linking', 'linking0', 'linking1', 'linking2', 'linking3', 'load',
  'load0', 'load1', 'load2', 'load64', 'local_get', 'local_init', 'local_set', 'local_tee', 'loop',
  'memory-multi', 'memory64', 'memory64-imports', 'memory_copy', 'memory_copy0', 'memory_copy1',
  'memory_copy64', 'memory_fill', 'memory_fill0', 'memory_fill64', 'memory_grow', 'memory_grow64',
  'memory_init', 'memory_init0', 'memory_init64', 'memory_redundancy', 'memory_redundancy64', 'memory_size',
  'memory_size0', 'memory_size1', 'memory_size2', 'memory_size3', 'memory_size_import', 'memory_trap',
  'memory_trap0', 'memory_trap1', 'memory_trap64', 'names', 'nop', 'obsolete-keywords', 'ref',
  'ref_as_non_null', 'ref_func', 'ref_is_null', 'relaxed_dot_product', 'relaxed_laneselect', 'relaxed_madd_nmadd',
  'relaxed_min_max', 'return', 'return_call', 'return_call_indirect',
  'return_call_ref', 'select', 'simd_address', 'simd_align', 'simd_bit_shift', 'simd_bitwise', 'simd_boolean',
  'simd_const', 'simd_conversions', 'simd_f32x4', 'simd_f32x4_arith', 'simd_f32x4_cmp', 'simd_f32x4_pmin_pmax',
  'simd_f32x4_rounding', 'simd_f64x2', 'simd_f64x2_arith', 'simd_f64x2_cmp', 'simd_f64x2_pmin_pmax',
  'simd_f64x2_rounding', 'simd_i16x8_arith', 'simd_i16x8_arith2', 'simd_i16x8_cmp',
  'simd_i16x8_extadd_pairwise_i8x16', 'simd_i16x8_extmul_i8x16', 'simd_i16x8_q15mulr_sat_s',
  'simd_i16x8_sat_arith', 'simd_i32x4_arith', 'simd_i32x4_arith2', 'simd_i32x4_cmp', 'simd_i32x4_dot_i16x8',
  'simd_i32x4_extadd_pairwise_i16x8', 'simd_i32x4_extmul_i16x8', 'simd_i32x4_trunc_sat_f32x4',
  'simd_i32x4_trunc_sat_f64x2', 'simd_i64x2_arith', 'simd_i64x2_arith2', 'simd_i64x2_cmp',
  'simd_i64x2_extmul_i32x4', 'simd_i8x16_arith', 'simd_i8x16_arith2', 'simd_i8x16_cmp', 'simd_i8x16_sat_arith',
  'simd_int_to_int_extend', 'simd_lane', 'simd_linking', 'simd_load', 'simd_load16_lane', 'simd_load32_lane',
  'simd_load64_lane', 'simd_load8_lane', 'simd_load_extend', 'simd_load_splat', 'simd_load_zero',
  'simd_memory-multi', 'simd_select', 'simd_splat', 'simd_store', 'simd_store16_lane', 'simd_store32_lane',
  'simd_store64_lane', 'simd_store8_lane', 'skip-stack-guard-page', 'stack', 'start', 'start0', 'store',
  'store0', 'store1', 'store2', 'switch', 'table', 'table-sub', 'table64', 'table_copy', 'table_copy64',
  'table_copy_mixed', 'table_fill', 'table_fill64', 'table_get', 'table_get64', 'table_grow', 'table_grow64',
  'table_set', 'table_set64', 'table_size', 'table_size64', 'throw', 'throw_ref', 'token', 'traps', 'traps0',
  'type', 'unreachable', 'unreached-invalid', 'unreached-valid', 'unwind', 'utf8-custom-section-id',
  'utf8-import-field', 'utf8-import-module', 'utf8-invalid-encoding',
];
