import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExhaustionError, Trap } from '../../src/errors/index.ts';
import { fastCode } from '../../src/exec/index.ts';
import type { WasmFunctionState } from '../../src/exec/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import type { RunOptions } from '../../src/runtime/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32 } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/** (func $down (param i32) (result i32): if n == 0 then 0 else down(n - 1) + 1 */
function recursiveModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  const f = b.func(t, [
    0x20, 0, 0x45, 0x04, 0x7f, // local.get 0, i32.eqz, if (result i32)
    0x41, 0, //   i32.const 0
    0x05, //      else
    0x20, 0, 0x41, 1, 0x6b, 0x10, 0, 0x41, 1, 0x6a, // local.get 0, i32.const 1, i32.sub, call 0, i32.const 1, i32.add
    0x0b, 0x0b,
  ]);
  b.export('down', 'func', f);
  return b.build();
}

/** (func $count (param i32) (result i32)): a loop adding 1 to a local n times. */
function loopModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  const f = b.func(t, [
    0x03, 0x40, // loop
    0x20, 1, 0x41, 1, 0x6a, 0x21, 1, // local1 += 1
    0x20, 1, 0x20, 0, 0x49, 0x0d, 0, // br_if 0 (local1 < n)
    0x0b, 0x20, 1, 0x0b,
  ], [i32]);
  b.export('count', 'func', f);
  return b.build();
}

test('a deep Wasm recursion runs without touching the JS stack', () => {
  const store = new Store();
  const inst = store.instantiate(loadModule(recursiveModule()));
  assert.equal(store.invoke(inst.exports.get('down')!, [150_000]), [150_000]);
});

test('a million-deep recursion is an exhaustion trap, not a Node crash', () => {
  const store = new Store();
  const inst = store.instantiate(loadModule(recursiveModule()));
  assert.throws(() => store.invoke(inst.exports.get('down')!, [1_000_000]), (e: unknown) => e instanceof ExhaustionError && e.message === 'call stack exhausted');
  // The store stays usable after the trap.
  assert.equal(store.invoke(inst.exports.get('down')!, [10]), [10]);
});

test('an execution pauses after exactly the requested number of instructions', () => {
  const store = new Store();
  const inst = store.instantiate(loadModule(loopModule()));
  const exec = new Execution(store, inst.exports.get('count')!.addr, [1000]);
  const first = exec.run({ until: 1234 });
  assert.equal(first, { kind: 'paused', instructions: 1234 });
  const second = exec.run({ budget: 1 });
  assert.equal(second, { kind: 'paused', instructions: 1235 });
  const done = exec.run();
  assert.equal(done, { kind: 'returned', results: [1000] });
  // 1000 iterations of 8 instructions (`loop` and `end` execute nothing), then local.get and the final end.
  assert.is(exec.instructions, 1000 * 8 + 2);
});

test('a slice returns about that many instructions later, at a block start; until stays exact', () => {
  const store = new Store();
  const inst = store.instantiate(loadModule(loopModule()));
  const exec = new Execution(store, inst.exports.get('count')!.addr, [50_000]);
  const t = store.thread;
  const atBlockStart = (): boolean => fastCode((store.state.funcs[t.funcAddr] as WasmFunctionState).compiled).fastPcAt[t.pc] >= 0;
  let outcome = exec.run({ until: 1234, slice: 5000 });
  assert.equal(outcome, { kind: 'paused', instructions: 1234 });
  let calls = 0;
  // 300,000 is more than one of Execution's own slices (131,072 instructions).
  for (const slice of [3, 1000, 4099, 300_000]) {
    const before = exec.instructions;
    outcome = exec.run({ slice });
    calls++;
    assert.is(outcome.kind, 'paused');
    const ran = exec.instructions - before;
    assert.ok(ran > 0 && ran <= slice, `a slice of ${slice} ran ${ran}`);
    // A slice shorter than the block it starts in is counted out on the exact code.
    if (slice > 8) assert.ok(slice - ran < 8 && atBlockStart(), `a slice of ${slice} ran ${ran}, pc ${t.pc}`);
  }
  for (;;) {
    outcome = exec.run({ slice: 777 });
    calls++;
    if (outcome.kind !== 'paused') break;
    assert.ok(atBlockStart(), `stopped inside a block after ${exec.instructions}`);
  }
  assert.equal(outcome, { kind: 'returned', results: [50_000] });
  assert.is(exec.instructions, 50_000 * 8 + 2);
  assert.ok(calls > 100, `${calls} calls`);
});

