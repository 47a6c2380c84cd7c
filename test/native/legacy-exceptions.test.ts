/**
 * The legacy exception instructions on the native tier (issue 18): `try`, `catch`,
 * `catch_all`, `delegate`, `rethrow`, `throw` and tags run on V8, and a pause anywhere
 * (inside a try body, inside a handler that holds the caught exception, in a callee
 * between its throw and the handler frames up) gives the interpreter's state, which
 * resumes on both tiers to the uninterrupted result. A host function's error (WASI's
 * exit) passes every `catch_all`, as in the interpreter; an exception that leaves
 * native code is the interpreter's `UncaughtException`, or is caught by interpreted
 * frames below. Modules V8 11.3 cannot run (exnref, try_table) stay in the interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitError, Trap, UncaughtException } from '../../src/errors/index.ts';
import { NativeEngine, NativeExecution, NativeTier, nativeTierOf } from '../../src/native/index.ts';
import { cloneStackTypes } from '../../src/native/frame-records.ts';
import { rewriteModule, rewriteResumeClone } from '../../src/native/rewrite.ts';
import { nativeHooks } from '../../spec-tests/native-tier.ts';
import { runScript } from '../../spec-tests/run.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import type { CanonicalState } from '../../src/snapshot/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { wasmig } from '../helpers/cli.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { TestRequirement } from '../helpers/test-data.ts';
import { exceptionModule } from '../helpers/exception-module.ts';
import { legacyExceptionModule, legacyThrowModule } from '../helpers/legacy-exception-module.ts';

const compiled = loadModule(legacyExceptionModule());
/** `$leaf`, `$slow`, `$h`, `$g`: function indices (after the two imports). */
const FUNC = { leaf: 2, slow: 3, h: 5, g: 6 } as const;

/** Imports that note what the handlers do: `note` appends to `notes`; `exit(x)` throws WASI's ExitError for x > 0. */
function importsFor(notes: number[]): Record<string, Record<string, (x: number) => void>> {
  return {
    env: {
      note: (x: number): void => { notes.push(x); },
      exit: (x: number): void => { if (x > 0) throw new ExitError(x); },
    },
  };
}

/** `name(args)` uninterrupted on `tier`: its outcome and the notes its handlers made. */
function straight(tier: 'interp' | 'native', name: string, args: number[]): { outcome: unknown; notes: number[]; program: Program } {
  const notes: number[] = [];
  const program = Program.instantiate(compiled, { imports: importsFor(notes), tier });
  program.start(name, args);
  return { outcome: program.run(), notes, program };
}

test('the native engine runs a module with only the legacy instructions natively; exnref ones stay in the interpreter', () => {
  const engine = new NativeEngine();
  assert.is(engine.cannotRun(compiled), undefined);
  for (const tier of ['native', 'auto'] as const) {
    const notes: number[] = [];
    const program = Program.instantiate(compiled, { imports: importsFor(notes), tier });
    assert.ok(program.start('main', [12]) instanceof NativeExecution, tier);
    assert.equal(program.run(), straight('interp', 'main', [12]).outcome);
    assert.is(program.store.thread.instructions, 0, 'not one instruction interpreted');
    assert.equal(notes, straight('interp', 'main', [12]).notes);
  }
  assert.is(engine.cannotRun(loadModule(exceptionModule())), 'the host\'s WebAssembly lacks exnref (it runs the legacy try, catch, catch_all, delegate and rethrow): an exnref in a function type');
});

test('throw and catch across three frames, 10,000 times, natively', () => {
  const native = straight('native', 'bench', [10_000]);
  assert.equal(native.outcome, straight('interp', 'bench', [10_000]).outcome);
  assert.is(native.program.store.thread.instructions, 0);
  assert.is(native.program.store.state.exceptions.length, 0, 'no exception left in the store');
});

test('proc_exit inside a try with a catch_all: the program exits, the handler does not run (V8\'s catch_all would catch the host\'s error)', () => {
  for (const tier of ['interp', 'native'] as const) {
    const r = straight(tier, 'quit', [3]);
    assert.equal(r.outcome, { kind: 'exited', status: 3 }, tier);
    assert.equal(r.notes, [], `${tier}: the catch_all handler would have noted -1`);
    // Without an exit the try body returns and the handler does not run either.
    assert.equal(straight(tier, 'quit', [0]).outcome, { kind: 'returned', results: [0] });
  }
  // A host function's plain error goes through the catch_all too.
  const notes: number[] = [];
  const program = Program.instantiate(compiled, {
    imports: { env: { note: (x: number) => { notes.push(x); }, exit: () => { throw new RangeError('host failure'); } } }, tier: 'native',
  });
  program.start('quit', [1]);
  assert.throws(() => program.run(), (e: unknown) => e instanceof RangeError && e.message === 'host failure');
  assert.equal(notes, []);
});

