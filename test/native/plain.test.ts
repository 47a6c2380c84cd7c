/**
 * Plain modules (`RewriteOptions.plain`): the module as it is on the native tier, for a
 * run nothing may pause. Its bodies stay byte for byte and it imports no helper; the
 * corpus prints what it prints on the interpreter; traps and their backtraces read as
 * the interpreter's; V8's stack overflow is an exhaustion; what a plain module cannot
 * do (wait for a promise, pause) is refused or not served, never half done; the
 * embedder's memory limit holds; the disk cache's codec keeps a plain rewrite plain.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { bodyFacts } from '../../src/compile/index.ts';
import type { CompiledModule } from '../../src/compile/index.ts';
import { ExhaustionError, LinkError, Trap } from '../../src/errors/index.ts';
import { DEFAULT_REWRITE_OPTIONS, HELPER_MODULE, NativeEngine, nativeTierOf, rewriteModule } from '../../src/native/index.ts';
import { originalOffset } from '../../src/native/rewrite.ts';
import { decodeRewrite, encodeRewrite } from '../../src/native/rewrite-codec.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import type { Engine } from '../../src/runtime/index.ts';
import { interpreterEngine } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { argvOf, isExact } from '../programs/cases.ts';
import { caseFixture, compiledOf, findCase, Sandbox } from '../helpers/snapshot-runs.ts';
import { legacyExceptionModule } from '../helpers/legacy-exception-module.ts';
import { trapOfRun } from '../helpers/trap.ts';
import { invalidBodyModule } from '../helpers/invalid-module.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32 } = ValType;
const plainEngine = (): NativeEngine => new NativeEngine({ rewrite: { ...DEFAULT_REWRITE_OPTIONS, plain: true } });

const trapBytes = new Uint8Array(readFileSync(new URL('../programs/trap.wasm', import.meta.url)));

test('a plain rewrite keeps every body byte for byte and imports no helper', () => {
  const compiled = loadModule(trapBytes);
  const m = compiled.module;
  const plain = rewriteModule(compiled.context, { plain: true });
  assert.ok(plain.plain);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(plain.bytes as Uint8Array<ArrayBuffer>));
  for (const helper of ['poll', 'frame', 'deep']) assert.not.ok(imports.some((i) => i.module === HELPER_MODULE && i.name === helper), helper);
  const full = rewriteModule(compiled.context, {});
  assert.ok(plain.bytes.length < full.bytes.length, 'smaller than the rewrite with safepoints');
  for (let i = 0; i < m.codes.length; i++) {
    const f = plain.functions[m.numImportedFuncs + i]!;
    assert.ok(f.verbatim);
    assert.equal(f.sites, []);
    const code = m.codes[i];
    const original = m.bytes.subarray(code.codeStart, code.codeEnd);
    assert.equal([...plain.bytes.subarray(f.codeOffset, f.codeOffset + original.length)], [...original], `function ${f.funcIndex}`);
    // An offset maps back by a shift; below the first instruction (V8's entry check), to the first instruction.
    assert.is(originalOffset(f, f.codeOffset + 3), code.codeStart + 3);
    assert.is(originalOffset(f, f.codeOffset - 2), code.codeStart);
  }
});

test('the disk cache codec keeps a plain rewrite plain, and its offsets', () => {
  const compiled = loadModule(trapBytes);
  const plain = rewriteModule(compiled.context, { plain: true });
  const back = decodeRewrite(encodeRewrite('key', plain, bodyFacts(compiled))).rewritten;
  assert.ok(back.plain);
  assert.equal([...back.bytes], [...plain.bytes]);
  for (let i = 0; i < plain.functions.length; i++) {
    const [a, b] = [plain.functions[i], back.functions[i]];
    if (a === undefined) continue;
    assert.ok(b?.verbatim);
    assert.is(originalOffset(b!, b!.codeOffset + 5), originalOffset(a, a.codeOffset + 5));
  }
  const full = decodeRewrite(encodeRewrite('key', rewriteModule(compiled.context, {}), bodyFacts(compiled))).rewritten;
  assert.not.ok(full.plain);
  assert.not.ok(full.functions.some((f) => f?.verbatim));
});

/** A corpus case's run on `engine` (its module loaded as given, else validated): its output, status and trap. */
async function runCase(name: string, engine: Engine, compiled?: CompiledModule): Promise<{ stdout: string; status: number; trap: Trap | undefined }> {
  const c = findCase(name);
  const fx = await caseFixture(c);
  const box = new Sandbox(fx.root, c);
  try {
    const p = Program.instantiate(compiled ?? compiledOf(c), { args: argvOf(c), env: { ...c.env }, preopens: box.preopens(), stdout: box.stdout, stderr: () => {}, stdin: box.stdin, engine });
    p.start('_start');
    let status = 0;
    let trap: Trap | undefined;
    try {
      const o = p.run();
      assert.is.not(o.kind, 'paused');
      if (o.kind === 'exited') status = o.status;
    } catch (error) {
      if (!(error instanceof Trap)) throw error;
      trap = error;
      status = 134;
    }
    return { stdout: box.output().toString('utf8'), status, trap };
  } finally {
    box.dispose();
    await fx.cleanup();
  }
}

