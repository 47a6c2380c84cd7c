/**
 * Store images: a snapshot of several linked instances (the spec-test harness's store)
 * rebuilt into a brand-new store from the image alone, given the compiled modules (by
 * sha256) and the host functions (by import name). No instantiation is replayed: every
 * entity is created from the image and checked against its module.
 */
import type { CompiledModule } from '../compile/index.ts';
import { SnapshotError } from '../errors/index.ts';
import { canonicalTypeId, canonicalTypeIds, FuncKind, newMemoryObject } from '../exec/index.ts';
import type { HostCallback, InstanceState, MemoryState, TableState } from '../exec/index.ts';
import { evalConst, Execution, Store } from '../runtime/index.ts';
import type { StoreOptions } from '../runtime/index.ts';
import type { FuncType } from '../wasm/index.ts';
import { MAX_MEMORY_PAGES, refStorageType, storeValType, TYPED_REF_BASE, ValType, valTypeName } from '../wasm/index.ts';
import type { CanonicalState } from './canonical.ts';
import { moduleSha256 } from './module-hash.ts';
import { restoreState } from './restore.ts';
import { wholeStoreSpace } from './space.ts';
import type { IndexSpace } from './space.ts';

/** Two function types with the same parameter and result types, one for one (a tag's type: it has no results). */
function sameSignature(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length
    && a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}
import { writeCanonical } from './values.ts';

const WASM_MAX_PAGES = MAX_MEMORY_PAGES;

export interface ImageResolvers {
  /** The compiled module with this sha256, if the embedder has it. */
  module(sha256: string): CompiledModule | undefined;
  /** The host function imported as `name` ("module.field") with this type. */
  host(name: string, type: FuncType): HostCallback | undefined;
  /**
   * A memory of at most `pages` pages with this maximum (a 64-bit memory's declared one
   * capped at the 65,536 pages the host holds), to be overwritten (default: a new one).
   * Lets a caller that rebuilds stores again and again recycle memories.
   */
  memory?(pages: number, max: number | undefined): WebAssembly.Memory;
}

export interface RebuiltStore {
  store: Store;
  /** The image's instances, in its order. */
  instances: InstanceState[];
  space: IndexSpace;
  /** The execution to continue (the image had frames), entered at the thread's depth 0. */
  execution: Execution | undefined;
}

function typeText(t: FuncType): string {
  return `(${t.params.map(valTypeName).join(' ')}) -> (${t.results.map(valTypeName).join(' ')})`;
}

/**
 * Builds a new store holding exactly the image's entities, in its order, and restores
 * the state (frames included) into it. The state's shape must have been checked.
 * @throws SnapshotError for a missing module or host function, or a state that does not fit.
 */
