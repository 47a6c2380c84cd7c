/**
 * Pause latency of the native tier: from a pause request to a complete captured state,
 * with percentiles. A worker thread plays the requester (an agent's MQTT client, a
 * timer): at random moments it notes the time and sets the tier's pause signal
 * (`Atomics.store`). The program, running natively on the main thread, unwinds at its
 * next safepoint; the state is captured once every frame is canonical and loaded into
 * the interpreter's thread (what a snapshot reads; memory is shared, never copied)
 * and, separately, once `Program.captureState()` has copied the whole machine. Then the
 * program resumes natively (resume clones) until the next request.
 *
 * Workloads: CoreMark, and a memory-bound loop (a 64 MiB buffer walked with a cache-line
 * stride, read-modify-write).
 *
 * Usage: npx tsx tools/bench/native-pause.ts [--pauses N] [--workload coremark|memory|both]
 * (N measured pauses, after 100 that warm up.) Wall-clock latencies include whatever
 * the OS scheduler does to this thread; the control line shows how much that is here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { nativeTierOf } from '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import { ValType } from '../../src/wasm/types.ts';
import { ModuleBuilder, s32 } from '../../test/helpers/module-builder.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const pauses = Number(arg('--pauses', '300'));
const workload = arg('--workload', 'both');

/** run(rounds): walks 64 MiB with a 64-byte stride, `rounds` times: sum += m[i]; m[i] = sum. */
function memoryLoop(): Uint8Array {
  const b = new ModuleBuilder();
  const { i32 } = ValType;
  const t = b.type([i32], [i32]);
  b.memory(1024, 1024);
  const SIZE = 64 * 1024 * 1024;
  // locals: 0 rounds (param), 1 i, 2 sum, 3 r
  const run = b.func(t, [
    0x03, 0x40, //                                          loop $outer
    0x41, 0, 0x21, 1, //                                      i = 0
    0x03, 0x40, //                                            loop $inner
    0x20, 1, 0x20, 1, 0x28, 2, 0, 0x20, 2, 0x6a, 0x22, 2, 0x36, 2, 0, // m[i] = sum += m[i]
    0x20, 1, 0x41, 0xc0, 0x00, 0x6a, 0x22, 1, //                i += 64
    0x41, ...s32(SIZE), 0x49, 0x0d, 0, //                       br_if $inner (i < SIZE)
    0x0b,
    0x20, 3, 0x41, 1, 0x6a, 0x22, 3, 0x20, 0, 0x49, 0x0d, 0, // br_if $outer (++r < rounds)
    0x0b,
    0x20, 2, 0x0b,
  ], [i32, i32, i32]);
  b.export('run', 'func', run);
  b.export('memory', 'memory', 0);
  return b.build();
}

/** The requester: at random intervals, note the time and set the pause signal; stop when told. */
const WORKER = `
const { workerData } = require('node:worker_threads');
const signal = new Int32Array(workerData.signal);
const control = new Int32Array(workerData.control);
const times = new Float64Array(workerData.times);
// control[0]: stop; control[1]: the generation the main thread runs (it bumps it each time it resumes).
let served = 0;
function next() {
  if (Atomics.load(control, 0) !== 0) return;
  const running = Atomics.load(control, 1);
  if (running === served) { setTimeout(next, 1); return; }
  setTimeout(() => {
    served = running;
    times[0] = performance.timeOrigin + performance.now();
    Atomics.store(signal, 0, 1);
    next();
  }, 2 + Math.random() * 8);
}
next();
`;

interface Series { name: string; values: number[] }

function percentiles(s: Series): string {
  const v = [...s.values].sort((a, b) => a - b);
  const at = (q: number): number => v[Math.min(v.length - 1, Math.floor(q * v.length))];
  return `${s.name}: n=${v.length}  p50 ${at(0.5).toFixed(3)} ms  p90 ${at(0.9).toFixed(3)} ms  p99 ${at(0.99).toFixed(3)} ms  max ${v[v.length - 1].toFixed(3)} ms`;
}

async function measure(name: string, program: Program): Promise<void> {
  const tier = nativeTierOf(program);
  const control = new Int32Array(new SharedArrayBuffer(8));
  const times = new Float64Array(new SharedArrayBuffer(8));
  const worker = new Worker(WORKER, { eval: true, workerData: { signal: tier.pauseSignal.buffer, control: control.buffer, times: times.buffer } });
  const unwound: Series = { name: `${name}, request -> frames captured`, values: [] };
  const captured: Series = { name: `${name}, request -> captureState() done`, values: [] };
  const depths: number[] = [];
  Atomics.store(control, 1, 1);
  let outcome = program.run();
  // The first pauses warm up: resume clones compile on first use, V8 optimizes what is hot.
  let warmup = Math.min(100, pauses);
  while (outcome.kind === 'paused' && unwound.values.length < pauses) {
    const paused = performance.timeOrigin + performance.now();
    const state = program.captureState();
    const done = performance.timeOrigin + performance.now();
    if (warmup > 0) warmup--;
    else {
      unwound.values.push(paused - times[0]);
      captured.values.push(done - times[0]);
      depths.push(state.frames.length);
    }
    // Let the worker's timer run (it waits for the signal to clear), then carry on natively.
    await new Promise((r) => setImmediate(r));
    Atomics.add(control, 1, 1);
    outcome = program.run();
  }
  Atomics.store(control, 0, 1);
  await worker.terminate();
  if (unwound.values.length < pauses) console.log(`${name}: ended after ${unwound.values.length} pauses (${outcome.kind})`);
  console.log(percentiles(unwound));
  console.log(percentiles(captured));
  console.log(`${name}: frames per pause ${Math.min(...depths)}..${Math.max(...depths)}`);
}

/**
 * The control: the gaps a plain JS loop sees in its own progress over a while, the
 * scheduler's doing on a shared machine; they bound what any wall-clock latency here can show.
 */
function schedulerGaps(ms: number): void {
  let last = performance.now();
  const end = last + ms;
  const gaps: number[] = [];
  for (let now = last; now < end; now = performance.now()) {
    if (now - last > 0.05) gaps.push(now - last);
    last = now;
  }
  gaps.sort((a, b) => a - b);
  console.log(`control: a JS loop stalled ${gaps.length} times over 0.05 ms in ${ms} ms; worst ${gaps.slice(-3).map((g) => g.toFixed(2)).join(', ')} ms`);
}
schedulerGaps(2000);

if (workload === 'coremark' || workload === 'both') {
  const compiled = loadModule(readFileSync(join(root, 'coremark', 'coremark.wasm')));
  const program = Program.instantiate(compiled, { args: ['coremark.wasm', '0', '0', '0x66', '100000000'], stdout: 2, tier: 'native' });
  program.start();
  await measure('CoreMark', program);
}
if (workload === 'memory' || workload === 'both') {
  const program = Program.instantiate(loadModule(memoryLoop()), { tier: 'native' });
  program.start('run', [1_000_000]);
  await measure('memory-bound loop (64 MiB)', program);
}
