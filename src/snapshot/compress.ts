/**
 * LZ4 for pieces that are not snapshot files (a live migration's block deltas): one
 * block, its uncompressed length first, decompressed only within a bound the receiver
 * sets, since the bytes come from the network.
 */
import { SnapshotError } from '../errors/index.ts';
import { lz4CompressBlock, lz4DecompressBlock } from './lz4.ts';

/** LZ4 never expands data by more than this factor when decompressing. */
const MAX_RATIO = 256;

/** `bytes` as one LZ4 block. */
export function compressBlock(bytes: Uint8Array): Uint8Array {
  return lz4CompressBlock(bytes);
}

/**
 * The bytes of one LZ4 block from `compressBlock`.
 * @throws SnapshotError when it is corrupt or would decompress to more than `maxBytes`.
 */
export function decompressBlock(block: Uint8Array, maxBytes: number, what = 'compressed block'): Uint8Array {
  if (block.length < 4) throw new SnapshotError(`${what}: ${block.length} bytes, too short for LZ4 data`);
  const size = new DataView(block.buffer, block.byteOffset, 4).getUint32(0, true);
  if (size > maxBytes) throw new SnapshotError(`${what}: it would decompress to ${size} bytes, more than the ${maxBytes} allowed`);
  if (size > MAX_RATIO * block.length + 64) throw new SnapshotError(`${what}: ${size} bytes are impossible for LZ4 data of ${block.length}`);
  let raw: Uint8Array;
  try {
    raw = lz4DecompressBlock(block.subarray(4), size);
  } catch (cause) {
    throw new SnapshotError(`${what}: the LZ4 data is corrupt (${(cause as Error).message})`, { cause });
  }
  return raw;
}
