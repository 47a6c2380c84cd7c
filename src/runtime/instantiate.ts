import { LinkError, Trap } from '../errors/index.ts';
import type { CompiledModule } from '../compile/index.ts';
import { canonicalTypeIds, FuncKind, newMemoryObject } from '../exec/index.ts';
import type { GlobalState, HostCallback, InstanceState, MemoryState, StoreState, TableState } from '../exec/index.ts';
import type { ConstExpr, ExternKind, FuncType, Limits, RefType, ValType } from '../wasm/index.ts';

/** Two function types with the same parameter and result types, one for one (a tag's type: it has no results). */
function sameSignature(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length
    && a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}
import { MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS, refStorageType, storeTypeMatches, storeValType, TYPED_REF_BASE, valTypeName } from '../wasm/index.ts';

/** Something an instance exports or another imports: a kind and a store address. */
export interface ExternVal {
  /** The kind of entity. */
  kind: ExternKind;
  /** Its address in the store's list of that kind. */
  addr: number;
}

/** What an import may be given: another instance's export, or a JS function (typed by the import). */
export type ImportValue = ExternVal | HostCallback;
/** The imports of an instantiation: module name -> field name -> value. */
export type Imports = Record<string, Record<string, ImportValue | undefined> | undefined>;

/** A module instantiated in a store (spec 4.2.5). */
export interface Instance {
  /** The module it is an instance of. */
  compiled: CompiledModule;
  /**
   * Its entities' store addresses and segments, as plain data.
   * @internal
   */
  state: InstanceState;
  /** Its exports by name. */
  exports: Map<string, ExternVal>;
}

/** Limits applied when instantiating. */
export interface InstantiateOptions {
  /** Upper bound on any memory's pages, whatever the module asks (the embedder's limit). */
  maxMemoryPages?: number;
}

const WASM_MAX_PAGES = MAX_MEMORY_PAGES;

function isExternVal(v: ImportValue): v is ExternVal {
  return typeof v === 'object' && v !== null && typeof (v as ExternVal).addr === 'number';
}

function limitsMatch(actualMin: number, actualMax: number | undefined, expected: Limits): boolean {
  if (actualMin < expected.min) return false;
  if (expected.max === undefined) return true;
  return actualMax !== undefined && actualMax <= expected.max;
}

/**
 * Allocates a module instance in the store (spec 4.5.4): resolves imports, creates
 * functions, tables, memories and globals, and applies active segments. The start
 * function is left to the caller, which owns the thread that runs it.
 */
