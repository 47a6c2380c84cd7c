/**
 * Unwinding at every safepoint: small modules whose operand stacks hold values below
 * calls, below blocks and as loop parameters, paused at each poll in turn; the frames
 * they unwind into are checked, and the run carries on, natively (resume clones) or in
 * the interpreter, to the uninterrupted result. Then a module with every kind of state
 * (NaN payloads in globals, a grown memory, a dropped segment, a host import with its
 * own state) is snapshotted mid-run on the native tier and resumed on both tiers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NativeExecution, NativeTier, nativeTierOf } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { decodeSnapshot } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, ModuleBuilder, s32, s64 } from '../helpers/module-builder.ts';

const { i32, i64, f32, f64 } = ValType;

/**
 * work(n) = 7 + sum of sq(i) for i < n, with 7 under the whole loop, the accumulator
 * below sq's argument and both as the loop's parameters; branchy(x) crosses if/else,
 * br_table and blocks with values below them.
 */
function stackyModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tUnary = b.type([i32], [i32]);
  const tLoop = b.type([i32, i32], [i32]);
  const sq = b.func(tUnary, [
    0x41, 0, 0x21, 1, //                                  j = 0 (a loop, so that sq polls too)
    0x03, 0x40, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b,
    0x20, 0, 0x20, 0, 0x6c, 0x0b,
  ], [i32]);
  const work = b.func(tUnary, [
    0x41, 7, //                                          7 (under everything)
    0x41, 0, 0x41, 0, //                                 acc, i
    0x03, tLoop, //                                      loop (param i32 i32) (result i32)
    0x21, 1, //                                            i -> $i
    0x20, 1, 0x10, sq, 0x6a, //                            acc + sq(i)
    0x20, 1, 0x41, 1, 0x6a, //                             i + 1
    0x22, 1, 0x20, 1, 0x20, 0, 0x48, 0x0d, 0, //           br_if loop with [acc', i'] while i' < n
    0x1a, //                                               drop i'
    0x0b,
    0x6a, 0x0b, //                                       7 + acc
  ], [i32]);
  const branchy = b.func(tUnary, [
    0x41, ...s32(100), //                                100 (under)
    0x20, 0, 0x04, i32, 0x20, 0, 0x10, sq, 0x05, 0x41, 3, 0x10, sq, 0x0b, // if x then sq(x) else sq(3)
    0x02, i32, 0x02, i32, 0x41, 10, 0x20, 0, 0x0e, 1, 0, 1, 0x0b, 0x41, 1, 0x6a, 0x0b, // br_table over two blocks
    0x10, sq, 0x6a, 0x6a, 0x0b,
  ]);
  b.export('work', 'func', work);
  b.export('branchy', 'func', branchy);
  return b.build();
}

const stacky = loadModule(stackyModule());

function expected(name: string, args: number[]): unknown[] {
  const store = new Store();
  const inst = store.instantiate(stacky);
  return store.invoke(inst.exports.get(name)!, args);
}

/** Runs `name(args)` natively, pausing at poll number `at` (every loop header check polls; `unroll` 1: every iteration). */
function pausedRun(name: string, args: number[], at: number, reentry: boolean, unroll: number): { paused: boolean; results: unknown[]; frames: number } {
  const store = new Store();
  const inst = store.instantiate(stacky);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll } });
  tier.attach(inst);
  let n = 0;
  tier.pollHook = () => ++n === at;
  const ex = new NativeExecution(tier, inst.exports.get(name)!.addr, args);
  ex.reentry = reentry;
  let outcome = ex.run();
  const paused = outcome.kind === 'paused';
  const frames = ex.lastUnwound.length;
  if (paused) {
    // The paused state is in the interpreter's thread, as a snapshot would read it.
    assert.is(store.thread.depth, frames);
    outcome = ex.run();
  }
  assert.is(outcome.kind, 'returned');
  return { paused, results: (outcome as { results: unknown[] }).results, frames };
}

for (const [name, args, unroll] of [['work', [40], 1], ['branchy', [0], 1], ['branchy', [1], 1], ['branchy', [5], 1], ['branchy', [5], 3]] as const) {
  test(`${name}(${args}), loops in ${unroll} cop${unroll === 1 ? 'y' : 'ies'}: paused at every poll, resumed natively and in the interpreter`, () => {
    const want = expected(name, [...args]);
    let pausedAt = 0;
    let deepest = 0;
    for (let at = 1; ; at++) {
      const native = pausedRun(name, [...args], at, true, unroll);
      const interp = pausedRun(name, [...args], at, false, unroll);
      assert.equal(native.results, want, `poll ${at}, native`);
      assert.equal(interp.results, want, `poll ${at}, interpreter`);
      if (!native.paused) break;
      pausedAt++;
      deepest = Math.max(deepest, native.frames);
    }
    assert.ok(pausedAt > 3, `paused at ${pausedAt} polls`);
    assert.ok(deepest >= 2, 'pauses inside a callee');
  });
}

