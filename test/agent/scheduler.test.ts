import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { advertisedOf } from '../../src/agent/capacity.ts';
import type { FleetAgent } from '../../src/agent/fleet-agents.ts';
import type { AgentLoad, JobState } from '../../src/agent/messages.ts';
import type { MoveRecord } from '../../src/agent/move-log.ts';
import { Policy } from '../../src/agent/scheduler.ts';
import type { FleetLook } from '../../src/agent/scheduler.ts';
import { followTarget, parseRuleSet } from '../../src/agent/scheduler-rules.ts';

function agent(name: string, o: { cpu?: number; memFree?: number; maxJobs?: number; jobs?: number; signals?: Record<string, number | boolean> } = {}): FleetAgent {
  const load = { v: 1, agent: name, instance: 'i', at: '', cpu: o.cpu ?? 0, loadavg: [], rss: 0, memFree: o.memFree ?? 2 ** 32, memTotal: 2 ** 33, jobs: o.jobs ?? 0, running: 0, cores: 2, maxJobs: o.maxJobs, signals: o.signals } as AgentLoad;
  return { name, status: { v: 1, agent: name, instance: 'i', online: true, dirs: [] }, load, advertised: advertisedOf(load) };
}

function job(id: string, on: string, epoch = 1): JobState {
  return { v: 1, job: id, agent: on, instance: 'i', epoch, state: 'running', program: 'p', args: [], startedAt: '', updatedAt: '' };
}

function look(agents: FleetAgent[], jobs: JobState[], extra: Partial<FleetLook> = {}): FleetLook {
  return { agents, jobs, signals: new Map(agents.map((a) => [a.name, a.advertised.signals])), moves: new Map(), follows: new Map(), ...extra };
}

const rules = (text: object): ReturnType<typeof parseRuleSet> => parseRuleSet(JSON.stringify(text), 'rules.json');

test('rules files: checked field by field, each error one line naming the rule', () => {
  const r = rules({ cooldown: 30, rules: [{ name: 'busy', if: 'load', above: 0.75, for: 10 }, { if: 'memFree', below: '256M' }, { name: 'b', if: 'signal', signal: 'battery', below: 20 }] });
  assert.is(r.intervalMs, 2000);
  assert.is(r.cooldownMs, 30_000);
  assert.equal(r.rules.map((x) => x.name), ['busy', 'memFree', 'b']);
  assert.is((r.rules[1] as { below: number }).below, 256 * 1024 ** 2);
  assert.throws(() => parseRuleSet('{', 'f.json'), /^--rules f\.json: not JSON: /);
  assert.throws(() => rules({ rules: [{ if: 'load', abve: 1 }] }), /^--rules rules\.json: rule 1 \(load\): unknown field "abve" for a load rule \(it takes above, below, for, jobs\)$/);
  assert.throws(() => rules({ rules: [{ if: 'cpu' }] }), /rule 1: "if" must be one of load, memFree, signal, follow/);
  assert.throws(() => rules({ rules: [{ if: 'load' }] }), /rule 1 \(load\): say when it holds \("above", "below"\)/);
  assert.throws(() => rules({ rules: [{ if: 'follow', topic: 'a/#' }] }), /"topic" must be an MQTT topic without wildcards/);
  assert.throws(() => rules({ rules: [{ if: 'load', above: 1 }, { if: 'load', below: 1 }] }), /two rules are named load/);
  assert.throws(() => rules({ rulez: [] }), /unknown field "rulez"/);
});

test('a load rule moves one job per agent per look, after it held for its time, to the least loaded agent where no rule holds', () => {
  const policy = new Policy(rules({ rules: [{ name: 'busy', if: 'load', above: 0.75, for: 10 }] }));
  const agents = [agent('a', { cpu: 1.8 }), agent('b', { cpu: 1.7 }), agent('c', { cpu: 0.4 }), agent('d', { cpu: 0.2 })];
  const jobs = [job('j2', 'a'), job('j1', 'a'), job('k', 'b')];
  assert.equal(policy.decide(look(agents, jobs), 0).moves, []);
  assert.equal(policy.decide(look(agents, jobs), 9_000).moves, []);
  const { moves } = policy.decide(look(agents, jobs), 10_000);
  assert.equal(moves.map((m) => `${m.job}:${m.from}->${m.to}`), ['j1:a->d', 'k:b->c']);
  assert.is(moves[0].reason, 'rule busy: load 0.9 > 0.75 for 10 s on a');
  // Asked for: the rule must hold its whole time again before a second job leaves a.
  for (const m of moves) policy.attempted(m, 10_000);
  assert.equal(policy.decide(look(agents, [job('j2', 'a'), job('j1', 'd', 2), job('k', 'c', 2)]), 15_000).moves, []);
  assert.equal(policy.decide(look(agents, [job('j2', 'a'), job('j1', 'd', 2), job('k', 'c', 2)]), 20_000).moves.map((m) => m.job), ['j2']);
});

test('no bounce: a job that moved stays for the cool-down, even when the rule now holds where it went', () => {
  const policy = new Policy(rules({ cooldown: 60, rules: [{ name: 'busy', if: 'load', above: 0.75 }] }));
  const first = policy.decide(look([agent('a', { cpu: 1.8 }), agent('b')], [job('j', 'a')]), 0).moves;
  assert.equal(first.map((m) => m.to), ['b']);
  policy.attempted(first[0], 0);
  // The job's load went with it: b is busy, a is quiet.
  const after = [agent('a'), agent('b', { cpu: 1.8 })];
  for (const t of [1000, 30_000, 59_000]) assert.equal(policy.decide(look(after, [job('j', 'b', 2)]), t).moves, [], `at ${t} ms`);
  assert.equal(policy.decide(look(after, [job('j', 'b', 2)]), 121_000).moves.map((m) => m.to), ['a']);
});

