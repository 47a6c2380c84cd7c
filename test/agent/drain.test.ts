import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WasmigError } from '../../src/errors/index.ts';
import { advertisedOf } from '../../src/agent/capacity.ts';
import { describeDrain, Drain } from '../../src/agent/drain.ts';
import type { DrainHost } from '../../src/agent/drain.ts';
import type { FleetAgent } from '../../src/agent/fleet-agents.ts';
import type { MigrationResult } from '../../src/agent/handoff-source.ts';
import type { Job } from '../../src/agent/job.ts';
import type { AgentLoad } from '../../src/agent/messages.ts';
import type { Peer } from '../../src/agent/peer.ts';

function agent(name: string, cpu = 0, labels: Record<string, string> = {}): FleetAgent {
  const load = { v: 1, agent: name, instance: 'i', at: '', cpu, loadavg: [], rss: 0, memFree: 2 ** 32, memTotal: 2 ** 33, jobs: 0, running: 0, cores: 2, labels } as AgentLoad;
  return { name, status: { v: 1, agent: name, instance: 'i', online: true, dirs: [] }, load, advertised: advertisedOf(load) };
}

type Mover = (id: string, to: string, cancelled: Promise<string>) => Promise<void>;

/** A drained agent whose moves do what `mover` says; records what it was asked. */
class FakeHost implements DrainHost {
  readonly name = 'a';
  readonly peer = {} as Peer;
  readonly jobs: Job[];
  readonly asked: string[] = [];
  readonly cancels: string[] = [];
  readonly #cancel = new Map<string, (why: string) => void>();
  constructor(ids: string[], readonly mover: Mover, readonly replicated: string[] = [], placement?: Record<string, string>) {
    this.jobs = ids.map((id) => ({ id, preopens: [], state: 'running', spec: { placement }, get finished() { return false; } }) as unknown as Job);
  }
  log(): void {}
  drainable(): Job[] { return this.jobs; }
  async moveJob(id: string, to: string): Promise<MigrationResult> {
    this.asked.push(`${id}->${to}`);
    const cancelled = new Promise<string>((resolve) => this.#cancel.set(id, resolve));
    await this.mover(id, to, cancelled);
    this.jobs.splice(this.jobs.findIndex((j) => j.id === id), 1);
    return { downtimeMs: 5 } as MigrationResult;
  }
  cancelMove(id: string, reason: string): void { this.cancels.push(`${id}: ${reason}`); this.#cancel.get(id)?.(reason); }
  standbysOf(id: string): string[] | undefined { return this.replicated.includes(id) ? ['s1'] : undefined; }
  owns(job: Job): boolean { return this.jobs.includes(job); }
  /** Jobs that arrive (by a handoff under way when the drain began) once the first batch has moved. */
  readonly arriving: Job[] = [];
  receiving(): number { return this.arriving.length; }
}

const fleet = (...names: string[]) => () => Promise.resolve(names.map((n) => agent(n)));

test('every job moves, to the least loaded target with the drain\'s own moves counted', async () => {
  const host = new FakeHost(['j1', 'j2', 'j3'], () => Promise.resolve());
  const report = await new Drain(host, 'SIGTERM', 10_000, fleet('a', 'b', 'c')).run();
  assert.equal(report.moved.map((m) => `${m.job}->${m.to}`), ['j1->b', 'j2->c', 'j3->b']);
  assert.equal([report.left, report.toStandbys, report.ended], [[], [], []]);
  assert.match(describeDrain(report, 'a').at(-1) as string, /^drained in [\d.]+ s: 3 of 3 job\(s\) moved$/);
});

test('a target that refuses: the next one is tried; none left: reported by name with every reason', async () => {
  const host = new FakeHost(['j1'], (_id, to) => (to === 'b' ? Promise.reject(new Error('agent b refused the job: full')) : Promise.resolve()));
  const report = await new Drain(host, 'SIGTERM', 10_000, fleet('b', 'c')).run();
  assert.equal(host.asked, ['j1->b', 'j1->c']);
  assert.equal(report.moved.map((m) => m.to), ['c']);
  const stuck = new FakeHost(['j2'], () => Promise.reject(new Error('no room')));
  const r2 = await new Drain(stuck, 'SIGTERM', 10_000, fleet('b')).run();
  assert.equal(r2.left, [{ job: 'j2', reason: 'b: no room; no agent can take the job: no agent is online' }]);
  assert.match(describeDrain(r2, 'a')[0], /^job j2 could not move \(b: no room; .*\); it ends with agent a$/);
});

test('a replicated job that cannot move is left to its standbys', async () => {
  const host = new FakeHost(['r1'], () => Promise.reject(new Error('refused')), ['r1']);
  const report = await new Drain(host, 'SIGTERM', 10_000, fleet('b')).run();
  assert.equal(report.toStandbys.map((s) => [s.job, s.standbys]), [['r1', ['s1']]]);
  assert.match(describeDrain(report, 'a')[0], /its standby s1 takes it over once a is gone/);
});

test('the deadline cancels moves under way; stopNow returns at once with what is left', async () => {
  // Moves that only end when cancelled (a handoff before its pause gives up when asked).
  const hang: Mover = (_id, _to, cancelled) => cancelled.then((why) => Promise.reject(new Error(`cancelled (${why})`)));
  const host = new FakeHost(['j1'], hang);
  const report = await new Drain(host, 'SIGTERM', 300, fleet('b')).run();
  assert.equal(host.cancels, ["j1: the drain's deadline (0 s) passed"]);
  assert.match(report.left[0].reason, /^b: cancelled/);

  const forever: Mover = () => new Promise(() => {});
  const host2 = new FakeHost(['j1', 'j2'], forever);
  const drain = new Drain(host2, 'SIGTERM', 60_000, fleet('b', 'c'));
  const running = drain.run();
  await new Promise((resolve) => setTimeout(resolve, 20));
  drain.stopNow();
  const r = await running;
  assert.equal(host2.cancels.map((c) => c.split(':')[0]), ['j1', 'j2']);
  assert.equal(r.left.map((l) => l.reason), ['stopped at once while moving to b', 'stopped at once while moving to c']);
});

test('a job another move holds (ERR_BUSY) is tried again once that move ends, not given up', async () => {
  let busy = 2;
  const host = new FakeHost(['j1'], () => (busy-- > 0 ? Promise.reject(new WasmigError('ERR_BUSY', 'already being moved')) : Promise.resolve()));
  const report = await new Drain(host, 'SIGTERM', 10_000, fleet('b', 'c')).run();
  assert.equal(host.asked, ['j1->b', 'j1->b', 'j1->b']);
  assert.equal(report.moved.map((m) => m.to), ['b']);
});

test('a job that arrives during the drain (a handoff under way when it began) moves too', async () => {
  const host = new FakeHost(['j1'], () => Promise.resolve());
  const late = new FakeHost(['late'], () => Promise.resolve()).jobs[0];
  host.arriving.push(late);
  setTimeout(() => { host.jobs.push(late); host.arriving.length = 0; }, 300);
  const report = await new Drain(host, 'SIGTERM', 10_000, fleet('b', 'c')).run();
  assert.equal(report.moved.map((m) => `${m.job}->${m.to}`), ['j1->b', 'late->c']);
});

test('a job placed by labels moves only to agents with them', async () => {
  const host = new FakeHost(['j1', 'j2'], () => Promise.resolve(), [], { site: 'plant-2' });
  const agents = [agent('b', 0), agent('c', 1.9, { site: 'plant-2' }), agent('d', 1.9, { site: 'plant-1' })];
  const report = await new Drain(host, 'SIGTERM', 10_000, () => Promise.resolve(agents)).run();
  assert.equal(report.moved.map((m) => m.to), ['c', 'c']);
});

test('the fleet cannot be read (no broker): every job is reported, none moved', async () => {
  const host = new FakeHost(['j1'], () => Promise.resolve());
  const report = await new Drain(host, 'SIGTERM', 10_000, () => Promise.reject(new Error('agent a has no broker connection'))).run();
  assert.equal(report.left, [{ job: 'j1', reason: 'the fleet could not be read: agent a has no broker connection' }]);
});

test.run();