for (const name of ['hello', 'args_env', 'file_io', 'clocks', 'random', 'qsort_printf', 'memcopy', 'simd', 'vectorize', 'exit_code_42', 'trap', 'sandbox', 'musttail']) {
  test(`${name}: on a plain module, what it gives on the interpreter`, async () => {
    const c = findCase(name);
    // Loaded as `wasmig run` loads it on a first start: V8's validation stands for ours.
    const engine = plainEngine();
    const bytes = new Uint8Array(readFileSync(c.wasm));
    const facts = engine.knownFacts(bytes, decodeModule(bytes));
    assert.ok(facts !== undefined && facts.maxHeights.every((h) => h === -1), 'no body validated by us');
    const plain = await runCase(name, engine, loadModule(bytes, (b, m) => engine.knownFacts(b, m)));
    const interp = await runCase(name, interpreterEngine);
    if (isExact(c.expected)) {
      assert.is(plain.stdout, typeof c.expected.stdout === 'string' ? c.expected.stdout : Buffer.from(c.expected.stdout).toString('utf8'));
      assert.is(plain.status, c.expected.status);
    }
    assert.is(plain.stdout, interp.stdout);
    assert.is(plain.status, interp.status);
    assert.is(plain.trap?.message, interp.trap?.message);
    // The same frames at the same original offsets.
    assert.equal(plain.trap?.backtrace, interp.trap?.backtrace);
  });
}

/** f(n) = f(n + 1) for ever, called by the export `run`. */
function runawayModule(): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  const f = b.func(t, [0x20, 0, 0x41, 1, 0x6a, 0x10, 0, 0x0b]);
  const run = b.func(b.type([], [i32]), [0x41, 0, 0x10, f, 0x0b]);
  b.export('run', 'func', run);
  return b.build();
}

test('a plain engine takes V8\'s validation for ours only where it runs the module as it is', () => {
  const engine = plainEngine();
  const known = (bytes: Uint8Array): ReturnType<NativeEngine['knownFacts']> => engine.knownFacts(bytes, decodeModule(bytes));
  const facts = known(trapBytes)!;
  assert.is(facts.maxHeights.length, decodeModule(trapBytes).codes.length);
  assert.ok(facts.maxHeights.every((h) => h === -1), 'heights counted when translated');
  assert.is(engine.knownFacts(trapBytes), undefined, 'not without the decoded module');
  assert.is(new NativeEngine().knownFacts(trapBytes, decodeModule(trapBytes)), undefined, 'not for a module rewritten with safepoints');
  // V8 refuses an invalid body: our validator then names it (the load throws as it always did).
  const invalid = invalidBodyModule();
  assert.is(known(invalid), undefined);
  assert.throws(() => loadModule(invalid, (bytes, m) => engine.knownFacts(bytes, m)), /function 1 at byte 0x[0-9a-f]+: type mismatch/);
  // Exception handlers and relaxed SIMD keep the module off the plain engine: validated as before.
  assert.is(known(legacyExceptionModule()), undefined);
  const relaxed = new ModuleBuilder();
  // i8x16.relaxed_swizzle of two zero vectors, dropped
  relaxed.func(relaxed.type([], []), [0xfd, 0x0c, ...new Array(16).fill(0), 0xfd, 0x0c, ...new Array(16).fill(0), 0xfd, 0x80, 0x02, 0x1a, 0x0b]);
  // (Node 20's V8 refuses relaxed SIMD itself; a V8 that ships it meets the scan's rule.)
  assert.is(known(relaxed.build()), undefined);
});

test('a recursion past V8\'s stack is a call stack exhaustion, its top frame at the function\'s entry', () => {
  const compiled = loadModule(runawayModule());
  const p = Program.instantiate(compiled, { engine: plainEngine() });
  p.start('run');
  const caught = trapOfRun(p);
  assert.instance(caught, ExhaustionError);
  const trace = caught.backtrace;
  const code = compiled.module.codes[0];
  assert.ok(trace.length > 2);
  assert.is(trace[0].funcIndex, 0);
  assert.is(trace[0].offset, code.codeStart, 'the entry of f');
  assert.is(trace[1].offset, code.codeStart + 5, 'the call in f');
});

