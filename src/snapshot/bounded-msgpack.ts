/**
 * msgpack decoding of untrusted bytes with its memory bounded before anything is built.
 * A msgpack document can cost far more as JavaScript values than as bytes: one byte
 * `0xc0` is a `null` in an array slot (8 bytes), one byte `0x90` an empty array (about
 * 40), so a 256 MB body of them would take gigabytes of heap before the decoder found
 * anything wrong. A first pass walks the document without building it, checks its
 * structure (types, lengths, truncation, bytes after the end) and adds up what its
 * values will cost in the heap; only a document under the receiver's budget is decoded.
 */
import { SnapshotError } from '../errors/index.ts';
import { msgpackCodec } from './codecs.ts';
import type { SnapshotPlatform } from './platform.ts';

/** Heap cost estimates (bytes), generous for V8 on 64-bit: a slot, a boxed number, containers. */
const SLOT = 8;
const HEAP_NUMBER = 16;
const BIGINT = 24;
const ARRAY = 32;
const MAP = 64;
const MAP_ENTRY = 24;
const STRING = 16;
const VIEW = 96;

export interface BoundedDecodeOptions {
  /** Largest heap the decoded values may take, by the estimate above (bytes). */
  budget: number;
  /** Decode int64/uint64 as bigint (the snapshot format's choice). */
  useBigInt64?: boolean;
  /** What the bytes are, for error messages ("snapshot body"). */
  what: string;
  /** Whose msgpack decodes (default: the layer's platform). */
  platform?: SnapshotPlatform;
}

/**
 * The heap the document in `bytes` would take once decoded (an estimate, by the sizes
 * above; a binary is a view of `bytes`, not a copy).
 * @throws SnapshotError when it is not exactly one well-formed msgpack value, or would
 *   take more than `budget` (the walk stops there).
 */
export function msgpackHeapCost(bytes: Uint8Array, budget: number, what: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const end = bytes.length;
  let pos = 0;
  let cost = 0;
  // Values still to read in each open container, innermost last (a map counts keys and values).
  const open: number[] = [];
  let remaining = 1;
  const need = (n: number): void => {
    if (pos + n > end) throw new SnapshotError(`${what} is not valid msgpack: truncated at byte ${pos}`);
  };
  const container = (count: number, each: number, base: number): void => {
    cost += base + count * each;
    // Each element takes at least one byte: a count beyond the bytes left is a lie.
    if (count > end - pos) throw new SnapshotError(`${what} is not valid msgpack: a container of ${count} values at byte ${pos} with ${end - pos} bytes left`);
    if (count > 0) { open.push(remaining); remaining = count; }
  };
  const text = (n: number): void => { need(n); pos += n; cost += STRING + 2 * n; };
  const blob = (n: number): void => { need(n); pos += n; cost += VIEW; };
  while (true) {
    while (remaining === 0) {
      if (open.length === 0) {
        if (pos !== end) throw new SnapshotError(`${what} is not valid msgpack: ${end - pos} bytes after its end (byte ${pos})`);
        return cost;
      }
      remaining = open.pop() as number;
    }
    if (cost > budget) throw new SnapshotError(`${what} would take more than ${budget} bytes of memory once decoded (the limit)`);
    remaining--;
    need(1);
    const b = bytes[pos++];
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue; // fixint, nil, bool
    if (b >= 0x80 && b <= 0x8f) { container(2 * (b & 15), SLOT, MAP); cost += (b & 15) * MAP_ENTRY; continue; }
    if (b >= 0x90 && b <= 0x9f) { container(b & 15, SLOT, ARRAY); continue; }
    if (b >= 0xa0 && b <= 0xbf) { text(b & 31); continue; }
    switch (b) {
      case 0xc4: need(1); blob(bytes[pos++]); break;
      case 0xc5: need(2); pos += 2; blob(view.getUint16(pos - 2)); break;
      case 0xc6: need(4); pos += 4; blob(view.getUint32(pos - 4)); break;
      case 0xc7: need(2); pos += 2; blob(bytes[pos - 2]); break; // ext 8
      case 0xc8: need(3); pos += 3; blob(view.getUint16(pos - 3)); break;
      case 0xc9: need(5); pos += 5; blob(view.getUint32(pos - 5)); break;
      case 0xca: need(4); pos += 4; cost += HEAP_NUMBER; break;
      case 0xcb: need(8); pos += 8; cost += HEAP_NUMBER; break;
      case 0xcc: need(1); pos += 1; break;
      case 0xcd: need(2); pos += 2; break;
      case 0xce: need(4); pos += 4; cost += HEAP_NUMBER; break;
      case 0xcf: case 0xd3: need(8); pos += 8; cost += BIGINT; break;
      case 0xd0: need(1); pos += 1; break;
      case 0xd1: need(2); pos += 2; break;
      case 0xd2: need(4); pos += 4; break;
      case 0xd4: need(2); pos += 2; cost += VIEW; break; // fixext 1
      case 0xd5: need(3); pos += 3; cost += VIEW; break;
      case 0xd6: need(5); pos += 5; cost += VIEW; break;
      case 0xd7: need(9); pos += 9; cost += VIEW; break;
      case 0xd8: need(17); pos += 17; cost += VIEW; break;
      case 0xd9: need(1); text(bytes[pos++]); break;
      case 0xda: need(2); pos += 2; text(view.getUint16(pos - 2)); break;
      case 0xdb: need(4); pos += 4; text(view.getUint32(pos - 4)); break;
      case 0xdc: need(2); pos += 2; container(view.getUint16(pos - 2), SLOT, ARRAY); break;
      case 0xdd: need(4); pos += 4; container(view.getUint32(pos - 4), SLOT, ARRAY); break;
      case 0xde: { need(2); pos += 2; const n = view.getUint16(pos - 2); container(2 * n, SLOT, MAP); cost += n * MAP_ENTRY; break; }
      case 0xdf: { need(4); pos += 4; const n = view.getUint32(pos - 4); container(2 * n, SLOT, MAP); cost += n * MAP_ENTRY; break; }
      default: throw new SnapshotError(`${what} is not valid msgpack: byte 0x${b.toString(16)} at ${pos - 1} starts no value`);
    }
  }
}

/**
 * Decodes one msgpack document from untrusted bytes, after {@link msgpackHeapCost} showed
 * it well-formed and within `budget`.
 * @throws SnapshotError for malformed bytes or a document over the budget.
 */
export function decodeBoundedMsgpack(bytes: Uint8Array, options: BoundedDecodeOptions): unknown {
  msgpackHeapCost(bytes, options.budget, options.what);
  try {
    const limit = bytes.length;
    return new (msgpackCodec(options.platform).Decoder)({ useBigInt64: options.useBigInt64 === true, maxArrayLength: limit, maxMapLength: limit, maxBinLength: limit, maxStrLength: limit, maxExtLength: limit }).decode(bytes);
  } catch (cause) {
    throw new SnapshotError(`${options.what} is not valid msgpack: ${(cause as Error).message}`, { cause });
  }
}
