/**
 * Modules with relaxed SIMD on the native tier: V8's relaxed results are its hardware's
 * (and Node 20 has them only behind a flag), the interpreter's are the spec's
 * deterministic ones on every device, so such a module runs in the interpreter on the
 * native and auto engines, and `wasmig run --tier native` says why in one line.
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
import { assemble } from '../helpers/assemble.ts';
import { wasmig } from '../helpers/cli.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

/**
 * `plain(x)`, then `swizzled(x)`: every byte x, swizzled by indices x; an index of 16 or
 * more gives 0 here, where x86's pshufb would give byte x mod 16 (that is, x).
 */
function relaxedModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([ValType.i32], [ValType.i32]);
  b.export('plain', 'func', b.func(t, assemble('local.get 0 i32.const 1 i32.add end')));
  b.export('swizzled', 'func', b.func(t, assemble(`
    local.get 0 i8x16.splat local.get 0 i8x16.splat i8x16.relaxed_swizzle i8x16.extract_lane_u 0 end`)));
  return b.build();
}

test('the native engine names the first relaxed SIMD instruction, and the interpreter runs the module', () => {
  const compiled = loadModule(relaxedModule());
  const engine = new NativeEngine();
  assert.match(engine.cannotRun(compiled)!, /^the host's relaxed SIMD results depend on its hardware, the interpreter's are the same on every device: function 1 \(i8x16\.relaxed_swizzle at byte 0x[0-9a-f]+\)$/);
  for (const tier of ['native', 'auto'] as const) {
    const program = Program.instantiate(compiled, { tier });
    const execution = program.start('swizzled', [20]);
    assert.ok(execution instanceof Execution, `${tier}: an interpreter execution`);
    assert.equal(program.run(), { kind: 'returned', results: [0] });
    program.start('swizzled', [7]);
    assert.equal(program.run(), { kind: 'returned', results: [7] });
  }
  // Plain SIMD alone still runs natively.
  const plainSimd = new ModuleBuilder();
  plainSimd.export('f', 'func', plainSimd.func(plainSimd.type([ValType.i32], [ValType.i32]), assemble(`
    local.get 0 i8x16.splat local.get 0 i8x16.splat i8x16.swizzle i8x16.extract_lane_u 0 end`)));
  assert.is(engine.cannotRun(loadModule(plainSimd.build())), undefined);
});

test('wasmig run: --tier native says why in one line, and prints the deterministic result', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-relaxed-'));
  try {
    const path = join(dir, 'relaxed.wasm');
    writeFileSync(path, relaxedModule());
    const r = wasmig(['run', '--tier', 'native', '--invoke', 'swizzled', path, '20']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^0\n?$/);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], /runs in the interpreter: the host's relaxed SIMD results depend on its hardware, the interpreter's are the same on every device: function 1 \(i8x16\.relaxed_swizzle at byte 0x/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
