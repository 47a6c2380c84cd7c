/**
 * A program as an agent's job against the same program run directly, side by side in
 * one run (rounds alternate), two ways:
 * - in this process: a `Job` (its own worker thread, what an agent runs) from start to
 *   end, against `Program.run` on this thread, module compiled in both;
 * - end to end: `wasmig run --on AGENT` against `wasmig run`, wall time from the
 *   command's start to its exit (the first pays for its MQTT client too).
 * The programs:
 * - test/programs/recursion.wasm (100,000 nested calls): jobs run unsliced in a worker
 *   thread, so a deep stack costs a job what it costs `wasmig run`;
 * - a runaway recursion, which must fail with the exhaustion trap as fast as on the CLI.
 * The agent and broker (embedded) run before the timing starts; `run --on` pays for its
 * own MQTT connection and the module's upload by hash (cached after the first round).
 *
 * Usage: npx tsx tools/bench/agent-job.ts [--rounds 5] [--tier auto]   (uses the built CLI: npm run build)
 * The in-process jobs' workers run wasmig's sources through tsx, booted ahead (a pool),
 * so their start-up is not counted; the agent's run the built files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { repoRoot } from '../../test/helpers/cli.ts';
import { agentProc, embeddedBroker, stopAll } from '../../test/helpers/fleet.ts';
import { runawayModule } from '../../test/helpers/runaway.ts';
import { readFileSync } from 'node:fs';
import { Job } from '../../src/agent/job.ts';
import { JobRunnerPool } from '../../src/agent/job-runner.ts';
import { OutputLog } from '../../src/agent/output-log.ts';
import '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { median } from './stats.ts';

// Agents and brokers from the built CLI (npm run build), as users run them.
process.env.WASMIG_BUILT = '1';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg('--rounds', '5'));
const tier = arg('--tier', 'auto');
const cli = resolve(repoRoot, 'bin/wasmig.js');
const work = mkdtempSync(join(tmpdir(), 'wasmig-bench-agent-job-'));

const runaway = join(work, 'runaway.wasm');
writeFileSync(runaway, runawayModule());
const programs = [
  { name: 'recursion.wasm (100,000 deep)', path: resolve(repoRoot, 'test/programs/recursion.wasm'), status: 0 },
  { name: 'runaway recursion (exhaustion trap)', path: runaway, status: 134 },
];

function timed(args: string[], env: NodeJS.ProcessEnv): { ms: number; status: number; err: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000 });
  return { ms: performance.now() - t0, status: r.status ?? -1, err: r.stderr };
}

// Workers booted ahead, as an agent's are.
const pool = new JobRunnerPool();

async function inWorker(path: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 2000)); // the spare boots meanwhile
  const t0 = performance.now();
  let ended!: () => void;
  const done = new Promise<void>((r) => { ended = r; });
  const job = new Job({ id: 'j', spec: { program: 'p' } as never, epoch: 1, log: new OutputLog(), hooks: { output: () => {}, end: () => ended() }, pool });
  await job.start({ module: readFileSync(path), name: 'p', preopens: [], tier: tier as Tier }, ['p'], {});
  job.run();
  await done;
  return performance.now() - t0;
}

function onThisThread(path: string): number {
  const t0 = performance.now();
  const program = Program.instantiate(loadModule(readFileSync(path)), { args: ['p'], tier: tier as Tier, stdout: () => {}, stderr: () => {} });
  try {
    let o = program.run();
    while (o.kind === 'paused') o = program.run();
  } catch {
    // The runaway recursion's trap.
  }
  return performance.now() - t0;
}

console.log(`\n${rounds} rounds, tier ${tier}, in this process: ms from instantiation to the end; median (min-max)\n`);
console.log('| program | Program.run here | Job (worker thread) | job / run |');
console.log('|---|---:|---:|---:|');
for (const p of programs) {
  const here: number[] = [];
  const job: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const a = onThisThread(p.path);
    const j = await inWorker(p.path);
    if (r === 0) continue;
    here.push(a);
    job.push(j);
  }
  const span = (xs: number[]): string => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  console.log(`| ${p.name} | ${span(here)} | ${span(job)} | ${(median(job) / median(here)).toFixed(2)} |`);
}

pool.close();

try {
  const broker = await embeddedBroker();
  await agentProc('bench', broker.url, ['--tier', tier]);
  await new Promise((r) => setTimeout(r, 1000)); // its spare worker boots
  const env = { WASMIG_BROKER: broker.url };
  console.log(`\n${rounds} rounds, tier ${tier}: wall time (ms) from the command's start to its exit; median (min-max)\n`);
  console.log('| program | wasmig run | wasmig run --on AGENT | job / run |');
  console.log('|---|---:|---:|---:|');
  for (const p of programs) {
    const local: number[] = [];
    const remote: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      const a = timed(['run', '--tier', tier, p.path], env);
      const j = timed(['run', '--on', 'bench', p.path], env);
      if (a.status !== p.status || j.status !== p.status) throw new Error(`${p.name}: exit ${a.status} / ${j.status}\n${a.err.slice(-500)}\n${j.err.slice(-500)}`);
      if (r === 0) continue; // the first round uploads the module and warms the caches
      local.push(a.ms);
      remote.push(j.ms);
    }
    const span = (xs: number[]): string => `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
    console.log(`| ${p.name} | ${span(local)} | ${span(remote)} | ${(median(remote) / median(local)).toFixed(2)} |`);
  }
} finally {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
}
