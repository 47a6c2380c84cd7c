import { Errno, IOVEC_SIZE } from './abi.ts';
import { fail } from './errno.ts';

/** Anything whose `buffer` is the guest's linear memory (a `WebAssembly.Memory`, or ours). */
export interface MemoryLike {
  /** The memory's current buffer (replaced when the memory grows). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Bounds-checked access to guest memory. The buffer is re-read on every access because
 * `memory.grow` detaches the old one; views are cached per buffer identity. Every failed
 * check raises EFAULT, so a bad guest pointer never surfaces as a JS RangeError.
 */
export class GuestMemory {
  #memory: MemoryLike | undefined;
  #buffer: ArrayBuffer | SharedArrayBuffer | undefined;
  #view: DataView = new DataView(new ArrayBuffer(0));
  #bytes: Uint8Array = new Uint8Array(0);

  bind(memory: MemoryLike): void {
    this.#memory = memory;
    this.#buffer = undefined;
  }

  get bound(): boolean {
    return this.#memory !== undefined;
  }

  #refresh(): void {
    const memory = this.#memory;
    // A call before bindMemory is the embedder's bug, but the guest sees a clean errno.
    if (memory === undefined) fail(Errno.FAULT);
    const buffer = memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#view = new DataView(buffer);
      this.#bytes = new Uint8Array(buffer);
    }
  }

  /** Checks that `[ptr, ptr+len)` lies in memory; both are taken as u32. */
  check(ptr: number, len: number): void {
    this.#refresh();
    if (unsigned(ptr) + unsigned(len) > this.#bytes.length) fail(Errno.FAULT);
  }

  /** A live view of `len` guest bytes at `ptr` (valid until the next grow). */
  bytes(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    const start = unsigned(ptr);
    return this.#bytes.subarray(start, start + unsigned(len));
  }

  u8(ptr: number): number {
    this.check(ptr, 1);
    return this.#view.getUint8(ptr >>> 0);
  }
  u16(ptr: number): number {
    this.check(ptr, 2);
    return this.#view.getUint16(ptr >>> 0, true);
  }
  u32(ptr: number): number {
    this.check(ptr, 4);
    return this.#view.getUint32(ptr >>> 0, true);
  }
  u64(ptr: number): bigint {
    this.check(ptr, 8);
    return this.#view.getBigUint64(ptr >>> 0, true);
  }

  setU8(ptr: number, value: number): void {
    this.check(ptr, 1);
    this.#view.setUint8(ptr >>> 0, value);
  }
  setU16(ptr: number, value: number): void {
    this.check(ptr, 2);
    this.#view.setUint16(ptr >>> 0, value, true);
  }
  setU32(ptr: number, value: number): void {
    this.check(ptr, 4);
    this.#view.setUint32(ptr >>> 0, value >>> 0, true);
  }
  setU64(ptr: number, value: bigint): void {
    this.check(ptr, 8);
    this.#view.setBigUint64(ptr >>> 0, BigInt.asUintN(64, value), true);
  }

  /** Copies host bytes into guest memory. */
  write(ptr: number, data: Uint8Array): void {
    this.bytes(ptr, data.length).set(data);
  }

  /** Reads a UTF-8 string of `len` bytes (invalid UTF-8 is EILSEQ, as paths must be text). */
  string(ptr: number, len: number): string {
    const raw = this.bytes(ptr, len);
    try {
      // Copy first: TextDecoder refuses views of a SharedArrayBuffer.
      return decoder.decode(raw.slice());
    } catch {
      return fail(Errno.ILSEQ);
    }
  }

  /**
   * Resolves an iovec/ciovec array (`count` records of {buf u32, buf_len u32}) into live
   * views, all bounds-checked before any byte moves, so a bad entry leaves no partial effect.
   */
  iovecs(ptr: number, count: number): Uint8Array[] {
    const n = count >>> 0;
    this.check(ptr, n * IOVEC_SIZE);
    const list: { ptr: number; len: number }[] = [];
    for (let i = 0; i < n; i++) {
      const at = (ptr >>> 0) + i * IOVEC_SIZE;
      list.push({ ptr: this.u32(at), len: this.u32(at + 4) });
    }
    for (const v of list) this.check(v.ptr, v.len);
    return list.map((v) => this.bytes(v.ptr, v.len));
  }
}

/**
 * A guest i32 as an unsigned number. Guest values arrive as signed i32 (so `>>> 0`), but
 * lengths computed on the host (count * record size) may exceed 2^32 and must not wrap.
 */
function unsigned(x: number): number {
  return x >= 0 ? x : x >>> 0;
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
