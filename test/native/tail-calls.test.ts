/**
 * Tail calls on the native tier (issue 18): V8 runs `return_call` and
 * `return_call_indirect` itself, and the rewriter's safepoints see the frames the
 * interpreter would: the callee in its caller's place, no safepoint after a tail call,
 * the recursion budget given back before one, polls at the entry of a tail recursion
 * (which has no loop header), a host function tail-called that asks for a pause or
 * returns a promise. Paused natively anywhere, the frames equal the interpreter's and
 * resume on both tiers to the uninterrupted result; paused in the interpreter, they
 * resume natively.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotError } from '../../src/errors/index.ts';
import { LocalLiveness, NativeEngine, NativeExecution, NativeTier, nativeTierOf } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import { captureFrames } from '../../src/snapshot/index.ts';
import type { CanonicalFrame } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { repoRoot, wasmig } from '../helpers/cli.ts';
import { constExpr, ModuleBuilder, s32, u32 } from '../helpers/module-builder.ts';

const { i32, i64 } = ValType;

/** Whether the host's WebAssembly validates `return_call` (Node 20's V8 11.3 does by default). */
const HOST_TAIL_CALLS = WebAssembly.validate(new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 0x0a, 6, 1, 4, 0, 0x12, 0, 0x0b, // (func (return_call 0))
]));

/**
 * $sum (n, acc) -> i64: n == 0 ? acc : return_call $sum(n - 1, acc + n) (no loop);
 * $even / $odd by return_call_indirect through table slots 0 and 1;
 * $tohost (n) = return_call env.twice(n + 3); $viaHost (n) = 1 + $tohost(n);
 * $start (n) = return_call $sum(n, 0) (other parameters); $outer (n) = 1 + $start(n);
 * $mixed (n): tail recursion, with a plain recursive call every 65,536th step
 * (= floor(n / 65536)): its activations count the recursion budget;
 * $spin (n) = n + ... + 1 in a loop; $toSpin (n) = return_call $spin(n + 1);
 * $outerSpin (n) = 1000 + $toSpin(n), the 1000 below the call.
 */
function tailModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tHost = b.type([i32], [i32]);
  const tSum = b.type([i32, i64], [i64]);
  const tStart = b.type([i32], [i64]);
  const twice = b.importFunc('env', 'twice', tHost);
  const sum = b.func(tSum, [
    0x20, 0, 0x45, 0x04, 0x40, 0x20, 1, 0x0f, 0x0b,
    0x20, 0, 0x41, 1, 0x6b, 0x20, 1, 0x20, 0, 0xad, 0x7c, 0x12, ...u32(twice + 1), 0x0b,
  ]);
  const parity = (base: number, slot: number): number[] => [
    0x20, 0, 0x45, 0x04, 0x40, 0x41, base, 0x0f, 0x0b,
    0x20, 0, 0x41, 1, 0x6b, 0x41, slot, 0x13, ...u32(tHost), 0, 0x0b,
  ];
  const even = b.func(tHost, parity(1, 1));
  const odd = b.func(tHost, parity(0, 0));
  const tohost = b.func(tHost, [0x20, 0, 0x41, 3, 0x6a, 0x12, ...u32(twice), 0x0b]);
  const viaHost = b.func(tHost, [0x41, 1, 0x20, 0, 0x10, ...u32(tohost), 0x6a, 0x0b]);
  const start = b.func(tStart, [0x20, 0, 0x42, 0, 0x12, ...u32(sum), 0x0b]);
  const outer = b.func(tStart, [0x42, 1, 0x20, 0, 0x10, ...u32(start), 0x7c, 0x0b]);
  const mixed = outer + 1;
  assert.is(b.func(tHost, [
    0x20, 0, 0x45, 0x04, 0x40, 0x41, 0, 0x0f, 0x0b, //                        n == 0: 0
    0x20, 0, 0x41, ...s32(0xffff), 0x71, 0x45, 0x04, 0x40, //                  n % 65536 == 0:
    0x20, 0, 0x41, 1, 0x6b, 0x10, ...u32(mixed), 0x41, 1, 0x6a, 0x0f, 0x0b, //   1 + $mixed(n - 1)
    0x20, 0, 0x41, 1, 0x6b, 0x12, ...u32(mixed), 0x0b, //                     return_call $mixed(n - 1)
  ]), mixed);
  const spin = b.func(tHost, [
    0x03, 0x40, 0x20, 1, 0x20, 0, 0x6a, 0x21, 1, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b,
    0x20, 1, 0x0b,
  ], [i32]);
  const toSpin = b.func(tHost, [0x20, 0, 0x41, 1, 0x6a, 0x12, ...u32(spin), 0x0b]);
  const outerSpin = b.func(tHost, [0x41, ...s32(1000), 0x20, 0, 0x10, ...u32(toSpin), 0x6a, 0x0b]);
  // $lth (n): a loop counting n down, then return_call env.twice(5); $viaLth (n) = 1 + $lth(n).
  const lth = b.func(tHost, [
    0x03, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b,
    0x41, 5, 0x12, ...u32(twice), 0x0b,
  ]);
  const viaLth = b.func(tHost, [0x41, 1, 0x20, 0, 0x10, ...u32(lth), 0x6a, 0x0b]);
  b.table(ValType.funcref, 2, 2);
  b.elem({ mode: 'active', offset: constExpr.i32(0), funcs: [even, odd] });
  for (const [name, f] of Object.entries({ sum, even, tohost, viaHost, outer, mixed, outerSpin, lth, viaLth })) b.export(name, 'func', f);
  return b.build();
}

