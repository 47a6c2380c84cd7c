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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetAuthority, FleetClient } from '../../src/agent/index.ts';
import type { AgentStatus, JobState } from '../../src/agent/index.ts';
import { agentProc, cli, embeddedBroker, stopAll, wasmigProc } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { stateWhere as stateOn } from '../helpers/follower.ts';
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
  rmSync(gates, { recursive: true, force: true });
});

// Each job holds after its last step until its test opens its gate (writer's gate=PATH):
// a loaded machine slows the test down without the job ending under it.
const gates = mkdtempSync(join(tmpdir(), 'wasmig-failover-gates-'));
const openGate = (job: string): void => writeFileSync(join(gates, job), '');
const TAKEOVER = ['--takeover-after', '1', '--dir', `${gates}::/gates`];

/** Waits until the broker shows `job` in a state that satisfies `ok`; on failure, says what the test's agents logged. */
function stateWhere(job: string, ok: (s: JobState) => boolean, timeoutMs = 60_000): Promise<JobState> {
  return stateOn(client, job, ok, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}\n${started.map((p) => `--- ${p.label}:\n${p.err.slice(-3000)}`).join('\n')}`);
  });
}

/** Where two outputs part, with the agents' logs: a short message instead of 700 lines. */
function sameOutput(got: string, want: string, logs: Proc[]): void {
  if (got === want) return;
  const g = got.split('\n');
  const w = want.split('\n');
  let i = 0;
  while (i < g.length && g[i] === w[i]) i++;
  assert.unreachable(`output differs from line ${i + 1}: got ${JSON.stringify(g.slice(i, i + 3))}, want ${JSON.stringify(w.slice(i, i + 3))} (${g.length} lines for ${w.length})\n${logs.map((p) => `--- ${p.label}:\n${p.err.slice(-4000)}`).join('\n')}`);
}

/** `wasmig run --on AGENT --replicas 1 writer.wasm ARGS`, following the job; it ends once its gate is open. */
function runReplicated(agent: string, job: string, args: string[]): Proc {
  return wasmigProc(['run', '--on', agent, '--broker', broker.url, '--replicas', '1', '--job', job, '--lost-after', '60', writerPath, ...args, `gate=/gates/${job}`], { label: `run ${job}` });
}

/** The agents a test started, stopped after it whatever happened. */
const started: Proc[] = [];

async function agent(name: string): Promise<Proc> {
  const p = await agentProc(name, broker.url, TAKEOVER);
  started.push(p);
  return p;
}

s.after.each(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

s('kill -9 of the owner mid-run: the standby finishes the job, the output is the uninterrupted run\'s', async () => {
  const a = await agent('a1');
  const b = await agent('b1');
  const args = ['mem=4', 'rate=1024', 'steps=700'];
  const want = writerOutput(args);
  const job = 'fo-run';
  const run = runReplicated('a1', job, args);
  // A checkpoint held by the standby, and output shown (released by it).
  const held = await stateWhere(job, (st) => (st.checkpoint?.number ?? 0) >= 2 && st.agent === 'a1');
  assert.equal(held.standbys, ['b1']);
  const ps = await cli(['ps', '--broker', broker.url]);
  assert.match(ps.stdout, /^JOB\s+AGENT\s+STATE\s+PROGRAM\s+STARTED\s+STANDBYS\s+CHECKPOINT$/m);
  assert.match(ps.stdout, /^fo-run\s+a1\s+running\s+writer\.wasm\s+\S+\s+b1\s+#\d+ [\d.]+s ago$/m, ps.stdout);
  await run.waitFor(/step 1\d\d /, 'out', 60_000);
  assert.is(await a.stop('SIGKILL'), 137);
  openGate(job);
  const status = await run.exited;
  assert.is(status, 0, run.err);
  sameOutput(run.out, want, [run, a, b]);
  const end = await stateWhere(job, (st) => st.state === 'exited');
  assert.is(end.agent, 'b1');
  assert.ok(end.epoch >= 2, `epoch ${end.epoch}`);
  assert.match(b.err, new RegExp(`job ${job}: taking it over from a1 at epoch \\d+, from checkpoint \\d+`));
  await b.stop();
});

s('kill -9 of the owner mid-migration: the target\'s prepared copy is fenced, the standby finishes the job', async () => {
  const a = await agent('a2');
  const b = await agent('b2');
  const c = await agent('c2');
  // 16 MiB to pre-copy: the handoff is under way for a while after the target opened it.
  const args = ['mem=16', 'rate=1024', 'steps=700'];
  const want = writerOutput(args);
  const job = 'fo-mig';
  const run = runReplicated('a2', job, args);
  const held = await stateWhere(job, (st) => (st.checkpoint?.number ?? 0) >= 1);
  assert.equal(held.standbys, ['b2'], 'the least loaded agent by name');
  await run.waitFor(/step \d+ /, 'out', 60_000);
  const migrate = wasmigProc(['migrate', job, '--to', 'c2', '--broker', broker.url], { label: 'migrate' });
  await c.waitFor(new RegExp(`receiving job ${job} from a2`), 'err', 60_000).catch((error: Error) => {
    throw new Error(`${error.message}\n--- a2:\n${a.err.slice(-3000)}\n--- migrate:\n${migrate.out}${migrate.err}`);
  });
  assert.is(await a.stop('SIGKILL'), 137);
  openGate(job);
  assert.is.not(await migrate.exited, 0, 'the migration did not complete');
  const status = await run.exited;
  assert.is(status, 0, run.err);
  sameOutput(run.out, want, [run, a, b, c]);
  const end = await stateWhere(job, (st) => st.state === 'exited');
  assert.is(end.agent, 'b2');
  assert.not.match(c.err, new RegExp(`job ${job} now runs here`), 'the target never ran a copy');
  assert.match(c.err, new RegExp(`job ${job}: .*dropped the copy being received`));
  await Promise.all([b.stop(), c.stop()]);
});

// In a fleet of two, the standby is also the only place the job can move to. The owner
// dies mid-migration (kill -9 at the first pre-copy chunk, an exact point): the standby
// holds the copy it was receiving, which can never be committed now, and must drop it
// and take over. Before, it declined ("a handoff of job ... is already under way here")
// and never looked again: the job was lost (the fault matrix's "with replicas" cells
// failed this way once a job left running on `a` made `b` the standby).
s('kill -9 of the owner mid-migration to its own standby: the standby drops the copy it was receiving and takes over', async () => {
  const a = await agentProc('a5', broker.url, TAKEOVER, { WASMIG_CRASH_AT: 'source:first-chunk:1:kill' });
  started.push(a);
  const b = await agent('b5');
  const args = ['mem=4', 'rate=1024', 'steps=700'];
  const want = writerOutput(args);
  const job = 'fo-self';
  const run = runReplicated('a5', job, args);
  const held = await stateWhere(job, (st) => (st.checkpoint?.number ?? 0) >= 1);
  assert.equal(held.standbys, ['b5']);
  await run.waitFor(/step \d+ /, 'out', 60_000);
  const migrate = wasmigProc(['migrate', job, '--to', 'b5', '--broker', broker.url], { label: 'migrate' });
  assert.is(await a.exited, 137, 'the owner killed itself at its fault point');
  assert.match(b.err, new RegExp(`receiving job ${job} from a5`));
  // Bounded well below the follower's --lost-after 60: the grace is 1 s.
  await b.waitFor(new RegExp(`job ${job} now runs here`), 'err', 30_000);
  assert.match(b.err, new RegExp(`job ${job}: taking it over from a5 at epoch \\d+, from checkpoint \\d+`));
  openGate(job);
  assert.is.not(await migrate.exited, 0, 'the migration did not complete');
  assert.is(await run.exited, 0, run.err);
  sameOutput(run.out, want, [run, a, b]);
  const end = await stateWhere(job, (st) => st.state === 'exited');
  assert.is(end.agent, 'b5');
});

s('an owner frozen (SIGSTOP) but still connected misses its heartbeats: a standby takes over; woken, it comes back fenced, never shows output', async () => {
  const a = await agent('a3');
  const b = await agent('b3');
  const args = ['mem=4', 'rate=1024', 'steps=700'];
  const want = writerOutput(args);
  const job = 'fo-back';
  const run = runReplicated('a3', job, args);
  await stateWhere(job, (st) => (st.checkpoint?.number ?? 0) >= 2);
  await run.waitFor(/step \d+ /, 'out', 60_000);
  // Frozen, the owner sends no heartbeat; its socket stays open and the broker keeps the
  // connection for 1.5 keepalives (22.5 s at the default 15 s), far beyond the standby's
  // 3 missed heartbeats (3 s at --heartbeat 1) plus its grace (1 s): no last will yet.
  a.child.kill('SIGSTOP');
  let status: AgentStatus | undefined;
  try {
    await b.waitFor(new RegExp(`job ${job}: no heartbeat of its owner a3 for 3 periods`), 'err', 90_000);
    await b.waitFor(new RegExp(`job ${job} now runs here`), 'err', 90_000);
    status = await client.agentStatus('a3');
  } finally {
    a.child.kill('SIGCONT');
  }
  assert.ok(status?.online, `the owner was still connected when the standby took over (${JSON.stringify(status)})`);
  // Its job's thread may run on for a moment before its timers notice the lease is gone (a
  // frozen process resumes all its threads at once), but it shows nothing.
  await a.waitFor(new RegExp(`job ${job}: a newer copy \\(epoch \\d+\\) runs on b3; this copy \\(epoch 1\\) stops`), 'err', 60_000).catch(async (error: Error) => {
    throw new Error(`${error.message} (exit status ${a.alive ? 'none: alive' : await a.exited})`);
  });
  openGate(job);
  assert.is(await run.exited, 0, run.err);
  sameOutput(run.out, want, [run, a, b]);
  const end = await stateWhere(job, (st) => st.state === 'exited');
  assert.is(end.agent, 'b3');
  assert.ok(a.alive, 'the old owner lives on, without the job');
  const ps = await client.list();
  assert.equal(ps.jobs.filter((j) => j.job === job).map((j) => [j.agent, j.state]), [['b3', 'exited']]);
});

s('a broker restart under a replicated job: its owner pauses it (no lease), finds it still its own, runs it on; the output is whole, once', async () => {
  const a = await agent('a4');
  const b = await agent('b4');
  const args = ['mem=4', 'rate=1024', 'steps=600'];
  const want = writerOutput(args);
  const job = 'fo-restart';
  const run = runReplicated('a4', job, args);
  await stateWhere(job, (st) => (st.checkpoint?.number ?? 0) >= 2);
  await broker.proc.stop();
  await a.waitFor(new RegExp(`job ${job}: no word from the broker within the lease`), 'err', 60_000);
  broker = await embeddedBroker(broker.port);
  await a.waitFor(new RegExp(`job ${job}: the lease is back and the job is still this agent's`), 'err', 60_000);
  openGate(job);
  assert.is(await run.exited, 0, run.err);
  sameOutput(run.out, want, [run, a, b]);
  const end = await stateWhere(job, (st) => st.state === 'exited');
  assert.is(end.agent, 'a4');
  assert.is(end.epoch, 1);
  assert.not.match(b.err, /taking it over/);
});

