import type { CompiledFunction, FastJsExit } from '../compile/index.ts';
import { funcTypeIds } from '../wasm/index.ts';
import type { FuncType, RefType, ValType } from '../wasm/index.ts';
import type { SimdUnit } from './simd-step.ts';

/**
 * The machine state as plain data: numbers, typed arrays and records, no closures.
 * The runtime layer builds it; the run loop reads and writes it; the snapshot layer
 * captures it. Addresses (`funcAddr`, `memAddr`, ...) index store-wide arrays, as in
 * the spec's store; `funcIndex` and friends are module-local.
 *
 * References are int32 in a slot: 0 is null, a funcref is funcAddr + 1, an externref
 * is its id in `StoreState.externs` + 1, an exnref its exception's index in
 * `StoreState.exceptions` + 1. Zero-filled locals are therefore null refs.
 */

export const FuncKind = { wasm: 0, host: 1 } as const;

export interface WasmFunctionState {
  kind: typeof FuncKind.wasm;
  type: FuncType;
  /** Canonical id of the type: equal ids mean equal function types (call_indirect checks it). */
  typeId: number;
  instance: InstanceState;
  compiled: CompiledFunction;
}

/** A host function receives and returns JS values by the WebAssembly JS API's rules. */
export type HostCallback = (...args: any[]) => unknown;

export interface HostFunctionState {
  kind: typeof FuncKind.host;
  type: FuncType;
  typeId: number;
  callback: HostCallback;
  /** `module.name` it was imported as, for backtraces. */
  name: string;
}

export type FunctionState = WasmFunctionState | HostFunctionState;

export interface MemoryState {
  /** The engine's own memory, so that a native tier can share it without copying. */
  memory: WebAssembly.Memory;
  view: DataView;
  bytes: Uint8Array;
  /** Pages allowed at most (the type's max, or the embedder's limit). */
  maxPages: number;
  /** The maximum the memory's type declares, if any (import matching reads it). */
  declaredMax: number | undefined;
  /** Wasm 3.0 memory64: addressed with i64. Absent or false: i32. */
  index64?: boolean;
}

export interface TableState {
  /** How the elements are held: funcref or externref (typed references are held as these). */
  elemType: RefType;
  /** A typed reference element type (Wasm 3.0) in store terms (`storeValType`), for import matching; absent when `elemType` says it all. */
  declared?: number;
  elements: Int32Array;
  size: number;
  max: number | undefined;
  /** Wasm 3.0 table64: indexed with i64. Absent or false: i32. */
  index64?: boolean;
}

export interface GlobalState {
  /** How the value is held: a typed reference (Wasm 3.0) as funcref or externref. */
  type: ValType;
  /** A typed reference type in store terms (`storeValType`), for import matching; absent when `type` says it all. */
  declared?: number;
  mutable: boolean;
  /** Raw bits: lo word, hi word (i32/f32/refs use lo only). */
  lo: number;
  hi: number;
  /** The upper 8 bytes of a v128 (words 2 and 3 of its 16 bytes); 0 for other types. */
  lo2: number;
  hi2: number;
}

/** An exception tag (Wasm 3.0): its identity is its address in the store. */
export interface TagState {
  /** The values its exceptions carry (the parameters; no results). */
  type: FuncType;
}

/**
 * A thrown exception, which an exnref names (its index + 1): the tag and the values,
 * as the value stack held them (two words per slot).
 */
export interface ExceptionState {
  tagAddr: number;
  payload: Int32Array;
  /**
   * An exnref to it has been handed to code (`catch_ref`, `catch_all_ref`, a restored
   * state): the store keeps it from then on. Until then only the throw and a legacy
   * catch's hidden slot name it, and it is let go when they are done with it.
   */
  kept: boolean;
}

export interface InstanceState {
  funcAddrs: number[];
  tableAddrs: number[];
  memAddrs: number[];
  globalAddrs: number[];
  /** Exception tags (Wasm 3.0), imported ones first. */
  tagAddrs: number[];
  /** Canonical type id of each of the module's types. */
  typeIds: number[];
  /** Element segments as resolved references; null once dropped. */
  elems: (Int32Array | null)[];
  /** Data segments; null once dropped. */
  datas: (Uint8Array | null)[];
  /** Function names from the name section, for backtraces. */
  names: Map<number, string>;
}

