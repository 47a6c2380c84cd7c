/**
 * One measurement session of an engine that lives in Node (interp, native, v8): CoreMark
 * run again and again in ONE process, so that the engine's JIT warms up before the run
 * that is timed. A fresh process is slow for seconds (docs/interpreter-warm-up.md: V8
 * spends about a second compiling the interpreter's run loop, and compiles it again after
 * each deoptimization), so a run that starts cold measures V8's compiler, not the engine.
 *
 * The policy, apart from how a run is made (`runOnce`), so that tests can drive it:
 * 1. warm-up: runs grow from `firstGuess` iterations until one lasts `WARM_RUN_SECONDS`,
 *    then runs of that length follow until three in a row agree within `STABLE_WITHIN`
 *    and `MIN_WARMUP_SECONDS` have passed (or `MAX_WARMUP_SECONDS`: the result then says
 *    so). The minimum is there because a cold engine is steady too, at its cold rate:
 *    the interpreter runs at 1-2% of its speed for a second or more while V8 compiles;
 * 2. the timed run: the last rate times `seconds` iterations.
 * Every run is a fresh instance of the module (its own memory and WASI state); only the
 * engine's compiled code carries over, as in a long-lived host that runs many jobs.
 */
import type { CoreMarkReport } from './report.ts';

/** How long a warm-up run aims to last, in seconds. */
const WARM_RUN_SECONDS = 0.5;
/** Three consecutive warm-up rates this close (relative) mean the engine is warm... */
export const STABLE_WITHIN = 0.05;
/** ...once this much warm-up has passed. */
const MIN_WARMUP_SECONDS = 3;
/** Warm-up stops here even when the rate still moves (a busy machine). */
export const MAX_WARMUP_SECONDS = 20;
const MAX_ITERATIONS = 2 ** 31 - 1;

/** One CoreMark run of the session: what its report says. */
export interface SessionRun {
  /** Iterations asked for. */
  asked: number;
  report: Pick<CoreMarkReport, 'iterations' | 'seconds' | 'iterationsPerSec' | 'validated' | 'problem'>;
}

/** What a session found. */
export interface SessionResult {
  /** Every run, in order; the timed one last. */
  runs: SessionRun[];
  /** Seconds of CoreMark run before the timed run (its warm-up). */
  warmupSeconds: number;
  /** Whether the warm-up rates settled (false: the cap was reached, or there was no warm-up). */
  stable: boolean;
  /**
   * Iterations/s over the process's first `seconds` of CoreMark, run by run (the last one
   * counted whole): what a run started cold would have measured.
   */
  coldIterationsPerSec: number | undefined;
  /** Set when the session stopped early: a run failed, or the module ignores the count it is given. */
  stoppedBecause?: string;
}

/** Options of {@link runSession}. */
export interface SessionOptions {
  /** About how long the timed run lasts. */
  seconds: number;
  /** Iterations of the first warm-up run. */
  firstGuess: number;
  /** A fixed count for every run (warm-up and timed): one warm-up run, then the timed one. */
  iterations?: number;
}

const rate = (r: SessionRun): number => r.report.iterationsPerSec ?? (r.report.iterations ?? 0) / Math.max(r.report.seconds ?? 0, 1e-9);

/**
 * Warms the engine up with CoreMark runs, then times one run of about `seconds`.
 * `runOnce(n)` runs n iterations on a fresh instance and returns its report.
 */
export async function runSession(runOnce: (iterations: number) => Promise<SessionRun['report']>, options: SessionOptions): Promise<SessionResult> {
  const runs: SessionRun[] = [];
  const result = (stable: boolean, stoppedBecause?: string): SessionResult => {
    const timed = runs.length - 1;
    const warmupSeconds = runs.slice(0, timed).reduce((s, r) => s + (r.report.seconds ?? 0), 0);
    return { runs, warmupSeconds, stable, coldIterationsPerSec: coldRate(runs, options.seconds), ...(stoppedBecause ? { stoppedBecause } : {}) };
  };
  /** Runs n; undefined when the session can go on, else why it stops. */
  const step = async (n: number): Promise<string | undefined> => {
    const report = await runOnce(n);
    runs.push({ asked: n, report });
    if (report.iterations === undefined || !(report.seconds! > 0)) return report.problem ?? 'no CoreMark report';
    if (report.iterations !== n) return `the module ran ${report.iterations} iterations, not the ${n} asked for`;
    if (!report.validated) return report.problem ?? 'not validated';
    return undefined;
  };

  if (options.iterations !== undefined) {
    const why = (await step(options.iterations)) ?? (await step(options.iterations));
    return result(false, why);
  }
  let n = Math.max(1, Math.round(options.firstGuess));
  let warmed = 0;
  let stable = false;
  for (;;) {
    const why = await step(n);
    if (why) return result(false, why);
    const last = runs[runs.length - 1];
    warmed += last.report.seconds!;
    const r = rate(last);
    const recent = runs.slice(-3);
    if (warmed >= MIN_WARMUP_SECONDS && recent.length === 3
      && recent.every((x) => x.report.seconds! >= WARM_RUN_SECONDS / 2 && Math.abs(rate(x) - r) <= STABLE_WITHIN * r)) {
      stable = true;
      break;
    }
    if (warmed >= MAX_WARMUP_SECONDS || n >= MAX_ITERATIONS) break;
    // Grow at most 100-fold at a time: a first run's rate is the coldest there is.
    n = Math.max(1, Math.min(MAX_ITERATIONS, n * 100, Math.round(r * WARM_RUN_SECONDS)));
  }
  const timed = Math.max(1, Math.min(MAX_ITERATIONS, Math.round(rate(runs[runs.length - 1]) * options.seconds)));
  const why = await step(timed);
  return result(stable, why);
}

/** Iterations/s over the runs that fill the first `seconds` (the last one whole). */
function coldRate(runs: readonly SessionRun[], seconds: number): number | undefined {
  let iterations = 0;
  let time = 0;
  for (const r of runs) {
    if (r.report.iterations === undefined || !(r.report.seconds! > 0)) break;
    iterations += r.report.iterations;
    time += r.report.seconds!;
    if (time >= seconds) break;
  }
  return time > 0 ? iterations / time : undefined;
}
