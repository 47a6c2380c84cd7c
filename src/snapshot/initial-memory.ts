/**
 * A linear memory as instantiation leaves it, known from the module alone: zeros, then
 * the active data segments whose offset is a constant. Both sides of a migration compute
 * it from the same module, so its blocks never need to travel.
 */
import { SnapshotError } from '../errors/index.ts';
import type { ConstExpr, Module } from '../wasm/index.ts';
import { PAGE_SIZE } from './canonical.ts';

const I32_CONST = 0x41;

/** The offset a constant expression gives without any import, or undefined (`global.get` of an import). */
function constantOffset(expr: ConstExpr): number | undefined {
  if (expr.instrs.length !== 1 || expr.instrs[0].op !== I32_CONST) return undefined;
  return expr.instrs[0].a >>> 0;
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
  const bytes = new Uint8Array(type.limits.min * PAGE_SIZE);
  for (const seg of module.datas) {
    if (seg.mode.kind !== 'active' || seg.mode.memoryIndex !== memoryIndex) continue;
    const offset = constantOffset(seg.mode.offset);
    if (offset === undefined || offset + seg.bytes.length > bytes.length) continue;
    bytes.set(seg.bytes, offset);
  }
  return bytes;
}
