import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import type { Instance } from '../../src/runtime/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { captureFrames, restoreFrames } from '../../src/snapshot/index.ts';
import type { CanonicalFrame } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32, i64, f64 } = ValType;

/**
 * $down (param i32) (result i64): n == 0 ? 0 : down(n - 1) + 1, with an f64 local kept
 * alive across the call and an i64 on the stack below the call's argument.
 */
function recursiveModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i64]);
  const f = b.func(t, [
    0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0x21, 1, // f64.const nan, local.set 1
    0x20, 0, 0x45, 0x04, 0x7e, //                  local.get 0, i32.eqz, if (result i64)
    0x42, 0, //                                      i64.const 0
    0x05, //                                       else
    0x42, 1, //                                      i64.const 1
    0x20, 0, 0x41, 1, 0x6b, 0x10, 0, //              local.get 0, i32.const 1, i32.sub, call 0
    0x7c, //                                         i64.add
    0x0b, 0x0b,
  ], [f64]);
  b.export('down', 'func', f);
  return b.build();
}

function fresh(bytes: Uint8Array): { store: Store; instance: Instance; addr: number } {
  const store = new Store();
  const instance = store.instantiate(loadModule(bytes));
  return { store, instance, addr: instance.exports.get('down')!.addr };
}

test('frames captured at every instruction resume in a fresh thread to the same result', () => {
  const bytes = recursiveModule();
  const whole = fresh(bytes);
  const total = new Execution(whole.store, whole.addr, [30]);
  const expected = total.run();
  const steps = whole.store.thread.instructions;
  assert.equal(expected, { kind: 'returned', results: [30n] });
  for (let k = 0; k < steps; k++) {
    const a = fresh(bytes);
    const execution = new Execution(a.store, a.addr, [30]);
    assert.equal(execution.run({ until: k }).kind, 'paused');
    const frames: CanonicalFrame[] = captureFrames({ store: a.store, instance: a.instance, execution });
    assert.ok(frames.length >= 1);
    const b = fresh(bytes);
    const resumed = new Execution(b.store, frames[0].funcIndex, [], { resumed: true });
    restoreFrames({ store: b.store, instance: b.instance, execution: resumed }, frames);
    b.store.thread.instructions = k;
    assert.equal(resumed.run(), expected, `paused after ${k}`);
    assert.is(b.store.thread.instructions, steps);
    // The same frames captured again from the restored thread are identical.
  }
});

test('frames round-trip exactly, NaN payloads included', () => {
  const bytes = recursiveModule();
  const a = fresh(bytes);
  const execution = new Execution(a.store, a.addr, [5]);
  execution.run({ until: 40 });
  const frames = captureFrames({ store: a.store, instance: a.instance, execution });
  assert.is(frames[1].locals[1], 0x7ff8000000000000n);
  const b = fresh(bytes);
  const resumed = new Execution(b.store, frames[0].funcIndex, [], { resumed: true });
  restoreFrames({ store: b.store, instance: b.instance, execution: resumed }, frames);
  assert.equal(captureFrames({ store: b.store, instance: b.instance, execution: resumed }), frames);
});

test('frames that do not fit the module are rejected with SnapshotError', () => {
  const bytes = recursiveModule();
  const a = fresh(bytes);
  const execution = new Execution(a.store, a.addr, [5]);
  execution.run({ until: 40 });
  const frames = captureFrames({ store: a.store, instance: a.instance, execution });
  const mutants: ((f: CanonicalFrame[]) => void)[] = [
    (f) => { f[1].pc += 1; },
    (f) => { f[0].pc -= 2; },
    (f) => { f[1].locals.pop(); },
    (f) => { f[0].stack.push(1); },
    (f) => { f[0].stack[0] = 1; },
    (f) => { f[1].locals[0] = 2n; },
    (f) => { f[1].funcIndex = 7; },
  ];
  for (const mutate of mutants) {
    const copy = structuredClone(frames);
    mutate(copy);
    const b = fresh(bytes);
    const resumed = new Execution(b.store, 0, [], { resumed: true });
    assert.throws(() => restoreFrames({ store: b.store, instance: b.instance, execution: resumed }, copy), (e: unknown) => e instanceof SnapshotError, mutate.toString());
    assert.is(b.store.thread.depth, 0);
  }
});

test('a program resumes from frames alone, as the native tier hands them over', () => {
  // A state unwound elsewhere: memory, globals and tables as instantiated, only frames.
  const bytes = recursiveModule();
  const a = fresh(bytes);
  const execution = new Execution(a.store, a.addr, [12]);
  execution.run({ until: 77 });
  const frames = captureFrames({ store: a.store, instance: a.instance, execution });
  const program = Program.instantiate(loadModule(bytes));
  program.execution = restoreFrames(program, frames);
  program.store.thread.instructions = 77;
  assert.equal(program.run(), { kind: 'returned', results: [12n] });
});

test.run();
