/**
 * Every kind of trap the fast loop (and the JavaScript tier) raises reports what the exact code reports: the
 * message, and the byte offset of the trapping instruction in each frame of the
 * backtrace (the loop writes its registers back to the thread on the way out).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExhaustionError } from '../../src/errors/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { constExpr, ModuleBuilder } from '../helpers/module-builder.ts';
import { trapOf } from '../helpers/trap.ts';

const { i32, f64 } = ValType;

interface Outcome { kind: string; message: string; offsets: number[]; funcs: number[] }

function outcome(bytes: Uint8Array, fast: boolean, arg: number, jsAfter?: number): Outcome {
  const trap = trapOf(bytes, fast, arg, jsAfter);
  const frames = trap.backtrace.slice(0, 3);
  return { kind: trap instanceof ExhaustionError ? 'exhausted' : 'trap', message: trap.message, offsets: frames.map((f) => f.offset), funcs: frames.map((f) => f.funcIndex) };
}

/** A module whose `f(x)` loops a little (so the fast loop runs it), then calls `g(x)`, whose body is `trap`. */
function moduleWith(trap: string, extra: (b: ModuleBuilder) => void = () => {}, gParams = [i32]): Uint8Array {
  const b = new ModuleBuilder();
  const fType = b.type([i32], [i32]);
  b.memory(1);
  extra(b);
  const g = b.func(b.type(gParams, [i32]), assemble(trap), [i32, f64]);
  const f = b.func(fType, assemble(`
    i32.const 10 local.set 1
    loop
      local.get 1 i32.const 1 i32.sub local.tee 1
      br_if 0
    end
    local.get 0 call ${g} end`), [i32]);
  b.export('f', 'func', f);
  return b.build();
}

const cases: [string, string, number, ((b: ModuleBuilder) => void)?][] = [
  ['a load out of bounds', 'local.get 0 i32.load offset=4 end', 0xfffe],
  ['a store out of bounds', 'local.get 0 local.get 0 i32.store16 i32.const 0 end', 0x10000],
  ['integer divide by zero', 'i32.const 7 local.get 0 i32.div_s end', 0],
  ['integer overflow', 'i32.const -2147483648 local.get 0 i32.div_s end', -1],
  ['unsigned remainder by zero', 'i32.const 7 local.get 0 i32.rem_u end', 0],
  ['unreachable', 'local.get 0 drop unreachable end', 1],
  ['an invalid conversion', 'local.get 0 f64.convert_i32_s f64.const 0 f64.div i32.trunc_f64_s end', 0],
  ['a conversion that overflows', 'local.get 0 f64.convert_i32_s f64.const 1e300 f64.mul i32.trunc_f64_s end', 3],
  ['a SIMD load out of bounds', 'local.get 0 v128.load offset=8 i32x4.extract_lane 0 end', 0xfff8],
  ['an undefined table element', 'i32.const 1 local.get 0 call_indirect 0 0 end', 5, (b) => { b.table(ValType.funcref, 2); }],
  ['an indirect call of the wrong type', 'i32.const 1 local.get 0 call_indirect 0 0 end', 0, (b) => {
    b.table(ValType.funcref, 1);
    const other = b.func(b.type([], []), [0x0b]);
    b.elem({ mode: 'active', offset: constExpr.i32(0), funcs: [other] });
  }],
];

for (const [what, body, arg, extra] of cases) {
  test(`${what}: the fast loop reports what the exact code does`, () => {
    const bytes = moduleWith(body, extra);
    const exact = outcome(bytes, false, arg);
    assert.equal(outcome(bytes, true, arg), exact);
    // Compiled to JavaScript from the start: g traps in compiled code f called.
    assert.equal(outcome(bytes, true, arg, 0), exact, 'the JavaScript tier');
    assert.is(exact.funcs.length, 2, 'the backtrace has the trapping function and its caller');
  });
}

test('a recursion too deep: the fast loop reports exhaustion where the exact code does', () => {
  const b = new ModuleBuilder();
  const t = b.type([i32], [i32]);
  // f(x) = f(x + 1) + 1: never ends.
  const f = b.func(t, assemble('local.get 0 i32.const 1 i32.add call 0 i32.const 1 i32.add end'));
  b.export('f', 'func', f);
  const bytes = b.build();
  const exact = outcome(bytes, false, 0);
  assert.is(exact.kind, 'exhausted');
  for (const jsAfter of [undefined, 0]) {
    const fast = outcome(bytes, true, 0, jsAfter);
    assert.is(fast.kind, 'exhausted');
    assert.is(fast.message, exact.message);
    assert.equal(fast.offsets, exact.offsets);
  }
});

test.run();