test('a move by someone else (another scheduler, a drain) starts the cool-down too: seen, or read from its record', () => {
  const policy = new Policy(rules({ cooldown: 60, rules: [{ name: 'busy', if: 'load', above: 0.75 }] }));
  const quiet = [agent('a'), agent('b'), agent('c')];
  policy.decide(look(quiet, [job('j', 'a')]), 0);
  const busyB = [agent('a'), agent('b', { cpu: 1.8 }), agent('c')];
  assert.equal(policy.decide(look(busyB, [job('j', 'b', 2)]), 1000).moves, [], 'seen moving a -> b');
  const fresh = new Policy(rules({ cooldown: 60, rules: [{ name: 'busy', if: 'load', above: 0.75 }] }));
  const record: MoveRecord = { job: 'j', from: 'a', to: 'b', epoch: 2, reason: 'x', at: new Date(100_000).toISOString() };
  assert.equal(fresh.decide(look(busyB, [job('j', 'b', 2)], { moves: new Map([['j', record]]) }), 130_000).moves, [], 'recorded 30 s ago');
  assert.equal(fresh.decide(look(busyB, [job('j', 'b', 2)], { moves: new Map([['j', record]]) }), 170_000).moves.length, 1, 'recorded 70 s ago');
});

test('memory floor and host signals (file or topic, merged)', () => {
  const policy = new Policy(rules({ rules: [
    { name: 'low-memory', if: 'memFree', below: '256M' },
    { name: 'leaving', if: 'signal', signal: 'leaving', equals: true, jobs: 'nav-*' },
  ] }));
  const agents = [agent('a', { memFree: 100 * 1024 ** 2 }), agent('b', { signals: { leaving: true } }), agent('c')];
  const { moves } = policy.decide(look(agents, [job('x', 'a'), job('nav-1', 'b'), job('other', 'b')]), 0);
  assert.equal(moves.map((m) => `${m.job}->${m.to}: ${m.reason}`), ['x->c: rule low-memory: free memory 100 MiB < 256 MiB on a', 'nav-1->c: rule leaving: signal leaving = true on b']);
});

test('follow: jobs go to the agent the topic names, unless it cannot take them (said once)', () => {
  const policy = new Policy(rules({ rules: [{ name: 'ann', if: 'follow', topic: 'plant/ann', jobs: 'nav-*' }] }));
  const agents = [agent('a'), agent('b'), agent('c', { maxJobs: 1, jobs: 1 })];
  const jobs = [job('nav-1', 'a'), job('nav-2', 'b'), job('logger', 'a')];
  assert.equal(policy.decide(look(agents, jobs), 0).moves, [], 'no message yet');
  const toB = policy.decide(look(agents, jobs, { follows: new Map([['plant/ann', 'b']]) }), 0);
  assert.equal(toB.moves.map((m) => `${m.job}->${m.to}: ${m.reason}`), ['nav-1->b: rule ann: plant/ann names b']);
  const fresh = new Policy(rules({ rules: [{ name: 'ann', if: 'follow', topic: 'plant/ann', jobs: 'nav-*' }] }));
  const full = fresh.decide(look(agents, jobs, { follows: new Map([['plant/ann', 'c']]) }), 0);
  assert.equal(full.moves, []);
  assert.equal(full.notes, ['rule ann: job nav-1 stays on a: c is full', 'rule ann: job nav-2 stays on b: c is full']);
  assert.equal(fresh.decide(look(agents, jobs, { follows: new Map([['plant/ann', 'c']]) }), 1000).notes, [], 'said once');
  assert.is(followTarget(Buffer.from('edge-b\n')), 'edge-b');
  assert.is(followTarget(Buffer.from('{"agent":"edge-c"}')), 'edge-c');
  assert.is(followTarget(Buffer.from('../x')), undefined);
});

test('a job placed by labels is moved only to agents with them', () => {
  const policy = new Policy(rules({ rules: [{ name: 'busy', if: 'load', above: 0.75 }] }));
  const agents = [agent('a', { cpu: 1.8 }), agent('b'), { ...agent('c', { cpu: 1.2 }), advertised: { ...agent('c', { cpu: 1.2 }).advertised, labels: { site: 'plant-2' } } }];
  const placed = { ...job('j', 'a'), placement: { site: 'plant-2' } };
  assert.equal(policy.decide(look(agents, [placed]), 0).moves.map((m) => m.to), ['c']);
});

test('nowhere to go: the rule holds, nothing moves, a note says why (once)', () => {
  const policy = new Policy(rules({ rules: [{ name: 'busy', if: 'load', above: 0.75 }] }));
  const agents = [agent('a', { cpu: 1.8 }), agent('b', { cpu: 1.9 })];
  const first = policy.decide(look(agents, [job('j', 'a')]), 0);
  assert.equal(first.moves, []);
  assert.equal(first.notes, ['rule busy holds on a (load 0.9 > 0.75), but job j has nowhere to go: no agent can take the job: no agent is online']);
});

test.run();
