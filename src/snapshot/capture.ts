/**
 * Capture: the state of a paused machine as canonical plain data. Nothing here changes
 * the machine (beyond normalizing saved return pcs, which the run loop does anyway).
 */
import { SnapshotError } from '../errors/index.ts';
import { FuncKind, refreshMemoryViews } from '../exec/index.ts';
import type { MemoryState, StoreState, TableState, ThreadState } from '../exec/index.ts';
import type { WasiState } from '../wasi/index.ts';
import { PAGE_SIZE } from './canonical.ts';
import { defaultPlatform } from './platform-default.ts';
import type {
  CanonicalFuncOrigin, CanonicalGlobal, CanonicalInstance, CanonicalMemory, CanonicalState, CanonicalStatus, CanonicalTable,
  CanonicalValue,
} from './canonical.ts';
import { captureThreadFrames } from './frames.ts';
import { captureExceptions, ExceptionCollector } from './exceptions.ts';
import { moduleSha256 } from './module-hash.ts';
import type { IndexSpace } from './space.ts';
import { toCanonical, v128Bytes } from './values.ts';
import { ValType } from '../wasm/index.ts';

const WORDS_PER_PAGE = PAGE_SIZE / 4;

function pageIsZero(words: Int32Array, page: number): boolean {
  const end = (page + 1) * WORDS_PER_PAGE;
  for (let i = page * WORDS_PER_PAGE; i < end; i += 8) {
    if ((words[i] | words[i + 1] | words[i + 2] | words[i + 3] | words[i + 4] | words[i + 5] | words[i + 6] | words[i + 7]) !== 0) return false;
  }
  return true;
}

/** Uninitialized bytes (they are all about to be overwritten): no time spent zeroing. */
export function uninitializedBytes(n: number): Uint8Array {
  return defaultPlatform.uninitialized(n);
}

/**
 * A memory with only its non-zero pages, copied into one buffer. With `share`, pages
 * that form one run are handed out as a view of the memory itself (no copy): only for a
 * state that is encoded at once, before the program runs again.
 */
export function captureMemory(m: MemoryState, share = false): CanonicalMemory {
  refreshMemoryViews(m);
  const buffer = m.memory.buffer;
  const pages = buffer.byteLength / PAGE_SIZE;
  const words = new Int32Array(buffer);
  const stored: number[] = [];
  for (let p = 0; p < pages; p++) if (!pageIsZero(words, p)) stored.push(p);
  const bytes = new Uint8Array(buffer);
  if (share && stored.length > 0 && stored[stored.length - 1] - stored[0] === stored.length - 1) {
    return withIndex64<CanonicalMemory>({ pages, max: m.declaredMax ?? null, stored, data: bytes.subarray(stored[0] * PAGE_SIZE, (stored[stored.length - 1] + 1) * PAGE_SIZE) }, m.index64);
  }
  const data = uninitializedBytes(stored.length * PAGE_SIZE);
  // Copy runs of consecutive pages at once.
  for (let i = 0; i < stored.length;) {
    let j = i + 1;
    while (j < stored.length && stored[j] === stored[j - 1] + 1) j++;
    data.set(bytes.subarray(stored[i] * PAGE_SIZE, (stored[j - 1] + 1) * PAGE_SIZE), i * PAGE_SIZE);
    i = j;
  }
  return withIndex64<CanonicalMemory>({ pages, max: m.declaredMax ?? null, stored, data }, m.index64);
}

/** A memory or table's state with `index64: true` when it is 64-bit; 32-bit ones go without the field. */
function withIndex64<T extends { index64?: true }>(c: T, index64: boolean | undefined): T {
  if (index64) c.index64 = true;
  return c;
}

/** A memory's size and limits without its pages. */
function memorySize(m: MemoryState): CanonicalMemory {
  return withIndex64<CanonicalMemory>({ pages: m.memory.buffer.byteLength / PAGE_SIZE, max: m.declaredMax ?? null, stored: [], data: new Uint8Array(0) }, m.index64);
}

function captureTable(t: TableState, space: IndexSpace): CanonicalTable {
  const elements: CanonicalValue[] = new Array(t.size);
  for (let i = 0; i < t.size; i++) elements[i] = toCanonical(t.elemType, t.elements[i], 0, space);
  return withIndex64<CanonicalTable>({ elemType: t.elemType, max: t.max ?? null, elements }, t.index64);
}

function droppedOf(segments: readonly unknown[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < segments.length; i++) if (segments[i] === null) out.push(i);
  return out;
}

