/**
 * A memory image: one linear memory as the other side of a migration is known to hold
 * it, in 4 KiB blocks. The sender keeps one per target to find what changed
 * (`changedBlocks`) and to send only that (`take`); the receiver keeps the same image and
 * `apply`s what arrives; `digest` lets both check they agree before trusting a delta.
 *
 * Measured on the project machine (2 cores shared by five engineers, Node 20;
 * `npx tsx tools/bench/memory-image.ts`), `changedBlocks` over 64 MiB costs 7 ms with
 * nothing changed when the machine was quiet (load 3), 15-32 ms at load 10: one memcmp per
 * 64 KiB chunk, bound by memory bandwidth. With every block changed in its last byte (the
 * worst case: one more full memcmp per 4 KiB block) it costs 34-46 ms at load 10.
 */
import { SnapshotError } from '../errors/index.ts';
import type { CompiledModule } from '../compile/index.ts';
import { BLOCK_SIZE, blockCount, blockLength, checkBlockDelta, MAX_MEMORY_BYTES } from './block-delta.ts';
import type { BlockDelta } from './block-delta.ts';
import { initialMemoryBytes } from './initial-memory.ts';
import { defaultPlatform } from './platform-default.ts';
import { toHex, utf8 } from './platform.ts';

export { BLOCK_SIZE } from './block-delta.ts';

const DIGEST_BYTES = 32;
/** Unchanged memory is skipped this many bytes at a time before looking at single blocks. */
const CHUNK = 16 * BLOCK_SIZE;
/**
 * Bytes under one stored digest: 16 blocks. Hashing 4 KiB at a time costs twice as much as
 * 64 KiB at a time (64 MiB: 100 ms against 45 ms; the per-call overhead dominates), and
 * after a small change, hashing 64 KiB again costs about 40 us.
 */
const DIGEST_UNIT = 16 * BLOCK_SIZE;
const ZEROS = new Uint8Array(CHUNK);
const ZERO_UNIT_DIGEST = defaultPlatform.sha256(new Uint8Array(DIGEST_UNIT));
const DIGEST_DOMAIN = utf8('wasmig memory image v1\0');

/**
 * A memory given as the runs of it that may hold non-zero bytes (zeros everywhere else),
 * as a snapshot stores it: comparing and extracting from it needs no whole copy. Runs
 * are ascending and apart, start on a block boundary, and hold whole blocks unless they
 * end the memory.
 */
export interface SparseMemory {
  byteLength: number;
  runs: readonly { at: number; bytes: Uint8Array }[];
}

/** A memory whole or sparse, as the compare and copy below take it. */
function sparseOf(memory: Uint8Array | SparseMemory): SparseMemory {
  if (memory instanceof Uint8Array) return { byteLength: memory.length, runs: [{ at: 0, bytes: memory }] };
  let end = 0;
  memory.runs.forEach((r, i) => {
    const runEnd = r.at + r.bytes.length;
    if (r.at < end || r.at % BLOCK_SIZE !== 0 || runEnd > memory.byteLength || (r.bytes.length % BLOCK_SIZE !== 0 && runEnd !== memory.byteLength)) {
      throw new SnapshotError(`sparse memory run ${i} (${r.bytes.length} bytes at ${r.at}) is not a whole number of blocks after the previous run, within ${memory.byteLength} bytes`);
    }
    end = runEnd;
  });
  return memory;
}

function isZero(b: Uint8Array, start: number, end: number): boolean {
  for (let s = start; s < end; s += CHUNK) {
    if (!defaultPlatform.equal(b, s, ZEROS, 0, Math.min(end, s + CHUNK) - s)) return false;
  }
  return true;
}

/** A growable copy of one linear memory, with a digest per 64 KiB unit kept up to date lazily. */
export class MemoryImage {
  /** The image in its first `length` bytes (spare capacity after them, zeroed when the image grows into it). */
  private store: Uint8Array;
  private length: number;
  /** sha256 of each digest unit, `DIGEST_BYTES` apiece; valid where `stale` is 0. */
  private unitDigests: Uint8Array;
  private stale: Uint8Array;
  private staleCount = 0;
  private cachedDigest: string | undefined;

