/**
 * The differential check of the rewriter, in small: spec scripts that exercise control
 * flow, calls, tables, memory and globals run through the native tier, paused at random
 * polls (resumed natively and in the interpreter). `npx tsx spec-tests/native-tier.ts`
 * runs the whole suite this way (`--pause P` to pause).
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SPEC_SUITE_DIR, specSuite } from '../helpers/test-data.ts';
import { nativeHooks } from '../../spec-tests/native-tier.ts';
import { runScript } from '../../spec-tests/run.ts';

const SCRIPTS = [
  'block', 'br', 'br_if', 'br_table', 'call', 'call_indirect', 'fac', 'func', 'global', 'if', 'left-to-right',
  'loop', 'memory_grow', 'memory_copy', 'select', 'stack', 'table_grow', 'table_set', 'unwind', 'bulk', 'linking', 'f32', 'f64',
  // SIMD: v128 arguments and results through the entries, v128 globals linked between modules, lanes, memory.
  'simd_linking', 'simd_lane', 'simd_select', 'simd_address', 'simd_load64_lane', 'simd_store8_lane', 'simd_f32x4',
];

for (const name of SCRIPTS) {
  specSuite.register(test, `${name}: every command passes on the native tier, with and without pauses`, () => {
    const path = join(SPEC_SUITE_DIR, `${name}.json`);
    for (const pause of [0, 3]) {
      const r = runScript(path, nativeHooks({ pause, seed: 11 }));
      assert.is(r.failed, 0, `${name}${pause ? ' with pauses' : ''}: ${r.failures.slice(0, 3).join('; ')}`);
      assert.ok(r.passed > 0);
    }
  });
}

test.run();
