/**
 * StandbyLeases (src/agent/standby-lease.ts): the owner's lease on a replicated job as
 * its standbys confirm it. Without a broker: a fake peer records the `lease` requests,
 * and the test answers them (or not) with chosen send times.
 */
import { performance } from 'node:perf_hooks';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { LeaseRequest, StandbyRequest } from '../../src/agent/messages.ts';
import type { Peer } from '../../src/agent/peer.ts';
import { Standbys } from '../../src/agent/standby.ts';
import type { StandbyHost } from '../../src/agent/standby.ts';
import { parseLeaseAnswers, StandbyLeases } from '../../src/agent/standby-lease.ts';
import type { LeaseAnswer } from '../../src/agent/standby-lease.ts';

const WINDOW = 2000;

function setup(epochs: Record<string, number> = { j: 3 }, published = true) {
  const asked: { topic: string; jobs: string[]; answer: (data: { jobs: LeaseAnswer[] }) => void }[] = [];
  const events: string[] = [];
  const peer = {
    id: 'owner',
    link: { connected: true },
    request: (topic: string, body: { jobs: string[] }) => new Promise((resolve) => {
      asked.push({ topic, jobs: body.jobs, answer: (data) => resolve({ ok: true, data }) });
    }),
  } as unknown as Peer;
  const leases = new StandbyLeases(() => peer, WINDOW, {
    copyOf: (job) => (epochs[job] === undefined ? undefined : { epoch: epochs[job], published }),
    onLost: (job, standby) => events.push(`lost ${job} ${standby}`),
    onRenewed: (job) => events.push(`renewed ${job}`),
    onNewer: (job, epoch, agent) => events.push(`newer ${job} ${epoch} ${agent}`),
  });
  return { leases, asked, events };
}

const s = suite('standby lease');

s('a job runs while its standby confirmed within the window, pauses once when it has not, and runs again at its next answer', () => {
  const { leases, asked, events } = setup();
  const t0 = performance.now();
  leases.need('j', 'b', t0);
  assert.ok(leases.check('j'));
  leases.tick(t0 + 10);
  assert.is(asked.length, 1, 'asked at once');
  assert.equal(asked[0].jobs, ['j']);
  assert.is(asked[0].topic, 'wasmig/v1/agents/b/inbox');
  leases.tick(t0 + 20);
  assert.is(asked.length, 1, 'one request at a time per standby');
  // No answer: past the window after the last confirmation, the job is lost, once.
  leases.tick(t0 + WINDOW + 1);
  leases.tick(t0 + WINDOW + 2);
  assert.equal(events, ['lost j b']);
  assert.ok(leases.lost('j'));
  // The answer to a request sent now renews it.
  leases.answered('b', performance.now(), [{ job: 'j', standby: true, epoch: 3, agent: 'owner' }]);
  assert.equal(events, ['lost j b', 'renewed j']);
  assert.ok(leases.check('j'));
});

s('a confirmation counts from when its request was sent, not from when the answer came (a late answer does not extend the lease)', () => {
  const { leases, events } = setup();
  const now = performance.now();
  leases.need('j', 'b', now);
  // The answer to a request sent longer ago than the window renews nothing.
  leases.answered('b', now - WINDOW - 100, [{ job: 'j', standby: true }]);
  assert.ok(leases.valid('j', now + 10));
  assert.not.ok(leases.valid('j', now + WINDOW + 1));
  assert.equal(events, []);
});

s('an inherited standby (a new owner) is unconfirmed until it answers: the job may not run, and it is asked at once', () => {
  const { leases, asked, events } = setup();
  leases.need('j', 'b', -Infinity);
  assert.is(asked.length, 1, 'asked at once');
  assert.not.ok(leases.check('j'));
  assert.equal(events, ['lost j b']);
  leases.answered('b', performance.now(), [{ job: 'j', standby: true, epoch: 2, agent: 'previous-owner' }]);
  assert.ok(leases.check('j'));
  assert.equal(events, ['lost j b', 'renewed j']);
});

s('a standby that took the job over (a newer epoch, or the same epoch on a higher name) fences this copy', () => {
  const { leases, events } = setup({ j: 3, k: 3 });
  const now = performance.now();
  leases.need('j', 'b', now);
  leases.need('k', 'b', now);
  leases.answered('b', now, [{ job: 'j', standby: false, epoch: 4, agent: 'b' }, { job: 'k', standby: false, epoch: 3, agent: 'z' }]);
  assert.equal(events, ['newer j 4 b', 'newer k 3 z']);
  assert.equal(leases.needed('j'), []);
});

