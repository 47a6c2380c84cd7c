/**
 * The semantics of every non-memory SIMD instruction of Wasm 2.0, written once, indexed
 * by sub-opcode (the code in `wasm/opcodes-simd.ts` minus the 0xFD prefix), for the run
 * loops to call. Operands and results live in the value stack ({@link V128Lanes}),
 * named by slot: a v128 at slot s takes slots s and s+1. Bit-exact where the spec says
 * so: lane moves, abs, neg and bitwise operations move bits (NaN payloads survive);
 * float arithmetic rounds to the lane's precision and yields an arithmetic NaN.
 * Spec: https://webassembly.github.io/spec/core/exec/numerics.html
 */
import { nearest, truncSatI32S, truncSatI32U } from './numeric.ts';
import type { V128Lanes } from './simd-lanes.ts';

/**
 * One SIMD operation: reads its operands at slots `a`, `b`, `c` (as many as its signature
 * has, v128 or scalar), writes its result at slot `dst` (which is `a` or disjoint from
 * the operands). `lane` is the lane immediate, where there is one.
 */
export type SimdOp = (v: V128Lanes, dst: number, a: number, b: number, c: number, lane: number) => void;

type NumView = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64';
type BigView = 'i64' | 'u64';

/** Elements of a view per 8-byte slot. */
const PER_SLOT: Record<NumView | BigView, number> = { i8: 8, u8: 8, i16: 4, u16: 4, i32: 2, u32: 2, f32: 2, f64: 1, i64: 1, u64: 1 };

/** Lane-wise `dst[i] = fn(a[i], b[i])` over a view with `n` lanes (in place is safe). */
function binary(view: NumView, fn: (x: number, y: number) => number): SimdOp {
  const n = PER_SLOT[view] * 2;
  return (v, dst, a, b) => {
    const t = v[view];
    const d = dst * (n >> 1), x = a * (n >> 1), y = b * (n >> 1);
    for (let i = 0; i < n; i++) t[d + i] = fn(t[x + i], t[y + i]);
  };
}

/** Lane-wise `dst[i] = fn(a[i])`. */
function unary(view: NumView, fn: (x: number) => number): SimdOp {
  const n = PER_SLOT[view] * 2;
  return (v, dst, a) => {
    const t = v[view];
    const d = dst * (n >> 1), x = a * (n >> 1);
    for (let i = 0; i < n; i++) t[d + i] = fn(t[x + i]);
  };
}

function binary64(view: BigView, fn: (x: bigint, y: bigint) => bigint): SimdOp {
  return (v, dst, a, b) => {
    const t = v[view];
    t[dst] = fn(t[a], t[b]);
    t[dst + 1] = fn(t[a + 1], t[b + 1]);
  };
}

function unary64(fn: (x: bigint) => bigint): SimdOp {
  return (v, dst, a) => {
    const t = v.i64;
    t[dst] = fn(t[a]);
    t[dst + 1] = fn(t[a + 1]);
  };
}

/** Comparison: all ones where `fn` holds, zeros elsewhere, into lanes of the signed view of the same width. */
function compare(view: NumView, fn: (x: number, y: number) => boolean): SimdOp {
  const n = PER_SLOT[view] * 2;
  const out: NumView = view === 'f32' ? 'i32' : view === 'f64' ? 'f64' : view;
  if (out === 'f64') {
    // 64-bit float lanes: write the mask through the i32 view, two words per lane.
    return (v, dst, a, b) => {
      const t = v.f64, w = v.i32;
      const m0 = fn(t[a], t[b]) ? -1 : 0, m1 = fn(t[a + 1], t[b + 1]) ? -1 : 0;
      w[2 * dst] = m0; w[2 * dst + 1] = m0; w[2 * dst + 2] = m1; w[2 * dst + 3] = m1;
    };
  }
  return (v, dst, a, b) => {
    const t = v[view], o = v[out];
    const d = dst * (n >> 1), x = a * (n >> 1), y = b * (n >> 1);
    for (let i = 0; i < n; i++) o[d + i] = fn(t[x + i], t[y + i]) ? -1 : 0;
  };
}

