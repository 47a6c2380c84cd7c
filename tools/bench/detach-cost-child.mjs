// One process of tools/bench/detach-cost.ts: CoreMark on the interpreter of a built
// wasmig, warm, in one of three starts; prints { rate, detached } as one JSON line.
//
//   node detach-cost-child.mjs DIST MODULE.wasm fresh|grown|resumed|detached|job|checkpointed WARM_S MEASURE_S
//
// fresh:    instantiated and run;
// grown:    its memory grown by one page before it runs, as a program that allocates
//           grows its own (CoreMark does not: its memory is static);
// resumed:  grown, run for 2^20 instructions, snapshotted and resumed from the snapshot
//           in this process (the restore grows a fresh memory: a migrated job's start);
// detached: as fresh, after one ArrayBuffer of the process was detached (what a grow of
//           a non-shared memory, or a buffer moved by postMessage, does).
// job:      as an agent's job, in a job thread of its own (the built JobRunner), started
//           fresh;
// checkpointed: a job that answered a full checkpoint after WARM_S (the checkpoint's
//           snapshot and memory go to the main thread in the answer), measured after it.
// rate: Wasm instructions per CPU second of the process over MEASURE_S, after WARM_S.
// detached: whether V8 reported its array buffer detaching protector invalidated
// (the parent runs this with --trace-protector-invalidation and reads the line).
// Plain JavaScript on a built dist/: a TypeScript loader in the process detaches buffers
// of its own.
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, wasm, start, warmS, measureS] = process.argv.slice(2);
const { loadModuleFile, Program } = await import(pathToFileURL(join(dist, 'program', 'index.js')).href);
const args = [basename(wasm), '0x0', '0x0', '0x66', '1000000000', '7', '1', '2000'];
if (start === 'job' || start === 'checkpointed') {
  await inJobThread();
  process.exit(0);
}
const quiet = { stdout: () => {}, stderr: () => {} };
const compiled = loadModuleFile(wasm);
if (start === 'detached') {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
}
let program = Program.instantiate(compiled, { args, ...quiet });
program.start('_start');
if (start === 'grown' || start === 'resumed') program.store.state.memories[0].memory.grow(1);
if (start === 'resumed') {
  program.run({ budget: 1 << 20 });
  program = Program.resume(program.snapshot(), { module: compiled, ...quiet });
}
const budget = 1 << 23;
const spin = (ms) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const outcome = program.run({ budget });
    if (outcome.kind !== 'paused') throw new Error(`CoreMark ended (${outcome.kind})`);
  }
};
spin(Number(warmS) * 1000);
const execution = program.execution;
const before = execution.instructions;
const cpu = process.cpuUsage();
spin(Number(measureS) * 1000);
const used = process.cpuUsage(cpu);
process.stdout.write(`${JSON.stringify({ rate: (execution.instructions - before) / ((used.user + used.system) / 1e6) })}\n`);

/** The job starts: CoreMark runs in a job thread, its instruction counts asked for by `pause`. */
async function inJobThread() {
  const { readFileSync } = await import('node:fs');
  const { JobRunner } = await import(pathToFileURL(join(dist, 'agent', 'job-runner.js')).href);
  const runner = new JobRunner({ output: () => {}, end: (report) => { throw new Error(`CoreMark ended (${report.kind})`); } });
  await runner.ready;
  const setup = { module: new Uint8Array(readFileSync(wasm)), name: basename(wasm), preopens: [], tier: 'interp' };
  await runner.request({ op: 'start', setup, args, env: {} });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  await runner.request({ op: 'run' });
  await sleep(Number(warmS) * 1000);
  if (start === 'checkpointed') {
    await runner.request({ op: 'checkpoint', full: true });
    await runner.request({ op: 'go-on' });
  }
  const before = (await runner.request({ op: 'pause' })).instructions;
  const cpu = process.cpuUsage();
  await runner.request({ op: 'run' });
  await sleep(Number(measureS) * 1000);
  const after = (await runner.request({ op: 'pause' })).instructions;
  const used = process.cpuUsage(cpu);
  process.stdout.write(`${JSON.stringify({ rate: (after - before) / ((used.user + used.system) / 1e6) })}\n`);
}
