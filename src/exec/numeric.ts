import { Trap } from '../errors/index.ts';

/**
 * Numeric helpers the run loop calls for the rarer or longer operations; the common
 * ones are written inline in the loop. Spec: https://webassembly.github.io/spec/core/exec/numerics.html
 */

export function trapDivideByZero(): never {
  throw new Trap('integer divide by zero');
}
export function trapIntegerOverflow(): never {
  throw new Trap('integer overflow');
}
export function trapInvalidConversion(): never {
  throw new Trap('invalid conversion to integer');
}
/** The trap of a float-to-integer truncation whose operand is out of range (or NaN), to throw. */
export function conversionTrap(x: number): Trap {
  return new Trap(x !== x ? 'invalid conversion to integer' : 'integer overflow');
}

export function popcnt32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/** Round to nearest, ties to even (spec "fnearest"); keeps the sign of zero. */
export function nearest(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const t = Math.trunc(x);
  const frac = x - t;
  if (frac === 0.5 || frac === -0.5) {
    const r = t % 2 === 0 ? t : t + Math.sign(frac);
    return r === 0 ? (x < 0 ? -0 : 0) : r;
  }
  const r = Math.round(x);
  return r === 0 && x < 0 ? -0 : r;
}

/** Truncation to i32 (signed) that traps as the spec says. */
export function truncI32S(x: number): number {
  if (x !== x) trapInvalidConversion();
  if (!(x > -2147483649 && x < 2147483648)) trapIntegerOverflow();
  return x | 0;
}
export function truncI32U(x: number): number {
  if (x !== x) trapInvalidConversion();
  if (!(x > -1 && x < 4294967296)) trapIntegerOverflow();
  return Math.trunc(x) | 0;
}
export function truncSatI32S(x: number): number {
  if (x !== x) return 0;
  if (x <= -2147483648) return -2147483648;
  if (x >= 2147483647) return 2147483647;
  return x | 0;
}
export function truncSatI32U(x: number): number {
  if (x !== x || x <= 0) return 0;
  if (x >= 4294967295) return -1;
  return Math.trunc(x) | 0;
}

const TWO_63 = 9223372036854775808;
const TWO_64 = 18446744073709551616;

export function truncI64S(x: number): bigint {
  if (x !== x) trapInvalidConversion();
  if (!(x >= -TWO_63 && x < TWO_63)) trapIntegerOverflow();
  return BigInt(Math.trunc(x));
}
export function truncI64U(x: number): bigint {
  if (x !== x) trapInvalidConversion();
  if (!(x > -1 && x < TWO_64)) trapIntegerOverflow();
  return BigInt(Math.trunc(x));
}
export function truncSatI64S(x: number): bigint {
  if (x !== x) return 0n;
  if (x <= -TWO_63) return -0x8000000000000000n;
  if (x >= TWO_63) return 0x7fffffffffffffffn;
  return BigInt(Math.trunc(x));
}
export function truncSatI64U(x: number): bigint {
  if (x !== x || x <= -1) return 0n;
  if (x >= TWO_64) return 0xffffffffffffffffn;
  return BigInt(Math.trunc(x));
}

/**
 * i64 -> f32 with a single rounding. Going through f64 would round twice; keeping the
 * discarded low bits as one sticky bit makes the f64 exact, so only the f32 store rounds.
 */
export function i64ToF32(x: bigint, unsigned: boolean): number {
  let v = x;
  let negative = false;
  if (!unsigned && v < 0n) {
    negative = true;
    v = -v;
  }
  if (v < 0x20000000000000n) return Math.fround(negative ? -Number(v) : Number(v));
  let shift = 0n;
  while (v >> shift >= 0x20000000000000n) shift++;
  const kept = v >> shift;
  const sticky = (v & ((1n << shift) - 1n)) !== 0n ? 1n : 0n;
  const approx = Number(kept | sticky) * 2 ** Number(shift);
  return Math.fround(negative ? -approx : approx);
}

const f32Scratch = new Float32Array(1);
const i32Scratch = new Int32Array(f32Scratch.buffer);

/** f32 bits -> number (exact). */
export function f32FromBits(bits: number): number {
  i32Scratch[0] = bits;
  return f32Scratch[0];
}
