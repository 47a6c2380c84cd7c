/**
 * A small binary encoder, for every module the project writes (the native tier's
 * rewriter, the run loops' priming module): a growable byte buffer with the spec's
 * primitive encodings (LEB128, names, vectors, sections).
 * Spec: https://webassembly.github.io/spec/core/binary/values.html
 */

/** For names that are not ASCII (one for the process, as `utf8.ts` keeps its decoder). */
const encoder = new TextEncoder();

/** A growable byte buffer. Numbers are encoded as the binary format wants them. */
export class ByteWriter {
  bytes = new Uint8Array(256);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }

  u8(b: number): this {
    this.ensure(1);
    this.bytes[this.length++] = b;
    return this;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^32. */
  u32(n: number): this {
    this.ensure(5);
    n >>>= 0;
    do {
      let byte = n & 0x7f;
      n >>>= 7;
      if (n !== 0) byte |= 0x80;
      this.bytes[this.length++] = byte;
    } while (n !== 0);
    return this;
  }

  /** Signed LEB128 of an int32. */
  s32(n: number): this {
    this.ensure(5);
    n |= 0;
    for (;;) {
      const byte = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
        this.bytes[this.length++] = byte;
        return this;
      }
      this.bytes[this.length++] = byte | 0x80;
    }
  }

  /** Signed LEB128 of a 64-bit integer given as a bigint. */
  s64(n: bigint): this {
    this.ensure(10);
    n = BigInt.asIntN(64, n);
    for (;;) {
      const byte = Number(n & 0x7fn);
      n >>= 7n;
      if ((n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0)) {
        this.bytes[this.length++] = byte;
        return this;
      }
      this.bytes[this.length++] = byte | 0x80;
    }
  }

  /** Raw bytes. */
  raw(src: ArrayLike<number>, start = 0, end = src.length): this {
    const n = end - start;
    this.ensure(n);
    // Most copies are one instruction of a few bytes: a view per copy would cost more than the loop.
    if (n > 32 && src instanceof Uint8Array) this.bytes.set(src.subarray(start, end), this.length);
    else for (let i = 0; i < n; i++) this.bytes[this.length + i] = src[start + i]!;
    this.length += n;
    return this;
  }

  /** Another writer's content. */
  append(w: ByteWriter): this {
    return this.raw(w.bytes, 0, w.length);
  }

  /** A name: byte length then UTF-8. */
  name(s: string): this {
    // Most names are ASCII (a plain module's 1,400 exports: encoding each cost 6 ms cold).
    let ascii = true;
    for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
    if (!ascii) {
      const b = encoder.encode(s);
      this.u32(b.length);
      return this.raw(b);
    }
    this.u32(s.length);
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i);
    return this;
  }

  /** A section: id, size, content. Empty content still writes the section. */
  section(id: number, content: ByteWriter): this {
    this.u8(id);
    this.u32(content.length);
    return this.append(content);
  }

  /** The type section's content: a vector of function types. */
  funcTypes(types: readonly { params: readonly number[]; results: readonly number[] }[]): this {
    this.u32(types.length);
    for (const t of types) {
      this.u8(0x60).u32(t.params.length);
      for (const p of t.params) this.u8(p);
      this.u32(t.results.length);
      for (const r of t.results) this.u8(r);
    }
    return this;
  }

  /** Limits; `shared` ones (a shared memory) need a maximum, 65536 pages when none is given. */
  limits(l: { min: number; max?: number }, shared = false): this {
    if (shared) return this.u8(0x03).u32(l.min).u32(l.max ?? 65536);
    if (l.max === undefined) return this.u8(0x00).u32(l.min);
    return this.u8(0x01).u32(l.min).u32(l.max);
  }

  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}
