/**
 * LZ4 block compression in TypeScript, with the uncompressed size prepended (u32 LE):
 * exactly what `lz4-napi`'s `uncompressSync` reads. We compress ourselves because
 * `lz4-napi` 2.10's `compressSync` never frees the buffer it returns (measured: RSS grows
 * by the full output size on every call; its async `compress` does not leak, its
 * `uncompressSync` does not either), and a snapshot encoder runs again and again.
 *
 * The algorithm is LZ4's "fast" one: a hash table of 4-byte sequences, greedy matches,
 * and a search step that grows over incompressible data. Format rules kept: matches of
 * at least 4 bytes, offsets up to 65535, the last 5 bytes always literals, no match
 * starting in the last 12 bytes.
 * @see https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md
 */
import { defaultPlatform } from './platform-default.ts';

const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_HASH_BITS = 16;
const MAX_OFFSET = 65535;
const SKIP_STRENGTH = 6;
/** Matches shorter than this save too little to slow the search down for. */
const SHORT_MATCH = 8;

const tables: Int32Array[] = [];
/** Small inputs get small hash tables: clearing 256 KiB for a 1 KiB block would dominate. */
function hashTable(n: number): { table: Int32Array; bits: number } {
  let bits = 10;
  while (bits < MAX_HASH_BITS && 1 << bits < n) bits++;
  const table = tables[bits] ?? (tables[bits] = new Int32Array(1 << bits));
  table.fill(-1);
  return { table, bits };
}
/** Output space reused between calls for blocks up to this size (the result is copied out). */
const SCRATCH_LIMIT = 1 << 20;
let scratch = new Uint8Array(0);

function uninitialized(n: number): Uint8Array {
  return defaultPlatform.uninitialized(n);
}

/** Largest output of a block of `n` bytes (LZ4_compressBound), plus the 4-byte size. */
export function lz4Bound(n: number): number {
  return n + Math.floor(n / 255) + 16 + 4;
}


/**
 * Compresses `src` into one LZ4 block, its uncompressed length first (u32 LE). With
 * `headroom`, that many bytes are left free before it (for a caller's header: no copy).
 */
export function lz4CompressBlock(src: Uint8Array, headroom = 0): Uint8Array {
  const n = src.length;
  if (n > 0xffffffff) throw new RangeError('LZ4 block too large');
  const bound = headroom + lz4Bound(n);
  const small = bound <= SCRATCH_LIMIT;
  if (small && scratch.length < bound) scratch = new Uint8Array(SCRATCH_LIMIT);
  const out = small ? scratch : uninitialized(bound);
  let op = headroom;
  out[op++] = n & 0xff; out[op++] = (n >>> 8) & 0xff; out[op++] = (n >>> 16) & 0xff; out[op++] = (n >>> 24) & 0xff;
  let anchor = 0;
  if (n >= MF_LIMIT + 1) {
    const { table, bits } = hashTable(n);
    const shift = 32 - bits;
    const matchLimit = n - LAST_LITERALS;
    const searchLimit = n - MF_LIMIT;
    let ip = 0;
    let attempts = 1 << SKIP_STRENGTH;
    const view = new DataView(src.buffer, src.byteOffset, src.length);
    while (ip < searchLimit) {
      const seq = view.getInt32(ip, true);
      const h = Math.imul(seq, 2654435761) >>> shift;
      const ref = table[h];
      table[h] = ip;
      if (ref < 0 || ip - ref > MAX_OFFSET || view.getInt32(ref, true) !== seq) {
        ip += attempts++ >> SKIP_STRENGTH;
        continue;
      }
      // Extend the match backwards over pending literals, then forwards.
      let start = ip, from = ref;
      while (start > anchor && from > 0 && src[start - 1] === src[from - 1]) { start--; from--; }
      let end = ip + MIN_MATCH, at = ref + MIN_MATCH;
      const wordLimit = matchLimit - 4;
      while (end <= wordLimit && view.getInt32(end, true) === view.getInt32(at, true)) { end += 4; at += 4; }
      while (end < matchLimit && src[end] === src[at]) { end++; at++; }
      // A long match means compressible data: search densely again. Short ones (a byte or
      // two saved) keep the search step, so matchy but barely compressible data stays fast.
      if (end - start >= SHORT_MATCH) attempts = 1 << SKIP_STRENGTH;
      // Token, literal length, literals.
      const literals = start - anchor;
      const matchLength = end - start - MIN_MATCH;
      const tokenPos = op++;
      let token = (matchLength >= 15 ? 15 : matchLength);
      if (literals >= 15) {
        token |= 0xf0;
        let rest = literals - 15;
        while (rest >= 255) { out[op++] = 255; rest -= 255; }
        out[op++] = rest;
      } else {
        token |= literals << 4;
      }
      if (literals < 32) {
        for (let i = anchor; i < start; i++) out[op++] = src[i];
      } else {
        out.set(src.subarray(anchor, start), op);
        op += literals;
      }
      const offset = start - from;
      out[op++] = offset & 0xff;
      out[op++] = offset >>> 8;
      if (matchLength >= 15) {
        let rest = matchLength - 15;
        while (rest >= 255) { out[op++] = 255; rest -= 255; }
        out[op++] = rest;
      }
      out[tokenPos] = token;
      anchor = end;
      ip = end;
      // Positions inside the match are worth remembering for later matches.
      if (end - 2 > 0 && end - 2 < searchLimit) table[Math.imul(view.getInt32(end - 2, true), 2654435761) >>> shift] = end - 2;
    }
  }
  // The rest as literals.
  const literals = n - anchor;
  if (literals >= 15) {
    out[op++] = 0xf0;
    let rest = literals - 15;
    while (rest >= 255) { out[op++] = 255; rest -= 255; }
    out[op++] = rest;
  } else {
    out[op++] = literals << 4;
  }
  out.set(src.subarray(anchor, n), op);
  op += literals;
  // A large output that compressed well is copied out, so as not to hold its bound's worth.
  if (small) return out.slice(0, op);
  return op < bound / 2 ? out.slice(0, op) : out.subarray(0, op);
}

