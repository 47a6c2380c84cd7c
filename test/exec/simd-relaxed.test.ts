/**
 * Relaxed SIMD (Wasm 3.0) in the run loops: each of the 20 instructions gives the spec's
 * deterministic choice where the spec allows several results (out-of-range swizzle
 * indices, NaN and out-of-range truncations, unfused multiply-add, partial laneselect
 * masks, NaN and signed-zero min/max, q15 overflow, a second dot operand with its top
 * bit set), the same on the exact code, the fast code and one instruction at a time.
 * The unfused multiply-add is checked against an exact rational model of IEEE rounding.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModule } from '../../src/binary/index.ts';
import { compileModule } from '../../src/compile/index.ts';
import { madd32, madd64 } from '../../src/exec/simd-relaxed.ts';
import { Execution, Store } from '../../src/runtime/index.ts';
import { OPS, PREFIX_FD, RELAXED_SIMD_FIRST } from '../../src/wasm/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { assemble } from '../helpers/assemble.ts';
import { ModuleBuilder } from '../helpers/module-builder.ts';
import { Seeded } from '../helpers/seeded.ts';

type Shape = 'i8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64';
const BITS: Record<Shape, number> = { i8: 8, i16: 16, i32: 32, i64: 64, f32: 32, f64: 64 };

/** A v128 from lanes of one shape (floats by value; `bits(...)` for exact bit patterns), lane 0 lowest. */
function v128(shape: Shape, lanes: (number | bigint)[]): bigint {
  const w = BITS[shape];
  let x = 0n;
  for (let i = lanes.length - 1; i >= 0; i--) x = (x << BigInt(w)) | laneBits(shape, lanes[i]);
  return x;
}

function laneBits(shape: Shape, lane: number | bigint): bigint {
  if (typeof lane === 'bigint') return BigInt.asUintN(BITS[shape], lane);
  if (shape === 'f32') return BigInt(new Uint32Array(new Float32Array([lane]).buffer)[0]);
  if (shape === 'f64') return new BigUint64Array(new Float64Array([lane]).buffer)[0];
  return BigInt.asUintN(BITS[shape], BigInt(lane));
}

/** The lanes of a v128 as unsigned bit patterns, for messages. */
function show(shape: Shape, x: bigint): string {
  const w = BITS[shape];
  return Array.from({ length: 128 / w }, (_, i) => `0x${((x >> BigInt(i * w)) & ((1n << BigInt(w)) - 1n)).toString(16)}`).join(' ');
}

const F32_MAX = 3.4028234663852886e38;
const CANONICAL_F32 = 0x7fc00000n;
const CANONICAL_F64 = 0x7ff8000000000000n;

/** One case: instruction, operand shapes and lanes, result shape and lanes (bigints: exact bits). */
interface Case { op: string; why: string; args: [Shape, (number | bigint)[]][]; want: [Shape, (number | bigint)[]] }

const iota = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