export function allocateInstance(store: StoreState, compiled: CompiledModule, imports: Imports, options: InstantiateOptions = {}): Instance {
  const module = compiled.module;
  const typeIds = canonicalTypeIds(store, module.types);
  const inst: InstanceState = {
    funcAddrs: [], tableAddrs: [], memAddrs: [], globalAddrs: [], tagAddrs: [], typeIds,
    elems: [], datas: [], names: module.names.functions,
  };

  for (const imp of module.imports) {
    const where = `${imp.module}.${imp.name}`;
    const value = imports[imp.module]?.[imp.name];
    if (value === undefined) throw new LinkError(`unknown import ${where}`);
    const d = imp.desc;
    if (typeof value === 'function') {
      if (d.kind !== 'func') throw new LinkError(`incompatible import type for ${where}: expected a ${d.kind}, got a function`);
      const type = module.types[d.typeIndex];
      inst.funcAddrs.push(store.funcs.length);
      store.funcs.push({ kind: FuncKind.host, type, typeId: typeIds[d.typeIndex], callback: value, name: where });
      continue;
    }
    if (!isExternVal(value) || value.kind !== d.kind) {
      throw new LinkError(`incompatible import type for ${where}: expected a ${d.kind}${isExternVal(value) ? `, got a ${value.kind}` : ''}`);
    }
    switch (d.kind) {
      case 'func': {
        const fn = store.funcs[value.addr];
        // Store-wide type ids: equivalent types of two modules, typed references included, have one id.
        if (fn.typeId !== typeIds[d.typeIndex]) throw new LinkError(`incompatible import type for ${where}: function signature differs`);
        inst.funcAddrs.push(value.addr);
        break;
      }
      case 'table': {
        const t = store.tables[value.addr];
        // Table types are invariant: each element type must match the other (Wasm 3.0).
        const have = t.declared ?? t.elemType, want = storeValType(d.type.elemType, typeIds);
        if (!storeTypeMatches(have, want) || !storeTypeMatches(want, have) || !limitsMatch(t.size, t.max, d.type.limits)) throw new LinkError(`incompatible import type for ${where}: table type differs`);
        if (!t.index64 !== !d.type.limits.index64) throw new LinkError(`incompatible import type for ${where}: ${d.type.limits.index64 ? 'a 64-bit table expected, a 32-bit one given' : 'a 32-bit table expected, a 64-bit one given'}`);
        inst.tableAddrs.push(value.addr);
        break;
      }
      case 'memory': {
        const m = store.memories[value.addr];
        const pages = m.memory.buffer.byteLength / 65536;
        if (!limitsMatch(pages, m.declaredMax, d.type.limits)) throw new LinkError(`incompatible import type for ${where}: memory limits differ`);
        if (!m.index64 !== !d.type.limits.index64) throw new LinkError(`incompatible import type for ${where}: ${d.type.limits.index64 ? 'a 64-bit memory expected, a 32-bit one given' : 'a 32-bit memory expected, a 64-bit one given'}`);
        inst.memAddrs.push(value.addr);
        break;
      }
      case 'global': {
        const g = store.globals[value.addr];
        // An immutable global may be of a subtype; a mutable one must match both ways (Wasm 3.0).
        const have = g.declared ?? g.type, want = storeValType(d.type.type, typeIds);
        if (g.mutable !== d.type.mutable || !storeTypeMatches(have, want) || (g.mutable && !storeTypeMatches(want, have))) {
          throw new LinkError(`incompatible import type for ${where}: expected ${d.type.mutable ? 'mut ' : ''}${valTypeName(d.type.type)}`);
        }
        inst.globalAddrs.push(value.addr);
        break;
      }
      case 'tag': {
        // A tag's identity is its address: the importer throws and catches the exporter's exceptions.
        if (!sameSignature(store.tags[value.addr].type, module.types[d.typeIndex])) throw new LinkError(`incompatible import type for ${where}: tag type differs`);
        inst.tagAddrs.push(value.addr);
        break;
      }
    }
  }

  module.funcs.forEach((typeIndex, i) => {
    inst.funcAddrs.push(store.funcs.length);
    store.funcs.push({ kind: FuncKind.wasm, type: module.types[typeIndex], typeId: typeIds[typeIndex], instance: inst, compiled: compiled.functions[i] });
  });
  module.tables.forEach((t, i) => {
    if (t.limits.min > MAX_TABLE_ELEMENTS) throw new LinkError(`table ${module.tables.length === 1 ? '' : `${i} `}of ${t.limits.min} elements: more than the ${MAX_TABLE_ELEMENTS} a table can hold on either tier`);
  });
  for (const t of module.tables) {
    inst.tableAddrs.push(store.tables.length);
    // The store holds every function reference as a funcref (typed references are function references).
    const table: TableState = { elemType: refStorageType(t.elemType) as RefType, elements: new Int32Array(t.limits.min), size: t.limits.min, max: t.limits.max };
    if (t.limits.index64) table.index64 = true;
    if (t.elemType >= TYPED_REF_BASE) table.declared = storeValType(t.elemType, typeIds);
    store.tables.push(table);
  }
  for (const m of module.memories) {
    inst.memAddrs.push(store.memories.length);
    store.memories.push(createMemory(m.limits, options.maxMemoryPages));
  }
  for (const typeIndex of module.tags) {
    inst.tagAddrs.push(store.tags.length);
    store.tags.push({ type: module.types[typeIndex] });
  }
  for (const g of module.globals) {
    const [lo, hi, lo2, hi2] = evalConst(store, inst, g.init);
    inst.globalAddrs.push(store.globals.length);
    const global: GlobalState = { type: refStorageType(g.type.type) as ValType, mutable: g.type.mutable, lo, hi, lo2, hi2 };
    if (g.type.type >= TYPED_REF_BASE) global.declared = storeValType(g.type.type, typeIds);
    store.globals.push(global);
  }
  // Wasm 3.0 table initializers, which may read the globals: every element starts as the value.
  module.tables.forEach((t, i) => {
    if (t.init !== undefined) store.tables[inst.tableAddrs[module.numImportedTables + i]].elements.fill(evalConst(store, inst, t.init)[0]);
  });
  inst.elems = module.elems.map((seg) => Int32Array.from(seg.items, (item) => evalConst(store, inst, item)[0]));
  inst.datas = module.datas.map((seg) => seg.bytes);

  const exports = new Map<string, ExternVal>();
  for (const e of module.exports) {
    const addrs = e.kind === 'func' ? inst.funcAddrs : e.kind === 'table' ? inst.tableAddrs : e.kind === 'memory' ? inst.memAddrs
      : e.kind === 'tag' ? inst.tagAddrs : inst.globalAddrs;
    exports.set(e.name, { kind: e.kind, addr: addrs[e.index] });
  }

  // Active segments, in order; a failing one traps but what came before stays (spec 2.0).
  module.elems.forEach((seg, i) => {
    if (seg.mode.kind === 'active') {
      const offset = constAddress(evalConst(store, inst, seg.mode.offset));
      const table = store.tables[inst.tableAddrs[seg.mode.tableIndex]];
      const items = inst.elems[i]!;
      if (offset + items.length > table.size) throw new Trap('out of bounds table access');
      table.elements.set(items, offset);
      inst.elems[i] = null;
    } else if (seg.mode.kind === 'declarative') {
      inst.elems[i] = null;
    }
  });
  module.datas.forEach((seg, i) => {
    if (seg.mode.kind === 'active') {
      const offset = constAddress(evalConst(store, inst, seg.mode.offset));
      const mem = store.memories[inst.memAddrs[seg.mode.memoryIndex]];
      if (offset + seg.bytes.length > mem.memory.buffer.byteLength) throw new Trap('out of bounds memory access');
      new Uint8Array(mem.memory.buffer).set(seg.bytes, offset);
      inst.datas[i] = null;
    }
  });

  return { compiled, state: inst, exports };
}

