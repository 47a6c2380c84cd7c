/**
 * Asynchronous imports on both tiers: a host function that returns a promise suspends
 * the program at its call (`awaiting`), `runAsync` carries on with the settled value, a
 * rejection traps at the call, and a snapshot taken while the import is pending resumes
 * (on either tier) by making the call again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Trap } from '../../src/errors/index.ts';
import { NativeExecution } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { constExpr, ModuleBuilder, s32 } from '../helpers/module-builder.ts';

const { i32 } = ValType;

/**
 * work(n): acc = step(acc, i) for i < n, where step(acc, i) = acc*31 + (1000 + fetch(i)):
 * the call of `env.fetch` has 1000 and acc*31 below it, two frames above the host.
 * `indirect` makes step call fetch through a table (call_indirect).
 */
function asyncModule(indirect: boolean): Uint8Array {
  const b = new ModuleBuilder();
  const tUnary = b.type([i32], [i32]);
  const tStep = b.type([i32, i32], [i32]);
  const fetch = b.importFunc('env', 'fetch', tUnary);
  const callFetch = indirect ? [0x41, 0, 0x11, tUnary, 0] : [0x10, fetch];
  const step = b.func(tStep, [
    0x20, 0, 0x41, 31, 0x6c, //                 acc * 31
    0x41, ...s32(1000), 0x20, 1, ...callFetch, // 1000, fetch(i)
    0x6a, 0x6a, 0x0b,
  ]);
  const work = b.func(tUnary, [
    0x02, 0x40, 0x03, 0x40,
    0x20, 2, 0x20, 0, 0x4e, 0x0d, 1, //        while i < n
    0x20, 1, 0x20, 2, 0x10, step, 0x21, 1, //  acc = step(acc, i)
    0x20, 2, 0x41, 1, 0x6a, 0x21, 2, //        i++
    0x0c, 0, 0x0b, 0x0b,
    0x20, 1, 0x0b,
  ], [i32, i32]);
  if (indirect) {
    b.table(0x70, 1);
    b.elem({ mode: 'active', offset: constExpr.i32(0), funcs: [fetch] });
  }
  b.export('work', 'func', work);
  return b.build();
}

const direct = loadModule(asyncModule(false));
const viaTable = loadModule(asyncModule(true));
const N = 6;
const value = (i: number): number => i * i + 3;
const want = (() => {
  let acc = 0;
  for (let i = 0; i < N; i++) acc = (Math.imul(acc, 31) + 1000 + value(i)) | 0;
  return acc;
})();

/** An async `env.fetch` that settles on a later turn of the event loop, and the arguments it saw. */
function asyncFetch(fail?: number): { fetch: (i: number) => Promise<number>; calls: number[] } {
  const calls: number[] = [];
  const fetch = async (i: number): Promise<number> => {
    calls.push(i);
    await new Promise((resolve) => setImmediate(resolve));
    if (i === fail) throw new Error(`no value for ${i}`);
    return value(i);
  };
  return { fetch, calls };
}

