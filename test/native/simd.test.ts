/**
 * SIMD on the native tier: a module that uses v128 runs on V8 through its rewritten
 * twin; v128 locals, operands, loop parameters and call arguments live at safepoints are
 * saved as two i64 halves when the stack unwinds and come back bit for bit, whether the
 * frames then continue natively (resume clones take them as pairs of i64) or in the
 * interpreter (two slots per v128); v128 globals, the module's own and imported ones
 * (from another instance, or made by the host through a helper module), stay in step
 * across every switch of tier.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NativeExecution, NativeTier, nativeTierOf, TieringExecution } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { decodeSnapshot } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { wasmig } from '../helpers/cli.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { expectedKernel, KERNEL_GLOBAL, simdKernelModule } from '../helpers/simd-kernel.ts';

const { i32, v128 } = ValType;

/** `v128.const` of four i32 lanes, as assembler text. */
function i32x4(lanes: number[]): string {
  const bytes: number[] = [];
  for (const x of lanes) for (let k = 0; k < 4; k++) bytes.push((x >>> (8 * k)) & 0xff);
  return `v128.const ${bytes.join(' ')}`;
}

/** A v128 as a 128-bit bigint from four i32 lanes (lane 0 lowest). */
function lanes128(lanes: number[]): bigint {
  return lanes.reduceRight((acc, x) => (acc << 32n) | BigInt(x >>> 0), 0n);
}

/**
 * outer(n): a v128 under everything, a v128 loop parameter carried through n calls of
 * inner(v, k), whose own loop mixes v with float lanes (f32x4 with a NaN payload: its
 * bits must survive) and integer lanes; the result folds every lane into an i32.
 */
function stackyModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tInner = b.type([v128, i32], [v128]);
  const tLoop = b.type([v128], [v128]);
  // inner: locals 0 v, 1 k, 2 i
  const inner = b.func(tInner, assemble(`
    loop
      local.get 0 local.get 2 local.get 1 i32.add i32x4.splat i32x4.add
      ${i32x4([0x7fa00001, 0, 0, 0])} f32x4.abs
      v128.or local.get 0 i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
      local.set 0
      local.get 2 i32.const 1 i32.add local.tee 2 local.get 1 i32.le_s br_if 0
    end
    local.get 0 end`), [i32]);
  // outer: locals 0 n, 1 k, 2 acc
  const outer = b.func(b.type([i32], [i32]), assemble(`
    ${i32x4([1, 2, 3, 4])}
    local.get 2
    loop type=${tLoop}
      local.get 1 call ${inner}
      ${i32x4([3, 5, 7, 11])} i32x4.mul
      local.get 1 i32.const 1 i32.add local.tee 1 local.get 0 i32.lt_s br_if 0
    end
    i32x4.add local.tee 2
    i32x4.extract_lane 0 local.get 2 i32x4.extract_lane 1 i32.xor
    local.get 2 i32x4.extract_lane 2 i32.add local.get 2 i32x4.extract_lane 3 i32.xor
    end`), [i32, v128]);
  b.export('outer', 'func', outer);
  b.export('inner', 'func', inner);
  return b.build();
}

const stacky = loadModule(stackyModule());

function reference(name: string, args: number[]): unknown[] {
  const store = new Store();
  return store.invoke(store.instantiate(stacky).exports.get(name)!, args);
}

/** outer(n) natively, paused at poll `at` (every loop header polls), continued natively or in the interpreter. */
function pausedRun(n: number, at: number, reentry: boolean): { paused: boolean; results: unknown[]; frames: number; v128s: number } {
  const store = new Store();
  const inst = store.instantiate(stacky);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  tier.attach(inst);
  let polls = 0;
  tier.pollHook = () => ++polls === at;
  const ex = new NativeExecution(tier, inst.exports.get('outer')!.addr, [n]);
  ex.reentry = reentry;
  let outcome = ex.run();
  const paused = outcome.kind === 'paused';
  const frames = ex.lastUnwound.length;
  let v128s = 0;
  for (const f of ex.lastUnwound) for (const v of [...f.locals, ...f.stack]) if (v instanceof Uint8Array) v128s++;
  if (paused) outcome = ex.run();
  assert.is(outcome.kind, 'returned');
  return { paused, results: (outcome as { results: unknown[] }).results, frames, v128s };
}

// Resumed in the interpreter, outer's next call of inner goes native from the fast loop
// with a v128 argument: the fast loop used to count that call's arguments in values, not
// slots, and inner read them shifted (poll 1 failed).
test('v128 values live at safepoints: paused at every poll, resumed natively and in the interpreter, bit for bit', () => {
  const want = reference('outer', [6]);
  let pausedAt = 0, deepest = 0, mostV128 = 0;
  for (let at = 1; ; at++) {
    const native = pausedRun(6, at, true);
    const interp = pausedRun(6, at, false);
    assert.equal(native.results, want, `poll ${at}, native`);
    assert.equal(interp.results, want, `poll ${at}, interpreter`);
    if (!native.paused) break;
    pausedAt++;
    deepest = Math.max(deepest, native.frames);
    mostV128 = Math.max(mostV128, native.v128s);
  }
  assert.ok(pausedAt > 10, `paused at ${pausedAt} polls`);
  assert.is(deepest, 2, 'pauses inside inner, below a v128 argument');
  // outer at its header: acc, the value under the loop, the loop parameter; in inner: acc, the value under, v.
  assert.is(mostV128, 3, 'v128 values in the unwound frames');
});

