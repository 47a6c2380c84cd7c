/**
 * The snapshot layer's host primitives on Node: OpenSSL's sha-256, zlib's CRC-32 (from
 * Node 20.15; the portable one before), buffers that are not zeroed, memcmp, and msgpack
 * loaded on first use (every `wasmig run` imports this layer, few write a snapshot).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { crc32Js } from './checksum.ts';
import type { SnapshotPlatform } from './platform.ts';

type Msgpack = ReturnType<SnapshotPlatform['msgpack']>;

const load = createRequire(import.meta.url);
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

/** Node's native primitives. */
export class NodePlatform implements SnapshotPlatform {
  readonly name = 'node';
  #msgpack: Msgpack | undefined;
  // The last array `equal` compared from, as a Buffer: a memory image compares one memory
  // block by block, and a view per call would cost an object each time.
  #lastArray: Uint8Array | undefined;
  #lastView: Buffer | undefined;

  sha256(...parts: Uint8Array[]): Uint8Array {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    const d = h.digest();
    return new Uint8Array(d.buffer, d.byteOffset, d.length);
  }

  crc32(bytes: Uint8Array): number {
    return nativeCrc32 ? nativeCrc32(bytes) >>> 0 : crc32Js(bytes);
  }

  uninitialized(n: number): Uint8Array {
    const b = Buffer.allocUnsafeSlow(n);
    return new Uint8Array(b.buffer, b.byteOffset, n);
  }

  equal(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
    if (a !== this.#lastArray || this.#lastView!.length !== a.length) {
      this.#lastArray = a;
      this.#lastView = Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.length);
    }
    return this.#lastView!.compare(b, bStart, bStart + length, aStart, aStart + length) === 0;
  }

  msgpack(): Msgpack {
    return (this.#msgpack ??= load('@msgpack/msgpack') as Msgpack);
  }
}

/** The one Node platform the layer uses by default. */
export const nodePlatform: SnapshotPlatform = new NodePlatform();
