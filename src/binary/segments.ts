/**
 * Element and data segments, in all their binary encodings (element flags 0..7, data
 * flags 0..2). Spec: https://webassembly.github.io/spec/core/binary/modules.html#element-section
 */
import { DecodeError } from '../errors/index.ts';
import type { ConstExpr, DataSegment, ElemMode, ElemSegment, Module, RefType } from '../wasm/index.ts';
import { ValType } from '../wasm/index.ts';
import { readConstExpr, refFuncExpr } from './const-expr.ts';
import type { Instr, InstructionReader } from './instructions.ts';
import type { ByteReader } from './reader.ts';
import { readRefType } from './types.ts';

/** `elemkind`: the only kind in Wasm 2.0 is 0x00, funcref. */
function readElemKind(r: ByteReader): RefType {
  const p = r.pos;
  if (r.u8() !== 0x00) throw new DecodeError('malformed element kind', p);
  return ValType.funcref;
}

function readFuncIndexItems(r: ByteReader): ConstExpr[] {
  const n = r.len();
  const items: ConstExpr[] = [];
  for (let i = 0; i < n; i++) {
    const offset = r.pos;
    items.push(refFuncExpr(r.u32(), offset));
  }
  return items;
}

function readExprItems(r: InstructionReader, scratch: Instr): ConstExpr[] {
  const n = r.len();
  const items: ConstExpr[] = [];
  for (let i = 0; i < n; i++) items.push(readConstExpr(r, scratch));
  return items;
}

/**
 * The flags are a bit field: bit 0 passive/declarative (vs active), bit 1 an explicit
 * table index (active) or declarative (otherwise), bit 2 expressions instead of indices.
 */
function readElemSegment(r: InstructionReader, scratch: Instr): ElemSegment {
  const p = r.pos;
  const flags = r.u32();
  if (flags > 7) throw new DecodeError('malformed elements segment kind', p);
  const usesExprs = (flags & 4) !== 0;
  let mode: ElemMode;
  let type: RefType = ValType.funcref;
  if ((flags & 1) === 0) {
    const tableIndex = (flags & 2) !== 0 ? r.u32() : 0;
    mode = { kind: 'active', tableIndex, offset: readConstExpr(r, scratch) };
    // Flags 0 and 4 imply funcref; 2 and 6 spell the type out.
    if ((flags & 2) !== 0) type = usesExprs ? readRefType(r) : readElemKind(r);
  } else {
    mode = (flags & 2) !== 0 ? { kind: 'declarative' } : { kind: 'passive' };
    type = usesExprs ? readRefType(r) : readElemKind(r);
  }
  if (!usesExprs) return { type, items: readFuncIndexItems(r), mode, funcIndices: true };
  return { type, items: readExprItems(r, scratch), mode };
}

export function readElemSection(r: InstructionReader, m: Module, scratch: Instr): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.elems.push(readElemSegment(r, scratch));
}

function readDataSegment(r: InstructionReader, scratch: Instr): DataSegment {
  const p = r.pos;
  const flags = r.u32();
  switch (flags) {
    case 0: {
      const offset = readConstExpr(r, scratch);
      return { mode: { kind: 'active', memoryIndex: 0, offset }, bytes: r.view(r.len()) };
    }
    case 1:
      return { mode: { kind: 'passive' }, bytes: r.view(r.len()) };
    case 2: {
      const memoryIndex = r.u32();
      const offset = readConstExpr(r, scratch);
      return { mode: { kind: 'active', memoryIndex, offset }, bytes: r.view(r.len()) };
    }
    default:
      throw new DecodeError('malformed data segment kind', p);
  }
}

export function readDataSection(r: InstructionReader, m: Module, scratch: Instr): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.datas.push(readDataSegment(r, scratch));
}