  private constructor(byteLength: number) {
    if (!Number.isInteger(byteLength) || byteLength < 0 || byteLength > MAX_MEMORY_BYTES) {
      throw new SnapshotError(`a memory image of ${byteLength} bytes is impossible (at most ${MAX_MEMORY_BYTES})`);
    }
    this.store = new Uint8Array(byteLength);
    this.length = 0;
    this.unitDigests = new Uint8Array(0);
    this.stale = new Uint8Array(0);
    this.resize(byteLength);
  }

  /** An image of `byteLength` zero bytes. */
  static empty(byteLength: number): MemoryImage {
    return new MemoryImage(byteLength);
  }

  /** An image holding a copy of `bytes`. */
  static from(bytes: Uint8Array): MemoryImage {
    const image = new MemoryImage(bytes.length);
    image.store.set(bytes);
    image.markStale(0, unitCount(bytes.length));
    return image;
  }

  /**
   * Memory `memoryIndex` as instantiation leaves it: zeros and the active data segments
   * with a constant offset (one at an imported global's offset is left zero: the image
   * only has to be one both sides agree on). See `initialMemoryBytes`.
   */
  static initial(compiled: CompiledModule, memoryIndex = 0): MemoryImage {
    return MemoryImage.from(initialMemoryBytes(compiled.module, memoryIndex));
  }

  /** The image itself: a view, valid until the image next changes size. Do not write to it. */
  get bytes(): Uint8Array {
    return new Uint8Array(this.store.buffer, this.store.byteOffset, this.length);
  }

  get byteLength(): number {
    return this.length;
  }

  /** An independent copy (its digests included). */
  clone(): MemoryImage {
    const copy = new MemoryImage(0);
    copy.store = this.store.slice(0, this.length);
    copy.length = this.length;
    copy.unitDigests = this.unitDigests.slice();
    copy.stale = this.stale.slice();
    copy.staleCount = this.staleCount;
    copy.cachedDigest = this.cachedDigest;
    return copy;
  }

  /**
   * Indices of the blocks where `current` differs from the image, ascending. The image is
   * read as if zero-extended to `current`'s length: blocks past its end count as changed
   * unless they are all zeros. A shorter `current` (a memory never shrinks, but an image
   * may be a stale base) only has its own blocks compared; `take` then shortens the image.
   * `current` may be a live memory written meanwhile (another thread): a block written
   * during the compare may or may not be listed, and the next round catches it.
   */
  changedBlocks(current: Uint8Array | SparseMemory): Uint32Array {
    const memory = sparseOf(current);
    const out = new Uint32Array(blockCount(memory.byteLength));
    let found = 0;
    // Memory [start, end) is `src` from memory offset `srcAt` on, or zeros when `src` is null.
    const scan = (src: Uint8Array | null, srcAt: number, start: number, end: number): void => {
      for (let chunk = start; chunk < end; chunk += CHUNK) {
        const chunkEnd = Math.min(chunk + CHUNK, end);
        if (this.rangeEqual(src, srcAt, chunk, chunkEnd)) continue;
        for (let s = chunk; s < chunkEnd; s += BLOCK_SIZE) {
          if (!this.rangeEqual(src, srcAt, s, Math.min(s + BLOCK_SIZE, chunkEnd))) out[found++] = s / BLOCK_SIZE;
        }
      }
    };
    let pos = 0;
    for (const run of memory.runs) {
      scan(null, 0, pos, run.at);
      scan(run.bytes, run.at, run.at, run.at + run.bytes.length);
      pos = run.at + run.bytes.length;
    }
    scan(null, 0, pos, memory.byteLength);
    return out.slice(0, found);
  }

  /** Whether memory [start, end) (`src` from offset `srcAt`, or zeros) equals the zero-extended image there. */
  private rangeEqual(src: Uint8Array | null, srcAt: number, start: number, end: number): boolean {
    const inImage = Math.min(end, this.length);
    if (start < inImage) {
      const equal = src === null ? isZero(this.store, start, inImage) : defaultPlatform.equal(src, start - srcAt, this.store, start, inImage - start);
      if (!equal) return false;
    }
    return src === null || isZero(src, Math.max(start, inImage) - srcAt, end - srcAt);
  }

