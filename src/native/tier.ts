/**
 * The native tier of one store: every instance of the store gets a rewritten twin in
 * the host's WebAssembly engine, on the same state. Memories are shared outright (one
 * `WebAssembly.Memory`); tables are `WebAssembly.Table`s kept in step with the
 * interpreter's; globals and dropped segments are synced when execution switches tiers.
 *
 * A native call runs until it returns, traps, exits, or a pause is requested. Then every
 * function on the native stack saves its locals and operand stack at its safepoint and
 * returns: the frames come out innermost first and are handed back in canonical form,
 * ready to be loaded into the interpreter (see `execution.ts`).
 */
import { ExhaustionError, LinkError, Trap } from '../errors/index.ts';
import type { TraceFrame } from '../errors/index.ts';
import { FuncKind } from '../exec/index.ts';
import type { GlobalState, InstanceState, StoreState, TableState, WasmFunctionState } from '../exec/index.ts';
import { externId, isThenable } from '../runtime/index.ts';
import type { FuncRef, Instance, Store } from '../runtime/index.ts';
import type { CanonicalFrame, CanonicalValue, IndexSpace } from '../snapshot/index.ts';
import { wholeStoreSpace } from '../snapshot/index.ts';
import { ValType } from '../wasm/index.ts';
import { HELPER_IMPORTS, HELPER_MODULE, MODULE_NAME, originalOffset, RESUME_MODULE_PREFIX } from './rewrite.ts';
import type { RewriteOptions, RewrittenModule } from './rewrite.ts';
import { RewriteCache } from './rewrite-cache.ts';
import type { RewrittenFunction, Safepoint } from './rewrite-function.ts';

export interface NativeOptions {
  /** Rewriter options (for measurements). */
  rewrite?: RewriteOptions;
  /**
   * Loop iterations between two looks at the pause flags (each a call to the host).
   * The default keeps a poll every few microseconds of work at most.
   */
  pollInterval?: number;
  /**
   * Native stack the recursive functions may use, in units of about 16 bytes (see
   * `frameCost`); past it the stack unwinds into the interpreter, which goes deeper.
   */
  stackBudget?: number;
  /**
   * With `tier: 'auto'`, modules with at least this many bytes of code start in the
   * interpreter while a worker thread rewrites them (default 256 KiB; Infinity: never).
   */
  backgroundRewriteBytes?: number;
}

/** The default `backgroundRewriteBytes`: below it, rewriting on the spot costs under about 0.1 s. */
export const DEFAULT_BACKGROUND_REWRITE_BYTES = 256 * 1024;

/** The default recursion budget: well inside V8's default 984 KiB stack. */
export const DEFAULT_STACK_BUDGET = 24_000;
/**
 * The global countdown between two polls of the host: loop activations count 1 per
 * 1024 iterations, entries of functions with loops count 1, as do loop iterations with
 * `loopPoll: 'global'`.
 */
export const DEFAULT_POLL_INTERVAL = 64;

/** The time between two polls the countdown is adapted to (a few JS calls per 100 µs cost well under 1%). */
export const POLL_PERIOD_MS = 0.03;
const MAX_POLL_INTERVAL = 1 << 24;

/** Raw saved values of one frame during unwinding (innermost first). */
interface FrameRecord {
  native: NativeInstance;
  /** The function's safepoints and saved layout (the function's own, or a resume clone's). */
  info: RewrittenFunction;
  funcIndex: number;
  site: number;
  values: unknown[];
}

/** A resume clone, instantiated (see `rewriteResumeClone`). */
interface CloneEntry {
  run: Function;
  info: RewrittenFunction;
}

type Exports = Record<string, unknown>;

/** A rewritten module instantiated natively for one interpreter instance. */
export interface NativeInstance {
  instance: Instance;
  state: InstanceState;
  rewritten: RewrittenModule;
  exports: Exports;
  unwinding: WebAssembly.Global;
  countdown: WebAssembly.Global;
  depth: WebAssembly.Global;
  /** Segments the native side knows to be dropped. */
  droppedData: Uint8Array;
  droppedElems: Uint8Array;
  /** True when its code can change tables (they are then read back after native runs). */
  writesTables: boolean;
  /** Resume clones by `funcIndex:pc`; null where a function cannot have one. */
  clones: Map<string, CloneEntry | null>;
}

interface GlobalLink {
  addr: number;
  state: GlobalState;
  obj: WebAssembly.Global;
  /** Bit-exact accessors for f32/f64 (NaN payloads survive). */
  get?: () => number | bigint;
  set?: (bits: number | bigint) => void;
  /** Bits last written to or read from the native side. */
  lo: number;
  hi: number;
}