export function rebuildStore(state: CanonicalState, resolvers: ImageResolvers, options: StoreOptions = {}): RebuiltStore {
  const layout = state.store;
  if (layout === undefined) throw new SnapshotError('the snapshot is not a store image');
  const store = new Store(options);
  const s = store.state;
  const modules = layout.instances.map((li, k) => {
    const cm = resolvers.module(li.module);
    if (cm === undefined) throw new SnapshotError(`instance ${k}: module ${li.module} is not available`);
    if (moduleSha256(cm.module) !== li.module) throw new SnapshotError(`instance ${k}: the module given for ${li.module} has another hash`);
    return cm;
  });
  const instances: InstanceState[] = layout.instances.map((li, k) => {
    const cm = modules[k];
    const ctx = cm.context;
    const where = `instance ${k}`;
    const need = (what: string, have: number, want: number): void => {
      if (have !== want) throw new SnapshotError(`${where}: ${have} ${what}, its module has ${want}`);
    };
    need('functions', li.funcs.length, ctx.funcTypeIndices.length);
    need('tables', li.tables.length, ctx.tables.length);
    need('memories', li.memories.length, ctx.memories.length);
    need('globals', li.globals.length, ctx.globals.length);
    need('tags', li.tags?.length ?? 0, ctx.tagTypeIndices.length);
    for (const a of li.tags ?? []) if (a >= (layout.tags?.length ?? 0)) throw new SnapshotError(`${where}: tag ${a} is not in the image`);
    return {
      funcAddrs: [...li.funcs], tableAddrs: [...li.tables], memAddrs: [...li.memories], globalAddrs: [...li.globals], tagAddrs: [...(li.tags ?? [])],
      typeIds: canonicalTypeIds(s, cm.module.types),
      elems: [], datas: [], names: cm.module.names.functions,
    };
  });

  // Exception tags, in address order: an instance's tags must have its module's types.
  for (const params of layout.tags ?? []) s.tags.push({ type: { params: params as FuncType['params'], results: [] } });
  instances.forEach((inst, k) => {
    const ctx = modules[k].context;
    inst.tagAddrs.forEach((a, j) => {
      if (!sameSignature(s.tags[a].type, ctx.types[ctx.tagTypeIndices[j]])) throw new SnapshotError(`instance ${k}: tag ${j} has the wrong type`);
    });
  });

  // Functions, in address order.
  layout.funcs.forEach((origin, addr) => {
    const where = `function ${addr}`;
    if (origin.kind === 'host') {
      const type = { params: origin.params, results: origin.results } as FuncType;
      const callback = resolvers.host(origin.name, type);
      if (callback === undefined) throw new SnapshotError(`${where}: host function ${origin.name} ${typeText(type)} is not provided`);
      s.funcs.push({ kind: FuncKind.host, type, typeId: canonicalTypeId(s, type), callback, name: origin.name });
      return;
    }
    const cm = modules[origin.instance];
    const m = cm.module;
    const j = origin.funcIndex;
    if (j < m.numImportedFuncs || j >= cm.context.funcTypeIndices.length) throw new SnapshotError(`${where}: instance ${origin.instance} defines no function ${j}`);
    if (instances[origin.instance].funcAddrs[j] !== addr) throw new SnapshotError(`${where}: instance ${origin.instance} does not place its function ${j} here`);
    const type = cm.context.types[cm.context.funcTypeIndices[j]];
    s.funcs.push({ kind: FuncKind.wasm, type, typeId: instances[origin.instance].typeIds[cm.context.funcTypeIndices[j]], instance: instances[origin.instance], compiled: cm.functions[j - m.numImportedFuncs] });
  });

  // Memories, tables, globals: empty shells of the right type; restoreState fills them.
  state.memories.forEach((c) => {
    const max = c.max ?? undefined;
    let maxPages = max ?? WASM_MAX_PAGES;
    if (options.maxMemoryPages !== undefined && options.maxMemoryPages < maxPages) maxPages = options.maxMemoryPages;
    let memory: WebAssembly.Memory;
    try {
      // A 64-bit memory may declare up to 2^48 pages; the host holds WASM_MAX_PAGES at most.
      const hostMax = max === undefined ? undefined : Math.min(max, WASM_MAX_PAGES);
      memory = resolvers.memory?.(c.pages, hostMax) ?? newMemoryObject(0, hostMax, Math.min(maxPages, WASM_MAX_PAGES), c.index64 === true);
    } catch (cause) {
      throw new SnapshotError(`cannot allocate a memory: ${(cause as Error).message}`, { cause });
    }
    const mem: MemoryState = { memory, view: new DataView(memory.buffer), bytes: new Uint8Array(memory.buffer), maxPages: Math.min(maxPages, WASM_MAX_PAGES), declaredMax: max };
    if (c.index64) mem.index64 = true;
    s.memories.push(mem);
  });
  state.tables.forEach((c) => {
    const table: TableState = { elemType: c.elemType as never, elements: new Int32Array(0), size: 0, max: c.max ?? undefined };
    if (c.index64) table.index64 = true;
    s.tables.push(table);
  });
  state.globals.forEach((c) => s.globals.push({ type: c.type as never, mutable: c.mutable, lo: 0, hi: 0, lo2: 0, hi2: 0 }));

  // Each instance's imports and definitions must have its module's types.
  instances.forEach((inst, k) => {
    const ctx = modules[k].context;
    const where = `instance ${k}`;
    inst.funcAddrs.forEach((a, j) => {
      if (s.funcs[a].typeId !== inst.typeIds[ctx.funcTypeIndices[j]]) throw new SnapshotError(`${where}: function ${j} has the wrong type`);
      if (j >= ctx.module.numImportedFuncs) {
        const fn = s.funcs[a];
        if (fn.kind !== FuncKind.wasm || fn.instance !== inst) throw new SnapshotError(`${where}: function ${j} is not its own`);
      }
    });
    inst.memAddrs.forEach((a, j) => {
      if (!s.memories[a].index64 !== !ctx.memories[j].limits.index64) throw new SnapshotError(`${where}: memory ${j} has the wrong index type`);
    });
    inst.tableAddrs.forEach((a, j) => {
      if (s.tables[a].elemType !== refStorageType(ctx.tables[j].elemType)) throw new SnapshotError(`${where}: table ${j} has the wrong element type`);
      if (!s.tables[a].index64 !== !ctx.tables[j].limits.index64) throw new SnapshotError(`${where}: table ${j} has the wrong index type`);
      // The precise type of a typed reference table (Wasm 3.0), which the canonical state does not need, for later imports.
      if (j >= ctx.module.numImportedTables && ctx.tables[j].elemType >= TYPED_REF_BASE) s.tables[a].declared = storeValType(ctx.tables[j].elemType, inst.typeIds);
    });
    inst.globalAddrs.forEach((a, j) => {
      const g = s.globals[a];
      if (g.type !== refStorageType(ctx.globals[j].type) || g.mutable !== ctx.globals[j].mutable) throw new SnapshotError(`${where}: global ${j} has the wrong type`);
      if (j >= ctx.module.numImportedGlobals && ctx.globals[j].type >= TYPED_REF_BASE) g.declared = storeValType(ctx.globals[j].type, inst.typeIds);
    });
  });

  const space = wholeStoreSpace(s, instances, modules);
  // Globals first (element segments may read immutable ones); restoreState checks them again.
  const limits = { funcs: s.funcs.length, externs: state.externs.length };
  const scratch = new Int32Array(4);
  state.globals.forEach((c, i) => {
    // An exnref global's exception is the state's to restore (restoreState); only null could be immutable.
    if (c.type === ValType.exnref) return;
    scratch.fill(0);
    writeCanonical(c.type, c.value, space, limits, scratch, 0, `global ${i}`);
    s.globals[i].lo = scratch[0];
    s.globals[i].hi = scratch[1];
    s.globals[i].lo2 = scratch[2];
    s.globals[i].hi2 = scratch[3];
  });

  instances.forEach((inst, k) => {
    const m = modules[k].module;
    const li = layout.instances[k];
    const droppedElems = new Set(li.droppedElems);
    const droppedData = new Set(li.droppedData);
    for (const i of li.droppedElems) if (i >= m.elems.length) throw new SnapshotError(`instance ${k}: dropped element segment ${i} does not exist`);
    for (const i of li.droppedData) if (i >= m.datas.length) throw new SnapshotError(`instance ${k}: dropped data segment ${i} does not exist`);
    // Active segments are dropped by a successful instantiation; one that trapped part way
    // leaves the later ones in place (and its functions may be reachable through a shared
    // table), so an image may hold them.
    inst.elems = m.elems.map((seg, i) => (droppedElems.has(i) ? null : Int32Array.from(seg.items, (item) => evalConst(s, inst, item)[0])));
    inst.datas = m.datas.map((seg, i) => (droppedData.has(i) ? null : seg.bytes));
  });

  let execution: Execution | undefined;
  if (state.frames.length) {
    const bottom = state.frames[0] as unknown as Record<string, unknown> | null;
    const f = bottom?.['funcIndex'];
    if (typeof f !== 'number' || !Number.isInteger(f) || f < 0 || f >= s.funcs.length) throw new SnapshotError('frame 0: function index out of range');
    if (s.funcs[f].kind !== FuncKind.wasm) throw new SnapshotError('frame 0: a host function');
    execution = new Execution(store, f, [], { resumed: true });
  }
  restoreState(state, space, execution ? store.thread : null);
  return { store, instances, space, execution };
}

