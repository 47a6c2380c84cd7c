/**
 * Runs CoreMark on each engine, `runs` times, and reports the median with its spread.
 * An engine in Node (interp, native, v8) runs each time in a child process of its own
 * that warms it up first (`session.ts`): the timed run is warm, and the process's first
 * seconds give the cold figure, reported apart. An outside runtime (wasm3, iwasm) is
 * timed in a fresh process per run, after short calibration runs (grown until one lasts
 * long enough to time) that set the count for about the requested seconds.
 */
import { spawn } from 'node:child_process';
import { ENGINES } from './engines.ts';
import type { Engine, EngineName } from './engines.ts';
import { coremarkArgs, parseReport } from './report.ts';
import type { CoreMarkReport } from './report.ts';
import { MAX_WARMUP_SECONDS, STABLE_WITHIN } from './session.ts';
import type { SessionOptions, SessionResult } from './session.ts';

const STABLE_PERCENT = STABLE_WITHIN * 100;

export interface BenchOptions {
  /** Path of the CoreMark module (WASI command). */
  wasm: string;
  engines: readonly EngineName[];
  /** About how long each engine's measured run lasts. */
  seconds: number;
  /** A fixed iteration count instead of calibrating. */
  iterations?: number;
  /** Measured runs per engine (default 1); the result is their median. */
  runs?: number;
  progress?: Progress;
  /** Engine table (tests replace entries). */
  table?: Readonly<Record<EngineName, Engine>>;
}

/** Where the runner says what it is doing (a status line on a terminal). */
export interface Progress {
  phase(text: string): void;
  end(): void;
}

export type ResultStatus = 'ok' | 'failed' | 'skipped' | 'unavailable';

export interface EngineResult {
  engine: EngineName;
  status: ResultStatus;
  /** Why it was skipped, failed or did not validate; a remark about an ok run. */
  reason?: string;
  /** The median of the runs' rates: warm for the engines in Node (see `cold...`). */
  iterationsPerSec: number | null;
  validated: boolean;
  /** The median run's length as the program measured it. */
  seconds: number | null;
  iterations: number | null;
  /** Every run's iterations/s, in order (empty when none ran). */
  runs: number[];
  /**
   * The median over the runs of the rate of a process's first `seconds` of CoreMark,
   * JIT cold (null for the outside runtimes, whose every run is a fresh process).
   */
  coldIterationsPerSec: number | null;
}

/** The output of one child process. */
export interface RunOutput {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
}

/** Runs one command to its end, collecting its output. */
export function runProcess(command: string, args: readonly string[]): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({
      status, signal,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      wallSeconds: Number(process.hrtime.bigint() - t0) / 1e9,
    }));
  });
}

const MAX_ITERATIONS = 2 ** 31 - 1;
/** A calibration run at least this long is long enough to scale from. */
const CALIBRATED_SECONDS = 0.25;
const MAX_CALIBRATION_RUNS = 6;
/** A measured run shorter than this share of the target is run again, better calibrated. */
const RERUN_BELOW = 0.6;