/**
 * Decompresses one LZ4 block (without the 4-byte size) into exactly `size` bytes, the
 * size its sender declared and the receiver already checked against its own cap. The
 * output is allocated once, at that size, before any byte is read: a block that would
 * write past it, read past its end, or point a match before the output's start is
 * refused at the first such sequence. We decode ourselves, not with `lz4-napi`, because
 * its `uncompressSync` hands back a copy of its own buffer: twice the body's size at the
 * peak, for bytes that come from the network.
 * @throws RangeError naming what is wrong with the block (the caller wraps it in its typed error).
 */
export function lz4DecompressBlock(src: Uint8Array, size: number): Uint8Array {
  const out = uninitialized(size);
  const end = src.length;
  let ip = 0, op = 0;
  while (ip < end) {
    const token = src[ip++];
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= end) throw new RangeError('a literal length runs past the end of the block');
        b = src[ip++];
        literals += b;
      } while (b === 255);
    }
    if (ip + literals > end) throw new RangeError('literals run past the end of the block');
    if (op + literals > size) throw new RangeError(`the block decompresses to more than the ${size} bytes declared`);
    if (literals < 16) {
      for (let i = 0; i < literals; i++) out[op++] = src[ip++];
    } else {
      out.set(src.subarray(ip, ip + literals), op);
      ip += literals;
      op += literals;
    }
    if (ip === end) break;
    if (ip + 2 > end) throw new RangeError('a match offset runs past the end of the block');
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new RangeError(`a match refers to ${offset} bytes back at output byte ${op}`);
    let length = (token & 15) + MIN_MATCH;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= end) throw new RangeError('a match length runs past the end of the block');
        b = src[ip++];
        length += b;
      } while (b === 255);
    }
    if (op + length > size) throw new RangeError(`the block decompresses to more than the ${size} bytes declared`);
    let from = op - offset;
    if (offset >= length) {
      if (length < 32) for (let i = 0; i < length; i++) out[op++] = out[from++];
      else { out.copyWithin(op, from, from + length); op += length; }
    } else if (offset === 1) {
      out.fill(out[from], op, op + length);
      op += length;
    } else {
      // An overlapping match repeats the last `offset` bytes: copy in growing chunks.
      const stop = op + length;
      while (op < stop) {
        const chunk = Math.min(op - from, stop - op);
        out.copyWithin(op, from, from + chunk);
        op += chunk;
      }
    }
  }
  if (op !== size) throw new RangeError(`the block decompresses to ${op} bytes, ${size} were declared`);
  return out;
}
