/**
 * The interpreter's warm-up: CoreMark iterations/s per window of a cold process, several
 * processes per build, builds side by side (runs alternate, so every build sees the same
 * machine).
 *
 *   npx tsx tools/bench/warmup.ts [--seconds 10] [--window 0.5] [--runs 3]
 *       [--dist DIR]... [--module coremark.wasm] [--node-flags "--flag ..."]... [--js-after N]...
 *
 * `--dist` names a built wasmig (a `dist/` directory; default this checkout's, `npm run
 * build` first); give it twice to compare two builds, for example main's, built in a copy
 * made with `git archive main`. Each process runs CoreMark on the interpreter for
 * `--seconds` and counts the instructions of every window (`warmup-child.mjs`); a window's
 * iterations are its instructions over one iteration's, counted once per build by two
 * complete runs (1 and 6 iterations) whose difference is five iterations' worth.
 * `--node-flags` given more than once makes each set of flags a variant of every build
 * (`""` for none), run alternately with the others, so that V8 flags are compared side
 * by side; with `--trace-opt` among them, each run also says how many times V8 compiled
 * `runFastLoop` and how long the compiles took (V8's own figure). `--js-after N` given
 * more than once does the same for the interpreter's `jsAfter` (when a function is
 * compiled to JavaScript; `default` for the build's own).
 *
 * Prints, per build: the median rate of each window over the runs (min-max), then per
 * run the time until the rate first reaches 80% of the last 2 s's rate, and the mean
 * rate of the first 2 s as a share of the mean of the whole run (what `wasmig bench
 * --seconds 2` against `--seconds 10` would see, minus CoreMark's own setup); and the
 * load average before and after.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { optionValues, positiveNumber } from './options.ts';
import { median } from './stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const child = join(root, 'tools/bench/warmup-child.mjs');

const seconds = positiveNumber('warmup', '--seconds', 10);
const windowSeconds = positiveNumber('warmup', '--window', 0.5);
const runs = positiveNumber('warmup', '--runs', 3);
const dists = optionValues('--dist').map((d) => resolve(d));
if (dists.length === 0) dists.push(join(root, 'dist'));
const wasm = resolve(optionValues('--module')[0] ?? join(root, 'coremark/coremark.wasm'));
const flagSets = optionValues('--node-flags').map((f) => f.split(/\s+/).filter(Boolean));
if (flagSets.length === 0) flagSets.push([]);
const jsAfters = optionValues('--js-after');
if (jsAfters.length === 0) jsAfters.push('default');
for (const j of jsAfters) {
  if (j !== 'default' && !/^(-1|\d+)$/.test(j)) {
    process.stderr.write(`warmup: --js-after must be a whole number, -1 or default, got ${JSON.stringify(j)}\n`);
    process.exit(2);
  }
}
/** What is compared: every build with every set of flags and every `jsAfter`. */
const variants = dists.flatMap((dist) => flagSets.flatMap((flags) => jsAfters.map((jsAfter) => ({ dist, flags, jsAfter }))));
type Variant = typeof variants[number];
const label = (v: Variant): string => `${v.dist}${v.flags.length ? ` (node ${v.flags.join(' ')})` : ''}${v.jsAfter === 'default' ? '' : ` jsAfter ${v.jsAfter}`}`;

function runChild(v: Variant, args: string[]): { parsed: unknown; stdout: string } {
  const env = v.jsAfter === 'default' ? process.env : { ...process.env, WARMUP_JS_AFTER: v.jsAfter };
  const r = spawnSync(process.execPath, [...v.flags, child, v.dist, wasm, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env });
  if (r.status !== 0) {
    process.stderr.write(`warmup: the child failed (${r.signal ?? `status ${r.status}`}): ${(r.stderr || r.stdout).trim().split('\n').pop()}\n`);
    process.exit(1);
  }
  // The last JSON line: with V8's tracing flags, trace lines may follow it (a compile that ends at exit).
  const line = r.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  return { parsed: JSON.parse(line ?? 'null'), stdout: r.stdout };
}

/** From `--trace-opt`'s lines: runFastLoop's completed compiles and their milliseconds (V8's three phases added). */
function loopCompiles(trace: string): { count: number; ms: number } {
  let count = 0;
  let ms = 0;
  for (const m of trace.matchAll(/completed compiling .*<JSFunction runFastLoop .* took ([\d.]+), ([\d.]+), ([\d.]+) ms/g)) {
    count++;
    ms += Number(m[1]) + Number(m[2]) + Number(m[3]);
  }
  return { count, ms };
}

/** Instructions of one CoreMark iteration: two complete runs, five iterations apart. */
function perIteration(dist: string): number {
  const plain = { dist, flags: [], jsAfter: 'default' };
  const one = (runChild(plain, ['count', '1']).parsed as { instructions: number }).instructions;
  const six = (runChild(plain, ['count', '6']).parsed as { instructions: number }).instructions;
  return (six - one) / 5;
}

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** A run's windows: iterations/s and end time, by the wall clock and by the process's CPU time. */
interface Curve {
  rates: number[]; ends: number[]; cpuRates: number[]; cpuEnds: number[];
  /** The JavaScript thread's CPU s at each window's end, and the other threads' (V8's compiler) (empty without /proc). */
  mainEnds: number[]; otherEnds: number[];
  /** runFastLoop's compiles (with `--trace-opt`). */
  compiles: { count: number; ms: number };
}