interface Measured {
  report: CoreMarkReport;
  output: RunOutput;
  /** Set when the run failed outright (no report to speak of). */
  failure?: string;
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

async function measure(engine: Engine, wasm: string, iterations: number): Promise<Measured> {
  const launch = engine.launch(wasm, coremarkArgs(iterations));
  let output: RunOutput;
  try {
    output = await runProcess(launch.command, launch.args);
  } catch (error) {
    const empty: RunOutput = { status: null, signal: null, stdout: '', stderr: '', wallSeconds: 0 };
    return { report: parseReport(''), output: empty, failure: `cannot start ${launch.command}: ${(error as Error).message}` };
  }
  const report = parseReport(output.stdout);
  if (report.seconds === undefined || report.seconds <= 0) report.seconds = output.wallSeconds;
  if (report.iterationsPerSec === undefined && report.iterations !== undefined) report.iterationsPerSec = report.iterations / report.seconds;
  if (report.iterations === undefined || report.iterationsPerSec === undefined) {
    const why = output.signal ? `killed by ${output.signal}` : `exit status ${output.status}`;
    const detail = lastLine(output.stderr) || lastLine(output.stdout);
    return { report, output, failure: `no CoreMark report (${why}${detail ? `: ${detail}` : ''})` };
  }
  return { report, output };
}

function resultOf(name: EngineName, m: Measured, remark?: string): EngineResult {
  const { report, output } = m;
  if (m.failure) {
    return failedResult(name, m.failure);
  }
  const reasons = [report.problem, remark];
  if (output.status !== 0) reasons.push(output.signal ? `killed by ${output.signal}` : `exit status ${output.status}`);
  const reason = reasons.filter(Boolean).join('; ');
  return {
    engine: name,
    status: 'ok',
    ...(reason ? { reason } : {}),
    iterationsPerSec: report.iterationsPerSec ?? null,
    validated: report.validated,
    seconds: report.seconds ?? null,
    iterations: report.iterations ?? null,
    runs: report.iterationsPerSec === undefined ? [] : [report.iterationsPerSec],
    coldIterationsPerSec: null,
  };
}

function failedResult(name: EngineName, reason: string): EngineResult {
  return { engine: name, status: 'failed', reason, iterationsPerSec: null, validated: false, seconds: null, iterations: null, runs: [], coldIterationsPerSec: null };
}

/**
 * The iteration count for a run of about `seconds`, from calibration runs `(n, t)`.
 * Engines warm up (the JIT compiles the interpreter's loop, V8 tiers the module up), so
 * a short run is slower per iteration than a long one: with two runs, the time is taken
 * as a fixed cost plus a marginal rate, `t = a + n / r`; with one, as `n / r`.
 */
export function iterationsFor(points: readonly { n: number; t: number }[], seconds: number): number {
  const last = points[points.length - 1];
  let n = (last.n / Math.max(last.t, 1e-6)) * seconds;
  const prev = points[points.length - 2];
  if (prev && last.n > prev.n && last.t > prev.t) {
    const rate = (last.n - prev.n) / (last.t - prev.t);
    const fixed = Math.min(Math.max(0, last.t - last.n / rate), last.t);
    n = rate * Math.max(seconds - fixed, seconds / 2);
  }
  return Math.max(1, Math.min(MAX_ITERATIONS, Math.round(n)));
}

/** One run of an outside runtime in fresh processes: calibrates (unless a count is given) and measures. */
async function processRun(engine: Engine, options: BenchOptions, label: string): Promise<EngineResult> {
  const progress = options.progress;
  const plural = (n: number): string => `${n.toLocaleString('en-US')} iteration${n === 1 ? '' : 's'}`;
  let n = options.iterations ?? engine.firstGuess;
  const points: { n: number; t: number }[] = [];
  if (options.iterations === undefined) {
    const enough = Math.min(CALIBRATED_SECONDS, options.seconds / 4);
    for (let round = 1; ; round++) {
      progress?.phase(`${label}calibrating with ${plural(n)}`);
      const m = await measure(engine, options.wasm, n);
      if (m.failure) return resultOf(engine.name, m);
      const t = m.report.seconds!;
      // A build that takes its count from elsewhere (seeds compiled in): the run we have is the result.
      if (m.report.iterations !== n) return resultOf(engine.name, m, `the module ran ${m.report.iterations} iterations, not the ${n} asked for`);
      points.push({ n, t });
      if (round >= MAX_CALIBRATION_RUNS || n >= MAX_ITERATIONS) break;
      if (t < enough) {
        n = Math.min(MAX_ITERATIONS, Math.ceil((n / Math.max(t, 1e-6)) * enough * 1.5), n * 100);
        continue;
      }
      // Long enough to time. Two runs far enough apart give the marginal rate; if the one
      // before is too close to this one, a longer run (up to half the target) follows.
      if (points.length >= 2 && points[points.length - 2].t * 2.5 <= t) break;
      const longer = Math.min(4, options.seconds / 2 / t);
      if (longer < 1.5) break;
      n = Math.min(MAX_ITERATIONS, Math.ceil(n * longer));
    }
    n = iterationsFor(points, options.seconds);
  }
  progress?.phase(`${label}${plural(n)}${options.iterations === undefined ? `, about ${options.seconds} s` : ''}`);
  let m = await measure(engine, options.wasm, n);
  // Still warming up during calibration (or disturbed by another process): once more,
  // counting the run just made as a calibration point.
  if (options.iterations === undefined && !m.failure && m.report.iterations === n && n < MAX_ITERATIONS && m.report.seconds! < options.seconds * RERUN_BELOW) {
    points.push({ n, t: m.report.seconds! });
    n = iterationsFor(points, options.seconds);
    progress?.phase(`${label}${plural(n)}, about ${options.seconds} s (second try)`);
    m = await measure(engine, options.wasm, n);
  }
  return resultOf(engine.name, m);
}

/** One run of an engine in Node: a warm-up session in a child process (`session.ts`). */
async function sessionRun(engine: Engine, options: BenchOptions, label: string): Promise<EngineResult> {
  const sessionOptions: SessionOptions = { seconds: options.seconds, firstGuess: engine.firstGuess, ...(options.iterations === undefined ? {} : { iterations: options.iterations }) };
  const launch = engine.session!(options.wasm, JSON.stringify(sessionOptions));
  options.progress?.phase(`${label}${options.iterations === undefined ? `warming up, then about ${options.seconds} s` : `${options.iterations} iterations, warm`}`);
  let output: RunOutput;
  try {
    output = await runProcess(launch.command, launch.args);
  } catch (error) {
    return failedResult(engine.name, `cannot start ${launch.command}: ${(error as Error).message}`);
  }
  const line = output.stdout.split('\n').find((l) => l.startsWith('SESSION '));
  if (output.status !== 0 || line === undefined) {
    const why = output.signal ? `killed by ${output.signal}` : `exit status ${output.status}`;
    const detail = lastLine(output.stderr) || lastLine(output.stdout);
    return failedResult(engine.name, `no CoreMark report (${why}${detail ? `: ${detail}` : ''})`);
  }
  const session = JSON.parse(line.slice('SESSION '.length)) as SessionResult;
  const timed = session.runs[session.runs.length - 1]?.report;
  if (timed === undefined || timed.iterations === undefined || timed.iterationsPerSec === undefined) {
    return failedResult(engine.name, `no CoreMark report${session.stoppedBecause ? ` (${session.stoppedBecause})` : ''}`);
  }
  const remarks = [timed.problem];
  // A module that ignores the count asked for: its run is the result, as in a fresh process.
  if (session.stoppedBecause?.startsWith('the module ran')) remarks.push(session.stoppedBecause);
  else if (options.iterations === undefined && !session.stable && session.stoppedBecause === undefined) {
    remarks.push(`warm-up did not settle within ${MAX_WARMUP_SECONDS} s (runs more than ${Math.round(STABLE_PERCENT)}% apart)`);
  }
  const reason = remarks.filter(Boolean).join('; ');
  return {
    engine: engine.name,
    status: 'ok',
    ...(reason ? { reason } : {}),
    iterationsPerSec: timed.iterationsPerSec,
    validated: timed.validated,
    seconds: timed.seconds ?? null,
    iterations: timed.iterations,
    runs: [timed.iterationsPerSec],
    coldIterationsPerSec: session.coldIterationsPerSec ?? null,
  };
}

/** The middle value (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The runs of one engine as one result: the median run's figures, every rate, the median cold rate. */
export function combineRuns(results: readonly EngineResult[]): EngineResult {
  const rates = results.map((r) => r.iterationsPerSec!);
  const mid = median(rates);
  // The run whose rate is the median (the lower of the middle two for an even count).
  const order = results.map((_, i) => i).sort((a, b) => rates[a] - rates[b]);
  const at = results[order[(results.length - 1) >> 1]];
  const colds = results.flatMap((r) => (r.coldIterationsPerSec === null ? [] : [r.coldIterationsPerSec]));
  // Every remark once, with how many runs made it when not all did.
  const reasons = [...new Set(results.flatMap((r) => (r.reason ? [r.reason] : [])))].map((text) => {
    const k = results.filter((r) => r.reason === text).length;
    return k === results.length || results.length === 1 ? text : `${text} (${k} of ${results.length} runs)`;
  });
  return {
    ...at,
    ...(reasons.length ? { reason: reasons.join('; ') } : {}),
    iterationsPerSec: mid,
    validated: results.every((r) => r.validated),
    runs: results.flatMap((r) => r.runs),
    coldIterationsPerSec: colds.length ? median(colds) : null,
  };
}

/**
 * Measures one engine `options.runs` times (each a session or a fresh process of its
 * own) and combines the runs; the first failure is the result.
 */
export async function benchEngine(engine: Engine, options: BenchOptions): Promise<EngineResult> {
  return (await runRounds([engine], options))[0];
}

/**
 * Runs every requested engine in turn (never two at once: they would compete for the
 * CPU), round by round: with `runs` > 1 each round runs every engine once, so that run i
 * of one engine and run i of V8 are minutes closer together than they would be if each
 * engine ran all its runs before the next started, and a machine whose load drifts
 * moves both alike (`ratioToV8` pairs them by round).
 */
export async function runBench(options: BenchOptions): Promise<EngineResult[]> {
  const table = options.table ?? ENGINES;
  try {
    return await runRounds(options.engines.map((name) => table[name]), options);
  } finally {
    options.progress?.end();
  }
}

/** One engine's runs so far, and what ended them early. */
interface EngineRounds {
  engine: Engine;
  results: EngineResult[];
  /** A failure (or skip): the engine's whole result. */
  ended?: EngineResult;
  /** The module runs its own count: running it again says nothing new. */
  finished?: boolean;
}

async function runRounds(engines: readonly Engine[], options: BenchOptions): Promise<EngineResult[]> {
  const count = options.runs ?? 1;
  const state: EngineRounds[] = engines.map((engine) => {
    const unavailable = engine.check();
    const ended: EngineResult | undefined = unavailable
      ? { engine: engine.name, status: unavailable.status, reason: unavailable.reason, iterationsPerSec: null, validated: false, seconds: null, iterations: null, runs: [], coldIterationsPerSec: null }
      : undefined;
    return { engine, results: [], ...(ended ? { ended } : {}) };
  });
  for (let i = 0; i < count; i++) {
    for (const e of state) {
      if (e.ended || e.finished) continue;
      const label = `${e.engine.name}${count > 1 ? ` (run ${i + 1} of ${count})` : ''}: `;
      const r = e.engine.session ? await sessionRun(e.engine, options, label) : await processRun(e.engine, options, label);
      if (r.status !== 'ok') { e.ended = r; continue; }
      e.results.push(r);
      if (r.reason?.includes('iterations, not the')) e.finished = true;
    }
  }
  return state.map((e) => e.ended ?? combineRuns(e.results));
}
