/**
 * A tiny builder of Wasm 2.0 binaries for tests, so tests state what a module holds
 * instead of spelling out bytes.
 *
 * ```ts
 * const b = new ModuleBuilder();
 * const t = b.type([ValType.i32, ValType.i32], [ValType.i32]);
 * const add = b.func(t, [0x20, 0, 0x20, 1, 0x6a, 0x0b]); // local.get 0, local.get 1, i32.add, end
 * b.export('add', 'func', add);
 * const bytes = b.build();
 * ```
 *
 * Function bodies and constant expressions are raw instruction bytes INCLUDING their
 * final `end` (0x0b); `constExpr` and the encoders below help write them. Imports must
 * be added before definitions of the same kind (indices are returned as you go).
 * For deliberately malformed binaries, use `header()`, `section()` and the encoders.
 */
import type { ExternKind, RefType } from '../../src/wasm/types.ts';
import { ValType } from '../../src/wasm/types.ts';
import { refHeap, refNullable, TYPED_REF_BASE } from '../../src/wasm/ref-types.ts';

/** Bytes as a plain array or a typed array. */
export type Bytes = ArrayLike<number>;

// ---------------------------------------------------------------- encoders

/** Unsigned LEB128 (any non-negative integer up to 2^53). */
export function u32(n: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`u32: ${n}`);
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** Signed LEB128 of a 32-bit (or smaller) integer. */
export function s32(n: number): number[] {
  return s64(BigInt(n));
}

/** Signed LEB128 of a 64-bit integer. */
export function s64(n: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Little-endian IEEE 754 single. */
export function f32(x: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...b];
}

/** Little-endian IEEE 754 double. */
export function f64(x: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return [...b];
}

/** A name: u32 byte length then UTF-8. */
export function name(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...u32(b.length), ...b];
}

/** A vector: u32 count then each item's bytes. */
export function vec(items: readonly Bytes[]): number[] {
  const out = u32(items.length);
  for (const item of items) for (let i = 0; i < item.length; i++) out.push(item[i]!);
  return out;
}