export interface StoreState {
  funcs: FunctionState[];
  memories: MemoryState[];
  tables: TableState[];
  globals: GlobalState[];
  /** Host values behind externrefs; the ref is the index + 1. */
  externs: unknown[];
  /** Host value -> its index in `externs`, so that the same value keeps its id. */
  externIds: Map<unknown, number>;
  /** Function type signature -> canonical type id. */
  typeIdsBySignature: Map<string, number>;
  /** Exception tags of every instance (created or imported from the host). */
  tags: TagState[];
  /** Exceptions thrown so far that an exnref may still name; the ref is the index + 1. */
  exceptions: ExceptionState[];
}

export function createStoreState(): StoreState {
  return { funcs: [], memories: [], tables: [], globals: [], externs: [], externIds: new Map(), typeIdsBySignature: new Map(), tags: [], exceptions: [] };
}

export function canonicalTypeId(store: StoreState, type: FuncType): number {
  return internTypeKey(store, `${type.params.join(',')}>${type.results.join(',')}`);
}

/**
 * The store-wide ids of a module's function types (`funcTypeIds`): equal for equivalent
 * types of any module, typed references included, so `call_indirect` compares ids.
 */
export function canonicalTypeIds(store: StoreState, types: readonly FuncType[]): number[] {
  return funcTypeIds(types, (key) => internTypeKey(store, key));
}

function internTypeKey(store: StoreState, key: string): number {
  let id = store.typeIdsBySignature.get(key);
  if (id === undefined) {
    id = store.typeIdsBySignature.size;
    store.typeIdsBySignature.set(key, id);
  }
  return id;
}

export function refreshMemoryViews(mem: MemoryState): void {
  const buffer = mem.memory.buffer;
  if (mem.bytes.buffer !== buffer) {
    mem.view = new DataView(buffer);
    mem.bytes = new Uint8Array(buffer);
  }
}

/**
 * One thread of execution: the value stack (8-byte slots seen through several typed
 * views), the call frames and the registers of the run loop.
 */
export interface ThreadState {
  store: StoreState;
  slots: ArrayBuffer;
  s32: Int32Array;
  f32: Float32Array;
  f64: Float64Array;
  i64: BigInt64Array;
  u64: BigUint64Array;
  /** Next free slot. */
  sp: number;
  /** First slot of the current frame (its first local). */
  fp: number;
  /** Next internal instruction of the current function. */
  pc: number;
  funcAddr: number;
  /** Saved caller state, 3 ints per frame: funcAddr (-1 = return to the host), return pc, fp. */
  frames: Int32Array;
  depth: number;
  maxDepth: number;
  maxSlots: number;
  /** Instructions executed so far (all run() calls). */
  instructions: number;
  /** Set by the run loop when it stops at a call to a host function. */
  pendingHostCall: number;
  /** Run on the fast code where possible (false: always the exact code, for testing both). */
  fast: boolean;
  /**
   * Wasm functions whose calls leave the run loop as host calls (indexed by funcAddr,
   * 1 = divert), so that another tier (the native one) runs them; null: none.
   */
  divert: Uint8Array | null;
  /** Lane views of the value stack, made by the first SIMD instruction the thread runs. */
  simd: SimdUnit | null;
  /**
   * The JavaScript tier (`js-tier/`): a function's fast code is compiled to JavaScript once
   * the run loop has dispatched its block starts this many times; -1: never.
   */
  jsAfter: number;
  /** The JavaScript tier's registers (one record per thread, reused). */
  js: JsTierContext;
}

