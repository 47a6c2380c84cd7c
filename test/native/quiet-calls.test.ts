/**
 * Calls to functions that can never unwind (no loop, no recursion, no import or indirect
 * call, only such callees: `BodyScan.quiet`) get no after-call check: the branch to
 * `$save` that each check adds carries every local, and V8's optimizing compiler pays
 * for each. The call stays a safepoint; pausing anywhere else still gives the
 * interpreter's result.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NativeExecution, NativeTier, rewriteModule, scanBodies } from '../../src/native/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/**
 * leaf(x) = x * 3 + 1 (quiet); twice(x) = leaf(leaf(x)) (quiet: calls only a quiet one);
 * spin(x): a loop of x rounds (may poll); run(n): acc = twice(acc) + spin(i) for i < n.
 */
function module(): { bytes: Uint8Array; leaf: number; twice: number; spin: number; run: number } {
  const b = new ModuleBuilder();
  const unary = b.type([i32], [i32]);
  const leaf = b.func(unary, [0x20, 0, 0x41, 3, 0x6c, 0x41, 1, 0x6a, 0x0b]);
  const twice = b.func(unary, [0x20, 0, 0x10, leaf, 0x10, leaf, 0x0b]);
  const spin = b.func(unary, [
    0x03, 0x40, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b, // j += 1 while j < x
    0x20, 1, 0x0b,
  ], [i32]);
  const run = b.func(unary, [
    0x03, 0x40, //                                                        loop
    0x20, 2, 0x10, twice, 0x20, 1, 0x10, spin, 0x6a, 0x21, 2, //            acc = twice(acc) + spin(i)
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b, //      i += 1 while i < n
    0x20, 2, 0x0b,
  ], [i32, i32]);
  b.export('run', 'func', run);
  return { bytes: b.build(), leaf, twice, spin, run };
}

const m = module();
const compiled = loadModule(m.bytes);

test('functions that cannot unwind are found, and those that call one that can are not', () => {
  const { quiet } = scanBodies(compiled.context);
  assert.ok(quiet.has(m.leaf), 'leaf');
  assert.ok(quiet.has(m.twice), 'twice');
  assert.not.ok(quiet.has(m.spin), 'spin has a loop');
  assert.not.ok(quiet.has(m.run), 'run has a loop and calls spin');
});

test('a call to a quiet function gets no after-call check; a call to one that may unwind does', () => {
  const rewritten = rewriteModule(compiled.context);
  const unwinding = compiled.context.globals.length; // the helper globals follow the module's own
  const check = [0x23, unwinding, 0x04, 0x40];
  /** The rewritten bytes right after the call at original offset `at` of function `f` (a one-byte index). */
  const after = (f: number, at: number): number[] => {
    const info = rewritten.functions[f]!;
    const k = Array.from(info.originalPcs).lastIndexOf(at);
    const pos = info.codeOffset + info.rewrittenPcs[k];
    assert.is(rewritten.bytes[pos], 0x10, 'a call');
    return Array.from(rewritten.bytes.subarray(pos + 2, pos + 6));
  };
  const twiceAt = compiled.module.codes[m.twice].codeStart;
  assert.not.equal(after(m.twice, twiceAt + 2), check, 'twice calls leaf: no check');
  const runAt = compiled.module.codes[m.run].codeStart;
  assert.not.equal(after(m.run, runAt + 4), check, 'run calls twice: no check');
  assert.equal(after(m.run, runAt + 8), check, 'run calls spin: checked');
});

function interpreted(n: number): number {
  const store = new Store();
  const inst = store.instantiate(compiled);
  return store.invoke(inst.exports.get('run')!, [n])[0] as number;
}

/** run(n) of `module` natively, paused at poll `at` and resumed natively. */
function native(n: number, at: number, module = compiled): { result: number; paused: boolean } {
  const store = new Store();
  const inst = store.instantiate(module);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global' } });
  tier.attach(inst);
  let polls = 0;
  tier.pollHook = () => ++polls === at;
  const ex = new NativeExecution(tier, inst.exports.get('run')!.addr, [n]);
  let outcome = ex.run();
  const paused = outcome.kind === 'paused';
  if (paused) outcome = ex.run();
  assert.is(outcome.kind, 'returned');
  return { result: (outcome as { results: number[] }).results[0], paused };
}

test('paused at every poll beside quiet calls, a run resumes to the uninterrupted result', () => {
  const want = interpreted(12);
  let pauses = 0;
  for (let at = 1; ; at++) {
    const run = native(12, at);
    assert.is(run.result, want, `paused at poll ${at}`);
    if (!run.paused) break;
    pauses++;
  }
  assert.ok(pauses >= 12, `${pauses} pauses`);
});

/** hop(x) = return_call spin(x): no loop of its own, but its tail call may unwind; run(n) sums hop(i). */
function tailModule(): { bytes: Uint8Array; hop: number; spin: number; run: number } {
  const b = new ModuleBuilder();
  const unary = b.type([i32], [i32]);
  const spin = b.func(unary, [
    0x03, 0x40, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b, // j += 1 while j < x
    0x20, 1, 0x0b,
  ], [i32]);
  const hop = b.func(unary, [0x20, 0, 0x12, spin, 0x0b]);
  const run = b.func(unary, [
    0x03, 0x40, //                                                        loop
    0x20, 1, 0x10, hop, 0x20, 2, 0x6a, 0x21, 2, //                          acc = hop(i) + acc
    0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b, //      i += 1 while i < n
    0x20, 2, 0x0b,
  ], [i32, i32]);
  b.export('run', 'func', run);
  return { bytes: b.build(), hop, spin, run };
}

test('a function whose tail call may unwind is not quiet, and pausing beneath it resumes exactly', () => {
  const t = tailModule();
  const tc = loadModule(t.bytes);
  assert.not.ok(scanBodies(tc.context).quiet.has(t.hop), 'hop tail-calls spin, which polls');
  const store = new Store();
  const want = store.invoke(store.instantiate(tc).exports.get('run')!, [9])[0] as number;
  let pauses = 0;
  for (let at = 1; ; at++) {
    const run = native(9, at, tc);
    assert.is(run.result, want, `paused at poll ${at}`);
    if (!run.paused) break;
    pauses++;
  }
  assert.ok(pauses >= 9, `${pauses} pauses`);
});

test.run();
