/**
 * The native tier does not run SIMD yet: a module that uses v128 runs on the interpreter
 * on the native and auto engines (same results), and `wasmig run` says so in one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Execution } from '../../src/runtime/index.ts';
import { nativeUnsupported, RewriteCache } from '../../src/native/index.ts';
import { UnsupportedError } from '../../src/errors/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { wasmig } from '../helpers/cli.ts';
import { expectedKernel, simdKernelModule } from '../helpers/simd-kernel.ts';

test('a SIMD module on the native and auto tiers runs on the interpreter, to the right result', () => {
  const compiled = loadModule(simdKernelModule());
  assert.match(nativeUnsupported(compiled)!, /^the native tier does not run SIMD yet \(function \d+ .* uses v128\)$/);
  for (const tier of ['native', 'auto'] as const) {
    const program = Program.instantiate(compiled, { tier });
    const execution = program.start('kernel', [20]);
    assert.ok(execution instanceof Execution, `${tier}: the interpreter's execution`);
    const outcome = program.run();
    assert.equal(outcome.kind === 'returned' ? outcome.results : outcome.kind, [expectedKernel(20).result], tier);
  }
});

test('the rewriter refuses a SIMD module in one line, naming the first use', () => {
  const compiled = loadModule(simdKernelModule());
  assert.throws(() => new RewriteCache().rewrite(compiled), (e: unknown) => e instanceof UnsupportedError && /^the native tier does not run SIMD yet \(function \d+ \(/.test((e as Error).message));
});

test('wasmig run on the native tier prints a one-line note and the right result for a SIMD module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-simd-'));
  try {
    const path = join(dir, 'kernel.wasm');
    writeFileSync(path, simdKernelModule());
    const r = wasmig(['run', '--tier', 'native', '--invoke', 'kernel', path, '20']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), String(expectedKernel(20).result));
    const notes = r.stderr.trim().split('\n');
    assert.is(notes.length, 1, r.stderr);
    assert.match(notes[0], /^wasmig: note: the native tier does not run SIMD yet \(function \d+ \(.*\) uses v128\): it runs on the interpreter$/);
    const interp = wasmig(['run', '--tier', 'interp', '--invoke', 'kernel', path, '20']);
    assert.is(interp.stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