test('an unwound frame holds its v128 values as the interpreter does', () => {
  const store = new Store();
  const inst = store.instantiate(stacky);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  tier.attach(inst);
  // The third pause inside inner: its caller went round its loop twice.
  let inside = 0;
  tier.pollHook = () => true;
  const ex = new NativeExecution(tier, inst.exports.get('outer')!.addr, [6]);
  while (inside < 3) {
    assert.is(ex.run().kind, 'paused');
    if (ex.lastUnwound.length === 2) inside++;
  }
  const [caller, callee] = ex.lastUnwound;
  // The constant under the loop, as 16 bytes in memory order; inner's v and k.
  assert.equal(Array.from(new Int32Array((caller.stack[0] as Uint8Array).slice().buffer)), [1, 2, 3, 4]);
  assert.is(caller.stack.length, 1, 'the loop parameter went to inner as its argument');
  assert.ok(caller.locals[2] instanceof Uint8Array);
  assert.ok(callee.locals[0] instanceof Uint8Array);
  assert.is(callee.locals[1], caller.locals[1]);
});

test('v128 arguments and results cross from the host as 128-bit patterns', () => {
  const store = new Store();
  const inst = store.instantiate(loadModule(simdKernelModule()));
  const tier = new NativeTier(store);
  tier.attach(inst);
  const splat = new NativeExecution(tier, inst.exports.get('splat')!.addr, [], { raw: [7n] });
  assert.equal(splat.run(), { kind: 'returned', results: [lanes128([7, 7, 7, 7])] });
  assert.equal(splat.rawResults, [lanes128([7, 7, 7, 7])]);
  const lanesum = new NativeExecution(tier, inst.exports.get('lanesum')!.addr, [], { raw: [lanes128([5, -1, -1, 0x100]), 3n] });
  assert.equal(lanesum.run(), { kind: 'returned', results: [5 + 0x100 + 3] });
  assert.throws(() => new NativeExecution(tier, inst.exports.get('lanesum')!.addr, [1, 2]), /v128 cannot come from JavaScript/);
});

test('a SIMD module runs natively on the native and auto engines, its v128 global in step', () => {
  const compiled = loadModule(simdKernelModule());
  for (const tier of ['native', 'auto'] as const) {
    const program = Program.instantiate(compiled, { tier });
    const execution = program.start('kernel', [20]);
    assert.ok(execution instanceof NativeExecution, `${tier}: a native execution`);
    assert.equal(program.run(), { kind: 'returned', results: [expectedKernel(20).result] }, tier);
    const g = program.store.state.globals[program.instance.exports.get('g')!.addr];
    assert.equal([g.lo, g.hi, g.lo2, g.hi2], expectedKernel(20).global, `${tier}: the global after the run`);
  }
});