/** The 8-byte module header. */
export function header(): number[] {
  return [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
}

/** A section: id, u32 size, content. */
export function section(id: number, content: Bytes): number[] {
  return [id, ...u32(content.length), ...Array.from(content)];
}

/** Constant expressions, each ending with `end`. */
export const constExpr = {
  i32: (n: number): number[] => [0x41, ...s32(n), 0x0b],
  i64: (n: bigint): number[] => [0x42, ...s64(n), 0x0b],
  f32: (x: number): number[] => [0x43, ...f32(x), 0x0b],
  f64: (x: number): number[] => [0x44, ...f64(x), 0x0b],
  globalGet: (index: number): number[] => [0x23, ...u32(index), 0x0b],
  refNull: (t: RefType): number[] => [0xd0, t, 0x0b],
  refFunc: (index: number): number[] => [0xd2, ...u32(index), 0x0b],
};

// ---------------------------------------------------------------- builder

/** An element segment: function indices (`funcs`) or expressions (`exprs`). */
export type ElemSpec = {
  /** Element type; funcref by default. */
  type?: RefType;
  funcs?: number[];
  /** Constant expressions, each with its `end`. */
  exprs?: Bytes[];
  /** Forces one of the 8 binary encodings; by default the shortest that fits. */
  flags?: number;
} & ({ mode: 'active'; table?: number; offset: Bytes } | { mode: 'passive' } | { mode: 'declarative' });

/** A data segment. */
export type DataSpec = { bytes: Bytes } & (
  | { mode: 'active'; memory?: number; offset: Bytes }
  | { mode: 'passive' }
);

interface FuncDef { type: number; locals: ValType[]; code: Bytes }
interface GlobalDef { type: ValType; mutable: boolean; init: Bytes }

const KIND_BYTE: Record<ExternKind, number> = { func: 0, table: 1, memory: 2, global: 3, tag: 4 };

/** Limits; `index64` sets flag 0x04 (Wasm 3.0 memory64 / table64), whose bounds are u64 (`u32` encodes any safe integer). */
function limits(min: number, max: number | undefined, index64 = false): number[] {
  const wide = index64 ? 0x04 : 0;
  return max === undefined ? [wide, ...u32(min)] : [wide | 0x01, ...u32(min), ...u32(max)];
}

/** Builds a module section by section; every `add`-like method returns the new index. */
export class ModuleBuilder {
  private readonly types: { params: ValType[]; results: ValType[] }[] = [];
  private readonly imports: number[][] = [];
  private readonly funcs: FuncDef[] = [];
  private readonly tables: number[][] = [];
  private readonly memories: number[][] = [];
  private readonly globals: GlobalDef[] = [];
  private readonly exports: number[][] = [];
  private readonly tags: number[] = [];
  private readonly elems: number[][] = [];
  private readonly datas: number[][] = [];
  private readonly customs: number[][] = [];
  private startFunc: number | undefined;
  private withDataCount = false;
  private importedFuncs = 0;
  private importedTables = 0;
  private importedMemories = 0;
  private importedGlobals = 0;
  private importedTags = 0;

  /** A function type; identical types share one index. */
  type(params: ValType[], results: ValType[]): number {
    const same = (a: ValType[], b: ValType[]) => a.length === b.length && a.every((t, i) => t === b[i]);
    const found = this.types.findIndex((t) => same(t.params, params) && same(t.results, results));
    if (found >= 0) return found;
    this.types.push({ params: [...params], results: [...results] });
    return this.types.length - 1;
  }

  importFunc(module: string, field: string, typeIndex: number): number {
    this.noDefinitions(this.funcs.length, 'function');
    this.imports.push([...name(module), ...name(field), 0x00, ...u32(typeIndex)]);
    return this.importedFuncs++;
  }

  importTable(module: string, field: string, elemType: RefType, min: number, max?: number, index64 = false): number {
    this.noDefinitions(this.tables.length, 'table');
    this.imports.push([...name(module), ...name(field), 0x01, elemType, ...limits(min, max, index64)]);
    return this.importedTables++;
  }

  importMemory(module: string, field: string, min: number, max?: number, index64 = false): number {
    this.noDefinitions(this.memories.length, 'memory');
    this.imports.push([...name(module), ...name(field), 0x02, ...limits(min, max, index64)]);
    return this.importedMemories++;
  }

  importGlobal(module: string, field: string, type: ValType, mutable: boolean): number {
    this.noDefinitions(this.globals.length, 'global');
    this.imports.push([...name(module), ...name(field), 0x03, type, mutable ? 1 : 0]);
    return this.importedGlobals++;
  }

  /** An exception tag import (Wasm 3.0) of function type `typeIndex`. */
  importTag(module: string, field: string, typeIndex: number): number {
    this.noDefinitions(this.tags.length, 'tag');
    this.imports.push([...name(module), ...name(field), 0x04, 0x00, ...u32(typeIndex)]);
    return this.importedTags++;
  }

  /** An exception tag (Wasm 3.0 tag section) whose exceptions carry the parameters of type `typeIndex`. */
  tag(typeIndex: number): number {
    this.tags.push(typeIndex);
    return this.importedTags + this.tags.length - 1;
  }

  /** A function; `code` is its instructions including the final `end`. Returns its index. */
  func(typeIndex: number, code: Bytes, locals: ValType[] = []): number {
    this.funcs.push({ type: typeIndex, locals, code });
    return this.importedFuncs + this.funcs.length - 1;
  }

  /** A table; `index64`: a 64-bit table (table64). */
  table(elemType: RefType, min: number, max?: number, index64 = false): number {
    this.tables.push([...valType(elemType), ...limits(min, max, index64)]);
    return this.importedTables + this.tables.length - 1;
  }

  /** A memory; `index64`: a 64-bit memory (memory64). */
  memory(min: number, max?: number, index64 = false): number {
    this.memories.push(limits(min, max, index64));
    return this.importedMemories + this.memories.length - 1;
  }

  /** A global; `init` is a constant expression including its `end` (see `constExpr`). */
  global(type: ValType, mutable: boolean, init: Bytes): number {
    this.globals.push({ type, mutable, init });
    return this.importedGlobals + this.globals.length - 1;
  }

  export(exportName: string, kind: ExternKind, index: number): this {
    this.exports.push([...name(exportName), KIND_BYTE[kind], ...u32(index)]);
    return this;
  }

  start(funcIndex: number): this {
    this.startFunc = funcIndex;
    return this;
  }

  elem(seg: ElemSpec): number {
    this.elems.push(encodeElem(seg));
    return this.elems.length - 1;
  }

  data(seg: DataSpec): number {
    const bytes = [...u32(seg.bytes.length), ...Array.from(seg.bytes)];
    if (seg.mode === 'passive') this.datas.push([0x01, ...bytes]);
    else if ((seg.memory ?? 0) === 0) this.datas.push([0x00, ...Array.from(seg.offset), ...bytes]);
    else this.datas.push([0x02, ...u32(seg.memory!), ...Array.from(seg.offset), ...bytes]);
    return this.datas.length - 1;
  }

  /** Emits a data count section (needed by memory.init and data.drop). */
  dataCount(): this {
    this.withDataCount = true;
    return this;
  }

  /** A custom section, placed after all the others. */
  custom(sectionName: string, payload: Bytes): this {
    this.customs.push([...name(sectionName), ...Array.from(payload)]);
    return this;
  }

  build(): Uint8Array {
    const out = header();
    const add = (id: number, content: number[] | undefined) => {
      if (content !== undefined) out.push(...section(id, content));
    };
    const ifAny = (items: number[][]) => (items.length > 0 ? vec(items) : undefined);
    add(1, ifAny(this.types.map((t) => [0x60, ...vec(t.params.map(valType)), ...vec(t.results.map(valType))])));
    add(2, ifAny(this.imports));
    add(3, ifAny(this.funcs.map((f) => u32(f.type))));
    add(4, ifAny(this.tables));
    add(5, ifAny(this.memories));
    add(13, ifAny(this.tags.map((t) => [0x00, ...u32(t)])));
    add(6, ifAny(this.globals.map((g) => [...valType(g.type), g.mutable ? 1 : 0, ...Array.from(g.init)])));
    add(7, ifAny(this.exports));
    add(8, this.startFunc === undefined ? undefined : u32(this.startFunc));
    add(9, ifAny(this.elems));
    add(12, this.withDataCount ? u32(this.datas.length) : undefined);
    add(10, ifAny(this.funcs.map(encodeBody)));
    add(11, ifAny(this.datas));
    for (const c of this.customs) add(0, c);
    return new Uint8Array(out);
  }

  private noDefinitions(defined: number, what: string): void {
    if (defined > 0) throw new Error(`ModuleBuilder: add ${what} imports before ${what} definitions`);
  }
}

/**
 * A value type's bytes: its byte, or for a typed reference (Wasm 3.0, packed by
 * `refType`) 0x63 / 0x64 (nullable or not) and the heap type as an s33.
 */
export function valType(t: number): number[] {
  if (t < TYPED_REF_BASE) return [t];
  return [refNullable(t) ? 0x63 : 0x64, ...s32(refHeap(t))];
}

function encodeBody(f: FuncDef): number[] {
  // Runs of one type share a declaration.
  const groups: number[][] = [];
  for (let i = 0; i < f.locals.length;) {
    let j = i;
    while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
    groups.push([...u32(j - i), ...valType(f.locals[i]!)]);
    i = j;
  }
  const body = [...vec(groups), ...Array.from(f.code)];
  return [...u32(body.length), ...body];
}

function encodeElem(seg: ElemSpec): number[] {
  const type = seg.type ?? ValType.funcref;
  const usesExprs = seg.funcs === undefined;
  if (usesExprs === (seg.exprs === undefined)) throw new Error('ModuleBuilder: an element segment needs funcs or exprs');
  if (!usesExprs && type !== ValType.funcref) throw new Error('ModuleBuilder: function indices make a funcref segment');
  const table = seg.mode === 'active' ? (seg.table ?? 0) : 0;
  let flags = seg.flags;
  if (flags === undefined) {
    if (seg.mode === 'active') flags = table === 0 && type === ValType.funcref ? 0 : 2;
    else flags = seg.mode === 'passive' ? 1 : 3;
    if (usesExprs) flags |= 4;
  }
  const out = u32(flags);
  if (seg.mode === 'active') {
    if ((flags & 2) !== 0) out.push(...u32(table));
    out.push(...Array.from(seg.offset));
  }
  // Flags 0 and 4 leave the type implicit; the others give an elemkind or a reftype.
  if (flags !== 0 && flags !== 4) out.push(...(usesExprs ? valType(type) : [0x00]));
  out.push(...(usesExprs ? vec(seg.exprs!) : vec(seg.funcs!.map(u32))));
  return out;
}