s('a standby that runs the job at a lower epoch than this copy (resumed in doubt across the outage): this copy yields unless the fleet may know its epoch', () => {
  // Never published (it resumed while paused by the lease): nothing would stop the standby's copy.
  let { leases, events } = setup({ j: 3 }, false);
  const now = performance.now();
  leases.need('j', 'b', now);
  leases.answered('b', now, [{ job: 'j', standby: false, epoch: 2, agent: 'b' }]);
  assert.equal(events, ['newer j 2 b']);
  // Published: the standby's copy stops when the state reaches it; this one waits, unconfirmed (yielding too, both would stop).
  ({ leases, events } = setup({ j: 3 }, true));
  leases.need('j', 'b', now);
  leases.answered('b', now + 10, [{ job: 'j', standby: false, epoch: 2, agent: 'b' }]);
  assert.equal(events, []);
  assert.equal(leases.needed('j'), ['b']);
  assert.not.ok(leases.valid('j', now + WINDOW + 1), 'not renewed by that answer');
});

s('a standby with no copy that knows of no newer epoch is no longer needed; one that knows an older epoch still confirms', () => {
  const { leases, events } = setup({ j: 3, k: 3 });
  const now = performance.now();
  leases.need('j', 'b', now);
  leases.need('k', 'b', now);
  leases.answered('b', now, [{ job: 'j', standby: false }, { job: 'k', standby: true, epoch: 2, agent: 'a' }]);
  assert.equal(leases.needed('j'), []);
  assert.equal(leases.needed('k'), ['b']);
  assert.ok(leases.valid('j', now + WINDOW * 10), 'nothing to confirm');
  assert.equal(events, []);
});

s('a job left out of the answer (its standby is taking it over) stays unconfirmed', () => {
  const { leases, events } = setup();
  const t0 = performance.now();
  leases.need('j', 'b', t0);
  leases.answered('b', t0 + 1000, []);
  leases.tick(t0 + WINDOW + 1);
  assert.equal(events, ['lost j b']);
});

s('dropped (its last will) or forgotten (the job left), a standby no longer holds the job back', () => {
  const { leases, events } = setup();
  leases.need('j', 'b', -Infinity);
  assert.not.ok(leases.check('j'));
  leases.drop('j', 'b');
  assert.ok(leases.check('j'));
  assert.equal(events, ['lost j b', 'renewed j']);
  leases.need('j', 'c', -Infinity);
  leases.forget('j');
  assert.ok(leases.check('j'));
});

s('answers are checked field by field: malformed entries are left out', () => {
  assert.equal(parseLeaseAnswers({ jobs: [{ job: 'j', standby: true }, { job: 5, standby: true }, { job: 'k' }, { job: 'l', standby: false, epoch: 2.5, agent: 'x' }, null] }), [
    { job: 'j', standby: true }, { job: 'l', standby: false },
  ]);
  assert.equal(parseLeaseAnswers({ jobs: 'no' }), []);
  assert.equal(parseLeaseAnswers(undefined), []);
});

s('a standby answers `lease` with what it holds: its copy (and the state it follows), or the newest epoch it knows of a job it has no copy of', async () => {
  const replies: { re: string; data?: Record<string, unknown> }[] = [];
  const host = {
    name: 'b', logLimit: 1 << 20, dirGuests: [], takeoverGraceMs: 1000,
    log: () => {},
    holds: () => undefined,
    modules: { has: () => true },
    knownEpoch: (id: string) => (id === 'gone' ? { epoch: 5, agent: 'c' } : undefined),
    peer: {
      link: { connected: true }, connection: 1,
      listen: async () => () => {},
      checkDocument: () => undefined,
      reply: async (req: { id: string }, fields: { data?: Record<string, unknown> }) => { replies.push({ re: req.id, data: fields.data }); },
    },
  } as unknown as StandbyHost;
  const standbys = new Standbys(host);
  const envelope = { v: 1, ts: Date.now(), from: 'owner', replyTo: 'wasmig/v1/agents/owner/inbox' };
  standbys.enlist({ ...envelope, id: 'e1', type: 'standby', job: 'j', epoch: 1, rank: 0, dirs: [], spec: { program: 'p.wasm', args: [], env: {}, module: { sha256: 'ab'.repeat(32), size: 1 }, startedAt: '' } } as unknown as StandbyRequest);
  await new Promise((resolve) => setTimeout(resolve, 10));
  standbys.lease({ ...envelope, id: 'l1', type: 'lease', jobs: ['j', 'gone', 'never'] } as LeaseRequest);
  const answer = replies.find((r) => r.re === 'l1');
  assert.equal(parseLeaseAnswers(answer?.data), [
    { job: 'j', standby: true },
    { job: 'gone', standby: false, epoch: 5, agent: 'c' },
    { job: 'never', standby: false },
  ]);
  standbys.dropAll();
});

s.run();
