import { ExhaustionError, LinkError } from '../errors/index.ts';
import type { CompiledModule } from '../compile/index.ts';
import { createStoreState, createThread, FuncKind, growSlots } from '../exec/index.ts';
import type { StoreState, TableState, ThreadLimits, ThreadState } from '../exec/index.ts';
import { allocateInstance, createMemory } from './instantiate.ts';
import { slotCount, ValType } from '../wasm/index.ts';
import type { RefType } from '../wasm/index.ts';
import type { ExternVal, Imports, Instance, InstantiateOptions } from './instantiate.ts';
import { enterFunction, runToReturn } from './invoke.ts';
import { bitsToJs, jsToBits } from './values.ts';
import type { RunLoopPrimer } from './run-loop-primer.ts';

/** Limits and hooks of a {@link Store}: stack sizes, memory cap, the pause signal. */
export interface StoreOptions extends ThreadLimits, InstantiateOptions {
  /**
   * A pause flag in shared memory (word 0 of an `Int32Array` over a `SharedArrayBuffer`)
   * that every tier polls: another thread sets it with `Atomics.store(signal, 0, 1)` to
   * stop a running execution at its next instruction boundary or safepoint. The tier
   * that pauses clears it. Default: a fresh one per store.
   */
  pauseSignal?: Int32Array;
  /**
   * Called by the native tier when it finds the pause signal raised at a safepoint,
   * before it unwinds its frames into the store's thread: returning false carries on
   * without pausing (the caller did in place what the signal was raised for, and lowered
   * it), true pauses. Unwinding and resuming cost a native program its resume clones;
   * a request that needs only memory can be served in place. The interpreter, whose
   * pauses cost nothing of the kind, pauses at the signal as before.
   */
  onPauseSignal?: () => boolean;
  /**
   * Who primes the interpreter's run loops once this store's program has run a while
   * (an experiment, see `run-loop-primer.ts`): default `sharedRunLoopPrimer()`, which
   * is none unless `WASMIG_PRIME=1`; null: never. Priming runs a built-in module in a
   * store of its own and changes no result, only V8's type feedback.
   * @internal
   */
  primer?: RunLoopPrimer | null;
}

/**
 * A store (spec 4.2.3) with the one thread that runs its code: instantiate modules
 * into it, link them through each other's exports, and call their functions.
 */
export class Store {
  /**
   * Every entity of the store as plain data (what a snapshot captures).
   * @internal
   */
  readonly state: StoreState = createStoreState();
  /**
   * The thread's operand stack and frames.
   * @internal
   */
  readonly thread: ThreadState;
  /** The options the store was made with. */
  readonly options: StoreOptions;
  /** See {@link StoreOptions.pauseSignal}. */
  readonly pauseSignal: Int32Array;