function compare64(fn: (x: bigint, y: bigint) => boolean): SimdOp {
  return (v, dst, a, b) => {
    const t = v.i64;
    const m0 = fn(t[a], t[b]) ? -1n : 0n, m1 = fn(t[a + 1], t[b + 1]) ? -1n : 0n;
    t[dst] = m0; t[dst + 1] = m1;
  };
}

const INT_COMPARES: [string, (x: number, y: number) => boolean, boolean][] = [
  ['eq', (x, y) => x === y, true], ['ne', (x, y) => x !== y, true],
  ['lt_s', (x, y) => x < y, true], ['lt_u', (x, y) => x < y, false],
  ['gt_s', (x, y) => x > y, true], ['gt_u', (x, y) => x > y, false],
  ['le_s', (x, y) => x <= y, true], ['le_u', (x, y) => x <= y, false],
  ['ge_s', (x, y) => x >= y, true], ['ge_u', (x, y) => x >= y, false],
];
const FLOAT_COMPARES: ((x: number, y: number) => boolean)[] = [
  (x, y) => x === y, (x, y) => x !== y, (x, y) => x < y, (x, y) => x > y, (x, y) => x <= y, (x, y) => x >= y,
];

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/** Saturating add and sub for one lane width: [add_s, add_u, sub_s, sub_u]. */
function saturating(bits: 8 | 16): SimdOp[] {
  const s: NumView = bits === 8 ? 'i8' : 'i16', u: NumView = bits === 8 ? 'u8' : 'u16';
  const max = (1 << (bits - 1)) - 1, min = -(1 << (bits - 1)), umax = (1 << bits) - 1;
  return [
    binary(s, (x, y) => clamp(x + y, min, max)), binary(u, (x, y) => clamp(x + y, 0, umax)),
    binary(s, (x, y) => clamp(x - y, min, max)), binary(u, (x, y) => clamp(x - y, 0, umax)),
  ];
}

/** Shifts by a scalar i32 at slot `b`, taken modulo the lane width: [shl, shr_s, shr_u]. */
function shifts(bits: 8 | 16 | 32): SimdOp[] {
  const s: NumView = bits === 8 ? 'i8' : bits === 16 ? 'i16' : 'i32';
  const u: NumView = bits === 8 ? 'u8' : bits === 16 ? 'u16' : 'u32';
  const shift = (view: NumView, fn: (x: number, k: number) => number): SimdOp => {
    const n = 128 / bits;
    return (v, dst, a, b) => {
      const k = v.i32[2 * b] & (bits - 1);
      const t = v[view];
      const d = dst * (n >> 1), x = a * (n >> 1);
      for (let i = 0; i < n; i++) t[d + i] = fn(t[x + i], k);
    };
  };
  return [shift(s, (x, k) => x << k), shift(s, (x, k) => x >> k), shift(u, (x, k) => x >>> k)];
}

function shifts64(): SimdOp[] {
  const shift = (view: BigView, fn: (x: bigint, k: bigint) => bigint): SimdOp => (v, dst, a, b) => {
    const k = BigInt(v.i32[2 * b] & 63);
    const t = v[view];
    t[dst] = fn(t[a], k);
    t[dst + 1] = fn(t[a + 1], k);
  };
  return [shift('i64', (x, k) => x << k), shift('i64', (x, k) => x >> k), shift('u64', (x, k) => x >> k)];
}

/** Splat of a scalar at slot `a` into every lane of the view. */
function splat(view: NumView): SimdOp {
  const n = PER_SLOT[view] * 2;
  return (v, dst, a) => {
    const t = v[view];
    const x = t[a * (n >> 1)];
    const d = dst * (n >> 1);
    for (let i = 0; i < n; i++) t[d + i] = x;
  };
}

/** Lane `lane` of the v128 at `a` into the scalar slot `dst` (i32 views write the low word). */
function extract(view: NumView): SimdOp {
  const per = PER_SLOT[view];
  return (v, dst, a, _b, _c, lane) => {
    const x = v[view][a * per + lane];
    v.i32[2 * dst] = x;
  };
}

