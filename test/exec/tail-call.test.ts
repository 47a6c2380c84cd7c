/**
 * Tail calls (Wasm 3.0 `return_call`, `return_call_indirect`): the callee takes the
 * caller's frame, so a tail recursion runs in constant depth and stack on both codes,
 * a tail call to a host function leaves the frame before the host runs, and a program
 * paused anywhere in a tail recursion resumes from its canonical frames.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExhaustionError, SnapshotError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import type { Instance } from '../../src/runtime/index.ts';
import { captureFrames, restoreFrames } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, ModuleBuilder, u32 } from '../helpers/module-builder.ts';

const { i32, i64 } = ValType;

/**
 * $sum (n i32, acc i64) -> i64: n == 0 ? acc : return_call $sum(n - 1, acc + n);
 * $even / $odd (n i32) -> i32 by return_call_indirect through table slots 0 and 1;
 * $tohost (n) -> i32: return_call of the import env.twice; $viaHost (n): 1 + $tohost(n);
 * $callSum: the same recursion with `call` instead (to show what the tail call saves).
 */
function tailModule(tail = true): Uint8Array {
  const b = new ModuleBuilder();
  const tHost = b.type([i32], [i32]);
  const tSum = b.type([i32, i64], [i64]);
  const twice = b.importFunc('env', 'twice', tHost);
  const callOp = tail ? 0x12 : 0x10;
  const sum = b.func(tSum, [
    0x20, 0, 0x45, 0x04, 0x40, 0x20, 1, 0x0f, 0x0b, //       if n == 0: return acc
    0x20, 0, 0x41, 1, 0x6b, //                                n - 1
    0x20, 1, 0x20, 0, 0xad, 0x7c, //                          acc + i64(n)
    callOp, ...u32(1), //                                     (return_)call $sum
    ...(tail ? [] : [0x0f]),
    0x0b,
  ]);
  // even: n == 0 ? 1 : return_call_indirect (type tHost) table[1] (n - 1); odd mirrors it.
  const parity = (base: number, slot: number): number[] => [
    0x20, 0, 0x45, 0x04, 0x40, 0x41, base, 0x0f, 0x0b,
    0x20, 0, 0x41, 1, 0x6b, 0x41, slot, 0x13, ...u32(tHost), 0,
    0x0b,
  ];
  const even = b.func(tHost, parity(1, 1));
  const odd = b.func(tHost, parity(0, 0));
  const tohost = b.func(tHost, [0x20, 0, 0x41, 3, 0x6a, 0x12, ...u32(twice), 0x0b]);
  const viaHost = b.func(tHost, [0x41, 1, 0x20, 0, 0x10, ...u32(tohost), 0x6a, 0x0b]);
  // $start (n) -> i64 = return_call $sum(n, 0): other parameters than its own; $outer (n) -> i64 = 1 + $start(n).
  const tStart = b.type([i32], [i64]);
  const start = b.func(tStart, [0x20, 0, 0x42, 0, 0x12, ...u32(sum), 0x0b]);
  const outer = b.func(tStart, [0x42, 1, 0x20, 0, 0x10, ...u32(start), 0x7c, 0x0b]);
  b.export('outer', 'func', outer);
  b.table(ValType.funcref, 2, 2);
  b.elem({ mode: 'active', offset: constExpr.i32(0), funcs: [even, odd] });
  b.export('sum', 'func', sum).export('even', 'func', even).export('tohost', 'func', tohost).export('viaHost', 'func', viaHost);
  return b.build();
}

function instantiate(fast: boolean, maxDepth: number, bytes = tailModule()): { store: Store; instance: Instance; fn: (name: string) => number } {
  const store = new Store({ fast, maxDepth });
  const instance = store.instantiate(loadModule(bytes), { env: { twice: (x: number) => 2 * x } });
  return { store, instance, fn: (name) => instance.exports.get(name)!.addr };
}