const CASES: Case[] = [
  { op: 'i8x16.relaxed_swizzle', why: 'indices of 16 and up give 0, as i8x16.swizzle',
    args: [['i8', iota(16, 0x10)], ['i8', [0, 15, 16, 17, 31, 127, 128, 255, 1, 2, 3, 4, 5, 6, 7, 8]]],
    want: ['i8', [0x10, 0x1f, 0, 0, 0, 0, 0, 0, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]] },
  { op: 'i32x4.relaxed_trunc_f32x4_s', why: 'NaN gives 0, out of range saturates',
    args: [['f32', [NaN, 3e9, -3e9, -1.9]]], want: ['i32', [0, 0x7fffffff, -0x80000000, -1]] },
  { op: 'i32x4.relaxed_trunc_f32x4_u', why: 'NaN and negatives give 0, too large saturates',
    args: [['f32', [NaN, 5e9, -1.5, 3.9]]], want: ['i32', [0, -1, 0, 3]] },
  { op: 'i32x4.relaxed_trunc_f64x2_s_zero', why: 'as trunc_sat, upper lanes zero',
    args: [['f64', [NaN, -1e10]]], want: ['i32', [0, -0x80000000, 0, 0]] },
  { op: 'i32x4.relaxed_trunc_f64x2_u_zero', why: 'as trunc_sat, upper lanes zero',
    args: [['f64', [1e10, 7.5]]], want: ['i32', [-1, 7, 0, 0]] },
  { op: 'f32x4.relaxed_madd', why: 'two roundings: the product rounds away the 2^-37 a fused one keeps; inf*0 is the canonical NaN; an overflowing product stays infinite',
    args: [['f32', [bit32(0x3f800002), Infinity, F32_MAX, 2]], ['f32', [bit32(0x3f800100), 0, 2, 3]], ['f32', [bit32(0xbf800102), 1, -F32_MAX, 1]]],
    want: ['f32', [0n, CANONICAL_F32, 0x7f800000n, 7]] },
  { op: 'f32x4.relaxed_nmadd', why: '-(a*b) + c, two roundings',
    args: [['f32', [bit32(0xbf800002), 2, -Infinity, 0.5]], ['f32', [bit32(0x3f800100), 3, 0, 4]], ['f32', [bit32(0xbf800102), 1, 1, 2]]],
    want: ['f32', [0n, -5, CANONICAL_F32, 0n]] },
  { op: 'f64x2.relaxed_madd', why: 'two roundings: (1+2^-52)^2 - (1+2^-51) is 0, not 2^-104',
    args: [['f64', [bit64(0x3ff0000000000001n), Infinity]], ['f64', [bit64(0x3ff0000000000001n), 0]], ['f64', [bit64(0xbff0000000000002n), 1]]],
    want: ['f64', [0n, CANONICAL_F64]] },
  { op: 'f64x2.relaxed_nmadd', why: '-(a*b) + c, two roundings',
    args: [['f64', [bit64(0xbff0000000000001n), 2]], ['f64', [bit64(0x3ff0000000000001n), 3]], ['f64', [bit64(0xbff0000000000002n), 1]]],
    want: ['f64', [0n, -5]] },
  { op: 'i8x16.relaxed_laneselect', why: 'a partial mask selects bit by bit, as v128.bitselect',
    args: [['i8', [0, 1, 0x12, 0x12, ...iota(12, 4)]], ['i8', [16, 17, 0x34, 0x34, ...iota(12, 20)]], ['i8', [255, 0, 0xf0, 0x0f, ...iota(12).map(() => 0)]]],
    want: ['i8', [0, 17, 0x14, 0x32, ...iota(12, 20)]] },
  { op: 'i16x8.relaxed_laneselect', why: 'bit by bit, not by each lane\'s top bit',
    args: [['i16', [0, 1, 0x1234, 0x1234, 4, 5, 6, 7]], ['i16', [8, 9, 0x5678, 0x5678, 12, 13, 14, 15]], ['i16', [0xffff, 0, 0xff00, 0x00ff, 0, 0, 0, 0]]],
    want: ['i16', [0, 9, 0x1278, 0x5634, 12, 13, 14, 15]] },
  { op: 'i32x4.relaxed_laneselect', why: 'bit by bit',
    args: [['i32', [0, 1, 0x12345678, 0x12345678]], ['i32', [4, 5, 0x5678abcd, 0x5678abcd]], ['i32', [-1, 0, 0xffff0000, 0x0000ffff]]],
    want: ['i32', [0, 5, 0x1234abcd, 0x56785678]] },
  { op: 'i64x2.relaxed_laneselect', why: 'bit by bit',
    args: [['i64', [0x1111111111111111n, 0x1111111111111111n]], ['i64', [0x2222222222222222n, 0x2222222222222222n]], ['i64', [0xffffffff00000000n, 0x00000000ffffffffn]]],
    want: ['i64', [0x1111111122222222n, 0x2222222211111111n]] },
  { op: 'f32x4.relaxed_min', why: 'NaN if either is NaN (canonical), -0 below +0',
    args: [['f32', [NaN, 0, -0, 1]], ['f32', [1, -0, 0, 2]]], want: ['f32', [CANONICAL_F32, 0x80000000n, 0x80000000n, 1]] },
  { op: 'f32x4.relaxed_max', why: 'NaN if either is NaN, +0 above -0',
    args: [['f32', [1, 0, -0, 1]], ['f32', [NaN, -0, 0, 2]]], want: ['f32', [CANONICAL_F32, 0n, 0n, 2]] },
  { op: 'f64x2.relaxed_min', why: 'as f64x2.min',
    args: [['f64', [NaN, 0]], ['f64', [0, -0]]], want: ['f64', [CANONICAL_F64, 0x8000000000000000n]] },
  { op: 'f64x2.relaxed_max', why: 'as f64x2.max',
    args: [['f64', [-0, 1]], ['f64', [0, NaN]]], want: ['f64', [0n, CANONICAL_F64]] },
  { op: 'i16x8.relaxed_q15mulr_s', why: '-1 * -1 saturates to 0x7fff',
    args: [['i16', [-32768, -32768, 16384, 32767, 0, 0, 0, 0]], ['i16', [-32768, 16384, 16384, 32767, 0, 0, 0, 0]]],
    want: ['i16', [32767, -16384, 8192, 32766, 0, 0, 0, 0]] },
  { op: 'i16x8.relaxed_dot_i8x16_i7x16_s', why: 'the second operand\'s bytes are signed; pair sums saturate to 16 bits',
    args: [['i8', [-128, -128, 127, 127, -128, -128, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]], ['i8', [-128, -128, 127, 127, 127, 127, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]]],
    want: ['i16', [32767, 32258, -32512, 11, 0, 0, 0, 0]] },
  { op: 'i32x4.relaxed_dot_i8x16_i7x16_add_s', why: 'saturated 16-bit pair sums, added to 32 bits with the accumulator, modulo 2^32',
    args: [['i8', [-128, -128, -128, -128, 1, 2, 3, 4, -128, -128, 0, 0, 1, 0, 0, 0]], ['i8', [-128, -128, -128, -128, 5, 6, 7, 8, -127, -127, 0, 0, 1, 0, 0, 0]], ['i32', [1, 100, -7, 0x7fffffff]]],
    want: ['i32', [65535, 170, 32505, -0x80000000]] },
];