/** The v128 at `a` with lane `lane` replaced by the scalar at slot `b`. */
function replace(view: NumView): SimdOp {
  const per = PER_SLOT[view];
  return (v, dst, a, b, _c, lane) => {
    const t = v[view];
    const x = t[b * per];
    copyV128(v, dst, a);
    t[dst * per + lane] = x;
  };
}

/** Copies the v128 at slot `from` to slot `to` as four 32-bit words (bits, never through a float). */
function copyV128(v: V128Lanes, to: number, from: number): void {
  if (to === from) return;
  const w = v.i32;
  w[2 * to] = w[2 * from]; w[2 * to + 1] = w[2 * from + 1]; w[2 * to + 2] = w[2 * from + 2]; w[2 * to + 3] = w[2 * from + 3];
}

/** 64-bit lanes (i64x2, f64x2) move as pairs of 32-bit words, so f64 NaN payloads survive. */
const splat64: SimdOp = (v, dst, a) => {
  const w = v.i32, lo = w[2 * a], hi = w[2 * a + 1];
  w[2 * dst] = lo; w[2 * dst + 1] = hi; w[2 * dst + 2] = lo; w[2 * dst + 3] = hi;
};
const extract64: SimdOp = (v, dst, a, _b, _c, lane) => {
  const w = v.i32, lo = w[2 * a + 2 * lane], hi = w[2 * a + 2 * lane + 1];
  w[2 * dst] = lo; w[2 * dst + 1] = hi;
};
const replace64: SimdOp = (v, dst, a, b, _c, lane) => {
  const w = v.i32, lo = w[2 * b], hi = w[2 * b + 1];
  copyV128(v, dst, a);
  w[2 * dst + 2 * lane] = lo; w[2 * dst + 2 * lane + 1] = hi;
};

/** Result built lane by lane in the scratch from the operands (cross-lane operations), then copied to `dst`. */
function crossLane(view: NumView, n: number, fn: (v: V128Lanes, i: number, a: number, b: number) => number): SimdOp {
  return (v, dst, a, b) => {
    const s = v.scratch[view];
    for (let i = 0; i < n; i++) s[i] = fn(v, i, a, b);
    v.fromScratch(dst);
  };
}

/** Narrowing: lanes of `a` then of `b` (signed, `from` view), saturated into the `to` range. */
function narrow(from: 'i16' | 'i32', to: NumView, lo: number, hi: number): SimdOp {
  const half = from === 'i16' ? 8 : 4;
  const per = PER_SLOT[from];
  return crossLane(to, 2 * half, (v, i, a, b) => {
    const x = i < half ? v[from][a * per + i] : v[from][b * per + i - half];
    return clamp(x, lo, hi);
  });
}

/** Extension of the low or high half of `a`'s `from` lanes into the wider `to` lanes. */
function extend(from: NumView, to: NumView, high: boolean): SimdOp {
  const n = PER_SLOT[to] * 2;
  const per = PER_SLOT[from];
  return crossLane(to, n, (v, i, a) => v[from][a * per + (high ? n : 0) + i]);
}

function extend64(from: 'i32' | 'u32', high: boolean): SimdOp {
  return (v, dst, a) => {
    const x0 = v[from][2 * a + (high ? 2 : 0)], x1 = v[from][2 * a + (high ? 3 : 1)];
    v.i64[dst] = BigInt(x0);
    v.i64[dst + 1] = BigInt(x1);
  };
}

/** Extended multiply of the low or high halves of `a` and `b`. */
function extmul(from: NumView, to: NumView, high: boolean): SimdOp {
  const n = PER_SLOT[to] * 2;
  const per = PER_SLOT[from];
  const off = high ? n : 0;
  return crossLane(to, n, (v, i, a, b) => Math.imul(v[from][a * per + off + i], v[from][b * per + off + i]));
}

function extmul64(from: 'i32' | 'u32', high: boolean): SimdOp {
  return (v, dst, a, b) => {
    const t = v[from], off = high ? 2 : 0;
    const p0 = BigInt(t[2 * a + off]) * BigInt(t[2 * b + off]);
    const p1 = BigInt(t[2 * a + off + 1]) * BigInt(t[2 * b + off + 1]);
    v.i64[dst] = p0;
    v.i64[dst + 1] = p1;
  };
}

