/**
 * Unrolled loops on the native tier: an innermost loop written several times after one
 * header check must behave as the loop it came from, whichever branch leaves a copy (a
 * `br_if` back in the middle of the body, a `br_table` to the loop, a branch out of it,
 * the body's fall-through with a result), pause and resume anywhere, and trap where the
 * original code traps.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Trap } from '../../src/errors/index.ts';
import { NativeExecution, NativeTier, planUnrolling, rewriteModule } from '../../src/native/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/** The offset of `mix`'s `i32.div_u`, which traps when i == t. */
let divOffset = -1;

/**
 * mix(n, t): a loop over i = 1, 2, ... with every kind of way out of a body copy:
 *   i % 4 in {0, 2}: back to the loop by br_table; i % 5 == 0: back by br_if, mid-body;
 *   i >= n: out to $done with acc; i == 50: the body falls through with acc (the loop's result).
 * Odd i add i * i (with `withCall`, sq(i): a call, which keeps the loop from being
 * unrolled) and divide by i - t.
 */
function mixModule(withCall: boolean): Uint8Array {
  const b = new ModuleBuilder();
  const tUnary = b.type([i32], [i32]);
  const tBinary = b.type([i32, i32], [i32]);
  const sq = b.func(tUnary, [
    0x41, 0, 0x21, 1, //                                         j = 0; a loop of x rounds, so that sq polls too
    0x03, 0x40, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x48, 0x0d, 0, 0x0b,
    0x20, 0, 0x20, 0, 0x6c, 0x0b,
  ], [i32]);
  const body = [
    0x02, i32, //                                                block $done (result i32)
    0x03, i32, //                                                  loop $L (result i32)
    0x20, 2, 0x41, 1, 0x6a, 0x22, 2, //                              i += 1
    0x20, 0, 0x4e, 0x04, 0x40, 0x20, 3, 0x0c, 2, 0x0b, //           if (i >= n) br $done with acc
    0x02, 0x40, //                                                   block $odd
    0x20, 2, 0x41, 3, 0x71, 0x0e, 3, 1, 0, 1, 0, //                   br_table $L $odd $L, default $odd (on i & 3)
    0x0b,
    ...(withCall ? [0x20, 3, 0x20, 2, 0x10, sq, 0x6a, 0x21, 3] : [0x20, 3, 0x20, 2, 0x20, 2, 0x6c, 0x6a, 0x21, 3]), // acc += sq(i) or i * i
    0x41, 1, 0x20, 2, 0x20, 1, 0x6b, //                              1 / (i - t)
  ];
  if (!withCall) divOffset = body.length;
  body.push(
    0x6e, 0x1a, //                                                   i32.div_u; drop
    0x20, 2, 0x41, 5, 0x70, 0x45, 0x0d, 0, //                        br_if $L when i % 5 == 0
    0x20, 3, 0x41, 3, 0x6c, 0x41, 1, 0x6a, 0x21, 3, //              acc = acc * 3 + 1
    0x20, 3, //                                                      acc (the loop's result when it falls through)
    0x20, 2, 0x41, 50, 0x49, 0x0d, 0, //                             br_if $L while i < 50
    0x0b, //                                                       end $L
    0x0b, //                                                     end $done
    0x20, 2, 0x6a, 0x0b, //                                      + i
  );
  const mix = b.func(tBinary, body, [i32, i32]);
  b.export('mix', 'func', mix);
  return b.build();
}

const mix = loadModule(mixModule(false));
const mixWithCall = loadModule(mixModule(true));
// The body's offset in the module: the trap must name the original instruction.
const mixCode = mix.module.codes[1];
const divAt = mixCode.codeStart + divOffset;

function interpreted(n: number, t: number): number | string {
  const store = new Store();
  const inst = store.instantiate(mix);
  try {
    return store.invoke(inst.exports.get('mix')!, [n, t])[0] as number;
  } catch (error) {
    if (error instanceof Trap) return error.message;
    throw error;
  }
}