/** `work(n)`: the sum of `env.value(i)` for i < n; `spin(n)`: a loop of n rounds; `grow(n)`: memory.grow. */
function hostModule(): Uint8Array {
  const b = new ModuleBuilder();
  const tUnary = b.type([i32], [i32]);
  const value = b.importFunc('env', 'value', tUnary);
  b.memory(1, 100);
  const work = b.func(tUnary, [
    0x02, 0x40, 0x03, 0x40,
    0x20, 2, 0x20, 0, 0x4e, 0x0d, 1, //        while i < n
    0x20, 1, 0x20, 2, 0x10, value, 0x6a, 0x21, 1, // acc += value(i)
    0x20, 2, 0x41, 1, 0x6a, 0x21, 2, //        i++
    0x0c, 0, 0x0b, 0x0b,
    0x20, 1, 0x0b,
  ], [i32, i32]);
  const spin = b.func(tUnary, [
    0x02, 0x40, 0x03, 0x40,
    0x20, 1, 0x20, 0, 0x4e, 0x0d, 1,
    0x20, 1, 0x41, 1, 0x6a, 0x21, 1,
    0x0c, 0, 0x0b, 0x0b,
    0x20, 1, 0x0b,
  ], [i32]);
  const grow = b.func(tUnary, [0x20, 0, 0x40, 0x00, 0x0b]);
  b.export('work', 'func', work).export('spin', 'func', spin).export('grow', 'func', grow).export('memory', 'memory', 0);
  return b.build();
}

const hostCompiled = loadModule(hostModule());

test('a host function that returns a promise is a trap on a plain module, not a pause', () => {
  const p = Program.instantiate(hostCompiled, { engine: plainEngine(), imports: { env: { value: (i: unknown) => Promise.resolve(i) } } });
  p.start('work', [3]);
  const caught = trapOfRun(p);
  assert.instance(caught, Trap);
  assert.match(caught.message, /host function env\.value returned a promise, which a plain native module cannot wait for/);
  // Synchronous, the same module runs.
  const q = Program.instantiate(hostCompiled, { engine: plainEngine(), imports: { env: { value: (i: unknown) => (i as number) * 2 } } });
  q.start('work', [4]);
  const o = q.run();
  assert.is(o.kind, 'returned');
  assert.equal(o.kind === 'returned' ? o.results : [], [12]);
});

test('a plain module does not serve pauses: a requested pause or a time slice lets the run end', () => {
  const p = Program.instantiate(hostCompiled, { engine: plainEngine(), imports: { env: { value: () => 0 } } });
  const e = p.start('spin', [20_000_000]);
  const first = e.run({ timeSliceMs: 1 });
  assert.is(first.kind, 'returned');
  assert.equal(first.kind === 'returned' ? first.results : [], [20_000_000]);
  const q = Program.instantiate(hostCompiled, { engine: plainEngine(), imports: { env: { value: () => { q.execution!.requestPause(); return 1; } } } });
  q.start('work', [5]);
  const o = q.run();
  assert.is(o.kind, 'returned');
  assert.equal(o.kind === 'returned' ? o.results : [], [5]);
});

test('the embedder\'s memory limit holds on a plain module (the shared memory\'s maximum)', () => {
  for (const engine of [plainEngine(), interpreterEngine]) {
    const p = Program.instantiate(hostCompiled, { engine, maxMemoryBytes: 4 * 65536, imports: { env: { value: () => 0 } } });
    const results: unknown[] = [];
    for (const n of [2, 2, 1]) {
      p.start('grow', [n]);
      const o = p.run();
      results.push(o.kind === 'returned' ? o.results[0] : o.kind);
    }
    assert.equal(results, [1, -1, 3], engine.name);
  }
});

test('a plain tier made directly refuses a module with exception handlers (a plain engine leaves it to the interpreter)', () => {
  const withHandlers = loadModule(legacyExceptionModule());
  const p = Program.instantiate(withHandlers, { engine: new NativeEngine(), imports: { env: { note: () => {}, exit: () => {} } } });
  assert.throws(() => nativeTierOf(p, { rewrite: { plain: true } }).attach(p.instance), (e: unknown) => e instanceof LinkError && /cannot have exception handlers/.test(e.message));
});

test.run();