/** Pairwise add of adjacent `from` lanes into `to` lanes of twice the width. */
function extaddPairwise(from: NumView, to: NumView): SimdOp {
  const n = PER_SLOT[to] * 2;
  const per = PER_SLOT[from];
  return crossLane(to, n, (v, i, a) => v[from][a * per + 2 * i] + v[from][a * per + 2 * i + 1]);
}

/** all_true: every lane of the view non-zero, as an i32 into the scalar slot `dst`. */
function allTrue(view: NumView): SimdOp {
  const n = PER_SLOT[view] * 2;
  return (v, dst, a) => {
    const t = v[view], x = a * (n >> 1);
    let all = 1;
    for (let i = 0; i < n; i++) if (t[x + i] === 0) { all = 0; break; }
    v.i32[2 * dst] = all;
  };
}

/** bitmask: the sign bit of each lane, lane i into bit i, as an i32. */
function bitmask(view: NumView): SimdOp {
  const n = PER_SLOT[view] * 2;
  return (v, dst, a) => {
    const t = v[view], x = a * (n >> 1);
    let m = 0;
    for (let i = 0; i < n; i++) if (t[x + i] < 0) m |= 1 << i;
    v.i32[2 * dst] = m;
  };
}

/** Float min and max as the spec defines them: NaN if either is NaN, -0 below +0. */
const fmin = (x: number, y: number): number => (x !== x || y !== y ? NaN : Math.min(x, y));
const fmax = (x: number, y: number): number => (x !== x || y !== y ? NaN : Math.max(x, y));

/** f32x4 and f64x2 abs and neg act on the sign bits only, so NaN payloads survive. */
const f32Abs: SimdOp = (v, dst, a) => { for (let i = 0; i < 4; i++) v.u32[2 * dst + i] = v.u32[2 * a + i] & 0x7fffffff; };
const f32Neg: SimdOp = (v, dst, a) => { for (let i = 0; i < 4; i++) v.u32[2 * dst + i] = v.u32[2 * a + i] ^ 0x80000000; };
const f64Abs: SimdOp = (v, dst, a) => {
  for (let i = 0; i < 4; i++) v.u32[2 * dst + i] = i & 1 ? v.u32[2 * a + i] & 0x7fffffff : v.u32[2 * a + i];
};
const f64Neg: SimdOp = (v, dst, a) => {
  for (let i = 0; i < 4; i++) v.u32[2 * dst + i] = i & 1 ? v.u32[2 * a + i] ^ 0x80000000 : v.u32[2 * a + i];
};

/**
 * pmin and pmax: lane i is `b`'s lane where `takeB` holds, else `a`'s, moved as bits
 * (the spec defines them as a selection, so a NaN operand comes through unchanged).
 */
function pick(view: 'f32' | 'f64', bits: 'i32' | 'i64', takeB: (x: number, y: number) => boolean): SimdOp {
  const n = view === 'f32' ? 4 : 2;
  const per = n >> 1;
  return (v, dst, a, b) => {
    const t = v[view], w = v[bits] as Int32Array & BigInt64Array;
    for (let i = 0; i < n; i++) w[dst * per + i] = takeB(t[a * per + i], t[b * per + i]) ? w[b * per + i] : w[a * per + i];
  };
}

/**
 * A float64 lane function whose NaN result is the canonical NaN: a signalling NaN read
 * from a Float64Array comes back unchanged from Math.ceil and friends, and the spec
 * wants an arithmetic (quiet) NaN. (f32 lanes are quieted by the widening read.)
 */
function quieted(fn: (x: number) => number): (x: number) => number {
  return (x) => (x !== x ? NaN : fn(x));
}

/** Bitwise operations over four 32-bit words. */
function bitwise(fn: (x: number, y: number) => number): SimdOp {
  return binary('i32', fn);
}

const popcnt8 = (x: number): number => {
  let c = 0;
  for (let k = x; k !== 0; k &= k - 1) c++;
  return c;
};

