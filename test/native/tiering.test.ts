/**
 * Tiering up: with `tier: 'auto'`, a large module starts in the interpreter while a
 * worker thread rewrites it, and the running program moves to V8 when the rewrite is
 * ready. (The threshold is lowered here, so that a small program takes that path.) The
 * program must print what it prints on either tier alone, and pause, snapshot and
 * resume from either phase.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NativeExecution, nativeTierOf, TieringExecution } from '../../src/native/index.ts';
import { TIERING_SLICE } from '../../src/native/tiering.ts';
import type { NativeOptions } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { ClockSizedSlice } from '../../src/runtime/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32 } from '../helpers/module-builder.ts';

const bytes = readFileSync(new URL('../programs/ticker.wasm', import.meta.url));
const ticker = loadModule(bytes);
const args = ['ticker.wasm', 'lines=4', 'work=3000000', 'mem=1'];

function output(): { sink: (data: Uint8Array) => void; text: () => string } {
  const chunks: Buffer[] = [];
  return { sink: (data) => { chunks.push(Buffer.from(data)); }, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * A program on `tier`; `background` lowers the native tier's threshold for rewriting in a
 * worker (and loads the module afresh: a module already rewritten moves to V8 at once).
 */
function program(tier: Tier, background: boolean, sink: (data: Uint8Array) => void, options: NativeOptions = {}): Program {
  const p = Program.instantiate(background ? loadModule(bytes) : ticker, { args, stdout: sink, tier });
  nativeTierOf(p, { backgroundRewriteBytes: background ? 0 : Infinity, ...options });
  return p;
}

const reference = (() => {
  const out = output();
  const p = program('native', false, out.sink);
  assert.is(p.run().kind, 'exited');
  return out.text();
})();

test('auto starts a large module in the interpreter and ends on V8, with the same output', () => {
  const out = output();
  const p = program('auto', true, out.sink);
  const ex = p.start();
  assert.ok(ex instanceof TieringExecution, 'a tiering execution');
  assert.is(ex.native, false);
  assert.is(p.run().kind, 'exited');
  assert.ok(ex.native, 'moved to the native tier');
  assert.ok(ex.instructions > 0, 'interpreted first');
  assert.is(out.text(), reference);
});

test('each tier takes run options as the interpreter does: a bad one is a RangeError naming it', () => {
  for (const [tier, background] of [['auto', true], ['native', false]] as const) {
    const p = program(tier, background, output().sink);
    p.start();
    assert.throws(() => p.run({ slice: NaN }), /^run option slice must be a whole number/, tier);
    assert.throws(() => p.run({ budget: -1 }), /^run option budget .* got -1$/, tier);
    assert.throws(() => p.run({ timeSliceMs: NaN }), /^run option timeSliceMs .* got NaN$/, tier);
    assert.is(p.run().kind, 'exited', `${tier} runs on`);
  }
});

test('below the threshold, or with --tier native, the native tier starts at once', () => {
  for (const [tier, background] of [['auto', false], ['native', true]] as const) {
    const p = program(tier, background, output().sink);
    assert.ok(p.start() instanceof NativeExecution, `${tier}, background ${background}`);
  }
});

test('paused while interpreting, snapshotted, resumed on the native tier: the same output', () => {
  const out = output();
  const p = program('auto', true, out.sink);
  const ex = p.start() as TieringExecution;
  assert.is(p.run({ budget: 50_000 }).kind, 'paused');
  assert.is(ex.native, false);
  assert.is(ex.instructions, 50_000);
  const snapshot = p.snapshot();
  const rest = output();
  const resumed = Program.resume(snapshot, { module: ticker, args, stdout: rest.sink, tier: 'native' });
  assert.is(resumed.run().kind, 'exited');
  assert.is(out.text() + rest.text(), reference);
  // The original goes on too, and tiers up.
  assert.is(p.run().kind, 'exited');
  assert.ok(ex.native);
  assert.is(out.text(), reference);
});

test('paused after moving to V8, snapshotted, resumed: the same output', () => {
  const out = output();
  const p = program('auto', true, out.sink);
  const ex = p.start() as TieringExecution;
  let outcome = p.run({ timeSliceMs: 5 });
  while (outcome.kind === 'paused' && !ex.native) outcome = p.run({ timeSliceMs: 5 });
  assert.is(outcome.kind, 'paused', 'still running once on V8');
  outcome = p.run({ timeSliceMs: 5 });
  assert.is(outcome.kind, 'paused');
  const before = out.text();
  const rest = output();
  const resumed = Program.resume(p.snapshot(), { module: ticker, args, stdout: rest.sink, tier: 'auto' });
  assert.is(resumed.run().kind, 'exited');
  assert.is(before + rest.text(), reference);
});

test('past its time in the interpreter (none here), the thread waits for the worker, then runs on V8: the same output', () => {
  const out = output();
  const p = program('auto', true, out.sink, { interpretWhileRewritingMs: 0 });
  const ex = p.start() as TieringExecution;
  assert.is(p.run().kind, 'exited');
  assert.ok(ex.native, 'moved to the native tier');
  assert.is(out.text(), reference);
});

