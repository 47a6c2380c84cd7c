/**
 * Typed views of the value stack for SIMD: a v128 takes two adjacent 8-byte slots (16
 * bytes, little-endian lanes, as the spec lays out a v128 in memory), so every lane
 * shape is one typed array over the same buffer, indexed from a slot number. Scalars
 * keep the layout the run loops use: i32/f32 in the low 4 bytes of a slot, i64/f64 in
 * the whole slot.
 */
export class V128Lanes {
  readonly i8: Int8Array;
  readonly u8: Uint8Array;
  readonly i16: Int16Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i64: BigInt64Array;
  readonly u64: BigUint64Array;
  /** 16 bytes where cross-lane operations build a result before it replaces an operand. */
  readonly scratch = new V128Scratch();

  constructor(buffer: ArrayBufferLike) {
    this.i8 = new Int8Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.i16 = new Int16Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.u64 = new BigUint64Array(buffer);
  }

  /** Copies the 16 bytes of the scratch into the v128 at `slot`. */
  fromScratch(slot: number): void {
    const s = this.scratch.u32;
    const base = 2 * slot;
    this.u32[base] = s[0]; this.u32[base + 1] = s[1]; this.u32[base + 2] = s[2]; this.u32[base + 3] = s[3];
  }
}

/** Views of one 16-byte buffer (see {@link V128Lanes.scratch}). */
export class V128Scratch {
  readonly buffer = new ArrayBuffer(16);
  readonly i8 = new Int8Array(this.buffer);
  readonly u8 = new Uint8Array(this.buffer);
  readonly i16 = new Int16Array(this.buffer);
  readonly u16 = new Uint16Array(this.buffer);
  readonly i32 = new Int32Array(this.buffer);
  readonly u32 = new Uint32Array(this.buffer);
  readonly f32 = new Float32Array(this.buffer);
  readonly f64 = new Float64Array(this.buffer);
  readonly i64 = new BigInt64Array(this.buffer);
}