/** Function indices of the module's functions that tests look for in frames. */
const FUNC = { sum: 1, odd: 3, viaHost: 5, spin: 9 } as const;

const compiled = loadModule(tailModule());
const imports = { env: { twice: (x: number): number => 2 * x } };

/** The interpreter's result of `name(args)`. */
function expected(name: string, args: unknown[]): unknown[] {
  const store = new Store();
  const inst = store.instantiate(compiled, imports);
  return store.invoke(inst.exports.get(name)!.addr, args);
}

/** A store with the module, and its native tier polling at every loop header and entry (`pollInterval` 1). */
function nativeStore(twice = imports.env.twice): { store: Store; tier: NativeTier; addr: (name: string) => number; instance: ReturnType<Store['instantiate']> } {
  const store = new Store();
  const instance = store.instantiate(compiled, { env: { twice } });
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  tier.attach(instance);
  return { store, tier, instance, addr: (name) => instance.exports.get(name)!.addr };
}

/** Frames as comparable text (i64 values are bigints). */
/**
 * `frames` with zeros in the locals that are dead where each frame stands: a native
 * safepoint clears those on its way out (src/native/local-liveness.ts), so a frame
 * paused natively is the interpreter's but for them.
 */
function deadLocalsZeroed(frames: readonly CanonicalFrame[]): CanonicalFrame[] {
  const module = compiled.context.module;
  return frames.map((f) => {
    const body = module.codes[f.funcIndex - module.numImportedFuncs]!;
    const liveness = LocalLiveness.of(module.bytes, body.codeStart, body.codeEnd, f.locals.length, true);
    const locals = f.locals.map((v, i) => (liveness === undefined || liveness.isLive(f.pc, i) ? v : typeof v === 'bigint' ? 0n : typeof v === 'number' ? 0 : v));
    return { ...f, locals };
  });
}

