/**
 * Index spaces: which store entities a canonical state talks about, in which order.
 * A program's state uses its module's own index spaces (imports first, then
 * definitions); a store image uses a list of store addresses (for instance the part of
 * a store reachable from one instance, as the spec-test harness snapshots it).
 */
import type { CompiledModule } from '../compile/index.ts';
import { FuncKind } from '../exec/index.ts';
import type { InstanceState, StoreState } from '../exec/index.ts';
import { ValType } from '../wasm/index.ts';
import type { ExceptionCollector } from './exceptions.ts';

/** Canonical index -> store address, for each kind of entity, plus the reverse for functions. */
export interface IndexSpace {
  store: StoreState;
  funcs: number[];
  tables: number[];
  memories: number[];
  globals: number[];
  /** Exception tags (Wasm 3.0): canonical index -> store address. */
  tags: number[];
  /** Set while a capture runs: the exceptions its exnref values name. */
  exceptions?: ExceptionCollector;
  /** Instances whose segments the state carries (a program: its one instance). */
  instances: InstanceState[];
  /** The compiled module of each of `instances`. */
  modules: CompiledModule[];
  /** Store address -> canonical function index (-1: not in the space). */
  funcIndexOf: Int32Array;
  /** True for a store image (indices are positions in these lists, `store` section present). */
  image: boolean;
}

function reverse(store: StoreState, funcs: readonly number[]): Int32Array {
  const rev = new Int32Array(store.funcs.length).fill(-1);
  for (let i = 0; i < funcs.length; i++) if (rev[funcs[i]] < 0) rev[funcs[i]] = i;
  return rev;
}

/** A program's space: its instance's own index spaces. */
export function programSpace(store: StoreState, instance: { compiled: CompiledModule; state: InstanceState }): IndexSpace {
  const s = instance.state;
  return {
    store,
    funcs: s.funcAddrs,
    tables: s.tableAddrs,
    memories: s.memAddrs,
    globals: s.globalAddrs,
    tags: s.tagAddrs,
    instances: [s],
    modules: [instance.compiled],
    funcIndexOf: reverse(store, s.funcAddrs),
    image: false,
  };
}

/**
 * The part of a store that code of the `roots` instances can ever reach: their own
 * entities, the instances of every Wasm function among them, and the functions of every
 * reference held in a reachable table or global, to a fixed point. Execution starting in
 * a root instance cannot touch anything else, so this is all a snapshot must carry.
 */
export function reachableSpace(store: StoreState, roots: readonly InstanceState[]): IndexSpace {
  const funcSet = new Set<number>(), tableSet = new Set<number>(), memSet = new Set<number>(), globalSet = new Set<number>(), tagSet = new Set<number>();
  const instances: InstanceState[] = [];
  const instanceModules: CompiledModule[] = [];
  const seenInstances = new Set<InstanceState>();
  const work: InstanceState[] = [...roots];
  const addFunc = (addr: number): void => {
    if (funcSet.has(addr)) return;
    funcSet.add(addr);
    const fn = store.funcs[addr];
    if (fn.kind === FuncKind.wasm && !seenInstances.has(fn.instance)) work.push(fn.instance);
  };
  const addRef = (type: number, lo: number): void => {
    if (type === ValType.funcref && lo !== 0) addFunc(lo - 1);
  };
  while (work.length) {
    const inst = work.pop()!;
    if (seenInstances.has(inst)) continue;
    seenInstances.add(inst);
    // An instance without functions of its own executes nothing: only its entities matter.
    const own = inst.funcAddrs.find((a) => { const f = store.funcs[a]; return f.kind === FuncKind.wasm && f.instance === inst; });
    if (own !== undefined) {
      const fn = store.funcs[own];
      if (fn.kind !== FuncKind.wasm) throw new Error('internal: an instance\'s own function is a host function');
      instances.push(inst);
      instanceModules.push(fn.compiled.owner);
    }
    for (const a of inst.funcAddrs) addFunc(a);
    for (const a of inst.memAddrs) memSet.add(a);
    for (const a of inst.tagAddrs) tagSet.add(a);
    for (const a of inst.globalAddrs) {
      if (globalSet.has(a)) continue;
      globalSet.add(a);
      const g = store.globals[a];
      addRef(g.type, g.lo);
    }
    for (const a of inst.tableAddrs) {
      if (tableSet.has(a)) continue;
      tableSet.add(a);
      const t = store.tables[a];
      if (t.elemType === ValType.funcref) for (let i = 0; i < t.size; i++) addRef(ValType.funcref, t.elements[i]);
    }
    for (const seg of inst.elems) if (seg) for (let i = 0; i < seg.length; i++) if (seg[i] !== 0) addFunc(seg[i] - 1);
  }
  const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);
  const funcs = sorted(funcSet);
  return {
    store,
    funcs,
    tables: sorted(tableSet),
    memories: sorted(memSet),
    globals: sorted(globalSet),
    tags: sorted(tagSet),
    instances,
    modules: instanceModules,
    funcIndexOf: reverse(store, funcs),
    image: true,
  };
}

/** Every entity of a store, in address order (a store built from an image). */
export function wholeStoreSpace(store: StoreState, instances: readonly InstanceState[], modules: readonly CompiledModule[]): IndexSpace {
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const funcs = range(store.funcs.length);
  return {
    store,
    funcs,
    tables: range(store.tables.length),
    memories: range(store.memories.length),
    globals: range(store.globals.length),
    tags: range(store.tags.length),
    instances: [...instances],
    modules: [...modules],
    funcIndexOf: reverse(store, funcs),
    image: true,
  };
}
