/**
 * What the snapshot layer needs from its host, as one object: sha-256, CRC-32, buffers
 * that need not be zeroed, a byte-range compare, and msgpack. Node's (`platform-node.ts`)
 * uses its native hash, CRC and memcmp; the portable one (`platform-portable.ts`) runs
 * anywhere (a browser) and produces the same bytes, so a snapshot made by either is read
 * by the other.
 *
 * Which one the layer uses unless given one is fixed when it is built, not switched at
 * run time: `platform-default.ts` names Node's, and the browser build (and any bundler
 * that honours package.json's `browser` field) replaces it with
 * `platform-default.browser.ts`. `encodeSnapshot` and `decodeSnapshot` also take one
 * (`options.platform`), which is how the tests check both against each other in one process.
 * @module
 */
import type * as Msgpack from '@msgpack/msgpack';

/** The host's primitives the snapshot layer builds on. */
export interface SnapshotPlatform {
  /** A name for messages and benchmarks ("node", "portable"). */
  readonly name: string;
  /** sha-256 of the concatenation of `parts` (32 bytes). */
  sha256(...parts: Uint8Array[]): Uint8Array;
  /** CRC-32 (IEEE, as zlib and PNG) of `bytes`, unsigned. */
  crc32(bytes: Uint8Array): number;
  /** `n` bytes whose contents are undefined: the caller overwrites all of them. */
  uninitialized(n: number): Uint8Array;
  /** Whether `a[aStart, aStart + length)` equals `b[bStart, bStart + length)`. */
  equal(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean;
  /** The msgpack codec (Node loads it on first use, to keep start-up short). */
  msgpack(): typeof Msgpack;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** The bytes of an even-length hex string (digits that are not hex read as 0: callers check shapes first). */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16) || 0;
  return out;
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
