/**
 * SIMD validation (Wasm 2.0, and Wasm 3.0's relaxed SIMD): every 0xFD instruction type-checks by its signature, lane
 * immediates and alignments are bounded; a valid SIMD module compiles, and records its
 * first use of v128 (`CompiledModule.simdUse`: whether a module needs a host with SIMD).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule } from '../../src/compile/index.ts';
import { ValidationError } from '../../src/errors/index.ts';
import type { CompiledModule } from '../../src/compile/index.ts';
import { OPS, PREFIX_FD } from '../../src/wasm/opcodes.ts';
import { RELAXED_SIMD_FIRST } from '../../src/wasm/opcodes-simd.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32, v128 } = ValType;
const ZEROS = ' 0'.repeat(16);

function load(params: ValType[], results: ValType[], body: string, locals: ValType[] = []): unknown {
  const b = new ModuleBuilder();
  b.memory(1);
  b.func(b.type(params, results), assemble(`${body} end`), locals);
  try {
    return compileModule(decodeModule(b.build()));
  } catch (error) {
    return error;
  }
}

/** Did `load` compile the module (and find v128 in it)? */
const compiled = (x: unknown): boolean => typeof x === 'object' && x !== null && 'simdUse' in x && (x as CompiledModule).simdUse !== undefined;

const invalid = (message: RegExp) => (e: unknown): boolean => e instanceof ValidationError && message.test(e.message);

test('the opcode table names all 236 SIMD instructions of Wasm 2.0 and the 20 of relaxed SIMD, with a signature each', () => {
  const simd = OPS.filter((info) => info !== undefined && info.code >= PREFIX_FD);
  assert.is(simd.length, 256);
  assert.is(simd.filter((info) => info!.code < PREFIX_FD + RELAXED_SIMD_FIRST).length, 236);
  for (const info of simd) assert.ok(info!.sig !== undefined && /^[iIfFV]*>[iIfFV]?$/.test(info!.sig), info!.name);
  assert.is(OPS[PREFIX_FD + 0xba]!.name, 'i32x4.dot_i16x8_s');
  const relaxed = simd.filter((info) => info!.code >= PREFIX_FD + RELAXED_SIMD_FIRST);
  assert.equal(relaxed.map((info) => info!.code - PREFIX_FD), Array.from({ length: 20 }, (_, k) => 0x100 + k));
  for (const info of relaxed) assert.match(info!.name, /relaxed/);
  assert.is(OPS[PREFIX_FD + 0x105]!.sig, 'VVV>V'); // f32x4.relaxed_madd
  assert.is(OPS[PREFIX_FD + 0x114], undefined); // the bf16 dot product did not make Wasm 3.0
});

test('relaxed SIMD validates by its signatures, and the module records its first use', () => {
  const m = load([], [], `v128.const${ZEROS} v128.const${ZEROS} v128.const${ZEROS} v128.const${ZEROS} f32x4.relaxed_madd i8x16.relaxed_swizzle drop`);
  assert.ok(compiled(m), String(m));
  assert.match((m as CompiledModule).relaxedSimdUse!, /^function 0 \(f32x4.relaxed_madd at byte 0x[0-9a-f]+\)$/);
  assert.is((load([], [], `v128.const${ZEROS} i8x16.abs drop`) as CompiledModule).relaxedSimdUse, undefined);
  // Three v128 operands for madd, laneselect and dot_add; two for the rest; one for the truncations.
  assert.ok(invalid(/type mismatch/)(load([], [], `v128.const${ZEROS} v128.const${ZEROS} i32x4.relaxed_laneselect drop`)));
  assert.ok(invalid(/type mismatch/)(load([], [], `v128.const${ZEROS} i32.const 0 i16x8.relaxed_q15mulr_s drop`)));
  assert.ok(invalid(/type mismatch/)(load([], [i32], `v128.const${ZEROS} i32x4.relaxed_trunc_f32x4_s`)));
  assert.ok(compiled(load([], [], `v128.const${ZEROS} v128.const${ZEROS} v128.const${ZEROS} i32x4.relaxed_dot_i8x16_i7x16_add_s drop`)));
});

test('a valid SIMD body compiles, and the module records its first use of v128', () => {
  const m = load([], [i32], `v128.const${ZEROS} i32.const 3 i8x16.splat i8x16.add i8x16.extract_lane_u 15`);
  assert.ok(compiled(m), String(m));
  assert.match((m as CompiledModule).simdUse!, /^function 0 \(v128.const at byte 0x[0-9a-f]+\)$/);
  const plain = load([], [i32], 'i32.const 1');
  assert.is((plain as CompiledModule).simdUse, undefined);
});

test('v128 in a signature, a local or a global is recorded too', () => {
  assert.ok(compiled(load([v128], [], 'nop')));
  assert.ok(compiled(load([], [], 'nop', [v128])));
  const b = new ModuleBuilder();
  b.importGlobal('m', 'g', v128, false);
  assert.is(compileModule(decodeModule(b.build())).simdUse, 'a global');
});

test('type mismatches in SIMD code are validation errors', () => {
  assert.ok(invalid(/type mismatch/)(load([], [i32], `v128.const${ZEROS}`)));
  assert.ok(invalid(/type mismatch/)(load([], [], 'i32.const 0 i8x16.neg drop')));
  assert.ok(invalid(/type mismatch/)(load([], [], `v128.const${ZEROS} i64.const 0 i32x4.replace_lane 0 drop`)));
  // Select and typed select take v128 operands.
  assert.ok(compiled(load([], [], `v128.const${ZEROS} v128.const${ZEROS} i32.const 1 select drop`)));
  assert.ok(compiled(load([], [], `v128.const${ZEROS} v128.const${ZEROS} i32.const 1 select_t v128 drop`)));
});

test('lane immediates are bounded by the lane count', () => {
  assert.ok(compiled(load([], [i32], `v128.const${ZEROS} i8x16.extract_lane_s 15`)));
  assert.ok(invalid(/invalid lane index/)(load([], [i32], `v128.const${ZEROS} i8x16.extract_lane_s 16`)));
  assert.ok(invalid(/invalid lane index/)(load([], [], `v128.const${ZEROS} f64x2.extract_lane 2 drop`)));
  assert.ok(invalid(/invalid lane index/)(load([], [], `i32.const 0 v128.const${ZEROS} v128.load32_lane 4 drop`)));
  const lanes = (last: number): string => `${' 0'.repeat(15)} ${last}`;
  assert.ok(compiled(load([], [], `v128.const${ZEROS} v128.const${ZEROS} i8x16.shuffle${lanes(31)} drop`)));
  assert.ok(invalid(/invalid lane index/)(load([], [], `v128.const${ZEROS} v128.const${ZEROS} i8x16.shuffle${lanes(32)} drop`)));
});

test('SIMD memory accesses need a memory and at most natural alignment', () => {
  assert.ok(compiled(load([], [], 'i32.const 0 v128.load align=4 drop')));
  assert.ok(invalid(/alignment/)(load([], [], 'i32.const 0 v128.load align=5 drop')));
  assert.ok(invalid(/alignment/)(load([], [], 'i32.const 0 v128.load8_splat align=1 drop')));
  assert.ok(invalid(/alignment/)(load([], [], `i32.const 0 v128.const${ZEROS} v128.store16_lane align=2 0`)));
  const b = new ModuleBuilder();
  b.func(b.type([], []), assemble('i32.const 0 v128.load drop end'));
  assert.throws(() => compileModule(decodeModule(b.build())), invalid(/unknown memory/));
});

test.run();
