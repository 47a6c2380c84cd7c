/**
 * One invocation on the native tier, with the same contract as the interpreter's
 * `Execution`: it runs until the function returns, the guest exits, a trap, or a pause.
 *
 * The entry function runs natively. When a pause is requested, the native stack unwinds
 * into canonical frames, which are loaded into the interpreter's thread: a paused native
 * execution looks exactly like a paused interpreted one (the snapshot layer captures it
 * the same way). Running it again continues those frames natively, top first, through
 * resume clones (see `rewrite-function.ts`) when each stands at a safepoint; otherwise
 * (a state from the interpreter paused mid-block) in the interpreter, whose calls go
 * native again (the thread's `divert` table). When the native stack budget runs out
 * (deep recursion), the frames unwind and continue the same way, with a fresh stack.
 */
import { ExhaustionError, ExitError, Trap, UncaughtException } from '../errors/index.ts';
import type { TraceFrame } from '../errors/index.ts';
import { FuncKind, growSlots, run, RunStatus, throwFromCall } from '../exec/index.ts';
import type { HostFunctionState, ThreadState, WasmFunctionState } from '../exec/index.ts';
import { callHost, captureBacktrace, checkRunOptions, completeSuspendedCall, exactLimit, HostSuspension, jsToBits, resultsToJs, SLICE } from '../runtime/index.ts';
import type { ExecutionLike, RunOptions, RunOutcome } from '../runtime/index.ts';
import { captureThreadFrames, ExceptionCollector, loadFrames } from '../snapshot/index.ts';
import type { CanonicalFrame, IndexSpace } from '../snapshot/index.ts';
import { slotCount, slotOffsets, ValType } from '../wasm/index.ts';
import { CloneSchedule, LAZY_REENTRY_MAX_FRAMES, ReturnBarrier } from './reentry.ts';
import type { NativeTier } from './tier.ts';

/**
 * `until` and `budget` count the interpreter's instructions only (native code counts
 * none): ask for `--tier interp` when a pause must land after an exact count.
 * `timeSliceMs` pauses by itself after about that long, so that the caller can look at
 * its event loop (native code otherwise runs until it is done or asked to pause).
 */
export type NativeRunOptions = RunOptions;

export interface NativeExecutionOptions {
  /** The index space canonical frames use (default: every function of the store by address). */
  space?: IndexSpace;
  /** The thread already holds this execution's frames (a restored snapshot), from this depth. */
  resumed?: boolean;
  entryDepth?: number;
  /** Arguments as raw bit patterns (instead of JS values: 64 bits, 128 for a v128): NaN payloads survive. */
  raw?: readonly bigint[];
}

/** Statistics of one execution, for tests and measurements. */
export interface NativeStats {
  /** Times native code unwound into the interpreter. */
  unwinds: number;
  /** Frames unwound in total. */
  framesUnwound: number;
  /** Calls from interpreted frames that went native. */
  nativeCalls: number;
  /** Times paused frames continued natively (resume clones). */
  reentries: number;
  /** Of those, times only the top frames did, over interpreted ones (lazy re-entry, `reentry.ts`). */
  partialReentries: number;
  /** Times an interpreted frame's return gave control back for a look at re-entry (lazy re-entry). */
  barrierReturns: number;
}

export class NativeExecution implements ExecutionLike {
  readonly entryDepth: number;
  readonly stats: NativeStats = { unwinds: 0, framesUnwound: 0, nativeCalls: 0, reentries: 0, partialReentries: 0, barrierReturns: 0 };
  /** The frames of the last unwinding, canonical, bottom first (for inspection and tests). */
  lastUnwound: CanonicalFrame[] = [];
  /** Once returned: the results as raw bit patterns (unsigned; 128 bits for a v128). */
  rawResults: bigint[] | undefined;
  private started: boolean;
  private finished: RunOutcome | undefined;
  private pauseRequested = false;
  /** The asynchronous import the thread stands at, while its promise is pending. */
  private suspension: HostSuspension | undefined;
  private readonly args: Int32Array;
  private readonly space: IndexSpace | undefined;

