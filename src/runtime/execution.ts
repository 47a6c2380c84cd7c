import { ExitError, Trap } from '../errors/index.ts';
import { run, RunStatus } from '../exec/index.ts';
import { HostSuspension } from './host-suspension.ts';
import { PRIME_AFTER, sharedRunLoopPrimer } from './run-loop-primer.ts';
import type { RunLoopPrimer } from './run-loop-primer.ts';
import { callHost, captureBacktrace, completeSuspendedCall, enterFunction } from './invoke.ts';
import type { Store } from './store.ts';
import { jsToBits, resultsToJs } from './values.ts';
import { ClockSizedSlice } from './clock-sized-slice.ts';
import type { SlicePolicy } from './clock-sized-slice.ts';
import { checkRunOptions, exactLimit } from './run-options.ts';
import type { RunOptions } from './run-options.ts';

/**
 * Instructions between two looks at the store's cross-thread pause signal (and the
 * caller's `pauseRequested`): 131,072 at first, then sized by the clock to last 0.25 ms
 * or so (doubling below half that, halving above twice), so that a pause asked for by
 * another thread (an agent's network thread) lands within a fraction of a millisecond
 * whatever the code runs on. A fixed count did not fit both: 131,072 instructions were a
 * millisecond of the run loop once, and 50 microseconds of CoreMark compiled by the
 * JavaScript tier, where leaving compiled code (every frame written back) at each slice
 * cost 5% of its warm speed.
 */
const SIGNAL_SLICE: SlicePolicy = {
  first: 131_072, min: 16_384, max: 1_048_576, targetMs: 0.25, tolerance: 2, maxGrowth: 2, maxShrink: 2,
};

/**
 * How a call of `Execution.run` ended (a trap is thrown, as a `Trap`): the entry function
 * `returned` its results; the guest `exited` through WASI's `proc_exit` (a `Program`
 * reports a WASI command whose `_start` returns as `exited` with status 0 too);
 * `paused` (budget spent or pause asked for); or `awaiting` an asynchronous import,
 * the thread standing at its call: run again once `importSettled()` resolves.
 */
export type RunOutcome =
  | {
    /** The function returned. */
    kind: 'returned';
    /** Its results, as JS values (i64 as bigint). */
    results: unknown[];
  }
  | {
    /** The run stopped at an instruction boundary: budget spent, time slice over, or a pause asked for. */
    kind: 'paused';
    /** Instructions executed since the execution began. */
    instructions: number;
  }
  | {
    /** The guest called `proc_exit`. */
    kind: 'exited';
    /** The status it passed. */
    status: number;
  }
  | {
    /** An asynchronous import was called: run again once `importSettled()` resolves. */
    kind: 'awaiting';
    /** Instructions executed since the execution began. */
    instructions: number;
    /** The import the thread stands at, as `module.name`. */
    import: string;
  };

/**
 * One invocation of a Wasm function that can stop and carry on: after a budget of
 * instructions, when a pause is requested, or when the guest exits. Between two runs
 * the whole state is in the store and thread, ready to be captured.
 */
export class Execution {
  private pauseRequested = false;
  private finished: RunOutcome | undefined;
  /** The asynchronous import the thread stands at, while its promise is pending. */
  private suspension: HostSuspension | undefined;
  /** Depth of the host-return frame of this execution in the thread. */
  readonly entryDepth: number;
  /** Primes the run loops once this execution has run `PRIME_AFTER` instructions; null: never. */
  private readonly primer: RunLoopPrimer | null;
  /** The thread's instruction count when this execution began. */
  private readonly startedAt: number;
  /** Instructions between two looks at the pause signal (see `SIGNAL_SLICE`). */
  private readonly signalSlice = new ClockSizedSlice(SIGNAL_SLICE);

  /**
   * @param store the store holding the function and the thread that runs it
   * @param funcAddr the store address of the function to call
   * @param args its arguments, as JS values
   * @param options `resumed`: the thread holds this execution's frames already (a restored
   * snapshot), from `entryDepth` (default: the thread's depth now, for frames loaded afterwards)
   */
  constructor(readonly store: Store, readonly funcAddr: number, args: readonly unknown[] = [], options: { resumed?: boolean; entryDepth?: number } = {}) {
    const t = store.thread;
    this.entryDepth = options.entryDepth ?? t.depth;
    this.startedAt = t.instructions;
    this.primer = store.options.primer === undefined ? sharedRunLoopPrimer() : store.options.primer;
    if (options.resumed) return;
    const fn = store.state.funcs[funcAddr];
    const params = fn.type.params;
    if (args.length !== params.length) throw new TypeError(`expected ${params.length} arguments, got ${args.length}`);
    for (let i = 0; i < params.length; i++) jsToBits(store.state, params[i], args[i], t.s32, 2 * (t.sp + i));
    t.sp += params.length;
    enterFunction(t, funcAddr);
  }

