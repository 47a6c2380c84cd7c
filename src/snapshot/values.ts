/**
 * Values between their slot form (two int32 words: lo, hi; references as address + 1)
 * and their canonical form (see `CanonicalValue`).
 */
import { SnapshotError } from '../errors/index.ts';
import { ValType, valTypeName } from '../wasm/index.ts';
import type { CanonicalValue } from './canonical.ts';
import type { IndexSpace } from './space.ts';

const TWO32 = 4294967296;
const I64_MIN = -(2n ** 63n);
const I64_END = 2n ** 63n;
const U64_END = 2n ** 64n;

// 64-bit values move through these views: no BigInt arithmetic, no intermediate BigInts.
const scratch = new ArrayBuffer(8);
const scratchI32 = new Int32Array(scratch);
const scratchI64 = new BigInt64Array(scratch);
const scratchU64 = new BigUint64Array(scratch);

/** A slot's bits as a canonical value of type `type`. */
export function toCanonical(type: number, lo: number, hi: number, space: IndexSpace): CanonicalValue {
  switch (type) {
    case ValType.i32: return lo | 0;
    case ValType.f32: return lo >>> 0;
    case ValType.i64:
      if ((hi === 0 && lo >= 0) || (hi === -1 && lo < 0)) return BigInt(lo);
      scratchI32[0] = lo; scratchI32[1] = hi;
      return scratchI64[0];
    case ValType.f64:
      scratchI32[0] = lo; scratchI32[1] = hi;
      return scratchU64[0];
    case ValType.funcref: {
      if (lo === 0) return null;
      const index = lo - 1 < space.funcIndexOf.length ? space.funcIndexOf[lo - 1] : -1;
      if (index < 0) throw new SnapshotError(`a reference to function address ${lo - 1}, which is outside the snapshot's module`);
      return index;
    }
    case ValType.externref: return lo === 0 ? null : lo - 1;
    case ValType.exnref:
      if (lo === 0) return null;
      if (space.exceptions === undefined) throw new SnapshotError('cannot capture an exnref outside a whole state\'s capture');
      return space.exceptions.idOf(lo - 1);
    default: throw new SnapshotError(`cannot capture a value of type ${valTypeName(type)}`);
  }
}

/**
 * The value of type `type` in the slot starting at word `word` of `s32`: a v128 (two
 * slots) as its 16 bytes in memory order, every other type as {@link toCanonical} says.
 */
export function slotToCanonical(type: number, s32: Int32Array, word: number, space: IndexSpace): CanonicalValue {
  if (type === ValType.v128) return v128Bytes(s32[word], s32[word + 1], s32[word + 2], s32[word + 3]);
  return toCanonical(type, s32[word], s32[word + 1], space);
}

/** A v128 from its four little-endian words, as the 16 bytes a snapshot carries. */
export function v128Bytes(w0: number, w1: number, w2: number, w3: number): Uint8Array {
  const out = new Uint8Array(16);
  const words = new Int32Array(out.buffer);
  words[0] = w0; words[1] = w1; words[2] = w2; words[3] = w3;
  return out;
}

/** Limits a restore checks references against. */
export interface RefLimits {
  /** Functions in the space. */
  funcs: number;
  /** Extern ids known. */
  externs: number;
  /** Exceptions the state carries (see `exceptions.ts`); absent: none. */
  exceptions?: number;
  /** Store index of the state's first exception. */
  exceptionBase?: number;
}

function fail(where: string, type: number, v: unknown): never {
  const shown = typeof v === 'bigint' ? `${v}n` : typeof v === 'object' && v !== null ? 'an object' : String(v);
  throw new SnapshotError(`${where}: ${shown} is not a valid ${valTypeName(type)} value`);
}

/**
 * Checks an untrusted canonical value against its type and writes its bits into
 * `out[index]`, `out[index + 1]` (and `out[index + 2]`, `out[index + 3]` for a v128).
 * References are mapped through `space` to addresses.
 */
export function writeCanonical(type: number, v: unknown, space: IndexSpace, limits: RefLimits, out: Int32Array, index: number, where: string): void {
  let lo = 0, hi = 0;
  switch (type) {
    case ValType.v128: {
      if (!(v instanceof Uint8Array) || v.length !== 16) fail(where, type, v);
      const b = v as Uint8Array;
      for (let w = 0; w < 4; w++) out[index + w] = b[4 * w] | (b[4 * w + 1] << 8) | (b[4 * w + 2] << 16) | (b[4 * w + 3] << 24);
      return;
    }
    case ValType.i32:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) fail(where, type, v);
      lo = v;
      break;
    case ValType.f32:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= TWO32) fail(where, type, v);
      lo = v | 0;
      break;
    case ValType.i64:
      if (typeof v !== 'bigint' || v < I64_MIN || v >= I64_END) fail(where, type, v);
      scratchI64[0] = v;
      lo = scratchI32[0]; hi = scratchI32[1];
      break;
    case ValType.f64:
      if (typeof v !== 'bigint' || v < 0n || v >= U64_END) fail(where, type, v);
      scratchU64[0] = v;
      lo = scratchI32[0]; hi = scratchI32[1];
      break;
    case ValType.funcref:
      if (v !== null) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= limits.funcs) fail(where, type, v);
        lo = space.funcs[v] + 1;
      }
      break;
    case ValType.externref:
      if (v !== null) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= limits.externs) fail(where, type, v);
        lo = v + 1;
      }
      break;
    case ValType.exnref:
      if (v !== null) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= (limits.exceptions ?? 0)) fail(where, type, v);
        lo = (limits.exceptionBase ?? 0) + v + 1;
      }
      break;
    default:
      throw new SnapshotError(`${where}: values of type ${valTypeName(type)} cannot be restored`);
  }
  out[index] = lo;
  out[index + 1] = hi;
}
