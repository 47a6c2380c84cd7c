/**
 * Wasm 3.0 features the native tier cannot run yet: its safepoints cannot unwind through
 * tail calls, Node 20's V8 has no multi-memory and no extended constant expressions. Such
 * a module runs in the interpreter on the native and auto engines, and
 * `wasmig run --tier native` says why in one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NativeEngine } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Execution } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { wasmig } from '../helpers/cli.ts';
import { ModuleBuilder, u32 } from '../helpers/module-builder.ts';

const { i32, i64 } = ValType;

/** $sum (n i32, acc i64) -> i64 by return_call, exported as `sum`; `plain` makes no tail call. */
function sumModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32, i64], [i64]);
  const sum = b.func(t, [
    0x20, 0, 0x45, 0x04, 0x40, 0x20, 1, 0x0f, 0x0b,
    0x20, 0, 0x41, 1, 0x6b, 0x20, 1, 0x20, 0, 0xad, 0x7c, 0x12, ...u32(0), 0x0b,
  ]);
  const plain = b.func(b.type([], [i32]), [0x41, 7, 0x0b]);
  b.export('sum', 'func', sum).export('plain', 'func', plain);
  return b.build();
}

test('the native engine names the first tail call and runs the module in the interpreter', () => {
  const compiled = loadModule(sumModule());
  const engine = new NativeEngine();
  assert.match(engine.cannotRun(compiled)!, /^the native tier cannot unwind through tail calls yet: function 0 \(return_call at byte 0x[0-9a-f]+\)$/);
  for (const tier of ['native', 'auto'] as const) {
    const program = Program.instantiate(compiled, { tier });
    const execution = program.start('sum', [100_000, 0n]);
    assert.ok(execution instanceof Execution, `${tier}: an interpreter execution`);
    assert.equal(program.run(), { kind: 'returned', results: [5_000_050_000n] });
  }
});

test('two memories, or an extended constant expression V8 lacks, also stay in the interpreter, each with its reason', () => {
  const engine = new NativeEngine();
  const two = new ModuleBuilder();
  two.memory(1);
  two.memory(1);
  two.export('f', 'func', two.func(two.type([], [i32]), [0x3f, 1, 0x0b]));
  assert.is(engine.cannotRun(loadModule(two.build())), 'the host\'s WebAssembly runs one memory per module, this one has 2');
  const ext = new ModuleBuilder();
  ext.global(i32, false, [0x41, 1, 0x41, 2, 0x6a, 0x0b]);
  ext.export('f', 'func', ext.func(ext.type([], [i32]), [0x23, 0, 0x0b]));
  const compiled = loadModule(ext.build());
  const hostHasIt = WebAssembly.validate(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 9, 1, 0x7f, 0, 0x41, 1, 0x41, 2, 0x6a, 0x0b]));
  assert.is(engine.cannotRun(compiled), hostHasIt ? undefined : 'the host\'s WebAssembly lacks extended constant expressions: i32.add in global 0');
  const program = Program.instantiate(compiled, { tier: 'native' });
  program.start('f');
  assert.equal(program.run(), { kind: 'returned', results: [3] });
});

test('wasmig run --tier native: one line on stderr says why, and the result is right', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-tail-'));
  try {
    const path = join(dir, 'sum.wasm');
    writeFileSync(path, sumModule());
    const r = wasmig(['run', '--tier', 'native', '--invoke', 'sum', path, '10', '0']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /55/);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], /runs in the interpreter: the native tier cannot unwind through tail calls yet: function 0 \(return_call at byte 0x/);
    const interp = wasmig(['run', '--invoke', 'sum', path, '10', '0']);
    assert.is(interp.stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