  constructor(readonly tier: NativeTier, readonly funcAddr: number, args: readonly unknown[] = [], options: NativeExecutionOptions = {}) {
    const t = tier.store.thread;
    this.lazy = tier.options.resumeClones !== 'eager';
    this.schedule = new CloneSchedule(tier);
    this.entryDepth = options.entryDepth ?? t.depth;
    this.space = options.space === undefined ? undefined : nativeFrameSpace(options.space);
    this.started = options.resumed === true;
    const fn = tier.state.funcs[funcAddr];
    const params = fn.type.params;
    // Laid out as on the value stack: two words a slot, two slots for a v128.
    this.args = new Int32Array(2 * slotCount(params));
    if (this.started) return;
    if (options.raw) {
      if (options.raw.length !== params.length) throw new TypeError(`expected ${params.length} arguments, got ${options.raw.length}`);
      let at = 0;
      options.raw.forEach((v, i) => {
        const words = params[i] === ValType.v128 ? 4 : 2;
        for (let w = 0; w < words; w++, v >>= 32n) this.args[at++] = Number(BigInt.asIntN(32, v));
      });
      return;
    }
    if (args.length !== params.length) throw new TypeError(`expected ${params.length} arguments, got ${args.length}`);
    const offsets = slotOffsets(params);
    for (let i = 0; i < params.length; i++) jsToBits(tier.state, params[i], args[i], this.args, 2 * offsets[i]);
  }

  /** Instructions the interpreter executed for this thread (native code counts none). */
  get instructions(): number {
    return this.tier.store.thread.instructions;
  }

  get done(): boolean {
    return this.finished !== undefined;
  }

  /** Asks the execution to stop: native code unwinds at its next safepoint, the interpreter at its next slice. */
  requestPause(): void {
    this.pauseRequested = true;
    this.tier.requestPause();
  }

  /**
   * See `ExecutionLike.prepareRun`: the resume clones of the paused frames, made now
   * (eagerly: all; lazily: all, or only the top frame's when `stop` may say to stop).
   */
  prepareRun(stop?: () => boolean): void {
    const t = this.tier.store.thread;
    if (this.finished || !this.started || !this.reentry || this.suspension !== undefined) return;
    if (t.depth <= this.entryDepth || t.pendingHostCall >= 0) return;
    const space = this.space ?? nativeFrameSpace(this.tier.storeSpace);
    const frames = captureThreadFrames(t, space, this.entryDepth);
    // Makes (and caches) a clone for each frame that can have one; the run asks again.
    if (!this.lazy || frames.length > LAZY_REENTRY_MAX_FRAMES) this.tier.canResume(frames, space);
    else {
      const ahead = new CloneSchedule(this.tier);
      ahead.gate = this.schedule.gate;
      // Lazily, with a `stop` (a migrated job waiting for its commit), the top frame's
      // only, the one the run needs first: the commit could otherwise wait for the clone
      // in the making (5-15 ms each on a loaded machine, measured as most of the gap
      // between the run request and the job's first instruction).
      if (stop === undefined) ahead.makeSome(frames, space, () => true);
      else if (!stop()) ahead.makeTop(frames, space);
    }
  }

  /** See `ExecutionLike.importSettled`. */
  importSettled(): Promise<void> | undefined {
    return this.suspension?.settled;
  }

