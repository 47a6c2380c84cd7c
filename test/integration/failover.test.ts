/**
 * Jobs survive their device (issue 14): `run --on a --replicas 1` keeps a standby copy of
 * the job on another agent, which takes it over from the last checkpoint when `a` is
 * killed (kill -9: its last will), mid-run or mid-migration. The follower (the `run`
 * process itself) must print exactly what a run that never moved prints, byte for byte,
 * and exit with the job's status: output past the last checkpoint, which the standby
 * runs again, was never shown (output commit).
 *
 * Real agent processes on the embedded broker. Nothing here depends on speed: every wait
 * is for an event (a line in a log, a state on the broker), with generous bounds.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient } from '../../src/agent/index.ts';
import type { JobState } from '../../src/agent/index.ts';
import { agentProc, embeddedBroker, stopAll, wasmigProc } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { writerOutput, writerPath } from '../helpers/writer.ts';

const s = suite('failover: a replicated job survives its owner');
let broker: BrokerProc;
let client: FleetClient;

s.before(async () => {
  broker = await embeddedBroker();
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

s.after(async () => {
  await client?.close();
  await stopAll();
});

const TAKEOVER = ['--takeover-after', '1'];

/** Waits until the broker shows `job` in a state that satisfies `ok`. */
async function stateWhere(job: string, ok: (s: JobState) => boolean, timeoutMs = 60_000): Promise<JobState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const st = await client.jobState(job);
    if (st && ok(st)) return st;
    if (Date.now() > until) throw new Error(`job ${job}: no matching state within ${timeoutMs} ms (last: ${JSON.stringify(st)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `wasmig run --on AGENT --replicas 1 writer.wasm ARGS`, following the job. */
function runReplicated(agent: string, job: string, args: string[]): Proc {
  return wasmigProc(['run', '--on', agent, '--broker', broker.url, '--replicas', '1', '--job', job, '--lost-after', '60', writerPath, ...args], { label: `run ${job}` });
}

s('kill -9 of the owner mid-run: the standby finishes the job, the output is the uninterrupted run\'s', async () => {
  const a = await agentProc('a1', broker.url, TAKEOVER);
  const b = await agentProc('b1', broker.url, TAKEOVER);
  const args = ['mem=4', 'rate=1024', 'steps=700'];
  const want = writerOutput(args);
  const job = 'fo-run';
  const run = runReplicated('a1', job, args);
  // A checkpoint held by the standby, and output shown (released by it).
  const held = await stateWhere(job, (st) => (st.checkpoint?.number ?? 0) >= 2 && st.agent === 'a1');
  assert.equal(held.standbys, ['b1']);
  await run.waitFor(/step 1\d\d /, 'out', 60_000);
  assert.is(await a.stop('SIGKILL'), 137);
  const status = await run.exited;
  assert.is(status, 0, run.err);
  assert.is(run.out, want, 'the follower printed the uninterrupted run, byte for byte');
  const end = await stateWhere(job, (st) => st.state === 'exited');
  assert.is(end.agent, 'b1');
  assert.ok(end.epoch >= 2, `epoch ${end.epoch}`);
  assert.match(b.err, new RegExp(`job ${job}: taking it over from a1 at epoch \\d+, from checkpoint \\d+`));
  await b.stop();
});

s.run();
