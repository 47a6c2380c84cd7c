/**
 * The module model: what the decoder produces and every later layer reads.
 * Plain interfaces and numbers only, so that a module can be inspected, cached and
 * compared without any class machinery. Spec: https://webassembly.github.io/spec/core/syntax/modules.html
 */
import { TYPED_REF_BASE, typedRefName } from './ref-types.ts';
import type { TypedRefType } from './ref-types.ts';

/** Value types by their binary encoding (spec 5.3.1). */
export const ValType = {
  /** 32-bit integer; a JS number. */
  i32: 0x7f,
  /** 64-bit integer; a JS bigint. */
  i64: 0x7e,
  /** 32-bit float; a JS number. */
  f32: 0x7d,
  /** 64-bit float; a JS number. */
  f64: 0x7c,
  /** 128-bit vector (SIMD): decoded so that it can be rejected clearly. */
  v128: 0x7b,
  /** A reference to a function, or null. */
  funcref: 0x70,
  /** A reference to a host value, or null. */
  externref: 0x6f,
  /** A reference to a caught exception, or null (Wasm 3.0 exception handling). */
  exnref: 0x69,
} as const;
/**
 * A value type: one of the {@link ValType} byte codes, or a typed reference (Wasm 3.0,
 * packed by `refType` in `ref-types.ts`).
 */
export type ValType = (typeof ValType)[keyof typeof ValType] | TypedRefType;
/** The reference types: what tables hold (spec 2.3.3); typed references and exnref since Wasm 3.0. */
export type RefType = typeof ValType.funcref | typeof ValType.externref | typeof ValType.exnref | TypedRefType;

/** A value type's name in the text format (`i32`, `funcref`, ...). */
export function valTypeName(t: number): string {
  switch (t) {
    case ValType.i32: return 'i32';
    case ValType.i64: return 'i64';
    case ValType.f32: return 'f32';
    case ValType.f64: return 'f64';
    case ValType.v128: return 'v128';
    case ValType.funcref: return 'funcref';
    case ValType.externref: return 'externref';
    case ValType.exnref: return 'exnref';
    default: return t >= TYPED_REF_BASE ? typedRefName(t) : `type 0x${t.toString(16)}`;
  }
}

/** A function type (spec 2.3.5): parameters and results. */
export interface FuncType {
  /** Parameter types, in order. */
  params: ValType[];
  /** Result types, in order. */
  results: ValType[];
}

/** Size limits of a memory (in pages) or a table (in elements). */
export interface Limits {
  /** The initial size. */
  min: number;
  /** Absent when the binary gives no maximum. */
  max: number | undefined;
  /**
   * Wasm 3.0 memory64 / table64: the memory or table is addressed with i64 (limits flag
   * 0x04), and its limits are u64 (exact up to 2^53, see `ByteReader.u64`). Absent: i32.
   */
  index64?: boolean;
}

/** A table's type: what it holds and how large it may grow. */
export interface TableType {
  /** The reference type of its elements. */
  elemType: RefType;
  /** Its size limits, in elements. */
  limits: Limits;
  /**
   * A defined table's initializer (Wasm 3.0 `0x40 0x00 tabletype expr`): every element
   * starts as its value; absent, they start null.
   */
  init?: ConstExpr;
}

/** A linear memory's type. */
export interface MemoryType {
  /** Its size limits, in 64 KiB pages. */
  limits: Limits;
  /** threads proposal: a shared memory. Decoded so it can be rejected clearly. */
  shared: boolean;
}

/** A global's type. */
export interface GlobalType {
  /** The type of its value. */
  type: ValType;
  /** Whether `global.set` may change it. */
  mutable: boolean;
}

/** The kinds of entity a module imports or exports. */
export type ExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

/** What an import asks for: a function of a type, or a table, memory or global of a type. */
export type ImportDesc =
  | {
    /** A function. */
    kind: 'func';
    /** Index of its type in the module's type section. */
    typeIndex: number;
  }
  | {
    /** A table. */
    kind: 'table';
    /** The table type it must have. */
    type: TableType;
  }
  | {
    /** A memory. */
    kind: 'memory';
    /** The memory type it must have. */
    type: MemoryType;
  }
  | {
    /** A global. */
    kind: 'global';
    /** The global type it must have. */
    type: GlobalType;
  }
  | {
    /** An exception tag (Wasm 3.0). */
    kind: 'tag';
    /** Index of its function type (parameters: the exception's values; no results). */
    typeIndex: number;
  };

/** An import (spec 2.5.11): a two-level name and what it must be. */
export interface Import {
  /** The first-level name (for WASI: `wasi_snapshot_preview1`). */
  module: string;
  /** The second-level name. */
  name: string;
  /** What kind of entity, of which type. */
  desc: ImportDesc;
}

/** An export (spec 2.5.10): a name for an entity of the module. */
export interface Export {
  /** The exported name. */
  name: string;
  /** The kind of entity. */
  kind: ExternKind;
  /** Its index in the module's index space of that kind (imports first). */
  index: number;
}