  run(options: NativeRunOptions = {}): RunOutcome {
    checkRunOptions(options);
    if (this.finished) return this.finished;
    const tier = this.tier;
    const t = tier.store.thread;
    if (this.suspension !== undefined) {
      if (!this.suspension.ready) return this.awaiting(t);
      const suspension = this.suspension;
      this.suspension = undefined;
      completeSuspendedCall(t, suspension, this.entryDepth);
    }
    const deadline = options.timeSliceMs === undefined ? Infinity : performance.now() + options.timeSliceMs;
    let limit = exactLimit(options, t.instructions);
    // The instructions it interprets are counted exactly in any case: a slice is a budget here.
    if (options.slice !== undefined) limit = Math.min(limit, t.instructions + options.slice);
    const space = this.space ?? nativeFrameSpace(tier.storeSpace);
    const savedDivert = t.divert;
    t.divert = tier.divert;
    // Frames unwound from native code and not yet loaded into the thread, bottom first.
    let pending: CanonicalFrame[] | undefined;
    // Set when native code unwound because a pause was asked for (not for stack room).
    let paused = false;
    try {
      for (;;) {
        const stop = paused || this.pauseRequested || tier.pausePending || performance.now() >= deadline || t.instructions >= limit;
        if (pending !== undefined) {
          const suspended = tier.unwindReason === 'import' && tier.suspended !== undefined;
          if (stop || suspended || !this.reentry) {
            this.load(t, pending, space);
            pending = undefined;
            if (suspended) return this.suspend(t);
            if (stop) return this.pause(t);
            continue;
          }
          // Continue the frames natively, top first.
          const r = tier.resumeFrames(pending, space, deadline);
          this.stats.reentries++;
          if ('thrown' in r) {
            // The frames below the one that threw go on in the interpreter, from the exception.
            pending = undefined;
            if (r.below.length === 0) throw r.thrown;
            this.load(t, r.below, space);
            if (this.throwInto(t, r.thrown)) return this.returnedFromThread(t);
            continue;
          }
          if ('returned' in r) {
            pending = undefined;
            const fn = tier.state.funcs[this.funcAddr];
            const slots = new Int32Array(2 * slotCount(fn.type.results));
            tier.values.entryListToSlots(fn.type.results, r.returned, slots, 0);
            return this.returned(slots, 0);
          }
          this.pendingSlots -= this.slotsOf(r.removed, space);
          pending = this.unwound(t, r.unwound, r.added, space);
          paused = tier.unwindReason === 'pause';
          continue;
        }
        if (stop) return this.pause(t);
        if (!this.started) {
          this.started = true;
          const fn = tier.state.funcs[this.funcAddr];
          const results = new Int32Array(2 * slotCount(fn.type.results));
          if (tier.call(this.funcAddr, this.args, 0, results, 0, deadline)) return this.returned(results, 0);
          const frames = tier.canonicalFrames(tier.unwound, space);
          tier.unwound = [];
          this.pendingSlots = t.sp;
          pending = this.unwound(t, frames, frames, space);
          paused = tier.unwindReason === 'pause';
          continue;
        }
        let lazy = false;
        if (this.reentry && t.depth > this.entryDepth && t.pendingHostCall < 0) {
          // Paused frames in the thread: native again if every one stands at a safepoint.
          const frames = captureThreadFrames(t, space, this.entryDepth);
          lazy = this.lazy && frames.length <= LAZY_REENTRY_MAX_FRAMES;
          // Lazily, only the frames whose clones are at hand (and some more made now, within the schedule's time).
          if (lazy) {
            this.schedule.makeTop(frames, space);
            this.schedule.makeSome(frames, space);
          }
          const from = lazy ? tier.readyFrom(frames, space) : tier.canResume(frames, space) ? 0 : frames.length;
          if (from === 0) {
            this.popFrames(t);
            this.pendingSlots = t.sp;
            pending = this.unwound(t, frames, frames, space);
            this.stats.unwinds--;
            this.stats.framesUnwound -= frames.length;
            continue;
          }
          if (from < frames.length) {
            // The top frames natively, over the others, which wait in the interpreter at their calls.
            let resumed: boolean;
            try {
              resumed = this.resumeTop(t, frames, from, space, deadline);
            } catch (error) {
              if (!this.throwInto(t, error)) continue;
              return this.returnedFromThread(t);
            }
            if (!resumed) {
              if (tier.unwindReason === 'import' && tier.suspended !== undefined) return this.suspend(t);
              if (tier.unwindReason === 'pause') paused = true;
            }
            continue;
          }
        }
        const remaining = limit - t.instructions;
        if (lazy) this.barrier.set(t, this.entryDepth);
        let status: RunStatus;
        try {
          status = run(t, remaining < SLICE ? remaining : SLICE);
        } catch (error) {
          // An exception no interpreted frame above the barrier caught goes on below it.
          if (lazy && error instanceof UncaughtException && error.tagAddr >= 0 && this.barrier.throwPast(t)) {
            if (throwFromCall(t, error.tagAddr, error.payload) === RunStatus.returned) return this.returnedFromThread(t);
            continue;
          }
          if (lazy) this.barrier.clear(t, false);
          throw error;
        }
        // An interpreted frame that returned into one of the execution's frames: that one may go native now.
        if (lazy && this.barrier.clear(t, status === RunStatus.returned)) {
          this.stats.barrierReturns++;
          continue;
        }
        if (status === RunStatus.returned) return this.returnedFromThread(t);
        if (status === RunStatus.hostCall) {
          const addr = t.pendingHostCall;
          const callee = tier.state.funcs[addr];
          if (callee.kind === FuncKind.host) {
            const promise = callHost(t);
            if (promise !== undefined) {
              this.suspension = new HostSuspension(addr, callee.name, promise);
              return this.awaiting(t);
            }
          } else {
            let returned: boolean;
            try {
              returned = this.callNative(t, deadline, space);
            } catch (error) {
              t.pendingHostCall = -1;
              if (!this.throwInto(t, error)) continue;
              return this.returnedFromThread(t);
            }
            if (!returned) {
              if (tier.unwindReason === 'import' && tier.suspended !== undefined) return this.suspend(t);
              if (tier.unwindReason === 'pause') paused = true;
            }
          }
        }
      }
    } catch (error) {
      if (error instanceof ExitError) return this.finish({ kind: 'exited', status: error.status });
      // Native frames (if the trap came from native code) above the interpreter's.
      if (error instanceof Trap) error.backtrace = [...error.backtrace, ...captureBacktrace(t, this.entryDepth)];
      throw error;
    } finally {
      t.divert = savedDivert;
    }
  }

