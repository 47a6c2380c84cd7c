/**
 * Exception handling (Wasm 3.0 `try_table`, `throw`, `throw_ref`, tags, exnref, and the
 * legacy `try`/`catch`/`catch_all`/`rethrow`/`delegate`): exceptions cross several frames
 * to their handler on both codes, tags keep their identity across modules, an exception
 * nobody catches reaches the host as an `UncaughtException`, and a program paused after
 * any instruction (inside a handler, with an exnref in a local or on the stack) resumes
 * in a fresh store to the same result and instruction count.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Trap, UncaughtException } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import type { Instance } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32, u32 } from '../helpers/module-builder.ts';
import { exceptionModule } from '../helpers/exception-module.ts';

const { i32, exnref } = ValType;
const EMPTY = 0x40;

function instantiate(fast: boolean, bytes = exceptionModule()): { store: Store; instance: Instance; call: (name: string, ...args: number[]) => unknown[] } {
  const store = new Store({ fast });
  const instance = store.instantiate(loadModule(bytes), {});
  return { store, instance, call: (name, ...args) => store.invoke(instance.exports.get(name)!.addr, args) };
}

for (const fast of [false, true]) {
  const code = fast ? 'fast' : 'exact';

  test(`${code} code: exceptions cross frames to try_table and legacy handlers, rethrow, throw_ref, catch_all`, () => {
    const { call, store } = instantiate(fast);
    assert.equal(call('top', 3), [4]);
    assert.equal(call('top', 6), [160]);
    assert.equal(call('top', 7), [1070]);
    assert.equal(call('main', 10), [1765]);
    assert.is(store.thread.depth, 0);
  });

  test(`${code} code: delegate hands the exception to the try its label names, past the ones between`, () => {
    const { call } = instantiate(fast);
    assert.equal(call('dl', 2), [2]);
    assert.equal(call('dl', 6), [-1]);
    assert.equal(call('dl2', 2), [2]);
    assert.equal(call('dl2', 6), [-1]);
  });

  test(`${code} code: an exception no frame catches reaches the host; throw_ref of null traps`, () => {
    const { call, store } = instantiate(fast);
    assert.throws(() => call('raise', 42), (err: unknown) =>
      err instanceof UncaughtException && err.message === 'uncaught exception (tag 0)' && err.payload[0] === 42);
    assert.throws(() => call('nullRef'), (err: unknown) => err instanceof Trap && !(err instanceof UncaughtException) && err.message === 'null exception reference');
    // The store is usable after both.
    assert.equal(call('top', 7), [1070]);
    assert.is(store.thread.depth, 0);
  });

  test(`${code} code: exceptions caught without a reference do not pile up in the store`, () => {
    const { call, store } = instantiate(fast);
    for (let i = 0; i < 1000; i++) assert.equal(call('top', 6), [160]);
    assert.ok(store.state.exceptions.length <= 1, `${store.state.exceptions.length} exceptions kept`);
  });
}

test('tags are the same across modules: an importer catches the exporter\'s exceptions, not another tag\'s', () => {
  for (const fast of [false, true]) {
    const store = new Store({ fast });
    const a = store.instantiate(loadModule(exceptionModule()), {});
    const b = new ModuleBuilder();
    const tI = b.type([i32], [i32]);
    const tTag = b.type([i32], []);
    const raise = b.importFunc('a', 'raise', tI);
    const imported = b.importTag('a', 'e', tTag);
    const own = b.tag(tTag);
    // catch $own first (never matches), then the imported $e: the payload + 1.
    const f = b.func(tI, [
      0x02, i32, 0x02, i32, 0x1f, i32, 2, 0x00, own, 0, 0x00, imported, 1,
      0x20, 0, 0x10, ...u32(raise), 0x0b, 0x0b, 0x41, ...s32(-5), 0x0f, 0x0b, 0x41, 1, 0x6a, 0x0b,
    ]);
    b.export('f', 'func', f);
    const inst = store.instantiate(loadModule(b.build()), { a: Object.fromEntries(a.exports) });
    assert.equal(store.invoke(inst.exports.get('f')!.addr, [9]), [10], fast ? 'fast' : 'exact');
  }
});

test('validation: catch clauses must match their labels, rethrow must name a catch, throw an existing tag', () => {
  const bad = (body: number[], message: RegExp): void => {
    const b = new ModuleBuilder();
    const tTag = b.type([i32], []);
    const e = b.tag(tTag);
    b.func(b.type([], []), body);
    void e;
    assert.throws(() => loadModule(b.build()), message);
  };
  bad([0x08, 1, 0x0b], /unknown tag 1/);
  bad([0x08, 0, 0x0b], /type mismatch/);
  bad([0x02, EMPTY, 0x1f, EMPTY, 1, 0x00, 0, 0, 0x0b, 0x0b, 0x0b], /catch clause does not match its label/);
  bad([0x06, EMPTY, 0x09, 0, 0x0b, 0x0b], /invalid rethrow label/);
  bad([0x02, EMPTY, 0x07, 0, 0x0b, 0x0b], /catch without a matching try/);
  const b = new ModuleBuilder();
  b.tag(b.type([], [i32]));
  assert.throws(() => loadModule(b.build()), /non-empty tag result type/);
});

for (const fast of [false, true]) {
  test(`${fast ? 'fast' : 'exact'} code: paused after every instruction, snapshotted and resumed in a fresh program, to the same result`, () => {
    const compiled = loadModule(exceptionModule());
    const limits = { fast };
    const whole = Program.instantiate(compiled, { limits });
    whole.start('main', [10]);
    const expected = whole.run();
    assert.equal(expected, { kind: 'returned', results: [1765] });
    const steps = whole.store.thread.instructions;
    let withExceptions = 0;
    for (let k = 1; k < steps; k++) {
      const a = Program.instantiate(compiled, { limits });
      a.start('main', [10]);
      assert.is(a.run({ until: k }).kind, 'paused');
      const state = a.captureState();
      if ((state.exceptions?.length ?? 0) > 0) withExceptions++;
      const b = Program.resume(a.snapshot(), { module: compiled, limits });
      assert.equal(b.run(), expected, `paused after ${k}`);
      assert.is(b.store.thread.instructions, steps, `instruction count after a pause at ${k}`);
    }
    assert.ok(withExceptions > 20, `${withExceptions} pauses held an exception`);
  });
}

test.run();
