/**
 * The snapshot layer's host primitives in plain JavaScript, for browsers (and any other
 * host): sha-256 from `@noble/hashes` (audited, no dependencies, synchronous, which
 * WebCrypto's `digest` is not, and every caller of a hash here is), a table-driven CRC-32,
 * a word-at-a-time compare, and msgpack imported as a module.
 */
import * as msgpack from '@msgpack/msgpack';
import { sha256 } from '@noble/hashes/sha2.js';
import { crc32Js } from './checksum.ts';
import type { SnapshotPlatform } from './platform.ts';

function equal(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  let i = 0;
  // Four bytes at a time where both sides are aligned (memories and pages are).
  if (((a.byteOffset + aStart) & 3) === 0 && ((b.byteOffset + bStart) & 3) === 0 && length >= 64) {
    const words = length >>> 2;
    const x = new Int32Array(a.buffer, a.byteOffset + aStart, words);
    const y = new Int32Array(b.buffer, b.byteOffset + bStart, words);
    for (let w = 0; w < words; w++) if (x[w] !== y[w]) return false;
    i = words << 2;
  }
  for (; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** Pure-JavaScript primitives: the same bytes as Node's, anywhere. */
export const portablePlatform: SnapshotPlatform = {
  name: 'portable',
  sha256(...parts: Uint8Array[]): Uint8Array {
    const h = sha256.create();
    for (const p of parts) h.update(p);
    return h.digest();
  },
  crc32: crc32Js,
  uninitialized: (n) => new Uint8Array(n),
  equal,
  msgpack: () => msgpack,
};
