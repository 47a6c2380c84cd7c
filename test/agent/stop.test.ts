/**
 * Stopping a job (`FleetClient.stop`, the dashboard's Stop button): the agent that holds
 * it ends it at once, as a program killed by SIGTERM (failed, status 143, saying who
 * stopped it), and publishes that end; its output up to then stays. A job that ended, or
 * one nobody knows, is refused in one line; a job that moved is stopped where it went.
 * `wasmig stop JOB` does the same from the command line.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, startBroker } from '../../src/agent/index.ts';
import type { EmbeddedBroker, JobState } from '../../src/agent/index.ts';
import { cli } from '../helpers/fleet.ts';
import { tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-stop-'));
const ticker = readFileSync(tickerPath);
const quiet = (line: string): void => { if (process.env['DEBUG_STOP']) console.error(line); };

const s = suite('stopping a job');
let broker: EmbeddedBroker;
let a: Agent;
let b: Agent;
let client: FleetClient;

s.before(async () => {
  broker = await startBroker({ port: 0 });
  a = await Agent.start({ name: 'a', connection: { url: broker.url }, dirs: [{ host: work, guest: '/ctl' }], heartbeatMs: 200, log: quiet });
  b = await Agent.start({ name: 'b', connection: { url: broker.url }, dirs: [{ host: work, guest: '/ctl' }], heartbeatMs: 200, log: quiet });
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

s.after(async () => {
  await client.close();
  await Promise.all([a.stop(), b.stop()]);
  await broker.close();
  rmSync(work, { recursive: true, force: true });
});

/** Follows `job` to its end; resolves with its stdout and final state. */
async function follow(job: string, seen: { stdout: string } = { stdout: '' }): Promise<{ stdout: string; state: JobState }> {
  const state = await client.follow(job, { onOutput: (c) => { if (c.stream === 1) seen.stdout += Buffer.from(c.data).toString(); } });
  return { stdout: seen.stdout, state };
}

/** A ticker that waits at line 5 for a gate file that never comes: it runs until stopped. */
async function waiting(job: string, agent: string): Promise<{ ended: Promise<{ stdout: string; state: JobState }>; seen: { stdout: string } }> {
  await client.start({ agent, module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=10', `gate=/ctl/${job}-never`, 'at=5'], job });
  const seen = { stdout: '' };
  const ended = follow(job, seen);
  ended.catch(() => {});
  // In an object: an async function's returned promise would be awaited with it.
  return { ended, seen };
}

s('a running job stops where it runs: failed with 143, who stopped it, its output kept', async () => {
  const { ended, seen } = await waiting('held', 'a');
  // At its gate (its lines before it out): 'running' alone came before them under CI's load.
  while (!/tick 4\/10 /.test(seen.stdout)) await new Promise((r) => setTimeout(r, 20));
  assert.is(await client.stop('held'), 'a');
  const { stdout, state } = await ended;
  assert.is(state.state, 'failed');
  assert.is(state.status, 143);
  assert.match(state.error ?? '', /^stopped by c[0-9a-f]+$/);
  assert.match(stdout, /tick 4\/10 /, 'the output before the stop');
  assert.not.match(stdout, /tick 10\/10|done/, 'nothing after the gate');
});

s('a job that moved is stopped on the agent it moved to', async () => {
  const { ended } = await waiting('mover', 'a');
  while (a.jobs.get('mover')?.state !== 'running') await new Promise((r) => setTimeout(r, 20));
  await client.migrate('mover', 'b');
  assert.is(await client.stop('mover'), 'b');
  assert.is((await ended).state.status, 143);
  assert.is((await ended).state.agent, 'b');
});

s('refused in one line: a job that ended, a job nobody knows', async () => {
  await client.stop('held').then(() => assert.unreachable(), (e: Error) => assert.is(e.message, 'job held has failed already'));
  await client.stop('nobody').then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /^no job nobody is known to the broker /));
});

s('wasmig stop JOB: stops it, or says in one line why not', async () => {
  const { ended } = await waiting('by-cli', 'b');
  while (b.jobs.get('by-cli')?.state !== 'running') await new Promise((r) => setTimeout(r, 20));
  const stopped = await cli(['stop', 'by-cli', '--broker', broker.url]);
  assert.is(stopped.status, 0, stopped.stderr);
  assert.is(stopped.stdout, 'stopped job by-cli on b (status 143)\n');
  assert.is((await ended).state.status, 143);
  const again = await cli(['stop', 'by-cli', '--broker', broker.url]);
  assert.is(again.status, 1, again.stderr);
  assert.is(again.stderr, 'wasmig: job by-cli has failed already\n');
});

s.run();
