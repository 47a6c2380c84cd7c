/**
 * Where `wasmig run --on AGENT` spends its time, step by step, against the same program
 * run on this thread: what `run --on` does, done here with a `FleetClient` (so that the
 * CLI's own process start is not in it), each step timed:
 * connect to the broker, `start` (the agent's status read, the start request, the
 * agent's worker loading and instantiating the module), then `follow` until the job's
 * end state and all its output are in, then close. Beside them, the agent's side from its log (`hop-clock.ts`, one clock on
 * this machine): the start request, the worker taking it, compiling, instantiating,
 * running, the program's end, and the end published.
 *
 * Beside them, `wasmig run` of the same program as a process (the built CLI, cold, as a
 * user runs it), from spawn to exit: the agent's start request to its end published is
 * the comparable span (the agent's worker is booted ahead, so it skips Node's start-up).
 *
 * `--program runaway`: instead of recursion.wasm, a `_start` that calls itself forever,
 * which ends with the call-stack exhaustion trap (status 134) both ways.
 *
 * Usage: npx tsx tools/bench/agent-job-steps.ts [--rounds 5] [--tier auto] [--program recursion|runaway]   (npm run build first: the agent runs the built CLI)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FleetClient } from '../../src/agent/index.ts';
import '../../src/native/index.ts';
import { loadModule, Program } from '../../src/program/index.ts';
import type { Tier } from '../../src/runtime/index.ts';
import { repoRoot } from '../../test/helpers/cli.ts';
import { agentProc, embeddedBroker, stopAll } from '../../test/helpers/fleet.ts';
import { runawayModule } from '../../test/helpers/runaway.ts';
import { median } from './stats.ts';

process.env.WASMIG_BUILT = '1';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const rounds = Number(arg('--rounds', '5'));
const tier = arg('--tier', 'auto') as Tier;
const runaway = arg('--program', 'recursion') === 'runaway';
const path = runaway ? join(mkdtempSync(join(tmpdir(), 'wasmig-steps-')), 'runaway.wasm') : resolve(repoRoot, 'test/programs/recursion.wasm');
if (runaway) writeFileSync(path, runawayModule());
const module = readFileSync(path);
const name = runaway ? 'runaway.wasm' : 'recursion.wasm';
/** The status and the agent's end line both ways. */
const wantStatus = runaway ? 134 : 0;


/** `wasmig run` of the program as a process, spawn to exit (ms). */
function cliRun(): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [resolve(repoRoot, 'bin/wasmig.js'), 'run', '--tier', tier, path], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== wantStatus) throw new Error(`wasmig run exited ${r.status}: ${r.stderr}`);
  return performance.now() - t0;
}

function here(): number {
  const t0 = performance.now();
  const program = Program.instantiate(loadModule(module), { args: ['p'], tier, stdout: () => {}, stderr: () => {} });
  try {
    let o = program.run();
    while (o.kind === 'paused') o = program.run();
  } catch (error) {
    if (!runaway) throw error;
  }
  return performance.now() - t0;
}

const steps: Record<string, number[]> = { 'wasmig run (a process)': [], 'Program.run here': [], connect: [], start: [], 'follow to the end': [], close: [], 'run --on in all': [] };
const agentSide: Record<string, number[]> = {};
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
try {
  const broker = await embeddedBroker();
  const agent = await agentProc('steps', broker.url, ['--tier', tier]);
  for (let r = 0; r <= rounds; r++) {
    const cli = cliRun();
    const local = here();
    await new Promise((w) => setTimeout(w, 1000)); // the agent's spare worker boots
    const t0 = performance.now();
    const client = await FleetClient.connect({ connection: { url: broker.url } });
    const t1 = performance.now();
    const started = await client.start({ agent: 'steps', module, program: name, args: [name], tier });
    const t2 = performance.now();
    const end = await client.follow(started.job, { onOutput: () => {} });
    const t3 = performance.now();
    await client.close();
    const t4 = performance.now();
    if (end.status !== wantStatus) throw new Error(`the job ended ${end.state} (${end.status}): ${end.error ?? ''}`);
    const line = await agent.waitFor(new RegExp(`job ${escape(started.job)} (?:exited with status 0|failed: .*) \\(ms after its start request: ([^)]*)\\)`), 'err');
    if (r === 0) continue; // the module's upload, and caches
    for (const part of line[1].split(', ')) {
      const m = /^(.*) \+([\d.]+)$/.exec(part);
      if (m) (agentSide[m[1]] ??= []).push(Number(m[2]));
    }
    steps['wasmig run (a process)'].push(cli);
    steps['Program.run here'].push(local);
    steps.connect.push(t1 - t0);
    steps.start.push(t2 - t1);
    steps['follow to the end'].push(t3 - t2);
    steps.close.push(t4 - t3);
    steps['run --on in all'].push(t4 - t0);
  }
} finally {
  await stopAll();
}
console.log(`\n${name}, tier ${tier}, ${rounds} rounds: ms, median (min-max)\n`);
console.log('| step | ms |');
console.log('|---|---:|');
for (const [name, xs] of Object.entries(steps)) console.log(`| ${name} | ${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}) |`);
console.log('\nthe agent\'s side: ms after the start request came, median (min-max)\n');
console.log('| step | ms |');
console.log('|---|---:|');
for (const [name, xs] of Object.entries(agentSide)) console.log(`| ${name} | ${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}) |`);
const published = agentSide['end published'];
if (published) {
  const ratios = published.map((x, i) => x / steps['wasmig run (a process)'][i]);
  console.log(`\nthe job (start request to end published) against wasmig run (spawn to exit), round by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}`);
}
