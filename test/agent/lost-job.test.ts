/**
 * A job nobody runs any more is reported lost, and its followers end: `ps` says why, and
 * `follow` rejects with a `JobLostError` once the owner stayed away for the grace period.
 * A blip (the owner back with the same instance) and a takeover (a newer epoch on another
 * agent) are not losses. The agents here are scripted: retained statuses and job states
 * published by hand on the embedded broker.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, JobLostError, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker, JobState } from '../../src/agent/index.ts';
import type { Request } from '../../src/agent/messages.ts';
import { Peer } from '../../src/agent/peer.ts';

const GRACE_MS = 600;

let broker: EmbeddedBroker;
let writer: FleetClient;
let client: FleetClient;

function state(job: string, agent: string, instance: string, epoch: number, fields: Partial<JobState> = {}): string {
  return JSON.stringify({
    v: 1, job, agent, instance, epoch, state: 'running', program: 'p.wasm', args: ['p'],
    startedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', ...fields,
  });
}

async function publishState(job: string, doc: string): Promise<void> {
  await writer.peer.link.publish(topics.jobState(job), doc, { retain: true });
}

async function status(agent: string, instance: string, online: boolean): Promise<void> {
  const doc = online ? { v: 1, agent, instance, online, dirs: [], since: '2026-01-01T00:00:00Z' } : { v: 1, agent, instance, online };
  await writer.peer.link.publish(topics.agentStatus(agent), JSON.stringify(doc), { retain: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test.before(async () => {
  broker = await startBroker({ port: 0 });
  writer = await FleetClient.connect({ connection: { url: broker.url } });
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

test.after(async () => {
  await Promise.all([writer.close(), client.close()]);
  await broker.close();
});

test('ps reports a job whose source went offline mid-migration as lost, not migrating', async () => {
  await status('src', 'i1', true);
  await status('dst', 'i2', true);
  await publishState('moving', state('moving', 'src', 'i1', 1, { state: 'migrating', target: 'dst' }));
  await status('src', 'i1', false);
  await publishState('restarted', state('restarted', 'dst', 'old-instance', 1));
  await publishState('fine', state('fine', 'dst', 'i2', 1));
  await publishState('ended', state('ended', 'src', 'i1', 1, { state: 'exited', status: 0, endSeq: 0 }));
  const jobs = new Map((await client.list()).jobs.map((j) => [j.job, j]));
  assert.is(jobs.get('moving')?.lost, 'agent src is offline');
  assert.is(jobs.get('restarted')?.lost, 'agent dst restarted since');
  assert.is(jobs.get('fine')?.lost, undefined);
  assert.is(jobs.get('ended')?.lost, undefined, 'a final job is not lost');
});

test('a follower ends with JobLostError when the owner goes offline and nobody takes over', async () => {
  await status('owner', 'o1', true);
  await publishState('orphan', state('orphan', 'owner', 'o1', 1, { state: 'migrating', target: 'dst' }));
  const notices: string[] = [];
  const following = client.follow('orphan', { onOutput: () => {}, onNotice: (line) => notices.push(line), lostAfterMs: GRACE_MS });
  await sleep(200);
  const wentAway = Date.now();
  await status('owner', 'o1', false);
  const error = await following.then(() => undefined, (e: unknown) => e);
  const took = Date.now() - wentAway;
  assert.instance(error, JobLostError);
  assert.match((error as Error).message, /^job orphan is lost: agent owner is offline while it was moving the job to dst, and no other agent took it over within 1 s/);
  assert.ok(took >= GRACE_MS - 50 && took < GRACE_MS + 2000, `ended ${took} ms after the owner left`);
  assert.ok(notices.some((n) => /agent owner is offline; waiting up to 1 s/.test(n)), notices.join('\n'));
});

test('an owner back with the same instance within the grace period is no loss', async () => {
  await status('blip', 'b1', true);
  await publishState('steady', state('steady', 'blip', 'b1', 1));
  const following = client.follow('steady', { onOutput: () => {}, lostAfterMs: GRACE_MS });
  let settled = false;
  following.then(() => { settled = true; }, () => { settled = true; });
  await sleep(200);
  await status('blip', 'b1', false);
  await sleep(GRACE_MS / 2);
  await status('blip', 'b1', true);
  await sleep(GRACE_MS * 2);
  assert.not.ok(settled, 'the follower still follows');
  await publishState('steady', state('steady', 'blip', 'b1', 1, { state: 'exited', status: 5, endSeq: 0 }));
  const end = await following;
  assert.is(end.status, 5);
});

test('a takeover (a newer epoch on another agent) is followed, not reported lost', async () => {
  await status('first', 'f1', true);
  await status('standby', 's1', true);
  await publishState('taken', state('taken', 'first', 'f1', 1));
  const notices: string[] = [];
  const following = client.follow('taken', { onOutput: () => {}, onNotice: (line) => notices.push(line), lostAfterMs: GRACE_MS });
  let settled = false;
  following.then(() => { settled = true; }, () => { settled = true; });
  await sleep(200);
  await status('first', 'f1', false);
  await sleep(GRACE_MS / 2);
  await publishState('taken', state('taken', 'standby', 's1', 2));
  await sleep(GRACE_MS * 2);
  assert.not.ok(settled, 'the follower follows the new owner');
  assert.ok(notices.some((n) => n === 'job taken moved to agent standby'), notices.join('\n'));
  await publishState('taken', state('taken', 'standby', 's1', 2, { state: 'exited', status: 0, endSeq: 0 }));
  assert.is((await following).agent, 'standby');
});

test('an owner that restarted (another instance) loses the job, even while it says online', async () => {
  await status('phoenix', 'p1', true);
  await publishState('ashes', state('ashes', 'phoenix', 'p1', 1));
  const following = client.follow('ashes', { onOutput: () => {}, lostAfterMs: GRACE_MS });
  await sleep(200);
  await status('phoenix', 'p2', true);
  const error = await following.then(() => undefined, (e: unknown) => e);
  assert.instance(error, JobLostError);
  assert.match((error as Error).message, /agent phoenix restarted since/);
});

/** `promise`, or a rejection after `ms`: a follower that waits forever fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer!: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test('a job that ended, whose output went with its agent, ends the follower with what came', async () => {
  await status('gone', 'g1', true);
  await publishState('done-elsewhere', state('done-elsewhere', 'gone', 'g1', 1, { state: 'exited', status: 3, endSeq: 4 }));
  await status('gone', 'g1', false);
  const notices: string[] = [];
  const end = await within(client.follow('done-elsewhere', { onOutput: () => {}, onNotice: (line) => notices.push(line), lostAfterMs: GRACE_MS }), GRACE_MS + 4000);
  assert.is(end.status, 3);
  assert.ok(notices.some((n) => n === 'output chunks 0-3 of job done-elsewhere that did not arrive are gone: agent gone is offline'), notices.join('\n'));
});

test('a job that ended, whose agent no longer keeps its log, ends the follower at once', async () => {
  let agent!: Peer;
  const onRequest = (req: Request): void => {
    if (req.type === 'replay') void agent.reply(req, { ok: false, code: 'unknown', message: 'agent keeper has no job forgotten' });
  };
  agent = await Peer.open({ connection: { url: broker.url }, id: 'keeper', inbox: topics.agentInbox('keeper'), persistent: false, onRequest, log: () => {} });
  try {
    await status('keeper', 'k1', true);
    await publishState('forgotten', state('forgotten', 'keeper', 'k1', 1, { state: 'exited', status: 0, endSeq: 2 }));
    const notices: string[] = [];
    const end = await within(client.follow('forgotten', { onOutput: () => {}, onNotice: (line) => notices.push(line), lostAfterMs: 60_000 }), 5000);
    assert.is(end.status, 0);
    assert.ok(notices.some((n) => /output chunks 0-1 of job forgotten that did not arrive are gone: agent keeper no longer keeps its log/.test(n)), notices.join('\n'));
  } finally {
    await agent.close();
  }
});

test.run();
