import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { advertisedOf, parseLabels } from '../../src/agent/capacity.ts';
import type { FleetAgent } from '../../src/agent/fleet-agents.ts';
import type { AgentLoad } from '../../src/agent/messages.ts';
import { parseSelector, place, PlacementError, rankAgents } from '../../src/agent/placement.ts';

/** An online agent with a heartbeat: `cpu` cores busy of `cores`, `jobs` unfinished. */
function agent(name: string, o: { cpu?: number; cores?: number; jobs?: number; labels?: Record<string, string>; maxJobs?: number; draining?: boolean; dirs?: string[]; memFree?: number; noLoad?: boolean } = {}): FleetAgent {
  const load = {
    v: 1, agent: name, instance: 'i', at: '', cpu: o.cpu ?? 0, loadavg: [0, 0, 0], rss: 0, memFree: o.memFree ?? 2 ** 32, memTotal: 2 ** 33,
    jobs: o.jobs ?? 0, running: o.jobs ?? 0, labels: o.labels ?? {}, cores: o.cores ?? 2, maxJobs: o.maxJobs, draining: o.draining ?? false,
  } as AgentLoad;
  const l = o.noLoad ? undefined : load;
  return { name, status: { v: 1, agent: name, instance: 'i', online: true, dirs: o.dirs ?? [] }, load: l, advertised: advertisedOf(l) };
}

const any = { labels: {} };

test('--on: any, labels, or an agent name', () => {
  assert.equal(parseSelector('any'), { labels: {} });
  assert.equal(parseSelector('site=plant-2'), { labels: { site: 'plant-2' } });
  assert.equal(parseSelector('site=plant-2,arch=arm64'), { labels: { site: 'plant-2', arch: 'arm64' } });
  assert.is(parseSelector('edge-b'), undefined);
  assert.throws(() => parseSelector('site='), /--on "site=": expected KEY=VALUE/);
  assert.throws(() => parseSelector('a=1,a=2'), /label a given twice/);
  assert.throws(() => parseLabels(['x=1', 'x=2']), /--label x: given twice/);
  assert.throws(() => parseLabels(['novalue']), /--label "novalue": expected KEY=VALUE/);
});

test('by load: the least busy per core wins; noise under 0.05 a core does not, fewer jobs does', () => {
  const chosen = place([agent('a', { cpu: 1.5 }), agent('b', { cpu: 0.2 }), agent('c', { cpu: 0.9 })], any);
  assert.is(chosen.chosen.name, 'b');
  assert.is(chosen.why, 'least loaded of 3 online agents (cpu 0.20 of 2 cores, 0 jobs)');
  // Four cores at 1.2 is less busy (0.3) than two at 0.8 (0.4).
  assert.is(place([agent('a', { cpu: 0.8 }), agent('b', { cpu: 1.2, cores: 4 })], any).chosen.name, 'b');
  assert.is(place([agent('a', { cpu: 0.02, jobs: 2 }), agent('b', { cpu: 0.03, jobs: 0 })], any).chosen.name, 'b');
});

test('by label: only agents with every label asked for; the line says so', () => {
  const agents = [agent('a', { labels: { site: 'plant-1' } }), agent('b', { labels: { site: 'plant-2' }, cpu: 1 }), agent('c', { labels: { site: 'plant-2', arch: 'arm64' }, cpu: 0.1 }), agent('d', { labels: { site: 'plant-2' }, cpu: 0.5 })];
  const p = place(agents, { labels: { site: 'plant-2' } });
  assert.is(p.chosen.name, 'c');
  assert.is(p.why, 'least loaded of 3 with site=plant-2 (cpu 0.10 of 2 cores, 0 jobs)');
  assert.is(place(agents, { labels: { site: 'plant-2', arch: 'arm64' } }).why, 'the only one of 1 with site=plant-2,arch=arm64 (cpu 0.10 of 2 cores, 0 jobs)');
});

test('max-jobs full, draining, no heartbeat yet, missing directories, short of memory: left out and counted', () => {
  const agents = [agent('a', { maxJobs: 2, jobs: 2 }), agent('b', { draining: true }), agent('c', { noLoad: true }), agent('d', { cpu: 1.9 }), agent('e', { dirs: ['/data'], cpu: 1.9, memFree: 1 })];
  const p = place(agents, any);
  assert.is(p.chosen.name, 'd');
  assert.match(p.why, /; left out: 1 full, 1 draining, 1 without a heartbeat yet$/);
  assert.is(place(agents, any, { dirs: ['/data'] }).chosen.name, 'e');
  assert.throws(() => place(agents, any, { dirs: ['/data'], memoryBytes: 1024 }), /^no agent can take the job: of 5 agents, 1 full, 1 draining, 1 without a heartbeat yet, 1 without the job's directories, 1 short of free memory$/);
  // Jobs on their way count against max-jobs too.
  assert.equal(rankAgents([agent('a', { maxJobs: 2, jobs: 1 })], any, { pending: new Map([['a', 1]]) }).left, { full: 1 });
});

test('no match: a clear error naming what was asked', () => {
  const agents = [agent('a', { labels: { site: 'plant-1' } }), agent('b')];
  try {
    place(agents, { labels: { site: 'plant-9' } });
    assert.unreachable('placed');
  } catch (error) {
    assert.instance(error, PlacementError);
    assert.is((error as PlacementError).code, 'ERR_PLACEMENT');
    assert.is((error as Error).message, 'no agent can take the job: none of the 2 online agents has site=plant-9');
  }
  assert.throws(() => place([], any), /no agent can take the job: no agent is online/);
  assert.throws(() => place([agent('a', { maxJobs: 1, jobs: 1 })], { labels: {} }), /no agent can take the job: of 1 agent, 1 full/);
});

test('jobs on their way count as one busy core each: a drain spreads its jobs', () => {
  const agents = [agent('b', { cores: 2 }), agent('c', { cores: 2 })];
  const pending = new Map<string, number>();
  const chosen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const to = place(agents, any, { pending }).chosen.name;
    pending.set(to, (pending.get(to) ?? 0) + 1);
    chosen.push(to);
  }
  assert.equal(chosen, ['b', 'c', 'b']);
});

test('advertised fields from the network are checked: malformed ones count as absent', () => {
  const a = advertisedOf({ labels: { ok: 'yes', 'bad key': 'x', n: 5 }, cores: -3, maxJobs: 1.5, draining: 'yes', signals: { battery: 12, leaving: true, obj: {} } } as unknown as AgentLoad);
  assert.equal(a, { labels: { ok: 'yes' }, cores: 1, maxJobs: undefined, draining: false, signals: { battery: 12, leaving: true } });
});

test.run();