  /**
   * Continue paused frames natively (resume clones) rather than in the interpreter.
   * On by default; off, resumed frames run interpreted until they return (their calls
   * still go native).
   */
  reentry = true;

  /** Re-entry waits for no clone (`NativeOptions.resumeClones`, `reentry.ts`). */
  private readonly lazy: boolean;
  /** When the lazy re-entry makes clones; tests set its `gate` to keep some from being made. */
  readonly schedule: CloneSchedule;
  private readonly barrier = new ReturnBarrier();

  /**
   * Continues `frames[from...]` (the thread's top frames) natively, over the frames below,
   * which stay in the thread: the lowest of them on top, at its call. False when the
   * native code unwound (its frames are then on top of the thread, as a callee's).
   */
  private resumeTop(t: ThreadState, frames: CanonicalFrame[], from: number, space: IndexSpace, deadline: number): boolean {
    this.popFramesFrom(t, this.entryDepth + from);
    const r = this.tier.resumeFrames(frames.slice(from), space, deadline);
    this.stats.reentries++;
    this.stats.partialReentries++;
    if ('thrown' in r) {
      // The resumed frames below the one that threw go back on the thread, and the exception is thrown at the top one's call (`run`).
      if (r.below.length > 0) this.loadAsCallees(t, r.below, space);
      throw r.thrown;
    }
    if ('returned' in r) {
      const results = (this.tier.state.funcs[space.funcs[frames[from].funcIndex]] as WasmFunctionState).type.results;
      const n = slotCount(results);
      if (t.sp + n > t.s32.length >> 1 && !growSlots(t, t.sp + n)) throw new ExhaustionError();
      this.tier.values.entryListToSlots(results, r.returned, t.s32, 2 * t.sp);
      t.sp += n;
      return true;
    }
    this.lastUnwound = r.unwound;
    this.stats.unwinds++;
    this.stats.framesUnwound += r.added.length;
    this.loadAsCallees(t, r.unwound, space);
    return false;
  }

