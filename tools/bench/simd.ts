/**
 * SIMD kernels (`simd-kernels.c`: a float dot product, a 3x3 box blur of a byte image,
 * 4x4 matrix products over an array of matrices, all v128 code) on wasmig's interpreter
 * and native tier against V8 running the module itself.
 *
 * Warm: one process, the three engines taking turns kernel by kernel in each round (so
 * that all see the same machine); each measurement is the CPU time of `kernel(reps)`,
 * `reps` calibrated per engine to at least `--target-ms`, after a warm-up. Reported:
 * each engine's median repetitions per CPU second with the spread of the rounds (min and
 * max against the median), and its ratio to V8: of the medians, and the range of the
 * per-round ratios.
 *
 * Cold: a fresh child process per measurement, so that nothing is compiled or cached
 * yet (V8 would otherwise reuse the module compiled for identical bytes): the wall time
 * (and the CPU time) from the module's bytes in memory to the result of `setup` then `kernel(1)`, which
 * includes decoding and validating (interp), rewriting and V8's compile (native), or
 * V8's compile (v8), and the first run on cold code.
 *
 * Every engine's checksums are compared before anything is timed.
 *
 * Usage: npx tsx tools/bench/simd.ts [--rounds R] [--target-ms T] [--cold N] [--kernels dot,blur,matmul]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModule, Program } from '../../src/program/index.ts';
import { cpuMs, median } from './stats.ts';

const ENGINES = ['interp', 'native', 'v8'] as const;
type EngineName = (typeof ENGINES)[number];
const KERNELS = ['dot', 'blur', 'matmul'] as const;
type Kernel = (typeof KERNELS)[number];

const here = fileURLToPath(new URL('.', import.meta.url));
const wasmPath = `${here}simd-kernels.wasm`;
const SEED = 7;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Calls the module's exports on one engine. */
interface Runner {
  call(name: string, args: number[]): number;
}

function makeRunner(engine: EngineName, bytes: Uint8Array): Runner {
  if (engine === 'v8') {
    const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports as Record<string, (...a: number[]) => number>;
    return { call: (name, args) => ex[name](...args) ?? 0 };
  }
  const program = Program.instantiate(loadModule(bytes), { tier: engine });
  return {
    call(name, args) {
      program.start(name, args);
      for (;;) {
        const o = program.run();
        if (o.kind === 'returned') return (o.results[0] as number | undefined) ?? 0;
        if (o.kind !== 'paused') throw new Error(`${engine} ${name}: ${o.kind}`);
      }
    },
  };
}

function spread(xs: number[]): string {
  const m = median(xs);
  return `${(((Math.min(...xs) - m) / m) * 100).toFixed(0)}%/+${(((Math.max(...xs) - m) / m) * 100).toFixed(0)}%`;
}

/** The child: one cold measurement, printed as JSON. */
function child(engine: EngineName, kernel: Kernel): void {
  const bytes = readFileSync(wasmPath);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const runner = makeRunner(engine, bytes);
  runner.call('setup', [SEED]);
  const result = runner.call(kernel, [1]) >>> 0;
  const used = process.cpuUsage(cpu);
  process.stdout.write(JSON.stringify({ ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, result }));
}

function main(): void {
  const rounds = Number(arg('--rounds', '7'));
  const targetMs = Number(arg('--target-ms', '40'));
  const coldRuns = Number(arg('--cold', '5'));
  const kernels = arg('--kernels', KERNELS.join(',')).split(',') as Kernel[];
  const bytes = readFileSync(wasmPath);
  const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`SIMD kernels (${wasmPath.replace(`${here}`, 'tools/bench/')}), ${rounds} warm rounds, ${coldRuns} cold runs; load average ${load()}`);

  const runners = Object.fromEntries(ENGINES.map((e) => [e, makeRunner(e, bytes)])) as Record<EngineName, Runner>;
  for (const kernel of kernels) {
    // The same checksums everywhere, or nothing is measured.
    const sums = ENGINES.map((e) => {
      runners[e].call('setup', [SEED]);
      return runners[e].call(kernel, [3]) >>> 0;
    });
    if (new Set(sums).size !== 1) throw new Error(`${kernel}: the engines disagree: ${ENGINES.map((e, i) => `${e} ${sums[i].toString(16)}`).join(', ')}`);

    // Calibrate: repetitions per engine for at least targetMs of CPU (warming up as it goes).
    const reps = {} as Record<EngineName, number>;
    for (const e of ENGINES) {
      let n = 1;
      while (cpuMs(() => runners[e].call(kernel, [n])) < targetMs && n < 1 << 24) n *= 2;
      reps[e] = n;
    }
    const scores = Object.fromEntries(ENGINES.map((e) => [e, [] as number[]])) as Record<EngineName, number[]>;
    for (let r = 0; r < rounds; r++) {
      for (const e of ENGINES) {
        const ms = cpuMs(() => runners[e].call(kernel, [reps[e]]));
        scores[e].push(reps[e] / (ms / 1000));
      }
    }

    const cold = {} as Record<EngineName, number[]>;
    const coldCpu = {} as Record<EngineName, number[]>;
    for (const e of ENGINES) {
      cold[e] = [];
      coldCpu[e] = [];
      for (let i = 0; i < coldRuns; i++) {
        const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', e, kernel], { encoding: 'utf8' });
        const m = JSON.parse(out) as { ms: number; cpuMs: number; result: number };
        cold[e].push(m.ms);
        coldCpu[e].push(m.cpuMs);
      }
    }

    console.log(`\n${kernel} (checksum ${sums[0].toString(16)}), load ${load()}`);
    console.log('engine   warm reps/s (spread)        of V8: medians  per round          cold: wall ms, median (range); CPU ms');
    const v8 = median(scores.v8);
    for (const e of ENGINES) {
      const s = scores[e];
      const perRound = s.map((x, i) => x / scores.v8[i]);
      const ratio = median(s) / v8;
      const fmt = (x: number): string => (x >= 0.01 ? `${(x * 100).toFixed(1)}%` : `1/${Math.round(1 / x)}`);
      console.log(`${e.padEnd(8)} ${median(s).toFixed(1).padStart(10)} (${spread(s).padEnd(10)})   ${fmt(ratio).padStart(8)}   ${fmt(Math.min(...perRound))}..${fmt(Math.max(...perRound))}`.padEnd(78)
        + `${median(cold[e]).toFixed(1).padStart(7)} (${Math.min(...cold[e]).toFixed(1)}..${Math.max(...cold[e]).toFixed(1)}); ${median(coldCpu[e]).toFixed(1)}`);
    }
  }
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) child(process.argv[childAt + 1] as EngineName, process.argv[childAt + 2] as Kernel);
else main();
