/**
 * Values between the interpreter's forms and the native side's: slot bits (two int32s
 * per value, four for a v128), canonical values (snapshots), and what V8's functions
 * take and return (i64 as bigint; floats as numbers, or as raw bits through the `c<i>`
 * entries, so that NaN payloads survive; a v128, which JS cannot hold, as two i64
 * halves through the entries; references as the native function objects or host values).
 */
import { LinkError, Trap } from '../errors/index.ts';
import type { StoreState } from '../exec/index.ts';
import { externId } from '../runtime/index.ts';
import type { FuncRef } from '../runtime/index.ts';
import type { CanonicalValue, IndexSpace } from '../snapshot/index.ts';
import { ValType } from '../wasm/index.ts';

/** A 64-bit pattern from its two halves. */
export function bits64(lo: number, hi: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}

/** A v128 as the snapshot carries it (16 bytes in memory order) from its two i64 halves, low first. */
export function v128FromHalves(lo: bigint, hi: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const view = new BigInt64Array(out.buffer);
  view[0] = lo;
  view[1] = hi;
  return out;
}

/** The two i64 halves (low first) of a v128 given as its 16 bytes, onto `out`. */
function pushHalves(bytes: Uint8Array, out: unknown[]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  out.push(view.getBigInt64(0, true), view.getBigInt64(8, true));
}

/** The conversions of one store's native tier (its function objects are its references). */
export class NativeValues {
  /** For float <-> bits conversions. */
  private readonly scratch = new DataView(new ArrayBuffer(8));

  constructor(
    readonly state: StoreState,
    /** By function address: the function as a native value (what tables hold). */
    readonly funcObjects: (Function | undefined)[],
    /** The function address of each native function value. */
    readonly addrOf: Map<unknown, number>,
  ) {}

  /** A JS value for the native side from slot bits (`entry`: float values as raw bits, as the `c<i>` entries take them). */
  bitsToValue(type: number, lo: number, hi: number, entry: boolean): unknown {
    switch (type) {
      case ValType.i32: return lo | 0;
      case ValType.i64: return bits64(lo, hi);
      case ValType.f32:
        if (entry) return lo | 0;
        this.scratch.setInt32(0, lo, true);
        return this.scratch.getFloat32(0, true);
      case ValType.f64:
        if (entry) return bits64(lo, hi);
        this.scratch.setInt32(0, lo, true);
        this.scratch.setInt32(4, hi, true);
        return this.scratch.getFloat64(0, true);
      case ValType.funcref: case ValType.externref: return this.refToValue(type, lo);
      default: throw new TypeError(`native tier: cannot pass a value of type 0x${type.toString(16)}`);
    }
  }

  /** Slot bits of a native value (float values as numbers; see `entryToSlots`) into `out[index]`, `out[index + 1]`. */
  valueToBits(type: number, v: unknown, out: Int32Array, index: number): void {
    let lo = 0, hi = 0;
    switch (type) {
      case ValType.i32: lo = v as number; break;
      case ValType.i64: lo = Number(BigInt.asIntN(32, v as bigint)); hi = Number(BigInt.asIntN(32, (v as bigint) >> 32n)); break;
      case ValType.f32: this.scratch.setFloat32(0, v as number, true); lo = this.scratch.getInt32(0, true); break;
      case ValType.f64: this.scratch.setFloat64(0, v as number, true); lo = this.scratch.getInt32(0, true); hi = this.scratch.getInt32(4, true); break;
      default: lo = this.valueToRef(type, v);
    }
    out[index] = lo;
    out[index + 1] = hi;
  }

  /**
   * Appends the values an entry (`c<i>`, a resume clone's `run`) takes for a value of
   * type `type` in slots from word `at` of `words`: one, or two i64 halves for a v128.
   * Returns the word after the value.
   */
  slotsToEntry(type: number, words: Int32Array, at: number, out: unknown[]): number {
    if (type === ValType.v128) {
      out.push(bits64(words[at], words[at + 1]), bits64(words[at + 2], words[at + 3]));
      return at + 4;
    }
    out.push(this.bitsToValue(type, words[at], words[at + 1], true));
    return at + 2;
  }

