/**
 * The WASI signature table (src/wasi/signatures.ts) against what the C toolchain emits:
 * fixtures/wasi_imports.wasm imports every function of wasi-libc's <wasi/api.h>, each
 * with the core type clang lowers it to. And the table names exactly the functions the
 * host provides, in both snapshots.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { formatFuncType, sameFuncType, WasiHost, wasiFuncType } from '../../src/wasi/index.ts';
import { ValType } from '../../src/wasm/types.ts';

const module = decodeModule(readFileSync(new URL('./fixtures/wasi_imports.wasm', import.meta.url)));

test('every import wasi-libc makes has the type of our table', () => {
  const funcs = module.imports.filter((imp) => imp.desc.kind === 'func');
  assert.is(funcs.length, 45);
  for (const imp of funcs) {
    assert.is(imp.module, 'wasi_snapshot_preview1');
    if (imp.desc.kind !== 'func') continue;
    const declared = module.types[imp.desc.typeIndex]!;
    const ours = wasiFuncType(imp.module, imp.name);
    assert.ok(ours !== undefined, `${imp.name} is missing from the table`);
    assert.ok(sameFuncType(declared, ours), `${imp.name}: clang says ${formatFuncType(declared)}, the table ${formatFuncType(ours)}`);
  }
});

test('the table covers exactly the functions the host provides, per snapshot', () => {
  const host = new WasiHost({ args: ['x'], env: {}, preopens: [] });
  try {
    for (const [moduleName, fns] of Object.entries(host.imports)) {
      for (const name of Object.keys(fns)) assert.ok(wasiFuncType(moduleName, name) !== undefined, `${moduleName}.${name}`);
    }
    assert.ok(wasiFuncType('wasi_snapshot_preview1', 'proc_raise') !== undefined);
    assert.is(wasiFuncType('wasi_unstable', 'sock_accept'), undefined);
    assert.is(host.imports['wasi_unstable']?.['sock_accept'], undefined);
    assert.is(wasiFuncType('env', 'fd_write'), undefined);
    assert.is(wasiFuncType('wasi_snapshot_preview1', 'fd_frobnicate'), undefined);
  } finally {
    host.close();
  }
});

test('the few types that are not all-i32 -> i32', () => {
  assert.equal(wasiFuncType('wasi_snapshot_preview1', 'proc_exit'), { params: [ValType.i32], results: [] });
  assert.is(formatFuncType(wasiFuncType('wasi_unstable', 'fd_seek')!), '(i32, i64, i32, i32) -> i32');
  assert.is(formatFuncType(wasiFuncType('wasi_unstable', 'path_open')!), '(i32, i32, i32, i32, i32, i64, i64, i32, i32) -> i32');
  assert.is(formatFuncType(wasiFuncType('wasi_snapshot_preview1', 'sched_yield')!), '() -> i32');
});

test.run();
