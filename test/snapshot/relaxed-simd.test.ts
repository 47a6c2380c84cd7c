/**
 * A program using relaxed SIMD, paused after any instruction and resumed from its
 * snapshot (on the interpreter, and asked for the native tier, which leaves relaxed SIMD
 * to the interpreter) computes what the uninterrupted run computes, bit for bit, on both
 * internal codes: the choices among the results the spec allows do not depend on where
 * or when the program runs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModule, Program } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32, v128 } = ValType;

/** `v128.const` of four f32 lanes, two f64 lanes, or 16 bytes, as assembler text. */
function constOf(view: Float32Array | Float64Array | Uint8Array): string {
  return `v128.const ${[...new Uint8Array(view.buffer)].join(' ')}`;
}

/**
 * `kernel(n) -> i32`: a loop over v128 locals that uses every kind of relaxed SIMD
 * instruction, partial laneselect masks and dot operands with their top bit set
 * included, then folds the lanes into an i32.
 */
function relaxedKernel(): Uint8Array {
  const b = new ModuleBuilder();
  // locals: 0 n, 1 i, 2 acc f32x4, 3 bytes i8x16, 4 dot i32x4, 5 wide f64x2
  const kernel = b.func(b.type([i32], [i32]), assemble(`
    ${constOf(new Float32Array([1.5, -2.25, 3, 0.1]))} local.set 2
    ${constOf(Uint8Array.from({ length: 16 }, (_, k) => k * 37))} local.set 3
    ${constOf(new Float64Array([0.5, -1e-3]))} local.set 5
    block
      loop
        local.get 1 local.get 0 i32.ge_s br_if 1
        local.get 2 ${constOf(new Float32Array([0.75, 1.25, -0.5, 3]))} local.get 1 f32.convert_i32_s f32x4.splat f32x4.relaxed_madd
        ${constOf(new Float32Array([1000, 1e30, -7, 0]))} f32x4.relaxed_min local.set 2
        local.get 2 ${constOf(new Float32Array([0.01, 0.3, 1e-7, 2]))} local.get 2 f32x4.relaxed_nmadd local.set 2
        local.get 3 local.get 3 local.get 1 i8x16.splat v128.xor i8x16.relaxed_swizzle
        local.get 1 i8x16.splat local.get 2 i8x16.relaxed_laneselect local.set 3
        local.get 3 local.get 3 local.get 4 i32x4.relaxed_dot_i8x16_i7x16_add_s
        local.get 3 local.get 2 i16x8.relaxed_q15mulr_s local.get 3 i16x8.relaxed_dot_i8x16_i7x16_s
        local.get 2 i32x4.relaxed_laneselect local.set 4
        local.get 5 ${constOf(new Float64Array([1.0000001, 3]))} local.get 5 f64x2.relaxed_nmadd
        local.get 5 f64x2.relaxed_max local.get 5 f64x2.relaxed_min
        local.get 5 local.get 5 f64x2.relaxed_madd local.get 5 local.get 4 i64x2.relaxed_laneselect local.set 5
        local.get 3 local.get 4 local.get 2 i16x8.relaxed_laneselect local.get 3 local.get 2 i8x16.relaxed_laneselect
        i32x4.relaxed_trunc_f32x4_u local.get 3 f32x4.relaxed_max local.set 3
        local.get 1 i32.const 1 i32.add local.set 1
        br 0
      end
    end
    local.get 2 i32x4.relaxed_trunc_f32x4_s i32x4.extract_lane 0
    local.get 2 i32x4.relaxed_trunc_f32x4_u i32x4.extract_lane 1 i32.xor
    local.get 5 i32x4.relaxed_trunc_f64x2_s_zero i32x4.extract_lane 1 i32.xor
    local.get 5 i32x4.relaxed_trunc_f64x2_u_zero i32x4.extract_lane 0 i32.xor
    local.get 4 i32x4.extract_lane 2 i32.xor
    local.get 3 i32x4.extract_lane 3 i32.xor
    local.get 4 local.get 3 f64x2.relaxed_min i32x4.extract_lane 1 i32.xor
    end`), [i32, v128, v128, v128, v128]);
  b.export('kernel', 'func', kernel);
  return b.build();
}

const N = 9;

function straight(fast: boolean): { result: unknown; total: number } {
  const p = Program.instantiate(loadModule(relaxedKernel()), { tier: 'interp', limits: { fast } });
  p.start('kernel', [N]);
  const outcome = p.run();
  assert.is(outcome.kind, 'returned');
  return { result: outcome.kind === 'returned' ? outcome.results[0] : undefined, total: p.store.thread.instructions };
}

test('the relaxed kernel computes the same on the exact and the fast code', () => {
  const exact = straight(false), fast = straight(true);
  assert.is(fast.result, exact.result);
  assert.is(fast.total, exact.total);
  assert.ok(exact.total > 300, `${exact.total} instructions`);
});

for (const fast of [false, true]) {
  test(`paused at every instruction in turn on the ${fast ? 'fast' : 'exact'} code, the relaxed kernel resumes from its snapshot to the same result`, () => {
    const { result, total } = straight(fast);
    for (let at = 1; at < total; at += fast ? 5 : 1) {
      const p = Program.instantiate(loadModule(relaxedKernel()), { tier: 'interp', limits: { fast } });
      p.start('kernel', [N]);
      assert.is(p.run({ until: at }).kind, 'paused');
      const snapshot = p.snapshot({ embedModule: true });
      // Every fourth resume asks for the native tier: relaxed SIMD sends it to the interpreter.
      const resumed = Program.resume(snapshot, { tier: at % 4 === 0 ? 'native' : 'interp', limits: { fast: !fast } });
      const outcome = resumed.run();
      assert.equal(outcome, { kind: 'returned', results: [result] }, `paused after ${at} of ${total}`);
    }
  });
}

test.run();
