/**
 * The interpreter's JavaScript tier against the run loop it stands in for: paused after
 * any number of instructions, a thread that ran compiled code is where the loop's is
 * (pc, frames, every value below the stack pointer, the count); it ends with the
 * same result, memory and globals; it traps with the loop's message and backtrace; it
 * recurses past the JavaScript stack's limits; budgets above a slice are counted exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run, RunStatus } from '../../../src/exec/index.ts';
import type { ThreadState, WasmFunctionState } from '../../../src/exec/index.ts';
import { loadModule } from '../../../src/program/index.ts';
import { enterFunction, Store } from '../../../src/runtime/index.ts';
import { ValType } from '../../../src/wasm/types.ts';
import { assemble } from '../../helpers/assemble.ts';
import { constExpr, ModuleBuilder } from '../../helpers/module-builder.ts';

const { i32, i64, f64 } = ValType;

/**
 * work(n): a loop that calls a leaf directly (i64 and f64 arithmetic) and another through
 * a table (a global), stores into memory, fills memory (an instruction compiled code
 * leaves to the loop, in the middle of a block that goes on to a call: the loop runs the
 * rest of that block and comes back to compiled code after the call), dispatches on
 * br_table and rotates; then adds a word of memory.
 */
function workModule(): Uint8Array {
  const b = new ModuleBuilder();
  const unary = b.type([i32], [i32]);
  b.memory(1);
  b.table(ValType.funcref, 2);
  b.global(i32, true, constExpr.i32(7));
  const leafA = b.func(unary, assemble(`
    local.get 0 i64.extend_i32_s i64.const 0x123456789 i64.mul local.set 1
    local.get 0 f64.convert_i32_s f64.const 1.5 f64.mul local.set 2
    local.get 1 i64.const 17 i64.shr_u i32.wrap_i64
    local.get 2 i32.trunc_f64_s
    i32.add end`), [i64, f64]);
  // Its local 1 is read before it is written: a callee's locals start at zero.
  const leafB = b.func(unary, assemble(`
    global.get 0 local.get 0 i32.add global.set 0
    local.get 0 i32.const 7 i32.mul global.get 0 i32.xor
    local.get 1 i32.add local.get 0 local.set 1 end`), [i32]);
  b.elem({ mode: 'active', offset: constExpr.i32(0), funcs: [leafA, leafB] });
  const work = b.func(unary, assemble(`
    loop
      local.get 2 local.get 1 call ${leafA} i32.add local.set 2
      local.get 2 local.get 1 local.get 1 i32.const 1 i32.and call_indirect ${unary} 0 i32.xor local.set 2
      local.get 1 i32.const 255 i32.and i32.const 2 i32.shl local.get 2 i32.store
      i32.const 2048 local.get 1 i32.const 16 memory.fill
      local.get 2 local.get 1 call ${leafA} i32.sub local.set 2
      block block block
        local.get 1 i32.const 3 i32.rem_u br_table 0 1 2
      end
      local.get 2 i32.const 1 i32.add local.set 2
      end
      local.get 2 i32.const 5 i32.rotl local.set 2
      end
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_u br_if 0
    end
    local.get 2 i32.const 8 i32.load i32.add end`), [i32, i32]);
  b.export('work', 'func', work);
  return b.build();
}

/** A store running `name(arg)` of `bytes`, with the JavaScript tier at once (`jsAfter` 0) or never (-1). */
function start(bytes: Uint8Array, name: string, arg: number, jsAfter: number): { store: Store; t: ThreadState } {
  const store = new Store({ jsAfter });
  const addr = store.instantiate(loadModule(bytes)).exports.get(name)!.addr;
  const t = store.thread;
  t.s32[2 * t.sp] = arg;
  t.sp++;
  enterFunction(t, addr);
  return { store, t };
}

/**
 * What a paused thread is: registers, frames, the values below the stack pointer. Their
 * low words only: a slot holding an i32 leaves its high word undefined, and two runs may
 * leave different bits there (the fast and exact codes do too, `fast-code.test.ts`); a
 * 64-bit value gone wrong shows in the results, the memory and the globals compared.
 */
function state(t: ThreadState): unknown {
  return {
    pc: t.pc, fp: t.fp, sp: t.sp, funcAddr: t.funcAddr, depth: t.depth, instructions: t.instructions,
    frames: Array.from(t.frames.subarray(0, 3 * t.depth)),
    values: Array.from(t.s32.subarray(0, 2 * t.sp)).filter((_, i) => (i & 1) === 0),
  };
}

function compiledFunctions(store: Store): number {
  let n = 0;
  for (const f of store.state.funcs) if ('compiled' in f && (f as WasmFunctionState).compiled.fast?.js) n++;
  return n;
}

test('paused after any number of instructions, compiled code leaves the thread the loop leaves', () => {
  const bytes = workModule();
  const whole = start(bytes, 'work', 300, -1);
  assert.is(run(whole.t, 1e9), RunStatus.returned);
  const total = whole.t.instructions;
  assert.ok(total > 10_000, `the work ran ${total} instructions`);
  let compared = 0;
  for (let budget = 1; budget < total; budget += budget < 400 ? 1 : 97) {
    const loop = start(bytes, 'work', 300, -1);
    const js = start(bytes, 'work', 300, 0);
    assert.is(run(loop.t, budget), RunStatus.yielded);
    assert.is(run(js.t, budget), RunStatus.yielded);
    assert.equal(state(js.t), state(loop.t), `paused after ${budget} instructions`);
    compared++;
    if (budget % 5 === 0) {
      // And both go on to the same end.
      assert.is(run(js.t, 1e9), RunStatus.returned);
      assert.is(run(loop.t, 1e9), RunStatus.returned);
      assert.equal(state(js.t), state(loop.t), `resumed after ${budget}`);
    }
  }
  assert.ok(compared > 100);
  const js = start(bytes, 'work', 300, 0);
  assert.is(run(js.t, 1e9), RunStatus.returned);
  assert.is(compiledFunctions(js.store), 3, 'all three functions ran compiled');
  assert.equal(state(js.t), state(whole.t));
  const memory = (s: Store): number[] => Array.from(s.state.memories[0].bytes.subarray(0, 4096));
  assert.equal(memory(js.store), memory(whole.store));
  assert.is(js.store.state.globals[0].lo, whole.store.state.globals[0].lo);
});

