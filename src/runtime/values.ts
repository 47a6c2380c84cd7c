import { isRefType, refNullable, refStorageType, ValType, valTypeName } from '../wasm/index.ts';
import type { StoreState } from '../exec/index.ts';

/**
 * Conversions between the raw 64-bit slot contents and JS values. Raw values are
 * `bigint` bit patterns (unsigned 64 bit) so that NaN payloads and i64 survive intact;
 * JS values follow the WebAssembly JS API (i32 number, i64 bigint, f32/f64 number,
 * funcref: a `FuncRef` handle or null, externref: any JS value, null for null).
 */

/** A function reference handed to JS: the store-wide address of the function. */
export interface FuncRef {
  /** The function's address in the store. */
  readonly funcAddr: number;
}

const scratch = new DataView(new ArrayBuffer(8));

export function bitsToJs(store: StoreState, type: number, lo: number, hi: number): unknown {
  // A typed reference (Wasm 3.0) is a funcref or externref to JavaScript.
  switch (refStorageType(type)) {
    case ValType.i32: return lo | 0;
    case ValType.i64: return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
    case ValType.f32: scratch.setInt32(0, lo, true); return scratch.getFloat32(0, true);
    case ValType.f64: scratch.setInt32(0, lo, true); scratch.setInt32(4, hi, true); return scratch.getFloat64(0, true);
    case ValType.funcref: return lo === 0 ? null : ({ funcAddr: lo - 1 } satisfies FuncRef);
    case ValType.externref: return lo === 0 ? null : store.externs[lo - 1];
    case ValType.v128: throw new TypeError('a v128 cannot cross to JavaScript (the WebAssembly JS API has no value for it)');
    default: throw new TypeError(`cannot convert a value of type 0x${type.toString(16)}`);
  }
}

/** Writes a JS value of the given type as (lo, hi) into `out`. */
export function jsToBits(store: StoreState, type: number, value: unknown, out: Int32Array, index: number): void {
  let lo = 0, hi = 0;
  if ((value === null || value === undefined) && isRefType(type) && !refNullable(type)) {
    throw new TypeError(`null is not a value of type ${valTypeName(type)}`);
  }
  switch (refStorageType(type)) {
    case ValType.i32: lo = Number(value) | 0; break;
    case ValType.i64: {
      const v = BigInt.asIntN(64, typeof value === 'bigint' ? value : BigInt(value as number));
      lo = Number(v & 0xffffffffn) | 0;
      hi = Number(v >> 32n) | 0;
      break;
    }
    case ValType.f32: scratch.setFloat32(0, Number(value), true); lo = scratch.getInt32(0, true); break;
    case ValType.f64: scratch.setFloat64(0, Number(value), true); lo = scratch.getInt32(0, true); hi = scratch.getInt32(4, true); break;
    case ValType.funcref:
      lo = value === null || value === undefined ? 0 : (value as FuncRef).funcAddr + 1;
      break;
    case ValType.externref:
      lo = value === null || value === undefined ? 0 : externId(store, value) + 1;
      break;
    case ValType.v128: throw new TypeError('a v128 cannot come from JavaScript (the WebAssembly JS API has no value for it)');
    default: throw new TypeError(`cannot convert a value to type 0x${type.toString(16)}`);
  }
  out[index] = lo;
  out[index + 1] = hi;
}

/** The id of a host value in the store's extern table; the same value keeps its id. */
export function externId(store: StoreState, value: unknown): number {
  const known = store.externIds.get(value);
  if (known !== undefined) return known;
  const id = store.externs.push(value) - 1;
  store.externIds.set(value, id);
  return id;
}

export function bitsToBigInt(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * The results of a call from the value stack (slots from `base`), as JS values. A v128
 * has no JS API value; it comes back as its 128 bits in a bigint (lane 0 lowest), the
 * raw form `Store.invokeRaw` uses, rather than failing a call that has finished.
 */
export function resultsToJs(store: StoreState, types: readonly number[], s32: Int32Array, base: number): unknown[] {
  const out = new Array(types.length);
  let at = 2 * base;
  for (let i = 0; i < types.length; i++) {
    if (types[i] === ValType.v128) {
      out[i] = (bitsToBigInt(s32[at + 2], s32[at + 3]) << 64n) | bitsToBigInt(s32[at], s32[at + 1]);
      at += 4;
    } else {
      out[i] = bitsToJs(store, types[i], s32[at], s32[at + 1]);
      at += 2;
    }
  }
  return out;
}
