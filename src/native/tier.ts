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
 *
 * This file holds the tier's control: instantiating the twins, the host calls and helper
 * imports native code calls, pausing and unwinding, calls in and re-entry through resume
 * clones. Its parts: `shared-state.ts` (globals and tables both sides share),
 * `values.ts` (value conversions), `poll-pacing.ts`, `frame-records.ts` (the frames
 * saved while unwinding), `traps.ts`, `rewrite-cache.ts` (owned by the engine).
 */
import { LinkError, Trap, UncaughtException } from '../errors/index.ts';
import { FuncKind, isSharedMemory, MEMORIES_SHARED } from '../exec/index.ts';
import type { InstanceState, StoreState, WasmFunctionState } from '../exec/index.ts';
import { isThenable } from '../runtime/index.ts';
import type { Instance, Store } from '../runtime/index.ts';
import type { CanonicalFrame, IndexSpace } from '../snapshot/index.ts';
import { wholeStoreSpace } from '../snapshot/index.ts';
import { ValType } from '../wasm/index.ts';
import { canonicalFrames, cloneStackTypes, FrameRecorder } from './frame-records.ts';
import type { CloneEntry, Exports, FrameRecord, NativeInstance } from './native-instance.ts';
import { PollPacer } from './poll-pacing.ts';
import { DEFAULT_REWRITE_OPTIONS, HELPER_MODULE } from './rewrite.ts';
import type { RewriteOptions } from './rewrite.ts';
import { RewriteCache } from './rewrite-cache.ts';
import type { RewrittenFunction, Safepoint } from './rewrite-function.ts';
import { SharedState } from './shared-state.ts';
import { nativeBacktrace, toTrap } from './traps.ts';
import { NativeValues, v128FromHalves } from './values.ts';

/**
 * `options` with the rewrite's `sharedMemory` defaulting to what the host makes
 * (`MEMORIES_SHARED`): the rewrite imports the interpreter's memory, shared or not. The
 * key is only added when true, so that a host without shared memories keeps the rewrite
 * (and disk-cache) keys it had.
 */
export function withMemoryDefault(options: NativeOptions): NativeOptions {
  if (options.rewrite === undefined) return { ...options, rewrite: DEFAULT_REWRITE_OPTIONS };
  if (!MEMORIES_SHARED || options.rewrite.sharedMemory !== undefined) return options;
  return { ...options, rewrite: { ...options.rewrite, sharedMemory: true } };
}

/** How the native tier rewrites and runs modules: the defaults suit production; tests and benchmarks tune them. */
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
  /**
   * With `tier: 'auto'`, how long such a module runs in the interpreter while the worker
   * rewrites it (default 150 ms, `DEFAULT_INTERPRET_WHILE_REWRITING_MS`; before an
   * `inline` rewrite, 50 ms, `DEFAULT_INTERPRET_BEFORE_INLINE_REWRITE_MS`); past that, the
   * thread waits for the rewrite, leaving the CPU to the worker. A program that ends
   * sooner (a usage message, a short run) never waits; a long one gains little from a
   * cold interpreter (a few percent of V8) and, on a busy machine, slows the worker.
   * Infinity: interpret until the rewrite is ready.
   */
  interpretWhileRewritingMs?: number;
  /**
   * With `tier: 'auto'`, who rewrites such a module: `worker` (the default) a worker
   * thread, while this one interprets and then waits, stopping for pause requests every
   * 10 ms; `inline` this thread itself, once the program has interpreted for
   * `interpretWhileRewritingMs` without ending. A fresh worker runs the rewriter cold,
   * its decoder and validator too (SQLite: 1.3 s from its spawn to its answer, against
   * 0.6 s on the thread that has just validated the module), so `inline` finishes a
   * first start sooner; but a pause asked for during that rewrite waits for its end.
   * `wasmig run` and `resume` use it: with `auto`, nothing can pause them.
   */
  rewriteWhileInterpreting?: 'worker' | 'inline';
  /**
   * How paused frames go back to native code: `lazy` (the default) runs them on at once,
   * natively from the top down as their resume clones are made, in the interpreter until
   * then (`reentry.ts`); `eager` makes every clone first (the spec run's stress of clones).
   */
  resumeClones?: 'lazy' | 'eager';
}

/** The default `backgroundRewriteBytes`: below it, rewriting on the spot costs under about 0.1 s. */
export const DEFAULT_BACKGROUND_REWRITE_BYTES = 256 * 1024;