  /**
   * The new contents of `blocks` of `current` as a delta, without changing the image
   * (what the receiver would hold after `apply`ing it is the image plus this).
   * @throws SnapshotError when `blocks` is not ascending or not within `current`.
   */
  extract(current: Uint8Array | SparseMemory, blocks: Uint32Array): BlockDelta {
    const memory = sparseOf(current);
    const n = memory.byteLength;
    const count = blockCount(n);
    let size = 0;
    for (let i = 0; i < blocks.length; i++) {
      if (blocks[i] >= count || (i > 0 && blocks[i] <= blocks[i - 1])) {
        throw new SnapshotError(`blocks[${i}] = ${blocks[i]} is not ascending within the memory's ${count} blocks`);
      }
      size += blockLength(blocks[i], n);
    }
    const data = new Uint8Array(size);
    let r = 0; // the first memory run that may overlap the next blocks (both ascend)
    forEachRun(blocks, n, (start, bytes, at) => {
      const end = start + bytes;
      while (r < memory.runs.length && memory.runs[r].at + memory.runs[r].bytes.length <= start) r++;
      for (let k = r; k < memory.runs.length && memory.runs[k].at < end; k++) {
        const run = memory.runs[k];
        const from = Math.max(start, run.at);
        const to = Math.min(end, run.at + run.bytes.length);
        data.set(run.bytes.subarray(from - run.at, to - run.at), at + from - start);
      }
    });
    return { byteLength: n, blockSize: BLOCK_SIZE, blocks: blocks.slice(), data };
  }

  /**
   * `extract`, then `apply`: the delta to send, and the image updated to what the
   * receiver holds once it has applied it. The image is written from the delta's own
   * copy, so a block the program wrote during the copy is in the image exactly as sent.
   */
  take(current: Uint8Array | SparseMemory, blocks: Uint32Array): BlockDelta {
    const delta = this.extract(current, blocks);
    this.apply(delta);
    return delta;
  }

  /**
   * The receiver's side: resizes the image to `delta.byteLength` (new bytes are zeros)
   * and writes the delta's blocks.
   * @throws SnapshotError for an inconsistent delta; the image is then unchanged.
   */
  apply(delta: BlockDelta): void {
    checkBlockDelta(delta);
    this.resize(delta.byteLength);
    forEachRun(delta.blocks, delta.byteLength, (start, bytes, at) => this.store.set(delta.data.subarray(at, at + bytes), start));
    for (let i = 0; i < delta.blocks.length; i++) {
      const unit = Math.floor(delta.blocks[i] * BLOCK_SIZE / DIGEST_UNIT);
      this.markStale(unit, unit + 1);
    }
  }

  /**
   * The delta with its data XORed with this image's blocks (read as zero-extended): a
   * block with a few changed bytes becomes mostly zeros, which LZ4 shrinks to almost
   * nothing. Its own inverse: the receiver, whose image is the sender's before the delta,
   * gets the delta back by calling `xor` on the XORed one, then `apply`s it.
   * @throws SnapshotError for an inconsistent delta.
   */
  xor(delta: BlockDelta): BlockDelta {
    checkBlockDelta(delta);
    const data = delta.data.slice();
    forEachRun(delta.blocks, delta.byteLength, (start, bytes, at) => {
      const end = Math.min(start + bytes, this.length);
      if (end <= start) return;
      const words = (end - start) >>> 2;
      // Four bytes at a time where both sides are aligned (they are, but for an odd tail).
      if (((data.byteOffset + at) & 3) === 0 && ((this.store.byteOffset + start) & 3) === 0) {
        const dst = new Int32Array(data.buffer, data.byteOffset + at, words);
        const src = new Int32Array(this.store.buffer, this.store.byteOffset + start, words);
        for (let i = 0; i < words; i++) dst[i] ^= src[i];
        for (let i = words * 4; i < end - start; i++) data[at + i] ^= this.store[start + i];
      } else {
        for (let i = 0; i < end - start; i++) data[at + i] ^= this.store[start + i];
      }
    });
    return { byteLength: delta.byteLength, blockSize: delta.blockSize, blocks: delta.blocks.slice(), data };
  }