const SIMD_TABLE: [number, SimdOp][] = [
  [0x0e, crossLane('u8', 16, (v, i, a, b) => { const k = v.u8[8 * b + i]; return k < 16 ? v.u8[8 * a + k] : 0; })],
  [0x0f, splat('i8')], [0x10, splat('i16')], [0x11, splat('i32')], [0x12, splat64], [0x13, splat('i32')], [0x14, splat64],
  [0x15, extract('i8')], [0x16, extract('u8')], [0x17, replace('i8')],
  [0x18, extract('i16')], [0x19, extract('u16')], [0x1a, replace('i16')],
  [0x1b, extract('i32')], [0x1c, replace('i32')],
  [0x1d, extract64], [0x1e, replace64],
  [0x1f, extract('i32')], [0x20, replace('i32')], // f32 lanes move as bits, so NaN payloads survive
  [0x21, extract64], [0x22, replace64],
  ...INT_COMPARES.map(([, fn, signed], k): [number, SimdOp] => [0x23 + k, compare(signed ? 'i8' : 'u8', fn)]),
  ...INT_COMPARES.map(([, fn, signed], k): [number, SimdOp] => [0x2d + k, compare(signed ? 'i16' : 'u16', fn)]),
  ...INT_COMPARES.map(([, fn, signed], k): [number, SimdOp] => [0x37 + k, compare(signed ? 'i32' : 'u32', fn)]),
  ...FLOAT_COMPARES.map((fn, k): [number, SimdOp] => [0x41 + k, compare('f32', fn)]),
  ...FLOAT_COMPARES.map((fn, k): [number, SimdOp] => [0x47 + k, compare('f64', fn)]),
  [0x4d, unary('i32', (x) => ~x)],
  [0x4e, bitwise((x, y) => x & y)], [0x4f, bitwise((x, y) => x & ~y)], [0x50, bitwise((x, y) => x | y)], [0x51, bitwise((x, y) => x ^ y)],
  [0x52, (v, dst, a, b, c) => {
    const w = v.i32;
    for (let i = 0; i < 4; i++) { const m = w[2 * c + i]; w[2 * dst + i] = (w[2 * a + i] & m) | (w[2 * b + i] & ~m); }
  }],
  [0x53, (v, dst, a) => { const w = v.i32; v.i32[2 * dst] = (w[2 * a] | w[2 * a + 1] | w[2 * a + 2] | w[2 * a + 3]) !== 0 ? 1 : 0; }],
  [0x5e, (v, dst, a) => {
    const x0 = v.f64[a], x1 = v.f64[a + 1];
    v.f32[2 * dst] = x0; v.f32[2 * dst + 1] = x1; v.i32[2 * dst + 2] = 0; v.i32[2 * dst + 3] = 0;
  }],
  [0x5f, (v, dst, a) => { const x0 = v.f32[2 * a], x1 = v.f32[2 * a + 1]; v.f64[dst] = x0; v.f64[dst + 1] = x1; }],
  [0x60, unary('i8', Math.abs)], [0x61, unary('i8', (x) => -x)], [0x62, unary('u8', popcnt8)],
  [0x63, allTrue('i8')], [0x64, bitmask('i8')],
  [0x65, narrow('i16', 'i8', -128, 127)], [0x66, narrow('i16', 'u8', 0, 255)],
  [0x67, unary('f32', Math.ceil)], [0x68, unary('f32', Math.floor)], [0x69, unary('f32', Math.trunc)], [0x6a, unary('f32', nearest)],
  ...shifts(8).map((op, k): [number, SimdOp] => [0x6b + k, op]),
  [0x6e, binary('i8', (x, y) => x + y)],
  ...saturating(8).map((op, k): [number, SimdOp] => [k < 2 ? 0x6f + k : 0x70 + k, op]),
  [0x71, binary('i8', (x, y) => x - y)],
  [0x74, unary('f64', quieted(Math.ceil))], [0x75, unary('f64', quieted(Math.floor))],
  [0x76, binary('i8', Math.min)], [0x77, binary('u8', Math.min)], [0x78, binary('i8', Math.max)], [0x79, binary('u8', Math.max)],
  [0x7a, unary('f64', quieted(Math.trunc))],
  [0x7b, binary('u8', (x, y) => (x + y + 1) >>> 1)],
  [0x7c, extaddPairwise('i8', 'i16')], [0x7d, extaddPairwise('u8', 'i16')],
  [0x7e, extaddPairwise('i16', 'i32')], [0x7f, extaddPairwise('u16', 'i32')],
  [0x80, unary('i16', Math.abs)], [0x81, unary('i16', (x) => -x)],
  [0x82, binary('i16', (x, y) => clamp((x * y + 0x4000) >> 15, -32768, 32767))],
  [0x83, allTrue('i16')], [0x84, bitmask('i16')],
  [0x85, narrow('i32', 'i16', -32768, 32767)], [0x86, narrow('i32', 'u16', 0, 65535)],
  [0x87, extend('i8', 'i16', false)], [0x88, extend('i8', 'i16', true)], [0x89, extend('u8', 'i16', false)], [0x8a, extend('u8', 'i16', true)],
  ...shifts(16).map((op, k): [number, SimdOp] => [0x8b + k, op]),
  [0x8e, binary('i16', (x, y) => x + y)],
  ...saturating(16).map((op, k): [number, SimdOp] => [k < 2 ? 0x8f + k : 0x90 + k, op]),
  [0x91, binary('i16', (x, y) => x - y)],
  [0x94, unary('f64', quieted(nearest))],
  [0x95, binary('i16', Math.imul)],
  [0x96, binary('i16', Math.min)], [0x97, binary('u16', Math.min)], [0x98, binary('i16', Math.max)], [0x99, binary('u16', Math.max)],
  [0x9b, binary('u16', (x, y) => (x + y + 1) >>> 1)],
  [0x9c, extmul('i8', 'i16', false)], [0x9d, extmul('i8', 'i16', true)], [0x9e, extmul('u8', 'i16', false)], [0x9f, extmul('u8', 'i16', true)],
  [0xa0, unary('i32', (x) => (x < 0 ? -x | 0 : x))], [0xa1, unary('i32', (x) => -x | 0)],
  [0xa3, allTrue('i32')], [0xa4, bitmask('i32')],
  [0xa7, extend('i16', 'i32', false)], [0xa8, extend('i16', 'i32', true)], [0xa9, extend('u16', 'i32', false)], [0xaa, extend('u16', 'i32', true)],
  ...shifts(32).map((op, k): [number, SimdOp] => [0xab + k, op]),
  [0xae, binary('i32', (x, y) => (x + y) | 0)], [0xb1, binary('i32', (x, y) => (x - y) | 0)],
  [0xb5, binary('i32', Math.imul)],
  [0xb6, binary('i32', Math.min)], [0xb7, binary('u32', Math.min)], [0xb8, binary('i32', Math.max)], [0xb9, binary('u32', Math.max)],
  [0xba, crossLane('i32', 4, (v, i, a, b) => {
    const t = v.i16;
    return (t[4 * a + 2 * i] * t[4 * b + 2 * i] + t[4 * a + 2 * i + 1] * t[4 * b + 2 * i + 1]) | 0;
  })],
  [0xbc, extmul('i16', 'i32', false)], [0xbd, extmul('i16', 'i32', true)], [0xbe, extmul('u16', 'i32', false)], [0xbf, extmul('u16', 'i32', true)],
  [0xc0, unary64((x) => (x < 0n ? -x : x))], [0xc1, unary64((x) => -x)],
  [0xc3, (v, dst, a) => { v.i32[2 * dst] = v.i64[a] !== 0n && v.i64[a + 1] !== 0n ? 1 : 0; }],
  [0xc4, (v, dst, a) => { v.i32[2 * dst] = (v.i64[a] < 0n ? 1 : 0) | (v.i64[a + 1] < 0n ? 2 : 0); }],
  [0xc7, extend64('i32', false)], [0xc8, extend64('i32', true)], [0xc9, extend64('u32', false)], [0xca, extend64('u32', true)],
  ...shifts64().map((op, k): [number, SimdOp] => [0xcb + k, op]),
  [0xce, binary64('i64', (x, y) => x + y)], [0xd1, binary64('i64', (x, y) => x - y)], [0xd5, binary64('i64', (x, y) => x * y)],
  [0xd6, compare64((x, y) => x === y)], [0xd7, compare64((x, y) => x !== y)],
  [0xd8, compare64((x, y) => x < y)], [0xd9, compare64((x, y) => x > y)],
  [0xda, compare64((x, y) => x <= y)], [0xdb, compare64((x, y) => x >= y)],
  [0xdc, extmul64('i32', false)], [0xdd, extmul64('i32', true)], [0xde, extmul64('u32', false)], [0xdf, extmul64('u32', true)],
  [0xe0, f32Abs], [0xe1, f32Neg], [0xe3, unary('f32', Math.sqrt)],
  [0xe4, binary('f32', (x, y) => x + y)], [0xe5, binary('f32', (x, y) => x - y)],
  [0xe6, binary('f32', (x, y) => x * y)], [0xe7, binary('f32', (x, y) => x / y)],
  [0xe8, binary('f32', fmin)], [0xe9, binary('f32', fmax)],
  [0xea, pick('f32', 'i32', (x, y) => y < x)], [0xeb, pick('f32', 'i32', (x, y) => x < y)],
  [0xec, f64Abs], [0xed, f64Neg], [0xef, unary('f64', Math.sqrt)],
  [0xf0, binary('f64', (x, y) => x + y)], [0xf1, binary('f64', (x, y) => x - y)],
  [0xf2, binary('f64', (x, y) => x * y)], [0xf3, binary('f64', (x, y) => x / y)],
  [0xf4, binary('f64', fmin)], [0xf5, binary('f64', fmax)],
  [0xf6, pick('f64', 'i64', (x, y) => y < x)], [0xf7, pick('f64', 'i64', (x, y) => x < y)],
  [0xf8, (v, dst, a) => { for (let i = 0; i < 4; i++) v.i32[2 * dst + i] = truncSatI32S(v.f32[2 * a + i]); }],
  [0xf9, (v, dst, a) => { for (let i = 0; i < 4; i++) v.i32[2 * dst + i] = truncSatI32U(v.f32[2 * a + i]); }],
  [0xfa, (v, dst, a) => { for (let i = 0; i < 4; i++) v.f32[2 * dst + i] = v.i32[2 * a + i]; }],
  [0xfb, (v, dst, a) => { for (let i = 0; i < 4; i++) v.f32[2 * dst + i] = v.u32[2 * a + i]; }],
  [0xfc, (v, dst, a) => {
    const x0 = truncSatI32S(v.f64[a]), x1 = truncSatI32S(v.f64[a + 1]);
    v.i32[2 * dst] = x0; v.i32[2 * dst + 1] = x1; v.i32[2 * dst + 2] = 0; v.i32[2 * dst + 3] = 0;
  }],
  [0xfd, (v, dst, a) => {
    const x0 = truncSatI32U(v.f64[a]), x1 = truncSatI32U(v.f64[a + 1]);
    v.i32[2 * dst] = x0; v.i32[2 * dst + 1] = x1; v.i32[2 * dst + 2] = 0; v.i32[2 * dst + 3] = 0;
  }],
  [0xfe, (v, dst, a) => { const x0 = v.i32[2 * a], x1 = v.i32[2 * a + 1]; v.f64[dst] = x0; v.f64[dst + 1] = x1; }],
  [0xff, (v, dst, a) => { const x0 = v.u32[2 * a], x1 = v.u32[2 * a + 1]; v.f64[dst] = x0; v.f64[dst + 1] = x1; }],
];

/** The operation of each non-memory SIMD instruction, by sub-opcode; undefined for memory ones, `v128.const` and shuffle. */
export const SIMD_OPS: (SimdOp | undefined)[] = new Array(0x100).fill(undefined);
for (const [sub, op] of SIMD_TABLE) if (sub !== 0x0d) SIMD_OPS[sub] = op;

/** i8x16.shuffle: lane i of the result is lane `lanes[i]` of the 32 lanes of `a` then `b`. */
export function shuffle(v: V128Lanes, dst: number, a: number, b: number, lanes: ArrayLike<number>): void {
  const s = v.scratch.u8;
  for (let i = 0; i < 16; i++) { const k = lanes[i]; s[i] = k < 16 ? v.u8[8 * a + k] : v.u8[8 * b + k - 16]; }
  v.fromScratch(dst);
}
