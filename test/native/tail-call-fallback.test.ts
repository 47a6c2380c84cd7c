/**
 * Tail calls on the native tier: its safepoints cannot unwind through them yet, so a
 * module with tail calls runs in the interpreter on the native and auto engines, and
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
