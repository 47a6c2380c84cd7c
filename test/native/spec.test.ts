/**
 * The differential check of the rewriter, in small: spec scripts that exercise control
 * flow, calls, tables, memory and globals run through the native tier, paused at random
 * polls (resumed natively and in the interpreter), and as plain modules (the module as
 * it is: the tier's plumbing without the rewriter). `npx tsx spec-tests/native-tier.ts`
 * runs the whole suite this way (`--pause P` to pause, `--plain`).
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SPEC_SUITE_DIR, specSuite, TestRequirement } from '../helpers/test-data.ts';
import { nativeHooks } from '../../spec-tests/native-tier.ts';
import { runScript } from '../../spec-tests/run.ts';

const SCRIPTS = [
  'block', 'br', 'br_if', 'br_table', 'call', 'call_indirect', 'fac', 'func', 'global', 'if', 'left-to-right',
  'loop', 'memory_grow', 'memory_copy', 'select', 'stack', 'table_grow', 'table_set', 'unwind', 'bulk', 'linking', 'f32', 'f64',
  // SIMD: v128 arguments and results through the entries, v128 globals linked between modules, lanes, memory.
  'simd_linking', 'simd_lane', 'simd_select', 'simd_address', 'simd_load64_lane', 'simd_store8_lane', 'simd_f32x4',
];

for (const name of SCRIPTS) {
  specSuite.register(test, `${name}: every command passes on the native tier, with and without pauses, and as a plain module`, () => {
    const path = join(SPEC_SUITE_DIR, `${name}.json`);
    for (const [pause, plain] of [[0, false], [3, false], [0, true]] as const) {
      const r = runScript(path, nativeHooks({ pause, plain, seed: 11 }));
      assert.is(r.failed, 0, `${name}${pause ? ' with pauses' : ''}${plain ? ' as a plain module' : ''}: ${r.failures.slice(0, 3).join('; ')}`);
      assert.ok(r.passed > 0);
    }
  });
}

/** The Wasm 3.0 suite beside the 2.0 one, and its scripts the native tier runs natively: tail calls. */
const SPEC_3_DIR = join(SPEC_SUITE_DIR, '..', 'wasm-3.0');
const spec3 = TestRequirement.path('the Wasm 3.0 spec suite', SPEC_3_DIR);
const SCRIPTS_3 = ['return_call', 'return_call_indirect'];

for (const name of SCRIPTS_3) {
  spec3.register(test, `3.0 ${name}: every command passes on the native tier, with and without pauses, resumed lazily and eagerly`, () => {
    const path = join(SPEC_3_DIR, `${name}.json`);
    for (const [pause, resumeClones] of [[0, 'lazy'], [3, 'lazy'], [3, 'eager']] as const) {
      const stats = { invokes: 0, pauses: 0, framesUnwound: 0, reentries: 0, partialReentries: 0, interpreted: 0 };
      const r = runScript(path, nativeHooks({ pause, seed: 11, resumeClones }, stats));
      assert.is(r.failed, 0, `${name}${pause ? ` with pauses, ${resumeClones}` : ''}: ${r.failures.slice(0, 3).join('; ')}`);
      assert.ok(r.passed > 0);
      assert.is(stats.interpreted, 0, 'every module ran natively');
      if (pause) assert.ok(stats.pauses > 0, 'it paused');
    }
  });
}

spec3.register(test, '3.0 linking0: a module whose instantiation failed left a function in a registered table: that invoke runs interpreted, and passes', () => {
  // The native twin of the table cannot hold a function no attached instance has; before, the invoke failed with a LinkError.
  const stats = { invokes: 0, pauses: 0, framesUnwound: 0, reentries: 0, partialReentries: 0, interpreted: 0 };
  const r = runScript(join(SPEC_3_DIR, 'linking0.json'), nativeHooks({ pause: 3, seed: 11 }, stats));
  assert.is(r.failed, 0, r.failures.slice(0, 3).join('; '));
  assert.ok(stats.invokes > 0, 'the other invokes ran natively');
});

test.run();
