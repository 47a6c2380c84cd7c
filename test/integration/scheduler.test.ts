/**
 * Schedulers end to end: agent processes on the embedded broker, a ticker job held at
 * its gate, and two `wasmig scheduler` processes with the same rules at once.
 *
 * The busy agent is made busy through its heartbeat's load source (WASMIG_LOAD_FILE,
 * test-only), not by a CPU hog: on this shared 2-core machine a hog's effect on the
 * measured load, and so when the rule fires, would be a matter of timing.
 *
 * - the job moves off the busy agent once (two schedulers, one move: the source agent
 *   refuses a second move of a job under way, and a job that moved cools down);
 * - it does not bounce: with its new agent made busy and the old one quiet, it stays
 *   for the cool-down (checked over several looks, a window of wall-clock time: a slow
 *   machine makes fewer looks in it, which can only make the test weaker, not fail);
 * - ps shows the move and its reason; the follower's output is the unmoved run's;
 * - a follow topic moves a job to the agent it names;
 * - a host signal retained on an agent's signals topic moves its job (`--once`).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MqttLink } from '../../src/agent/mqtt-link.ts';
import { agentProc, cli, embeddedBroker, stopAll, wasmigProc } from '../helpers/fleet.ts';
import type { BrokerProc, Proc } from '../helpers/fleet.ts';
import { tickerOutput, tickerPath } from '../helpers/ticker.ts';

const work = mkdtempSync(join(tmpdir(), 'wasmig-scheduler-'));
const ctl = join(work, 'ctl');
mkdirSync(ctl);
const DIR = ['--dir', `${ctl}::/ctl`];
/** CPU (in cores) that makes an agent 90% busy per core, above the rule's 0.75. */
const BUSY = String(0.9 * availableParallelism());

function setLoad(agent: string, cores: string): void {
  writeFileSync(join(work, `${agent}.load`), cores);
}

function jobArgs(job: string): string[] {
  return ['lines=40', 'work=3000', `gate=/ctl/${job}`, 'at=30', 'status=7'];
}

