/**
 * Primes the type feedback of the interpreter's run loops before V8 compiles them:
 * an experiment, off unless asked for (`WASMIG_PRIME=1`, or `StoreOptions.primer`),
 * because on Node 20's V8 it did not make the warm-up shorter (docs/interpreter-warm-up.md,
 * "Priming the loops"). Kept so that it can be measured again on other engines.
 *
 * The idea: V8 compiles `runFastLoop` and `runExact` with TurboFan once they are hot,
 * from the type feedback their cases have gathered so far; a case that has not run yet
 * becomes a deoptimization exit, and when the program first reaches it the compiled code
 * is thrown away and compiled again. So once a program has run on the interpreter for a
 * while (`PRIME_AFTER` instructions, which a short `wasmig run` never reaches), the primer
 * runs a small built-in module (`priming-module.ts`) through the cases of both loops that
 * the program's code holds, in a store of its own: its own memory, table, globals, value
 * stack and frames. The program's store and thread are only read (which fast opcodes its
 * translated functions hold), never written; what carries over is V8's feedback, in which
 * the priming run's objects look like any program's (the same classes, typed arrays and
 * memories). What measurement found: TurboFan's compile of the loop takes longer with
 * every case that has feedback, and the compiles that deoptimization made necessary
 * (OSR, then a regular one) still happen.
 */
import { decodeModule } from '../binary/index.ts';
import { compileModule, fastLength } from '../compile/index.ts';
import { FuncKind, run, RunStatus } from '../exec/index.ts';
import type { StoreState } from '../exec/index.ts';
import { callHost, enterFunction } from './invoke.ts';
import { PRIMING_PASSES, primingModuleBytes } from './priming-module.ts';
import { Store } from './store.ts';

/**
 * Instructions a program runs on the interpreter before the primer runs: one run-loop
 * slice (`Execution`'s), a few milliseconds cold. V8 marks the loops for compiling only
 * after about 0.1 s.
 */
export const PRIME_AFTER = 131_072;

/**
 * Primes the run loops once (see above). Its state is whether it has, which is the state
 * of V8's feedback for the loops: one per JavaScript realm (a process, or a worker
 * thread), hence {@link sharedRunLoopPrimer}.
 */
export class RunLoopPrimer {
  private ran = false;
  /** Milliseconds the priming took (undefined until it ran). */
  elapsedMs: number | undefined = undefined;
  /** Wasm instructions the priming module executed. */
  instructions = 0;
  /** What went wrong, if priming failed: it never fails the program that triggered it. */
  failure: unknown = undefined;

  /** Whether it has run (it runs once). */
  get done(): boolean {
    return this.ran;
  }

  /**
   * Runs the priming module's passes on the fast code and on the exact code; once. With
   * `program`, only the pieces for the fast opcodes of the functions it has run so far
   * (and the fused instructions of their parts): a case no program runs is better left
   * without feedback, since V8's compile time grows with every case that has some.
   */
  prime(program?: StoreState): void {
    if (this.ran) return;
    this.ran = true;
    const started = performance.now();
    try {
      const compiled = compileModule(decodeModule(primingModuleBytes(program === undefined ? undefined : fastOpsOf(program))));
      for (const fast of [true, false]) {
        const store = new Store({ fast });
        const main = this.instantiate(store, compiled);
        for (let pass = 0; pass < PRIMING_PASSES; pass++) this.runPass(store, main, pass);
      }
    } catch (error) {
      this.failure = error;
    }
    this.elapsedMs = performance.now() - started;
  }

  private instantiate(store: Store, compiled: ReturnType<typeof compileModule>): number {
    const instance = store.instantiate(compiled, { env: { echo: (x: number) => x } });
    return instance.exports.get('main')!.addr;
  }

  /** Calls `main(pass)` and runs it to its return. */
  private runPass(store: Store, main: number, pass: number): void {
    const t = store.thread;
    const before = t.instructions;
    t.s32[2 * t.sp] = pass;
    t.s32[2 * t.sp + 1] = 0;
    t.sp++;
    enterFunction(t, main);
    for (;;) {
      const status = run(t, 1 << 30);
      if (status === RunStatus.returned) break;
      if (status === RunStatus.hostCall) callHost(t);
    }
    t.sp = 0;
    this.instructions += t.instructions - before;
  }
}

/** The fast opcodes in the fast code of a store's functions (those translated so far, the ones that have run). */
export function fastOpsOf(state: StoreState): Set<number> {
  const ops = new Set<number>();
  for (const fn of state.funcs) {
    const code = fn.kind === FuncKind.wasm ? fn.compiled.fast?.code : undefined;
    if (code === undefined) continue;
    for (let pc = 0; pc < code.length; pc += fastLength(code, pc)) ops.add(code[pc]);
  }
  return ops;
}

const shared = new RunLoopPrimer();

/**
 * The primer `Execution` uses when its store names none (`StoreOptions.primer`): this
 * realm's when the environment variable `WASMIG_PRIME` is `1`, else null (no priming).
 */
export function sharedRunLoopPrimer(): RunLoopPrimer | null {
  const setting = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.WASMIG_PRIME;
  return setting === '1' ? shared : null;
}
