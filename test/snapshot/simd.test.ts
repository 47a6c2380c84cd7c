/**
 * Snapshots of SIMD programs: a v128 in locals, on the operand stack and in a global
 * survives pause, file and resume at any instruction; such a file says format v2, a
 * state without v128 is still written as v1, and a v1 file with a v128 is refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { loadModule, loadModuleFile, Program } from '../../src/program/index.ts';
import { resolve } from 'node:path';
import { repoRoot } from '../helpers/cli.ts';
import { decodeSnapshot, inspectSnapshot, readSnapshotHeader } from '../../src/snapshot/index.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { assemble } from '../helpers/assemble.ts';
import { ValType } from '../../src/wasm/types.ts';
import { expectedKernel, simdKernelModule } from '../helpers/simd-kernel.ts';

const N = 12;

/** Runs `kernel(N)` to instruction `at`, snapshots, resumes from the file alone (on `tier`) and finishes. */
function pauseAndResume(at: number, tier: 'interp' | 'native' | 'auto' = 'interp'): { result: unknown; snapshot: Uint8Array } {
  const program = Program.instantiate(loadModule(simdKernelModule()), { tier: 'interp' });
  program.start('kernel', [N]);
  const paused = program.run({ until: at });
  assert.is(paused.kind, 'paused');
  const snapshot = program.snapshot({ embedModule: true });
  const resumed = Program.resume(snapshot, { tier });
  const outcome = resumed.run();
  assert.is(outcome.kind, 'returned');
  return { result: outcome.kind === 'returned' ? outcome.results[0] : undefined, snapshot };
}

test('a SIMD kernel paused at every instruction resumes from its snapshot to the same result', () => {
  const want = expectedKernel(N).result;
  const total = (() => {
    const p = Program.instantiate(loadModule(simdKernelModule()), { tier: 'interp' });
    p.start('kernel', [N]);
    p.run();
    return p.store.thread.instructions;
  })();
  assert.ok(total > 200, `${total} instructions`);
  for (let at = 1; at < total; at += 3) assert.is(pauseAndResume(at).result, want, `paused at ${at}`);
});

test('a snapshot holding a v128 is format v2; inspect shows it as lanes', () => {
  const { snapshot } = pauseAndResume(60);
  assert.is(readSnapshotHeader(snapshot).version, 2);
  const d = inspectSnapshot(snapshot);
  assert.is(d.formatVersion, 2);
  const frame = d.callStack[0];
  assert.ok(frame.locals.some((l) => /^v128 i32x4 \[0x[0-9a-f]{8} 0x[0-9a-f]{8} 0x[0-9a-f]{8} 0x[0-9a-f]{8}\]$/.test(l)), frame.locals.join(', '));
  assert.ok(decodeSnapshot(snapshot).state.globals.some((g) => g.type === ValType.v128 && g.value instanceof Uint8Array));
});

test('a snapshot claiming format v1 but holding a v128 is refused in one line', () => {
  const { snapshot } = pauseAndResume(60);
  const v1 = snapshot.slice();
  v1[8] = 1; // the header's version (the checksum covers the payload only)
  assert.throws(() => decodeSnapshot(v1), (e: unknown) => e instanceof SnapshotError && /format v1 cannot hold v128 values/.test((e as Error).message));
});

test('a state without v128 is still written as format v1, which loads', () => {
  const b = new ModuleBuilder();
  const f = b.func(b.type([ValType.i32], [ValType.i32]), assemble('block loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end end local.get 0 end'));
  b.export('count', 'func', f);
  const program = Program.instantiate(loadModule(b.build()), { tier: 'interp' });
  program.start('count', [100]);
  assert.is(program.run({ until: 50 }).kind, 'paused');
  const snapshot = program.snapshot({ embedModule: true });
  assert.is(readSnapshotHeader(snapshot).version, 1);
  const outcome = Program.resume(snapshot, { tier: 'interp' }).run();
  assert.equal(outcome.kind === 'returned' ? outcome.results : undefined, [0]);
});

test('a SIMD snapshot taken by the interpreter resumes on the native and auto tiers, to the same result', () => {
  const want = expectedKernel(N).result;
  assert.is(pauseAndResume(77, 'native').result, want);
  assert.is(pauseAndResume(77, 'auto').result, want);
});

/** A corpus SIMD program (test/programs/NAME.wasm) with its output captured. */
function simdProgram(name: string, rounds: number, out: Buffer[], snapshot?: Uint8Array, tier: 'interp' | 'native' = 'interp'): Program {
  const stdout = (bytes: Uint8Array): void => { out.push(Buffer.from(bytes)); };
  if (snapshot) return Program.resume(snapshot, { stdout, tier });
  const path = resolve(repoRoot, `test/programs/${name}.wasm`);
  return Program.instantiate(loadModuleFile(path), { args: [`${name}.wasm`, String(rounds)], stdout, tier: 'interp' });
}

// simd: wasm_simd128.h intrinsics; vectorize: plain loops clang vectorized at -O3.
for (const name of ['simd', 'vectorize']) {
  test(`the corpus program ${name} paused mid-kernel resumes from its snapshot to the same output`, () => {
    const whole: Buffer[] = [];
    const straight = simdProgram(name, 3, whole);
    assert.equal(straight.run(), { kind: 'exited', status: 0 });
    const total = straight.store.thread.instructions;
    const want = Buffer.concat(whole).toString();
    assert.match(want, /^rounds 3\nchecksum [0-9a-f]{16}\n/);
    let holdingV128 = 0;
    for (let k = 1; k <= 6; k++) {
      const out: Buffer[] = [];
      const a = simdProgram(name, 3, out);
      a.start();
      assert.is(a.run({ until: Math.floor((total * k) / 7) }).kind, 'paused');
      const snap = a.snapshot({ embedModule: true });
      if (readSnapshotHeader(snap).version === 2) holdingV128++;
      const b = simdProgram(name, 3, out, snap, k % 2 === 0 ? 'native' : 'interp');
      assert.equal(b.run(), { kind: 'exited', status: 0 }, `paused at ${k}/7`);
      assert.is(Buffer.concat(out).toString(), want, `paused at ${k}/7`);
    }
    assert.ok(holdingV128 > 0, 'some pause lands where a v128 is live');
  });
}

test.run();