async function jobOn(url: string, job: string): Promise<{ agent: string; epoch: number; lastMove?: { reason: string } } | undefined> {
  const r = await cli(['ps', '--json', '--broker', url]);
  return (JSON.parse(r.stdout) as { id: string; agent: string; epoch: number; lastMove?: { reason: string } }[]).find((j) => j.id === job);
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

const count = (text: string, re: RegExp): number => text.match(new RegExp(re, 'g'))?.length ?? 0;

const scheduling = suite('scheduler');
let broker: BrokerProc;
const agents = new Map<string, Proc>();

scheduling.before(async () => {
  broker = await embeddedBroker();
  for (const name of ['a', 'b', 'c']) setLoad(name, '0');
  const started = await Promise.all(['a', 'b', 'c'].map((name) => agentProc(name, broker.url, DIR, { WASMIG_LOAD_FILE: join(work, `${name}.load`) })));
  started.forEach((p, i) => agents.set(['a', 'b', 'c'][i], p));
});

scheduling.after(async () => {
  await stopAll();
});

scheduling('two schedulers move a job off a busy agent once, and it does not bounce back', async () => {
  const job = 'hot';
  const rules = join(work, 'rules.json');
  writeFileSync(rules, JSON.stringify({ interval: 1, cooldown: 60, rules: [{ name: 'busy', if: 'load', above: 0.75, for: 2 }] }));
  const client = wasmigProc(['run', '--on', 'a', '--job', job, '--broker', broker.url, tickerPath, ...jobArgs(job)], { label: 'client hot' });
  await client.waitFor(/waiting for \/ctl\//, 'out', 60_000);
  const schedulers = ['s1', 's2'].map((name) => wasmigProc(['scheduler', '--rules', rules, '--name', name, '--broker', broker.url], { label: `scheduler ${name}` }));
  await Promise.all(schedulers.map((s) => s.waitFor(/watching the fleet every 1 s with 1 rule\(s\) \(busy\); cool-down 60 s/, 'err')));
  setLoad('a', BUSY);
  const moved = await until('the job to leave a', async () => { const j = await jobOn(broker.url, job); return j && j.agent !== 'a' ? j : undefined; });
  assert.is(moved.epoch, 2, 'one move');
  const target = moved.agent;
  assert.ok(target === 'b' || target === 'c');
  // The move's reason, as ps shows it.
  assert.match(moved.lastMove?.reason ?? '', /^rule busy: load 0\.9 > 0\.75 for [2-9] s on a \(scheduler s[12]\) \(asked by c[0-9a-f]+\)$/);
  const ps = await cli(['ps', '--broker', broker.url]);
  assert.match(ps.stdout, new RegExp(`^${job} +${target} +running .*from a \\d+s ago: rule busy: load 0\\.9 > 0\\.75`, 'm'));

  // The job's load went with it: its new agent is busy, the old one quiet. Within the cool-down it stays.
  setLoad(target, BUSY);
  setLoad('a', '0');
  await until(`${target}'s heartbeat to say it is busy`, async () => {
    const r = await cli(['ps', '--agents', '--json', '--broker', broker.url]);
    const a = (JSON.parse(r.stdout) as { agent: string; load?: { cpu: number } }[]).find((x) => x.agent === target);
    return a?.load && a.load.cpu > 0.75 * availableParallelism() ? true : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 6000)); // several looks (1 s each) past the rule's 2 s
  const after = await jobOn(broker.url, job);
  assert.equal([after?.agent, after?.epoch], [target, 2], 'not moved back within the cool-down');

  const logs = schedulers.map((s) => s.err).join('\n');
  assert.is(count(logs, /moved job hot from a to/), 1, `one scheduler moved it:\n${logs}`);
  assert.is(count(agents.get('a')?.err ?? '', /job hot moved to/), 1, 'agent a handed it over once');
  assert.is(count(agents.get(target)?.err ?? '', /job hot moved to/), 0, `agent ${target} never handed it on`);
  writeFileSync(join(ctl, job), '');
  const expected = tickerOutput(jobArgs(job));
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, expected.stdout);
  await Promise.all(schedulers.map((s) => s.stop()));
  setLoad(target, '0');
});

scheduling('--follow TOPIC: the job moves to the agent the last message names', async () => {
  const job = 'nav-1';
  const client = wasmigProc(['run', '--on', 'b', '--job', job, '--broker', broker.url, tickerPath, ...jobArgs(job)], { label: 'client nav' });
  await client.waitFor(/waiting for \/ctl\//, 'out', 60_000);
  const link = await MqttLink.open({ connection: { url: broker.url }, clientId: 'test-follow', persistent: false, onMessage: () => {} });
  try {
    await link.publish('plant/ann/near', 'c', { qos: 1, retain: true });
    const s = wasmigProc(['scheduler', '--follow', 'plant/ann/near', '--jobs', 'nav-*', '--interval', '1', '--name', 'f1', '--broker', broker.url], { label: 'scheduler f1' });
    await s.waitFor(/moved job nav-1 from b to c \(downtime [\d.]+ ms\): rule follow-1: plant\/ann\/near names c/, 'err');
    const on = await jobOn(broker.url, job);
    assert.is(on?.agent, 'c');
    await s.stop();
    await link.publish('plant/ann/near', '', { qos: 1, retain: true });
  } finally {
    await link.close();
  }
  writeFileSync(join(ctl, job), '');
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, tickerOutput(jobArgs(job)).stdout);
});

scheduling('a host signal on the agent\'s signals topic: --once moves the job off the agent that is leaving', async () => {
  const job = 'sig-1';
  const client = wasmigProc(['run', '--on', 'c', '--job', job, '--broker', broker.url, tickerPath, ...jobArgs(job)], { label: 'client sig' });
  await client.waitFor(/waiting for \/ctl\//, 'out', 60_000);
  const rules = join(work, 'leaving.json');
  writeFileSync(rules, JSON.stringify({ rules: [{ name: 'leaving', if: 'signal', signal: 'leaving', equals: true }] }));
  const link = await MqttLink.open({ connection: { url: broker.url }, clientId: 'test-signal', persistent: false, onMessage: () => {} });
  try {
    const quiet = await cli(['scheduler', '--rules', rules, '--once', '--name', 'o1', '--broker', broker.url]);
    assert.is(quiet.status, 0, quiet.stderr);
    assert.not.match(quiet.stderr, /moving job/, 'no signal, no move');
    await link.publish('wasmig/v1/agents/c/signals', JSON.stringify({ leaving: true }), { qos: 1, retain: true });
    const r = await cli(['scheduler', '--rules', rules, '--once', '--name', 'o2', '--broker', broker.url]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, /scheduler o2: moved job sig-1 from c to [ab] \(downtime [\d.]+ ms\): rule leaving: signal leaving = true on c/);
    const on = await jobOn(broker.url, job);
    assert.ok(on?.agent === 'a' || on?.agent === 'b', `on ${on?.agent}`);
    await link.publish('wasmig/v1/agents/c/signals', '', { qos: 1, retain: true });
  } finally {
    await link.close();
  }
  writeFileSync(join(ctl, job), '');
  assert.is(await client.exited, 7, client.err);
  assert.is(client.out, tickerOutput(jobArgs(job)).stdout);
});

scheduling.run();
