/**
 * A cursor over module bytes with the spec's primitive decoders: bytes, LEB128 integers
 * with the spec's size limits, raw float bits and names.
 * Spec: https://webassembly.github.io/spec/core/binary/values.html
 *
 * Every failure is a `DecodeError` whose message starts with the text the spec test suite
 * expects (the reference interpreter's wording), followed by the byte offset.
 */
import { DecodeError } from '../errors/index.ts';
import { decodeUtf8 } from './utf8.ts';

/** Message for reading past the end of the bytes, as the reference interpreter words it. */
export const UNEXPECTED_END = 'unexpected end of section or function';

/**
 * Reads the binary from `pos` up to `end`. Fields are public so that hot loops (the
 * instruction reader) can work on them directly; methods advance `pos`.
 */
export class ByteReader {
  /** The whole module: offsets in errors and results are absolute. */
  readonly bytes: Uint8Array;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset just past the last readable byte. */
  end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  /** Throws the "unexpected end" error at the end of the readable range. */
  eof(): never {
    throw new DecodeError(UNEXPECTED_END, this.end);
  }

  /** True when every readable byte has been consumed. */
  atEnd(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    const p = this.pos;
    if (p >= this.end) this.eof();
    this.pos = p + 1;
    return this.bytes[p]!;
  }

  /** Little-endian 32-bit word, as a signed int32 (the raw bits of an f32). */
  u32le(): number {
    const p = this.pos;
    if (p + 4 > this.end) { this.pos = this.end; this.eof(); }
    const b = this.bytes;
    this.pos = p + 4;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  }

  /** Unsigned LEB128 of at most 32 bits (5 bytes, unused bits of the last byte zero). */
  u32(): number {
    const b = this.bytes;
    let p = this.pos;
    if (p >= this.end) this.eof();
    let byte = b[p++]!;
    if (byte < 0x80) { this.pos = p; return byte; }
    let result = byte & 0x7f;
    for (let shift = 7; ; shift += 7) {
      if (shift === 35) { this.pos = p; throw new DecodeError('integer representation too long', p); }
      if (p >= this.end) { this.pos = p; this.eof(); }
      byte = b[p++]!;
      if (shift === 28 && (byte & 0x70) !== 0) { this.pos = p; throw new DecodeError('integer too large', p - 1); }
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    this.pos = p;
    return result >>> 0;
  }

  /**
   * The one-bit unsigned LEB128 (`vu1`) the spec uses for limits flags: 0 or 1, any
   * other value is "integer too large", a continuation bit is "representation too long".
   */
  u1(): number {
    const start = this.pos;
    const byte = this.u8();
    if ((byte & 0x7f) > 1) throw new DecodeError('integer too large', start);
    if (byte & 0x80) throw new DecodeError('integer representation too long', this.pos);
    return byte;
  }

  /**
   * Unsigned LEB128 of at most 64 bits (memory64's memarg offsets and limits), as a
   * number: exact up to 2^53, rounded above. Every user compares it with sizes this
   * runtime can hold (at most 2^32 bytes or elements), so a rounded value above 2^53
   * decides the same way the exact one would.
   */
  u64(): number {
    const b = this.bytes;
    let p = this.pos;
    let result = 0;
    let scale = 1;
    for (let count = 0; ; count++) {
      if (count === 10) { this.pos = p; throw new DecodeError('integer representation too long', p); }
      if (p >= this.end) { this.pos = p; this.eof(); }
      const byte = b[p++]!;
      // The 10th byte holds only bit 63.
      if (count === 9 && (byte & 0x7e) !== 0) { this.pos = p; throw new DecodeError('integer too large', p - 1); }
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) break;
    }
    this.pos = p;
    return result;
  }