function bit32(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0];
}

function bit64(bits: bigint): number {
  return new Float64Array(new BigUint64Array([bits]).buffer)[0];
}

/** `v128.const` of a v128 given as a bigint, as assembler text. */
function constOf(x: bigint): string {
  return `v128.const ${Array.from({ length: 16 }, (_, i) => Number((x >> BigInt(8 * i)) & 0xffn)).join(' ')}`;
}

/**
 * One exported function per case: `case<k>` takes the operands as parameters
 * (`local.get`s, then the instruction), `const<k>` has them as `v128.const`s (an
 * Execution takes no v128 from JavaScript).
 */
function casesModule(): Uint8Array {
  const b = new ModuleBuilder();
  CASES.forEach((c, k) => {
    const params = c.args.map(() => ValType.v128);
    const gets = c.args.map((_, i) => `local.get ${i}`).join(' ');
    b.export(`case${k}`, 'func', b.func(b.type(params, [ValType.v128]), assemble(`${gets} ${c.op} end`)));
    const consts = c.args.map(([shape, lanes]) => constOf(v128(shape, lanes))).join(' ');
    b.export(`const${k}`, 'func', b.func(b.type([], [ValType.v128]), assemble(`${consts} ${c.op} end`)));
  });
  return b.build();
}

/** Does `want` match `got`? Number lanes by value (bits for floats), bigint lanes by exact bits. */
function matches(shape: Shape, want: (number | bigint)[], got: bigint): boolean {
  return v128(shape, want) === got;
}

test('the cases cover all 20 relaxed SIMD instructions', () => {
  const names = new Set(CASES.map((c) => c.op));
  for (let sub = RELAXED_SIMD_FIRST; sub < RELAXED_SIMD_FIRST + 20; sub++) assert.ok(names.has(OPS[PREFIX_FD + sub]!.name), OPS[PREFIX_FD + sub]!.name);
});

for (const fast of [false, true]) {
  const code = fast ? 'fast' : 'exact';
  test(`each relaxed instruction gives the deterministic choice on the ${code} code`, () => {
    const store = new Store({ fast });
    const inst = store.instantiate(compileModule(decodeModule(casesModule())));
    CASES.forEach((c, k) => {
      const args = c.args.map(([shape, lanes]) => v128(shape, lanes));
      const [got] = store.invokeRaw(inst.exports.get(`case${k}`)!.addr, args);
      const [shape, lanes] = c.want;
      assert.ok(matches(shape, lanes, got), `${c.op} (${c.why}): want ${show(shape, v128(shape, lanes))}, got ${show(shape, got)}`);
    });
  });

  test(`one instruction at a time gives the same on the ${code} code`, () => {
    const store = new Store({ fast });
    const inst = store.instantiate(compileModule(decodeModule(casesModule())));
    CASES.forEach((c, k) => {
      const execution = new Execution(store, inst.exports.get(`const${k}`)!.addr, []);
      let outcome = execution.run({ budget: 1 });
      let steps = 1;
      while (outcome.kind === 'paused') { steps++; outcome = execution.run({ budget: 1 }); }
      assert.is(outcome.kind, 'returned');
      assert.ok(steps >= c.args.length + 1, `${c.op}: ${steps} steps, one per v128.const and one for the instruction at least`);
      const got = outcome.kind === 'returned' ? outcome.results[0] as bigint : -1n;
      assert.ok(matches(c.want[0], c.want[1], got), `${c.op} stepped: got ${show(c.want[0], got)}`);
    });
  });
}