s('with identities: the checkpoints are sealed to the standby, which takes over; the follower gets the new owner\'s output key', async () => {
  const authority = FleetAuthority.generate();
  const identity = (name: string, roles: Parameters<FleetAuthority['issue']>[1]): Record<string, string> => {
    const file = join(gates, `${name}.identity`);
    writeFileSync(file, JSON.stringify(authority.issue(name, roles)), { mode: 0o600 });
    return { WASMIG_IDENTITY: file };
  };
  const a = await agentProc('a9', broker.url, TAKEOVER, identity('a9', ['run']));
  started.push(a);
  const b = await agentProc('b9', broker.url, TAKEOVER, identity('b9', ['run']));
  started.push(b);
  const args = ['mem=4', 'rate=1024', 'steps=700'];
  const want = writerOutput(args);
  const job = 'fo-id';
  const run = wasmigProc(['run', '--on', 'a9', '--broker', broker.url, '--replicas', '1', '--job', job, '--lost-after', '60', writerPath, ...args, `gate=/gates/${job}`], { label: `run ${job}`, env: identity('laptop', ['start']) });
  // The keyless watcher of this suite cannot verify states: wait on the follower's output instead.
  await run.waitFor(/step 1\d\d /, 'out', 60_000);
  await b.waitFor(new RegExp(`standby for job ${job}`), 'err', 60_000);
  assert.is(await a.stop('SIGKILL'), 137);
  openGate(job);
  const status = await run.exited;
  assert.is(status, 0, `${run.err}\n--- b9:\n${b.err.slice(-3000)}`);
  sameOutput(run.out, want, [run, a, b]);
  assert.match(b.err, new RegExp(`job ${job}: taking it over from a9 at epoch \\d+, from checkpoint \\d+`));
});

s.run();