/** What the JavaScript tier's compiled functions share while they run (`js-tier/`). */
export interface JsTierContext extends FastJsExit {
  thread: ThreadState;
  /** The instance whose code runs: calls from compiled code stay within it. */
  inst: InstanceState;
  /** Compiled functions running on the JavaScript stack under the current one, and their frames' slots. */
  nest: number;
  nestSlots: number;
  /**
   * Set when a compiled function called from another left the JavaScript stack at a
   * deeper frame (`thread.funcAddr`, `thread.fp`, `pc`): the run loop goes on there.
   */
  moved: boolean;
  /** The function and frame where compiled code trapped (`pc` the instruction), -1 when it did not. */
  trapFunc: number;
  trapFp: number;
}

export interface ThreadLimits {
  /** Deepest call nesting before "call stack exhausted". */
  maxDepth?: number;
  /** Largest value stack, in 8-byte slots. */
  maxSlots?: number;
  /** Use the fast code (default true); false runs everything on the exact code. */
  fast?: boolean;
  /**
   * Compile a function's fast code to JavaScript once the run loop has entered its blocks
   * this many times (default `DEFAULT_JS_AFTER`); -1 never, 0 at once (for testing the tier).
   */
  jsAfter?: number;
}

export const DEFAULT_MAX_DEPTH = 200_000;
export const DEFAULT_MAX_SLOTS = 16 * 1024 * 1024;
export const DEFAULT_JS_AFTER = 100;

export function createThread(store: StoreState, limits: ThreadLimits = {}): ThreadState {
  const slots = new ArrayBuffer(8 * 4096);
  const t: ThreadState = {
    store,
    slots,
    s32: new Int32Array(slots),
    f32: new Float32Array(slots),
    f64: new Float64Array(slots),
    i64: new BigInt64Array(slots),
    u64: new BigUint64Array(slots),
    sp: 0,
    fp: 0,
    pc: 0,
    funcAddr: -1,
    frames: new Int32Array(3 * 256),
    depth: 0,
    maxDepth: limits.maxDepth ?? DEFAULT_MAX_DEPTH,
    maxSlots: limits.maxSlots ?? DEFAULT_MAX_SLOTS,
    // Not 0: V8 gives a field the representation of the first value it holds. A small
    // integer there becomes a double once a long run passes 2^31 instructions (2.4 s of
    // CoreMark), and that change of the record's layout throws away every compiled
    // function that reads a thread, the run loops included, which then run at 1-2% of
    // their speed until compiled again. A count that starts as a double never changes.
    instructions: 0.5,
    pendingHostCall: -1,
    fast: limits.fast ?? true,
    divert: null,
    simd: null,
    jsAfter: limits.jsAfter ?? DEFAULT_JS_AFTER,
    js: null as unknown as JsTierContext,
  };
  // Fuel as a double from the start, for the reason given for `instructions`.
  t.js = { pc: 0, fuel: 0.5, thread: t, inst: null as unknown as InstanceState, nest: 0, nestSlots: 0, moved: false, trapFunc: -1, trapFp: 0 };
  t.instructions = 0;
  t.js.fuel = 0;
  return t;
}

/** Makes room for at least `needed` slots; false when that exceeds the limit. */
export function growSlots(t: ThreadState, needed: number): boolean {
  if (needed > t.maxSlots) return false;
  let size = t.s32.length >> 1;
  while (size < needed) size *= 2;
  if (size > t.maxSlots) size = t.maxSlots;
  const slots = new ArrayBuffer(8 * size);
  new Int32Array(slots).set(t.s32);
  t.slots = slots;
  t.s32 = new Int32Array(slots);
  t.f32 = new Float32Array(slots);
  t.f64 = new Float64Array(slots);
  t.i64 = new BigInt64Array(slots);
  t.u64 = new BigUint64Array(slots);
  return true;
}

export function growFrames(t: ThreadState): void {
  const frames = new Int32Array(t.frames.length * 2);
  frames.set(t.frames);
  t.frames = frames;
}

/** What a call of `run` ended with; the details are in the thread state. */
export const RunStatus = {
  /** The outermost function returned: its results are on the stack. */
  returned: 0,
  /** The budget is spent: the thread can be resumed, captured or dropped. */
  yielded: 1,
  /** A host function is to be called: `pendingHostCall` is its funcAddr, its arguments on the stack. */
  hostCall: 2,
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