test('sliced as Execution slices a run (early), compiled code ends where one run ends', () => {
  const bytes = workModule();
  const whole = start(bytes, 'work', 500, -1);
  run(whole.t, 1e9);
  for (const slice of [50, 131, 1000, 4099]) {
    const js = start(bytes, 'work', 500, 0);
    let status: RunStatus;
    let slices = 0;
    do { status = run(js.t, slice, true); slices++; } while (status === RunStatus.yielded);
    assert.is(status, RunStatus.returned);
    assert.ok(slices > 1);
    assert.equal(state(js.t), state(whole.t), `slices of ${slice}`);
  }
});

test('a budget above the most one loop call gets is counted out exactly', () => {
  const bytes = workModule();
  const js = start(bytes, 'work', 20_000_000, 0);
  const budget = 2 ** 30 + 12_345;
  assert.is(run(js.t, budget), RunStatus.yielded);
  assert.is(js.t.instructions, budget);
  // Branches to the compiled function's loop start carry a cost no slice can pay (so that
  // the loop enters compiled code there): a slice above it would have charged it.
  assert.ok(compiledFunctions(js.store) === 3);
});

/** fib(n), recursive: calls nested far deeper than the JavaScript stack holds compiled functions. */
test('recursion deeper than compiled functions nest on the JavaScript stack', () => {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  // depth(n) = n == 0 ? 0 : depth(n - 1) + 1, with a frame of some size.
  const f = b.func(t, assemble(`
    local.get 0 i32.eqz
    if i32 i32.const 0 else local.get 0 i32.const 1 i32.sub call 0 i32.const 1 i32.add end
    local.get 1 i32.add end`), [i32, i64, i64, f64]);
  b.export('depth', 'func', f);
  const bytes = b.build();
  for (const n of [10, 250, 5_000, 50_000]) {
    const js = start(bytes, 'depth', n, 0);
    assert.is(run(js.t, 1e12), RunStatus.returned);
    assert.is(js.t.s32[2 * (js.t.sp - 1)], n);
    const loop = start(bytes, 'depth', n, -1);
    run(loop.t, 1e12);
    assert.equal(state(js.t), state(loop.t), `depth ${n}`);
  }
});

/**
 * A hot function's direct callees are compiled with it, even one that has not run yet
 * (its call site then runs the same code before V8 optimizes the caller as after the
 * callee is hot), as long as they are no larger in all than it is; their own callees
 * wait, as does a function it does not call.
 */
test('a hot function compiles with its direct callees, one level deep', () => {
  const b = new ModuleBuilder();
  const unary = b.type([i32], [i32]);
  const deep = b.func(unary, assemble('local.get 0 i32.const 1 i32.add end'));
  const rare = b.func(unary, assemble(`local.get 0 call ${deep} i32.const 3 i32.mul end`));
  const other = b.func(unary, assemble('local.get 0 i32.const 5 i32.xor end'));
  // Larger than hot: 30 times x += 1.
  const large = b.func(unary, assemble(`${'local.get 0 i32.const 1 i32.add local.set 0 '.repeat(30)} local.get 0 end`));
  // hot(i) = i, plus rare(i) when i is 1000, plus large(i) when i is 2000; sum(n) = hot(0) + ... + hot(n - 1).
  const hot = b.func(unary, assemble(`
    local.get 0 i32.const 1000 i32.eq
    if i32 local.get 0 call ${rare} else i32.const 0 end
    local.get 0 i32.const 2000 i32.eq
    if i32 local.get 0 call ${large} else i32.const 0 end
    i32.add local.get 0 i32.add end`));
  const sum = b.func(unary, assemble(`
    loop
      local.get 1 local.get 2 call ${hot} i32.add local.set 1
      local.get 2 i32.const 1 i32.add local.tee 2 local.get 0 i32.lt_s br_if 0
    end
    local.get 1 end`), [i32, i32]);
  b.export('sum', 'func', sum);
  b.export('other', 'func', other);
  const bytes = b.build();
  const js = start(bytes, 'sum', 500, 5);
  assert.is(run(js.t, 1e9), RunStatus.returned);
  assert.is(js.t.s32[2 * (js.t.sp - 1)], 499 * 500 / 2);
  const compiled = (index: number): boolean => !!(js.store.state.funcs[index] as WasmFunctionState).compiled.fast?.js;
  assert.ok(compiled(hot), 'the hot function');
  assert.ok(compiled(rare), 'its callee, which never ran');
  assert.not.ok(compiled(large), 'a callee larger than itself');
  assert.not.ok(compiled(deep), "the callee's callee");
  assert.not.ok(compiled(other), 'a function it does not call');
  // The callee compiled before its first call gives what the loop gives.
  for (const jsAfter of [5, -1]) {
    const whole = start(bytes, 'sum', 1500, jsAfter);
    assert.is(run(whole.t, 1e9), RunStatus.returned);
    assert.is(whole.t.s32[2 * (whole.t.sp - 1)], 1499 * 1500 / 2 + 1001 * 3, `jsAfter ${jsAfter}`);
  }
});

test.run();
