/**
 * The JavaScript the tier writes, where its shape is what matters to V8 (the tier's
 * warm-up, docs/interpreter-warm-up.md): one throw for every place that traps (memory
 * accesses leave their bounds to the DataView, whose RangeError is caught), a
 * call's results read where the loop's entries read them too, a return through the
 * function's one way out. And what those shapes must not break: a block that both a call
 * and a branch reach keeps the branch's value.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fastCode, run, RunStatus } from '../../../src/exec/index.ts';
import type { ThreadState } from '../../../src/exec/index.ts';
import { compileFastToJs } from '../../../src/exec/js-tier/index.ts';
import { loadModule } from '../../../src/program/index.ts';
import { enterFunction, Store } from '../../../src/runtime/index.ts';
import { ValType } from '../../../src/wasm/types.ts';
import { assemble } from '../../helpers/assemble.ts';
import { ModuleBuilder } from '../../helpers/module-builder.ts';

const { i32 } = ValType;

/** A module of `leaf(x) = x * 3 + 1` (function 0) and `f(x)` of `body` (LEAF names the leaf). */
function moduleOf(body: string): Uint8Array {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  b.memory(1);
  const leaf = b.func(t, assemble('local.get 0 i32.const 3 i32.mul i32.const 1 i32.add end'));
  const f = b.func(t, assemble(body.replaceAll('LEAF', String(leaf))), [i32, i32]);
  b.export('f', 'func', f);
  return b.build();
}

/** The compiled JavaScript of `f`. */
function sourceOf(body: string): string {
  const compiled = loadModule(moduleOf(body));
  const cf = compiled.functions[1];
  const result = compileFastToJs(fastCode(cf), cf.sigs, 'f');
  if (result.body === null) throw new Error(`not compiled: ${result.reason}`);
  return result.source;
}

/** A store about to run `f(arg)`, with the JavaScript tier at once (`jsAfter` 0) or never (-1). */
function startF(body: string, arg: number, jsAfter: number): { store: Store; t: ThreadState } {
  const store = new Store({ jsAfter });
  const addr = store.instantiate(loadModule(moduleOf(body))).exports.get('f')!.addr;
  const t = store.thread;
  t.s32[2 * t.sp] = arg;
  t.sp++;
  enterFunction(t, addr);
  return { store, t };
}

/** `f(arg)` run to its end (see `startF`). */
function runF(body: string, arg: number, jsAfter: number): number {
  const { t } = startF(body, arg, jsAfter);
  for (;;) {
    const status = run(t, 1_000_000);
    if (status === RunStatus.returned) break;
    assert.is(status, RunStatus.yielded);
  }
  return t.s32[2 * (t.sp - 1)];
}

const MEMORY = `
  local.get 0 i32.load offset=4 local.get 0 i32.load16_u offset=8 i32.add local.set 1
  local.get 0 local.get 1 i32.store offset=12
  local.get 1 local.get 0 i32.const 1 i32.or i32.div_u
  local.get 0 i32.load8_s i32.add end`;