  /**
   * Writes values an entry returned (`list`: as {@link slotsToEntry} passes them, a v128
   * as two halves) into slots from word `index` of `out`, by their types.
   */
  entryListToSlots(types: readonly number[], list: readonly unknown[], out: Int32Array, index: number): void {
    let k = 0;
    for (const type of types) {
      if (type === ValType.v128) {
        this.entryToSlots(ValType.i64, list[k++], out, index);
        this.entryToSlots(ValType.i64, list[k++], out, index + 2);
        index += 4;
      } else {
        this.entryToSlots(type, list[k++], out, index);
        index += 2;
      }
    }
  }

  /** Writes a value returned by an entry (`c<i>`: floats as raw bits) into slots. */
  entryToSlots(type: number, v: unknown, out: Int32Array, index: number): void {
    switch (type) {
      case ValType.i32: case ValType.f32: out[index] = v as number; out[index + 1] = 0; return;
      case ValType.i64: case ValType.f64:
        out[index] = Number(BigInt.asIntN(32, v as bigint));
        out[index + 1] = Number(BigInt.asIntN(32, (v as bigint) >> 32n));
        return;
      default: out[index] = this.valueToRef(type, v); out[index + 1] = 0;
    }
  }

  /** A slot-encoded reference (0 null, else address or extern id + 1) as a native value. */
  refToValue(type: number, ref: number): unknown {
    if (ref === 0) return null;
    if (type === ValType.externref) return this.state.externs[ref - 1];
    const obj = this.funcObjects[ref - 1];
    if (obj === undefined) throw new LinkError(`native tier: function address ${ref - 1} has no native twin`);
    return obj;
  }

  /** A native reference value slot-encoded (see `refToValue`). */
  valueToRef(type: number, v: unknown): number {
    if (v === null || v === undefined) return 0;
    if (type === ValType.externref) return externId(this.state, v) + 1;
    const addr = this.addrOf.get(v);
    if (addr === undefined) throw new LinkError('native tier: a function reference without an interpreter twin');
    return addr + 1;
  }

  /** A native function value as the FuncRef handle host functions get. */
  toFuncRef(v: unknown): FuncRef | null {
    if (v === null || v === undefined) return null;
    const addr = this.addrOf.get(v);
    if (addr === undefined) throw new Trap('native tier: unknown function reference');
    return { funcAddr: addr };
  }

  /** A FuncRef handle back as the native function value. */
  fromFuncRef(v: unknown): unknown {
    if (v === null || v === undefined) return null;
    return this.funcObjects[(v as FuncRef).funcAddr] ?? null;
  }

  /** Appends a canonical value as an entry takes it (floats as raw bits, a v128 as two i64 halves). */
  pushCanonical(type: number, v: CanonicalValue, space: IndexSpace, out: unknown[]): void {
    if (type === ValType.v128) pushHalves(v as Uint8Array, out);
    else out.push(this.canonicalToValue(type, v, space));
  }

  /** A canonical value as the native side takes it (floats as raw bits; not a v128: see {@link pushCanonical}). */
  canonicalToValue(type: number, v: CanonicalValue, space: IndexSpace): unknown {
    switch (type) {
      case ValType.i32: return v as number;
      case ValType.f32: return (v as number) | 0;
      case ValType.i64: return v as bigint;
      case ValType.f64: return BigInt.asIntN(64, v as bigint);
      case ValType.funcref: return v === null ? null : this.refToValue(type, space.funcs[v as number] + 1);
      case ValType.externref: return v === null ? null : this.state.externs[v as number];
      default: throw new TypeError(`native tier: cannot pass a value of type 0x${type.toString(16)}`);
    }
  }

  /** A native value as a canonical (snapshot) value in the terms of `space`. */
  canonical(type: number, v: unknown, space: IndexSpace): CanonicalValue {
    switch (type) {
      case ValType.i32: return (v as number) | 0;
      case ValType.f32: return (v as number) >>> 0;
      case ValType.i64: return BigInt.asIntN(64, v as bigint);
      case ValType.f64: return BigInt.asUintN(64, v as bigint);
      case ValType.funcref: {
        if (v === null) return null;
        const addr = this.addrOf.get(v);
        const index = addr === undefined ? -1 : space.funcIndexOf[addr];
        if (index === undefined || index < 0) throw new LinkError('native tier: a function reference outside the index space');
        return index;
      }
      case ValType.externref: return v === null || v === undefined ? null : externId(this.state, v);
      // Saved by `sv` as its 16 bytes already (see `v128FromHalves`).
      case ValType.v128: return v as Uint8Array;
      default: throw new TypeError(`native tier: cannot capture a value of type 0x${type.toString(16)}`);
    }
  }
}
