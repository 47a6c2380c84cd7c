/**
 * `ps` right after `migrate` lists the job where it now runs, every time: the answer to
 * `migrate` can reach the client before the broker holds the target's new state (across
 * a bridge the two travel different paths; a target may answer first). Here a scripted
 * source answers at once and the target's state reaches the broker 800 ms later; the
 * client's `migrate` returns only once the broker shows it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FleetClient, startBroker, topics } from '../../src/agent/index.ts';
import type { EmbeddedBroker } from '../../src/agent/index.ts';
import type { Request } from '../../src/agent/messages.ts';
import { Peer } from '../../src/agent/peer.ts';

const LATE_MS = 800;

let broker: EmbeddedBroker;
let source: Peer;
let client: FleetClient;

function state(agent: string, instance: string, epoch: number): string {
  return JSON.stringify({ v: 1, job: 'v', agent, instance, epoch, state: 'running', program: 'p.wasm', args: ['p'], startedAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' });
}

async function status(agent: string, instance: string): Promise<void> {
  await source.link.publish(topics.agentStatus(agent), JSON.stringify({ v: 1, agent, instance, online: true, dirs: [] }), { retain: true });
}

function onRequest(req: Request): void {
  if (req.type !== 'migrate') return;
  const result = { job: 'v', from: 'src', to: 'dst', epoch: 2, downtimeMs: 1, bytesSent: 1, packageBytes: 1, snapshotBytes: 1, moduleBytes: 0, phases: { snapshot: 0, prepare: 0, transfer: 0, restore: 0, commit: 0 } };
  void source.reply(req, { ok: true, data: result });
  setTimeout(() => { void source.link.publish(topics.jobState('v'), state('dst', 'd1', 2), { retain: true }); }, LATE_MS);
}

test.before(async () => {
  broker = await startBroker({ port: 0 });
  source = await Peer.open({ connection: { url: broker.url }, id: 'src', inbox: topics.agentInbox('src'), persistent: false, onRequest, log: () => {} });
  await status('src', 's1');
  await status('dst', 'd1');
  await source.link.publish(topics.jobState('v'), state('src', 's1', 1), { retain: true });
  client = await FleetClient.connect({ connection: { url: broker.url } });
});

test.after(async () => {
  await client.close();
  await source.close();
  await broker.close();
});

test('migrate returns once the broker shows the job on its target, so ps lists it there', async () => {
  const started = Date.now();
  const result = await client.migrate('v', 'dst');
  assert.is(result.to, 'dst');
  assert.ok(Date.now() - started >= LATE_MS - 50, 'migrate waited for the new state');
  const listed = (await client.list()).jobs.find((j) => j.job === 'v');
  assert.is(listed?.agent, 'dst');
  assert.is(listed?.epoch, 2);
});

test.run();
