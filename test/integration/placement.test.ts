/**
 * Placement end to end: `wasmig run --on any` and `--on site=plant-2` choose among agent
 * processes on the embedded broker, by label and by load, skip a full agent, and say
 * why in one line; a selector nobody matches is a one-line error. Each agent's load is
 * set through its heartbeat's load source (WASMIG_LOAD_FILE, test-only), not by CPU
 * hogs: on a shared 2-core machine a hog's effect on the numbers is a matter of timing.
 * Last, a job placed by label is drained only to agents with that label.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { resolve } from 'node:path';
import { repoRoot } from '../helpers/cli.ts';
import { agentProc, cli, embeddedBroker, stopAll } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-placement-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const DIR = ['--dir', `${ctl}::/ctl`];

/** An agent whose heartbeat reports `load` cores busy (of the machine's cores). */
const agentProcs = new Map<string, Proc>();

async function loadedAgent(url: string, name: string, load: number, args: string[]): Promise<void> {
  const file = join(work, `${name}.load`);
  writeFileSync(file, String(load));
  agentProcs.set(name, await agentProc(name, url, [...DIR, ...args], { WASMIG_LOAD_FILE: file }));
}

/** A ticker job held at a gate that never opens: it stays unfinished. */
function held(on: string, job: string): string[] {
  return ['run', '--on', on, '--detach', '--job', job, '--broker', broker.url, tickerPath, 'lines=10', 'work=10', `gate=/ctl/${job}`, 'at=1'];
}

async function agentJobs(url: string, agent: string): Promise<number | undefined> {
  const r = await cli(['ps', '--agents', '--json', '--broker', url]);
  const a = (JSON.parse(r.stdout) as { agent: string; load?: { jobs: number } }[]).find((x) => x.agent === agent);
  return a?.load?.jobs;
}

const placement = suite('placement');
let broker: BrokerProc;

placement.before(async () => {
  broker = await embeddedBroker();
  await Promise.all([
    loadedAgent(broker.url, 'p1', 0.9, ['--label', 'site=plant-1']),
    loadedAgent(broker.url, 'p2', 1.5, ['--label', 'site=plant-2']),
    loadedAgent(broker.url, 'p3', 0.1, ['--label', 'site=plant-2', '--label', 'arch=arm64']),
    loadedAgent(broker.url, 'p4', 0.6, ['--label', 'site=plant-2', '--max-jobs', '1']),
  ]);
});

placement.after(async () => {
  await stopAll();
});

placement('--on site=plant-2: the least loaded of the agents with that label, explained', async () => {
  const r = await cli(held('site=plant-2', 'by-label'));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'by-label\n');
  assert.match(r.stderr, /^wasmig: placed on p3: least loaded of 3 with site=plant-2 \(cpu 0\.10 of \d+ cores?, 0 jobs\)$/m);
  const ps = await cli(['ps', '--json', '--broker', broker.url]);
  assert.is((JSON.parse(ps.stdout) as { id: string; agent: string }[]).find((j) => j.id === 'by-label')?.agent, 'p3');
});

placement('--on any: the least loaded online agent, whatever its labels', async () => {
  writeFileSync(join(work, 'p3.load'), '1.9'); // p3 is busy now; p4 (0.6) is the least loaded
  await new Promise((resolve) => setTimeout(resolve, 2500)); // two heartbeats (1 s each) carry it
  const r = await cli(held('any', 'by-load'));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /^wasmig: placed on p4: least loaded of 4 online agents \(cpu 0\.60 /m);
});

placement('--max-jobs: a full agent is left out, and the line says so', async () => {
  // p4 holds by-load now: its heartbeat says 1 of 1 job.
  for (let i = 0; i < 50 && (await agentJobs(broker.url, 'p4')) !== 1; i++) await new Promise((resolve) => setTimeout(resolve, 200));
  assert.is(await agentJobs(broker.url, 'p4'), 1);
  const r = await cli(held('site=plant-2', 'not-p4'));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /^wasmig: placed on p2: least loaded of 2 with site=plant-2 \(cpu 1\.50 .*\); left out: 1 full$/m);
  const agents = await cli(['ps', '--agents', '--broker', broker.url]);
  assert.match(agents.stdout, /^p4 +yes .* 1\/1 .* site=plant-2$/m);
  // Named directly, the full agent refuses, in one line.
  const direct = await cli(held('p4', 'refused'));
  assert.is(direct.status, 1);
  assert.is(direct.stderr, 'wasmig: agent p4 did not start the job: agent p4 is full: 1 of at most 1 jobs (wasmig agent --max-jobs)\n');
  // Refused before the module is asked for: a module p4 does not have never travels.
  const hello = await cli(['run', '--on', 'p4', '--detach', '--broker', broker.url, resolve(repoRoot, 'test/programs/hello.wasm')]);
  assert.is(hello.status, 1);
  assert.match(hello.stderr, /agent p4 is full/);
  assert.is(agentProcs.get('p4')?.err.match(/cached module/g)?.length, 1, 'p4 cached the ticker only');
});

placement('no agent matches: a clear one-line error', async () => {
  const r = await cli(held('site=plant-9', 'nowhere'));
  assert.is(r.status, 1);
  assert.is(r.stderr, 'wasmig: no agent can take the job: none of the 4 online agents has site=plant-9\n');
  const bad = await cli(held('site=', 'bad'));
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /^wasmig: --on "site=": expected KEY=VALUE/);
});

placement('a job placed by label keeps to it when its agent drains, even where a less loaded agent lacks it', async () => {
  // by-label (site=plant-2) is on p3; p4 is full; p1 (0.9) is less loaded than p2 (1.5) but has site=plant-1.
  const r = await cli(['agent', 'drain', 'p3', '--broker', broker.url]);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^job by-label moved to p2 \(downtime [\d.]+ ms\)$/m);
  const ps = await cli(['ps', '--json', '--broker', broker.url]);
  const job = (JSON.parse(ps.stdout) as { id: string; agent: string; placement?: Record<string, string> }[]).find((j) => j.id === 'by-label');
  assert.equal([job?.agent, job?.placement], ['p2', { site: 'plant-2' }]);
});

placement.run();
