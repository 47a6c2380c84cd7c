/**
 * The rarer i64, float and conversion instructions run outside the fast loop (stepWide,
 * src/exec/run-fast-wide.ts), a run of them per call: runs of them between instructions
 * of the loop give the exact code's results, and a trap after such a run names its own
 * instruction.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Trap } from '../../src/errors/index.ts';
import { loadModule } from '../../src/program/index.ts';
import { Store } from '../../src/runtime/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';

const { i32, i64, f64 } = ValType;

function call(bytes: Uint8Array, fast: boolean, args: unknown[]): unknown {
  const store = new Store({ fast });
  const inst = store.instantiate(loadModule(bytes));
  return store.invoke(inst.exports.get('f')!, args as never)[0];
}

test('i64: clz, ctz, rotl, popcnt in a row, then an add of the loop', () => {
  const b = new ModuleBuilder();
  // rotl(clz(a), ctz(b)) + popcnt(a)
  const f = b.func(b.type([i64, i64], [i64]), [0x20, 0, 0x79, 0x20, 1, 0x7a, 0x89, 0x20, 0, 0x7b, 0x7c, 0x0b]);
  b.export('f', 'func', f);
  const bytes = b.build();
  const rotl = (x: bigint, k: bigint): bigint => BigInt.asUintN(64, (x << (k & 63n)) | (x >> ((64n - (k & 63n)) & 63n)));
  const popcnt = (x: bigint): bigint => BigInt(x.toString(2).split('').filter((c) => c === '1').length);
  const clz = (x: bigint): bigint => (x === 0n ? 64n : BigInt(64 - x.toString(2).length));
  const ctz = (x: bigint): bigint => { if (x === 0n) return 64n; let n = 0n; while (((x >> n) & 1n) === 0n) n++; return n; };
  for (const [a, c] of [[1n, 8n], [0xf0n, 0n], [0n, 1n << 40n], [0x8000000000000001n, 3n]] as const) {
    const want = BigInt.asIntN(64, rotl(clz(a), ctz(c)) + popcnt(a));
    for (const fast of [true, false]) assert.is(call(bytes, fast, [BigInt.asIntN(64, a), c]), want, `a=${a} c=${c} fast=${fast}`);
  }
});

test('f64: abs, sqrt, ceil, neg, copysign in a row', () => {
  const b = new ModuleBuilder();
  // copysign(ceil(sqrt(abs(x))), neg(x))
  const f = b.func(b.type([f64], [f64]), [0x20, 0, 0x99, 0x9f, 0x9b, 0x20, 0, 0x9a, 0xa6, 0x0b]);
  b.export('f', 'func', f);
  const bytes = b.build();
  for (const x of [2.25, -17, 0, 1e300]) {
    const want = Math.abs(Math.ceil(Math.sqrt(Math.abs(x)))) * (Object.is(-x, -0) || -x < 0 ? -1 : 1);
    for (const fast of [true, false]) assert.is(call(bytes, fast, [x]), want, `x=${x} fast=${fast}`);
  }
});

test('a trapping conversion right after a run names its own instruction, on both codes', () => {
  const b = new ModuleBuilder();
  // i32.trunc_f64_s(f64.abs(f64.neg(x))): the run (neg, abs) ends at the trapping truncation.
  const f = b.func(b.type([f64], [i32]), [0x20, 0, 0x9a, 0x99, 0xaa, 0x0b]);
  b.export('f', 'func', f);
  const bytes = b.build();
  const trapAt = (fast: boolean): number => {
    try {
      call(bytes, fast, [1e10]);
    } catch (e) {
      assert.instance(e, Trap);
      assert.is((e as Trap).message, 'integer overflow');
      return (e as Trap).backtrace[0]!.offset;
    }
    throw new Error('no trap');
  };
  for (const fast of [true, false]) assert.is(call(bytes, fast, [-5.5]), 5);
  assert.is(trapAt(true), trapAt(false));
});

test.run();