  /** Signed LEB128 of at most 32 bits, as an int32. */
  s32(): number {
    const b = this.bytes;
    let p = this.pos;
    let result = 0;
    let shift = 0;
    let byte: number;
    for (;;) {
      if (shift === 35) { this.pos = p; throw new DecodeError('integer representation too long', p); }
      if (p >= this.end) { this.pos = p; this.eof(); }
      byte = b[p++]!;
      if (shift === 28) {
        // Bits 3..6 of the last byte lie past bit 31: they must all copy the sign bit.
        const high = byte & 0x78;
        if (high !== 0 && high !== 0x78) { this.pos = p; throw new DecodeError('integer too large', p - 1); }
      }
      result |= (byte & 0x7f) << shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    this.pos = p;
    if (shift < 32 && (byte & 0x40) !== 0) result |= -1 << shift;
    return result | 0;
  }

  /**
   * Signed LEB128 of at most 33 bits (block types), as a number in [-2^32, 2^32).
   * Computed with floating-point arithmetic since the value may not fit an int32.
   */
  s33(): number {
    const b = this.bytes;
    let p = this.pos;
    let result = 0;
    let scale = 1;
    let byte: number;
    let count = 0;
    for (;;) {
      if (count === 5) { this.pos = p; throw new DecodeError('integer representation too long', p); }
      if (p >= this.end) { this.pos = p; this.eof(); }
      byte = b[p++]!;
      if (count === 4) {
        const high = byte & 0x70;
        if (high !== 0 && high !== 0x70) { this.pos = p; throw new DecodeError('integer too large', p - 1); }
      }
      result += (byte & 0x7f) * scale;
      scale *= 128;
      count++;
      if (byte < 0x80) break;
    }
    this.pos = p;
    if ((byte & 0x40) !== 0) result -= scale;
    return result;
  }

  /**
   * Signed LEB128 of at most 64 bits, split without BigInt into two int32 halves:
   * the low half is returned, the high half left in `hi`.
   */
  s64(): number {
    const b = this.bytes;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let byte: number;
    for (;;) {
      if (shift === 70) { this.pos = p; throw new DecodeError('integer representation too long', p); }
      if (p >= this.end) { this.pos = p; this.eof(); }
      byte = b[p++]!;
      const bits = byte & 0x7f;
      if (shift === 63) {
        // The 10th byte holds only bit 63: the other six must copy it.
        if (bits !== 0 && bits !== 0x7f) { this.pos = p; throw new DecodeError('integer too large', p - 1); }
      }
      if (shift < 32) {
        lo |= bits << shift;
        if (shift > 25) hi |= bits >>> (32 - shift);
      } else {
        hi |= bits << (shift - 32);
      }
      shift += 7;
      if (byte < 0x80) break;
    }
    this.pos = p;
    if ((byte & 0x40) !== 0 && shift < 64) {
      if (shift < 32) { lo |= -1 << shift; hi = -1; } else hi |= -1 << (shift - 32);
    }
    this.hi = hi | 0;
    return lo | 0;
  }

  /** High half of the last `s64()` result. */
  hi = 0;

  /**
   * A length (`len32` in the reference interpreter): a u32 that must not exceed the
   * bytes left, counted from the length field itself as the reference does.
   */
  len(): number {
    const start = this.pos;
    const n = this.u32();
    if (n > this.end - start) throw new DecodeError('length out of bounds', start);
    return n;
  }

  /** `n` raw bytes as a view into the module (no copy). */
  view(n: number): Uint8Array {
    const p = this.pos;
    if (p + n > this.end) { this.pos = this.end; this.eof(); }
    this.pos = p + n;
    return this.bytes.subarray(p, p + n);
  }

  /** Advances by `n` bytes, failing when they are not there. */
  skip(n: number): void {
    if (n < 0 || this.pos + n > this.end) { this.pos = this.end; this.eof(); }
    this.pos += n;
  }

  /** A name: a length-prefixed, well-formed UTF-8 string. */
  name(): string {
    const start = this.pos;
    const n = this.len();
    const p = this.pos;
    if (p + n > this.end) { this.pos = this.end; this.eof(); }
    this.pos = p + n;
    const s = decodeUtf8(this.bytes, p, p + n);
    if (s === undefined) throw new DecodeError('malformed UTF-8 encoding', start);
    return s;
  }
}