/**
 * A segment's offset from its constant's raw bits: an i32 is unsigned; an i64 (memory64,
 * table64) too, its high word counted, so an offset past 2^32 is out of bounds, not wrapped.
 */
function constAddress(bits: readonly number[]): number {
  return (bits[1] >>> 0) * 2 ** 32 + (bits[0] >>> 0);
}

/**
 * The pages this host can hold in one memory, 64-bit or not: V8's `WebAssembly.Memory`
 * (Node 20) allocates 65,536 pages (4 GiB) at most, and the memory must be one, so that
 * the native tier shares it and snapshots restore it anywhere.
 */
const HOST_MAX_PAGES = WASM_MAX_PAGES;

export function createMemory(limits: Limits, embedderMaxPages: number | undefined): MemoryState {
  // A 64-bit memory may declare up to 2^48 pages; it grows only as far as the host can.
  let maxPages = Math.min(limits.max ?? HOST_MAX_PAGES, HOST_MAX_PAGES);
  if (embedderMaxPages !== undefined && embedderMaxPages < maxPages) maxPages = embedderMaxPages;
  if (limits.index64 && limits.min > HOST_MAX_PAGES) {
    throw new LinkError(`memory64 of ${limits.min} pages: more than this host can allocate (${HOST_MAX_PAGES} pages, 4 GiB)`);
  }
  if (limits.min > maxPages) throw new LinkError(`memory of ${limits.min} pages exceeds the limit of ${maxPages} pages`);
  let memory: WebAssembly.Memory;
  try {
    memory = newMemoryObject(limits.min, limits.max === undefined ? undefined : Math.min(limits.max, HOST_MAX_PAGES), maxPages, limits.index64 === true);
  } catch (cause) {
    throw new LinkError(`cannot allocate a memory of ${limits.min} pages: ${(cause as Error).message}`);
  }
  const state: MemoryState = { memory, view: new DataView(memory.buffer), bytes: new Uint8Array(memory.buffer), maxPages, declaredMax: limits.max };
  if (limits.index64) state.index64 = true;
  return state;
}

/** Evaluates a constant expression to raw bits (lo, hi, and the upper words of a v128). */
export function evalConst(store: StoreState, inst: InstanceState, expr: ConstExpr): [number, number, number, number] {
  const stack: [number, number, number, number][] = [];
  for (const ins of expr.instrs) {
    switch (ins.op) {
      case 0x41: case 0x43: stack.push([ins.a | 0, 0, 0, 0]); break;
      case 0x42: case 0x44: stack.push([ins.a | 0, ins.b | 0, 0, 0]); break;
      case 0xd0: stack.push([0, 0, 0, 0]); break;
      case 0xd2: stack.push([inst.funcAddrs[ins.a] + 1, 0, 0, 0]); break;
      case 0x20c: { // v128.const: four little-endian words of its 16 bytes
        const b = ins.bytes!;
        const w = (i: number): number => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
        stack.push([w(0), w(4), w(8), w(12)]);
        break;
      }
      case 0x23: {
        const g = store.globals[inst.globalAddrs[ins.a]];
        stack.push([g.lo, g.hi, g.lo2, g.hi2]);
        break;
      }
      // Extended constant expressions (Wasm 3.0): i32/i64 add, sub, mul, wrapping.
      case 0x6a: case 0x6b: case 0x6c: {
        const b = stack.pop()![0], a = stack.pop()![0];
        stack.push([ins.op === 0x6a ? (a + b) | 0 : ins.op === 0x6b ? (a - b) | 0 : Math.imul(a, b), 0, 0, 0]);
        break;
      }
      case 0x7c: case 0x7d: case 0x7e: {
        const [bl, bh] = stack.pop()!, [al, ah] = stack.pop()!;
        const a = (BigInt(ah) << 32n) | BigInt(al >>> 0), b = (BigInt(bh) << 32n) | BigInt(bl >>> 0);
        const r = BigInt.asUintN(64, ins.op === 0x7c ? a + b : ins.op === 0x7d ? a - b : a * b);
        stack.push([Number(r & 0xffffffffn) | 0, Number(r >> 32n) | 0, 0, 0]);
        break;
      }
      default: throw new LinkError(`constant expression with opcode 0x${ins.op.toString(16)}`);
    }
  }
  return stack[stack.length - 1];
}
