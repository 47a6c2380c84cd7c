/**
 * Block deltas: the new contents of some 4 KiB blocks of a linear memory, relative to a
 * memory image both sides agree on (`memory-image.ts`). Plain data (msgpack carries it as
 * is), and a compact binary form for the wire and for delta snapshots
 * (docs/snapshot-format.md, "Block deltas"):
 *
 *     0   4  magic        57 42 44 31  ("WBD1")
 *     4   4  block size   u32 LE, 4096
 *     8   8  byte length  u64 LE: the memory's length after the delta
 *    16   4  run count    u32 LE
 *    20  8n  runs         (first block u32 LE, block count u32 LE), ascending, neither touching nor overlapping
 *     ..     data         the listed blocks' bytes, concatenated (the memory's last block may be short)
 *
 * Runs rather than one index per block: a program's writes cluster (its stack, its heap's
 * top), so a round's changes are a few runs and their list stays a few dozen bytes.
 */
import { SnapshotError } from '../errors/index.ts';

/** Bytes per block: the unit in which memory images are compared, sent and hashed. */
export const BLOCK_SIZE = 4096;
/** The largest linear memory (65536 pages of 64 KiB). */
export const MAX_MEMORY_BYTES = 65536 * 65536;

/** The new contents of some blocks of a memory, and the memory's new length. */
export interface BlockDelta {
  /** The memory's length after the delta (it may have grown). */
  byteLength: number;
  /** Always {@link BLOCK_SIZE}; carried so a receiver can refuse another block size. */
  blockSize: number;
  /** Indices of the blocks carried, strictly ascending, each below ceil(byteLength / blockSize). */
  blocks: Uint32Array;
  /** The carried blocks' bytes in the order of `blocks`; the memory's last block may be short. */
  data: Uint8Array;
}

/** Bounds a receiver sets on a block delta before anything is allocated for it. */
export interface BlockDeltaLimits {
  /** The largest memory the delta may describe (default: 4 GiB, the Wasm limit). */
  maxByteLength?: number;
}

const MAGIC = 0x31444257; // "WBD1" read as u32 LE
const FIXED_BYTES = 20;
const RUN_BYTES = 8;

function bad(what: string): never {
  throw new SnapshotError(`invalid block delta: ${what}`);
}

/** Bytes of block `index` in a memory of `byteLength` bytes (the last block may be short). */
export function blockLength(index: number, byteLength: number, blockSize = BLOCK_SIZE): number {
  return Math.min(blockSize, byteLength - index * blockSize);
}

/** Number of blocks a memory of `byteLength` bytes has. */
export function blockCount(byteLength: number, blockSize = BLOCK_SIZE): number {
  return Math.ceil(byteLength / blockSize);
}

/**
 * Checks a block delta held as plain data (e.g. straight out of msgpack): block size,
 * length, indices ascending and in range, data exactly the listed blocks' size.
 * @throws SnapshotError naming what is wrong.
 */
export function checkBlockDelta(delta: BlockDelta, limits: BlockDeltaLimits = {}): void {
  const maxByteLength = limits.maxByteLength ?? MAX_MEMORY_BYTES;
  if (delta.blockSize !== BLOCK_SIZE) bad(`block size ${delta.blockSize}, this wasmig uses ${BLOCK_SIZE}`);
  if (!Number.isInteger(delta.byteLength) || delta.byteLength < 0 || delta.byteLength > maxByteLength) {
    bad(`memory length ${delta.byteLength} is not an integer in [0, ${maxByteLength}]`);
  }
  if (!(delta.blocks instanceof Uint32Array)) bad('blocks is not a Uint32Array');
  if (!(delta.data instanceof Uint8Array)) bad('data is not binary');
  const count = blockCount(delta.byteLength);
  let expected = 0;
  let last = -1;
  for (let i = 0; i < delta.blocks.length; i++) {
    const b = delta.blocks[i];
    if (b <= last) bad(`blocks[${i}] = ${b} is not above blocks[${i - 1}] = ${last}`);
    if (b >= count) bad(`blocks[${i}] = ${b} is beyond the memory's ${count} blocks`);
    expected += blockLength(b, delta.byteLength);
    last = b;
  }
  if (delta.data.length !== expected) bad(`data holds ${delta.data.length} bytes, the ${delta.blocks.length} blocks listed hold ${expected}`);
}

