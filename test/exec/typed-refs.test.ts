/**
 * Typed function references (Wasm 3.0) running on both internal codes: `call_ref`
 * through a table of `(ref null $t)` and a non-nullable local, `br_on_null` skipping the
 * null slots, `br_on_non_null`, `ref.as_non_null` and `call_ref` trapping on null,
 * `return_call_ref` recursing in constant depth, a `call_ref` of an import; and a
 * program paused after any of its instructions resumes from its canonical frames to the
 * same result.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError, Trap } from '../../src/errors/index.ts';
import type { WasmFunctionState } from '../../src/exec/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import type { Instance } from '../../src/runtime/index.ts';
import { captureFrames, restoreFrames } from '../../src/snapshot/index.ts';
import { refType, ValType } from '../../src/wasm/index.ts';
import type { RefType, ValType as ValTypeT } from '../../src/wasm/index.ts';
import { ModuleBuilder, u32 } from '../helpers/module-builder.ts';

const { i32 } = ValType;
const END = 0x0b;

/**
 * t = [i32] -> [i32]. $inc, $dbl, the import env.neg; table 0 of (ref null t) = [$inc, $dbl,
 * null, env.neg]; global 0 (mut (ref null t)) = $inc.
 * $apply (n): acc = 0; for i < n: f = table[i % 4] (skipped by br_on_null when null); acc = f(acc) by call_ref; then return_call_ref global 0 (acc).
 * $pick (i): br_on_non_null table[i] to call it with 10, else -1.
 * $count (n): n == 0 ? 0 : return_call_ref $count (n - 1).
 * $callNull, $asNonNull: call_ref / ref.as_non_null of a null.
 */
function typedRefModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  const refT = refType(t, false) as ValTypeT;
  const nullRefT = refType(t, true) as ValTypeT;
  const neg = b.importFunc('env', 'neg', t);
  const inc = b.func(t, [0x20, 0, 0x41, 1, 0x6a, END]);
  const dbl = b.func(t, [0x20, 0, 0x20, 0, 0x6a, END]);
  b.table(nullRefT as RefType, 4, 4);
  b.elem({ mode: 'active', type: nullRefT as RefType, offset: [0x41, 0, END], exprs: [[0xd2, inc, END], [0xd2, dbl, END], [0xd0, t, END], [0xd2, neg, END]] });
  b.global(nullRefT, true, [0xd2, inc, END]);
  const apply = b.func(t, [
    0x02, 0x40, 0x03, 0x40, //                                    block $done, loop $l
    0x20, 2, 0x20, 0, 0x4f, 0x0d, 1, //                           i >= n: br_if $done
    0x02, 0x40, //                                                block $skip
    0x20, 2, 0x41, 4, 0x70, 0x25, 0, //                           table.get 0 (i % 4)
    0xd5, 0, //                                                   br_on_null $skip
    0x21, 3, //                                                   f = the (ref t)
    0x20, 1, 0x20, 3, 0x14, ...u32(t), 0x21, 1, //                acc = call_ref f (acc)
    END,
    0x20, 2, 0x41, 1, 0x6a, 0x21, 2, 0x0c, 0, //                  i++, br $l
    END, END,
    0x20, 1, 0x23, 0, 0xd4, 0x15, ...u32(t), //                   return_call_ref (ref.as_non_null global 0) (acc)
    END,
  ], [i32, i32, refT]);
  const pick = b.func(t, [
    0x02, 0x64, t, 0x20, 0, 0x25, 0, 0xd6, 0, 0x41, 0x7f, 0x0f, END, // block (result (ref t)) ... br_on_non_null 0; return -1
    0x21, 1, 0x41, 10, 0x20, 1, 0x14, ...u32(t), END, //               call_ref it with 10
  ], [refT]);
  const count = b.func(t, [
    0x20, 0, 0x45, 0x04, 0x40, 0x41, 0, 0x0f, END,
    0x20, 0, 0x41, 1, 0x6b, 0xd2, 5, 0x15, ...u32(t), END, // (itself: function 5)
  ]);
  const callNull = b.func(t, [0x20, 0, 0xd0, t, 0x14, ...u32(t), END]);
  const asNonNull = b.func(t, [0xd0, t, 0xd4, 0x1a, 0x20, 0, END]);
  b.export('apply', 'func', apply).export('pick', 'func', pick).export('count', 'func', count);
  b.export('callNull', 'func', callNull).export('asNonNull', 'func', asNonNull);
  const bytes = b.build();
  if (count !== 5) throw new Error(`typedRefModule: $count is function ${count}, its code says 5`);
  return bytes;
}

/** $apply in JavaScript: i % 4 picks inc, dbl, nothing, neg; then inc. */
function expectedApply(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    if (k === 0) acc = (acc + 1) | 0;
    else if (k === 1) acc = (acc * 2) | 0;
    else if (k === 3) acc = -acc | 0;
  }
  return (acc + 1) | 0;
}

function instantiate(fast: boolean, maxDepth = 8): { store: Store; instance: Instance; fn: (name: string) => number } {
  const store = new Store({ fast, maxDepth });
  const instance = store.instantiate(loadModule(typedRefModule()), { env: { neg: (x: number) => -x | 0 } });
  return { store, instance, fn: (name) => instance.exports.get(name)!.addr };
}

