/**
 * Draining, end to end: agent processes on the embedded broker, jobs running the ticker
 * program held at their gate files (so no step depends on timing), followed by
 * `run --on` clients.
 *
 * - `kill -TERM` of an agent with three running jobs: each moves to another agent (the
 *   least loaded, so they spread over both), the agent exits 0 within its drain timeout,
 *   and every follower prints exactly what a run that never moved prints.
 * - `wasmig agent drain NAME` of an agent whose job needs a directory no other agent
 *   has: the job cannot move, is reported by name, and ends with the agent (its
 *   follower is told so); the command says so and exits 1.
 * - a replicated job whose only other agent is full: left to its standby, which takes
 *   it over and finishes it, the output exact.
 * - a second SIGTERM while a move hangs: the agent stops at once and names the job.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { agentProc, cli, embeddedBroker, stopAll, wasmigProc } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-drain-'));
const ctl = join(work, 'ctl');
const privateDir = join(work, 'private');
mkdirSync(ctl);
mkdirSync(privateDir);
const DIR = ['--dir', `${ctl}::/ctl`];

function jobArgs(job: string): string[] {
  return ['lines=40', 'work=3000', `gate=/ctl/${job}`, 'at=30', 'status=7'];
}

function notes(stderr: string): string {
  return stderr.split('\n').filter((l) => l.startsWith('note ')).join('\n');
}

async function follow(url: string, job: string, agent: string): Promise<Proc> {
  const client = wasmigProc(['run', '--on', agent, '--job', job, '--broker', url, tickerPath, ...jobArgs(job)], { label: `client ${job}` });
  await client.waitFor(/waiting for \/ctl\//, 'out', 60_000);
  return client;
}

async function psJobs(url: string): Promise<{ id: string; agent: string; state: string }[]> {
  const r = await cli(['ps', '--json', '--broker', url]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { id: string; agent: string; state: string }[];
}

const drain = suite('drain');
let broker: BrokerProc;

drain.before(async () => {
  broker = await embeddedBroker();
});

drain.after(async () => {
  await stopAll();
});

drain('kill -TERM of an agent with 3 running jobs: all 3 finish on other agents, output identical', async () => {
  const [a, b, c] = await Promise.all([
    agentProc('a', broker.url, [...DIR, '--drain-timeout', '60']), agentProc('b', broker.url, DIR), agentProc('c', broker.url, DIR),
  ]);
  const jobs = ['d1', 'd2', 'd3'];
  const clients = await Promise.all(jobs.map((job) => follow(broker.url, job, 'a')));
  const started = Date.now();
  a.child.kill('SIGTERM');
  assert.is(await a.exited, 0, a.err.slice(-3000));
  const took = Date.now() - started;
  assert.ok(took < 60_000, `the drain took ${took} ms, more than its 60 s`);
  assert.match(a.err, /draining \(SIGTERM\): moving 3 job\(s\) to other agents within 60 s/);
  assert.match(a.err, /drained in [\d.]+ s: 3 of 3 job\(s\) moved\n/);
  const listed = (await psJobs(broker.url)).filter((j) => jobs.includes(j.id));
  assert.is(listed.length, 3);
  for (const j of listed) {
    assert.is(j.state, 'running', `${j.id} runs`);
    assert.ok(j.agent === 'b' || j.agent === 'c', `${j.id} is on ${j.agent}`);
  }
  assert.is(new Set(listed.map((j) => j.agent)).size, 2, 'the least loaded target each time: the jobs spread over b and c');
  const ps = await cli(['ps', '--broker', broker.url]);
  assert.match(ps.stdout, /drain of agent a \(SIGTERM\)/, 'ps shows why the jobs moved');
  for (const job of jobs) writeFileSync(join(ctl, job), '');
  const expected = tickerOutput(jobArgs('d1'));
  for (const [i, client] of clients.entries()) {
    const mine = tickerOutput(jobArgs(jobs[i]));
    assert.is(await client.exited, 7, client.err);
    assert.is(client.out, mine.stdout, `${jobs[i]}'s output`);
    assert.is(notes(client.err), notes(mine.stderr));
    assert.match(client.err, new RegExp(`job ${jobs[i]} moved to agent [bc]`));
  }
  assert.ok(expected.stdout.includes('done '), 'the reference run ended');
  await Promise.all([b.stop(), c.stop()]);
});

drain('wasmig agent drain: a job no other agent can take is reported by name and ends with the agent', async () => {
  const [e, f] = await Promise.all([
    agentProc('e', broker.url, [...DIR, '--dir', `${privateDir}::/private`]), agentProc('f', broker.url, DIR),
  ]);
  const job = 'stuck';
  const client = wasmigProc(['run', '--on', 'e', '--job', job, '--broker', broker.url, tickerPath, ...jobArgs(job)], { label: 'client stuck' });
  await client.waitFor(/waiting for \/ctl\//, 'out', 60_000);
  const r = await cli(['agent', 'drain', 'e', '--drain-timeout', '20', '--broker', broker.url]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stdout, /job stuck could not move \(no agent can take the job: of 1 agent, 1 without the job's directories\); it ends with agent e/);
  assert.match(r.stdout, /drained in [\d.]+ s: 0 of 1 job\(s\) moved, 1 left to end here/);
  assert.is(await e.exited, 0, e.err.slice(-2000));
  assert.is(await client.exited, 1, client.err);
  assert.match(client.err, /job stuck failed on agent e: agent e stopped/);
  await f.stop();
});

drain('a replicated job that cannot move is left to its standby, which finishes it with the output exact', async () => {
  // r2 holds the standby but is full (--max-jobs 1, taken by a filler job): a standby
  // copy is not a job, so it enlists, but it refuses the job by migration.
  const [r1, r2] = await Promise.all([
    agentProc('r1', broker.url, [...DIR, '--takeover-after', '1']), agentProc('r2', broker.url, [...DIR, '--takeover-after', '1', '--max-jobs', '1']),
  ]);
  const filler = await follow(broker.url, 'filler', 'r2');
  const job = 'kept';
  const client = wasmigProc(['run', '--on', 'r1', '--job', job, '--replicas', '1', '--broker', broker.url, tickerPath, ...jobArgs(job)], { label: 'client kept' });
  await client.waitFor(/waiting for \/ctl\//, 'out', 60_000);
  // The drain starts once the standby holds a checkpoint.
  for (let i = 0; i < 300; i++) {
    const ps = await psJobs(broker.url) as { id: string; standbys?: string[]; checkpoint?: { number: number } }[];
    const j = ps.find((x) => x.id === job);
    if (j?.standbys?.includes('r2') && (j.checkpoint?.number ?? 0) >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  r1.child.kill('SIGTERM');
  assert.is(await r1.exited, 0, r1.err.slice(-2000));
  assert.match(r1.err, /job kept could not move \(no agent can take the job: of 1 agent, 1 full\); its standby r2 takes it over once r1 is gone/);
  assert.match(r1.err, /job kept is left to its standbys/);
  await r2.waitFor(new RegExp(`job ${job}: taking it over from r1`), 'err', 60_000);
  writeFileSync(join(ctl, job), '');
  const expected = tickerOutput(jobArgs(job));
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, expected.stdout);
  assert.is(notes(client.err), notes(expected.stderr));
  writeFileSync(join(ctl, 'filler'), '');
  assert.is(await filler.exited, 7, filler.err);
  await r2.stop();
});

drain('a second SIGTERM during the drain stops at once and says what it left', async () => {
  // The target freezes (SIGSTOP) once it opened the job's worker, before it answers
  // prepare: the move hangs there, as a slow target would, until the test lets it go.
  const [g, h] = await Promise.all([
    agentProc('g', broker.url, [...DIR, '--drain-timeout', '60']), agentProc('h', broker.url, DIR, { WASMIG_CRASH_AT: 'target:prepare:1:stop' }),
  ]);
  const job = 'interrupted';
  const client = await follow(broker.url, job, 'g');
  g.child.kill('SIGTERM');
  await h.waitFor(/crash-point reached/, 'err');
  const second = Date.now();
  g.child.kill('SIGTERM');
  assert.is(await g.exited, 0, g.err.slice(-2000));
  assert.ok(Date.now() - second < 15_000, `stopped ${Date.now() - second} ms after the second SIGTERM`);
  assert.match(g.err, /SIGTERM again: stopping at once/);
  assert.match(g.err, /job interrupted could not move \(stopped at once while moving to h\); it ends with agent g/);
  assert.is(await client.exited, 1, client.err);
  assert.match(client.err, /job interrupted failed on agent g: agent g stopped/);
  h.child.kill('SIGCONT');
  await h.stop();
});

drain.run();
