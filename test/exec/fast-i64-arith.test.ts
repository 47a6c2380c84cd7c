/**
 * i64 add, sub and mul in the three codes (exact, the fast loop, compiled JavaScript),
 * each written in 32-bit words, against BigInt. Then i64 division, remainder and
 * float-to-i64 truncation in the fast loop: operands within
 * 2^53 in magnitude, and any dividend over a divisor within 2^21, are done in the loop in
 * doubles, without BigInt, the rest out of it
 * (`runSlowOp`). Both ways give the exact code's results, which are BigInt's, and the
 * same traps; the cases straddle the line between the two ways.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Trap } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i64, f32, f64 } = ValType;

/** `f(a, b) = a OP b` (or `f(x) = OP x`), in a loop of one turn so that the fast loop runs it. */
function moduleOf(op: number, params: ValType[]): Uint8Array {
  const b = new ModuleBuilder();
  const gets = params.flatMap((_, i) => [0x20, i]);
  // block (result i64) loop (result i64) <gets> OP end end
  const f = b.func(b.type(params, [i64]), [0x02, 0x7e, 0x03, 0x7e, ...gets, ...(op > 0xff ? [0xfc, op & 0xff] : [op]), 0x0b, 0x0b, 0x0b]);
  b.export('f', 'func', f);
  return b.build();
}

function outcome(bytes: Uint8Array, fast: boolean, args: unknown[], jsAfter?: number): unknown {
  const store = new Store({ fast, ...(jsAfter === undefined ? {} : { jsAfter }) });
  const inst = store.instantiate(loadModule(bytes));
  try {
    return store.invoke(inst.exports.get('f')!, args as never)[0];
  } catch (e) {
    if (e instanceof Trap) return `trap: ${e.message}`;
    throw e;
  }
}

const MIN = -(1n << 63n);
const edges = [
  0n, 1n, -1n, 2n, -2n, 7n, -7n, 10n, 1000n, -1000n, 0x7fffffffn, -0x80000000n, 0x80000000n, -0x80000001n, 0xffffffffn, 0x100000000n, -0x100000000n,
  // Around 2^53, where the loop stops dividing in doubles (high words of 2^21).
  (1n << 53n) - 1n, -(1n << 53n) + 1n, 1n << 53n, -(1n << 53n), (1n << 53n) + 1n, -(1n << 53n) - 1n, 999999999999999n, -99999999999999999n,
  (1n << 62n) + 5n, MIN, -MIN - 1n, MIN + 1n, -(1n << 32n) + 3n, 0xffffffff00000000n - (1n << 64n),
  // Divisors around 2^21, where the loop stops dividing large dividends in two steps.
  0x1fffffn, 0x200000n, 0x200001n, -0x1fffffn, -0x200000n, -0x200001n, 7919n, -7919n,
];

/** A deterministic spread of values of every size. */
function spread(count: number): bigint[] {
  let s = 0x2545f491n;
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    const bits = BigInt(1 + (i % 64));
    out.push(BigInt.asIntN(64, s & ((1n << bits) - 1n)) * (i % 3 === 0 ? -1n : 1n));
  }
  return out;
}

test('i64 add, sub, mul: the exact code, the fast loop and compiled JavaScript give BigInt\'s words', () => {
  // Carries and borrows out of the low word, low words past 2^31 (which V8 first saw as
  // small integers), and the 16-bit pieces of mul's high word at their largest.
  const values = [...edges, 0x00000000ffff0000n, 0x0000ffff0000ffffn, -0x10000n, ...spread(40)];
  const ops: [number, (a: bigint, b: bigint) => bigint][] = [[0x7c, (a, b) => a + b], [0x7d, (a, b) => a - b], [0x7e, (a, b) => a * b]];
  for (const [op, reference] of ops) {
    const bytes = moduleOf(op, [i64, i64]);
    let checked = 0;
    for (const a of values) {
      for (const b of values) {
        const want = BigInt.asIntN(64, reference(a, b));
        const got = [outcome(bytes, false, [a, b]), outcome(bytes, true, [a, b], -1), outcome(bytes, true, [a, b], 0)];
        if (got.some((g) => g !== want)) assert.unreachable(`op 0x${op.toString(16)}(${a}, ${b}): exact, fast, js ${got.map(String).join(', ')}; want ${want}`);
        checked++;
      }
    }
    assert.is(checked, values.length ** 2);
  }
});

