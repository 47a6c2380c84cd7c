/**
 * SIMD in the run loops: a program with v128 locals, globals, `select`, blocks and calls
 * gives the same results on the exact code and the fast code, and run one instruction
 * at a time (where every SIMD instruction is its own step).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule } from '../../src/compile/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import { expectedKernel, simdKernelModule } from '../helpers/simd-kernel.ts';

function lanesOf(x: bigint): number[] {
  return [0, 1, 2, 3].map((k) => Number(BigInt.asIntN(32, x >> BigInt(32 * k))));
}

for (const fast of [false, true]) {
  const code = fast ? 'fast' : 'exact';
  test(`the SIMD kernel gives what the JS model says on the ${code} code`, () => {
    const store = new Store({ fast });
    const inst = store.instantiate(compileModule(decodeModule(simdKernelModule())));
    for (const n of [0, 1, 2, 7, 40]) {
      const fresh = new Store({ fast });
      const i2 = fresh.instantiate(compileModule(decodeModule(simdKernelModule())));
      const [result] = fresh.invokeRaw(i2.exports.get('kernel')!.addr, [BigInt(n)]);
      const want = expectedKernel(n);
      assert.is(Number(BigInt.asIntN(32, result)), want.result, `kernel(${n})`);
      const g = fresh.state.globals[i2.exports.get('g')!.addr];
      assert.equal([g.lo, g.hi, g.lo2, g.hi2], want.global, `global after kernel(${n})`);
    }
    // A v128 argument before a scalar one, and a v128 result, through invokeRaw.
    const v = (4n << 96n) | (3n << 64n) | (2n << 32n) | 1n;
    // (An i32 result is the low 32 bits of its slot.)
    assert.is(BigInt.asIntN(32, store.invokeRaw(inst.exports.get('lanesum')!.addr, [v, 10n])[0]), 15n);
    assert.equal(lanesOf(store.invokeRaw(inst.exports.get('splat')!.addr, [-7n])[0]), [-7, -7, -7, -7]);
  });

  test(`the SIMD kernel run one instruction at a time matches on the ${code} code`, () => {
    const store = new Store({ fast });
    const inst = store.instantiate(compileModule(decodeModule(simdKernelModule())));
    const execution = new Execution(store, inst.exports.get('kernel')!.addr, [9]);
    let steps = 0;
    let outcome = execution.run({ budget: 1 });
    while (outcome.kind === 'paused') { steps++; outcome = execution.run({ budget: 1 }); }
    assert.is(outcome.kind, 'returned');
    assert.equal(outcome.kind === 'returned' ? outcome.results : [], [expectedKernel(9).result]);
    assert.ok(steps > 100, `${steps} steps`);
  });
}

test('a v128 result of an Execution comes back as a 128-bit bigint; a v128 argument from JS is a TypeError', () => {
  const store = new Store();
  const inst = store.instantiate(compileModule(decodeModule(simdKernelModule())));
  const outcome = new Execution(store, inst.exports.get('splat')!.addr, [5]).run();
  assert.equal(outcome.kind === 'returned' ? lanesOf(outcome.results[0] as bigint) : [], [5, 5, 5, 5]);
  assert.throws(() => new Execution(store, inst.exports.get('lanesum')!.addr, [1n, 2]), (e: unknown) => e instanceof TypeError && /v128/.test((e as Error).message));
});

test.run();
