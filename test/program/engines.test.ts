/**
 * Engines as values: the interpreter, the native tier and `auto` run the same program to
 * the same output, named by `tier` or given as `engine`; a snapshot moves between them;
 * each native engine owns its cache of rewritten modules; and the README's library
 * example prints the same on every tier (from the sources: the packed package has its
 * own test).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/errors/index.ts';
import { AutoEngine, autoEngine, NativeEngine, nativeEngine, NativeExecution } from '../../src/native/index.ts';
import { defaultEngines, loadModuleFile, Program } from '../../src/program/index.ts';
import { Execution, interpreterEngine } from '../../src/runtime/index.ts';
import type { Engine } from '../../src/runtime/index.ts';
import { repoRoot } from '../helpers/cli.ts';
import { plainOutput, readmeExampleOutput, readmeLibraryExample } from '../helpers/readme-example.ts';

const squares = loadModuleFile(resolve(repoRoot, 'examples/squares.wasm'));

/** Runs squares on `engine` (or `tier`), pausing after the second report, snapshot, resumed on `then`; every line it reported. */
function reportsAcross(first: { engine?: Engine; tier?: 'interp' | 'native' | 'auto' }, then: { engine?: Engine; tier?: 'interp' | 'native' | 'auto' }): string[] {
  const lines: string[] = [];
  let program: Program | undefined;
  const report = (step: number, sum: bigint): void => {
    lines.push(`${step}: ${sum}`);
    if (lines.length === 2) program!.requestPause();
  };
  program = Program.instantiate(squares, { ...first, imports: { env: { report } } });
  assert.is(program.run().kind, 'paused');
  const resumed = Program.resume(program.snapshot({ embedModule: true }), { ...then, imports: { env: { report: (step: number, sum: bigint) => { lines.push(`${step}: ${sum}`); } } } });
  assert.equal(resumed.run(), { kind: 'exited', status: 0 });
  return lines;
}

test('tier names resolve to the shared engines; native and auto start natively, interp interprets', () => {
  assert.is(defaultEngines.resolve('interp'), interpreterEngine);
  assert.ok(defaultEngines.resolve('native') instanceof NativeEngine);
  assert.ok(defaultEngines.resolve('auto') instanceof AutoEngine);
  assert.is((defaultEngines.resolve('auto') as AutoEngine).native, defaultEngines.native, 'auto shares the native engine\'s caches');
  assert.ok(Program.instantiate(squares, { imports: { env: { report: () => {} } } }).start() instanceof Execution);
  for (const tier of ['native', 'auto'] as const) {
    const p = Program.instantiate(squares, { tier, imports: { env: { report: () => {} } } });
    assert.is(p.tier, tier);
    assert.ok(p.start() instanceof NativeExecution, tier);
  }
  assert.throws(() => defaultEngines.resolve('jit' as never), (e: unknown) => e instanceof UsageError && /unknown tier "jit"/.test((e as Error).message));
});

test('interp, native and auto report the same, and a snapshot moves between any two of them', () => {
  const reference = reportsAcross({ tier: 'interp' }, { tier: 'interp' });
  assert.is(reference.length, 5);
  for (const a of ['interp', 'native', 'auto'] as const) {
    for (const b of ['interp', 'native', 'auto'] as const) assert.equal(reportsAcross({ tier: a }, { tier: b }), reference, `${a} -> ${b}`);
  }
  // Engines given as values.
  assert.equal(reportsAcross({ engine: nativeEngine() }, { engine: autoEngine() }), reference);
  assert.equal(reportsAcross({ engine: interpreterEngine }, { engine: nativeEngine({ pollInterval: 1 }) }), reference);
});

test('each native engine owns its rewrites: preparing on one leaves another untouched', () => {
  const fresh = loadModuleFile(resolve(repoRoot, 'examples/squares.wasm'));
  const one = nativeEngine();
  const two = nativeEngine();
  one.prepare(fresh);
  assert.ok(one.rewrites.has(fresh));
  assert.not.ok(two.rewrites.has(fresh));
  const p = Program.instantiate(fresh, { engine: two, imports: { env: { report: () => {} } } });
  assert.is(p.engine, two);
  assert.equal(p.run(), { kind: 'exited', status: 0 });
  assert.ok(two.rewrites.has(fresh), 'rewritten on first use, in the engine that ran it');
});

test('the README library example prints the same on interp, native and auto (from the sources)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-readme-'));
  try {
    for (const tier of ['interp', 'native', 'auto'] as const) {
      const file = join(dir, `example-${tier}.mts`);
      writeFileSync(file, readmeLibraryExample(resolve(repoRoot, 'src/index.ts'), tier));
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: plainOutput() });
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout, readmeExampleOutput(), tier);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
