/**
 * Agents, clients and the embedded broker in one process: the protocol's behaviour
 * without the cost of separate processes (test/integration/fleet.test.ts has those).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker, JobState } from '../../src/agent/index.ts';
import { MigrationError, WasmigError } from '../../src/errors/index.ts';
import { repoRoot } from '../helpers/cli.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-agent-'));
const ctl = join(work, 'ctl');
const other = join(work, 'other');
mkdirSync(ctl);
mkdirSync(other);
const ticker = readFileSync(tickerPath);
const trap = readFileSync(resolve(repoRoot, 'test/programs/trap.wasm'));
const quiet = (): void => {};

const s = suite('agents in one process');
let broker: EmbeddedBroker;
let a: Agent;
let b: Agent;
let client: FleetClient;
const logs: string[] = [];

s.before(async () => {
  broker = await startBroker({ port: 0 });
  const log = (line: string): void => { logs.push(line); };
  a = await Agent.start({ name: 'a', connection: { url: broker.url }, dirs: [{ host: ctl, guest: '/ctl' }], heartbeatMs: 200, log });
  b = await Agent.start({ name: 'b', connection: { url: broker.url }, dirs: [{ host: other, guest: '/other' }], heartbeatMs: 200, log });
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

s.after(async () => {
  await client.close();
  await Promise.all([a.stop(), b.stop()]);
  await broker.close();
  rmSync(work, { recursive: true, force: true });
});

/** Follows a job to its end. A test that fails before awaiting it leaves it to the client's close: that rejection is not a crash. */
function collect(job: string, fromSeq = 0): Promise<{ stdout: string; stderr: string; seqs: number[]; state: JobState }> {
  const following = collectAll(job, fromSeq);
  following.catch(() => {});
  return following;
}

async function collectAll(job: string, fromSeq: number): Promise<{ stdout: string; stderr: string; seqs: number[]; state: JobState }> {
  let stdout = '';
  let stderr = '';
  const seqs: number[] = [];
  const state = await client.follow(job, {
    fromSeq,
    onOutput: (c) => {
      seqs.push(c.seq);
      if (c.stream === 1) stdout += Buffer.from(c.data).toString();
      else stderr += Buffer.from(c.data).toString();
    },
  });
  return { stdout, stderr, seqs, state };
}

s('aedes speaks MQTT 3.1.1 only: the link falls back to it', () => {
  assert.is(a.peer.link.version, '3.1.1');
});

s('a job runs, its output arrives in order, it exits with its status; the module travels once', async () => {
  const args = ['lines=12', 'work=100', 'status=5'];
  const first = await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'once' });
  assert.ok(first.moduleBytes > ticker.length, 'the module went over the wire');
  const out = await collect('once');
  const expected = tickerOutput(args);
  assert.is(out.stdout, expected.stdout);
  assert.is(out.stderr, expected.stderr);
  assert.equal(out.seqs, out.seqs.map((_, i) => i));
  assert.is(out.state.state, 'exited');
  assert.is(out.state.status, 5);
  const again = await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'lines=1'], job: 'twice' });
  assert.is(again.moduleBytes, 0, 'cached by sha256');
  assert.is((await collect('twice')).state.status, 0);
});

s('a finished job can still be followed from its log', async () => {
  const out = await collect('once');
  assert.is(out.stdout, tickerOutput(['lines=12', 'work=100', 'status=5']).stdout);
  const last = out.seqs.length - 1;
  const tail = await collect('once', last);
  assert.equal(tail.seqs, [last]);
});

s('a trap fails the job with status 134 and says why', async () => {
  await client.start({ agent: 'a', module: trap, program: 'trap.wasm', args: ['trap.wasm'], job: 'trapper' });
  const out = await collect('trapper');
  assert.is(out.state.state, 'failed');
  assert.is(out.state.status, 134);
  assert.match(out.state.error ?? '', /^trap: unreachable/);
});

s('errors: unknown agent, duplicate job, invalid module', async () => {
  await client.start({ agent: 'nobody', module: ticker, program: 't', args: ['t'] }).then(() => assert.unreachable(), (e: Error) => {
    assert.ok(e instanceof WasmigError);
    assert.match(e.message, /no agent named nobody has announced itself/);
  });
  await client.start({ agent: 'a', module: ticker, program: 't', args: ['t'], job: 'once' }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /already has a job once/));
  const broken = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 99]);
  await client.start({ agent: 'a', module: broken, program: 'broken.wasm', args: ['b'] }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /broken\.wasm: malformed module/));
});

