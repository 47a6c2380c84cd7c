import { HeapType, refType } from '../wasm/index.ts';
import type { FuncType, GlobalType, Module, RefType, TableType, MemoryType } from '../wasm/index.ts';
import { TypeRelations } from './ref-subtyping.ts';

/**
 * The index spaces of a module as validation sees them (spec 3.1.1, "contexts"):
 * imports first, then definitions. Built once per module and shared by every function.
 */
export interface ModuleContext {
  module: Module;
  types: FuncType[];
  /** Type index of every function, imported ones first. */
  funcTypeIndices: number[];
  tables: TableType[];
  memories: MemoryType[];
  globals: GlobalType[];
  elemTypes: RefType[];
  dataCount: number | undefined;
  /** Functions that may be named by `ref.func` inside function bodies (spec: C.refs). */
  declaredRefs: Set<number>;
  /**
   * Where the module first uses an extended constant expression (Wasm 3.0: arithmetic,
   * or a global the module defines), undefined if nowhere; set by module validation.
   * Node 20's V8 does not take them, so the native tier asks.
   */
  extendedConstUse?: string;
  /** Subtyping and type equivalence of the module's types (Wasm 3.0 typed references). */
  relations: TypeRelations;
  /**
   * Where the module first uses typed function references (Wasm 3.0: a `(ref ...)` type,
   * `call_ref`, `br_on_null`, a table initializer...), undefined if nowhere; set by
   * validation. Node 20's V8 runs them only behind a flag, so the native tier asks.
   */
  typedRefUse?: string;
  /** Type index of every exception tag (Wasm 3.0), imported ones first. */
  tagTypeIndices: number[];
  /**
   * Where the module first has a 64-bit memory or table (Wasm 3.0 memory64, table64),
   * undefined if nowhere; set by validation. Node 20's V8 does not ship memory64, so the
   * native tier asks.
   */
  index64Use?: string;
}

export function buildModuleContext(module: Module): ModuleContext {
  const funcTypeIndices: number[] = [];
  const tables: TableType[] = [];
  const memories: MemoryType[] = [];
  const globals: GlobalType[] = [];
  const tagTypeIndices: number[] = [];
  for (const imp of module.imports) {
    switch (imp.desc.kind) {
      case 'func': funcTypeIndices.push(imp.desc.typeIndex); break;
      case 'table': tables.push(imp.desc.type); break;
      case 'memory': memories.push(imp.desc.type); break;
      case 'global': globals.push(imp.desc.type); break;
      case 'tag': tagTypeIndices.push(imp.desc.typeIndex); break;
    }
  }
  for (const t of module.funcs) funcTypeIndices.push(t);
  for (const t of module.tables) tables.push(t);
  for (const m of module.memories) memories.push(m);
  for (const g of module.globals) globals.push(g.type);
  for (const t of module.tags) tagTypeIndices.push(t);

  // ref.func in code may only name functions referenced outside code (exports,
  // element segments, global initialisers): that is what makes them "declared".
  const declaredRefs = new Set<number>();
  for (const e of module.exports) if (e.kind === 'func') declaredRefs.add(e.index);
  for (const seg of module.elems) for (const item of seg.items) for (const ins of item.instrs) if (ins.op === 0xd2) declaredRefs.add(ins.a);
  for (const g of module.globals) for (const ins of g.init.instrs) if (ins.op === 0xd2) declaredRefs.add(ins.a);

  return {
    module,
    types: module.types,
    funcTypeIndices,
    tables,
    memories,
    globals,
    elemTypes: module.elems.map((e) => (e.funcIndices ? refType(HeapType.func, false) as RefType : e.type)),
    dataCount: module.dataCount,
    declaredRefs,
    relations: new TypeRelations(module.types),
    tagTypeIndices,
  };
}