function key(frames: readonly CanonicalFrame[]): string {
  return JSON.stringify(frames, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** test/programs/musttail.wasm run by `wasmig run --tier native`: its status and stdout checked against Node's. */
function musttailOnNativeTier(): { stdout: string; stderr: string } {
  const r = wasmig(['run', '--tier', 'native', '--no-cache', join(repoRoot, 'test', 'programs', 'musttail.wasm')]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'rounds 10000: 90007 handler tail calls, result 2c3115cec0334af9\n');
  return r;
}

if (!HOST_TAIL_CALLS) {
  test('the host\'s WebAssembly lacks tail calls: the native engine says so and runs the module in the interpreter', () => {
    assert.match(new NativeEngine().cannotRun(compiled)!, /^the host's WebAssembly lacks tail calls: function 1 \(return_call at byte 0x[0-9a-f]+\)$/);
    const program = Program.instantiate(compiled, { imports, tier: 'native' });
    assert.ok(program.start('outer', [5]) instanceof Execution);
    assert.equal(program.run(), { kind: 'returned', results: [16n] });
  });
  test('the musttail corpus program on wasmig run --tier native: Node\'s output, from the interpreter, which the one line says', () => {
    const r = musttailOnNativeTier();
    assert.match(r.stderr, /runs in the interpreter: the host's WebAssembly lacks tail calls/);
    assert.not.match(r.stderr.trimEnd(), '\n');
  });

  test.run();
} else {
  test('the native engine runs a module with tail calls natively', () => {
    assert.is(new NativeEngine().cannotRun(compiled), undefined);
    for (const tier of ['native', 'auto'] as const) {
      const program = Program.instantiate(compiled, { imports, tier });
      const execution = program.start('outer', [5]);
      assert.ok(execution instanceof NativeExecution, tier);
      assert.equal(program.run(), { kind: 'returned', results: [16n] });
      assert.is(program.store.thread.instructions, 0, 'not one instruction interpreted');
    }
  });

  test('10^8 tail calls run natively in constant stack, the recursion budget given back before each', () => {
    const program = Program.instantiate(compiled, { imports, tier: 'native' });
    const execution = program.start('mixed', [100_000_000]) as NativeExecution;
    assert.equal(program.run(), { kind: 'returned', results: [1525] });
    // A budget counted on entry and not given back before a return_call would run out
    // after a few thousand calls, and the stack would unwind into the interpreter.
    assert.is(execution.stats.unwinds, 0, 'never unwound for stack room');
    assert.is(program.store.thread.instructions, 0);
  });

  test('the budget runs out in a recursion that also tail-calls: the stack unwinds into the interpreter and goes on natively, to the right result', () => {
    const program = Program.instantiate(compiled, { imports, tier: 'native' });
    // Two activations of $mixed (7 units each) fit: every third plain call unwinds for room.
    nativeTierOf(program, { stackBudget: 20 });
    const execution = program.start('mixed', [1_000_000]) as NativeExecution;
    assert.equal(program.run(), { kind: 'returned', results: [15] });
    assert.ok(execution.stats.unwinds >= 5, `${execution.stats.unwinds} unwinds for room`);
    assert.ok(execution.stats.reentries >= 5, 'and re-entries into native code');
  });

  test('return_call_indirect between two functions, 1,000,001 deep, natively', () => {
    const program = Program.instantiate(compiled, { imports, tier: 'native' });
    const execution = program.start('even', [1_000_001]) as NativeExecution;
    assert.equal(program.run(), { kind: 'returned', results: [0] });
    assert.is(execution.stats.unwinds, 0);
  });

  /** Runs `name(args)` natively, pausing at poll number `at`; resumed natively (`reentry`) or in the interpreter. */
  const pausedRun = (name: string, args: unknown[], at: number, reentry: boolean): { paused: boolean; results: unknown[]; frames: CanonicalFrame[] } => {
    const { store, tier, instance, addr } = nativeStore();
    let n = 0;
    tier.pollHook = () => ++n === at;
    const ex = new NativeExecution(tier, addr(name), args);
    ex.reentry = reentry;
    let outcome = ex.run();
    const paused = outcome.kind === 'paused';
    const frames = paused ? captureFrames({ store, instance, execution: ex }) : [];
    if (paused) outcome = ex.run();
    assert.is(outcome.kind, 'returned');
    return { paused, results: (outcome as { results: unknown[] }).results, frames };
  };

  /** Every state the interpreter passes through running `name(args)`, as frame keys. */
  const interpreterStates = (name: string, args: unknown[]): Set<string> => {
    const store = new Store();
    const instance = store.instantiate(compiled, imports);
    const execution = new Execution(store, instance.exports.get(name)!.addr, args);
    const states = new Set<string>();
    for (let k = 1; ; k++) {
      if (execution.run({ until: k }).kind !== 'paused') break;
      states.add(key(deadLocalsZeroed(captureFrames({ store, instance, execution }))));
    }
    return states;
  };

  for (const [name, args, tailCalled] of [
    ['outer', [9], 'sum'], ['outerSpin', [12], 'spin'], ['even', [9], 'odd'], ['sum', [9, 100n], 'sum'],
  ] as const) {
    test(`${name}(${args.join(', ')}): paused at every poll, the frames are the interpreter's (${tailCalled} in its caller's place); resumed on both tiers`, () => {
      const want = expected(name, [...args]);
      const states = interpreterStates(name, [...args]);
      const tailIndex = FUNC[tailCalled];
      let pauses = 0;
      let tailFrames = 0;
      for (let at = 1; ; at++) {
        const native = pausedRun(name, [...args], at, true);
        const interp = pausedRun(name, [...args], at, false);
        assert.equal(native.results, want, `poll ${at}, resumed natively`);
        assert.equal(interp.results, want, `poll ${at}, resumed in the interpreter`);
        if (!native.paused) break;
        pauses++;
        // Dead locals aside (zero in both): the frames are a state the interpreter passes through.
        assert.ok(states.has(key(deadLocalsZeroed(native.frames))), `poll ${at}: the interpreter passes through ${key(native.frames)}`);
        if (native.frames[native.frames.length - 1].funcIndex === tailIndex) tailFrames++;
      }
      assert.ok(pauses >= 3, `${pauses} pauses`);
      assert.ok(tailFrames >= 2, `${tailFrames} pauses in the tail-called function`);
    });
  }

  test('a tail recursion without loops polls at its entries: pauses land in it, and its run resumes natively', () => {
    const depths = new Set<number>();
    for (const at of [1, 2, 20_000, 40_000, 69_000]) {
      const native = pausedRun('mixed', [140_000], at, true);
      assert.ok(native.paused, `poll ${at}`);
      assert.equal(native.results, [2]);
      // The plain recursive call every 65,536 steps stays on the stack; the tail calls do not.
      assert.ok(native.frames.length <= 3, `poll ${at}: ${native.frames.length} frames`);
      assert.ok(native.frames.every((f) => f.funcIndex === 8));
      depths.add(native.frames.length);
    }
    assert.equal([...depths].sort(), [1, 2, 3], 'pauses above 0, 1 and 2 plain recursive calls');
  });

  test('a host function tail-called asks for a pause: from a deeper function the caller keeps its results; from the entry the call returns', () => {
    for (const [name, want] of [['viaHost', 15], ['tohost', 14]] as const) {
      let tier: NativeTier | undefined;
      const ctx = nativeStore((x) => { tier!.requestPause(); return 2 * x; });
      tier = ctx.tier;
      const ex = new NativeExecution(ctx.tier, ctx.addr(name), [4]);
      const first = ex.run();
      if (name === 'tohost') {
        // No frame is left to pause in (the interpreter's tail call leaves none either).
        assert.equal(first, { kind: 'returned', results: [want] });
        continue;
      }
      assert.is(first.kind, 'paused');
      const frames = captureFrames({ store: ctx.store, instance: ctx.instance, execution: ex });
      assert.is(frames.length, 1);
      assert.is(frames[0].funcIndex, FUNC.viaHost);
      assert.equal(frames[0].stack, [1, 14], 'the value below the call, and the host\'s result');
      assert.equal(ex.run(), { kind: 'returned', results: [want] });
    }
  });

  test('an asynchronous import tail-called natively is awaited; meanwhile a snapshot is the interpreter\'s clear error', async () => {
    for (const entry of ['tohost', 'viaHost']) {
      let settle: () => void = () => {};
      const program = Program.instantiate(compiled, {
        imports: { env: { twice: (x: number) => new Promise<number>((res) => { settle = () => res(2 * x); }) } }, tier: 'native',
      });
      assert.ok(program.start(entry, [4]) instanceof NativeExecution);
      assert.is(program.run().kind, 'awaiting', entry);
      assert.throws(() => program.captureState(), (e: unknown) => e instanceof SnapshotError && /tail/.test((e as Error).message), entry);
      settle();
      assert.equal(await program.runAsync(), { kind: 'returned', results: [entry === 'tohost' ? 14 : 15] }, entry);
    }
  });

  test('a frame resumed natively (its clone) tail-calls an asynchronous import: awaited, with the caller below or none', async () => {
    for (const [entry, want] of [['lth', 10], ['viaLth', 11]] as const) {
      for (const resumeClones of ['lazy', 'eager'] as const) {
        const program = Program.instantiate(compiled, {
          imports: { env: { twice: (x: number) => Promise.resolve(2 * x) } }, tier: 'native',
        });
        const native = nativeTierOf(program, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 }, resumeClones });
        let n = 0;
        native.pollHook = () => ++n === 2;
        const execution = program.start(entry, [20]) as NativeExecution;
        assert.is(program.run().kind, 'paused', `${entry}, ${resumeClones}`);
        assert.is(program.run().kind, 'awaiting', `${entry}, ${resumeClones}`);
        assert.ok(execution.stats.reentries > 0, 'the loop went on in its resume clone');
        assert.equal(await program.runAsync(), { kind: 'returned', results: [want] }, `${entry}, ${resumeClones}`);
      }
    }
  });

  test('snapshots both ways: paused natively, resumed on both tiers; paused in the interpreter, resumed natively', () => {
    const want = expected('outerSpin', [300]);
    for (const at of [1, 2, 50, 140]) {
      for (const tier of ['interp', 'native'] as const) {
        const a = Program.instantiate(compiled, { imports, tier: 'native' });
        const native = nativeTierOf(a, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
        let n = 0;
        native.pollHook = () => ++n === at;
        a.start('outerSpin', [300]);
        assert.is(a.run().kind, 'paused', `poll ${at}`);
        const b = Program.resume(a.snapshot(), { module: compiled, imports, tier });
        assert.equal(b.run(), { kind: 'returned', results: want }, `paused at poll ${at}, resumed on ${tier}`);
      }
    }
    for (const until of [3, 4, 5, 6, 7, 40, 1_000]) {
      const a = Program.instantiate(compiled, { imports, tier: 'interp' });
      a.start('outerSpin', [300]);
      assert.is(a.run({ until }).kind, 'paused');
      const b = Program.resume(a.snapshot(), { module: compiled, imports, tier: 'native' });
      assert.equal(b.run(), { kind: 'returned', results: want }, `paused after ${until} instructions, resumed natively`);
    }
  });

  test('wasmig run --tier native runs tail calls natively: no line on stderr, the right result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmig-tail-'));
    try {
      const path = join(dir, 'tail.wasm');
      // $mixed alone: the CLI has no env.twice to link.
      const b = new ModuleBuilder();
      const t = b.type([i32], [i32]);
      b.export('mixed', 'func', b.func(t, [
        0x20, 0, 0x45, 0x04, 0x40, 0x41, 0, 0x0f, 0x0b,
        0x20, 0, 0x41, ...s32(0xffff), 0x71, 0x45, 0x04, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x10, 0, 0x41, 1, 0x6a, 0x0f, 0x0b,
        0x20, 0, 0x41, 1, 0x6b, 0x12, 0, 0x0b,
      ]));
      writeFileSync(path, b.build());
      const r = wasmig(['run', '--tier', 'native', '--invoke', 'mixed', path, '1000000']);
      assert.is(r.status, 0, r.stderr);
      assert.match(r.stdout, /^15$/m);
      assert.is(r.stderr, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the musttail corpus program (return_call_indirect between handlers) on wasmig run --tier native: natively, Node\'s output', () => {
    const r = musttailOnNativeTier();
    assert.is(r.stderr, '', 'no line saying it runs in the interpreter');
  });

  test.run();
}