/**
 * An exact model of binary floating point: `n * 2^e` rounded to nearest-even with
 * `precision` significant bits, exponents down to `minExp` (subnormals) and a largest
 * finite value below 2^(maxExp + 1); as a JavaScript number.
 */
function roundExact(n: bigint, e: number, precision: number, minExp: number, maxExp: number): number {
  if (n === 0n) return 0;
  const negative = n < 0n;
  let m = negative ? -n : n;
  const top = m.toString(2).length - 1 + e; // exponent of the leading bit
  const quantum = Math.max(top - (precision - 1), minExp - (precision - 1));
  if (quantum > e) {
    const shift = BigInt(quantum - e);
    const rest = m & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    m >>= shift;
    if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
    e = quantum;
  }
  const value = Number(m) * 2 ** e;
  const max = (2 - 2 ** (1 - precision)) * 2 ** maxExp;
  const out = value > max ? Infinity : value;
  return negative ? -out : out;
}

/** A finite binary32 or binary64 as `m * 2^e` (exact). */
function decompose(x: number, single: boolean): [bigint, number] {
  if (single) {
    const bits = new Uint32Array(new Float32Array([x]).buffer)[0];
    const exp = (bits >>> 23) & 0xff, frac = bits & 0x7fffff;
    const m = BigInt(exp === 0 ? frac : frac | 0x800000);
    return [bits >>> 31 ? -m : m, (exp === 0 ? 1 : exp) - 150];
  }
  const bits = new BigUint64Array(new Float64Array([x]).buffer)[0];
  const exp = Number((bits >> 52n) & 0x7ffn), frac = bits & 0xfffffffffffffn;
  const m = exp === 0 ? frac : frac | (1n << 52n);
  return [bits >> 63n ? -m : m, (exp === 0 ? 1 : exp) - 1075];
}

/** fadd(fmul(a, b), c) in the exact model. */
function unfusedExact(a: number, b: number, c: number, single: boolean): number {
  const [p, lo, hi] = single ? [24, -126, 127] : [53, -1022, 1023];
  const [ma, ea] = decompose(a, single), [mb, eb] = decompose(b, single);
  const product = roundExact(ma * mb, ea + eb, p, lo, hi);
  if (!Number.isFinite(product)) return product + c;
  const [mp, ep] = decompose(product, single), [mc, ec] = decompose(c, single);
  const base = Math.min(ep, ec);
  const sum = (mp << BigInt(ep - base)) + (mc << BigInt(ec - base));
  // An exact zero sum is +0 under round-to-nearest, but -0 + -0 is -0.
  if (sum === 0n) return Object.is(product, -0) && Object.is(c, -0) ? -0 : 0;
  return roundExact(sum, base, p, lo, hi);
}

/** A random finite, non-zero float of the given format with exponent in [-span, span], or near a cancellation. */
function randomFloat(r: Seeded, single: boolean, span: number): number {
  const m = 1 + r.next();
  const x = (r.int(2) ? -1 : 1) * m * 2 ** (r.int(2 * span + 1) - span);
  return single ? Math.fround(x) : x;
}

for (const single of [true, false]) {
  const name = single ? 'f32' : 'f64';
  test(`${name} relaxed_madd is exactly two roundings (against an exact model, with cancellations and subnormals)`, () => {
    const r = new Seeded(single ? 0x5eed32 : 0x5eed64);
    const madd = single ? madd32 : madd64;
    let cancelled = 0;
    for (let k = 0; k < 20000; k++) {
      const span = k % 4 === 0 ? (single ? 70 : 520) : 8; // now and then, products near overflow and underflow
      const a = randomFloat(r, single, span), b = randomFloat(r, single, span);
      // Half the cases take c near -a*b, where the two roundings differ from one most.
      const near = single ? Math.fround(-(a * b)) : -(a * b);
      const c = k % 2 === 0 && Number.isFinite(near) ? near * (1 + (r.next() - 0.5) * 2 ** -20) : randomFloat(r, single, span);
      const cc = single ? Math.fround(c) : c;
      const want = unfusedExact(a, b, cc, single);
      const got = madd(a, b, cc);
      if (Math.abs(got) < Math.abs(a * b) * 2 ** -10) cancelled++;
      if (!Object.is(got, want)) assert.unreachable(`${name} madd(${a}, ${b}, ${cc}) = ${got}, the exact model says ${want}`);
    }
    assert.ok(cancelled > 1000, `${cancelled} cases cancelled`);
  });
}

test.run();