test('every place that traps names itself before one throw', () => {
  const source = sourceOf(MEMORY);
  assert.is(source.match(/throw jsTrap/g)?.length, 1, 'one throw of a trap in the function');
  // Four memory accesses and a division, each its own place (fast pc) to trap at.
  const places = [...source.matchAll(/tp = (\d+);/g)].map((m) => Number(m[1]));
  assert.is(places.length, 5);
  assert.is(new Set(places).size, 5, 'each place names its own instruction');
  // The accesses leave the bounds to the DataView; the division breaks to the throw.
  assert.not.match(source, /byteLength|memSize/, 'no bounds of its own, nor a size to check them against');
  assert.match(source, /tp = \d+; tk = 1; break trap;/, 'the division says why it traps');
  assert.match(source, /catch \(error\) \{\nif \(!isFault\(error\)\) throw error;/);
});

test('a trap from the shared throw stops where the loop stops, with its message', () => {
  // Address 65534: the i32.load at offset 4 is past the end of the one page. Address
  // 65526: the two loads fit, the store at offset 12 does not (the third access).
  for (const address of [65534, 65526]) {
    const where: unknown[] = [];
    for (const jsAfter of [0, -1]) {
      const { t } = startF(MEMORY, address, jsAfter);
      assert.throws(() => run(t, 1_000_000), /out of bounds memory access/, `jsAfter ${jsAfter}`);
      where.push({ pc: t.pc, fp: t.fp, funcAddr: t.funcAddr, instructions: t.instructions });
    }
    assert.equal(where[0], where[1], `f(${address}): the thread where the loop leaves it`);
  }
});

test('an 8-byte store that does not fit writes nothing, compiled as on the loop', () => {
  // i64.store at 65532: its first four bytes fit in the page, the last four do not.
  const body = `
    local.get 0 i32.const 0x01020304 i32.store
    local.get 0 i64.const 0x1111111122222222 i64.store
    i32.const 0 end`;
  for (const jsAfter of [0, -1]) {
    const { store, t } = startF(body, 65532, jsAfter);
    assert.throws(() => run(t, 1_000_000), /out of bounds memory access/, `jsAfter ${jsAfter}`);
    assert.is(store.state.memories[0].view.getInt32(65532, true), 0x01020304, `jsAfter ${jsAfter}: memory as before the store`);
  }
});

// A call whose block after it only the call reaches. (The first call compiles the leaf,
// on the loop; the second is made from compiled code.)
const CALL_THEN_ADD = `
  local.get 0 call LEAF call LEAF local.set 1
  local.get 1 local.get 0 i32.add end`;

test('a call\'s results are read in the block after it when only the call goes there', () => {
  const source = sourceOf(CALL_THEN_ADD);
  const calls = [...source.matchAll(/fuel = left;/g)].map((m) => m.index!);
  assert.is(calls.length, 2, 'both calls are compiled');
  for (const at of calls) {
    // The call's statement ends with the fuel; the next block starts with the results
    // (before its own `e = -1`, so that the loop's entries read them too).
    assert.match(source.slice(at, at + 200), /^fuel = left; \}[^;]*?w(\d+) = s32\[F \+ \1\]; w\d+ = s32\[F \+ \d+\];\ne = -1;/);
  }
  assert.is(runF(CALL_THEN_ADD, 5, 0), (5 * 3 + 1) * 3 + 1 + 5);
  assert.is(runF(CALL_THEN_ADD, 5, -1), (5 * 3 + 1) * 3 + 1 + 5);
});

// The block after the call is also the end of a block a branch leaves with a value, in
// the slot where the first call (which compiles the leaf) left its result.
const CALL_OR_BRANCH = `
  local.get 0 call LEAF drop
  block i32
    local.get 0
    local.get 0 i32.const 1 i32.and br_if 0
    drop
    local.get 0 call LEAF
  end
  i32.const 1000 i32.add end`;

test('a block that a branch reaches too keeps the branch\'s value: the results are read at the call', () => {
  const source = sourceOf(CALL_OR_BRANCH);
  assert.match(source, /fuel = left; w(\d+) = s32\[F \+ \1\];/);
  for (const arg of [1, 2, 7, 10]) {
    const expected = (arg & 1) === 1 ? arg + 1000 : arg * 3 + 1 + 1000;
    assert.is(runF(CALL_OR_BRANCH, arg, -1), expected, `loop, f(${arg})`);
    assert.is(runF(CALL_OR_BRANCH, arg, 0), expected, `compiled, f(${arg})`);
  }
});

test('a return goes out through the function\'s one way out', () => {
  const source = sourceOf(CALL_THEN_ADD);
  // The compiled caller's case (nest read once, on entry) and the loop's leave by the same
  // break; the only returns are the one for a pc that is no entry and the one after it.
  assert.not.match(source, /if \(cx\.nest/);
  assert.match(source, /if \(nest\) \{ w0 = w\d+; w1 = w\d+; keep = 2; pc = -2; break out; \}/);
  // Which writes back the results, and skips the other words with one test.
  assert.match(source, /\}\nif \(0 < keep\) s32\[F \+ 0\] = w0; if \(1 < keep\) s32\[F \+ 1\] = w1;\nif \(keep > 2\) \{ if \(2 < keep\)/);
  assert.is(source.match(/return;/g)?.length, 2);
});

test('the code sits in a loop that never goes round, one deeper than the function\'s own', () => {
  const source = sourceOf('loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end local.get 0 end');
  // V8 asks for on-stack replacement at loops of depth 0 on the first tick after a body's
  // optimized code lands: the function's own loops start at depth 1.
  const out = source.indexOf('out: for (;;) {');
  assert.ok(out > 0, 'the way out is a loop');
  const own = source.search(/L\d+: for \(;;\) \{/);
  assert.ok(own > out, "the function's loop is inside it");
  // It never goes round: its body ends by leaving it, before the write-back.
  assert.match(source, /\nbreak;\n\}\nif \(0 < keep\)/);
  assert.is(runF('loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end local.get 0 end', 5, 0), 0);
});

test.run();