test('an exception that leaves native code is the interpreter\'s UncaughtException (tag and values)', () => {
  for (const tier of ['interp', 'native'] as const) {
    const notes: number[] = [];
    const program = Program.instantiate(compiled, { imports: importsFor(notes), tier });
    program.start('raise', [42]);
    try {
      program.run();
      assert.unreachable('it threw');
    } catch (error) {
      assert.ok(error instanceof UncaughtException, `${tier}: ${String(error)}`);
      assert.is(error.message, 'uncaught exception (tag 0)');
      assert.is(error.tagAddr, program.instance.state.tagAddrs[0]);
      assert.is(error.payload[0], 42);
    }
  }
});

test('wasmig run: WASI\'s proc_exit inside a try whose catch_all would exit otherwise: the status is the try body\'s, on both tiers', () => {
  const b = new ModuleBuilder();
  const exit = b.importFunc('wasi_snapshot_preview1', 'proc_exit', b.type([ValType.i32], []));
  b.memory(1);
  b.export('memory', 'memory', 0);
  b.export('_start', 'func', b.func(b.type([], []), assemble(`try i32.const 3 call ${exit} catch_all i32.const 9 call ${exit} end end`)));
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-legacy-exit-'));
  try {
    const path = join(dir, 'exit.wasm');
    writeFileSync(path, b.build());
    for (const tier of ['interp', 'native']) {
      const r = wasmig(['run', '--tier', tier, path]);
      assert.is(r.status, 3, `${tier}: ${r.stderr}`);
      assert.is(r.stderr, '', tier);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Paused natively at poll `at` (every loop header and entry polls), captured, resumed by `how`; the paused state too. */
function pausedAt(name: string, args: number[], at: number, how: 'same' | 'interp' | 'native'): { paused: boolean; outcome: unknown; notes: number[]; state?: CanonicalState } {
  const notes: number[] = [];
  const program = Program.instantiate(compiled, { imports: importsFor(notes), tier: 'native' });
  const tier = nativeTierOf(program, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  let n = 0;
  tier.pollHook = () => ++n === at;
  program.start(name, args);
  const first = program.run();
  if (first.kind !== 'paused') return { paused: false, outcome: first, notes };
  const state = program.captureState();
  if (how === 'same') return { paused: true, outcome: program.run(), notes, state };
  const resumed = Program.fromState(state, compiled, { imports: importsFor(notes), tier: how });
  return { paused: true, outcome: resumed.run(), notes, state };
}

for (const [name, arg] of [['main', 12], ['g', 7], ['g', 6], ['dl', 9]] as const) {
  test(`${name}(${arg}): paused natively at every poll, resumed natively, in the interpreter and on a fresh native program: the uninterrupted run`, () => {
    const want = straight('interp', name, [arg]);
    let pauses = 0;
    let inHandler = 0;
    let belowHandler = 0;
    for (let at = 1; ; at++) {
      let paused = false;
      for (const how of ['same', 'interp', 'native'] as const) {
        const r = pausedAt(name, [arg], at, how);
        const where = `poll ${at}, resumed ${how}`;
        assert.equal(r.outcome, want.outcome, where);
        assert.equal(r.notes, want.notes, where);
        paused = r.paused;
        if (!paused || how !== 'same') continue;
        const frames = r.state!.frames;
        // A frame inside a handler holds the caught exception (an exnref: the state carries it).
        if ((r.state!.exceptions?.length ?? 0) > 0) inHandler++;
        // $leaf on top, about to throw to a handler frames up.
        if (frames[frames.length - 1].funcIndex === FUNC.leaf && frames.some((f) => f.funcIndex === FUNC.g)) belowHandler++;
      }
      if (!paused) break;
      pauses++;
    }
    assert.ok(pauses >= 5, `${pauses} pauses`);
    // $g(7): $mid rethrows, $h's catch runs $slow and rethrows, $g's catch_all runs $slow.
    if (name === 'main' || arg === 7) {
      assert.ok(inHandler >= 2, `${inHandler} pauses inside a handler`);
    }
    if (name !== 'dl') assert.ok(belowHandler >= 2, `${belowHandler} pauses in the thrower, its handler frames up`);
  });
}

test('paused inside handlers, the frames re-enter natively (resume clones throw the held exception again in the try body)', () => {
  const want = straight('interp', 'g', [7]);
  let inHandler = 0;
  for (let at = 1; ; at++) {
    const notes: number[] = [];
    const program = Program.instantiate(compiled, { imports: importsFor(notes), tier: 'native' });
    const tier = nativeTierOf(program, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 }, resumeClones: 'eager' });
    let n = 0;
    tier.pollHook = () => ++n === at;
    program.start('g', [7]);
    if (program.run().kind !== 'paused') break;
    const held = (program.captureState().exceptions?.length ?? 0) > 0;
    assert.equal(program.run(), want.outcome, `poll ${at}`);
    assert.equal(notes, want.notes, `poll ${at}`);
    if (!held) continue;
    inHandler++;
    // $h's handler rethrows: the exception leaves its clone, and $g's catch_all takes it in
    // the interpreter (each clone returns to the tier, so none encloses the next), up to
    // its next call, two instructions on (then natively again). Before clones could
    // re-enter handlers, $h ran interpreted to its end.
    assert.ok(program.store.thread.instructions <= 2, `poll ${at}: ${program.store.thread.instructions} instructions interpreted after resuming inside a handler`);
  }
  assert.ok(inHandler >= 4, `${inHandler} pauses inside a handler`);
});

test('paused in the interpreter anywhere (mid-block, inside handlers), resumed natively: interpreted frames catch what native callees throw', () => {
  const want = straight('interp', 'main', [12]);
  const total = want.program.store.thread.instructions;
  let inHandler = 0;
  for (let k = 1; k < total; k += 7) {
    const notes: number[] = [];
    const program = Program.instantiate(compiled, { imports: importsFor(notes), tier: 'interp' });
    program.start('main', [12]);
    assert.is(program.run({ until: k }).kind, 'paused');
    const state = program.captureState();
    if ((state.exceptions?.length ?? 0) > 0) inHandler++;
    const resumed = Program.fromState(state, compiled, { imports: importsFor(notes), tier: 'native' });
    assert.equal(resumed.run(), want.outcome, `paused after ${k}`);
    assert.equal(notes, want.notes, `paused after ${k}`);
  }
  assert.ok(inHandler > 10, `${inHandler} states inside a handler`);
});

test('wasmig run --tier native: a legacy module runs natively (no line on stderr); an uncaught exception is the interpreter\'s one line, status 134', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-legacy-eh-'));
  try {
    const path = join(dir, 'legacy.wasm');
    writeFileSync(path, legacyThrowModule());
    const r = wasmig(['run', '--tier', 'native', '--invoke', 'bench', path, '100']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), '5100');
    assert.is(r.stderr, '');
    const uncaught = wasmig(['run', '--tier', 'native', '--invoke', 'raise', path, '42']);
    assert.is(uncaught.status, 134);
    assert.is(uncaught.stdout, '');
    assert.match(uncaught.stderr, /^wasmig: uncaught exception \(tag 0\) thrown in function 4 at byte 0x[0-9a-f]+\n$/);
    // Where it was thrown, as the interpreter says it.
    assert.is(uncaught.stderr, wasmig(['run', '--tier', 'interp', '--invoke', 'raise', path, '42']).stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Module A throws its tag from `boom(x)`; module B calls it inside a try whose
 * `catch_all` handler spins in a loop (safepoints) and returns x + 100; with
 * `importTag`, B imports A's tag (and so knows it), otherwise the exception is foreign to B.
 */
function twoModules(importTag: boolean): { tier: NativeTier; guard: number } {
  const a = new ModuleBuilder();
  const tI = a.type([ValType.i32], [ValType.i32]);
  const tag = a.tag(a.type([ValType.i32], []));
  a.export('e', 'tag', tag);
  a.export('boom', 'func', a.func(tI, assemble(`local.get 0 throw ${tag} end`)));
  const b = new ModuleBuilder();
  const tB = b.type([ValType.i32], [ValType.i32]);
  const boom = b.importFunc('a', 'boom', tB);
  if (importTag) b.importTag('a', 'e', b.type([ValType.i32], []));
  b.export('guard', 'func', b.func(tB, assemble(`try i32 local.get 0 call ${boom}
    catch_all local.get 0 local.set 1 loop local.get 1 i32.const 1 i32.sub local.tee 1 br_if 0 end local.get 0 i32.const 100 i32.add end end`), [ValType.i32]));
  const store = new Store();
  const ia = store.instantiate(loadModule(a.build()));
  const ib = store.instantiate(loadModule(b.build()), { a: { boom: ia.exports.get('boom'), e: ia.exports.get('e') } });
  const tier = new NativeTier(store, { pollInterval: 1, rewrite: { loopPoll: 'global', unroll: 1 } });
  tier.attach(ia);
  tier.attach(ib);
  return { tier, guard: ib.exports.get('guard')!.addr };
}

test('a pause in a catch_all holding an exception of a tag its module does not know is a one-line Trap; with the tag imported it resumes', () => {
  for (const importTag of [false, true]) {
    const straightRun = twoModules(importTag);
    assert.equal(new NativeExecution(straightRun.tier, straightRun.guard, [5]).run(), { kind: 'returned', results: [105] });
    const { tier, guard } = twoModules(importTag);
    let n = 0;
    tier.pollHook = () => ++n === 3;
    const ex = new NativeExecution(tier, guard, [5]);
    if (importTag) {
      assert.is(ex.run().kind, 'paused');
      assert.equal(ex.run(), { kind: 'returned', results: [105] });
    } else {
      assert.throws(() => ex.run(), (e: unknown) => e instanceof Trap
        && /^the native tier cannot save a catch_all handler holding an exception of another module's tag: function 1 at byte 0x[0-9a-f]+$/.test(e.message));
    }
  }
});

/** Every resume clone of every safepoint of `bytes` (rewritten with every loop header polling) that V8 refuses, as `function:pc`. */
function invalidClones(bytes: Uint8Array): string[] {
  const { context } = loadModule(bytes);
  const options = { loopPoll: 'global' as const };
  const bad: string[] = [];
  rewriteModule(context, options).functions.forEach((info, f) => {
    for (const site of info?.sites ?? []) {
      if (site.kind === 'entry') continue;
      const clone = rewriteResumeClone(context, f, { pc: site.pc, kind: site.kind, stackTypes: cloneStackTypes(site) }, options);
      if (clone !== undefined && !WebAssembly.validate(clone.bytes as Uint8Array<ArrayBuffer>)) bad.push(`${f}:${site.pc}`);
    }
  });
  return bad;
}

test('resume clones that skip a then-branch ending in a throw or a return (the clone resumes in the else-branch) are valid', () => {
  assert.equal(invalidClones(legacyExceptionModule()), []);
  // Before the fix the skipped then-branch fell through its guard with no result: V8 refused the clone.
  const b = new ModuleBuilder();
  const t = b.type([ValType.i32], [ValType.i32]);
  const e = b.tag(b.type([], []));
  const f = b.func(t, assemble(`local.get 0 i32.eqz if i32 i32.const 1 return else local.get 0 i32.const 1 i32.sub call 0 i32.const 1 i32.add end end`));
  b.func(t, assemble(`local.get 0 i32.eqz if i32 throw ${e} else local.get 0 i32.const 1 i32.sub call ${f} end end`));
  assert.equal(invalidClones(b.build()), []);
});

/** test/native/legacy-exceptions.wast converted by wabt (the stored suite has no legacy exception scripts). */
const WAST = join(dirname(fileURLToPath(import.meta.url)), 'legacy-exceptions.wast');
const wast2json = new TestRequirement('wabt\'s wast2json (apt install wabt)', 'wast2json on PATH', () => spawnSync('wast2json', ['--version']).status === 0);

wast2json.register(test, 'legacy-exceptions.wast: every command passes in the interpreter and on the native tier, paused at random polls, resumed lazily and eagerly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasmig-legacy-wast-'));
  try {
    const json = join(dir, 'legacy-exceptions.json');
    const converted = spawnSync('wast2json', ['--enable-exceptions', WAST, '-o', json], { encoding: 'utf8' });
    assert.is(converted.status, 0, converted.stderr);
    const interpreted = runScript(json);
    assert.is(interpreted.failed, 0, interpreted.failures.join('; '));
    for (const resumeClones of ['lazy', 'eager'] as const) {
      for (const [pause, seed] of [[0, 1], [3, 1], [3, 2], [2, 3]] as const) {
        const stats = { invokes: 0, pauses: 0, framesUnwound: 0, reentries: 0, partialReentries: 0, interpreted: 0 };
        const r = runScript(json, nativeHooks({ pause, seed, resumeClones }, stats));
        const what = `${resumeClones}, pause 1/${pause}, seed ${seed}`;
        assert.is(r.failed, 0, `${what}: ${r.failures.slice(0, 3).join('; ')}`);
        assert.is(r.passed, interpreted.passed, what);
        assert.is(stats.interpreted, 0, `${what}: every module ran natively`);
        if (pause > 0) assert.ok(stats.pauses > 20, `${what}: ${stats.pauses} pauses`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