  /**
   * A Wasm exception that native code called for the thread's top frame threw (its
   * callee, or the frames resumed over it): delivered to the interpreted frames, whose
   * handlers may catch it, as if the callee had been interpreted. Returns true when a
   * handler of the execution's own function returned from it; rethrows anything else
   * (and the exception when no frame catches it).
   */
  private throwInto(t: ThreadState, error: unknown): boolean {
    if (!(error instanceof UncaughtException) || !this.tier.thrownByWasm(error) || t.funcAddr < 0) throw error;
    return throwFromCall(t, error.tagAddr, error.payload) === RunStatus.returned;
  }

  /** The execution's own function returned in the interpreter: its results are at the frame pointer. */
  private returnedFromThread(t: ThreadState): RunOutcome {
    const base = t.fp;
    const outcome = this.returned(t.s32, 2 * base);
    t.sp = base;
    return outcome;
  }

  private awaiting(t: ThreadState): RunOutcome {
    return { kind: 'awaiting', instructions: t.instructions, import: this.suspension!.importName };
  }

  /**
   * Native code unwound because an import returned a promise: the frames are in the
   * thread, the top one just after the call with stand-in results. Turns that into the
   * call not made yet (its arguments back on the stack, `pendingHostCall` set), the
   * state in which the interpreter awaits an import too, and which a snapshot captures
   * as the call to make again.
   */
  private suspend(t: ThreadState): RunOutcome {
    const { funcAddr, promise, args } = this.tier.suspended!;
    this.tier.suspended = undefined;
    const fn = this.tier.state.funcs[funcAddr] as HostFunctionState;
    const { params, results } = fn.type;
    // No frame loaded (the import was tail-called by the function called from the
    // interpreter, or by the execution's own): no stand-in results are on the stack,
    // and the frame on top (if any) stands at its call, as the interpreter leaves it
    // (`runExact`'s tail call to a host function).
    const tailCalled = !this.standIns;
    this.standIns = false;
    const base = t.sp - (tailCalled ? 0 : results.length);
    if (tailCalled && t.depth === this.entryDepth) {
      // The execution's own function tail-called it: once it returns, the run is over.
      t.funcAddr = -1;
      t.pc = 0;
      t.fp = base;
    }
    if (base + params.length > t.s32.length >> 1 && !growSlots(t, base + params.length)) throw new ExhaustionError();
    for (let i = 0; i < params.length; i++) jsToBits(this.tier.state, params[i], args[i], t.s32, 2 * (base + i));
    t.sp = base + params.length;
    t.pendingHostCall = funcAddr;
    this.suspension = new HostSuspension(funcAddr, fn.name, promise);
    return this.awaiting(t);
  }

  private pause(t: ThreadState): RunOutcome {
    this.pauseRequested = false;
    this.tier.clearPause();
    return { kind: 'paused', instructions: t.instructions };
  }

  private finish(outcome: RunOutcome): RunOutcome {
    this.finished = outcome;
    this.tier.clearPause();
    return outcome;
  }

  /** Finishes with the entry function's results, slot-encoded from word `index` of `slots` (a v128 as a 128-bit bigint). */
  private returned(slots: Int32Array, index: number): RunOutcome {
    const fn = this.tier.state.funcs[this.funcAddr];
    const results = resultsToJs(this.tier.state, fn.type.results, slots, index >> 1);
    this.rawResults = rawBits(slots, index, fn.type.results);
    return this.finish({ kind: 'returned', results });
  }

  /** Value stack slots the pending frames would take in the interpreter. */
  private pendingSlots = 0;

