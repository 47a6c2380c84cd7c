/**
 * Lazy re-entry (`src/native/reentry.ts`): paused frames go back to native code without
 * waiting for every resume clone. A pause at every poll of a small module whose frames
 * hold values below calls, resumed with some functions' clones kept from being made:
 * the top frames re-enter natively over interpreted ones, or an interpreted frame's
 * return gives control back and the frame below re-enters; every run ends as the
 * uninterrupted one. Then a WASI program restored from a native snapshot in a fresh
 * engine: the first run starts with no clone made, and prints what an uninterrupted
 * run prints.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NativeExecution, NativeTier, nativeEngine, nativeTierOf } from '../../src/native/index.ts';
import type { NativeStats } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { repoRoot } from '../helpers/cli.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/** work(n) = 7 + the sum of sq(i) for i < n, 7 and the accumulator below each call; sq loops to its argument. */
function module(): Uint8Array {
  const b = new ModuleBuilder();
  const tUnary = b.type([i32], [i32]);
  const tLoop = b.type([i32, i32], [i32]);
  const sq = b.func(tUnary, [
    0x41, 0, 0x21, 1,
    0x03, 0x40, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b,
    0x20, 0, 0x20, 0, 0x6c, 0x0b,
  ], [i32]);
  const work = b.func(tUnary, [
    0x41, 7, 0x41, 0, 0x41, 0,
    0x03, tLoop, 0x21, 1, 0x20, 1, 0x10, sq, 0x6a, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 1, 0x20, 0, 0x48, 0x0d, 0, 0x1a, 0x0b,
    0x6a, 0x0b,
  ], [i32]);
  // spin(n): a loop of its own, no calls: sum of i*i for i < n.
  const spin = b.func(tUnary, [
    0x03, 0x40, 0x20, 2, 0x20, 1, 0x20, 1, 0x6c, 0x6a, 0x21, 2, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b,
    0x20, 2, 0x0b,
  ], [i32, i32]);
  b.export('work', 'func', work);
  b.export('spin', 'func', spin);
  return b.build();
}

const compiled = loadModule(module());
const SQ = 0, WORK = 1;

function uninterrupted(n: number): unknown[] {
  const store = new Store();
  return store.invoke(store.instantiate(compiled).exports.get('work')!, [n]);
}

/** work(n) natively, paused at poll `at`, then run on with only the clones `gate` allows. */
function pausedRun(n: number, at: number, gate: (funcIndex: number) => boolean): { paused: boolean; results: unknown[]; stats: NativeStats } {
  const store = new Store();
  const inst = store.instantiate(compiled);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  tier.attach(inst);
  let polls = 0;
  tier.pollHook = () => ++polls === at;
  const ex = new NativeExecution(tier, inst.exports.get('work')!.addr, [n]);
  ex.schedule.gate = gate;
  let outcome = ex.run();
  const paused = outcome.kind === 'paused';
  if (paused) {
    // The clones the gate allows, made ahead (as a migrated job's worker does while it waits for the commit).
    ex.prepareRun();
    outcome = ex.run();
  }
  assert.is(outcome.kind, 'returned');
  return { paused, results: (outcome as { results: unknown[] }).results, stats: ex.stats };
}

const gates: [string, (funcIndex: number) => boolean, keyof NativeStats][] = [
  // The callee's clone kept back: it runs interpreted to its return, which hands work (at its call) back to native code.
  ['no clone for the callee', (f) => f !== SQ, 'barrierReturns'],
  // The caller's clone kept back: the callee re-enters natively over the interpreted caller.
  ['no clone for the caller', (f) => f !== WORK, 'partialReentries'],
];

for (const [name, gate, counted] of gates) {
  test(`paused at every poll, ${name}: ends as the uninterrupted run`, () => {
    const want = uninterrupted(30);
    let pauses = 0;
    let seen = 0;
    for (let at = 1; ; at++) {
      const run = pausedRun(30, at, gate);
      assert.equal(run.results, want, `poll ${at}`);
      if (!run.paused) break;
      pauses++;
      seen += run.stats[counted];
    }
    assert.ok(pauses > 10, `paused ${pauses} times`);
    assert.ok(seen > 0, `${counted}: ${seen}`);
  });
}

test('a frame paused in a loop of its own goes back to native code at once, not to the interpreter', () => {
  const store = new Store();
  const inst = store.instantiate(compiled);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  tier.attach(inst);
  let polls = 0;
  tier.pollHook = () => ++polls === 100;
  const ex = new NativeExecution(tier, inst.exports.get('spin')!.addr, [200_000]);
  assert.is(ex.run().kind, 'paused');
  const outcome = ex.run();
  assert.is(outcome.kind, 'returned');
  // The interpreter counts what it runs: not one of the loop's 200,000 rounds ran there.
  const interpreted = ex.instructions;
  assert.ok(interpreted < 100, `${interpreted} instructions interpreted`);
  assert.is(ex.stats.reentries, 1);
  assert.equal((outcome as { results: unknown[] }).results, store.invoke(inst.exports.get('spin')!, [200_000]));
});

test('with every clone allowed, a pause inside the callee re-enters whole', () => {
  let whole = 0;
  for (let at = 1; at < 60; at++) {
    const run = pausedRun(30, at, () => true);
    if (run.paused && run.stats.partialReentries === 0 && run.stats.reentries > 0) whole++;
  }
  assert.ok(whole > 0);
});

for (const name of ['qsort_printf', 'recursion']) {
  test(`${name}.wasm from a native snapshot, resumed in a fresh engine: runs at once, clones made as it goes, prints what an uninterrupted run prints`, () => {
    const bytes = readFileSync(join(repoRoot, `test/programs/${name}.wasm`));
    const capture = (sink: { out: string }) => (d: Uint8Array): void => { sink.out += Buffer.from(d).toString('latin1'); };
    const want = { out: '' };
    const reference = Program.instantiate(loadModule(bytes), { tier: 'interp', stdout: capture(want) });
    reference.start('_start');
    assert.is(reference.run().kind, 'exited');
    let resumed = 0;
    for (const at of [1, 50, 500]) {
      const got = { out: '' };
      const p = Program.instantiate(loadModule(bytes), { engine: nativeEngine(), stdout: capture(got) });
      // A pause at the native tier's poll number `at`: early, and further in.
      let polls = 0;
      nativeTierOf(p).pollHook = () => ++polls === at;
      p.start('_start');
      if (p.run().kind !== 'paused') continue;
      const engine = nativeEngine();
      const q = Program.resume(p.snapshot({ embedModule: false }), { module: loadModule(bytes), engine, stdout: capture(got) });
      // Nothing made ahead: the run makes what it needs as it goes.
      q.execution!.prepareRun?.(() => true);
      // (A stack deeper than LAZY_REENTRY_MAX_FRAMES, as recursion.wasm's mostly is, re-enters eagerly.)
      if (name === 'qsort_printf') assert.is(engine.rewrites.clonesOf(q.compiled).length, 0, 'no clone before the run');
      assert.is(q.run().kind, 'exited');
      assert.is(got.out, want.out, `paused at poll ${at}`);
      resumed++;
    }
    assert.ok(resumed > 0, 'paused at least once');
  });
}

test.run();