  /**
   * The image's identity, as 64 hex digits: sha256 over its length and the sha256 of
   * each 64 KiB unit. Equal bytes give equal digests on every machine; after a change,
   * only the changed units are hashed again.
   */
  digest(): string {
    if (this.cachedDigest !== undefined) return this.cachedDigest;
    const count = unitCount(this.length);
    if (this.staleCount > 0) {
      for (let u = 0; u < count; u++) {
        if (this.stale[u] === 0) continue;
        const start = u * DIGEST_UNIT;
        this.unitDigests.set(defaultPlatform.sha256(this.store.subarray(start, Math.min(start + DIGEST_UNIT, this.length))), u * DIGEST_BYTES);
        this.stale[u] = 0;
      }
      this.staleCount = 0;
    }
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(this.length), true);
    this.cachedDigest = toHex(defaultPlatform.sha256(DIGEST_DOMAIN, length, this.unitDigests.subarray(0, count * DIGEST_BYTES)));
    return this.cachedDigest;
  }

  /** Changes the length; bytes past the old end read as zeros. */
  private resize(byteLength: number): void {
    if (byteLength > MAX_MEMORY_BYTES) throw new SnapshotError(`a memory image of ${byteLength} bytes is impossible (at most ${MAX_MEMORY_BYTES})`);
    const old = this.length;
    if (byteLength === old && this.stale.length >= unitCount(byteLength)) return;
    if (byteLength > this.store.length) {
      // Grow geometrically: a memory that grows page by page must not copy itself each time.
      const grown = new Uint8Array(Math.min(MAX_MEMORY_BYTES, Math.max(byteLength, this.store.length * 2)));
      grown.set(this.store.subarray(0, old));
      this.store = grown;
    } else if (byteLength > old) {
      this.store.fill(0, old, byteLength);
    }
    const oldCount = unitCount(old);
    const newCount = unitCount(byteLength);
    if (newCount > this.stale.length) {
      const capacity = unitCount(this.store.length);
      const digests = new Uint8Array(capacity * DIGEST_BYTES);
      digests.set(this.unitDigests.subarray(0, oldCount * DIGEST_BYTES));
      this.unitDigests = digests;
      const stale = new Uint8Array(capacity);
      stale.set(this.stale.subarray(0, oldCount));
      this.stale = stale;
    }
    this.length = byteLength;
    this.cachedDigest = undefined;
    // A unit that now ends elsewhere must be hashed again; new whole units are zeros.
    if (byteLength > old) {
      if (old % DIGEST_UNIT !== 0) this.markStale(oldCount - 1, oldCount);
      for (let u = oldCount; u < newCount; u++) {
        if ((u + 1) * DIGEST_UNIT <= byteLength) this.setDigest(u, ZERO_UNIT_DIGEST);
        else this.markStale(u, u + 1);
      }
    } else {
      for (let u = newCount; u < oldCount; u++) this.setDigest(u, ZERO_UNIT_DIGEST);
      if (byteLength % DIGEST_UNIT !== 0) this.markStale(newCount - 1, newCount);
    }
  }

  private setDigest(unit: number, digest: Uint8Array): void {
    this.unitDigests.set(digest, unit * DIGEST_BYTES);
    if (this.stale[unit] !== 0) {
      this.stale[unit] = 0;
      this.staleCount--;
    }
  }

  /** Units [from, to) must be hashed again. */
  private markStale(from: number, to: number): void {
    for (let u = from; u < to; u++) {
      if (this.stale[u] === 0) {
        this.stale[u] = 1;
        this.staleCount++;
      }
    }
    this.cachedDigest = undefined;
  }
}

function unitCount(byteLength: number): number {
  return Math.ceil(byteLength / DIGEST_UNIT);
}

/** Calls `copy(memoryStart, bytes, dataOffset)` once per run of consecutive blocks. */
function forEachRun(blocks: Uint32Array, byteLength: number, copy: (start: number, bytes: number, at: number) => void): void {
  let at = 0;
  for (let i = 0; i < blocks.length;) {
    let j = i + 1;
    while (j < blocks.length && blocks[j] === blocks[j - 1] + 1) j++;
    const start = blocks[i] * BLOCK_SIZE;
    const end = Math.min(blocks[j - 1] * BLOCK_SIZE + BLOCK_SIZE, byteLength);
    copy(start, end - start, at);
    at += end - start;
    i = j;
  }
}