interface TableLink {
  addr: number;
  state: TableState;
  table: WebAssembly.Table;
  /** Elements as last synced (interpreter encoding: funcAddr + 1, extern id + 1, 0 null). */
  mirror: Int32Array;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Maps V8's trap messages to the spec's wording (the interpreter's). */
export function toTrap(error: unknown): unknown {
  if (error instanceof WebAssembly.RuntimeError) {
    const m = error.message;
    const text =
      /unreachable/.test(m) ? 'unreachable' :
      /divide by zero|remainder by zero/.test(m) ? 'integer divide by zero' :
      /divide result unrepresentable|integer overflow/.test(m) ? 'integer overflow' :
      /float unrepresentable|convert/.test(m) ? 'invalid conversion to integer' :
      /memory access out of bounds|data segment/.test(m) ? 'out of bounds memory access' :
      /table index is out of bounds|table access out of bounds|element segment/.test(m) ? 'out of bounds table access' :
      /null function|uninitialized/.test(m) ? 'uninitialized element' :
      /signature mismatch|function signature/.test(m) ? 'indirect call type mismatch' :
      m;
    const trap = new Trap(text);
    (trap as { cause?: unknown }).cause = error;
    return trap;
  }
  if (error instanceof RangeError && /call stack/i.test(error.message)) return new ExhaustionError();
  return error;
}

/**
 * The native twin of a store. Create it before running anything natively, and give it
 * every instance (`attach`); instances are attached in creation order, as their imports
 * may come from earlier ones.
 */
export class NativeTier {
  readonly state: StoreState;
  readonly instances = new Map<InstanceState, NativeInstance>();
  /** By function address: the function as a native value (what tables hold). */
  readonly funcObjects: (Function | undefined)[] = [];
  /** By function address: the entry JS calls (float parameters and results as raw bits). */
  readonly entries: (Function | undefined)[] = [];
  readonly addrOf = new Map<unknown, number>();
  readonly globals = new Map<number, GlobalLink>();
  readonly tables = new Map<number, TableLink>();
  /** Set by any thread (`Atomics.store(tier.pauseSignal, 0, 1)`) to pause native code: the store's own signal, which the interpreter polls too. */
  readonly pauseSignal: Int32Array;
  readonly options: NativeOptions;
  /** Function addresses the interpreter hands to this tier (`ThreadState.divert`). */
  divert = new Uint8Array(0);

  /** Depth of native calls in progress (JS -> native, possibly nested through host calls). */
  private active = 0;
  private unwindingNow = false;
  private records: FrameRecord[] = [];
  private current: FrameRecord | undefined;
  private pauseRequested = false;
  private deadline = Infinity;
  private tablesWritten = false;
  private spaceCache: IndexSpace | undefined;
  /** Polls so far, for tests and measurements. */
  polls = 0;
  /** Called at every poll; returning true requests a pause there (tests pause at random moments with it). */
  pollHook: (() => boolean) | undefined;

  /** The global countdown the host hands back at each poll (adapted to the pace of polls, unless fixed). */
  private interval: number;
  private readonly fixedInterval: boolean;
  private lastPoll = 0;

  /**
   * `rewrites`: where rewritten modules and resume clones are kept (the engine's, so
   * that its programs share them; a fresh one by default).
   */
  constructor(readonly store: Store, options: NativeOptions = {}, readonly rewrites: RewriteCache = new RewriteCache()) {
    this.state = store.state;
    this.pauseSignal = store.pauseSignal;
    this.options = options;
    // A global countdown per loop iteration needs a longer one than the per-activation counters.
    this.interval = options.pollInterval ?? (options.rewrite?.loopPoll === 'global' ? 4096 : DEFAULT_POLL_INTERVAL);
    this.fixedInterval = options.pollInterval !== undefined;
  }

  /** True while a native call is on the JS stack. */
  get running(): boolean {
    return this.active > 0;
  }

  /** Instantiates the native twin of an interpreter instance (idempotent). */
  /** Whether `instance` has its native twin already. */
  attached(instance: Instance): boolean {
    return this.instances.has(instance.state);
  }

  attach(instance: Instance): NativeInstance {
    const existing = this.instances.get(instance.state);
    if (existing) return existing;
    const store = this.state;
    const inst = instance.state;
    const compiled = instance.compiled;
    const m = compiled.module;
    const { rewritten, module } = this.rewrites.rewrite(compiled, this.options.rewrite);

    const imports: Record<string, Record<string, unknown>> = {};
    const put = (mod: string, name: string, v: unknown): void => { (imports[mod] ??= {})[name] = v; };
    let funcIndex = 0, tableIndex = 0, memIndex = 0, globalIndex = 0;
    for (const imp of m.imports) {
      switch (imp.desc.kind) {
        case 'func': put(imp.module, imp.name, this.importedFunction(inst.funcAddrs[funcIndex++])); break;
        case 'table': put(imp.module, imp.name, this.tableLink(inst.tableAddrs[tableIndex++]).table); break;
        case 'memory': put(imp.module, imp.name, store.memories[inst.memAddrs[memIndex++]].memory); break;
        case 'global': put(imp.module, imp.name, this.importedGlobal(inst.globalAddrs[globalIndex++])); break;
      }
    }
    for (const t of rewritten.importedTables) put(HELPER_MODULE, `t${t}`, this.tableLink(inst.tableAddrs[t]).table);
    for (const i of rewritten.importedMemories) put(HELPER_MODULE, `m${i}`, store.memories[inst.memAddrs[i]].memory);

    const native = { instance, state: inst, rewritten, clones: new Map() } as unknown as NativeInstance;
    const helpers = this.helpers(native, (f) => rewritten.functions[f]!);
    for (const [name, fn] of Object.entries(helpers)) put(HELPER_MODULE, name, fn);

    let wasmInstance: WebAssembly.Instance;
    try {
      wasmInstance = new WebAssembly.Instance(module, imports as WebAssembly.Imports);
    } catch (cause) {
      throw new LinkError(`native tier: cannot instantiate the rewritten module: ${(cause as Error).message}`);
    }
    const ex = wasmInstance.exports as Exports;
    native.exports = ex;
    native.unwinding = ex['unw'] as WebAssembly.Global;
    native.countdown = ex['cd'] as WebAssembly.Global;
    native.depth = ex['depth'] as WebAssembly.Global;
    native.droppedData = new Uint8Array(m.datas.length);
    native.droppedElems = new Uint8Array(m.elems.length);
    native.writesTables = rewritten.writesTables;
    if (native.writesTables) this.tablesWritten = true;
    if (inst.memAddrs.length) (ex['maxp'] as WebAssembly.Global).value = store.memories[inst.memAddrs[0]].maxPages;
    // Active segments were applied by the interpreter's instantiation: they are dropped on both sides.
    m.datas.forEach((d, i) => { if (d.mode.kind === 'active') native.droppedData[i] = 1; });
    m.elems.forEach((e, i) => { if (e.mode.kind !== 'passive') native.droppedElems[i] = 1; });

    const total = m.numImportedFuncs + m.codes.length;
    if (this.divert.length < store.funcs.length) {
      const d = new Uint8Array(store.funcs.length);
      d.set(this.divert);
      this.divert = d;
    }
    for (let f = 0; f < total; f++) {
      const addr = inst.funcAddrs[f];
      const obj = ex[`f${f}`] as Function;
      if (this.funcObjects[addr] === undefined) {
        this.funcObjects[addr] = obj;
        if (!this.addrOf.has(obj)) this.addrOf.set(obj, addr);
      }
      if (f >= m.numImportedFuncs) {
        this.entries[addr] = (ex[`c${f}`] ?? obj) as Function;
        this.divert[addr] = 1;
      }
    }
    for (let g = m.numImportedGlobals; g < m.numImportedGlobals + m.globals.length; g++) {
      const addr = inst.globalAddrs[g];
      const state = store.globals[addr];
      // The native global holds the module's initial value; the interpreter's may have moved on (start function): resync.
      const link: GlobalLink = { addr, state, obj: ex[`g${g}`] as WebAssembly.Global, lo: ~state.lo, hi: state.hi };
      this.addFloatAccessors(link, ex, g, rewritten);
      this.globals.set(addr, link);
    }
    for (let g = 0; g < m.numImportedGlobals; g++) {
      const link = this.globals.get(inst.globalAddrs[g]);
      if (link && !link.get) this.addFloatAccessors(link, ex, g, rewritten);
    }
    this.instances.set(inst, native);
    this.spaceCache = undefined;
    return native;
  }

  private addFloatAccessors(link: GlobalLink, ex: Exports, g: number, rewritten: RewrittenModule): void {
    if (!rewritten.floatGlobals.has(g)) return;
    link.get = ex[`gg${g}`] as () => number | bigint;
    link.set = ex[`gs${g}`] as (bits: number | bigint) => void;
  }

  /**
   * A function import: another instance's native function, or a host callback (wrapped:
   * see `afterHostCall`).
   */
  private importedFunction(addr: number): unknown {
    const fn = this.state.funcs[addr];
    if (fn.kind === FuncKind.wasm) {
      const obj = this.funcObjects[addr];
      if (obj === undefined) throw new LinkError('native tier: an imported Wasm function belongs to an instance not attached yet');
      return obj;
    }
    const { params, results } = fn.type;
    const callback = fn.callback;
    const hasRef = params.some((t) => t === ValType.funcref) || results.some((t) => t === ValType.funcref);
    if (!hasRef) return this.checkedHostCall(addr, callback, params.length);
    // funcrefs travel as function values natively, as FuncRef handles to host callbacks.
    return (...args: unknown[]): unknown => {
      const conv = args.map((a, i) => (params[i] === ValType.funcref ? this.toFuncRef(a) : a));
      const r = callback(...conv);
      if (isThenable(r)) return this.suspend(addr, r, conv);
      this.afterHostCall();
      if (results.length === 1) return results[0] === ValType.funcref ? this.fromFuncRef(r) : r;
      if (results.length > 1) return Array.from(r as Iterable<unknown>).map((v, i) => (results[i] === ValType.funcref ? this.fromFuncRef(v) : v));
      return r;
    };
  }

  /**
   * `callback` followed by `afterHostCall` (or, when it returns a promise, `suspend`);
   * fixed arities spare the common calls a rest parameter.
   */
  private checkedHostCall(addr: number, callback: (...args: unknown[]) => unknown, arity: number): Function {
    const after = (r: unknown, args: () => unknown[]): unknown => {
      if (isThenable(r)) return this.suspend(addr, r, args());
      this.afterHostCall();
      return r;
    };
    switch (arity) {
      case 0: return () => after(callback(), () => []);
      case 1: return (a: unknown) => after(callback(a), () => [a]);
      case 2: return (a: unknown, b: unknown) => after(callback(a, b), () => [a, b]);
      case 3: return (a: unknown, b: unknown, c: unknown) => after(callback(a, b, c), () => [a, b, c]);
      case 4: return (a: unknown, b: unknown, c: unknown, d: unknown) => after(callback(a, b, c, d), () => [a, b, c, d]);
      default: return (...args: unknown[]) => after(callback(...args), () => args);
    }
  }

  /** The asynchronous import the last unwinding (reason `import`) stopped at, until taken. */
  suspended: { funcAddr: number; promise: PromiseLike<unknown>; args: unknown[] } | undefined;

  /**
   * A host function called from native code returned a promise: the native stack
   * unwinds right after the call (the caller's after-call safepoint, as for a pause),
   * and the execution turns the top frame back into a call not made yet, to be awaited
   * (`NativeExecution`). What is returned here stands in for the results meanwhile.
   */
  private suspend(addr: number, promise: PromiseLike<unknown>, args: unknown[]): unknown {
    if (this.active !== 1 || this.unwindingNow) {
      throw new Trap(`host function ${(this.state.funcs[addr] as { name: string }).name} returned a promise inside a nested call, where it cannot be awaited`);
    }
    this.suspended = { funcAddr: addr, promise, args };
    this.beginUnwind('import');
    const results = this.state.funcs[addr].type.results;
    const zero = (t: number): unknown => (t === ValType.i64 ? 0n : t === ValType.funcref || t === ValType.externref ? null : 0);
    return results.length === 0 ? undefined : results.length === 1 ? zero(results[0]) : results.map(zero);
  }

  /**
   * Looks at the pause flags and the deadline after every host call from native code.
   * The poll countdown counts loop iterations and function entries, never host calls,
   * so a loop whose body is a host call (a sleep, a read) polled only every 1024 x
   * interval calls: 65,024 with the default interval (a 5 ms slice of 1 ms sleeps ran
   * 86 s), whatever the time slice or the pause request. A host call takes microseconds at least; one more
   * clock read after it costs nothing measurable, and bounds how late a pause can come
   * to one host call. The caller unwinds at its call site, results kept (`mayBeHost`
   * in `rewrite-function.ts`).
   */
  private afterHostCall(): void {
    if (this.active === 0 || this.unwindingNow) return;
    if (this.pauseRequested || Atomics.load(this.pauseSignal, 0) !== 0 || (this.deadline !== Infinity && performance.now() >= this.deadline)) this.beginUnwind('pause');
  }

  private toFuncRef(v: unknown): FuncRef | null {
    if (v === null || v === undefined) return null;
    const addr = this.addrOf.get(v);
    if (addr === undefined) throw new Trap('native tier: unknown function reference');
    return { funcAddr: addr };
  }

  private fromFuncRef(v: unknown): unknown {
    if (v === null || v === undefined) return null;
    return this.funcObjects[(v as FuncRef).funcAddr] ?? null;
  }

  /** A global import: the native global of its address, made on first use. */
  private importedGlobal(addr: number): WebAssembly.Global {
    const existing = this.globals.get(addr);
    if (existing) return existing.obj;
    const state = this.state.globals[addr];
    const value = this.bitsToValue(state.type, state.lo, state.hi, false);
    const names: Record<number, string> = {
      [ValType.i32]: 'i32', [ValType.i64]: 'i64', [ValType.f32]: 'f32', [ValType.f64]: 'f64',
      [ValType.funcref]: 'anyfunc', [ValType.externref]: 'externref',
    };
    const obj = new WebAssembly.Global({ value: names[state.type] as WebAssembly.ValueType, mutable: state.mutable }, value);
    this.globals.set(addr, { addr, state, obj, lo: state.lo, hi: state.hi });
    return obj;
  }

  private tableLink(addr: number): TableLink {
    let link = this.tables.get(addr);
    if (link) return link;
    const state = this.state.tables[addr];
    const descriptor: WebAssembly.TableDescriptor = { element: state.elemType === ValType.funcref ? 'anyfunc' : 'externref' as never, initial: state.size };
    if (state.max !== undefined) descriptor.maximum = state.max;
    // Without an explicit null, an externref table would start out full of `undefined`.
    const table = new WebAssembly.Table(descriptor, null);
    link = { addr, state, table, mirror: new Int32Array(state.size) };
    this.tables.set(addr, link);
    return link;
  }

  /** The imports through which rewritten code reports to this tier. */
  private helpers(native: NativeInstance, lookup: (funcIndex: number) => RewrittenFunction): Record<string, Function> {
    return {
      poll: (): number => {
        this.polls++;
        // Adapt first, at the poll that pauses too: when a phase of slow units follows
        // fast ones, the late poll that ends a slice is the only one the slice has, and
        // skipping it kept the grown interval: every 20 ms slice then ran 300 ms.
        if (!this.fixedInterval) this.adaptInterval();
        if (this.pauseRequested || (this.pollHook !== undefined && this.pollHook()) || Atomics.load(this.pauseSignal, 0) !== 0 || (this.deadline !== Infinity && performance.now() >= this.deadline)) {
          this.beginUnwind('pause');
          return 0;
        }
        return this.interval;
      },
      deep: (): void => { this.beginUnwind('stack'); },
      frame: (funcIndex: number, site: number): void => {
        this.current = { native, info: lookup(funcIndex), funcIndex, site, values: [] };
        this.records.push(this.current);
      },
      si: (v: number): void => { this.current!.values.push(v); },
      sl: (v: bigint): void => { this.current!.values.push(v); },
      sr: (v: unknown): void => { this.current!.values.push(v); },
      se: (v: unknown): void => { this.current!.values.push(v); },
      ddrop: (i: number): void => { native.droppedData[i] = 1; native.state.datas[i] = null; },
      edrop: (i: number): void => { native.droppedElems[i] = 1; native.state.elems[i] = null; },
    };
  }

  /**
   * Keeps polls about POLL_PERIOD_MS apart: what the countdown counts (loop-function
   * entries, 1024-iteration stretches of one activation) takes very different times
   * from one program, or one phase, to another.
   */
  private adaptInterval(): void {
    const now = performance.now();
    const elapsed = now - this.lastPoll;
    this.lastPoll = now;
    const factor = Math.min(4, Math.max(0.25, POLL_PERIOD_MS / Math.max(elapsed, 1e-3)));
    this.interval = Math.min(MAX_POLL_INTERVAL, Math.max(1, Math.round(this.interval * factor)));
  }

  /** Asks running native code to unwind at its next safepoint; without native code running, the next native call stops at once. */
  requestPause(): void {
    this.pauseRequested = true;
    if (this.active > 0) this.beginUnwind('pause');
  }

  /** Forgets a pause request (and the cross-thread signal). */
  clearPause(): void {
    this.pauseRequested = false;
    Atomics.store(this.pauseSignal, 0, 0);
  }

  /** True when a pause was asked for, by `requestPause` or through `pauseSignal`. */
  get pausePending(): boolean {
    return this.pauseRequested || Atomics.load(this.pauseSignal, 0) !== 0;
  }

  private beginUnwind(reason: 'pause' | 'stack' | 'import'): void {
    if (this.unwindingNow) return;
    this.unwindingNow = true;
    this.unwindReason = reason;
    for (const n of this.instances.values()) n.unwinding.value = 1;
  }

  // ---------------------------------------------------------------- tier switches

  /** Interpreter -> native: globals, tables and dropped segments the interpreter changed. */
  syncIn(): void {
    for (const g of this.globals.values()) {
      const s = g.state;
      if (!s.mutable || (s.lo === g.lo && s.hi === g.hi)) continue;
      if (g.set) g.set(s.type === ValType.f32 ? s.lo : bits64(s.lo, s.hi));
      else g.obj.value = this.bitsToValue(s.type, s.lo, s.hi, false);
      g.lo = s.lo;
      g.hi = s.hi;
    }
    for (const t of this.tables.values()) {
      const s = t.state;
      if (t.table.length < s.size) t.table.grow(s.size - t.table.length, null);
      if (t.mirror.length < s.size) {
        const m = new Int32Array(s.size);
        m.set(t.mirror.subarray(0, Math.min(t.mirror.length, s.size)));
        t.mirror = m;
      }
      const el = s.elements, mirror = t.mirror;
      for (let i = 0; i < s.size; i++) {
        if (el[i] === mirror[i]) continue;
        t.table.set(i, this.refToValue(s.elemType, el[i]) as never);
        mirror[i] = el[i];
      }
    }
    for (const n of this.instances.values()) {
      const st = n.state;
      for (let i = 0; i < n.droppedData.length; i++) {
        if (n.droppedData[i] === 0 && st.datas[i] === null) { (n.exports['dd'] as (i: number) => void)(i); n.droppedData[i] = 1; }
      }
      for (let i = 0; i < n.droppedElems.length; i++) {
        if (n.droppedElems[i] === 0 && st.elems[i] === null) { (n.exports['de'] as (i: number) => void)(i); n.droppedElems[i] = 1; }
      }
    }
  }

  /** Native -> interpreter: globals, and tables when native code may have written them. */
  syncOut(): void {
    for (const g of this.globals.values()) {
      const s = g.state;
      if (!s.mutable) continue;
      if (g.get) {
        const bits = g.get();
        if (typeof bits === 'number') { s.lo = bits | 0; s.hi = 0; } else { s.lo = Number(BigInt.asIntN(32, bits)); s.hi = Number(BigInt.asIntN(32, bits >> 32n)); }
      } else {
        this.valueToBits(s.type, g.obj.value);
        s.lo = scratch.getInt32(0, true);
        s.hi = scratch.getInt32(4, true);
      }
      g.lo = s.lo;
      g.hi = s.hi;
    }
    if (!this.tablesWritten) return;
    for (const t of this.tables.values()) {
      const s = t.state;
      const length = t.table.length;
      if (length > s.size) {
        if (length > s.elements.length) {
          const el = new Int32Array(length);
          el.set(s.elements.subarray(0, s.size));
          s.elements = el;
        }
        s.size = length;
      }
      if (t.mirror.length < length) {
        const m = new Int32Array(length);
        m.set(t.mirror);
        t.mirror = m;
      }
      for (let i = 0; i < length; i++) {
        const ref = this.valueToRef(s.elemType, t.table.get(i));
        s.elements[i] = ref;
        t.mirror[i] = ref;
      }
    }
  }

  // ---------------------------------------------------------------- values

  /** A JS value for the native side from slot bits (`entry`: float values as raw bits, as the `c<i>` entries take them). */
  bitsToValue(type: number, lo: number, hi: number, entry: boolean): unknown {
    switch (type) {
      case ValType.i32: return lo | 0;
      case ValType.i64: return bits64(lo, hi);
      case ValType.f32:
        if (entry) return lo | 0;
        scratch.setInt32(0, lo, true);
        return scratch.getFloat32(0, true);
      case ValType.f64:
        if (entry) return bits64(lo, hi);
        scratch.setInt32(0, lo, true);
        scratch.setInt32(4, hi, true);
        return scratch.getFloat64(0, true);
      case ValType.funcref: case ValType.externref: return this.refToValue(type, lo);
      default: throw new TypeError(`native tier: cannot pass a value of type 0x${type.toString(16)}`);
    }
  }

  /** Slot bits of a native value into `scratch` (float values as numbers; see `entryToBits`). */
  private valueToBits(type: number, v: unknown): void {
    let lo = 0, hi = 0;
    switch (type) {
      case ValType.i32: lo = v as number; break;
      case ValType.i64: lo = Number(BigInt.asIntN(32, v as bigint)); hi = Number(BigInt.asIntN(32, (v as bigint) >> 32n)); break;
      case ValType.f32: scratch.setFloat32(0, v as number, true); lo = scratch.getInt32(0, true); break;
      case ValType.f64: scratch.setFloat64(0, v as number, true); lo = scratch.getInt32(0, true); hi = scratch.getInt32(4, true); break;
      default: lo = this.valueToRef(type, v);
    }
    scratch.setInt32(0, lo, true);
    scratch.setInt32(4, hi, true);
  }

  /** Writes a value returned by an entry (`c<i>`: floats as raw bits) into slots. */
  entryToSlots(type: number, v: unknown, out: Int32Array, index: number): void {
    switch (type) {
      case ValType.i32: case ValType.f32: out[index] = v as number; out[index + 1] = 0; return;
      case ValType.i64: case ValType.f64:
        out[index] = Number(BigInt.asIntN(32, v as bigint));
        out[index + 1] = Number(BigInt.asIntN(32, (v as bigint) >> 32n));
        return;
      default: out[index] = this.valueToRef(type, v); out[index + 1] = 0;
    }
  }

  refToValue(type: number, ref: number): unknown {
    if (ref === 0) return null;
    if (type === ValType.externref) return this.state.externs[ref - 1];
    const obj = this.funcObjects[ref - 1];
    if (obj === undefined) throw new LinkError(`native tier: function address ${ref - 1} has no native twin`);
    return obj;
  }

  valueToRef(type: number, v: unknown): number {
    if (v === null || v === undefined) return 0;
    if (type === ValType.externref) return externId(this.state, v) + 1;
    const addr = this.addrOf.get(v);
    if (addr === undefined) throw new LinkError('native tier: a function reference without an interpreter twin');
    return addr + 1;
  }

  // ---------------------------------------------------------------- calls

  /**
   * Calls function `funcAddr` natively with slot-encoded arguments (`args[2i], args[2i+1]`
   * for argument i). Returns true when it returned (results written back into `out` from
   * `outIndex`), false when it unwound: the frames are then in `unwound`.
   */
  call(funcAddr: number, args: Int32Array, argIndex: number, out: Int32Array, outIndex = 0, deadline = Infinity): boolean {
    const fn = this.state.funcs[funcAddr];
    const entry = this.entries[funcAddr];
    if (entry === undefined || fn.kind !== FuncKind.wasm) throw new LinkError(`native tier: function address ${funcAddr} is not native`);
    const { params, results } = fn.type;
    const values = new Array(params.length);
    for (let i = 0; i < params.length; i++) values[i] = this.bitsToValue(params[i], args[argIndex + 2 * i], args[argIndex + 2 * i + 1], true);
    const result = this.invoke(entry, values, deadline);
    if (result === UNWOUND) return false;
    if (results.length === 1) this.entryToSlots(results[0], result, out, outIndex);
    else if (results.length > 1) {
      const list = result as unknown[];
      for (let i = 0; i < results.length; i++) this.entryToSlots(results[i], list[i], out, outIndex + 2 * i);
    }
    return true;
  }

  /**
   * Calls a native function (an entry or a resume clone) with JS values. Returns what it
   * returned, or UNWOUND (the frames are then in `unwound`, unless this call is nested
   * inside another native call, which then unwinds too).
   */
  private invoke(entry: Function, values: unknown[], deadline: number): unknown {
    const outer = this.active === 0;
    if (outer) this.enter(deadline);
    this.active++;
    let result: unknown;
    const traceLimit = Error.stackTraceLimit;
    // Deep enough a V8 stack trace to give traps a useful backtrace.
    if (outer && traceLimit < 64) Error.stackTraceLimit = 64;
    try {
      result = entry(...values);
    } catch (error) {
      const trap = toTrap(error);
      if (trap instanceof Trap && trap.backtrace.length === 0 && error instanceof Error) trap.backtrace = this.nativeBacktrace(error);
      throw trap;
    } finally {
      this.active--;
      if (outer) {
        Error.stackTraceLimit = traceLimit;
        this.syncOut();
      }
    }
    if (this.unwindingNow) {
      if (outer) this.finishUnwind();
      return UNWOUND;
    }
    return result;
  }

  // ---------------------------------------------------------------- re-entry

  /** The safepoint of a function at a canonical pc, of a kind a resumed frame can stand at. */
  private siteAt(info: RewrittenFunction, pc: number, top: boolean): Safepoint | undefined {
    for (const s of info.sites) {
      if (s.pc !== pc) continue;
      if (s.kind === 'call' || (top && s.kind === 'loop') || (top && s.kind === 'entry')) return s;
    }
    return undefined;
  }

  /** The resume clone of `funcIndex` at safepoint `site`, compiled and instantiated on first use. */
  private clone(native: NativeInstance, funcIndex: number, site: Safepoint): CloneEntry | null {
    const key = `${funcIndex}:${site.pc}`;
    const cached = native.clones.get(key);
    if (cached !== undefined) return cached;
    const made = this.rewrites.clone(native.instance.compiled, funcIndex, site, cloneStackTypes(site), this.options.rewrite);
    if (made === null) {
      native.clones.set(key, null);
      return null;
    }
    const rewritten = made.clone;
    const imports: Record<string, Record<string, unknown>> = { f: {}, t: {}, m: {}, g: {}, h: {} };
    const ex = native.exports;
    for (const f of rewritten.funcImports) imports['f'][String(f)] = ex[`f${f}`];
    const inst = native.state;
    inst.tableAddrs.forEach((addr, i) => { imports['t'][String(i)] = this.tableLink(addr).table; });
    inst.memAddrs.forEach((addr, i) => { imports['m'][String(i)] = this.state.memories[addr].memory; });
    const m = native.instance.compiled.module;
    inst.globalAddrs.forEach((addr, i) => { imports['g'][String(i)] = i < m.numImportedGlobals ? this.globals.get(addr)!.obj : ex[`g${i}`]; });
    for (const name of ['unw', 'cd', 'depth', 'maxp']) imports['h'][name] = ex[name];
    const info = rewritten.info;
    imports[HELPER_MODULE] = this.helpers(native, () => info);
    const instance = new WebAssembly.Instance(made.module, imports as WebAssembly.Imports);
    const entry: CloneEntry = { run: instance.exports['run'] as Function, info };
    native.clones.set(key, entry);
    return entry;
  }

  /**
   * Whether every frame can continue natively: each stands at a safepoint (callers at a
   * call), and its function can have a resume clone.
   */
  canResume(frames: readonly CanonicalFrame[], space: IndexSpace): boolean {
    for (let i = 0; i < frames.length; i++) {
      const step = this.resumeStep(frames[i], space, i === frames.length - 1);
      if (step === undefined) return false;
    }
    return frames.length > 0;
  }

  private resumeStep(frame: CanonicalFrame, space: IndexSpace, top: boolean): { run: Function; addr: number; entry: boolean } | undefined {
    const addr = space.funcs[frame.funcIndex];
    const fn = this.state.funcs[addr];
    if (fn === undefined || fn.kind !== FuncKind.wasm) return undefined;
    const native = this.instances.get(fn.instance);
    if (native === undefined) return undefined;
    const funcIndex = fn.compiled.funcIndex;
    const info = native.rewritten.functions[funcIndex]!;
    const site = this.siteAt(info, frame.pc, top);
    if (site === undefined) return undefined;
    // The operand stack must be the safepoint's (a caller's without its callee's results).
    const expected = cloneStackTypes(site).length - (site.kind === 'call' && !top ? site.callResults.length : 0);
    if (site.kind !== 'entry' && frame.stack.length !== expected) return undefined;
    if (site.kind === 'entry') {
      // At its entry, a frame is a fresh call with its parameters.
      const entry = this.entries[addr];
      return entry === undefined ? undefined : { run: entry, addr, entry: true };
    }
    const c = this.clone(native, funcIndex, site);
    return c === null ? undefined : { run: c.run, addr, entry: false };
  }

  /**
   * Continues canonical frames natively, top first: each frame's resume clone runs with
   * its locals and operand stack (plus the results of the frame above), and returns what
   * the frame would. Returns the bottom frame's results (JS values, floats as raw bits),
   * or the frames still to run (bottom first) when a call unwound: those below, then
   * the newly unwound ones (`frames` itself, cut and extended; `added` the new ones).
   */
  resumeFrames(frames: CanonicalFrame[], space: IndexSpace, deadline = Infinity): { returned: unknown[] } | { unwound: CanonicalFrame[]; added: CanonicalFrame[]; removed: CanonicalFrame } {
    let results: unknown[] = [];
    for (let i = frames.length - 1; i >= 0; i--) {
      const frame = frames[i];
      const step = this.resumeStep(frame, space, i === frames.length - 1);
      if (step === undefined) throw new LinkError(`native tier: frame ${i} cannot continue natively`);
      const fn = this.state.funcs[step.addr] as WasmFunctionState;
      const localTypes = fn.compiled.funcIndex >= 0 ? this.instances.get(fn.instance)!.rewritten.functions[fn.compiled.funcIndex]!.localTypes : [];
      const values: unknown[] = [];
      if (step.entry) {
        for (let j = 0; j < fn.type.params.length; j++) values.push(this.canonicalToValue(localTypes[j], frame.locals[j], space));
      } else {
        for (let j = 0; j < localTypes.length; j++) values.push(this.canonicalToValue(localTypes[j], frame.locals[j], space));
        const site = this.siteAt(this.instances.get(fn.instance)!.rewritten.functions[fn.compiled.funcIndex]!, frame.pc, i === frames.length - 1)!;
        const stackTypes = cloneStackTypes(site);
        for (let j = 0; j < frame.stack.length; j++) values.push(this.canonicalToValue(stackTypes[j], frame.stack[j], space));
        if (i < frames.length - 1) values.push(...results);
      }
      const result = this.invoke(step.run, values, deadline);
      if (result === UNWOUND) {
        const unwound = this.canonicalFrames(this.unwound, space);
        this.unwound = [];
        // In place: a deep recursion comes back here many times, each adding a few frames.
        const removed = frames[i];
        frames.length = i;
        for (const f of unwound) frames.push(f);
        return { unwound: frames, added: unwound, removed };
      }
      const n = fn.type.results.length;
      results = n === 0 ? [] : n === 1 ? [result] : Array.from(result as Iterable<unknown>);
    }
    return { returned: results };
  }

  /** A canonical value as the native side takes it (floats as raw bits). */
  private canonicalToValue(type: number, v: CanonicalValue, space: IndexSpace): unknown {
    switch (type) {
      case ValType.i32: return v as number;
      case ValType.f32: return (v as number) | 0;
      case ValType.i64: return v as bigint;
      case ValType.f64: return BigInt.asIntN(64, v as bigint);
      case ValType.funcref: return v === null ? null : this.refToValue(type, space.funcs[v as number] + 1);
      case ValType.externref: return v === null ? null : this.state.externs[v as number];
      default: throw new TypeError(`native tier: cannot pass a value of type 0x${type.toString(16)}`);
    }
  }

  /**
   * The Wasm frames of a V8 stack trace, mapped back to the original module (one
   * attached instance only: with several, V8's function indices are ambiguous).
   */
  private nativeBacktrace(error: Error): TraceFrame[] {
    if (this.instances.size !== 1) return [];
    const native = this.instances.values().next().value as NativeInstance;
    const m = native.instance.compiled.module;
    const shift = HELPER_IMPORTS.length;
    const trace: TraceFrame[] = [];
    for (const match of (error.stack ?? '').matchAll(/wasm:\/\/wasm\/(?:([^:]*)-)?[0-9a-f]+:wasm-function\[(\d+)\]:0x([0-9a-f]+)/g)) {
      const name = match[1] ?? '';
      const index = Number(match[2]);
      const offset = parseInt(match[3], 16);
      let info: RewrittenFunction | undefined;
      if (name === MODULE_NAME) {
        if (index < m.numImportedFuncs + shift) continue;
        info = native.rewritten.functions[index - shift];
      } else if (name.startsWith(RESUME_MODULE_PREFIX)) {
        const [f, pc] = name.slice(RESUME_MODULE_PREFIX.length).split('-').map(Number);
        info = native.clones.get(`${f}:${pc}`)?.info;
      }
      if (info === undefined) continue; // a helper (an entry trampoline), or another module
      trace.push({ funcIndex: info.funcIndex, name: native.state.names.get(info.funcIndex), offset: originalOffset(info, offset) });
    }
    return trace;
  }

  /** Prepares the native side for an outermost call. */
  private enter(deadline: number): void {
    this.syncIn();
    this.unwindingNow = false;
    this.records = [];
    this.current = undefined;
    this.deadline = deadline;
    const budget = this.options.stackBudget ?? DEFAULT_STACK_BUDGET;
    const interval = this.interval;
    for (const n of this.instances.values()) {
      n.unwinding.value = 0;
      n.depth.value = budget;
      n.countdown.value = interval;
    }
  }

  /** Frames unwound by the last call, bottom first, waiting to be taken. */
  unwound: FrameRecordList = [];
  /**
   * Why the last call unwound: a pause was requested, the native stack budget ran out,
   * or an import returned a promise (`suspended`).
   */
  unwindReason: 'pause' | 'stack' | 'import' = 'pause';

  private finishUnwind(): void {
    this.unwound = this.records.reverse();
    this.records = [];
    this.current = undefined;
    this.unwindingNow = false;
    for (const n of this.instances.values()) n.unwinding.value = 0;
  }

  /** A space over every function of the store (funcIndex = store address). */
  get storeSpace(): IndexSpace {
    if (!this.spaceCache || this.spaceCache.funcs.length !== this.state.funcs.length) {
      const instances = [...this.instances.values()];
      this.spaceCache = wholeStoreSpace(this.state, instances.map((n) => n.state), instances.map((n) => n.instance.compiled));
    }
    return this.spaceCache;
  }

  /**
   * The unwound frames in canonical form, bottom first, in the terms of `space`
   * (function indices and funcref values map through it).
   */
  canonicalFrames(records: FrameRecordList, space: IndexSpace): CanonicalFrame[] {
    const out: CanonicalFrame[] = [];
    const top = records.length - 1;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const info = r.info;
      const site = info.sites[r.site];
      const addr = r.native.state.funcAddrs[r.funcIndex];
      const funcIndex = space.funcIndexOf[addr];
      if (funcIndex === undefined || funcIndex < 0) throw new LinkError(`native tier: function address ${addr} is outside the index space`);
      const locals: CanonicalValue[] = new Array(info.numLocals);
      for (let j = 0; j < info.numLocals; j++) locals[j] = this.canonical(info.localTypes[j], r.values[j], space);
      const n = site.stack.length - (i === top ? 0 : site.results);
      const stack: CanonicalValue[] = new Array(n);
      for (let j = 0; j < n; j++) stack[j] = this.canonical(site.types[j], r.values[site.stack[j]], space);
      out.push({ funcIndex, pc: site.pc, locals, stack });
    }
    return out;
  }

  private canonical(type: number, v: unknown, space: IndexSpace): CanonicalValue {
    switch (type) {
      case ValType.i32: return (v as number) | 0;
      case ValType.f32: return (v as number) >>> 0;
      case ValType.i64: return BigInt.asIntN(64, v as bigint);
      case ValType.f64: return BigInt.asUintN(64, v as bigint);
      case ValType.funcref: {
        if (v === null) return null;
        const addr = this.addrOf.get(v);
        const index = addr === undefined ? -1 : space.funcIndexOf[addr];
        if (index === undefined || index < 0) throw new LinkError('native tier: a function reference outside the index space');
        return index;
      }
      case ValType.externref: return v === null || v === undefined ? null : externId(this.state, v);
      default: throw new TypeError(`native tier: cannot capture a value of type 0x${type.toString(16)}`);
    }
  }
}

export type FrameRecordList = FrameRecord[];

/** The operand stack a resume clone takes at a safepoint: for a call, the values below its arguments and its results. */
function cloneStackTypes(site: Safepoint): number[] {
  if (site.kind !== 'call') return Array.from(site.types);
  return [...site.types.subarray(0, site.types.length - site.results), ...site.callResults];
}

/** What `invoke` returns when the call unwound. */
const UNWOUND = Symbol('unwound');

function bits64(lo: number, hi: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}
