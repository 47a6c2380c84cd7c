/**
 * How values cross between JavaScript and rewritten code, and the Wasm code on the
 * Wasm side of that crossing. JS calls into rewritten code through entries that take
 * and return raw bits, never the values themselves: an f32 as its i32 bits, an f64 as
 * its i64 bits (a JS number would canonicalize a NaN's payload), and a v128, which the
 * JS API cannot carry at all (V8 throws a `TypeError`), as two i64 halves, lanes 0-7
 * of its bytes first. The same pairs carry a v128 that a frame saves while unwinding
 * and a mutable v128 global read or written by the host.
 */
import { ValType } from '../wasm/index.ts';
import type { FuncType } from '../wasm/index.ts';
import { ByteWriter } from '../binary/index.ts';

const SIMD = 0xfd;
/** Sub-opcodes of the SIMD prefix the entries use (spec 5.4.8). */
const V128_CONST = 0x0c;
const I64X2_EXTRACT_LANE = 0x1d;
const I64X2_REPLACE_LANE = 0x1e;

/** The types an entry passes for `types`: f32 as i32, f64 as i64, v128 as two i64, the others as they are. */
export function entryTypes(types: readonly number[]): number[] {
  const out: number[] = [];
  for (const t of types) {
    if (t === ValType.v128) out.push(ValType.i64, ValType.i64);
    else out.push(t === ValType.f32 ? ValType.i32 : t === ValType.f64 ? ValType.i64 : t);
  }
  return out;
}

/** Whether a value of type `t` needs an entry to cross to JS bit-exactly (or at all). */
export function crossesAsBits(t: number): boolean {
  return t === ValType.f32 || t === ValType.f64 || t === ValType.v128;
}

/** Whether calls of type `ft` from JS need an entry (see {@link bitsEntry}). */
export function needsEntry(ft: FuncType): boolean {
  return ft.params.some(crossesAsBits) || ft.results.some(crossesAsBits);
}

/** `v128.const 0`. */
export function v128Zero(out: ByteWriter): void {
  out.u8(SIMD).u32(V128_CONST);
  for (let i = 0; i < 16; i++) out.u8(0);
}

/** Pushes the two i64 halves of the v128 in local `index`, the low one first. */
export function v128Halves(out: ByteWriter, index: number): void {
  out.u8(0x20).u32(index).u8(SIMD).u32(I64X2_EXTRACT_LANE).u8(0);
  out.u8(0x20).u32(index).u8(SIMD).u32(I64X2_EXTRACT_LANE).u8(1);
}

/** Pushes the v128 made of the i64 halves in locals `lo` and `lo + 1`. */
export function v128FromHalves(out: ByteWriter, lo: number): void {
  v128Zero(out);
  out.u8(0x20).u32(lo).u8(SIMD).u32(I64X2_REPLACE_LANE).u8(0);
  out.u8(0x20).u32(lo + 1).u8(SIMD).u32(I64X2_REPLACE_LANE).u8(1);
}

/**
 * The body of an entry to `callee` (of type `ft`): its type is `ft` through
 * {@link entryTypes}; it rebuilds each value from its bits, calls, and returns the
 * results as bits (v128 results as two i64 each, low half first).
 */
export function bitsEntry(ft: FuncType, callee: number): ByteWriter {
  const b = new ByteWriter();
  // One local per result, of the result's own type, after the entry's parameters.
  b.u32(ft.results.length);
  for (const t of ft.results) b.u32(1).u8(t);
  let p = 0;
  for (const t of ft.params) {
    if (t === ValType.v128) {
      v128FromHalves(b, p);
      p += 2;
      continue;
    }
    b.u8(0x20).u32(p++);
    if (t === ValType.f32) b.u8(0xbe);
    else if (t === ValType.f64) b.u8(0xbf);
  }
  b.u8(0x10).u32(callee);
  const base = p;
  for (let r = ft.results.length - 1; r >= 0; r--) b.u8(0x21).u32(base + r);
  ft.results.forEach((t, r) => {
    if (t === ValType.v128) return v128Halves(b, base + r);
    b.u8(0x20).u32(base + r);
    if (t === ValType.f32) b.u8(0xbc);
    else if (t === ValType.f64) b.u8(0xbd);
  });
  b.u8(0x0b);
  return b;
}
