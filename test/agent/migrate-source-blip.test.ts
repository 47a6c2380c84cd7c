/**
 * `migrate` while the source's link drops for a moment: the broker shows the source
 * offline (its last will) and then online again, on the same instance, and the source
 * answers as before. Before, the client gave up at the offline status, so a migration
 * that went on to succeed was reported as failed; and a request that reached the source
 * while its link was down, with no session on the broker to hold it, was never sent
 * again. A scripted source plays the agent, so
 * each case sets the order of statuses and answer exactly.
 */
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import type { Request } from '../../src/agent/messages.ts';
import { Peer } from '../../src/agent/peer.ts';
import { repoRoot } from '../helpers/cli.ts';

let broker: EmbeddedBroker;
/** Publishes the statuses and states; each scripted source answers through a peer of its own. */
let source: Peer;
const sources: Peer[] = [];
let client: FleetClient;

function state(job: string, agent: string, epoch: number): string {
  return JSON.stringify({ v: 1, job, agent, instance: `${agent}-1`, epoch, state: 'running', program: 'p.wasm', args: ['p'], startedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
}

async function status(agent: string, instance: string, online: boolean): Promise<void> {
  await source.link.publish(topics.agentStatus(agent), JSON.stringify({ v: 1, agent, instance, online, dirs: [] }), { retain: true });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the scripted source does with a migrate request, by job: its statuses meanwhile, then (or never) its answer. */
const scripts = new Map<string, (req: Request, answer: () => Promise<void>) => Promise<void>>();

function onRequest(peer: () => Peer, req: Request): void {
  if (req.type !== 'migrate') return;
  const job = req.job;
  const answer = async (): Promise<void> => {
    const result = { job, from: `src-${job}`, to: 'dst', epoch: 2, downtimeMs: 1, bytesSent: 1, packageBytes: 1, snapshotBytes: 1, moduleBytes: 0, phases: { snapshot: 0, prepare: 0, transfer: 0, restore: 0, commit: 0 } };
    await source.link.publish(topics.jobState(job), state(job, 'dst', 2), { retain: true });
    await peer().reply(req, { ok: true, data: result });
  };
  void scripts.get(job)?.(req, answer);
}

/** A job `job` running on its own source agent `src-<job>`, instance `s1`. */
async function jobOnSource(job: string): Promise<string> {
  const agent = `src-${job}`;
  const peer: Peer = await Peer.open({ connection: { url: broker.url }, id: agent, inbox: topics.agentInbox(agent), persistent: false, onRequest: (req) => onRequest(() => peer, req), log: () => {} });
  sources.push(peer);
  await status(agent, 's1', true);
  await source.link.publish(topics.jobState(job), state(job, agent, 1), { retain: true });
  return agent;
}

test.before(async () => {
  broker = await startBroker({ port: 0 });
  source = await Peer.open({ connection: { url: broker.url }, id: 'publisher', inbox: topics.clientInbox('publisher'), persistent: false, onRequest: () => {}, log: () => {} });
  await status('dst', 'd1', true);
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

test.after(async () => {
  await client.close();
  await Promise.all(sources.map((p) => p.close()));
  await source.close();
  await broker.close();
});

test('a source offline for a moment and back on the same instance: the migration it finishes is reported as done', async () => {
  const agent = await jobOnSource('blip');
  scripts.set('blip', async (_req, answer) => {
    await status(agent, 's1', false);
    await pause(300);
    await status(agent, 's1', true);
    await pause(300);
    await answer();
  });
  const result = await client.migrate('blip', 'dst', { lostAfterMs: 5000 });
  assert.is(result.to, 'dst');
});

test('a request lost while the source was away is sent again once it is back, and answered', async () => {
  const agent = await jobOnSource('lost');
  const inbox = topics.agentInbox(agent);
  const peer = sources[sources.length - 1]!;
  scripts.set('lost', async (_req, answer) => { await answer(); });
  // The source's link is down (its inbox unsubscribed, as a dropped connection leaves it):
  // the request, seen published by another listener, reaches nobody.
  await peer.link.unsubscribe([inbox]);
  let published!: () => void;
  const requestOut = new Promise<void>((resolve) => { published = resolve; });
  const stopSpy = await source.listen([inbox], () => published());
  try {
    const migrating = client.migrate('lost', 'dst', { lostAfterMs: 10_000, timeoutMs: 8000 });
    migrating.catch(() => {});
    await requestOut;
    await status(agent, 's1', false);
    await pause(200);
    await peer.link.subscribe([inbox]);
    await status(agent, 's1', true);
    const result = await migrating;
    assert.is(result.to, 'dst');
  } finally {
    stopSpy();
  }
});

test('a source back as a new instance has forgotten the request: the migration fails at once, saying so', async () => {
  const agent = await jobOnSource('restart');
  scripts.set('restart', async () => {
    await status(agent, 's1', false);
    await pause(100);
    await status(agent, 's2', true);
  });
  const started = Date.now();
  const error = await client.migrate('restart', 'dst', { lostAfterMs: 30_000, timeoutMs: 60_000 }).then(() => undefined, (e: Error) => e);
  assert.match(String(error?.message), /restarted during the migration/);
  assert.ok(Date.now() - started < 30_000, 'it did not wait for lostAfterMs');
});

test('a source that stays offline: the migration fails after lostAfterMs, not at the request\'s timeout', async () => {
  const agent = await jobOnSource('gone');
  scripts.set('gone', async () => { await status(agent, 's1', false); });
  const error = await client.migrate('gone', 'dst', { lostAfterMs: 500, timeoutMs: 120_000 }).then(() => undefined, (e: Error) => e);
  assert.match(String(error?.message), /went offline during the migration and was not back within 0\.5 s/);
});

test('wasmig migrate --lost-after: a source that stays offline fails the move after that long, in one line', async () => {
  const agent = await jobOnSource('cli-gone');
  scripts.set('cli-gone', async () => { await status(agent, 's1', false); });
  // Spawned, not spawnSync: the scripted source answers from this process's event loop.
  const child = spawn(process.execPath, [`${repoRoot}/node_modules/tsx/dist/cli.mjs`, `${repoRoot}/src/cli/main.ts`,
    'migrate', 'cli-gone', '--to', 'dst', '--lost-after', '1', '--timeout', '120', '--broker', broker.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const status_ = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.is(status_, 1, stderr);
  assert.match(stderr, /^wasmig: agent src-cli-gone, which had the job, went offline during the migration and was not back within 1 s; see wasmig ps\n$/);
});

test.run();