/** Splits ascending block indices into runs of consecutive ones: [start, count, start, count, ...]. */
function runsOf(blocks: Uint32Array): number[] {
  const runs: number[] = [];
  for (let i = 0; i < blocks.length;) {
    let j = i + 1;
    while (j < blocks.length && blocks[j] === blocks[j - 1] + 1) j++;
    runs.push(blocks[i], j - i);
    i = j;
  }
  return runs;
}

/**
 * The compact binary form of a block delta (see the module comment).
 * @throws SnapshotError when the delta itself is inconsistent.
 */
export function encodeBlockDelta(delta: BlockDelta): Uint8Array {
  checkBlockDelta(delta);
  const runs = runsOf(delta.blocks);
  const headerBytes = FIXED_BYTES + (runs.length / 2) * RUN_BYTES;
  const out = new Uint8Array(headerBytes + delta.data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, delta.blockSize, true);
  view.setBigUint64(8, BigInt(delta.byteLength), true);
  view.setUint32(16, runs.length / 2, true);
  for (let i = 0; i < runs.length; i++) view.setUint32(FIXED_BYTES + i * 4, runs[i], true);
  out.set(delta.data, headerBytes);
  return out;
}

/**
 * Reads a block delta from its binary form, validating everything before allocating
 * anything larger than the input: magic, block size, the length against `limits`, runs
 * ascending, non-adjacent and in range, data exactly the listed blocks' size. The
 * returned `data` is a view into `bytes` (no copy).
 * @throws SnapshotError saying what is wrong and at which byte.
 */
export function decodeBlockDelta(bytes: Uint8Array, limits: BlockDeltaLimits = {}): BlockDelta {
  const maxByteLength = limits.maxByteLength ?? MAX_MEMORY_BYTES;
  if (bytes.length < FIXED_BYTES) bad(`${bytes.length} bytes, its header alone has ${FIXED_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.getUint32(0, true) !== MAGIC) bad('bad magic bytes at byte 0');
  const blockSize = view.getUint32(4, true);
  if (blockSize !== BLOCK_SIZE) bad(`block size ${blockSize} at byte 4, this wasmig uses ${BLOCK_SIZE}`);
  const length = view.getBigUint64(8, true);
  if (length > BigInt(maxByteLength)) bad(`memory length ${length} at byte 8 exceeds the limit of ${maxByteLength}`);
  const byteLength = Number(length);
  const runCount = view.getUint32(16, true);
  const headerBytes = FIXED_BYTES + runCount * RUN_BYTES;
  if (headerBytes > bytes.length) bad(`${runCount} runs at byte 16 need ${runCount * RUN_BYTES} bytes, ${bytes.length - FIXED_BYTES} are present`);
  const count = blockCount(byteLength);
  let total = 0;
  let dataBytes = 0;
  let end = 0; // one past the previous run's last block
  for (let r = 0; r < runCount; r++) {
    const at = FIXED_BYTES + r * RUN_BYTES;
    const start = view.getUint32(at, true);
    const n = view.getUint32(at + 4, true);
    if (n === 0) bad(`run ${r} at byte ${at} is empty`);
    if (r > 0 && start <= end) bad(`run ${r} at byte ${at} starts at block ${start}, not after the previous run's end ${end}`);
    if (start + n > count) bad(`run ${r} at byte ${at} (blocks ${start}..${start + n - 1}) is beyond the memory's ${count} blocks`);
    total += n;
    // Only the memory's last block may be short, so a run's bytes are n full blocks unless it ends there.
    dataBytes += start + n === count ? (n - 1) * BLOCK_SIZE + blockLength(count - 1, byteLength) : n * BLOCK_SIZE;
    end = start + n;
  }
  const present = bytes.length - headerBytes;
  if (present !== dataBytes) bad(`data at byte ${headerBytes}: ${present} bytes present, the ${total} blocks listed hold ${dataBytes}`);
  // `total` blocks hold `dataBytes` <= bytes.length: the index array is bounded by the input.
  const blocks = new Uint32Array(total);
  let k = 0;
  for (let r = 0; r < runCount; r++) {
    const start = view.getUint32(FIXED_BYTES + r * RUN_BYTES, true);
    const n = view.getUint32(FIXED_BYTES + r * RUN_BYTES + 4, true);
    for (let i = 0; i < n; i++) blocks[k++] = start + i;
  }
  return { byteLength, blockSize, blocks, data: bytes.subarray(headerBytes) };
}
