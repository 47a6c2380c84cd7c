import { ValType } from '../wasm/index.ts';
import type { ByteWriter } from '../binary/index.ts';
import { v128Halves, v128Zero } from './entry-code.ts';
import type { HelperIndices } from './rewrite-function.ts';

/** What the save sequence after `$save` writes: the frame, then every local and scratch local. */
export interface SavedFrame {
  funcIndex: number;
  /** The `$site` local. */
  siteLocal: number;
  /** Types of the function's locals (parameters first), saved from local 0. */
  localTypes: readonly number[];
  /** The first scratch local, and the types of the scratch locals. */
  scratchBase: number;
  scratchTypes: readonly number[];
  /** The function's results: zeros of these end the sequence. */
  results: readonly number[];
}

/**
 * The save sequence that safepoints branch to: `frame(funcIndex, $site)`, then each local
 * and scratch local through the helper of its type (floats as raw bits, a v128 as two
 * i64 halves), then zeros of the function's results; `end` closes the function.
 */
export function writeSaveSequence(out: ByteWriter, h: HelperIndices, frame: SavedFrame): void {
  out.u8(0x41).s32(frame.funcIndex).u8(0x20).u32(frame.siteLocal).u8(0x10).u32(h.frame);
  const saveLocal = (index: number, t: number): void => {
    if (t === ValType.v128) {
      // JS cannot hold a v128: it leaves as its two i64 halves.
      v128Halves(out, index);
      out.u8(0x10).u32(h.saveV128);
      return;
    }
    out.u8(0x20).u32(index);
    switch (t) {
      case ValType.i32: out.u8(0x10).u32(h.saveI32); break;
      case ValType.f32: out.u8(0xbc).u8(0x10).u32(h.saveI32); break;
      case ValType.i64: out.u8(0x10).u32(h.saveI64); break;
      case ValType.f64: out.u8(0xbd).u8(0x10).u32(h.saveI64); break;
      case ValType.funcref: out.u8(0x10).u32(h.saveRef); break;
      case ValType.externref: out.u8(0x10).u32(h.saveExt); break;
      default: throw new Error(`internal: cannot save a local of type 0x${t.toString(16)}`);
    }
  };
  for (let i = 0; i < frame.localTypes.length; i++) saveLocal(i, frame.localTypes[i]);
  for (let s = 0; s < frame.scratchTypes.length; s++) saveLocal(frame.scratchBase + s, frame.scratchTypes[s]);
  for (const t of frame.results) zero(out, t);
  out.u8(0x0b);
}

/** Pushes the zero value of a type. */
export function zero(out: ByteWriter, t: number): void {
  switch (t) {
    case ValType.i32: out.u8(0x41).s32(0); break;
    case ValType.i64: out.u8(0x42).s32(0); break;
    case ValType.f32: out.u8(0x43).raw([0, 0, 0, 0]); break;
    case ValType.f64: out.u8(0x44).raw([0, 0, 0, 0, 0, 0, 0, 0]); break;
    case ValType.funcref: case ValType.externref: out.u8(0xd0).u8(t); break;
    case ValType.v128: v128Zero(out); break;
    default: throw new Error(`internal: no zero of type 0x${t.toString(16)}`);
  }
}
