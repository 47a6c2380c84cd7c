/**
 * A linear memory as instantiation leaves it, known from the module alone: zeros, then
 * the active data segments whose offset is a constant. Both sides of a migration compute
 * it from the same module, so its blocks never need to travel.
 */
import { SnapshotError } from '../errors/index.ts';
import { MAX_MEMORY_PAGES } from '../wasm/index.ts';
import type { ConstExpr, Module } from '../wasm/index.ts';
import { PAGE_SIZE } from './canonical.ts';

const I32_CONST = 0x41;
/** A 64-bit memory's segments (memory64) have i64 offsets. */
const I64_CONST = 0x42;

/** The offset a constant expression gives without any import, or undefined (`global.get` of an import). */
function constantOffset(expr: ConstExpr): number | undefined {
  if (expr.instrs.length !== 1) return undefined;
  const ins = expr.instrs[0];
  if (ins.op === I64_CONST) return (ins.b >>> 0) * 2 ** 32 + (ins.a >>> 0);
  return ins.op === I32_CONST ? ins.a >>> 0 : undefined;
}

/**
 * The bytes of memory `memoryIndex` right after instantiation (start function aside).
 * A segment whose offset depends on an imported global is left out (its bytes stay
 * zero), and so is one that does not fit (instantiation would have trapped): the result
 * is only used as an image both sides agree on, so it needs to be the same everywhere,
 * not exact.
 * @see https://webassembly.github.io/spec/core/exec/modules.html#instantiation
 * @throws SnapshotError when the module has no such memory.
 */
export function initialMemoryBytes(module: Module, memoryIndex = 0): Uint8Array {
  const imported = module.imports.filter((i) => i.desc.kind === 'memory');
  const types = [...imported.map((i) => (i.desc as { kind: 'memory'; type: Module['memories'][number] }).type), ...module.memories];
  const type = types[memoryIndex];
  if (type === undefined) throw new SnapshotError(`the module has no memory ${memoryIndex} (it has ${types.length})`);
  // A memory64 may ask for more than any memory holds: instantiation refuses it, and so does this.
  if (type.limits.min > MAX_MEMORY_PAGES) throw new SnapshotError(`memory ${memoryIndex} of ${type.limits.min} pages is more than a memory holds (${MAX_MEMORY_PAGES})`);
  const bytes = new Uint8Array(type.limits.min * PAGE_SIZE);
  for (const seg of module.datas) {
    if (seg.mode.kind !== 'active' || seg.mode.memoryIndex !== memoryIndex) continue;
    const offset = constantOffset(seg.mode.offset);
    if (offset === undefined || offset + seg.bytes.length > bytes.length) continue;
    bytes.set(seg.bytes, offset);
  }
  return bytes;
}