/** mix(n, t) on the native tier with `unroll` copies, paused at poll `at` (0: never) and resumed natively. */
function native(n: number, t: number, unroll: number, at = 0): { result: number | string; paused: boolean; trap?: Trap } {
  const store = new Store();
  const inst = store.instantiate(mix);
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll } });
  tier.attach(inst);
  let polls = 0;
  tier.pollHook = () => ++polls === at;
  const ex = new NativeExecution(tier, inst.exports.get('mix')!.addr, [n, t]);
  try {
    let outcome = ex.run();
    const paused = outcome.kind === 'paused';
    if (paused) outcome = ex.run();
    assert.is(outcome.kind, 'returned');
    return { result: (outcome as { results: number[] }).results[0], paused };
  } catch (error) {
    if (error instanceof Trap) return { result: error.message, paused: false, trap: error };
    throw error;
  }
}

test('the plan unrolls the smallest loops first, within the budget', () => {
  const loops = [{ at: 10, size: 40 }, { at: 100, size: 30_000 }, { at: 200, size: 20 }];
  const plan = planUnrolling(loops, 1000, 8);
  assert.is(plan.get(200), 8);
  assert.is(plan.get(10), 8);
  // 64 KiB less 7 * 60 bytes leaves room for one more copy of the big one, not seven.
  assert.is(plan.get(100), 3);
  assert.is(planUnrolling(loops, 1000, 1).size, 0);
});

test('the rewritten loop holds its body in as many copies as asked', () => {
  for (const unroll of [1, 2, 5]) {
    const f = rewriteModule(mix.context, { unroll }).functions[1]!;
    // Every instruction of mix's loop body is written `unroll` times.
    const copies = f.originalPcs.filter((pc) => pc === divAt).length;
    assert.is(copies, unroll, `unroll ${unroll}`);
  }
});

test('a loop that makes a call is not unrolled; a loop without calls in the same module is', () => {
  const at = mixWithCall.module.codes[1].codeStart + divOffset - 1; // the division: the call is a byte shorter than i * i
  for (const unroll of [2, 8]) {
    const rewritten = rewriteModule(mixWithCall.context, { unroll });
    // Each copy would repeat the call's safepoint, which carries every local to $save.
    assert.is(rewritten.functions[1]!.originalPcs.filter((pc) => pc === at).length, 1, `unroll ${unroll}`);
    // sq's loop (no call) is.
    const sqLoopBody = mixWithCall.module.codes[0].codeStart + 6;
    assert.is(rewritten.functions[0]!.originalPcs.filter((pc) => pc === sqLoopBody).length, unroll, `sq, unroll ${unroll}`);
  }
});

test('unrolled loops compute what the loop computes, for every way out', () => {
  for (const unroll of [1, 2, 3, 4, 8]) {
    for (const n of [0, 1, 2, 3, 5, 7, 10, 11, 49, 50, 51, 80]) {
      assert.is(native(n, 0, unroll).result, interpreted(n, 0), `mix(${n}) in ${unroll} copies`);
    }
  }
});

test('paused at every poll and resumed natively, unrolled loops end as the loop does', () => {
  const want = interpreted(60, 0);
  for (const unroll of [2, 3, 8]) {
    let pauses = 0;
    for (let at = 1; ; at++) {
      const run = native(60, 0, unroll, at);
      assert.is(run.result, want, `paused at poll ${at}, ${unroll} copies`);
      if (!run.paused) break;
      pauses++;
    }
    // About 50 iterations, a header check (a poll) per `unroll` of them.
    assert.ok(pauses >= Math.floor(48 / unroll), `${pauses} pauses with ${unroll} copies`);
  }
});

test('a trap in any copy names the original instruction', () => {
  for (const unroll of [1, 2, 3, 4]) {
    for (const t of [7, 9, 11, 13]) {
      const run = native(60, t, unroll);
      assert.is(run.result, 'integer divide by zero', `t = ${t}, ${unroll} copies`);
      assert.is(run.trap!.backtrace[0]?.offset, divAt, `t = ${t}, ${unroll} copies`);
    }
  }
});

test.run();