test('waiting for the worker stops for a pause signal and at the caller\'s deadline', () => {
  const out = output();
  const p = program('auto', true, out.sink, { interpretWhileRewritingMs: 0 });
  const ex = p.start() as TieringExecution;
  // Another thread's pause request (an agent's migration): raised before the run, seen at once.
  Atomics.store(p.store.pauseSignal, 0, 1);
  assert.is(p.run().kind, 'paused');
  assert.is(Atomics.load(p.store.pauseSignal, 0), 0, 'the signal is taken');
  // A time slice ends the wait too (the CLI's --snapshot-on-signal slices, an agent's turns).
  let slices = 0;
  let outcome = p.run({ timeSliceMs: 5 });
  while (outcome.kind === 'paused') {
    slices++;
    outcome = p.run({ timeSliceMs: 5 });
  }
  assert.is(outcome.kind, 'exited');
  assert.ok(ex.native);
  assert.ok(slices > 0, 'returned within its slices while the worker was busy');
  assert.is(out.text(), reference);
});

test('slices are sized by time: the first is 10,000 instructions, the next take about 10 ms (a fixed 250,000 ran 0.6 s cold)', () => {
  const nextSlice = (size: number, tookMs: number): number => {
    const slice = new ClockSizedSlice({ ...TIERING_SLICE, first: size });
    slice.record(tookMs);
    return slice.size;
  };
  assert.is(new ClockSizedSlice(TIERING_SLICE).size, 10_000);
  assert.is(nextSlice(10_000, 100), 1_000, 'a slow slice: shorter, down to the floor');
  assert.is(nextSlice(10_000, 20), 5_000);
  assert.is(nextSlice(10_000, 10), 10_000);
  assert.is(nextSlice(10_000, 1), 40_000, 'a fast slice: at most four times longer');
  assert.is(nextSlice(200_000, 0), 250_000, 'never past 250,000');
  // In a run: past a 1 ms window the thread moves after a few slices, far short of 250,000 instructions.
  const out = output();
  const p = program('auto', true, out.sink, { interpretWhileRewritingMs: 1, rewriteWhileInterpreting: 'inline' });
  const ex = p.start() as TieringExecution;
  assert.is(p.run().kind, 'exited');
  assert.ok(ex.native);
  assert.is(out.text(), reference);
});

test('inline: no worker; after its window this thread rewrites the module, stores it, and runs on V8: the same output', () => {
  const out = output();
  const p = program('auto', true, out.sink, { interpretWhileRewritingMs: 20, rewriteWhileInterpreting: 'inline' });
  const tier = nativeTierOf(p);
  const before = tier.rewrites.stats.rewritten;
  const ex = p.start() as TieringExecution;
  assert.ok(ex instanceof TieringExecution);
  assert.is(p.run().kind, 'exited');
  assert.ok(ex.native, 'moved to the native tier');
  assert.ok(ex.instructions > 0, 'interpreted first');
  assert.is(tier.rewrites.stats.rewritten, before + 1, 'rewritten on this thread');
  assert.is(out.text(), reference);
});

test('inline: a program that ends within the window is never rewritten', () => {
  const short = ['ticker.wasm', 'lines=1', 'work=10', 'mem=1'];
  const interpreted = output();
  assert.is(Program.instantiate(ticker, { args: short, stdout: interpreted.sink, tier: 'interp' }).run().kind, 'exited');
  const out = output();
  const p = Program.instantiate(loadModule(bytes), { args: short, stdout: out.sink, tier: 'auto' });
  const tier = nativeTierOf(p, { backgroundRewriteBytes: 0, interpretWhileRewritingMs: 60_000, rewriteWhileInterpreting: 'inline' });
  const before = tier.rewrites.stats.rewritten;
  const ex = p.start() as TieringExecution;
  assert.ok(ex instanceof TieringExecution);
  assert.is(p.run().kind, 'exited');
  assert.is(ex.native, false);
  assert.is(tier.rewrites.stats.rewritten, before);
  assert.ok(interpreted.text().length > 0);
  assert.is(out.text(), interpreted.text());
});

test('a pause asked for by a host function while interpreting comes right after it returns', () => {
  const b = new ModuleBuilder();
  const tick = b.importFunc('env', 'tick', b.type([ValType.i32], []));
  const start = b.func(b.type([], []), [
    0x03, 0x40, //                                              loop
    0x20, 0, 0x10, tick, //                                       tick(i)
    0x20, 0, 0x41, 1, 0x6a, 0x22, 0, 0x41, ...s32(1_000_000), 0x49, 0x0d, 0, // while (++i < 1e6)
    0x0b, 0x0b,
  ], [ValType.i32]);
  b.export('_start', 'func', start);
  let calls = 0;
  const p = Program.instantiate(loadModule(b.build()), {
    tier: 'auto',
    imports: { env: { tick: () => { if (++calls === 10) p.requestPause(); } } },
  });
  nativeTierOf(p, { backgroundRewriteBytes: 0 });
  assert.ok(p.start() instanceof TieringExecution);
  assert.is(p.run().kind, 'paused');
  assert.is(calls, 10);
});

test.run();