test('an unwound frame keeps the values below calls and the loop parameters', () => {
  const store = new Store();
  const inst = store.instantiate(stacky);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  tier.attach(inst);
  let n = 0;
  tier.pollHook = () => ++n === 6;
  const ex = new NativeExecution(tier, inst.exports.get('work')!.addr, [40]);
  assert.is(ex.run().kind, 'paused');
  const [caller, callee] = ex.lastUnwound;
  // In work: 7 and the accumulator below sq's argument; sq's own loop at its header.
  assert.is(caller.funcIndex, 1);
  assert.is(caller.stack[0], 7);
  assert.is(caller.stack.length, 2);
  assert.is(callee.funcIndex, 0);
  assert.is(callee.locals[0], caller.locals[1]);
});

test('prepareRun makes the resume clones of paused frames before the run, which then makes none', () => {
  const store = new Store();
  const inst = store.instantiate(stacky);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  const native = tier.attach(inst);
  let n = 0;
  tier.pollHook = () => ++n === 6;
  const ex = new NativeExecution(tier, inst.exports.get('work')!.addr, [40]);
  assert.is(ex.run().kind, 'paused');
  assert.is(native.clones.size, 0);
  ex.prepareRun();
  const made = native.clones.size;
  assert.is(made, ex.lastUnwound.length, 'one clone per paused frame');
  const outcome = ex.run();
  assert.equal(outcome, { kind: 'returned', results: expected('work', [40]) });
  assert.is(native.clones.size, made);
});

/** A module with every kind of state, and a host import whose counter travels as host state. */
function machineModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tTick = b.type([i32], [i32]);
  const tWork = b.type([i32], [i64]);
  const tick = b.importFunc('env', 'tick', tTick);
  b.memory(1, 10);
  b.global(i64, true, constExpr.i64(-(2n ** 63n)));
  b.global(f32, true, constExpr.f32(0));
  b.global(f64, true, constExpr.f64(0));
  const work = b.func(tWork, [
    0x41, ...s32(0x7fa00001), 0xbe, 0x24, 1, //                       g1 = f32 NaN with a payload
    0x42, ...s64(0x7ff0000000000123n), 0xbf, 0x24, 2, //              g2 = f64 NaN with a payload
    0x41, 3, 0x40, 0, 0x1a, //                                        memory.grow 3
    0x41, ...s32(3 * 65536), 0x41, ...s32(0x5eed), 0x36, 2, 0, //    store at page 3
    0xfc, 9, 0, //                                                    data.drop 0
    0x03, 0x40, //                                                    loop
    0x20, 2, 0x42, 31, 0x7e, 0x20, 1, 0x10, tick, 0xac, 0x7c, 0x21, 2, // acc = acc * 31 + i64(tick(i))
    0x23, 0, 0x42, 1, 0x7c, 0x24, 0, //                                g0 += 1
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, //       while (++i < n)
    0x0b,
    0x20, 2, 0x23, 0, 0x85, 0x41, ...s32(3 * 65536), 0x28, 2, 0, 0xad, 0x7c, // acc ^ g0 + page 3's word
    0x0b,
  ], [i32, i64]);
  b.export('work', 'func', work);
  b.export('memory', 'memory', 0);
  b.data({ mode: 'passive', bytes: [1, 2, 3] });
  b.dataCount();
  return b.build();
}

const machine = loadModule(machineModule());

function host(start = 0): { counter: number; imports: { env: { tick: (x: number) => number } } } {
  const e = { counter: start, imports: { env: { tick: (x: number): number => x * 7 + e.counter++ } } };
  return e;
}

test('a native pause snapshots every kind of state; it resumes on both tiers to the same end', () => {
  const reference = Program.instantiate(machine, { imports: host().imports, tier: 'interp' });
  const want = reference.start('work', [500]).run();
  assert.is(want.kind, 'returned');
  for (const at of [1, 7, 50, 200]) {
    for (const tier of ['interp', 'native'] as const) {
      const h = host();
      const a = Program.instantiate(machine, { imports: h.imports, tier: 'native' });
      a.registerHostState('tick', () => ({ counter: h.counter }));
      const native = nativeTierOf(a, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
      let n = 0;
      native.pollHook = () => ++n === at;
      a.start('work', [500]);
      assert.is(a.run().kind, 'paused', `poll ${at}`);
      const snapshot = a.snapshot();
      const state = decodeSnapshot(snapshot).state;
      assert.is(state.globals[1].value, 0x7fa00001, 'f32 NaN payload');
      assert.is(state.globals[2].value, 0x7ff0000000000123n, 'f64 NaN payload');
      assert.equal(state.droppedData, [0]);
      assert.is(state.memories[0].pages, 4);
      const saved = state.host['tick'] as { counter: number };
      const h2 = host(saved.counter);
      const b = Program.resume(snapshot, { module: machine, imports: h2.imports, tier });
      assert.equal(b.run(), want, `paused at poll ${at}, resumed on ${tier}`);
    }
  }
});

test.run();