for (const fast of [false, true]) {
  const code = fast ? 'fast' : 'exact';

  test(`${code} code: a tail recursion a million deep runs within a call depth of 8, in constant stack`, () => {
    const { store, fn } = instantiate(fast, 8);
    const slotsBefore = store.thread.s32.length;
    const framesBefore = store.thread.frames.length;
    const n = 1_000_000;
    assert.equal(store.invoke(fn('sum'), [n, 0n]), [BigInt(n) * BigInt(n + 1) / 2n]);
    assert.is(store.thread.s32.length, slotsBefore, 'the value stack did not grow');
    assert.is(store.thread.frames.length, framesBefore, 'the frame records did not grow');
  });

  test(`${code} code: the same recursion with plain calls exhausts that depth (what the tail call saves)`, () => {
    const { store, fn } = instantiate(fast, 8, tailModule(false));
    assert.equal(store.invoke(fn('sum'), [5, 0n]), [15n]);
    assert.throws(() => store.invoke(fn('sum'), [100, 0n]), (e: unknown) => e instanceof ExhaustionError);
  });

  test(`${code} code: return_call_indirect between two functions, 100,001 deep`, () => {
    const { store, fn } = instantiate(fast, 8);
    assert.equal(store.invoke(fn('even'), [100_001]), [0]);
    assert.equal(store.invoke(fn('even'), [100_000]), [1]);
  });

  test(`${code} code: a tail call to a host function, from the entry function and from a deeper one`, () => {
    const { store, fn } = instantiate(fast, 8);
    assert.equal(store.invoke(fn('tohost'), [4]), [14]);
    assert.equal(store.invoke(fn('viaHost'), [4]), [15]);
    assert.is(store.thread.depth, 0);
    // One instruction at a time: the pause after the host call lands in the caller.
    for (const [name, want] of [['tohost', 14], ['viaHost', 15]] as const) {
      const execution = new Execution(store, fn(name), [4]);
      let outcome = execution.run({ budget: 1 });
      let steps = 0;
      while (outcome.kind === 'paused') { steps++; outcome = execution.run({ budget: 1 }); }
      assert.equal(outcome, { kind: 'returned', results: [want] }, `${name} stepped`);
      assert.ok(steps >= 4);
    }
  });

  test(`${code} code: paused after any instruction of a tail recursion, the frames resume elsewhere to the same result`, () => {
    const whole = instantiate(fast, 8);
    const expected = new Execution(whole.store, whole.fn('sum'), [6, 100n]).run();
    assert.equal(expected, { kind: 'returned', results: [121n] });
    const steps = whole.store.thread.instructions;
    for (let k = 0; k < steps; k++) {
      const a = instantiate(fast, 8);
      const execution = new Execution(a.store, a.fn('sum'), [6, 100n]);
      assert.is(execution.run({ until: k }).kind, 'paused');
      const frames = captureFrames({ store: a.store, instance: a.instance, execution });
      assert.is(frames.length, 1, `one frame after ${k} instructions`);
      const b = instantiate(fast, 8);
      const resumed = new Execution(b.store, frames[0].funcIndex, [], { resumed: true });
      restoreFrames({ store: b.store, instance: b.instance, execution: resumed }, frames);
      b.store.thread.instructions = k;
      assert.equal(resumed.run(), expected, `paused after ${k}`);
      assert.is(b.store.thread.instructions, steps);
    }
  });
}

for (const fast of [false, true]) {
  test(`${fast ? 'fast' : 'exact'} code: a frame below one its callee tail-called (other parameters) is captured and restored at every instruction`, () => {
    const whole = instantiate(fast, 8);
    const expected = new Execution(whole.store, whole.fn('outer'), [5]).run();
    assert.equal(expected, { kind: 'returned', results: [16n] });
    const steps = whole.store.thread.instructions;
    let deep = 0;
    for (let k = 0; k < steps; k++) {
      const a = instantiate(fast, 8);
      const execution = new Execution(a.store, a.fn('outer'), [5]);
      assert.is(execution.run({ until: k }).kind, 'paused');
      const frames = captureFrames({ store: a.store, instance: a.instance, execution });
      if (frames.length === 2) deep++;
      const b = instantiate(fast, 8);
      const resumed = new Execution(b.store, frames[0].funcIndex, [], { resumed: true });
      restoreFrames({ store: b.store, instance: b.instance, execution: resumed }, frames);
      b.store.thread.instructions = k;
      assert.equal(resumed.run(), expected, `paused after ${k}`);
    }
    assert.ok(deep > 10, `${deep} pauses with the tail-called function above its caller`);
  });
}

test('a snapshot while a tail-called asynchronous import has not returned is a clear error; the run then completes', async () => {
  const compiled = loadModule(tailModule());
  for (const entry of ['tohost', 'viaHost']) {
    let settle: (v: number) => void = () => {};
    const program = Program.instantiate(compiled, { imports: { env: { twice: (x: number) => new Promise<number>((res) => { settle = () => res(2 * x); }) } } });
    program.start(entry, [4]);
    assert.is(program.run().kind, 'awaiting', entry);
    assert.throws(() => program.captureState(), (e: unknown) => e instanceof SnapshotError && /tail/.test((e as Error).message), entry);
    settle(0);
    assert.equal(await program.runAsync(), { kind: 'returned', results: [entry === 'tohost' ? 14 : 15] }, entry);
  }
});

test('validation: a tail call whose callee returns other types than the caller is invalid', () => {
  const b = new ModuleBuilder();
  const t1 = b.type([], [i32]);
  const t2 = b.type([], [i64]);
  const callee = b.func(t2, [0x42, 0, 0x0b]);
  b.func(t1, [0x12, ...u32(callee), 0x0b]);
  assert.throws(() => loadModule(b.build()), /type mismatch: a tail call's results must be the function's results/);
});

test.run();
