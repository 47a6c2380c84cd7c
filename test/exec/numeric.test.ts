import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { i64ToF32, nearest, truncI32S, truncI32U, truncSatI64U } from '../../src/exec/numeric.ts';
import { Trap } from '../../src/errors/index.ts';

test('nearest rounds ties to even and keeps the sign of zero', () => {
  const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [-2.5, -2], [-3.5, -4], [2.4, 2], [-2.6, -3], [4503599627370497, 4503599627370497]];
  for (const [x, want] of cases) assert.is(nearest(x), want, `nearest(${x})`);
  assert.ok(Object.is(nearest(-0.5), -0));
  assert.ok(Object.is(nearest(-0.2), -0));
  assert.ok(Number.isNaN(nearest(NaN)));
});

test('i64 to f32 rounds once, not through f64', () => {
  // 2^53 + 2^29 + 1 lies just above a tie between two f32 neighbours: via f64 it would
  // round to the tie and then to even (down); rounding once goes up.
  const x = 9007199791611905n;
  assert.is(i64ToF32(x, false), 9007200328482816);
  assert.is(i64ToF32(-x, false), -9007200328482816);
  assert.is(i64ToF32(0xffffffffffffffffn, true), 18446744073709551616);
});

test('float to int truncation traps on NaN and overflow with the spec messages', () => {
  assert.is(truncI32S(-2147483648.9), -2147483648);
  assert.is(truncI32U(4294967295.5), -1);
  assert.throws(() => truncI32S(2147483648), (e: unknown) => e instanceof Trap && e.message === 'integer overflow');
  assert.throws(() => truncI32U(NaN), (e: unknown) => e instanceof Trap && e.message === 'invalid conversion to integer');
  assert.is(truncSatI64U(1e30), 0xffffffffffffffffn);
  assert.is(truncSatI64U(-5), 0n);
});

test.run();
