/**
 * CoreMark on the native tier against Node's own engine running the unmodified module,
 * side by side in one process (rounds alternate, so both see the same machine).
 *
 * Usage: npx tsx tools/bench/native-coremark.ts [--iterations N] [--rounds R] [--slice-ms MS] [--poll global|local|none] [--poll-interval N] [--no-after-call] [--unroll N] [--keep-dead-locals] [--plain]
 *        [--wasm COREMARK.wasm] [--module PROGRAM.wasm --args "ARG..."]
 * Prints each round's iterations per second of this process's CPU time (robust on a
 * shared machine; CoreMark's own wall-clock report is checked for validation) and the
 * ratio of the medians. `--wasm` names another CoreMark build (EEMBC's, from
 * build-eembc-coremark.sh), given `bench coremark`'s arguments. With `--module`, another WASI program (brotli's or SQLite's
 * workload, tools/bench/build-*.sh) with its arguments: runs per CPU second, and every
 * run's output must be V8's first. `--keep-dead-locals`: the rewrite without clearing
 * dead locals at safepoints (what it gains). Node 20's node:wasi, running SQLite's
 * module here after the native tier's rounds, crashed the process in about half of the
 * invocations at one point (SIGSEGV in V8's megamorphic keyed load, once SIGABRT in
 * WASI's destructor during a GC), always in V8's run of the third round, with none of
 * the tier's code running then, and never with the native rounds alone (the same crash
 * showed with node:wasi alone on brotli's short runs): Node's, as far as we can see;
 * run it again.
 * `--poll none` and `--no-after-call` only measure what the
 * safepoints cost (such code cannot pause); `--plain` runs the module as it is (a plain
 * rewrite: what the tier costs without any rewrite); `--unroll N` caps the copies of an unrolled loop (1: none).
 */
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModule, Program } from '../../src/program/index.ts';
import { coremarkArgs, parseReport } from '../../src/bench/report.ts';
import { NativeExecution, NativeTier, RewriteCache } from '../../src/native/index.ts';
import type { RewriteOptions } from '../../src/native/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const moduleArg = process.argv.indexOf('--module');
const wasmArg = process.argv.indexOf('--wasm');
const wasmPath = moduleArg >= 0 ? process.argv[moduleArg + 1] : wasmArg >= 0 ? process.argv[wasmArg + 1] : join(root, 'coremark', 'coremark.wasm');
const argsArg = process.argv.indexOf('--args');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const iterations = arg('--iterations', 6000);
const rounds = arg('--rounds', 5);
const pollArg = process.argv.indexOf('--poll');
const rewrite: RewriteOptions = {};
if (pollArg >= 0) rewrite.loopPoll = process.argv[pollArg + 1] as RewriteOptions['loopPoll'];
if (process.argv.includes('--no-after-call')) rewrite.afterCall = 'none';
if (process.argv.includes('--plain')) rewrite.plain = true;
if (process.argv.includes('--keep-dead-locals')) rewrite.keepDeadLocals = true;
const unrollArg = process.argv.indexOf('--unroll');
if (unrollArg >= 0) rewrite.unroll = Number(process.argv[unrollArg + 1]);
const bytes = readFileSync(wasmPath);
const args = moduleArg >= 0
  ? [basename(wasmPath), ...(argsArg >= 0 ? process.argv[argsArg + 1].split(' ').filter((a) => a !== '') : [])]
  : ['coremark.wasm', ...coremarkArgs(iterations)];
/** Another program's output, as V8 first printed it; its score is runs per CPU second. */
let expected: string | undefined;

/** Iterations per CPU second of a run, once CoreMark's output says it validated. */
function score(run: (fd: number) => void): number {
  const before = process.cpuUsage();
  const output = withStdout(run);
  const used = process.cpuUsage(before);
  const seconds = (used.user + used.system) / 1e6;
  if (moduleArg >= 0) {
    expected ??= output;
    if (output !== expected) throw new Error(`the output differs from V8's:\n${output}`);
    return 1 / seconds;
  }
  const report = parseReport(output);
  if (!report.validated) throw new Error(`CoreMark did not validate (${report.problem}):\n${output}`);
  return iterations / seconds;
}