test('a slice a little longer than a signal slice ends at a block start, not counted out', () => {
  // Execution looks at the pause signal every 131,072 instructions at first. A slice a
  // little longer went in two steps, the second the few instructions the first fell
  // short by, which fit no block and were counted out exactly on the exact loop.
  const module = loadModule(loopModule());
  for (let extra = 1; extra <= 24; extra++) {
    const store = new Store();
    const exec = new Execution(store, store.instantiate(module).exports.get('count')!.addr, [100_000]);
    const t = store.thread;
    const outcome = exec.run({ slice: 131_072 + extra });
    assert.is(outcome.kind, 'paused');
    const atBlockStart = fastCode((store.state.funcs[t.funcAddr] as WasmFunctionState).compiled).fastPcAt[t.pc] >= 0;
    assert.ok(atBlockStart, `a slice of 131,072 + ${extra} stopped inside a block after ${exec.instructions}`);
    assert.ok(exec.instructions <= 131_072 + extra && exec.instructions > 131_072 - 16, `ran ${exec.instructions}`);
  }
});

test('a run option no run can stop at is a RangeError naming it, and the execution runs on', () => {
  const store = new Store();
  const inst = store.instantiate(loadModule(loopModule()));
  const exec = new Execution(store, inst.exports.get('count')!.addr, [100]);
  const bad: [object, RegExp][] = [
    [{ slice: NaN }, /^run option slice must be a whole number of instructions >= 1 \(or Infinity\), got NaN$/],
    [{ slice: 0 }, /slice .* got 0$/],
    [{ slice: -5 }, /slice .* got -5$/],
    [{ budget: NaN }, /^run option budget .* got NaN$/],
    [{ budget: -1 }, /budget .* got -1$/],
    [{ budget: 2.5 }, /budget .* got 2.5$/],
    [{ until: NaN }, /^run option until .* got NaN$/],
    [{ until: '10' }, /until .* got string$/],
    [{ timeSliceMs: -1 }, /^run option timeSliceMs must be a number of milliseconds >= 0, got -1$/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => exec.run(options as RunOptions), (error: unknown) => error instanceof RangeError && message.test(error.message), JSON.stringify(options));
    assert.is(exec.instructions, 0, `${JSON.stringify(options)} ran nothing`);
  }
  assert.equal(exec.run({ budget: 0 }), { kind: 'paused', instructions: 0 });
  assert.equal(exec.run({ until: Infinity, budget: Infinity, slice: Infinity, timeSliceMs: 0.5 }).kind, 'returned');
});

test('a trap carries the Wasm backtrace with byte offsets', () => {
  const b = new ModuleBuilder();
  const t = b.type([], []);
  const inner = b.func(t, [0x01, 0x00, 0x0b]); // nop, unreachable
  const outer = b.func(t, [0x10, inner, 0x0b]);
  b.export('outer', 'func', outer);
  const store = new Store();
  const inst = store.instantiate(loadModule(b.build()));
  try {
    store.invoke(inst.exports.get('outer')!);
    assert.unreachable('should trap');
  } catch (e) {
    assert.instance(e, Trap);
    const trap = e as Trap;
    assert.is(trap.message, 'unreachable');
    assert.equal(trap.backtrace.map((f) => f.funcIndex), [inner, outer]);
    assert.ok(trap.backtrace[0].offset > 0);
  }
});

test('host functions get and return plain values', () => {
  const b = new ModuleBuilder();
  const t = b.type([i32, i32], [i32]);
  const imp = b.importFunc('env', 'mul', t);
  const f = b.func(t, [0x20, 0, 0x20, 1, 0x10, imp, 0x41, ...s32(-1), 0x6a, 0x0b]);
  b.export('f', 'func', f);
  const store = new Store();
  const calls: unknown[][] = [];
  const inst = store.instantiate(loadModule(b.build()), { env: { mul: (x: number, y: number) => { calls.push([x, y]); return x * y; } } });
  assert.equal(store.invoke(inst.exports.get('f')!, [6, 7]), [41]);
  assert.equal(calls, [[6, 7]]);
});

test.run();