  constructor(options: StoreOptions = {}) {
    this.options = options;
    // A page that is not cross-origin isolated has no SharedArrayBuffer: its flag is then
    // set from this thread only (`requestPause`), which is all such a page can do anyway.
    this.pauseSignal = options.pauseSignal ?? new Int32Array(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
    this.thread = createThread(this.state, options);
  }

  /** Allocates an instance without running its start function (a resumed program has run it). */
  allocate(compiled: CompiledModule, imports: Imports = {}): Instance {
    return allocateInstance(this.state, compiled, imports, this.options);
  }

  /** Instantiates a compiled module and runs its start function (spec 4.5.4). */
  instantiate(compiled: CompiledModule, imports: Imports = {}): Instance {
    const instance = allocateInstance(this.state, compiled, imports, this.options);
    const start = compiled.module.start;
    if (start !== undefined) this.invokeRaw(instance.state.funcAddrs[start], []);
    return instance;
  }

  /**
   * Calls a function with raw arguments: each value as its bit pattern (`bigint`: 64
   * bits, 128 for a v128, references as their encoded slot value). Results come back the
   * same way.
   */
  invokeRaw(funcAddr: number, args: readonly bigint[]): bigint[] {
    const fn = this.state.funcs[funcAddr];
    const params = fn?.type.params ?? [];
    const write = (slots: Int32Array, base: number): void => {
      let at = 2 * base;
      for (let i = 0; i < args.length; i++) {
        const words = params[i] === ValType.v128 ? 4 : 2;
        let v = BigInt.asUintN(32 * words, args[i]);
        for (let w = 0; w < words; w++, v >>= 32n) slots[at++] = Number(v & 0xffffffffn) | 0;
      }
    };
    const results: bigint[] = [];
    this.call(funcAddr, fn === undefined ? args.length : slotCount(params), write, (slots, base) => {
      let at = 2 * base;
      for (const type of fn.type.results) {
        const words = type === ValType.v128 ? 4 : 2;
        let v = 0n;
        for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(slots[at + w] >>> 0);
        results.push(v);
        at += words;
      }
    });
    return results;
  }

  /** Calls a function with JS values (the WebAssembly JS API's conventions). */
  invoke(func: ExternVal | number, args: readonly unknown[] = []): unknown[] {
    const funcAddr = typeof func === 'number' ? func : func.addr;
    const fn = this.state.funcs[funcAddr];
    const { params, results } = fn.type;
    if (args.length !== params.length) throw new TypeError(`expected ${params.length} arguments, got ${args.length}`);
    const out: unknown[] = [];
    this.call(funcAddr, params.length, (slots, base) => {
      for (let i = 0; i < params.length; i++) jsToBits(this.state, params[i], args[i], slots, 2 * (base + i));
    }, (slots, base) => {
      for (let i = 0; i < results.length; i++) out.push(bitsToJs(this.state, results[i], slots[2 * (base + i)], slots[2 * (base + i) + 1]));
    });
    return out;
  }

  private call(funcAddr: number, numArgs: number, write: (slots: Int32Array, base: number) => void, read: (slots: Int32Array, base: number) => void): void {
    const t = this.thread;
    const fn = this.state.funcs[funcAddr];
    if (fn === undefined) throw new LinkError(`no function at address ${funcAddr}`);
    const saved = { sp: t.sp, fp: t.fp, pc: t.pc, funcAddr: t.funcAddr, depth: t.depth };
    try {
      if (fn.kind === FuncKind.host) {
        const args = new Int32Array(2 * numArgs);
        write(args, 0);
        const jsArgs = fn.type.params.map((p, i) => bitsToJs(this.state, p, args[2 * i], args[2 * i + 1]));
        const result = fn.callback(...jsArgs);
        const values = fn.type.results.length === 1 ? [result] : fn.type.results.length === 0 ? [] : Array.from(result as Iterable<unknown>);
        const slots = new Int32Array(2 * values.length);
        values.forEach((v, i) => jsToBits(this.state, fn.type.results[i], v, slots, 2 * i));
        read(slots, 0);
        return;
      }
      const base = t.sp;
      // enterFunction grows the stack for the frame; the arguments must fit first.
      if (base + numArgs > t.s32.length >> 1 && !growSlots(t, base + numArgs)) throw new ExhaustionError();
      write(t.s32, base);
      t.sp = base + numArgs;
      enterFunction(t, funcAddr);
      runToReturn(t, saved.depth);
      read(t.s32, base);
    } finally {
      t.sp = saved.sp;
      t.fp = saved.fp;
      t.pc = saved.pc;
      t.funcAddr = saved.funcAddr;
      t.depth = saved.depth;
      t.pendingHostCall = -1;
    }
  }
}

/**
 * A global made by the host (the spec tests' `spectest` module, embedders' own imports),
 * to pass as an import.
 */
export function createHostGlobal(store: Store, type: number, mutable: boolean, value: unknown): ExternVal {
  const slot = new Int32Array(2);
  jsToBits(store.state, type, value, slot, 0);
  store.state.globals.push({ type: type as never, mutable, lo: slot[0], hi: slot[1], lo2: 0, hi2: 0 });
  return { kind: 'global', addr: store.state.globals.length - 1 };
}

/** A table made by the host, `min` elements of null, to pass as an import; `index64`: a table64 (Wasm 3.0). */
export function createHostTable(store: Store, elemType: RefType, min: number, max?: number, index64 = false): ExternVal {
  const table: TableState = { elemType, elements: new Int32Array(min), size: min, max };
  if (index64) table.index64 = true;
  store.state.tables.push(table);
  return { kind: 'table', addr: store.state.tables.length - 1 };
}

/** A linear memory made by the host, `min` pages of zeros, to pass as an import; `index64`: a memory64 (Wasm 3.0). */
export function createHostMemory(store: Store, min: number, max?: number, index64 = false): ExternVal {
  store.state.memories.push(createMemory(index64 ? { min, max, index64 } : { min, max }, store.options.maxMemoryPages));
  return { kind: 'memory', addr: store.state.memories.length - 1 };
}