  /**
   * Takes note of frames just unwound (`frames`: this execution's whole stack, `added`:
   * the new ones on top); deeper or bigger than the interpreter allows is the same
   * exhaustion the interpreter would report.
   */
  private unwound(t: ThreadState, frames: CanonicalFrame[], added: CanonicalFrame[], space: IndexSpace): CanonicalFrame[] {
    this.lastUnwound = frames;
    this.stats.unwinds++;
    this.stats.framesUnwound += added.length;
    if (this.entryDepth + frames.length + 1 > t.maxDepth) throw this.exhausted(frames, space);
    for (const f of added) {
      this.pendingSlots += this.slotsOf(f, space);
      const cf = (this.tier.state.funcs[space.funcs[f.funcIndex]] as WasmFunctionState).compiled;
      if (this.pendingSlots + cf.frameSize > t.maxSlots) throw this.exhausted(frames, space);
    }
    return frames;
  }

  /**
   * The exhaustion of a stack unwound from native code, with the backtrace of its frames
   * (innermost first; `run` appends the interpreter's below them), as the interpreter
   * reports it: a caller frame at its call instruction.
   */
  private exhausted(frames: CanonicalFrame[], space: IndexSpace): ExhaustionError {
    const error = new ExhaustionError();
    const starts = new Map<WasmFunctionState, number[]>();
    const trace: TraceFrame[] = [];
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i];
      const fn = this.tier.state.funcs[space.funcs[f.funcIndex]] as WasmFunctionState;
      let offsets = starts.get(fn);
      if (offsets === undefined) starts.set(fn, (offsets = Array.from(fn.compiled.offsets).filter((o) => o >= 0).sort((a, b) => a - b)));
      trace.push({ funcIndex: f.funcIndex, name: fn.instance.names.get(f.funcIndex), offset: i === frames.length - 1 ? f.pc : instructionBefore(offsets, f.pc) });
    }
    error.backtrace = trace;
    return error;
  }

  private slotsOf(f: CanonicalFrame, space: IndexSpace): number {
    return (this.tier.state.funcs[space.funcs[f.funcIndex]] as WasmFunctionState).compiled.numLocals + stackSlots(f);
  }

  /** Takes this execution's frames off the thread (they continue natively). */
  private popFrames(t: ThreadState): void {
    this.popFramesFrom(t, this.entryDepth);
  }

  /**
   * Takes the frames from record `index` up off the thread: the frame below them (or
   * the host, at the execution's own record) is left on top, at its call.
   */
  private popFramesFrom(t: ThreadState, index: number): void {
    const records = t.frames;
    // The first frame taken off: its locals start where the frame below it stood.
    const firstFp = index + 1 < t.depth ? records[3 * (index + 1) + 2] : t.fp;
    t.funcAddr = records[3 * index];
    t.pc = records[3 * index + 1];
    t.fp = records[3 * index + 2];
    t.sp = firstFp;
    t.depth = index;
  }

  /** Frames native code unwound, loaded on top of the thread as the callees of the frame on top. */
  private loadAsCallees(t: ThreadState, frames: CanonicalFrame[], space: IndexSpace): void {
    const caller = t.funcAddr;
    const depth = t.depth;
    this.load(t, frames, space);
    t.frames[3 * depth] = caller;
  }

  /** A call from an interpreted frame, on the native tier; false when it unwound (frames loaded on top). */
  private callNative(t: ThreadState, deadline: number, space: IndexSpace): boolean {
    const addr = t.pendingHostCall;
    const fn = this.tier.state.funcs[addr];
    const { params, results } = fn.type;
    const base = t.sp - slotCount(params);
    const resultSlots = slotCount(results);
    const out = new Int32Array(2 * resultSlots);
    this.stats.nativeCalls++;
    if (this.tier.call(addr, t.s32, 2 * base, out, 0, deadline)) {
      t.pendingHostCall = -1;
      if (base + resultSlots > t.s32.length >> 1) growSlots(t, base + resultSlots);
      t.s32.set(out, 2 * base);
      t.sp = base + resultSlots;
      return true;
    }
    // The callee paused: its frames go on top of the caller's, linked as a Wasm call.
    t.pendingHostCall = -1;
    const frames = this.tier.canonicalFrames(this.tier.unwound, space);
    this.tier.unwound = [];
    this.lastUnwound = frames;
    this.stats.unwinds++;
    this.stats.framesUnwound += frames.length;
    t.sp = base;
    this.loadAsCallees(t, frames, space);
    return false;
  }

  /**
   * Whether the frames loaded for an asynchronous import's suspension end with the
   * call's stand-in results on the top frame's stack (see `suspend`): they do when any
   * frame was loaded.
   */
  private standIns = false;

  /** Loads canonical frames into the thread on top of what it holds. */
  private load(t: ThreadState, frames: CanonicalFrame[], space: IndexSpace): void {
    const suspended = this.tier.suspended;
    if (this.tier.unwindReason === 'import' && suspended !== undefined) {
      this.standIns = frames.length > 0;
      if (this.tier.lastUnwindFrames === 0 && frames.length > 0) {
        // The import was tail-called by the function a resumed frame called: the frames
        // below unwound before it, and the top one stands at its call without results,
        // which a top frame after its call must have. Zeros stand in, as a frame that
        // saved itself after calling the import holds (`tier.suspend`).
        const top = frames[frames.length - 1];
        top.stack = [...top.stack, ...this.tier.state.funcs[suspended.funcAddr].type.results.map(standIn)];
      }
    }
    if (t.depth + frames.length + 1 > t.maxDepth) throw this.exhausted(frames, space);
    let slots = t.sp;
    for (const f of frames) {
      const cf = (this.tier.state.funcs[space.funcs[f.funcIndex]] as WasmFunctionState).compiled;
      slots += cf.numLocals + stackSlots(f);
      if (slots + cf.frameSize > t.maxSlots) throw this.exhausted(frames, space);
    }
    // A native frame's exnref (a legacy catch's exception) is its store index (`frame-records.ts`).
    loadFrames(t, space, frames, { funcs: space.funcs.length, externs: this.tier.state.externs.length, exceptions: this.tier.state.exceptions.length, exceptionBase: 0 });
  }
}