const trapsWith = (message: string) => (e: unknown): boolean => e instanceof Trap && e.message === message;

for (const fast of [false, true]) {
  const code = fast ? 'fast' : 'exact';

  test(`${code} code: call_ref through a typed table, br_on_null over its null slot, return_call_ref at the end`, () => {
    const { store, fn } = instantiate(fast);
    for (const n of [0, 1, 2, 3, 4, 9, 50]) assert.equal(store.invoke(fn('apply'), [n]), [expectedApply(n)], `apply(${n})`);
  });

  test(`${code} code: br_on_non_null branches with the reference, falls through on null`, () => {
    const { store, fn } = instantiate(fast);
    assert.equal(store.invoke(fn('pick'), [0]), [11]);
    assert.equal(store.invoke(fn('pick'), [1]), [20]);
    assert.equal(store.invoke(fn('pick'), [2]), [-1]);
    assert.equal(store.invoke(fn('pick'), [3]), [-10]);
  });

  test(`${code} code: return_call_ref recurses a million deep within a call depth of 8, in constant stack`, () => {
    const { store, fn } = instantiate(fast);
    const slots = store.thread.s32.length, frames = store.thread.frames.length;
    assert.equal(store.invoke(fn('count'), [1_000_000]), [0]);
    assert.is(store.thread.s32.length, slots);
    assert.is(store.thread.frames.length, frames);
  });

  test(`${code} code: call_ref and ref.as_non_null of null trap with the spec's messages`, () => {
    const { store, fn } = instantiate(fast);
    assert.throws(() => store.invoke(fn('callNull'), [1]), trapsWith('null function reference'));
    assert.throws(() => store.invoke(fn('asNonNull'), [1]), trapsWith('null reference'));
  });

  test(`${code} code: paused after any instruction, a typed-reference program resumes elsewhere to the same result`, () => {
    for (const [name, arg] of [['apply', 5], ['pick', 1], ['count', 6]] as const) {
      const whole = instantiate(fast);
      const expected = new Execution(whole.store, whole.fn(name), [arg]).run();
      const steps = whole.store.thread.instructions;
      assert.ok(steps > 5, `${name}: ${steps} instructions`);
      for (let k = 0; k < steps; k++) {
        const a = instantiate(fast);
        const execution = new Execution(a.store, a.fn(name), [arg]);
        const paused = execution.run({ until: k });
        assert.is(paused.kind, 'paused', `${name}: paused after ${k}`);
        const frames = captureFrames({ store: a.store, instance: a.instance, execution });
        const b = instantiate(fast);
        const resumed = new Execution(b.store, frames[0].funcIndex, [], { resumed: true });
        restoreFrames({ store: b.store, instance: b.instance, execution: resumed }, frames);
        b.store.thread.instructions = k;
        assert.equal(resumed.run(), expected, `${name}: paused after ${k}`);
        assert.is(b.store.thread.instructions, steps, `${name}: instruction count after ${k}`);
      }
    }
  });
}

test('a restore refuses a null where validation types the stack value as a non-nullable reference', () => {
  let refusedNull = 0, acceptedNull = 0;
  for (let k = 0; k < 60; k++) {
    const a = instantiate(false);
    const execution = new Execution(a.store, a.fn('apply'), [5]);
    if (execution.run({ until: k }).kind !== 'paused') break;
    const frames = captureFrames({ store: a.store, instance: a.instance, execution });
    if (frames.length !== 1) continue;
    const top = frames[0];
    // Where validation says the top of the stack is a function reference (of any type), null it.
    const points = (a.store.state.funcs[a.fn('apply')] as WasmFunctionState).compiled.points;
    const types = points.stackTypesAt(points.pcAt(top.pc)!);
    if (types.length === 0 || types[types.length - 1] !== ValType.funcref || top.stack[types.length - 1] === null) continue;
    top.stack[types.length - 1] = null;
    const b = instantiate(false);
    const resumed = new Execution(b.store, frames[0].funcIndex, [], { resumed: true });
    try {
      restoreFrames({ store: b.store, instance: b.instance, execution: resumed }, frames);
      acceptedNull++;
    } catch (e) {
      assert.ok(e instanceof SnapshotError, String(e));
      assert.match((e as Error).message, /frame 0: stack value \d+ is null, validation types it as a non-nullable reference/);
      refusedNull++;
    }
  }
  assert.ok(refusedNull > 0, 'some pause had a non-null reference on top');
  assert.ok(acceptedNull > 0, 'a nullable reference on top may be null');
});

test('a snapshot taken while an asynchronous import called by call_ref is pending makes the call again when resumed', async () => {
  const compiled = loadModule(typedRefModule());
  const program = Program.instantiate(compiled, { imports: { env: { neg: () => new Promise<number>(() => {}) } } });
  program.start('pick', [3]);
  assert.is(program.run().kind, 'awaiting');
  const snapshot = program.snapshot({ embedModule: true });
  const resumed = Program.resume(snapshot, { imports: { env: { neg: (x: number) => -x | 0 } } });
  assert.equal(resumed.run(), { kind: 'returned', results: [-10] });
});

test.run();
