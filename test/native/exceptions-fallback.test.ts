/**
 * Modules with the exnref exception handling on the native tier: V8 11.3 runs only the
 * legacy instructions (see legacy-exceptions.test.ts), so a module with exnref,
 * try_table or throw_ref runs in the interpreter on the native and auto engines, and
 * `wasmig run --tier native` says why in one line. An exception that reaches the host
 * is one line from the CLI, exit status 134.
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
import { exceptionModule } from '../helpers/exception-module.ts';

const EXNREF = 'the host\'s WebAssembly lacks exnref (it runs the legacy try, catch, catch_all, delegate and rethrow)';

test('the native engine names the first use of exnref, and the interpreter runs the module', () => {
  const compiled = loadModule(exceptionModule());
  const engine = new NativeEngine();
  assert.is(engine.cannotRun(compiled), `${EXNREF}: an exnref in a function type`);
  for (const tier of ['native', 'auto'] as const) {
    const program = Program.instantiate(compiled, { tier });
    const execution = program.start('main', [10]);
    assert.ok(execution instanceof Execution, `${tier}: an interpreter execution`);
    assert.equal(program.run(), { kind: 'returned', results: [1765] });
  }
  // A tag alone, and the legacy instructions, run natively; try_table does not.
  const tagOnly = new ModuleBuilder();
  tagOnly.tag(tagOnly.type([ValType.i32], []));
  tagOnly.export('f', 'func', tagOnly.func(tagOnly.type([], []), [0x0b]));
  assert.is(engine.cannotRun(loadModule(tagOnly.build())), undefined);
  const tryTable = new ModuleBuilder();
  tryTable.export('f', 'func', tryTable.func(tryTable.type([], []), [0x1f, 0x40, 0, 0x0b, 0x0b]));
  assert.match(engine.cannotRun(loadModule(tryTable.build()))!, new RegExp(`^${EXNREF.replace(/[()]/g, '\\$&')}: function 0 \\(try_table at byte 0x[0-9a-f]+\\)$`));
});

test('wasmig run: --tier native says why in one line; an uncaught exception is one line and exit status 134', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-eh-'));
  try {
    const path = join(dir, 'eh.wasm');
    writeFileSync(path, exceptionModule());
    const r = wasmig(['run', '--tier', 'native', '--invoke', 'main', path, '10']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /1765/);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], /runs in the interpreter: the host's WebAssembly lacks exnref \(it runs the legacy try, catch, catch_all, delegate and rethrow\): an exnref in a function type$/);
    const uncaught = wasmig(['run', '--invoke', 'raise', path, '42']);
    assert.is(uncaught.status, 134);
    assert.is(uncaught.stdout, '');
    assert.match(uncaught.stderr, /^wasmig: uncaught exception \(tag 0\) thrown in function 6 at byte 0x[0-9a-f]+\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