/**
 * The default `interpretWhileRewritingMs`. SQLite's first start (1.1 MB of code) took
 * 2.1 s interpreting while the worker rewrote (its CPU shared with the interpreter),
 * against 0.6 s rewriting first (`--tier native`); a program that prints its usage
 * ends well within this.
 */
export const DEFAULT_INTERPRET_WHILE_REWRITING_MS = 150;

/**
 * The default `interpretWhileRewritingMs` before an `inline` rewrite: long enough for a
 * usage message or a version, short enough that the program has not gone deep. The
 * later the move, the more it costs beyond the window itself (the interpreted frames go
 * over to V8 through resume clones of the functions they stand in): SQLite's first
 * start, 7 alternating rounds at load 2.5, medians: 1,221 ms with no window, 1,346 with
 * 30 ms, 1,368 with 50, 1,616 with 100, 1,568 with 150 (`--tier native`: 1,199).
 */
export const DEFAULT_INTERPRET_BEFORE_INLINE_REWRITE_MS = 50;

/** The default recursion budget: well inside V8's default 984 KiB stack. */
export const DEFAULT_STACK_BUDGET = 24_000;





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
  /** Conversions of values between the interpreter's forms and the native side's. */
  readonly values: NativeValues;
  /** The globals and tables both sides share, and their syncing when execution switches sides. */
  readonly links: SharedState;
  /** Set by any thread (`Atomics.store(tier.pauseSignal, 0, 1)`) to pause native code: the store's own signal, which the interpreter polls too. */
  readonly pauseSignal: Int32Array;
  readonly options: NativeOptions;
  /** Function addresses the interpreter hands to this tier (`ThreadState.divert`). */
  divert = new Uint8Array(0);
  /**
   * By tag address: the `WebAssembly.Tag` every rewritten module (and resume clone)
   * imports for that tag of the store, so that a tag matches across instances as in
   * the interpreter, and an exception that reaches the host tells its tag.
   */
  private readonly tagObjects: (JsTag | undefined)[] = [];
  /**
   * What a host function called from native code threw (a WASI exit, a host error):
   * the native stack unwinds as for a pause and the call in progress throws it then,
   * so that no Wasm handler sees it (V8's `catch_all` would catch it, where the
   * interpreter lets it through: a C++ cleanup would run after `proc_exit`).
   */
  private hostError: { error: unknown } | undefined;
  /** Where native code last threw (`th`): where an exception that leaves it was thrown. */
  private lastThrow: { native: NativeInstance; funcIndex: number; pc: number } | undefined;
  /** The errors `uncaught` made of Wasm exceptions that left native code (not those a host function threw). */
  private readonly wasmExceptions = new WeakSet<object>();

  /** Depth of native calls in progress (JS -> native, possibly nested through host calls). */
  private active = 0;
  private unwindingNow = false;
  /** The frames native code saves while it unwinds. */
  private readonly recorder = new FrameRecorder();
  private pauseRequested = false;
  private deadline = Infinity;
  private spaceCache: IndexSpace | undefined;
  /** Polls so far, for tests and measurements. */
  polls = 0;
  /** Called at every poll; returning true requests a pause there (tests pause at random moments with it). */
  pollHook: (() => boolean) | undefined;

  /** The global countdown the host hands back at each poll (adapted to the pace of polls, unless fixed). */
  private readonly pacer: PollPacer;

  /**
   * `rewrites`: where rewritten modules and resume clones are kept (the engine's, so
   * that its programs share them; a fresh one by default).
   */
  constructor(readonly store: Store, options: NativeOptions = {}, readonly rewrites: RewriteCache = new RewriteCache()) {
    this.state = store.state;
    this.values = new NativeValues(this.state, this.funcObjects, this.addrOf);
    this.links = new SharedState(this.state, this.values);
    this.pauseSignal = store.pauseSignal;
    this.options = withMemoryDefault(options);
    this.plain = options.rewrite?.plain === true;
    this.pacer = new PollPacer(options.pollInterval, options.rewrite?.loopPoll === 'global');
  }

  /**
   * The tier runs modules as they are (`RewriteOptions.plain`): no safepoints, so it never
   * unwinds. A pause request, the pause signal and the deadline are not served (the run
   * ends when the program does), and a host function that returns a promise is a trap.
   */
  private readonly plain: boolean;

  /**
   * The rewrite options for `inst`: the tier's, with `sharedMemory` as its memory is (the
   * rewrite imports the memory with that type, which must match the memory's object). A
   * memory the host made shared by default (`MEMORIES_SHARED`) matches the tier's
   * default; one the embedder gave, or one the host could not make shared, gets a
   * rewrite of its own.
   */
  private rewriteOptionsFor(inst: InstanceState): RewriteOptions | undefined {
    const base = this.options.rewrite;
    if (inst.memAddrs.length === 0) return base;
    const shared = isSharedMemory(this.state.memories[inst.memAddrs[0]].memory);
    // A shared memory's maximum is the embedder's limit; a plain module has no rewritten `memory.grow` to hold it there.
    if (this.plain && !shared) throw new LinkError('a plain native module needs a shared memory (its maximum holds the program to its limit)');
    if (shared === (base?.sharedMemory === true)) return base;
    const { sharedMemory: _, ...rest } = base ?? {};
    return shared ? { ...rest, sharedMemory: true } : rest;
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
    // What `NativeEngine.cannotRun` keeps from a plain engine, refused here too (a tier made directly).
    if (this.plain && compiled.exceptionUse !== undefined) throw new LinkError(`a plain native module cannot have exception handlers (they would catch a host's exit): ${compiled.exceptionUse}`);
    const { rewritten, module } = this.rewrites.rewrite(compiled, this.rewriteOptionsFor(inst));

    const imports: Record<string, Record<string, unknown>> = {};
    const put = (mod: string, name: string, v: unknown): void => { (imports[mod] ??= {})[name] = v; };
    let funcIndex = 0, tableIndex = 0, memIndex = 0, globalIndex = 0;
    for (const imp of m.imports) {
      switch (imp.desc.kind) {
        case 'func': put(imp.module, imp.name, this.importedFunction(inst.funcAddrs[funcIndex++])); break;
        case 'table': put(imp.module, imp.name, this.links.table(inst.tableAddrs[tableIndex++]).table); break;
        case 'memory': put(imp.module, imp.name, store.memories[inst.memAddrs[memIndex++]].memory); break;
        case 'global': put(imp.module, imp.name, this.links.global(inst.globalAddrs[globalIndex++])); break;
      }
    }
    for (const t of rewritten.importedTables) put(HELPER_MODULE, `t${t}`, this.links.table(inst.tableAddrs[t]).table);
    for (const i of rewritten.importedMemories) put(HELPER_MODULE, `m${i}`, store.memories[inst.memAddrs[i]].memory);
    inst.tagAddrs.forEach((addr, i) => put(HELPER_MODULE, `x${i}`, this.tagObject(addr)));

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
    if (native.writesTables) this.links.tablesWritten = true;
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
    this.links.linkGlobals(inst, m, ex, rewritten);
    this.instances.set(inst, native);
    this.spaceCache = undefined;
    return native;
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
      const conv = args.map((a, i) => (params[i] === ValType.funcref ? this.values.toFuncRef(a) : a));
      let r: unknown;
      try {
        r = callback(...conv);
      } catch (e) {
        return this.hostFailed(addr, e);
      }
      if (isThenable(r)) return this.suspend(addr, r, conv);
      this.afterHostCall();
      if (results.length === 1) return results[0] === ValType.funcref ? this.values.fromFuncRef(r) : r;
      if (results.length > 1) return Array.from(r as Iterable<unknown>).map((v, i) => (results[i] === ValType.funcref ? this.values.fromFuncRef(v) : v));
      return r;
    };
  }

  /**
   * `callback` followed by `afterHostCall` (or, when it returns a promise, `suspend`);
   * fixed arities spare the common calls a rest parameter.
   */
  private checkedHostCall(addr: number, callback: (...args: unknown[]) => unknown, arity: number): Function {
    const after = (r: unknown): unknown => {
      this.afterHostCall();
      return r;
    };
    // The arguments are kept (in an array) only for a promise: the common call allocates nothing.
    switch (arity) {
      case 0: return () => {
        try { const r = callback(); return isThenable(r) ? this.suspend(addr, r, []) : after(r); } catch (e) { return this.hostFailed(addr, e); }
      };
      case 1: return (a: unknown) => {
        try { const r = callback(a); return isThenable(r) ? this.suspend(addr, r, [a]) : after(r); } catch (e) { return this.hostFailed(addr, e); }
      };
      case 2: return (a: unknown, b: unknown) => {
        try { const r = callback(a, b); return isThenable(r) ? this.suspend(addr, r, [a, b]) : after(r); } catch (e) { return this.hostFailed(addr, e); }
      };
      case 3: return (a: unknown, b: unknown, c: unknown) => {
        try { const r = callback(a, b, c); return isThenable(r) ? this.suspend(addr, r, [a, b, c]) : after(r); } catch (e) { return this.hostFailed(addr, e); }
      };
      case 4: return (a: unknown, b: unknown, c: unknown, d: unknown) => {
        try {
          const r = callback(a, b, c, d);
          return isThenable(r) ? this.suspend(addr, r, [a, b, c, d]) : after(r);
        } catch (e) { return this.hostFailed(addr, e); }
      };
      default: return (...args: unknown[]) => {
        try { const r = callback(...args); return isThenable(r) ? this.suspend(addr, r, args) : after(r); } catch (e) { return this.hostFailed(addr, e); }
      };
    }
  }

  /**
   * A host function called from native code threw `error`: rather than let it through
   * Wasm frames (where a `catch_all` would catch it), the native stack unwinds as for a
   * pause, and the outermost native call throws it (`invoke`). What is returned here
   * stands in for the call's results meanwhile.
   */
  private hostFailed(addr: number, error: unknown): unknown {
    // A plain module cannot unwind: the error goes through its frames, which only a module
    // with exception handlers could catch (a plain tier attaches none: `attach`).
    if (this.active === 0 || this.plain) throw error;
    // A Wasm exception that left a nested native call through this host function is the host's error now.
    if (typeof error === 'object' && error !== null) this.wasmExceptions.delete(error);
    this.hostError ??= { error };
    this.beginUnwind('pause');
    return standInResults(this.state.funcs[addr].type.results);
  }

  /** The `WebAssembly.Tag` of tag address `addr`, made on first use (see `tagObjects`). */
  private tagObject(addr: number): JsTag {
    let tag = this.tagObjects[addr];
    if (tag === undefined) {
      const parameters = this.state.tags[addr].type.params.map(jsValueTypeName);
      tag = new (jsExceptionApi().Tag)({ parameters });
      this.tagObjects[addr] = tag;
    }
    return tag;
  }

  /**
   * A Wasm exception that left native code, in the interpreter's terms: its tag's
   * address and its values as slots (floats through JS numbers: a NaN's payload bits are
   * not kept), named as the first attached instance that knows the tag numbers it.
   */
  private uncaught(e: JsException): UncaughtException {
    const addr = this.tagObjects.findIndex((tag) => tag !== undefined && e.is(tag));
    if (addr < 0) return new UncaughtException(-1, new Int32Array(0), 'uncaught exception (of a tag the store does not know)');
    const tag = this.tagObjects[addr]!;
    const params = this.state.tags[addr].type.params;
    const bits = params.map((t, i) => jsArgBits(t, e.getArg(tag, i)));
    const payload = new Int32Array(2 * params.length);
    this.values.entryListToSlots(params, bits, payload, 0);
    let index = -1;
    for (const n of this.instances.values()) {
      index = n.state.tagAddrs.indexOf(addr);
      if (index >= 0) break;
    }
    const uncaught = new UncaughtException(addr, payload, `uncaught exception (tag ${index >= 0 ? index : `at store address ${addr}`})`);
    this.wasmExceptions.add(uncaught);
    return uncaught;
  }

  /**
   * A handler's exception (the store's exception `index`) as a resume clone takes it
   * (`caughtValueTypes`): which of `native`'s tags, then every tag's values, its own
   * from the exception, zeros for the others.
   */
  private pushCaught(native: NativeInstance, index: number, out: unknown[]): void {
    const exn = this.state.exceptions[index];
    const which = native.state.tagAddrs.indexOf(exn.tagAddr);
    out.push(which);
    native.state.tagAddrs.forEach((addr, k) => {
      const params = this.state.tags[addr].type.params;
      params.forEach((t, i) => {
        out.push(k === which ? this.values.bitsToValue(t, exn.payload[2 * i], exn.payload[2 * i + 1], true) : this.values.bitsToValue(t, 0, 0, true));
      });
    });
  }

  /** Whether `error` is a Wasm exception that left native code (which interpreted frames below may catch). */
  thrownByWasm(error: unknown): boolean {
    return typeof error === 'object' && error !== null && this.wasmExceptions.has(error);
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
    if (this.plain) {
      throw new Trap(`host function ${(this.state.funcs[addr] as { name: string }).name} returned a promise, which a plain native module cannot wait for`);
    }
    if (this.active !== 1 || this.unwindingNow) {
      throw new Trap(`host function ${(this.state.funcs[addr] as { name: string }).name} returned a promise inside a nested call, where it cannot be awaited`);
    }
    this.suspended = { funcAddr: addr, promise, args };
    this.beginUnwind('import');
    return standInResults(this.state.funcs[addr].type.results);
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
    if (this.active === 0 || this.unwindingNow || this.plain) return;
    if (this.pauseRequested || this.signalled() || (this.deadline !== Infinity && performance.now() >= this.deadline)) this.beginUnwind('pause');
  }

  /** The pause signal is up, and its sender wants the pause (see `StoreOptions.onPauseSignal`). */
  private signalled(): boolean {
    if (Atomics.load(this.pauseSignal, 0) === 0) return false;
    const served = this.store.options.onPauseSignal;
    return served === undefined || served();
  }

  /** The imports through which rewritten code reports to this tier. */
  private helpers(native: NativeInstance, lookup: (funcIndex: number) => RewrittenFunction): Record<string, Function> {
    return {
      poll: (): number => {
        this.polls++;
        // Adapt first, at the poll that pauses too: when a phase of slow units follows
        // fast ones, the late poll that ends a slice is the only one the slice has, and
        // skipping it kept the grown interval: every 20 ms slice then ran 300 ms.
        this.pacer.adapt();
        if (this.pauseRequested || (this.pollHook !== undefined && this.pollHook()) || this.signalled() || (this.deadline !== Infinity && performance.now() >= this.deadline)) {
          this.beginUnwind('pause');
          return 0;
        }
        return this.pacer.interval;
      },
      deep: (): void => { this.beginUnwind('stack'); },
      frame: (funcIndex: number, site: number): void => {
        this.recorder.frame(native, lookup(funcIndex), funcIndex, site);
      },
      si: (v: number): void => { this.recorder.value(v); },
      sl: (v: bigint): void => { this.recorder.value(v); },
      sr: (v: unknown): void => { this.recorder.value(v); },
      se: (v: unknown): void => { this.recorder.value(v); },
      sv: (lo: bigint, hi: bigint): void => { this.recorder.value(v128FromHalves(lo, hi)); },
      th: (funcIndex: number, pc: number): void => { this.lastThrow = { native, funcIndex, pc }; },
      ddrop: (i: number): void => { native.droppedData[i] = 1; native.state.datas[i] = null; },
      edrop: (i: number): void => { native.droppedElems[i] = 1; native.state.elems[i] = null; },
    };
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


  // ---------------------------------------------------------------- calls

  /**
   * Calls function `funcAddr` natively with slot-encoded arguments (from word `argIndex`
   * of `args`, two words per slot, two slots for a v128). Returns true when it returned
   * (results written back into `out` from word `outIndex`, laid out the same way), false
   * when it unwound: the frames are then in `unwound`.
   */
  call(funcAddr: number, args: Int32Array, argIndex: number, out: Int32Array, outIndex = 0, deadline = Infinity): boolean {
    const fn = this.state.funcs[funcAddr];
    const entry = this.entries[funcAddr];
    if (entry === undefined || fn.kind !== FuncKind.wasm) throw new LinkError(`native tier: function address ${funcAddr} is not native`);
    const { params, results } = fn.type;
    const values: unknown[] = [];
    for (let i = 0, at = argIndex; i < params.length; i++) at = this.values.slotsToEntry(params[i], args, at, values);
    const result = this.invoke(entry, values, deadline);
    if (result === UNWOUND) return false;
    this.values.entryListToSlots(results, entryResults(results, result), out, outIndex);
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
      const exceptionClass = jsExceptionApi().Exception as (new (...args: never[]) => JsException) | undefined;
      if (exceptionClass !== undefined && error instanceof exceptionClass) {
        // Thrown by Wasm code, caught by none of its frames: the interpreter's error,
        // which an execution may deliver to interpreted frames below (`NativeExecution`).
        const uncaught = this.uncaught(error);
        const at = this.lastThrow;
        if (at !== undefined) uncaught.backtrace = [{ funcIndex: at.funcIndex, name: at.native.state.names.get(at.funcIndex), offset: at.pc }];
        throw uncaught;
      }
      const trap = toTrap(error);
      if (trap instanceof Trap && trap.backtrace.length === 0 && error instanceof Error) trap.backtrace = nativeBacktrace(error, this.instances);
      throw trap;
    } finally {
      this.active--;
      if (outer) {
        Error.stackTraceLimit = traceLimit;
        this.links.syncOut();
      }
    }
    const failed = this.hostError;
    if (failed !== undefined) {
      // A host function threw: the native frames have unwound past every handler (see `hostFailed`).
      if (outer) {
        this.hostError = undefined;
        this.finishUnwind();
        this.unwound = [];
      }
      throw failed.error;
    }
    if (this.unwindingNow) {
      if (outer) {
        // No frame saved: the function tail-called a host function that asked for a
        // pause, leaving no frame of this call (the interpreter's tail call leaves none
        // either). Its results are the call's: it returned, and the pause comes at the
        // caller's next look. A promise's stand-in results are not results: that one
        // unwinds, with no frame (see `NativeExecution.suspend`).
        const none = this.recorder.empty;
        this.finishUnwind();
        if (none && this.unwindReason !== 'import') return result;
      }
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

  /**
   * The resume clone of `funcIndex` at safepoint `site`, compiled and instantiated on
   * first use. With `make` false, only one at hand (instantiating a clone the engine's
   * cache holds is cheap; rewriting and compiling one is not): undefined otherwise.
   */
  private clone(native: NativeInstance, funcIndex: number, site: Safepoint, make = true): CloneEntry | null | undefined {
    const key = `${funcIndex}:${site.pc}`;
    const cached = native.clones.get(key);
    if (cached !== undefined) return cached;
    const stackTypes = cloneStackTypes(site);
    const options = this.rewriteOptionsFor(native.state);
    if (!make && !this.rewrites.hasClone(native.instance.compiled, funcIndex, site, options)) return undefined;
    const made = this.rewrites.clone(native.instance.compiled, funcIndex, site, stackTypes, options);
    if (made === null) {
      native.clones.set(key, null);
      return null;
    }
    const rewritten = made.clone;
    const imports: Record<string, Record<string, unknown>> = { f: {}, t: {}, m: {}, g: {}, h: {}, x: {} };
    const ex = native.exports;
    for (const f of rewritten.funcImports) imports['f'][String(f)] = ex[`f${f}`];
    const inst = native.state;
    inst.tableAddrs.forEach((addr, i) => { imports['t'][String(i)] = this.links.table(addr).table; });
    inst.memAddrs.forEach((addr, i) => { imports['m'][String(i)] = this.state.memories[addr].memory; });
    const m = native.instance.compiled.module;
    inst.globalAddrs.forEach((addr, i) => { imports['g'][String(i)] = i < m.numImportedGlobals ? this.links.globals.get(addr)!.obj : ex[`g${i}`]; });
    for (const name of ['unw', 'cd', 'depth', 'maxp']) imports['h'][name] = ex[name];
    inst.tagAddrs.forEach((addr, i) => { imports['x'][String(i)] = this.tagObject(addr); });
    const info = rewritten.info;
    imports[HELPER_MODULE] = this.helpers(native, () => info);
    const instance = new WebAssembly.Instance(made.module, imports as WebAssembly.Imports);
    const entry: CloneEntry = { run: instance.exports['run'] as Function, info };
    native.clones.set(key, entry);
    return entry;
  }

  /**
   * Makes the resume clone of one call safepoint of `instance` (the first there is), so
   * that the first clone a restored thread needs does not also pay for loading and
   * optimizing the code that makes clones (in a fresh worker: several ms per clone).
   */
  warmResumeClones(instance: Instance): void {
    const native = this.attach(instance);
    for (const [funcIndex, info] of native.rewritten.functions.entries()) {
      const site = info?.sites.find((s) => s.kind === 'call');
      if (site !== undefined) { this.clone(native, funcIndex, site); return; }
    }
  }

  /**
   * Whether every frame can continue natively: each stands at a safepoint (callers at a
   * call), and its function can have a resume clone.
   */
  canResume(frames: readonly CanonicalFrame[], space: IndexSpace): boolean {
    for (let i = 0; i < frames.length; i++) {
      const step = this.resumeStep(frames[i], space, i === frames.length - 1);
      if (step === undefined || step === NOT_MADE) return false;
    }
    return frames.length > 0;
  }

  /**
   * The lowest index from which every frame up to the top can continue natively with
   * the resume clones at hand, making none (`frames.length` when the top one cannot).
   * 0: the whole stack can. What a lazy re-entry (`reentry.ts`) resumes natively.
   */
  readyFrom(frames: readonly CanonicalFrame[], space: IndexSpace): number {
    let from = frames.length;
    for (let i = frames.length - 1; i >= 0; i--) {
      const step = this.resumeStep(frames[i], space, i === frames.length - 1, false);
      if (step === undefined || step === NOT_MADE) break;
      from = i;
    }
    return from;
  }

  /**
   * Makes the resume clone `frames[index]` needs (the costly part of a re-entry: a few
   * milliseconds each in a fresh thread). False when it stands where no clone can take
   * it up (then it runs in the interpreter until it returns).
   */
  makeResumeClone(frames: readonly CanonicalFrame[], index: number, space: IndexSpace): boolean {
    const step = this.resumeStep(frames[index], space, index === frames.length - 1);
    return step !== undefined && step !== NOT_MADE;
  }

  /** Whether `frames[index]` stands where a clone could take it up, and its clone is not made yet. */
  cloneMissing(frames: readonly CanonicalFrame[], index: number, space: IndexSpace): boolean {
    return this.resumeStep(frames[index], space, index === frames.length - 1, false) === NOT_MADE;
  }

  private resumeStep(frame: CanonicalFrame, space: IndexSpace, top: boolean, make = true): { run: Function; addr: number; entry: boolean } | undefined | typeof NOT_MADE {
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
    // A handler's exception is thrown again by its clone: it must be of one of the module's tags.
    for (let j = 0; j < frame.stack.length; j++) {
      if (site.types[j] === ValType.exnref && !native.state.tagAddrs.includes(this.state.exceptions[frame.stack[j] as number]?.tagAddr ?? -1)) return undefined;
    }
    if (site.kind === 'entry') {
      // At its entry, a frame is a fresh call with its parameters.
      const entry = this.entries[addr];
      return entry === undefined ? undefined : { run: entry, addr, entry: true };
    }
    const c = this.clone(native, funcIndex, site, make);
    if (c === undefined) return NOT_MADE;
    return c === null ? undefined : { run: c.run, addr, entry: false };
  }

  /**
   * Continues canonical frames natively, top first: each frame's resume clone runs with
   * its locals and operand stack (plus the results of the frame above), and returns what
   * the frame would. Returns the bottom frame's results (JS values as entries return
   * them: floats as raw bits, a v128 as two i64 halves; see `NativeValues.entryListToSlots`),
   * or the frames still to run (bottom first) when a call unwound: those below, then
   * the newly unwound ones (`frames` itself, cut and extended; `added` the new ones).
   */
  resumeFrames(frames: CanonicalFrame[], space: IndexSpace, deadline = Infinity): { returned: unknown[] } | { unwound: CanonicalFrame[]; added: CanonicalFrame[]; removed: CanonicalFrame } | { thrown: UncaughtException; below: CanonicalFrame[] } {
    let results: unknown[] = [];
    for (let i = frames.length - 1; i >= 0; i--) {
      const frame = frames[i];
      const step = this.resumeStep(frame, space, i === frames.length - 1);
      if (step === undefined || step === NOT_MADE) throw new LinkError(`native tier: frame ${i} cannot continue natively`);
      const fn = this.state.funcs[step.addr] as WasmFunctionState;
      const localTypes = fn.compiled.funcIndex >= 0 ? this.instances.get(fn.instance)!.rewritten.functions[fn.compiled.funcIndex]!.localTypes : [];
      // Values as entries take them (a v128 as two i64 halves); `results` already are.
      const values: unknown[] = [];
      if (step.entry) {
        for (let j = 0; j < fn.type.params.length; j++) this.values.pushCanonical(localTypes[j], frame.locals[j], space, values);
      } else {
        for (let j = 0; j < localTypes.length; j++) this.values.pushCanonical(localTypes[j], frame.locals[j], space, values);
        const site = this.siteAt(this.instances.get(fn.instance)!.rewritten.functions[fn.compiled.funcIndex]!, frame.pc, i === frames.length - 1)!;
        const stackTypes = cloneStackTypes(site);
        for (let j = 0; j < frame.stack.length; j++) {
          if (stackTypes[j] === ValType.exnref) this.pushCaught(this.instances.get(fn.instance)!, frame.stack[j] as number, values);
          else this.values.pushCanonical(stackTypes[j], frame.stack[j], space, values);
        }
        if (i < frames.length - 1) values.push(...results);
      }
      let result: unknown;
      try {
        result = this.invoke(step.run, values, deadline);
      } catch (error) {
        // A Wasm exception left the frame: the frames below, which no native call
        // encloses (each clone returns to this loop), get it at their calls, in the
        // interpreter (`NativeExecution.throwInto`); their handlers may catch it.
        if (!(error instanceof UncaughtException) || !this.thrownByWasm(error)) throw error;
        frames.length = i;
        // The frame below stands after its call: stand-ins for the results it never got.
        if (i > 0) frames[i - 1].stack = [...frames[i - 1].stack, ...fn.type.results.map(canonicalStandIn)];
        return { thrown: error, below: frames };
      }
      if (result === UNWOUND) {
        const unwound = this.canonicalFrames(this.unwound, space);
        this.unwound = [];
        // In place: a deep recursion comes back here many times, each adding a few frames.
        const removed = frames[i];
        frames.length = i;
        for (const f of unwound) frames.push(f);
        return { unwound: frames, added: unwound, removed };
      }
      results = entryResults(fn.type.results, result);
    }
    return { returned: results };
  }


  /** Prepares the native side for an outermost call. */
  private enter(deadline: number): void {
    this.links.syncIn(this.instances.values());
    this.unwindingNow = false;
    this.hostError = undefined;
    this.recorder.clear();
    this.deadline = deadline;
    const budget = this.options.stackBudget ?? DEFAULT_STACK_BUDGET;
    const interval = this.pacer.interval;
    for (const n of this.instances.values()) {
      n.unwinding.value = 0;
      n.depth.value = budget;
      n.countdown.value = interval;
    }
  }

  /**
   * The unwound frames in canonical form, bottom first, in the terms of `space`
   * (function indices and funcref values map through it).
   */
  canonicalFrames(records: readonly FrameRecord[], space: IndexSpace): CanonicalFrame[] {
    return canonicalFrames(records, space, this.values);
  }

  /** Frames unwound by the last call, bottom first, waiting to be taken. */
  unwound: FrameRecord[] = [];
  /**
   * Why the last call unwound: a pause was requested, the native stack budget ran out,
   * or an import returned a promise (`suspended`).
   */
  unwindReason: 'pause' | 'stack' | 'import' = 'pause';

  /**
   * Frames the last unwinding saved: none when a host function tail-called from the
   * call's outermost frame returned a promise (no frame holds stand-in results then).
   */
  lastUnwindFrames = 0;

  private finishUnwind(): void {
    this.unwound = this.recorder.take();
    this.lastUnwindFrames = this.unwound.length;
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


}



/** What `invoke` returns when the call unwound. */
const UNWOUND = Symbol('unwound');
/** What `resumeStep` returns, asked not to make clones, for a frame whose clone is not made yet. */
const NOT_MADE = Symbol('not made');

/** What an entry returned for results of `types`, as a list (one value, or two halves for a v128). */
function entryResults(types: readonly number[], result: unknown): unknown[] {
  let n = types.length;
  for (const t of types) if (t === ValType.v128) n++;
  return n === 0 ? [] : n === 1 ? [result] : Array.from(result as Iterable<unknown>);
}

/** Values that stand in for a host call's results while the stack unwinds (zero, null). */
function standInResults(results: readonly number[]): unknown {
  const zero = (t: number): unknown => (t === ValType.i64 ? 0n : t === ValType.funcref || t === ValType.externref ? null : 0);
  return results.length === 0 ? undefined : results.length === 1 ? zero(results[0]) : results.map(zero);
}

/** A value type's name in the JS API's `WebAssembly.Tag` descriptor. */
function jsValueTypeName(t: number): string {
  switch (t) {
    case ValType.i32: return 'i32';
    case ValType.i64: return 'i64';
    case ValType.f32: return 'f32';
    case ValType.f64: return 'f64';
    case ValType.funcref: return 'anyfunc';
    case ValType.externref: return 'externref';
    default: throw new LinkError(`native tier: a tag carries a value of type 0x${t.toString(16)}, which the host cannot pass`);
  }
}

/** An exception's value as `getArg` gives it, in the form entries return (floats as raw bits). */
function jsArgBits(t: number, v: unknown): unknown {
  if (t === ValType.f32) return new Int32Array(new Float32Array([v as number]).buffer)[0];
  if (t === ValType.f64) return new BigInt64Array(new Float64Array([v as number]).buffer)[0];
  return v;
}

/** A canonical value of type `t` that stands in for a result never produced (zero, null). */
function canonicalStandIn(t: number): CanonicalFrame['stack'][number] {
  switch (t) {
    case ValType.i64: case ValType.f64: return 0n;
    case ValType.v128: return new Uint8Array(16);
    case ValType.i32: case ValType.f32: return 0;
    default: return null;
  }
}

/** A `WebAssembly.Tag` of the JS API (an opaque handle here). */
interface JsTag {
  readonly kind?: 'tag';
}

/** A `WebAssembly.Exception` of the JS API: what this tier reads of one. */
interface JsException {
  is(tag: JsTag): boolean;
  getArg(tag: JsTag, index: number): unknown;
}

/**
 * The JS API's exception-handling classes, which V8 has (Node 20 on) but not every
 * TypeScript library declares; looked up when used, so that a host without them loads
 * this file.
 */
function jsExceptionApi(): { Tag: new (type: { parameters: string[] }) => JsTag; Exception: new (...args: never[]) => JsException } {
  return WebAssembly as unknown as { Tag: new (type: { parameters: string[] }) => JsTag; Exception: new (...args: never[]) => JsException };
}