  /** Instructions executed by this thread so far. */
  get instructions(): number {
    return this.store.thread.instructions;
  }

  /** Whether the function has returned or the guest exited: `run` only repeats the outcome. */
  get done(): boolean {
    return this.finished !== undefined;
  }

  /** Asks a running `run` to stop at the next slice boundary (an instruction boundary). */
  requestPause(): void {
    this.pauseRequested = true;
  }

  /** See `ExecutionLike.importSettled`. */
  importSettled(): Promise<void> | undefined {
    return this.suspension?.settled;
  }

  /**
   * Runs until the function returns, the guest exits, an asynchronous import is awaited,
   * or `options` says stop.
   * @throws Trap when the guest traps (`ExhaustionError` on a full stack)
   * @throws RangeError for an option no run can stop at (see `checkRunOptions`)
   */
  run(options: RunOptions = {}): RunOutcome {
    checkRunOptions(options);
    if (this.finished) return this.finished;
    const t = this.store.thread;
    if (this.suspension !== undefined) {
      if (!this.suspension.ready) return { kind: 'awaiting', instructions: t.instructions, import: this.suspension.importName };
      const suspension = this.suspension;
      this.suspension = undefined;
      completeSuspendedCall(t, suspension, this.entryDepth);
    }
    const limit = exactLimit(options, t.instructions);
    const sliceEnd = options.slice === undefined ? Infinity : t.instructions + options.slice;
    this.pauseRequested = false;
    const signal = this.store.pauseSignal;
    try {
      for (;;) {
        const remaining = limit - t.instructions;
        const toSliceEnd = sliceEnd - t.instructions;
        if (remaining <= 0 || toSliceEnd <= 0 || this.pauseRequested || Atomics.load(signal, 0) !== 0) {
          if (this.pauseRequested || Atomics.load(signal, 0) !== 0) Atomics.store(signal, 0, 0);
          this.pauseRequested = false;
          return { kind: 'paused', instructions: t.instructions };
        }
        // A program that runs this long is worth the primer's few milliseconds (see there).
        if (this.primer !== null && !this.primer.done && t.instructions - this.startedAt >= PRIME_AFTER) this.primer.prime(this.store.state);
        // A slice short of the limit may end early, at a block start (see `run`); the
        // last one, which the caller's limit ends, is counted out exactly.
        const signalSlice = this.signalSlice.size;
        let step = Math.min(remaining, toSliceEnd, signalSlice);
        // The last stretch of the caller's slice goes in one step, up to half a signal
        // slice longer, rather than leave the few instructions the step before fell short
        // by: a step that short fits no compiled stretch, and was counted out on the
        // exact loop (once for every slice `wasmig run` asks for, keeping V8 compiling it).
        if (step === signalSlice && step < toSliceEnd && toSliceEnd <= signalSlice * 1.5 && toSliceEnd < remaining) step = toSliceEnd;
        const began = performance.now();
        const status = run(t, step, step < remaining);
        if (step === signalSlice) this.signalSlice.record(performance.now() - began);
        if (status === RunStatus.yielded && step === toSliceEnd && step < remaining) {
          // The caller's slice is over, perhaps a little short (at a block start): that is what it asked for.
          return { kind: 'paused', instructions: t.instructions };
        }
        if (status === RunStatus.returned) {
          const fn = this.store.state.funcs[this.funcAddr];
          const base = t.fp;
          const results = resultsToJs(this.store.state, fn.type.results, t.s32, base);
          t.sp = base;
          this.finished = { kind: 'returned', results };
          return this.finished;
        }
        if (status === RunStatus.hostCall) {
          const addr = t.pendingHostCall;
          const promise = callHost(t);
          if (promise !== undefined) {
            this.suspension = new HostSuspension(addr, (this.store.state.funcs[addr] as { name: string }).name, promise);
            return { kind: 'awaiting', instructions: t.instructions, import: this.suspension.importName };
          }
        }
      }
    } catch (error) {
      if (error instanceof ExitError) {
        this.finished = { kind: 'exited', status: error.status };
        return this.finished;
      }
      if (error instanceof Trap && error.backtrace.length === 0) error.backtrace = captureBacktrace(t, this.entryDepth);
      throw error;
    }
  }
}
