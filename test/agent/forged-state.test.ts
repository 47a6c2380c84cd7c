/**
 * Issue 16: a rogue MQTT client publishes forged retained job states (unsigned, or signed
 * with another key) with a higher epoch. In a fleet with a key, the agent that runs the
 * job neither stops it nor lets the forgery stand (it publishes its own state again);
 * clients that hold the key mark a forged state in `list` (ps), never follow it, and do
 * not wait on it: `follow` (attach, run --on) fails at once with a clear error.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, FleetClient, FleetKey, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker, JobState } from '../../src/agent/index.ts';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { WasmigError } from '../../src/errors/index.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-forged-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const ticker = readFileSync(tickerPath);
const key = new FleetKey(randomBytes(32));
const wrong = new FleetKey(randomBytes(32));

const s = suite('forged retained job states');
let broker: EmbeddedBroker;
let a: Agent;
let client: FleetClient;
let rogue: MqttLink;
const logs: string[] = [];

s.before(async () => {
  broker = await startBroker({ port: 0 });
  a = await Agent.start({ name: 'a', connection: { url: broker.url }, key, dirs: [{ host: ctl, guest: '/ctl' }], heartbeatMs: 500, log: (l) => logs.push(l) });
  client = await FleetClient.connect({ connection: { url: broker.url }, key });
  rogue = await MqttLink.open({ connection: { url: broker.url }, clientId: 'wasmig-rogue', persistent: false, onMessage: () => {} });
});

s.after(async () => {
  await rogue.close();
  await client.close();
  await a.stop();
  await broker.close();
  rmSync(work, { recursive: true, force: true });
});

function forged(job: string, sign?: FleetKey): string {
  const state: JobState = {
    v: 1, job, agent: 'ghost', instance: 'i0', epoch: 99, state: 'running', program: 'ticker.wasm', args: ['ticker.wasm'],
    startedAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
  };
  return JSON.stringify(sign ? sign.sign(state) : state);
}

s('a forged higher epoch stops no job; the follower gets the whole output and the real end', async () => {
  const args = ['lines=20', 'work=50', 'gate=/ctl/g1', 'at=5'];
  await client.start({ agent: 'a', module: ticker, program: 'ticker.wasm', args: ['ticker.wasm', ...args], job: 'real' });
  let stdout = '';
  const notices: string[] = [];
  let firstOutput!: () => void;
  const flowing = new Promise<void>((resolve) => { firstOutput = resolve; });
  const following = client.follow('real', { onOutput: (c) => { if (c.stream === 1) stdout += Buffer.from(c.data).toString(); firstOutput(); }, onNotice: (n) => notices.push(n) });
  following.catch(() => {});
  await flowing; // the follower listens to the job's state by now
  // The follower's state subscription may come a moment after the first output: forge
  // until it has seen a forgery (each one is met by the agent's own state again).
  for (let round = 0; round < 100 && !notices.some((n) => /ignored a state of job real that fails its signature check/.test(n)); round++) {
    for (const sign of [undefined, wrong]) await rogue.publish(topics.jobState('real'), forged('real', sign), { retain: true, qos: 1 });
    await client.peer.sync();
    await new Promise((r) => setTimeout(r, 50));
  }
  const ignored = logs.filter((l) => /ignored the state of job real published as ghost's: .*published this copy's state again/.test(l));
  assert.ok(ignored.length >= 2, logs.join('\n'));
  assert.ok(ignored.some((l) => /unsigned/.test(l)), ignored.join('\n'));
  assert.ok(ignored.some((l) => /bad signature/.test(l)), ignored.join('\n'));
  assert.is(a.jobs.get('real')?.epoch, 1, 'the job still runs on a');
  writeFileSync(join(ctl, 'g1'), '');
  const end = await following;
  assert.is(end.agent, 'a');
  assert.is(end.state, 'exited');
  assert.is(stdout, tickerOutput(args).stdout);
  assert.ok(notices.some((n) => /ignored a state of job real that fails its signature check/.test(n)), notices.join('\n'));
  // The broker holds the owner's word again.
  const listed = (await client.list()).jobs.find((j) => j.job === 'real');
  assert.is(listed?.agent, 'a');
  assert.is(listed?.unverified, undefined);
});

s('ps marks a forged state; attach on it fails at once instead of waiting', async () => {
  await rogue.publish(topics.jobState('phantom'), forged('phantom', wrong), { retain: true, qos: 1 });
  const view = await client.list();
  const phantom = view.jobs.find((j) => j.job === 'phantom');
  assert.ok(phantom, 'listed, so that one sees the broker holds it');
  assert.match(phantom?.unverified ?? '', /bad signature/);
  assert.is(phantom?.agentOnline, false);
  assert.is(await client.jobState('phantom'), undefined);
  const started = Date.now();
  try {
    await client.follow('phantom', { onOutput: () => {} });
    assert.unreachable('followed a forged state');
  } catch (error) {
    assert.instance(error, WasmigError);
    assert.is((error as WasmigError).code, 'ERR_UNVERIFIED');
    assert.match((error as Error).message, /the broker's state of job phantom fails its signature check \(bad signature/);
  }
  assert.ok(Date.now() - started < 15_000, 'bounded');
  // A client without the key cannot tell: it is what a keyless fleet accepts (secure by default refuses those off loopback).
  const keyless = await FleetClient.connect({ connection: { url: broker.url } });
  try {
    assert.is((await keyless.list()).jobs.find((j) => j.job === 'phantom')?.unverified, undefined);
  } finally {
    await keyless.close();
  }
  await rogue.publish(topics.jobState('phantom'), '', { retain: true, qos: 1 });
});

s.run();