s('heartbeats carry load; ps lists agents and jobs', async () => {
  await new Promise((r) => setTimeout(r, 300));
  const view = await client.list();
  const agentA = view.agents.find((x) => x.agent === 'a');
  assert.ok(agentA?.online);
  assert.equal(agentA?.dirs, ['/ctl']);
  assert.ok(agentA?.load && agentA.load.rss > 0 && agentA.load.memTotal > 0 && typeof agentA.load.cpu === 'number');
  const once = view.jobs.find((j) => j.job === 'once');
  assert.is(once?.state, 'exited');
  assert.is(once?.agent, 'a');
});

s('migrations the target cannot take are refused and the job goes on', async () => {
  const args = ['lines=30', 'work=100', 'gate=/ctl/g1', 'at=10'];
  await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'stay' });
  const following = collect('stay');
  await client.migrate('stay', 'nobody').then(() => assert.unreachable(), (e: Error) => {
    assert.ok(e instanceof MigrationError);
    assert.match(e.message, /agent nobody is not known to the broker/);
  });
  await client.migrate('stay', 'b').then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /agent b has no directory "\/ctl", which the job uses/));
  await client.migrate('stay', 'a').then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /already runs on a/));
  writeFileSync(join(ctl, 'g1'), '');
  const out = await following;
  assert.is(out.stdout, tickerOutput(args).stdout);
  assert.is(out.state.agent, 'a');
});

s('a job moves between agents mid-run; its output goes on in sequence', async () => {
  const c = await Agent.start({ name: 'c', connection: { url: broker.url }, dirs: [{ host: ctl, guest: '/ctl' }], log: quiet });
  try {
    const args = ['lines=30', 'work=500', 'gate=/ctl/g2', 'at=20', 'mem=1'];
    await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'mover' });
    const following = collect('mover');
    const there = await client.migrate('mover', 'c');
    assert.is(there.to, 'c');
    assert.is(there.epoch, 2);
    assert.ok(there.moduleBytes > 0, 'c did not have the module');
    assert.ok(there.precopyBytes + there.finalBytes > 1024 * 1024, 'one MiB of random memory travels');
    const back = await client.migrate('mover', 'a');
    assert.is(back.epoch, 3);
    assert.is(back.moduleBytes, 0, 'a has the module');
    // a kept what it sent: only the blocks the job changed at c since, its state and new output go back, not the MiB of random memory.
    assert.ok(back.bytesSent < there.bytesSent / 8, `the move back sent ${back.bytesSent} bytes, the move there ${there.bytesSent}`);
    assert.is(back.mode, 'pre-copy');
    writeFileSync(join(ctl, 'g2'), '');
    const out = await following;
    assert.is(out.stdout, tickerOutput(args).stdout);
    assert.equal(out.seqs, out.seqs.map((_, i) => i));
    assert.is(out.state.agent, 'a');
    assert.is(out.state.epoch, 3);
  } finally {
    await c.stop();
  }
});

s('a copy whose job runs elsewhere at a higher epoch stops (fencing)', async () => {
  await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', 'gate=/ctl/never', 'at=0'], job: 'fenced' });
  assert.ok(a.jobs.has('fenced'));
  const newer = { v: 1, job: 'fenced', agent: 'elsewhere', instance: 'x', epoch: 7, state: 'running', program: 'ticker.wasm', args: [], startedAt: 't', updatedAt: 't' };
  await client.peer.link.publish(topics.jobState('fenced'), JSON.stringify(newer), { retain: true });
  for (let i = 0; i < 100 && a.jobs.has('fenced'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(a.jobs.has('fenced'));
  assert.ok(logs.some((l) => /job fenced: a newer copy \(epoch 7\) runs on elsewhere; this copy \(epoch 1\) stops/.test(l)));
  await client.peer.link.publish(topics.jobState('fenced'), '', { retain: true });
});

s('a restarted agent marks the jobs it lost as failed', async () => {
  const lost = { v: 1, job: 'lost-one', agent: 'z', instance: 'old', epoch: 1, state: 'running', program: 'p', args: [], startedAt: 't', updatedAt: 't' };
  await client.peer.link.publish(topics.jobState('lost-one'), JSON.stringify(lost), { retain: true });
  const z = await Agent.start({ name: 'z', connection: { url: broker.url }, log: quiet });
  try {
    // aedes acknowledges a retained publish before it has stored it: look again if need be.
    let state = await client.jobState('lost-one');
    for (let i = 0; i < 20 && state?.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      state = await client.jobState('lost-one');
    }
    assert.is(state?.state, 'failed');
    assert.match(state?.error ?? '', /agent z restarted; the job was lost with it/);
  } finally {
    await z.stop();
  }
});

s('a broker nobody listens on is a clear error', async () => {
  const closed = await startBroker({ port: 0 });
  const url = closed.url;
  await closed.close();
  await FleetClient.connect({ connection: { url } }).then(() => assert.unreachable(), (e: Error) => {
    assert.ok(e instanceof WasmigError);
    assert.match(e.message, /cannot connect to broker mqtt:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});

s.run();