test('a native pause of a SIMD kernel snapshots v128 locals and globals; it resumes on both tiers to the same end', () => {
  const compiled = loadModule(simdKernelModule());
  const want = expectedKernel(300);
  for (const at of [1, 2, 5]) {
    for (const tier of ['interp', 'native'] as const) {
      const a = Program.instantiate(compiled, { tier: 'native' });
      const native = nativeTierOf(a, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
      let polls = 0;
      native.pollHook = () => ++polls === at;
      a.start('kernel', [300]);
      assert.is(a.run().kind, 'paused', `poll ${at}`);
      const snapshot = a.snapshot();
      const state = decodeSnapshot(snapshot).state;
      assert.ok(state.frames[0].locals[2] instanceof Uint8Array, 'the v128 local, as 16 bytes');
      assert.equal(Array.from(new Int32Array((state.globals[0].value as Uint8Array).slice().buffer)), KERNEL_GLOBAL);
      const b = Program.resume(snapshot, { module: compiled, tier });
      assert.equal(b.run(), { kind: 'returned', results: [want.result] }, `paused at poll ${at}, resumed on ${tier}`);
      const g = b.store.state.globals[b.instance.exports.get('g')!.addr];
      assert.equal([g.lo, g.hi, g.lo2, g.hi2], want.global);
    }
  }
});

/** Imports a mutable and an immutable v128 global; `bump()` adds the immutable one to the mutable one, lane-wise. */
function importerModule(): Uint8Array {
  const b = new ModuleBuilder();
  const m = b.importGlobal('env', 'mg', v128, true);
  const c = b.importGlobal('env', 'cg', v128, false);
  const bump = b.func(b.type([], []), assemble(`global.get ${m} global.get ${c} i32x4.add global.set ${m} end`));
  b.export('bump', 'func', bump);
  return b.build();
}

/** Exports a mutable and an immutable v128 global, and a function that doubles the mutable one. */
function exporterModule(): Uint8Array {
  const b = new ModuleBuilder();
  const mg = b.global(v128, true, [...assemble(i32x4([1, 2, 3, 0x7fc00001])), 0x0b]);
  const cg = b.global(v128, false, [...assemble(i32x4([10, 20, 30, 40])), 0x0b]);
  const double = b.func(b.type([], []), assemble(`global.get ${mg} global.get ${mg} i32x4.add global.set ${mg} end`));
  b.export('mg', 'global', mg);
  b.export('cg', 'global', cg);
  b.export('double', 'func', double);
  return b.build();
}

test('imported v128 globals: from another native instance, and made by the host through a helper module', () => {
  const importer = loadModule(importerModule());
  const lanesOf = (store: Store, addr: number): number[] => {
    const g = store.state.globals[addr];
    return [g.lo, g.hi, g.lo2, g.hi2];
  };
  const call = (tier: NativeTier, addr: number): void => {
    assert.equal(new NativeExecution(tier, addr).run(), { kind: 'returned', results: [] });
  };
  // From another instance, both attached to the native tier.
  {
    const store = new Store();
    const exporter = store.instantiate(loadModule(exporterModule()));
    const inst = store.instantiate(importer, { env: { mg: exporter.exports.get('mg')!, cg: exporter.exports.get('cg')! } });
    const tier = new NativeTier(store);
    tier.attach(exporter);
    tier.attach(inst);
    const mg = exporter.exports.get('mg')!.addr;
    call(tier, inst.exports.get('bump')!.addr);
    assert.equal(lanesOf(store, mg), [11, 22, 33, 0x7fc00001 + 40]);
    // The interpreter writes it, native code reads it, and back.
    store.invoke(exporter.exports.get('double')!, []);
    call(tier, inst.exports.get('bump')!.addr);
    assert.equal(lanesOf(store, mg), [32, 64, 96, (2 * (0x7fc00001 + 40) + 40) | 0]);
  }
  // Made by the host: JS cannot make a v128 WebAssembly.Global; a helper module does.
  {
    const store = new Store();
    store.state.globals.push({ type: v128, mutable: true, lo: 1, hi: -1, lo2: 0x7fa00001, hi2: 4 });
    store.state.globals.push({ type: v128, mutable: false, lo: 1, hi: 1, lo2: 1, hi2: 1 });
    const [mg, cg] = [0, 1];
    const inst = store.instantiate(importer, { env: { mg: { kind: 'global', addr: mg }, cg: { kind: 'global', addr: cg } } });
    const tier = new NativeTier(store);
    tier.attach(inst);
    call(tier, inst.exports.get('bump')!.addr);
    assert.equal(lanesOf(store, mg), [2, 0, 0x7fa00002, 5]);
    store.state.globals[mg].hi2 = 100;
    call(tier, inst.exports.get('bump')!.addr);
    assert.equal(lanesOf(store, mg), [3, 1, 0x7fa00003, 101]);
  }
});

test('auto tiers a SIMD program up from the interpreter mid-kernel, to the output of either tier', async () => {
  const bytes = readFileSync(new URL('../programs/vectorize.wasm', import.meta.url));
  const run = (tier: 'interp' | 'auto'): { program: Program; text: () => string } => {
    const chunks: Buffer[] = [];
    // Loaded afresh: a module rewritten already would move to V8 at once.
    const program = Program.instantiate(loadModule(bytes), { args: ['vectorize.wasm', '3'], stdout: (d) => { chunks.push(Buffer.from(d)); }, tier });
    return { program, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const reference = run('interp');
  assert.equal(reference.program.run(), { kind: 'exited', status: 0 });
  const auto = run('auto');
  nativeTierOf(auto.program, { backgroundRewriteBytes: 0 });
  const ex = auto.program.start();
  assert.ok(ex instanceof TieringExecution);
  // Interpreted into the kernels, then one instruction at a time until the worker's
  // rewrite is there (each run looks for it first): no race with the worker's speed.
  assert.is(auto.program.run({ budget: 300_000 }).kind, 'paused');
  while (!ex.native) {
    await new Promise((r) => setTimeout(r, 10));
    auto.program.run({ budget: 1 });
  }
  assert.equal(auto.program.run(), { kind: 'exited', status: 0 });
  assert.is(auto.text(), reference.text());
});

test('wasmig run --tier native runs a SIMD module natively, without a note', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-simd-'));
  try {
    const path = join(dir, 'kernel.wasm');
    writeFileSync(path, simdKernelModule());
    for (const tier of ['native', 'interp']) {
      const r = wasmig(['run', '--tier', tier, '--invoke', 'kernel', path, '20']);
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout.trim(), String(expectedKernel(20).result));
      assert.is(r.stderr, '', tier);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
