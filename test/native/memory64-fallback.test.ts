/**
 * memory64 and table64 (Wasm 3.0) on the native tier: Node 20's V8 does not ship them
 * (and the rewriter assumes 32-bit addresses), so a module with a 64-bit memory or table
 * runs in the interpreter on the native and auto engines, and `wasmig run --tier native`
 * says why in one line.
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
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i64, funcref } = ValType;

/** peek(a i64) -> i64: stores a + 1 at 64-bit address a, loads it back. */
function memory64Module(): Uint8Array {
  const b = new ModuleBuilder();
  b.memory(1, undefined, true);
  const peek = b.func(b.type([i64], [i64]), [0x20, 0, 0x20, 0, 0x42, 1, 0x7c, 0x37, 3, 0, 0x20, 0, 0x29, 3, 0, 0x0b]);
  b.export('peek', 'func', peek);
  return b.build();
}

/** A host without memory64 gives one reason, a host with it (newer Node) another: both say where. */
const REASON = /^(the host's WebAssembly lacks memory64 and table64|the native tier does not rewrite 64-bit memories and tables yet): the 64-bit (memory|table) 0$/;

test('the native engine names the 64-bit memory and the module runs in the interpreter', () => {
  const compiled = loadModule(memory64Module());
  assert.match(new NativeEngine().cannotRun(compiled)!, REASON);
  for (const tier of ['native', 'auto'] as const) {
    const program = Program.instantiate(compiled, { tier });
    assert.ok(program.start('peek', [40n]) instanceof Execution, `${tier}: an interpreter execution`);
    assert.equal(program.run(), { kind: 'returned', results: [41n] });
  }
});

test('a 64-bit table alone is enough to stay in the interpreter', () => {
  const b = new ModuleBuilder();
  b.table(funcref as never, 1, undefined, true);
  assert.match(new NativeEngine().cannotRun(loadModule(b.build()))!, /: the 64-bit table 0$/);
});

test('wasmig run --tier native: one line on stderr says why, and the result is right', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-memory64-'));
  try {
    const path = join(dir, 'peek.wasm');
    writeFileSync(path, memory64Module());
    const r = wasmig(['run', '--tier', 'native', '--invoke', 'peek', path, '40']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /41/);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], /runs in the interpreter: (the host's WebAssembly lacks memory64 and table64|the native tier does not rewrite 64-bit memories and tables yet): the 64-bit memory 0/);
    assert.is(wasmig(['run', '--invoke', 'peek', path, '40']).stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
