/** `wasmig run` raises V8's WebAssembly tiering budget (`src/cli/tiering-budget.ts`), unless told otherwise. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { raiseWasmTieringBudget, WASM_TIERING_BUDGET } from '../../src/cli/tiering-budget.ts';

function flagsSet(execArgv: string[], env: NodeJS.ProcessEnv): { result: number | undefined; flags: string[] } {
  const flags: string[] = [];
  const result = raiseWasmTieringBudget(execArgv, env, (f) => flags.push(f));
  return { result, flags };
}

test('the raised budget by default; a number of WASMIG_TIERING_BUDGET; V8\'s own with "default" or a node flag', () => {
  assert.equal(flagsSet([], {}), { result: WASM_TIERING_BUDGET, flags: [`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`] });
  assert.equal(flagsSet([], { WASMIG_TIERING_BUDGET: '5000000' }), { result: 5_000_000, flags: ['--wasm-tiering-budget=5000000'] });
  assert.equal(flagsSet([], { WASMIG_TIERING_BUDGET: 'default' }), { result: undefined, flags: [] });
  assert.equal(flagsSet(['--wasm-tiering-budget=42'], {}), { result: undefined, flags: [] });
  // Not a number: the raised budget, not a V8 flag built from the text.
  assert.equal(flagsSet([], { WASMIG_TIERING_BUDGET: '1; --allow-natives-syntax' }).flags, [`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`]);
});

test.run();
