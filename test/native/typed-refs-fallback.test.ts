/**
 * Typed function references (Wasm 3.0) on the native tier: Node 20's V8 runs them only
 * behind a flag, so a module using them runs in the interpreter on the native and auto
 * engines, and `wasmig run --tier native` says why in one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NativeEngine } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Execution } from '../../src/runtime/index.ts';
import { HeapType, refType, ValType } from '../../src/wasm/index.ts';
import type { ValType as ValTypeT } from '../../src/wasm/index.ts';
import { wasmig } from '../helpers/cli.ts';
import { ModuleBuilder, u32 } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/** $twice (x) = 2x; $viaRef (x) = call_ref (ref.func $twice) (x), exported as `run`. */
function callRefModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  const twice = b.func(t, [0x20, 0, 0x20, 0, 0x6a, 0x0b]);
  const viaRef = b.func(t, [0x20, 0, 0xd2, twice, 0x14, ...u32(t), 0x0b]);
  b.export('twice', 'func', twice).export('run', 'func', viaRef);
  return b.build();
}

test('the native engine names the first typed reference and the module runs in the interpreter', () => {
  const compiled = loadModule(callRefModule());
  assert.match(new NativeEngine().cannotRun(compiled)!, /^the host's WebAssembly lacks typed function references: function 1 \(call_ref at byte 0x[0-9a-f]+\)$/);
  for (const tier of ['native', 'auto'] as const) {
    const program = Program.instantiate(compiled, { tier });
    assert.ok(program.start('run', [21]) instanceof Execution, `${tier}: an interpreter execution`);
    assert.equal(program.run(), { kind: 'returned', results: [42] });
  }
});

test('a typed reference in a type alone (no new instruction) is enough to stay in the interpreter', () => {
  const b = new ModuleBuilder();
  const t = b.type([], [i32]);
  const f = b.func(t, [0x41, 5, 0x0b]);
  b.global(refType(HeapType.func, false) as ValTypeT, false, [0xd2, f, 0x0b]);
  b.export('f', 'func', f);
  assert.is(new NativeEngine().cannotRun(loadModule(b.build())), 'the host\'s WebAssembly lacks typed function references: global 0 ((ref func))');
});

test('wasmig run --tier native: one line on stderr says why, and the result is right', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-typed-ref-'));
  try {
    const path = join(dir, 'callref.wasm');
    writeFileSync(path, callRefModule());
    const r = wasmig(['run', '--tier', 'native', '--invoke', 'run', path, '21']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /42/);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], /runs in the interpreter: the host's WebAssembly lacks typed function references: function 1 \(call_ref at byte 0x/);
    assert.is(wasmig(['run', '--invoke', 'run', path, '21']).stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