/** What the embedder adds to the machine's own state. */
export interface CaptureExtras {
  status?: CanonicalStatus;
  entry?: string | null;
  wasi?: WasiState | null;
  host?: Record<string, unknown>;
  /** Memory pages may be views of the live memory (the state is encoded at once). */
  shareMemory?: boolean;
  /** Leave every memory's pages out (sizes only): the memory travels otherwise, e.g. as pre-copied blocks. */
  omitMemory?: boolean;
}

/**
 * The state of the entities in `space` and of `thread`'s frames above `floor`.
 * @throws SnapshotError when the machine is not in a capturable state.
 */
export function captureState(space: IndexSpace, thread: ThreadState | null, floor: number, extras: CaptureExtras = {}): CanonicalState {
  // exnref values found anywhere below become positions in the state's list of exceptions.
  const collector = new ExceptionCollector();
  space.exceptions = collector;
  try {
    return captureWithExceptions(space, thread, floor, extras, collector);
  } finally {
    space.exceptions = undefined;
  }
}

function captureWithExceptions(space: IndexSpace, thread: ThreadState | null, floor: number, extras: CaptureExtras, collector: ExceptionCollector): CanonicalState {
  const store = space.store;
  const frames = thread === null ? [] : captureThreadFrames(thread, space, floor);
  const state: CanonicalState = {
    moduleSha256: space.modules.length ? moduleSha256(space.modules[0].module) : '',
    status: extras.status ?? (frames.length ? 'paused' : 'ready'),
    entry: extras.entry ?? null,
    memories: space.memories.map((a) => (extras.omitMemory ? memorySize(store.memories[a]) : captureMemory(store.memories[a], extras.shareMemory === true))),
    tables: space.tables.map((a) => captureTable(store.tables[a], space)),
    globals: space.globals.map((a): CanonicalGlobal => {
      const g = store.globals[a];
      const value = g.type === ValType.v128 ? v128Bytes(g.lo, g.hi, g.lo2, g.hi2) : toCanonical(g.type, g.lo, g.hi, space);
      return { type: g.type, mutable: g.mutable, value };
    }),
    droppedData: space.image ? [] : droppedOf(space.instances[0].datas),
    droppedElems: space.image ? [] : droppedOf(space.instances[0].elems),
    frames,
    instructions: thread?.instructions ?? 0,
    wasi: extras.wasi ?? null,
    host: extras.host ?? {},
    externs: [...store.externs],
  };
  if (collector.order.length > 0) state.exceptions = captureExceptions(collector, space);
  if (space.image) state.store = captureLayout(space, store);
  return state;
}

function indexer(list: readonly number[], what: string): (addr: number) => number {
  const map = new Map<number, number>();
  list.forEach((a, i) => map.set(a, i));
  return (addr) => {
    const i = map.get(addr);
    if (i === undefined) throw new SnapshotError(`cannot capture: ${what} address ${addr} is outside the snapshot`);
    return i;
  };
}

function captureLayout(space: IndexSpace, store: StoreState): NonNullable<CanonicalState['store']> {
  const func = indexer(space.funcs, 'function');
  const table = indexer(space.tables, 'table');
  const memory = indexer(space.memories, 'memory');
  const global = indexer(space.globals, 'global');
  const tag = indexer(space.tags, 'tag');
  const instances: CanonicalInstance[] = space.instances.map((inst, k) => ({
    module: moduleSha256(space.modules[k].module),
    funcs: inst.funcAddrs.map(func),
    tables: inst.tableAddrs.map(table),
    memories: inst.memAddrs.map(memory),
    globals: inst.globalAddrs.map(global),
    ...(space.tags.length > 0 ? { tags: inst.tagAddrs.map(tag) } : {}),
    droppedData: droppedOf(inst.datas),
    droppedElems: droppedOf(inst.elems),
  }));
  const funcs = space.funcs.map((addr): CanonicalFuncOrigin => {
    const fn = store.funcs[addr];
    if (fn.kind === FuncKind.host) return { kind: 'host', name: fn.name, params: [...fn.type.params], results: [...fn.type.results] };
    const instance = space.instances.indexOf(fn.instance);
    if (instance < 0) throw new SnapshotError(`cannot capture: function address ${addr} belongs to an instance outside the snapshot`);
    return { kind: 'wasm', instance, funcIndex: fn.compiled.funcIndex };
  });
  if (space.tags.length === 0) return { instances, funcs };
  return { instances, funcs, tags: space.tags.map((a) => [...store.tags[a].type.params]) };
}
