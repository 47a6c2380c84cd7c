import { Trap } from '../errors/index.ts';
import { MAX_TABLE_ELEMENTS } from '../wasm/index.ts';
import { refreshMemoryViews } from './state.ts';
import type { MemoryState, TableState } from './state.ts';

/**
 * Bulk memory and table operations (spec 4.4.7, 4.4.6): each checks its whole range
 * before touching anything, so a trapping operation changes nothing.
 */

const PAGE = 65536;

function outOfBoundsMemory(): never {
  throw new Trap('out of bounds memory access');
}
function outOfBoundsTable(): never {
  throw new Trap('out of bounds table access');
}

/** memory.grow: the old size in pages, or -1 when the memory cannot grow that far. */
export function memoryGrow(mem: MemoryState, deltaPages: number): number {
  const old = mem.memory.buffer.byteLength / PAGE;
  if (deltaPages === 0) return old;
  if (old + deltaPages > mem.maxPages) return -1;
  try {
    mem.memory.grow(deltaPages);
  } catch {
    return -1; // the host could not reserve the memory: the spec allows failing here
  }
  refreshMemoryViews(mem);
  return old;
}

export function memoryInit(mem: MemoryState, data: Uint8Array | null, dst: number, src: number, n: number): void {
  const length = data === null ? 0 : data.length;
  if (src + n > length || dst + n > mem.bytes.length) outOfBoundsMemory();
  if (n !== 0) mem.bytes.set(data!.subarray(src, src + n), dst);
}

export function memoryCopy(mem: MemoryState, dst: number, src: number, n: number): void {
  const size = mem.bytes.length;
  if (src + n > size || dst + n > size) outOfBoundsMemory();
  mem.bytes.copyWithin(dst, src, src + n);
}

export function memoryFill(mem: MemoryState, dst: number, value: number, n: number): void {
  if (dst + n > mem.bytes.length) outOfBoundsMemory();
  mem.bytes.fill(value & 0xff, dst, dst + n);
}

export function tableInit(table: TableState, elem: Int32Array | null, dst: number, src: number, n: number): void {
  const length = elem === null ? 0 : elem.length;
  if (src + n > length || dst + n > table.size) outOfBoundsTable();
  if (n !== 0) table.elements.set(elem!.subarray(src, src + n), dst);
}

export function tableCopy(dstTable: TableState, srcTable: TableState, dst: number, src: number, n: number): void {
  if (src + n > srcTable.size || dst + n > dstTable.size) outOfBoundsTable();
  if (dstTable === srcTable) dstTable.elements.copyWithin(dst, src, src + n);
  else dstTable.elements.set(srcTable.elements.subarray(src, src + n), dst);
}

/** table.grow: the old size, or -1 when the table cannot grow that far. */
export function tableGrow(table: TableState, init: number, delta: number): number {
  const old = table.size;
  const size = old + delta;
  const max = table.max ?? 0xffffffff;
  // The runtime's cap, shared with the native tier and restore (wasm/limits.ts): 10M entries (40 MB).
  if (size > max || size > MAX_TABLE_ELEMENTS) return -1;
  if (size > table.elements.length) {
    const elements = new Int32Array(Math.max(size, Math.min(2 * table.elements.length, MAX_TABLE_ELEMENTS)));
    elements.set(table.elements.subarray(0, old));
    table.elements = elements;
  }
  table.elements.fill(init, old, size);
  table.size = size;
  return old;
}

export function tableFill(table: TableState, dst: number, value: number, n: number): void {
  if (dst + n > table.size) outOfBoundsTable();
  table.elements.fill(value, dst, dst + n);
}
