/**
 * Decoders for the module-level sections other than code, element and data:
 * type, import, function, table, memory, global, export, start and data count.
 * Spec: https://webassembly.github.io/spec/core/binary/modules.html
 *
 * Each reads its section's content at `r.pos`; the caller checks the section size.
 */
import { DecodeError } from '../errors/index.ts';
import type { Export, ExternKind, Global, Import, ImportDesc, Module } from '../wasm/index.ts';
import { readConstExpr } from './const-expr.ts';
import type { Instr, InstructionReader } from './instructions.ts';
import type { ByteReader } from './reader.ts';
import { readFuncType, readGlobalType, readMemoryType, readTableType } from './types.ts';

const EXTERN_KINDS: readonly ExternKind[] = ['func', 'table', 'memory', 'global'];

export function readTypeSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.types.push(readFuncType(r));
}

export function readImportSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) {
    const module = r.name();
    const name = r.name();
    const p = r.pos;
    const kind = r.u8();
    let desc: ImportDesc;
    switch (kind) {
      case 0: desc = { kind: 'func', typeIndex: r.u32() }; m.numImportedFuncs++; break;
      case 1: desc = { kind: 'table', type: readTableType(r) }; m.numImportedTables++; break;
      case 2: desc = { kind: 'memory', type: readMemoryType(r) }; m.numImportedMemories++; break;
      case 3: desc = { kind: 'global', type: readGlobalType(r) }; m.numImportedGlobals++; break;
      default: throw new DecodeError('malformed import kind', p);
    }
    const imp: Import = { module, name, desc };
    m.imports.push(imp);
  }
}

export function readFunctionSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.funcs.push(r.u32());
}

export function readTableSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.tables.push(readTableType(r));
}

export function readMemorySection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.memories.push(readMemoryType(r));
}

export function readGlobalSection(r: InstructionReader, m: Module, scratch: Instr): void {
  const n = r.len();
  for (let i = 0; i < n; i++) {
    const type = readGlobalType(r);
    const global: Global = { type, init: readConstExpr(r, scratch) };
    m.globals.push(global);
  }
}

export function readExportSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) {
    const name = r.name();
    const p = r.pos;
    const kind = r.u8();
    if (kind > 3) throw new DecodeError('malformed export kind', p);
    const exp: Export = { name, kind: EXTERN_KINDS[kind]!, index: r.u32() };
    m.exports.push(exp);
  }
}

export function readStartSection(r: ByteReader, m: Module): void {
  m.start = r.u32();
}

export function readDataCountSection(r: ByteReader, m: Module): void {
  m.dataCount = r.u32();
}
