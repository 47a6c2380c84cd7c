/**
 * `wasmig run` with nothing that can pause it runs the module as it is (the native
 * tier's plain modules, `unpausableEngine` in src/cli/commands/cache-option.ts): its
 * calls use the host's stack, and a recursion deeper than that stack says so and names
 * the tier that goes deeper; a module with exception handlers keeps the rewritten module
 * (`runsPlain`); a pause option still runs the interpreter.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { knownFactsOf, runsPlain } from '../../src/cli/commands/cache-option.ts';
import { bodyFacts } from '../../src/compile/index.ts';
import { ExitError } from '../../src/errors/index.ts';
import { DEFAULT_REWRITE_OPTIONS, DiskRewriteCache, NativeEngine } from '../../src/native/index.ts';
import { loadModule, loadModuleFile, Program } from '../../src/program/index.ts';
import type { Engine } from '../../src/runtime/index.ts';
import { interpreterEngine } from '../../src/runtime/index.ts';
import { repoRoot, wasmig } from '../helpers/cli.ts';
import { legacyExceptionModule } from '../helpers/legacy-exception-module.ts';
import { invalidBodyModule } from '../helpers/invalid-module.ts';

const programs = join(repoRoot, 'test/programs');
const recursion = join(programs, 'recursion.wasm');
const HINT = "call stack exhausted (the host's stack, as under node:wasi; --tier native goes up to 200,000 calls deep)";

test('a recursion deeper than the host\'s stack is exhausted there, and the message names the tier that goes deeper', () => {
  const plain = wasmig(['run', recursion]);
  assert.is(plain.status, 134, plain.stderr);
  assert.ok(plain.stderr.includes(`wasmig: exhausted: ${HINT}\n`), plain.stderr);
  assert.match(plain.stderr, /wasm backtrace:\n/);

  const shallow = wasmig(['run', recursion, '5000']);
  assert.is(shallow.status, 0, shallow.stderr);
  assert.match(shallow.stdout, /^depth 5000\n/);

  for (const tier of ['native', 'interp']) {
    const deep = wasmig(['run', '--tier', tier, recursion]);
    assert.is(deep.status, 0, `${tier}: ${deep.stderr}`);
    assert.match(deep.stdout, /^depth 100000\n/, tier);
  }
});

test('beyond the interpreter\'s limit every tier is exhausted, only the plain run names its stack', () => {
  const native = wasmig(['run', '--tier', 'native', recursion, '1000000']);
  assert.is(native.status, 134);
  assert.ok(native.stderr.includes('wasmig: exhausted: call stack exhausted\n'), native.stderr);
  assert.not.ok(native.stderr.includes(HINT));
});

test('a module with exception handlers runs rewritten, as before: the same output as the interpreter', () => {
  const path = join(programs, 'cxx_exceptions.wasm');
  const auto = wasmig(['run', path]);
  const interp = wasmig(['run', '--tier', 'interp', path]);
  assert.is(auto.status, interp.status, auto.stderr);
  assert.is(auto.stdout, interp.stdout);
  assert.ok(auto.stdout.length > 0);
});

test('no plain module for exception handlers: a catch_all would see the host\'s exit go through', () => {
  const plainEngine = new NativeEngine({ rewrite: { ...DEFAULT_REWRITE_OPTIONS, plain: true } });
  const withHandlers = loadModule(legacyExceptionModule());
  assert.match(plainEngine.cannotRun(withHandlers) ?? '', /^a plain module's exception handlers would catch the host's exit: /);
  assert.not.ok(runsPlain(plainEngine, withHandlers));
  assert.ok(runsPlain(plainEngine, loadModuleFile(join(programs, 'trap.wasm'))));
  // $quit(x) is try { env.exit(x) } catch_all { env.note(-1) }; 0. In V8 the handler
  // would run and swallow the exit; every engine, the plain one included (it hands such a
  // module to the interpreter), lets the exit through.
  const runOn = (engine: Engine): { outcome: unknown; notes: number[] } => {
    const notes: number[] = [];
    const p = Program.instantiate(withHandlers, { engine, imports: { env: { note: (v: unknown) => { notes.push(v as number); }, exit: (v: unknown) => { throw new ExitError(v as number); } } } });
    p.start('quit', [3]);
    return { outcome: p.run(), notes };
  };
  for (const engine of [interpreterEngine, new NativeEngine(), plainEngine]) {
    assert.equal(runOn(engine), { outcome: { kind: 'exited', status: 3 }, notes: [] }, engine.name);
  }
});

test('a module run rewritten (declined by the plain engine) is validated once: its facts are found under the rewrite\'s key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-run-plain-'));
  try {
    const disk = new DiskRewriteCache({ dir });
    const plainEngine = new NativeEngine({ rewrite: { ...DEFAULT_REWRITE_OPTIONS, plain: true } }, disk);
    const rewriting = new NativeEngine({}, disk);
    const bytes = new Uint8Array(readFileSync(join(programs, 'cxx_exceptions.wasm')));
    const compiled = loadModule(bytes);
    assert.not.ok(runsPlain(plainEngine, compiled), 'exception handlers');
    // Nothing cached yet, and V8's validation does not stand for ours: the scan finds the handlers.
    assert.is(knownFactsOf(plainEngine, rewriting)!(bytes, compiled.module), undefined, 'nothing cached yet');
    rewriting.prepare(compiled); // rewritten and stored, as a first `run` does
    assert.is(knownFactsOf(plainEngine)!(bytes, compiled.module), undefined, 'not under the plain key');
    assert.equal(knownFactsOf(plainEngine, rewriting)!(bytes, compiled.module), bodyFacts(compiled));
    assert.is(knownFactsOf(interpreterEngine), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a first start takes V8\'s validation for ours: the cache keeps the bodies unvalidated, and the second start runs from it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-run-plain-'));
  try {
    const env = { ...process.env, WASMIG_CACHE_DIR: dir };
    const path = join(programs, 'qsort_printf.wasm');
    const first = wasmig(['run', path], { env });
    assert.is(first.status, 0, first.stderr);
    const facts = new DiskRewriteCache({ dir }).facts(new Uint8Array(readFileSync(path)), { ...DEFAULT_REWRITE_OPTIONS, plain: true });
    assert.ok(facts !== undefined, 'a plain entry with its facts');
    assert.ok(facts.maxHeights.every((h) => h === -1), 'no body validated by us');
    const second = wasmig(['run', path], { env });
    assert.is(second.status, 0, second.stderr);
    assert.is(second.stdout, first.stdout);
    assert.is(wasmig(['run', '--tier', 'interp', path]).stdout, first.stdout);
    // A module V8 refuses is still reported by our validator, in one line.
    const bad = join(dir, 'bad.wasm');
    writeFileSync(bad, invalidBodyModule());
    const refused = wasmig(['run', bad], { env });
    assert.is(refused.status, 1);
    assert.match(refused.stderr, /^wasmig: .*bad\.wasm: invalid module: function 1 at byte 0x[0-9a-f]+: type mismatch[^\n]*\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
