import { ExhaustionError, Trap, UsageError } from '../errors/index.ts';
import type { TraceFrame } from '../errors/index.ts';
import { FuncKind, growSlots, run, RunStatus } from '../exec/index.ts';
import type { FunctionState, ThreadState } from '../exec/index.ts';
import { isThenable } from './host-suspension.ts';
import type { HostSuspension } from './host-suspension.ts';
import { bitsToJs, jsToBits } from './values.ts';

/** How many instructions one call of the run loop may take before the driver looks around. */
export const SLICE = 1_000_000;

/**
 * Pushes a call of `funcAddr` onto the thread, with its arguments already on the value
 * stack, as the run loop's own `call` would: a frame that returns to the host (-1).
 */
export function enterFunction(t: ThreadState, funcAddr: number): void {
  const fn = t.store.funcs[funcAddr];
  if (fn.kind !== FuncKind.wasm) throw new TypeError('enterFunction needs a Wasm function');
  if (t.depth >= t.maxDepth) throw new ExhaustionError();
  if (3 * t.depth + 3 > t.frames.length) {
    const frames = new Int32Array(t.frames.length * 2);
    frames.set(t.frames);
    t.frames = frames;
  }
  const d = t.depth++;
  t.frames[3 * d] = -1;
  t.frames[3 * d + 1] = t.pc;
  t.frames[3 * d + 2] = t.fp;
  const cf = fn.compiled;
  const fp = t.sp - cf.numParams;
  if (fp + cf.frameSize > t.s32.length >> 1 && !growSlots(t, fp + cf.frameSize)) {
    t.depth--;
    throw new ExhaustionError();
  }
  t.s32.fill(0, 2 * t.sp, 2 * (fp + cf.numLocals));
  t.fp = fp;
  t.sp = fp + cf.numLocals;
  t.pc = 0;
  t.funcAddr = funcAddr;
}

/**
 * Calls the host function the run loop stopped at, with the JS API's value conventions.
 * When it returns a promise (an asynchronous import), nothing is written: the thread
 * stays at the call, as before it (`pendingHostCall` set, the arguments on the stack),
 * and the promise is returned for the driver to await (see `HostSuspension`).
 */
export function callHost(t: ThreadState): PromiseLike<unknown> | undefined {
  const addr = t.pendingHostCall;
  t.pendingHostCall = -1;
  const fn = t.store.funcs[addr];
  if (fn.kind !== FuncKind.host) throw new TypeError('no host call pending');
  const { params } = fn.type;
  const base = t.sp - params.length;
  const args = new Array(params.length);
  for (let i = 0; i < params.length; i++) args[i] = bitsToJs(t.store, params[i], t.s32[2 * (base + i)], t.s32[2 * (base + i) + 1]);
  // The host may call back into Wasm: its frames go above the arguments.
  const result = fn.callback(...args);
  if (isThenable(result)) {
    t.pendingHostCall = addr;
    return result;
  }
  writeHostResults(t, addr, base, result);
  return undefined;
}

/**
 * Finishes the call an asynchronous import suspended, once its promise settled: its value
 * becomes the call's results, or its rejection a trap with the guest's backtrace (both
 * tiers resume this way before running on).
 * @throws Trap when the promise was rejected
 */
export function completeSuspendedCall(t: ThreadState, suspension: HostSuspension, entryDepth: number): void {
  try {
    completeHostCall(t, suspension.value());
  } catch (error) {
    if (error instanceof Trap && error.backtrace.length === 0) error.backtrace = captureBacktrace(t, entryDepth);
    throw error;
  }
}

/**
 * Finishes the host call the thread stands at (`pendingHostCall`, arguments on the
 * stack) with `result`, the value an asynchronous import's promise settled with.
 */
export function completeHostCall(t: ThreadState, result: unknown): void {
  const addr = t.pendingHostCall;
  const fn = t.store.funcs[addr];
  if (addr < 0 || fn.kind !== FuncKind.host) throw new TypeError('no host call pending');
  t.pendingHostCall = -1;
  writeHostResults(t, addr, t.sp - fn.type.params.length, result);
}

/** Replaces a host call's arguments (from slot `base`) with its results. */
function writeHostResults(t: ThreadState, addr: number, base: number, result: unknown): void {
  const fn = t.store.funcs[addr];
  if (fn.kind !== FuncKind.host) throw new TypeError('not a host function');
  const { results } = fn.type;
  if (base + results.length > t.s32.length >> 1 && !growSlots(t, base + results.length)) throw new ExhaustionError();
  if (results.length === 1) {
    jsToBits(t.store, results[0], result, t.s32, 2 * base);
  } else if (results.length > 1) {
    const values = Array.from(result as Iterable<unknown>);
    if (values.length !== results.length) throw new TypeError(`host function ${fn.name} returned ${values.length} values, expected ${results.length}`);
    for (let i = 0; i < results.length; i++) jsToBits(t.store, results[i], values[i], t.s32, 2 * (base + i));
  }
  t.sp = base + results.length;
}

/** The Wasm call stack of a stopped thread, innermost first, down to `floorDepth`. */
export function captureBacktrace(t: ThreadState, floorDepth = 0): TraceFrame[] {
  const trace: TraceFrame[] = [];
  const push = (funcAddr: number, pc: number, exact: boolean): void => {
    const fn: FunctionState | undefined = t.store.funcs[funcAddr];
    if (!fn || fn.kind !== FuncKind.wasm) return;
    const offsets = fn.compiled.offsets;
    // A return address points past the call: the call is the instruction before it.
    let p = exact ? pc : pc - 1;
    while (p > 0 && offsets[p] < 0) p--;
    const funcIndex = fn.compiled.funcIndex;
    trace.push({ funcIndex, name: fn.instance.names.get(funcIndex), offset: offsets[p] ?? -1 });
  };
  if (t.funcAddr >= 0) push(t.funcAddr, t.pc, true);
  for (let d = t.depth - 1; d >= floorDepth; d--) {
    const caller = t.frames[3 * d];
    if (caller < 0) break;
    push(caller, t.frames[3 * d + 1], false);
  }
  return trace;
}

/**
 * Runs a thread until the call entered at `entryDepth` returns, calling host functions
 * as they come: the synchronous driver. On a trap the backtrace is filled in; the
 * caller restores the thread (see `Store.invoke`).
 */
export function runToReturn(t: ThreadState, entryDepth: number): void {
  try {
    for (;;) {
      const status = run(t, SLICE);
      if (status === RunStatus.returned) return;
      if (status === RunStatus.hostCall && callHost(t) !== undefined) {
        t.pendingHostCall = -1;
        throw new UsageError('a host function returned a promise where it is called synchronously (Store.invoke): run the program with runAsync');
      }
    }
  } catch (error) {
    if (error instanceof Trap && error.backtrace.length === 0) error.backtrace = captureBacktrace(t, entryDepth);
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      // A host callback recursed too deep in JavaScript: report it as Wasm exhaustion.
      throw new ExhaustionError();
    }
    throw error;
  }
}
