/**
 * The differential check of the rewriter, in small: spec scripts that exercise control
 * flow, calls, tables, memory and globals run through the native tier, paused at random
 * polls (resumed natively and in the interpreter). `npx tsx spec-tests/native-tier.ts`
 * runs the whole suite this way (`--pause P` to pause).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../helpers/cli.ts';
import { nativeHooks } from '../../spec-tests/native-tier.ts';
import { runScript } from '../../spec-tests/run.ts';

const suite = resolve(repoRoot, '..', 'shared', 'spec-tests', 'wasm-2.0');
const SCRIPTS = [
  'block', 'br', 'br_if', 'br_table', 'call', 'call_indirect', 'fac', 'func', 'global', 'if', 'left-to-right',
  'loop', 'memory_grow', 'memory_copy', 'select', 'stack', 'table_grow', 'table_set', 'unwind', 'bulk', 'linking', 'f32', 'f64',
];

for (const name of SCRIPTS) {
  test(`${name}: every command passes on the native tier, with and without pauses`, () => {
    const path = join(suite, `${name}.json`);
    if (!existsSync(path)) return; // the suite lives beside the checkout
    for (const pause of [0, 3]) {
      const r = runScript(path, nativeHooks({ pause, seed: 11 }));
      assert.is(r.failed, 0, `${name}${pause ? ' with pauses' : ''}: ${r.failures.slice(0, 3).join('; ')}`);
      assert.ok(r.passed > 0);
    }
  });
}

test.run();