/** The start of the instruction before byte offset `pc` (a caller frame's call), from sorted instruction starts. */
function instructionBefore(starts: readonly number[], pc: number): number {
  let lo = 0, hi = starts.length - 1, found = pc;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] < pc) { found = starts[mid]; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

/** Results in slots from word `index` as raw bit patterns (unsigned; a v128's four words as 128 bits). */
function rawBits(slots: Int32Array, index: number, types: readonly number[]): bigint[] {
  const out: bigint[] = [];
  for (const type of types) {
    const words = type === ValType.v128 ? 4 : 2;
    let v = 0n;
    for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(slots[index + w] >>> 0);
    out.push(v);
    index += words;
  }
  return out;
}

/** A value of type `t` that stands in for a result not known yet (zero, null). */
function standIn(t: number): CanonicalFrame['stack'][number] {
  switch (t) {
    case ValType.i64: case ValType.f64: return 0n;
    case ValType.v128: return new Uint8Array(16);
    case ValType.i32: case ValType.f32: return 0;
    default: return null;
  }
}

/** Value stack slots of a canonical frame's operands (a v128, carried as 16 bytes, takes two). */
function stackSlots(f: CanonicalFrame): number {
  let n = 0;
  for (const v of f.stack) n += v instanceof Uint8Array ? 2 : 1;
  return n;
}

/**
 * Exnref values as the store's own exception indices: the canonical frames native code
 * and the interpreter's thread hand each other within one store (never a snapshot, whose
 * capture numbers the exceptions it carries).
 */
class StoreExceptionIds extends ExceptionCollector {
  override idOf(index: number): number {
    return index;
  }
}

/** `space`, with exnref values as store indices (see {@link StoreExceptionIds}). */
function nativeFrameSpace(space: IndexSpace): IndexSpace {
  return { ...space, exceptions: new StoreExceptionIds() };
}
