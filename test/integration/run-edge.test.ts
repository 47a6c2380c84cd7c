/**
 * `wasmig run` on modules that are WASI programs only in part: each must end in one
 * clear line on stderr (or none) and the right exit status, never a JS stack dump.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ValType } from '../../src/wasm/types.ts';
import { wasmig } from '../helpers/cli.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'wasmig-run-edge-'));
const { i32, i64, f64 } = ValType;
const WASI = 'wasi_snapshot_preview1';

function write(file: string, b: ModuleBuilder): string {
  const path = join(dir, file);
  writeFileSync(path, b.build());
  return path;
}

function noJsStack(stderr: string): void {
  assert.not.match(stderr, /\.ts:\d+|\.js:\d+|node:internal|internal error/);
}

test('a WASI function imported with the wrong type is a link error naming module.field', () => {
  const cases: [string, ValType[], ValType[], string][] = [
    ['fd_write', [i32], [i32], '(i32) -> i32'],
    ['fd_close', [i32], [i64], '(i32) -> i64'],
    ['fd_seek', [i32, i32, i32, i32], [i32], '(i32, i32, i32, i32) -> i32'],
    ['proc_exit', [i32], [i32], '(i32) -> i32'],
    ['random_get', [f64, i32], [i32], '(f64, i32) -> i32'],
  ];
  for (const [field, params, results, declared] of cases) {
    const b = new ModuleBuilder();
    b.importFunc(WASI, field, b.type(params, results));
    b.memory(1);
    b.export('memory', 'memory', 0).export('_start', 'func', b.func(b.type([], []), [0x0b]));
    const r = wasmig(['run', write(`${field}.wasm`, b)]);
    assert.is(r.status, 1, field);
    assert.is(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^wasmig: cannot link: incompatible import type for ${WASI}\\.${field}: WASI defines \\(.*\\) -> .*, the module declares ${declared.replace(/[()]/g, '\\$&')}\\n$`));
  }
  // The snapshot-0 module is checked the same way.
  const b = new ModuleBuilder();
  b.importFunc('wasi_unstable', 'fd_seek', b.type([i32, i64, i32, i32], [i64]));
  b.export('_start', 'func', b.func(b.type([], []), [0x0b]));
  const r = wasmig(['run', write('unstable_seek.wasm', b)]);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'incompatible import type for wasi_unstable.fd_seek');
});

test('proc_exit in the start function ends the run with that status and no message', () => {
  const b = new ModuleBuilder();
  const exit = b.importFunc(WASI, 'proc_exit', b.type([i32], []));
  b.memory(1);
  b.start(b.func(b.type([], []), [0x41, 7, 0x10, exit, 0x0b]));
  b.export('memory', 'memory', 0).export('_start', 'func', b.func(b.type([], []), [0x00, 0x0b]));
  const r = wasmig(['run', write('start_exit.wasm', b)]);
  assert.is(r.stderr, '');
  assert.is(r.status, 7);
});

test('a _start that takes parameters is refused in one line', () => {
  const b = new ModuleBuilder();
  b.export('_start', 'func', b.func(b.type([i32], []), [0x0b]));
  const path = write('start_params.wasm', b);
  const r = wasmig(['run', path]);
  assert.is(r.status, 2);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /_start takes parameters/);
  noJsStack(r.stderr);
  // It can still be called as an export.
  assert.is(wasmig(['run', '--invoke', '_start', path, '5']).status, 0);
});

test('--invoke on a WASI reactor runs its _initialize first (the C constructors that set up the preopens)', () => {
  const reactor = fileURLToPath(new URL('../wasi/fixtures/resume.wasm', import.meta.url));
  const data = mkdtempSync(join(tmpdir(), 'wasmig-reactor-'));
  writeFileSync(join(data, 'data.txt'), 'reactor data\n');
  // open("data.txt") resolves against the "." preopen, fd 3: without _initialize wasi-libc
  // knows no preopen and open() fails (-1).
  const r = wasmig(['run', '--dir', `${data}::.`, '--invoke', 'open_data', reactor]);
  assert.is(r.stderr, '');
  assert.is(r.stdout, '4\n');
  assert.is(r.status, 0);
});

test('a runaway recursion: "call stack exhausted", a backtrace cut to its two ends, status 134', () => {
  const b = new ModuleBuilder();
  const t = b.type([], []);
  const f = b.func(t, [0x10, 0, 0x0b]); // calls itself forever
  b.export('_start', 'func', f);
  const r = wasmig(['run', '--tier', 'interp', write('runaway.wasm', b)]);
  assert.is(r.status, 134);
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines[0], 'wasmig: exhausted: call stack exhausted');
  assert.is(lines[1], 'wasm backtrace:');
  assert.ok(lines.length <= 60, `${lines.length} lines of backtrace`);
  assert.match(lines[2]!, /^ {3}0: <function 0> \(function 0 at byte 0x[0-9a-f]+\)$/);
  const omitted = lines.findIndex((l) => /^ {2}\.\.\. \d+ frames omitted \.\.\.$/.test(l));
  assert.is(omitted, 2 + 40);
  const depth = Number(/(\d+): /.exec(lines[lines.length - 1]!)![1]) + 1;
  assert.is(Number(/(\d+) frames/.exec(lines[omitted]!)![1]), depth - 50);
  noJsStack(r.stderr);
});

test.run();
