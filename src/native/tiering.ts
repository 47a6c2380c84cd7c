/**
 * Tiering up: an execution that starts in the interpreter and moves to the native tier
 * once a worker thread has rewritten the module (`background.ts`), for `tier: 'auto'` on
 * large modules, whose rewrite would otherwise delay the first instruction.
 *
 * The move is the one a resumed snapshot makes: the frames stay in the interpreter's
 * thread, and the native execution carries them on, natively (resume clones) as soon as
 * every frame stands at a safepoint, in the interpreter until then; the calls they
 * make go native at once. Nothing is copied: memory, globals and tables are the store's.
 */
import { checkRunOptions, ClockSizedSlice, Execution, exactLimit } from '../runtime/index.ts';
import type { ExecutionLike, Instance, RunOptions, RunOutcome, SlicePolicy } from '../runtime/index.ts';
import { programSpace } from '../snapshot/index.ts';
import type { BackgroundRewrite, ReadyRewrite } from './background.ts';
import { NativeExecution } from './execution.ts';
import { DEFAULT_INTERPRET_BEFORE_INLINE_REWRITE_MS, DEFAULT_INTERPRET_WHILE_REWRITING_MS } from './tier.ts';
import type { NativeTier } from './tier.ts';

/**
 * Instructions interpreted between two looks at the clock and the worker: 10,000 at
 * first, then each slice scaled to take about 10 ms at the speed the last one ran (at
 * most four times longer, within [1,000, 250,000]). A fixed 250,000 ran 0.6 s in a fresh
 * process (the cold interpreter runs at a few percent of its speed), four times the
 * interpreting window.
 */
export const TIERING_SLICE: SlicePolicy = {
  first: 10_000, min: 1_000, max: 250_000, targetMs: 10, tolerance: 1, maxGrowth: 4, maxShrink: Infinity,
};

/** One wait for the worker, between two looks at the pause signal and the deadline. */
const WAIT_STEP_MS = 10;

/**
 * Waiting for the worker ends after this long in all, and interpreting goes on: a worker
 * that died without answering (its 'error' event needs a turn of the event loop, which
 * `run` gives back only after interpreting its budget) must not hang the program.
 */
const MAX_WAIT_MS = 10_000;

export class TieringExecution implements ExecutionLike {
  readonly #interp: Execution;
  #native: NativeExecution | undefined;
  #pauseRequested = false;
  /** When the execution began interpreting, and how long it has waited for the worker. */
  #began = -1;
  #waited = 0;
  readonly #slice = new ClockSizedSlice(TIERING_SLICE);

  constructor(
    private readonly tier: NativeTier,
    private readonly instance: Instance,
    private readonly funcAddr: number,
    args: readonly unknown[],
    /** The worker's rewrite; undefined: this thread rewrites once the window is over (`rewriteWhileInterpreting: 'inline'`). */
    private readonly rewrite: BackgroundRewrite | undefined,
  ) {
    this.#interp = new Execution(tier.store, funcAddr, args);
  }

  get entryDepth(): number {
    return this.#interp.entryDepth;
  }

  get done(): boolean {
    return (this.#native ?? this.#interp).done;
  }

  get instructions(): number {
    return this.tier.store.thread.instructions;
  }

  /** True once the execution runs on the native tier. */
  get native(): boolean {
    return this.#native !== undefined;
  }

  importSettled(): Promise<void> | undefined {
    return (this.#native ?? this.#interp).importSettled();
  }

  requestPause(): void {
    if (this.#native) {
      this.#native.requestPause();
    } else {
      // The interpreter stops within its slice (from a host function: at once); this loop, after it.
      this.#interp.requestPause();
      this.#pauseRequested = true;
    }
  }

  run(options: RunOptions = {}): RunOutcome {
    checkRunOptions(options);
    if (this.#native) return this.#native.run(options);
    const t = this.tier.store.thread;
    // An import being awaited is settled in the interpreter, before any move.
    if (this.#interp.importSettled() !== undefined) {
      const outcome = this.#interp.run({ until: t.instructions });
      if (outcome.kind !== 'paused') return outcome;
    }
    const deadline = options.timeSliceMs === undefined ? Infinity : performance.now() + options.timeSliceMs;
    let until = exactLimit(options, t.instructions);
    // Its interpreter slices are exact (a slice ending short means a pause): a slice is a budget here.
    if (options.slice !== undefined) until = Math.min(until, t.instructions + options.slice);
    this.#pauseRequested = false;
    if (this.#began < 0) this.#began = performance.now();
    const interpretFor = this.tier.options.interpretWhileRewritingMs
      ?? (this.rewrite === undefined ? DEFAULT_INTERPRET_BEFORE_INLINE_REWRITE_MS : DEFAULT_INTERPRET_WHILE_REWRITING_MS);
    for (;;) {
      const rewrite = this.rewrite;
      let ready: ReadyRewrite | Error | 'inline' | undefined = rewrite?.poll();
      if (rewrite === undefined && performance.now() - this.#began >= interpretFor) ready = 'inline';
      if (rewrite !== undefined && ready === undefined && performance.now() - this.#began >= interpretFor && this.#waited < MAX_WAIT_MS) {
        // Long enough in the cold interpreter: leave the CPU to the worker, but stop for a
        // pause request (another thread's signal) and at the caller's deadline.
        const signal = this.tier.store.pauseSignal;
        while (ready === undefined && Atomics.load(signal, 0) === 0 && this.#waited < MAX_WAIT_MS) {
          const now = performance.now();
          if (now >= deadline) return { kind: 'paused', instructions: t.instructions };
          rewrite.wait(Math.min(WAIT_STEP_MS, deadline - now));
          this.#waited += performance.now() - now;
          ready = rewrite.poll();
        }
      }
      if (ready !== undefined) {
        // A failed worker (or `inline`) leaves the rewrite to the native tier itself, on this thread.
        if (ready !== 'inline' && !(ready instanceof Error)) this.tier.rewrites.adopt(this.instance.compiled, this.tier.options.rewrite ?? {}, ready);
        this.tier.attach(this.instance);
        this.#native = new NativeExecution(this.tier, this.funcAddr, [], {
          space: programSpace(this.tier.store.state, this.instance), resumed: true, entryDepth: this.#interp.entryDepth,
        });
        const left = deadline === Infinity ? undefined : Math.max(0, deadline - performance.now());
        return this.#native.run({ until: until === Infinity ? undefined : until, timeSliceMs: left });
      }
      let outcome: RunOutcome;
      const sliceEnd = Math.min(until, t.instructions + this.#slice.size);
      const sliceBegan = performance.now();
      try {
        outcome = this.#interp.run({ until: sliceEnd });
      } catch (error) {
        this.rewrite?.cancel();
        throw error;
      }
      if (outcome.kind === 'awaiting') return outcome;
      if (outcome.kind !== 'paused') {
        this.rewrite?.cancel();
        return outcome;
      }
      this.#slice.record(performance.now() - sliceBegan);
      // Stopped before the slice's end: a pause was asked for (here, or by another thread through the store's signal).
      if (this.#pauseRequested || t.instructions < sliceEnd || t.instructions >= until || performance.now() >= deadline) {
        this.#pauseRequested = false;
        return outcome;
      }
    }
  }
}
