import { uncompressSync } from 'lz4-napi';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lz4Bound, lz4CompressBlock, lz4DecompressBlock } from '../../src/snapshot/lz4.ts';

/** A reproducible stream of bytes of several kinds: random, runs, small alphabets, repeats. */
function sample(kind: number, n: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const r = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 0: b[i] = r() & 255; break;
      case 1: b[i] = i % 7; break;
      case 2: b[i] = r() % 3; break;
      case 3: b[i] = i > 16 && r() % 4 ? b[i - 1 - (r() % 16)] : r() & 255; break;
      default: b[i] = i % 70000 < 3 ? 1 : 0; // far repeats: offsets beyond 65535 must not be used
    }
  }
  return b;
}

test('LZ4 blocks we write are what lz4-napi reads, for every size and kind of data', () => {
  const sizes = [0, 1, 4, 5, 12, 13, 14, 15, 16, 19, 20, 255, 256, 270, 4096, 65535, 65536, 65537, 200_000];
  for (const n of sizes) {
    for (let kind = 0; kind < 5; kind++) {
      const src = sample(kind, n, n * 31 + kind);
      const block = lz4CompressBlock(src, n % 3);
      assert.ok(block.length <= lz4Bound(n) + n % 3);
      const back = uncompressSync(Buffer.from(block.buffer, block.byteOffset + n % 3, block.length - n % 3));
      assert.ok(Buffer.from(src).equals(back), `size ${n}, kind ${kind}`);
    }
  }
});

test('compressible data gets smaller', () => {
  const src = sample(1, 1 << 20, 7);
  assert.ok(lz4CompressBlock(src).length < src.length / 50);
});

test('our decoder reads what lz4-napi reads, into exactly the declared size', () => {
  for (const n of [0, 1, 13, 15, 16, 270, 65536, 65537, 200_000]) {
    for (let kind = 0; kind < 5; kind++) {
      const src = sample(kind, n, n * 17 + kind);
      const block = lz4CompressBlock(src);
      const napi = uncompressSync(Buffer.from(block.buffer, block.byteOffset, block.length));
      const ours = lz4DecompressBlock(block.subarray(4), n);
      assert.is(ours.length, n);
      assert.ok(Buffer.from(ours).equals(napi), `size ${n}, kind ${kind}`);
    }
  }
});

test('our decoder refuses a block that writes past the declared size, reads past its end or points before the output', () => {
  const src = sample(1, 100_000, 3);
  const block = lz4CompressBlock(src).subarray(4);
  assert.throws(() => lz4DecompressBlock(block, 99_999), /more than the 99999 bytes declared/);
  assert.throws(() => lz4DecompressBlock(block, 100_001), /100000 bytes, 100001 were declared/);
  assert.throws(() => lz4DecompressBlock(block.subarray(0, block.length - 3), 100_000), RangeError);
  // Token: 1 literal then a match 9 bytes back, with only 1 byte of output so far.
  assert.throws(() => lz4DecompressBlock(Uint8Array.of(0x10, 0x41, 0x09, 0x00), 100), /refers to 9 bytes back/);
  // A match of length 0xf + 4 + 255 * many: the declared size stops it at the first sequence.
  const bomb = new Uint8Array(4 + 1000).fill(255);
  bomb.set([0x1f, 0x00, 0x01, 0x00]);
  bomb[bomb.length - 1] = 0;
  assert.throws(() => lz4DecompressBlock(bomb, 4096), /more than the 4096 bytes declared/);
});

test.run();
