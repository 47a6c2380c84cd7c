// One cold process of tools/bench/warmup.ts: CoreMark on the interpreter of a built
// wasmig (DIST is a dist/ directory: this checkout's, or another build's, side by side).
//
//   node warmup-child.mjs DIST MODULE.wasm curve SECONDS WINDOW_S
//     prints one JSON line: { windows: [[instructions, wall ms, CPU ms, main thread's
//     CPU ms so far, other threads' CPU ms so far] per window], firstMs } (CPU: the whole
//     process's user + system time, V8's compiler threads included; the last two from
//     /proc, null elsewhere)
//   node warmup-child.mjs DIST MODULE.wasm count ITERATIONS
//     runs ITERATIONS CoreMark iterations to the end; prints { instructions }
//
// Plain JavaScript, so that the child starts as `wasmig run` does, without a TypeScript
// loader in the process. The curve run drives the program as `wasmig bench`'s child does
// (`Program.run`), in slices of about 2^20 instructions (WARMUP_BUDGET=N for others),
// given as `slice`, which ends at a block start rather than exactly, as a long run's own
// slices do: the exact loop stays idle, as it does in `wasmig run` and in an agent's job.
// Only the clock is read between them. WARMUP_JS_AFTER=N sets the interpreter's `jsAfter`
// (when it compiles a function to JavaScript), to compare thresholds.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, wasm, mode, ...rest] = process.argv.slice(2);
const { loadModuleFile, Program } = await import(pathToFileURL(join(dist, 'program', 'index.js')).href);
const coremarkArgs = (n) => ['0x0', '0x0', '0x66', String(n), '7', '1', '2000'];
const live = process.env.WARMUP_LIVE === '1';
const limits = process.env.WARMUP_JS_AFTER === undefined ? {} : { limits: { jsAfter: Number(process.env.WARMUP_JS_AFTER) } };

/**
 * CPU ms (user + system) of this process's threads from /proc (Linux; 10 ms ticks):
 * `main` is the JavaScript thread, `others` V8's compiler and GC threads and the rest,
 * so that the compiler's work is seen apart from the load of the machine. Undefined
 * where /proc is not.
 */
function threadCpu() {
  const ms = (stat) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime: fields 14 and 15
  };
  try {
    let others = 0;
    let main = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const v = ms(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
      if (Number(tid) === process.pid) main = v; else others += v;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}
const quiet = { stdout: () => {}, stderr: () => {} };

if (mode === 'count') {
  const program = Program.instantiate(loadModuleFile(wasm), { args: [basename(wasm), ...coremarkArgs(Number(rest[0]))], ...quiet });
  const execution = program.start('_start');
  for (;;) {
    const outcome = program.run({ budget: 1e9 });
    if (outcome.kind === 'exited' || outcome.kind === 'returned') break;
  }
  process.stdout.write(`${JSON.stringify({ instructions: execution.instructions })}\n`);
} else if (mode === 'curve') {
  const seconds = Number(rest[0]);
  const window = Number(rest[1]) * 1000;
  const budget = Number(process.env.WARMUP_BUDGET ?? 1 << 20);
  const started = performance.now();
  // Enough iterations never to finish within the run.
  const program = Program.instantiate(loadModuleFile(wasm), { args: [basename(wasm), ...coremarkArgs(1e9)], ...quiet, ...limits });
  program.start('_start');
  const t0 = performance.now();
  const windows = [];
  let mark = t0;
  let cpuMark = process.cpuUsage();
  let counted = 0;
  for (;;) {
    // `budget` for an older build (--dist), which knows no `slice`: it stops there, exactly.
    const outcome = program.run({ slice: budget, budget: 4 * budget });
    if (outcome.kind !== 'paused') throw new Error(`CoreMark ended early (${outcome.kind})`);
    const now = performance.now();
    if (now - mark >= window) {
      // Windows are cut at budget boundaries (a few ms apart): rates use each window's own length.
      const cpu = process.cpuUsage(cpuMark);
      const threads = threadCpu();
      windows.push([outcome.instructions - counted, now - mark, (cpu.user + cpu.system) / 1000, threads?.main ?? null, threads?.others ?? null]);
      cpuMark = process.cpuUsage();
      // With V8's tracing flags, a line per window puts the trace on the same time line.
      if (live) process.stdout.write(`window ${(now - t0).toFixed(0)} ms: ${((outcome.instructions - counted) / (now - mark) / 1e3).toFixed(1)} M instructions/s\n`);
      counted = outcome.instructions;
      mark = now;
      if (now - t0 >= seconds * 1000) break;
    }
  }
  process.stdout.write(`${JSON.stringify({ windows, firstMs: t0 - started })}\n`);
} else {
  process.stderr.write(`warmup-child: unknown mode ${JSON.stringify(mode)}\n`);
  process.exitCode = 2;
}
