/**
 * Slices that may end early (`run(t, budget, true)`, what `Execution` uses for every slice
 * short of the caller's limit): they stop at a block start without the exact loop, never
 * past the budget, always with progress; the caller's own limit is still counted out
 * exactly, and a program sliced so ends as it does in one run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fastCode, run, RunStatus } from '../../src/exec/index.ts';
import type { ThreadState, WasmFunctionState } from '../../src/exec/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { enterFunction, Execution, Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { enter, nestedModule } from '../helpers/nested-calls.ts';

const { i32 } = ValType;

/** count(n): a loop of 9 instructions a round adding 1 to a local n times; returns it. */
function loopModule(): Uint8Array {
  const b = new ModuleBuilder();
  const f = b.func(b.type([i32], [i32]), [
    0x03, 0x40,
    0x20, 1, 0x41, 1, 0x6a, 0x21, 1,
    0x20, 1, 0x20, 0, 0x49, 0x0d, 0,
    0x0b, 0x20, 1, 0x0b,
  ], [i32]);
  b.export('count', 'func', f);
  return b.build();
}

function start(rounds: number): { store: Store; t: ThreadState; addr: number } {
  const store = new Store();
  const addr = store.instantiate(loadModule(loopModule())).exports.get('count')!.addr;
  const t = store.thread;
  t.s32[2 * t.sp] = rounds;
  t.sp++;
  enterFunction(t, addr);
  return { store, t, addr };
}

const atBlockStart = (t: ThreadState): boolean => fastCode((t.store.funcs[t.funcAddr] as WasmFunctionState).compiled).fastPcAt[t.pc] >= 0;

test('an early slice stops at a block start, within its budget, having run something', () => {
  // The loop's block is 8 instructions: a budget that covers it stops at a block start.
  for (let budget = 8; budget <= 40; budget++) {
    const { t } = start(1000);
    assert.is(run(t, budget, true), RunStatus.yielded);
    assert.ok(t.instructions > 0 && t.instructions <= budget, `budget ${budget}: ran ${t.instructions}`);
    assert.ok(atBlockStart(t), `budget ${budget}: stopped inside a block (pc ${t.pc})`);
  }
});

test('without early, the budget is counted out exactly', () => {
  for (let budget = 2; budget <= 40; budget++) {
    const { t } = start(1000);
    assert.is(run(t, budget), RunStatus.yielded);
    assert.is(t.instructions, budget);
  }
});

test('a block longer than the slice still makes progress, on the exact code', () => {
  const { t } = start(1000);
  for (let i = 0; i < 20; i++) {
    const before = t.instructions;
    assert.is(run(t, 7, true), RunStatus.yielded);
    assert.is(t.instructions, before + 7);
  }
});

test('an early slice that runs out inside a compiled callee stops at a block start too', () => {
  // Compiled code that runs out of fuel in a callee leaves every caller; the loop goes
  // on in the callee with the fuel left, which may not cover its next block. The slice
  // has run something, so it ends there: it once counted the rest out on the exact loop
  // (and a run of slices kept V8 recompiling that loop).
  const module = loadModule(nestedModule());
  const begin = (jsAfter: number): ThreadState => enter(module, 'outer', 3000, jsAfter);
  const whole = begin(-1);
  assert.is(run(whole, 1e9), RunStatus.returned);
  for (const budget of [97, 251, 1000, 4093]) {
    const t = begin(0);
    let slices = 0;
    for (;;) {
      const before = t.instructions;
      const status = run(t, budget, true);
      if (status === RunStatus.returned) break;
      assert.is(status, RunStatus.yielded);
      assert.ok(t.instructions > before && t.instructions <= before + budget, `slice ${slices} of ${budget}: ran ${t.instructions - before}`);
      assert.ok(atBlockStart(t), `slice ${slices} of ${budget}: stopped inside a block (pc ${t.pc}, after ${t.instructions} instructions)`);
      slices++;
    }
    assert.ok(slices > 10, `${slices} slices of ${budget}`);
    assert.is(t.instructions, whole.instructions);
    assert.is(t.s32[2 * t.fp], whole.s32[2 * whole.fp], `the result, sliced by ${budget}`);
  }
});

test('an early slice that reaches a compiled loop with too little fuel for a round stops at its start', () => {
  // branchy(n): n rounds of a loop whose body is several blocks (an if and an else).
  // Compiled, the loop checks its fuel at its start, for the costliest round. With too
  // little, a slice that may end early stops there: the run loop once ran the rest of
  // the slice itself, block by block, and stopped at any of them (CoreMark's hot blocks
  // kept it busy, and V8 recompiling it).
  const b = new ModuleBuilder();
  const branchy = b.func(b.type([i32], [i32]), assemble(`
    loop
      local.get 1 i32.const 1 i32.add local.tee 1 i32.const 1 i32.and
      if
        local.get 2 i32.const 3 i32.add local.set 2
      else
        local.get 2 local.get 1 i32.xor i32.const 5 i32.mul local.set 2
      end
      local.get 1 local.get 0 i32.lt_u br_if 0
    end
    local.get 2 end`), [i32, i32]);
  b.export('branchy', 'func', branchy);
  const module = loadModule(b.build());
  const begin = (jsAfter: number): ThreadState => enter(module, 'branchy', 20_000, jsAfter);
  const whole = begin(-1);
  assert.is(run(whole, 1e9), RunStatus.returned);
  const t = begin(0);
  const stops = new Set<number>();
  for (let budget = 101; ; budget += 7) {
    const before = t.instructions;
    const status = run(t, budget, true);
    if (status === RunStatus.returned) break;
    assert.ok(t.instructions > before && t.instructions <= before + budget, `a slice of ${budget} ran ${t.instructions - before}`);
    stops.add(t.pc);
  }
  assert.equal([...stops].length, 1, `slices stopped at exact pcs ${[...stops].join(', ')}`);
  assert.is(t.instructions, whole.instructions);
  assert.is(t.s32[2 * t.fp], whole.s32[2 * whole.fp]);
});

test('an Execution over many slices stops exactly at its limit and returns what one run returns', () => {
  const rounds = 60_000; // about 540,000 instructions: several 131,072-instruction slices
  const once = start(rounds);
  const whole = new Execution(once.store, once.addr, [], { resumed: true, entryDepth: 0 });
  const done = whole.run();
  assert.is(done.kind, 'returned');
  const total = whole.instructions;
  const limit = 300_001;
  const { store, addr } = start(rounds);
  const sliced = new Execution(store, addr, [], { resumed: true, entryDepth: 0 });
  const paused = sliced.run({ until: limit });
  assert.equal(paused, { kind: 'paused', instructions: limit });
  const rest = sliced.run();
  assert.equal(rest, done);
  assert.is(sliced.instructions, total);
});

test.run();
