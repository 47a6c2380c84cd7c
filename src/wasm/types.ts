/**
 * The module model: what the decoder produces and every later layer reads.
 * Plain interfaces and numbers only, so that a module can be inspected, cached and
 * compared without any class machinery. Spec: https://webassembly.github.io/spec/core/syntax/modules.html
 */

/** Value types by their binary encoding (spec 5.3.1). */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
  funcref: 0x70,
  externref: 0x6f,
} as const;
export type ValType = (typeof ValType)[keyof typeof ValType];
export type RefType = typeof ValType.funcref | typeof ValType.externref;

export function isRefType(t: number): t is RefType {
  return t === ValType.funcref || t === ValType.externref;
}

export function valTypeName(t: number): string {
  switch (t) {
    case ValType.i32: return 'i32';
    case ValType.i64: return 'i64';
    case ValType.f32: return 'f32';
    case ValType.f64: return 'f64';
    case ValType.v128: return 'v128';
    case ValType.funcref: return 'funcref';
    case ValType.externref: return 'externref';
    default: return `type 0x${t.toString(16)}`;
  }
}

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface Limits {
  min: number;
  /** Absent when the binary gives no maximum. */
  max: number | undefined;
}

export interface TableType {
  elemType: RefType;
  limits: Limits;
}

export interface MemoryType {
  limits: Limits;
  /** threads proposal: a shared memory. Decoded so it can be rejected clearly. */
  shared: boolean;
}

export interface GlobalType {
  type: ValType;
  mutable: boolean;
}

export type ExternKind = 'func' | 'table' | 'memory' | 'global';

export type ImportDesc =
  | { kind: 'func'; typeIndex: number }
  | { kind: 'table'; type: TableType }
  | { kind: 'memory'; type: MemoryType }
  | { kind: 'global'; type: GlobalType };

export interface Import {
  module: string;
  name: string;
  desc: ImportDesc;
}

export interface Export {
  name: string;
  kind: ExternKind;
  index: number;
}

/**
 * A constant expression (global initialisers, segment offsets, element items),
 * kept as the instructions the binary holds up to its `end`; validation checks that
 * they are constant and of the right type, instantiation evaluates them.
 */
export interface ConstExpr {
  instrs: ConstInstr[];
  /** Byte offset of the first instruction in the module. */
  offset: number;
}

/** A decoded instruction of a constant expression (see `Instr` for the fields). */
export interface ConstInstr {
  op: number;
  offset: number;
  a: number;
  b: number;
  /** The 16 bytes of a `v128.const` (a view into the module bytes); absent for other ops. */
  bytes?: Uint8Array;
}

export interface Global {
  type: GlobalType;
  init: ConstExpr;
}

export type ElemMode =
  | { kind: 'passive' }
  | { kind: 'declarative' }
  | { kind: 'active'; tableIndex: number; offset: ConstExpr };

export interface ElemSegment {
  type: RefType;
  /** Each item is a constant expression yielding a reference (`ref.func i` or `ref.null t`). */
  items: ConstExpr[];
  mode: ElemMode;
}

export type DataMode =
  | { kind: 'passive' }
  | { kind: 'active'; memoryIndex: number; offset: ConstExpr };

export interface DataSegment {
  /** A view into the module bytes (not a copy). */
  bytes: Uint8Array;
  mode: DataMode;
}

/** A function body: where its code lies in the module bytes, and its declared locals. */
export interface FuncBody {
  /** Declared locals (not parameters), expanded: one entry per local. */
  locals: ValType[];
  /** Byte offset of the first instruction (after the local declarations). */
  codeStart: number;
  /** Byte offset just past the final `end` of the body. */
  codeEnd: number;
  /** Byte offset of the body's size field, for error messages. */
  bodyOffset: number;
}

export interface CustomSection {
  name: string;
  bytes: Uint8Array;
  offset: number;
}

/** Names from the `name` custom section; malformed name sections are ignored. */
export interface NameMap {
  module: string | undefined;
  functions: Map<number, string>;
  locals: Map<number, Map<number, string>>;
}

export interface Module {
  /** The whole binary; function bodies and data segments point into it. */
  bytes: Uint8Array;
  types: FuncType[];
  imports: Import[];
  /** Type index of each function defined in the module (not the imported ones). */
  funcs: number[];
  tables: TableType[];
  memories: MemoryType[];
  globals: Global[];
  exports: Export[];
  start: number | undefined;
  elems: ElemSegment[];
  /** From the data count section, when present (required by memory.init / data.drop). */
  dataCount: number | undefined;
  codes: FuncBody[];
  datas: DataSegment[];
  customs: CustomSection[];
  names: NameMap;
  // Counts including imports, precomputed because every index space starts with imports.
  numImportedFuncs: number;
  numImportedTables: number;
  numImportedMemories: number;
  numImportedGlobals: number;
}