/**
 * A constant expression (global initialisers, segment offsets, element items),
 * kept as the instructions the binary holds up to its `end`; validation checks that
 * they are constant and of the right type, instantiation evaluates them.
 */
export interface ConstExpr {
  /** Its instructions, without the final `end`. */
  instrs: ConstInstr[];
  /** Byte offset of the first instruction in the module. */
  offset: number;
}

/** A decoded instruction of a constant expression (see `Instr` for the fields). */
export interface ConstInstr {
  /** The opcode. */
  op: number;
  /** Byte offset of the instruction in the module. */
  offset: number;
  /** The first immediate (an index, or the low 32 bits of a constant). */
  a: number;
  /** The second immediate (the high 32 bits of an i64 or f64 constant). */
  b: number;
  /** The 16 bytes of a `v128.const` (a view into the module bytes); absent for other ops. */
  bytes?: Uint8Array;
}

/** A global defined by the module. */
export interface Global {
  /** Its type. */
  type: GlobalType;
  /** The constant expression that gives its initial value. */
  init: ConstExpr;
}

/** How an element segment is used (spec 2.5.8). */
export type ElemMode =
  | {
    /** Used only by `table.init`. */
    kind: 'passive';
  }
  | {
    /** Only declares references for `ref.func`; never copied. */
    kind: 'declarative';
  }
  | {
    /** Copied into a table at instantiation. */
    kind: 'active';
    /** The table it goes in. */
    tableIndex: number;
    /** Where in the table it starts. */
    offset: ConstExpr;
  };

/** An element segment: references to put in a table. */
export interface ElemSegment {
  /** The type of its references. */
  type: RefType;
  /** Each item is a constant expression yielding a reference (`ref.func i` or `ref.null t`). */
  items: ConstExpr[];
  /** Passive, declarative, or active (copied into a table at instantiation). */
  mode: ElemMode;
  /**
   * Given as function indices (element flags 0 to 3): Wasm 3.0 types such a segment
   * `(ref func)`, as none of its references is null; `type` stays funcref, how the
   * store holds them. Validation reads this (`ModuleContext.elemTypes`).
   */
  funcIndices?: true;
}

/** How a data segment is used (spec 2.5.9). */
export type DataMode =
  | {
    /** Used only by `memory.init`. */
    kind: 'passive';
  }
  | {
    /** Copied into a memory at instantiation. */
    kind: 'active';
    /** The memory it goes in. */
    memoryIndex: number;
    /** Where in the memory it starts. */
    offset: ConstExpr;
  };

/** A data segment: bytes to put in a linear memory. */
export interface DataSegment {
  /** A view into the module bytes (not a copy). */
  bytes: Uint8Array;
  /** Passive, or active (copied into a memory at instantiation). */
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

/** A custom section, kept as it is. */
export interface CustomSection {
  /** The section's name. */
  name: string;
  /** Its contents after the name (a view into the module bytes). */
  bytes: Uint8Array;
  /** Byte offset of its contents in the module. */
  offset: number;
}

/** Names from the `name` custom section; malformed name sections are ignored. */
export interface NameMap {
  /** The module's own name. */
  module: string | undefined;
  /** Function index -> name. */
  functions: Map<number, string>;
  /** Function index -> local index -> name. */
  locals: Map<number, Map<number, string>>;
}

/**
 * A decoded module (spec 2.5): every section, as the binary gives it. What `decodeModule`
 * returns; validation and compilation only read it.
 */
export interface Module {
  /** The whole binary; function bodies and data segments point into it. */
  bytes: Uint8Array;
  /** The type section. */
  types: FuncType[];
  /** The import section, in order (imports come first in every index space). */
  imports: Import[];
  /** Type index of each function defined in the module (not the imported ones). */
  funcs: number[];
  /** Tables defined by the module. */
  tables: TableType[];
  /** Memories defined by the module. */
  memories: MemoryType[];
  /** Globals defined by the module. */
  globals: Global[];
  /** Exception tags defined by the module (Wasm 3.0 tag section), as type indices. */
  tags: number[];
  /** The export section. */
  exports: Export[];
  /** The start function's index, if the module has one. */
  start: number | undefined;
  /** The element section. */
  elems: ElemSegment[];
  /** From the data count section, when present (required by memory.init / data.drop). */
  dataCount: number | undefined;
  /** Each defined function's body, by code index (function index minus imported functions). */
  codes: FuncBody[];
  /** The data section. */
  datas: DataSegment[];
  /** Every custom section (`name` too), in order. */
  customs: CustomSection[];
  /** The `name` section's contents (empty when absent or malformed). */
  names: NameMap;
  // Counts including imports, precomputed because every index space starts with imports.
  /** Imported functions: the first function index of a defined one. */
  numImportedFuncs: number;
  /** Imported tables. */
  numImportedTables: number;
  /** Imported memories. */
  numImportedMemories: number;
  /** Imported globals. */
  numImportedGlobals: number;
  /** Imported tags. */
  numImportedTags: number;
  /**
   * sha256 (hex) of `bytes`, how snapshots name the module: absent until the snapshot
   * layer first asks (`moduleSha256`), which keeps it here; the decoder never computes it.
   */
  sha256?: string;
}