test('i64 div_s, div_u, rem_s, rem_u: in the loop and out of it, the exact code\'s results and traps', () => {
  const values = [...edges, ...spread(60)];
  for (const op of [0x7f, 0x80, 0x81, 0x82]) {
    const bytes = moduleOf(op, [i64, i64]);
    let checked = 0;
    for (const a of values) {
      for (const b of values) {
        const want = outcome(bytes, false, [a, b]);
        const got = outcome(bytes, true, [a, b]);
        if (got !== want) assert.unreachable(`op 0x${op.toString(16)}(${a}, ${b}): fast ${String(got)}, exact ${String(want)}`);
        checked++;
      }
    }
    assert.is(checked, values.length ** 2);
  }
  // The reference itself, for a few: BigInt's truncating division, the spec's traps.
  const div = moduleOf(0x7f, [i64, i64]);
  assert.is(outcome(div, true, [-7n, 2n]), -3n);
  assert.is(outcome(div, true, [-0x80000000n, -1n]), 0x80000000n);
  assert.is(outcome(div, true, [MIN, -1n]), 'trap: integer overflow');
  assert.is(outcome(div, true, [5n, 0n]), 'trap: integer divide by zero');
  assert.is(outcome(moduleOf(0x80, [i64, i64]), true, [-1n, 0xffffffffn]), 0x100000001n);
  assert.is(outcome(moduleOf(0x81, [i64, i64]), true, [-7n, 2n]), -1n);
  assert.is(outcome(moduleOf(0x81, [i64, i64]), true, [MIN, -1n]), 0n);
  assert.is(outcome(moduleOf(0x82, [i64, i64]), true, [0xffffffffn, 10n]), 5n);
  assert.is(outcome(moduleOf(0x80, [i64, i64]), true, [(1n << 53n) - 1n, 10n]), ((1n << 53n) - 1n) / 10n);
  assert.is(outcome(moduleOf(0x81, [i64, i64]), true, [-(1n << 53n) + 1n, 1000n]), (-(1n << 53n) + 1n) % 1000n);
  assert.is(outcome(moduleOf(0x7f, [i64, i64]), true, [-MIN - 1n, 7919n]), (-MIN - 1n) / 7919n);
  assert.is(outcome(moduleOf(0x7f, [i64, i64]), true, [MIN + 1n, -10n]), (MIN + 1n) / -10n);
  assert.is(outcome(moduleOf(0x81, [i64, i64]), true, [MIN + 1n, 10n]), (MIN + 1n) % 10n);
  assert.is(outcome(moduleOf(0x7f, [i64, i64]), true, [MIN, 1n]), MIN);
  assert.is(outcome(moduleOf(0x80, [i64, i64]), true, [-1n, 10n]), BigInt.asIntN(64, 0xffffffffffffffffn / 10n));
});

test('i64 from f32 and f64, trapping and saturating: in the loop and out of it, the exact code\'s results and traps', () => {
  const doubles = [0, -0, 0.5, -0.5, -0.99, -1, 1.9, -1.9, 2 ** 31, -(2 ** 31) - 0.5, 2 ** 32 + 0.25, -(2 ** 32), 2 ** 52 + 0.5, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, -(2 ** 53), 2 ** 62, -(2 ** 63), 2 ** 63, 2 ** 64, -(2 ** 64), 1e300, -1e300, Infinity, -Infinity, NaN, 123456789.75, -987654321.25];
  const floats = doubles.map((x) => Math.fround(x));
  const cases: [number, ValType, number[]][] = [
    [0xae, f32, floats], [0xaf, f32, floats], [0xb0, f64, doubles], [0xb1, f64, doubles],
    [0xfc04, f32, floats], [0xfc05, f32, floats], [0xfc06, f64, doubles], [0xfc07, f64, doubles],
  ];
  for (const [op, type, xs] of cases) {
    const bytes = moduleOf(op, [type]);
    for (const x of xs) {
      const want = outcome(bytes, false, [x]);
      const got = outcome(bytes, true, [x]);
      if (got !== want) assert.unreachable(`op 0x${op.toString(16)}(${x}): fast ${String(got)}, exact ${String(want)}`);
    }
  }
  assert.is(outcome(moduleOf(0xb0, [f64]), true, [-(2 ** 32) - 0.5]), -(2n ** 32n));
  assert.is(outcome(moduleOf(0xb0, [f64]), true, [2 ** 53 - 1]), 2n ** 53n - 1n);
  assert.is(outcome(moduleOf(0xb1, [f64]), true, [-0.5]), 0n);
  assert.is(outcome(moduleOf(0xb1, [f64]), true, [-1]), 'trap: integer overflow');
  assert.is(outcome(moduleOf(0xb0, [f64]), true, [NaN]), 'trap: invalid conversion to integer');
  assert.is(outcome(moduleOf(0xfc07, [f64]), true, [2 ** 64]), -1n);
});

test.run();