function withStdout(run: (fd: number) => void): string {
  const path = join(tmpdir(), `wasmig-coremark-${process.pid}.txt`);
  const fd = openSync(path, 'w+');
  try {
    run(fd);
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(path, 'utf8');
  rmSync(path);
  return text;
}

process.removeAllListeners('warning');
const { WASI } = await import('node:wasi');
const v8Module = new WebAssembly.Module(bytes);

function runV8(): number {
  return score((fd) => {
    const wasi = new WASI({ version: 'preview1', args, env: {}, stdout: fd, returnOnExit: true });
    const instance = new WebAssembly.Instance(v8Module, wasi.getImportObject() as WebAssembly.Imports);
    wasi.start(instance);
  });
}

const compiled = loadModule(bytes);
// Kept across runs, as a native engine keeps it for its programs: the rewrite and the resume clones are made once.
const rewrites = new RewriteCache();
/** On the native tier; with `sliceMs`, pausing (unwinding) that often and resuming natively, as `--snapshot-on-signal` does. */
function runNative(sliceMs?: number): number {
  return score((fd) => {
    const program = Program.instantiate(compiled, { args, stdout: fd });
    const tier = new NativeTier(program.store, { rewrite, pollInterval }, rewrites);
    tier.attach(program.instance);
    const ex = new NativeExecution(tier, program.export('_start').addr);
    let outcome = ex.run({ timeSliceMs: sliceMs });
    while (outcome.kind === 'paused' && sliceMs !== undefined) outcome = ex.run({ timeSliceMs: sliceMs });
    if (outcome.kind === 'paused') throw new Error('unexpected pause');
  });
}
const intervalArg = process.argv.indexOf('--poll-interval');
/** A fixed countdown between polls of the host (default: adapted to ~30 µs between polls). */
const pollInterval = intervalArg >= 0 ? Number(process.argv[intervalArg + 1]) : undefined;
const sliceArg = process.argv.indexOf('--slice-ms');
const sliceMs = sliceArg >= 0 ? Number(process.argv[sliceArg + 1]) : undefined;

const unit = moduleArg >= 0 ? 'runs/s' : 'it/s';
const digits = moduleArg >= 0 ? 3 : 0;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const v8: number[] = [];
const native: number[] = [];
const sliced: number[] = [];
// One warm-up each (V8 tiers up its code; the rewrite is cached per module).
runV8();
runNative();
if (sliceMs !== undefined) runNative(sliceMs);
for (let r = 0; r < rounds; r++) {
  v8.push(runV8());
  native.push(runNative());
  let line = `round ${r + 1}: V8 ${v8[r].toFixed(digits)} ${unit}, native tier ${native[r].toFixed(digits)} ${unit} (${(100 * native[r] / v8[r]).toFixed(1)}%)`;
  if (sliceMs !== undefined) {
    sliced.push(runNative(sliceMs));
    line += `, paused every ${sliceMs} ms ${sliced[r].toFixed(digits)} ${unit} (${(100 * sliced[r] / v8[r]).toFixed(1)}%)`;
  }
  console.log(line);
}
console.log(`median: V8 ${median(v8).toFixed(digits)} ${unit}, native tier ${median(native).toFixed(digits)} ${unit}: ${(100 * median(native) / median(v8)).toFixed(1)}% of V8 (${JSON.stringify(rewrite)})`);
if (sliceMs !== undefined) console.log(`median, paused and resumed every ${sliceMs} ms: ${median(sliced).toFixed(digits)} ${unit}: ${(100 * median(sliced) / median(v8)).toFixed(1)}% of V8`);
