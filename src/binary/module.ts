/**
 * `decodeModule`: the Wasm 2.0 binary format to the `Module` model.
 * Spec: https://webassembly.github.io/spec/core/binary/modules.html
 *
 * Like the reference interpreter, a section's content is read against the whole module
 * and its size checked afterwards ("section size mismatch"): this is what makes our
 * messages agree with the ones the spec test suite expects. Function bodies are only
 * located here, not decoded.
 */
import { DecodeError } from '../errors/index.ts';
import type { Module } from '../wasm/index.ts';
import { readCodeSection } from './code.ts';
import { createInstr, InstructionReader } from './instructions.ts';
import { decodeNameSection, emptyNames } from './names.ts';
import {
  readDataCountSection, readExportSection, readFunctionSection, readGlobalSection, readImportSection,
  readMemorySection, readStartSection, readTagSection, readTableSection, readTypeSection,
} from './sections.ts';
import { readDataSection, readElemSection } from './segments.ts';

/** Section ids (spec 5.5.2). */
export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  /** Exception tags (Wasm 3.0). */
  tag: 13,
} as const;
export type SectionId = (typeof SectionId)[keyof typeof SectionId];

/**
 * Position of each non-custom section in the required order (data count sits before
 * code, the tag section between memory and global).
 */
const ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10, 5.5];

const MAGIC = 0x6d736100; // "\0asm" read little-endian
const VERSION = 1;

function emptyModule(bytes: Uint8Array): Module {
  return {
    bytes, types: [], imports: [], funcs: [], tables: [], memories: [], globals: [], tags: [], exports: [],
    start: undefined, elems: [], dataCount: undefined, codes: [], datas: [], customs: [],
    names: emptyNames(),
    numImportedFuncs: 0, numImportedTables: 0, numImportedMemories: 0, numImportedGlobals: 0, numImportedTags: 0,
  };
}

/**
 * Decodes a binary module. Throws `DecodeError` (spec: "malformed") with the spec test
 * suite's wording and the byte offset. Function bodies are located (`codes`) but their
 * instructions are left for `InstructionReader`; data segments view `bytes` directly.
 */
export function decodeModule(bytes: Uint8Array): Module {
  const len = bytes.length;
  const r = new InstructionReader(bytes, 0, len);
  if (len < 4) throw new DecodeError('unexpected end', len);
  if (r.u32le() !== MAGIC) throw new DecodeError('magic header not detected', 0);
  if (len < 8) throw new DecodeError('unexpected end', len);
  if (r.u32le() !== VERSION) throw new DecodeError('unknown binary version', 4);

  const m = emptyModule(bytes);
  const scratch = createInstr();
  let lastOrder = 0;
  let namesSeen = false;
  while (r.pos < len) {
    const idPos = r.pos;
    const id = bytes[idPos]!;
    if (id > SectionId.tag) throw new DecodeError('malformed section id', idPos);
    if (id !== SectionId.custom) {
      const order = ORDER[id]!;
      if (order <= lastOrder) throw new DecodeError('unexpected content after last section', idPos);
      lastOrder = order;
    }
    r.pos = idPos + 1;
    const size = r.len();
    const start = r.pos;
    const end = start + size;
    switch (id) {
      case SectionId.custom: {
        const name = r.name();
        const contentStart = r.pos;
        // A name running past the section's size makes this negative: "unexpected end".
        r.skip(end - contentStart);
        m.customs.push({ name, bytes: bytes.subarray(contentStart, end), offset: contentStart });
        if (name === 'name' && !namesSeen) {
          namesSeen = true;
          m.names = decodeNameSection(bytes, contentStart, end) ?? emptyNames();
        }
        break;
      }
      case SectionId.type: readTypeSection(r, m); break;
      case SectionId.import: readImportSection(r, m); break;
      case SectionId.function: readFunctionSection(r, m); break;
      case SectionId.table: readTableSection(r, m, scratch); break;
      case SectionId.memory: readMemorySection(r, m); break;
      case SectionId.global: readGlobalSection(r, m, scratch); break;
      case SectionId.export: readExportSection(r, m); break;
      case SectionId.start: readStartSection(r, m); break;
      case SectionId.element: readElemSection(r, m, scratch); break;
      case SectionId.code: readCodeSection(r, m); break;
      case SectionId.data: readDataSection(r, m, scratch); break;
      case SectionId.dataCount: readDataCountSection(r, m); break;
      case SectionId.tag: readTagSection(r, m); break;
    }
    if (r.pos !== end) throw new DecodeError('section size mismatch', start);
  }

  if (m.funcs.length !== m.codes.length) {
    throw new DecodeError('function and code section have inconsistent lengths', len);
  }
  if (m.dataCount !== undefined && m.dataCount !== m.datas.length) {
    throw new DecodeError('data count and data section have inconsistent lengths', len);
  }
  return m;
}