for (const tier of ['interp', 'native'] as const satisfies readonly Tier[]) {
  test(`${tier}: runAsync awaits every import and returns what a synchronous import gives`, async () => {
    const { fetch, calls } = asyncFetch();
    const p = Program.instantiate(direct, { tier, imports: { env: { fetch } } });
    const execution = p.start('work', [N]);
    if (tier === 'native') assert.ok(execution instanceof NativeExecution);
    const outcome = await p.runAsync();
    assert.equal(outcome, { kind: 'returned', results: [want] });
    assert.equal(calls, [0, 1, 2, 3, 4, 5]);
    // The same module with a synchronous import, for reference.
    const sync = Program.instantiate(direct, { tier, imports: { env: { fetch: value } } });
    sync.start('work', [N]);
    assert.equal(sync.run(), { kind: 'returned', results: [want] });
    if (execution instanceof NativeExecution) assert.ok(execution.stats.reentries >= N - 1, `resumed natively ${execution.stats.reentries} times`);
  });

  test(`${tier}: runAsync rejects a bad run option by name before it runs`, async () => {
    const { fetch, calls } = asyncFetch();
    const p = Program.instantiate(direct, { tier, imports: { env: { fetch } } });
    p.start('work', [N]);
    for (const options of [{ budget: NaN }, { until: -1 }, { slice: 0 }]) {
      const error = await p.runAsync(options).then(() => undefined, (e: unknown) => e);
      assert.instance(error, RangeError, JSON.stringify(options));
      assert.match((error as Error).message, /^run option (budget|until|slice) must be a whole number/);
    }
    assert.equal(calls, [], 'nothing ran');
    assert.equal(await p.runAsync(), { kind: 'returned', results: [want] });
  });

  test(`${tier}: run() stops awaiting, and again until the promise settled`, async () => {
    const { fetch } = asyncFetch();
    const p = Program.instantiate(direct, { tier, imports: { env: { fetch } } });
    p.start('work', [N]);
    const first = p.run();
    assert.is(first.kind, 'awaiting');
    assert.is(first.kind === 'awaiting' && first.import, 'env.fetch');
    assert.is(p.run().kind, 'awaiting', 'not settled yet: still awaiting, the import not called again');
    await p.importSettled();
    assert.is(p.run().kind, 'awaiting', 'the next call of fetch');
  });

  test(`${tier}: a rejected import traps at its call`, async () => {
    const { fetch } = asyncFetch(3);
    const p = Program.instantiate(direct, { tier, imports: { env: { fetch } } });
    p.start('work', [N]);
    try {
      await p.runAsync();
      assert.unreachable('should trap');
    } catch (error) {
      assert.instance(error, Trap);
      assert.match((error as Trap).message, /env\.fetch failed: no value for 3/);
      assert.ok((error as Trap).backtrace.length >= 2, 'step and work on the backtrace');
    }
  });

  for (const module of [direct, viaTable]) {
    const how = module === direct ? 'call' : 'call_indirect';
    for (const to of ['interp', 'native'] as const) {
      test(`${tier} -> ${to}: a snapshot taken while an import (${how}) is pending resumes by calling it again`, async () => {
        const a = asyncFetch();
        const p = Program.instantiate(module, { tier, imports: { env: { fetch: a.fetch } } });
        p.start('work', [N]);
        // Three imports done, the fourth pending.
        for (let settled = 0; settled < 3; settled++) {
          assert.is(p.run().kind, 'awaiting');
          await p.importSettled();
        }
        assert.is(p.run().kind, 'awaiting');
        assert.equal(a.calls, [0, 1, 2, 3]);
        const snapshot = p.snapshot({ embedModule: true });
        const b = asyncFetch();
        const resumed = Program.resume(snapshot, { tier: to, imports: { env: { fetch: b.fetch } } });
        assert.equal(await resumed.runAsync(), { kind: 'returned', results: [want] });
        assert.equal(b.calls, [3, 4, 5], 'the pending call made again, with its argument');
        // The original, its promise settled meanwhile, finishes too.
        assert.equal(await p.runAsync(), { kind: 'returned', results: [want] });
      });
    }
  }

  test(`${tier}: a pause asked for while awaiting lands after the import settled`, async () => {
    const { fetch } = asyncFetch();
    const p = Program.instantiate(direct, { tier, imports: { env: { fetch } } });
    p.start('work', [N]);
    assert.is(p.run().kind, 'awaiting');
    p.requestPause();
    await p.importSettled();
    const outcome = p.run();
    assert.ok(outcome.kind === 'paused' || outcome.kind === 'awaiting', outcome.kind);
    assert.equal(await p.runAsync(), { kind: 'returned', results: [want] });
  });
}

test('an async import in Store.invoke, which cannot await, is a clear usage error', async () => {
  const { Store } = await import('../../src/runtime/index.ts');
  const store = new Store();
  const instance = store.instantiate(direct, { env: { fetch: asyncFetch().fetch } });
  const work = instance.exports.get('work')!;
  assert.throws(() => store.invoke(work.kind === 'func' ? work.addr : -1, [2]), /runAsync/);
});

test.run();