function curveOf(v: Variant, perIter: number): Curve {
  const { parsed, stdout } = runChild(v, ['curve', String(seconds), String(windowSeconds)]);
  const out = parsed as { windows: [number, number, number, number | null, number | null][] };
  const c: Curve = { rates: [], ends: [], cpuRates: [], cpuEnds: [], mainEnds: [], otherEnds: [], compiles: loopCompiles(stdout) };
  let at = 0;
  let cpuAt = 0;
  for (const [instructions, ms, cpuMs, main, others] of out.windows) {
    if (main !== null && others !== null) { c.mainEnds.push(main / 1000); c.otherEnds.push(others / 1000); }
    at += ms;
    cpuAt += cpuMs;
    c.rates.push((instructions / perIter) / (ms / 1000));
    c.ends.push(at / 1000);
    c.cpuRates.push((instructions / perIter) / (cpuMs / 1000));
    c.cpuEnds.push(cpuAt / 1000);
  }
  return c;
}

/** Mean iterations/s over [0, until] s, from the windows (the last one cut in proportion). */
function meanRate(c: Pick<Curve, 'rates' | 'ends'>, until: number): number {
  let iterations = 0;
  let from = 0;
  for (let i = 0; i < c.rates.length && from < until; i++) {
    const to = Math.min(c.ends[i], until);
    iterations += c.rates[i] * (to - from);
    from = c.ends[i];
  }
  return iterations / Math.min(until, c.ends[c.ends.length - 1]);
}

/** The warm rate (mean of the last 2 s's windows), when 80% of it is first reached, and the first 2 s's share. */
function summary(c: Pick<Curve, 'rates' | 'ends'>): { warm: number; reach80: number; share2s: number } {
  const tail = meanRate(c, Infinity);
  const last2 = c.rates.filter((_, i) => c.ends[i] > c.ends[c.ends.length - 1] - 2);
  const warm = last2.length ? last2.reduce((a, b) => a + b, 0) / last2.length : tail;
  const i = c.rates.findIndex((r) => r >= 0.8 * warm);
  return { warm, reach80: i < 0 ? Infinity : c.ends[i], share2s: meanRate(c, 2) / tail };
}

const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
const perIterOf = new Map(dists.map((d) => [d, perIteration(d)]));
const perIter = variants.map((v) => perIterOf.get(v.dist)!);
const curves: Curve[][] = variants.map(() => []);
for (let r = 0; r < runs; r++) {
  variants.forEach((v, d) => {
    curves[d].push(curveOf(v, perIter[d]));
    process.stderr.write(`warmup: run ${r + 1}/${runs} of ${label(v)} done\n`);
  });
}
const loadAfter = loadavg().map((x) => x.toFixed(2)).join(' ');

console.log(`CoreMark on the interpreter, cold processes, ${runs} run(s) per build, windows of ${windowSeconds} s; load average ${loadBefore} before, ${loadAfter} after`);
variants.forEach((v, d) => {
  console.log(`\n${label(v)} (${fmt(perIter[d])} instructions per iteration)`);
  const n = Math.min(...curves[d].map((c) => c.rates.length));
  const lines = ['  window end (s)  it/s median  (min-max)'];
  for (let i = 0; i < n; i++) {
    const rs = curves[d].map((c) => c.rates[i]);
    const end = median(curves[d].map((c) => c.ends[i]));
    lines.push(`  ${end.toFixed(2).padStart(14)}  ${fmt(median(rs)).padStart(11)}  (${fmt(Math.min(...rs))}-${fmt(Math.max(...rs))})`);
  }
  console.log(lines.join('\n'));
  const sums = curves[d].map(summary);
  const list = (xs: number[], digits: number): string => `${xs.map((x) => x.toFixed(digits)).join(', ')}; median ${median(xs).toFixed(digits)}`;
  console.log(`  warm rate (last 2 s), it/s: ${list(sums.map((s) => s.warm), 0)}`);
  console.log(`  80% of the warm rate reached after (s): ${list(sums.map((s) => s.reach80), 2)}`);
  console.log(`  mean rate of the first 2 s / of the whole ${seconds} s: ${list(sums.map((s) => s.share2s), 2)}`);
  if (v.flags.includes('--trace-opt')) {
    console.log(`  runFastLoop compiles: ${curves[d].map((c) => c.compiles.count).join(', ')}; their ms: ${list(curves[d].map((c) => c.compiles.ms), 0)}`);
  }
  // By CPU time (all the process's threads): what the machine's load does not change much.
  const cpu = curves[d].map((c) => summary({ rates: c.cpuRates, ends: c.cpuEnds }));
  console.log(`  by CPU time: warm rate, it/CPU-s: ${list(cpu.map((s) => s.warm), 0)}`);
  console.log(`  by CPU time: 80% of it reached after (CPU s): ${list(cpu.map((s) => s.reach80), 2)}`);
  console.log(`  by CPU time: first 2 CPU-s' share: ${list(cpu.map((s) => s.share2s), 2)}`);
  // The two threads apart: the run loop's thread, and V8's compiler (with the GC's helpers).
  const withThreads = curves[d].filter((c) => c.mainEnds.length === c.rates.length);
  if (withThreads.length) {
    const at80 = withThreads.map((c) => {
      const warm = summary(c).warm;
      const i = c.rates.findIndex((r) => r >= 0.8 * warm);
      return i < 0 ? { main: Infinity, others: Infinity } : { main: c.mainEnds[i], others: c.otherEnds[i] };
    });
    console.log(`  at 80% of the warm rate: JavaScript thread's CPU s ${list(at80.map((x) => x.main), 2)}; other threads' (V8's compiler) ${list(at80.map((x) => x.others), 2)}`);
    console.log(`  other threads' CPU s over the whole run: ${list(withThreads.map((c) => c.otherEnds[c.otherEnds.length - 1]), 2)}`);
  }
});
