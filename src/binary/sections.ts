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

const EXTERN_KINDS: readonly ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

export function readTypeSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.types.push(readFuncType(r));
}

/**
 * The import section. Besides one entry per import, the compact encodings (the
 * compact-import-section proposal) that the converted Wasm 3.0 suite's binaries use:
 * after a module name, an empty name and 0x7f, a vector of (name, type) for that
 * module; or 0x7e, one type, then a vector of names. The section's count is the number
 * of imports either way.
 */
export function readImportSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n;) {
    const module = r.name();
    const name = r.name();
    const p = r.pos;
    if (name === '' && p < r.end && (r.bytes[p] === 0x7f || r.bytes[p] === 0x7e)) {
      const shared = r.u8() === 0x7e;
      const desc = shared ? readImportDesc(r) : undefined;
      const count = r.len();
      if (i + count > n) throw new DecodeError('malformed import section: more imports than its count', p);
      for (let j = 0; j < count; j++, i++) {
        const each = r.name();
        addImport(m, { module, name: each, desc: desc ?? readImportDesc(r) });
      }
      continue;
    }
    addImport(m, { module, name, desc: readImportDesc(r) });
    i++;
  }
}

/** What an import is: its kind byte and type. */
function readImportDesc(r: ByteReader): ImportDesc {
  const p = r.pos;
  const kind = r.u8();
  switch (kind) {
    case 0: return { kind: 'func', typeIndex: r.u32() };
    case 1: return { kind: 'table', type: readTableType(r) };
    case 2: return { kind: 'memory', type: readMemoryType(r) };
    case 3: return { kind: 'global', type: readGlobalType(r) };
    case 4: return { kind: 'tag', typeIndex: readTagType(r) };
    default: throw new DecodeError('malformed import kind', p);
  }
}

/** Adds an import to the module, counted in its index space. */
function addImport(m: Module, imp: Import): void {
  switch (imp.desc.kind) {
    case 'func': m.numImportedFuncs++; break;
    case 'table': m.numImportedTables++; break;
    case 'memory': m.numImportedMemories++; break;
    case 'global': m.numImportedGlobals++; break;
    case 'tag': m.numImportedTags++; break;
  }
  m.imports.push(imp);
}

export function readFunctionSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.funcs.push(r.u32());
}

/**
 * Tables: a table type, or (Wasm 3.0) `0x40 0x00 tabletype expr`, a table whose elements
 * start as the value of an initializer expression (how a table of non-nullable
 * references gets its elements).
 */
export function readTableSection(r: InstructionReader, m: Module, scratch: Instr): void {
  const n = r.len();
  for (let i = 0; i < n; i++) {
    if (r.pos < r.end && r.bytes[r.pos] === 0x40) {
      r.pos++;
      const p = r.pos;
      if (r.u8() !== 0x00) throw new DecodeError('malformed table', p);
      const type = readTableType(r);
      m.tables.push({ ...type, init: readConstExpr(r, scratch) });
    } else {
      m.tables.push(readTableType(r));
    }
  }
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
    if (kind > 4) throw new DecodeError('malformed export kind', p);
    const exp: Export = { name, kind: EXTERN_KINDS[kind]!, index: r.u32() };
    m.exports.push(exp);
  }
}

/** A tag type (Wasm 3.0): the attribute byte, 0 for an exception, then a type index. */
function readTagType(r: ByteReader): number {
  const p = r.pos;
  if (r.u8() !== 0) throw new DecodeError('malformed tag attribute', p);
  return r.u32();
}

/** The tag section (id 13): one tag type per exception tag the module defines. */
export function readTagSection(r: ByteReader, m: Module): void {
  const n = r.len();
  for (let i = 0; i < n; i++) m.tags.push(readTagType(r));
}

export function readStartSection(r: ByteReader, m: Module): void {
  m.start = r.u32();
}

export function readDataCountSection(r: ByteReader, m: Module): void {
  m.dataCount = r.u32();
}
